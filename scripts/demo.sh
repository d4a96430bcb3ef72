#!/usr/bin/env bash
# The main job: sets up the machine, builds trafficsim, starts a private nginx on a free loopback
# port, runs a short closed-model benchmark and an open-model run against it, prints the
# summaries and stops nginx. Exits 0 by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build build/release -j "$(nproc)" --target trafficsim

dir=$(mktemp -d /tmp/trafficsim-demo.XXXXXX)
trap 'scripts/nginx.sh stop "$dir"; rm -rf "$dir"' EXIT
port=$(scripts/nginx.sh start "$dir")
url="http://127.0.0.1:$port/"

echo
echo "### Maximum throughput (closed model, like wrk)"
build/release/trafficsim bench "$url" -c 64 -t 1 -d 5s
echo "### Exact rate with corrected latency (open model, 2000 req/s)"
build/release/trafficsim bench "$url" -R 2000 -d 5s --json "$dir/report.json"
echo "JSON report: $(wc -c <"$dir/report.json") bytes (see docs/report-format.md)"
