#!/usr/bin/env bash
# Installs everything Floodgate needs on a fresh Debian machine; safe to run again (skips what is there).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for bin in nginx:nginx redis-server:redis-server prometheus:prometheus promtool:prometheus \
           haproxy:haproxy wrk:wrk socat:socat curl:curl openssl:openssl; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || need_apt+=("${bin##*:}")
done
if [ ! -e /usr/lib/nginx/modules/ngx_http_lua_module.so ]; then need_apt+=(libnginx-mod-http-lua); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The Debian packages start nothing we rely on; make sure no stray system daemons hold our ports.
for svc in nginx redis-server prometheus haproxy; do
  (command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1) || true
done

PY="${PYTHON:-python3}"
if ! "$PY" -c "import floodgate_installed_marker" 2>/dev/null; then :; fi
echo "setup: installing Python packages (pip install -e .[test,dev,bench])"
"$PY" -m pip install -q --disable-pip-version-check -e ".[test,dev,bench]" 2>&1 | grep -v "Running pip as the 'root' user" || true

if [ "${FLOODGATE_SKIP_CONTROLPLANE:-0}" != "1" ] && [ -x scripts/build-controlplane.sh ]; then
  bash scripts/build-controlplane.sh
fi
echo "setup: done"
