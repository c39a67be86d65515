#!/usr/bin/env bash
# Builds the Kubernetes control plane the k8s tests run against (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok) from the Go modules pinned in k8s/controlplane/,
# and copies the Gateway API standard CRDs next to them. No Docker, no downloads but the Go module
# proxy. The result lives in a cache directory keyed by the pinned versions and a hash of the
# go.mod/go.sum files, the Go version and this recipe; it is rebuilt only when missing.
#
#   scripts/build-controlplane.sh            build what is missing, print the directory
#   scripts/build-controlplane.sh --print-dir print the directory only (builds nothing)
#
# Layout: ${FLOODGATE_CACHE:-$HOME/.cache/floodgate}/controlplane/<key>/{bin,crds/gateway-api,kwok-stages}
# Knobs: FLOODGATE_CACHE, FLOODGATE_BUILD_JOBS (go build -p, default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SRC="$ROOT/k8s/controlplane"

export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=readonly" CGO_ENABLED=0

# Bump when the recipe below changes in a way the hashed files do not show.
RECIPE=1
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

module_version() { # module_version DIR MODULE -> version DIR/go.mod requires ("require M v" or in a block)
  awk -v m="$2" '$1 == "require" {$1 = ""; $0 = $0} $1 == m && $2 ~ /^v/ {print $2; exit}' "$1/go.mod"
}

K8S_VERSION="$(module_version "$SRC" k8s.io/kubernetes)"
ETCD_VERSION="$(module_version "$SRC" go.etcd.io/etcd/server/v3)"
KWOK_VERSION="$(module_version "$SRC/kwok" sigs.k8s.io/kwok)"
GATEWAY_API_VERSION="$(module_version "$SRC/gateway-api" sigs.k8s.io/gateway-api)"

compute_key() {
  local digest
  digest="$({
    echo "recipe=$RECIPE"
    go env GOVERSION GOOS GOARCH
    cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/cmd/etcd/main.go" \
        "$SRC/kwok/go.mod" "$SRC/kwok/go.sum" "$SRC/gateway-api/go.mod" "$SRC/gateway-api/go.sum"
  } | sha256sum | cut -c1-12)"
  echo "k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}-gwapi-${GATEWAY_API_VERSION}-${digest}"
}

CACHE_ROOT="${FLOODGATE_CACHE:-$HOME/.cache/floodgate}/controlplane"
KEY="$(compute_key)"
DEST="$CACHE_ROOT/$KEY"

if [ "${1:-}" = "--print-dir" ]; then
  echo "$DEST"
  exit 0
fi

complete() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$DEST/bin/$b" ] || return 1; done
  [ -s "$DEST/crds/gateway-api/gateway.networking.k8s.io_httproutes.yaml" ] &&
    [ -s "$DEST/kwok-stages/pod-ready.yaml" ]
}

mkdir -p "$CACHE_ROOT"
# One builder at a time per cache (parallel CI steps or test workers may call this together).
exec 9>"$CACHE_ROOT/.build.lock"
flock 9
rm -rf "$CACHE_ROOT"/.stage-*  # left by a build that was killed; we hold the lock

if complete; then
  echo "build-controlplane: up to date: $DEST" >&2
  echo "$DEST"
  exit 0
fi

JOBS="${FLOODGATE_BUILD_JOBS:-$(nproc)}"
STAGE="$(mktemp -d "$CACHE_ROOT/.stage-XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/crds/gateway-api" "$STAGE/kwok-stages"
start=$SECONDS
echo "build-controlplane: building $KEY with -p $JOBS (a cold build takes many minutes)" >&2

# Stamp the version the way Kubernetes' own build does, so /version and the components agree.
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
version_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  version_ldflags+=" -X $pkg.gitTreeState=clean"
done

(cd "$SRC" && go build -p "$JOBS" -trimpath -ldflags "-s -w$version_ldflags" -o "$STAGE/bin/" \
  ./cmd/etcd \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler)
echo "build-controlplane: control plane built after $((SECONDS - start)) s" >&2

(cd "$SRC/kwok" && go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$STAGE/bin/" \
  sigs.k8s.io/kwok/cmd/kwok)
echo "build-controlplane: kwok built after $((SECONDS - start)) s" >&2

gateway_dir="$(cd "$SRC/gateway-api" && go mod download -json sigs.k8s.io/gateway-api \
  | awk -F'"' '$2 == "Dir" {print $4}')"
cp "$gateway_dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$STAGE/crds/gateway-api/"

# kwok's stock "fast" stages; tests/support/kwok_stages.py builds kwok's --config from them.
kwok_dir="$(cd "$SRC/kwok" && go mod download -json sigs.k8s.io/kwok | awk -F'"' '$2 == "Dir" {print $4}')"
cp "$kwok_dir"/kustomize/stage/node/fast/node-initialize.yaml \
   "$kwok_dir"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
   "$kwok_dir"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml \
   "$STAGE/kwok-stages/"
chmod -R u+w "$STAGE/crds" "$STAGE/kwok-stages"
{
  echo "kubernetes=$K8S_VERSION"
  echo "etcd=$ETCD_VERSION"
  echo "kwok=$KWOK_VERSION"
  echo "gateway-api=$GATEWAY_API_VERSION"
  echo "go=$(go env GOVERSION)"
} >"$STAGE/VERSIONS"

rm -rf "$DEST"
mv "$STAGE" "$DEST"
trap - EXIT
echo "build-controlplane: done in $((SECONDS - start)) s: $DEST" >&2
echo "$DEST"
