#!/usr/bin/env bash
# The main job: sets up the machine, builds trafficsim and runs `trafficsim demo --script
# demo-video`: the demo target, the control API and the dashboard on one port (the first line
# printed is the URL to open), playing seed 000's 3-minute "Demo Video Workflow"
# (scenarios/demo-video.yaml) compressed with --time-scale so it takes about a minute — narration
# per phase and a live line in the terminal, the phases on the page's charts. On a terminal it
# keeps serving the page after the script until Ctrl+C; in scripts (standard input not a
# terminal, or CI=true) it passes --exit and ends by itself. Extra arguments go to
# `trafficsim demo` (e.g. --time-scale 1, --listen 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build build/release -j "$(nproc)" --target trafficsim

extra=()
if [[ ! -t 0 || ${CI:-} == true ]]; then extra+=(--exit); fi
exec build/release/trafficsim demo --script demo-video --time-scale 3.5 "${extra[@]}" "$@"
