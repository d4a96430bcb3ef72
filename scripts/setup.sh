#!/usr/bin/env bash
# Installs every Debian package trafficsim needs to build, test and benchmark, and the npm
# packages of web/ (uPlot for the dashboard and report, playwright-core for the browser tests),
# pinned by web/package-lock.json. Idempotent and non-interactive; run as root on Debian 12.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (Boost components we use, not the all-in metapackage)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcli11-dev libfmt-dev libspdlog-dev libyaml-cpp-dev libsqlite3-dev
  libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # servers and peers for integration tests and benchmarks
  nginx-light openssl wrk nghttp2-client hey procps util-linux python3
  # promtool (checks our /metrics exposition and deploy/prometheus/), amtool (deploy/alertmanager/)
  prometheus prometheus-alertmanager
  # the dashboard's assets (npm ci) and its browser tests (Debian's Chromium, no download)
  nodejs chromium
  # the libFuzzer targets (scripts/fuzz.sh: clang's -fsanitize=fuzzer, docs/fuzzing.md)
  clang
)
# Debian's npm, unless the Node.js already here brings its own (NodeSource's nodejs does, and
# conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# web/node_modules, exactly as web/package-lock.json pins it (reinstalled when the lockfile
# changes). Runs after the Debian packages (npm is one of them).
npm_setup() {
  local web
  web="$(cd "$(dirname "$0")/.." && pwd)/web"
  if [[ -f $web/node_modules/.trafficsim-lock ]] && cmp -s "$web/package-lock.json" "$web/node_modules/.trafficsim-lock"; then
    echo "setup: web/node_modules matches web/package-lock.json"
    return
  fi
  echo "setup: npm ci in web/"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$web/package-lock.json" "$web/node_modules/.trafficsim-lock"
}

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  npm_setup
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx, Prometheus and Alertmanager on install where it can; tests start their
# own nginx on free ports and only run promtool and amtool; deploy/README.md starts Prometheus
# and Alertmanager by hand.
if command -v systemctl >/dev/null 2>&1; then
  for service in nginx prometheus prometheus-alertmanager; do
    if systemctl is-active --quiet "$service" 2>/dev/null; then systemctl stop "$service" || true; fi
  done
fi
npm_setup
echo "setup: done"
