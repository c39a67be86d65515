// Package gatewayapi only anchors the sigs.k8s.io/gateway-api requirement so that `go mod tidy`
// keeps it: the module is wanted for its CRD YAML, not its Go code.
package gatewayapi

import _ "sigs.k8s.io/gateway-api/apis/v1"
