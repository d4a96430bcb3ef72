#!/usr/bin/env bash
# The main job: sets up the machine, builds trafficsim and plays seed 000's 3-minute "Demo Video
# Workflow" (scenarios/demo-video.yaml) against the built-in demo target, compressed with
# --time-scale so it takes about a minute: narration per phase, a live line, a final per-phase
# table. Exits 0 by itself. Extra arguments go to `trafficsim play` (e.g. --time-scale 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build build/release -j "$(nproc)" --target trafficsim

exec build/release/trafficsim play scenarios/demo-video.yaml --time-scale 3.5 "$@"
