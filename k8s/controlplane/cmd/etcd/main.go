// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 at the version pinned in
// this module's go.mod. etcd's own root module (which holds its main package) uses local replace
// directives and so cannot be built as a dependency; etcdmain is what that main package calls.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
