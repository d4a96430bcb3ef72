#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake --preset fuzz: clang, ASan + UBSan) and runs them
# (docs/fuzzing.md).
#   scripts/fuzz.sh --list                 the targets
#   scripts/fuzz.sh [TARGET...] [--seconds N] [--runs N] [--jobs J]
#                                          each target for N seconds (default 20), or N runs;
#                                          J targets at a time (default 1)
# Seeds come from the repository's own inputs (fuzz/make_seeds.py); the growing corpus lives in
# build/fuzz/corpus/TARGET, crashes in build/fuzz/crashes/TARGET (each becomes a regression input
# in fuzz/regressions/TARGET/, run by the test suite). Prints, per target, executions, coverage and
# features; exits 1 when a target crashed, leaked or timed out.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=20
runs=""
parallel=1
targets=()
list=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --list) list=1 ;;
    --seconds) seconds=$2; shift ;;
    --runs) runs=$2; shift ;;
    --jobs) parallel=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (--list, --seconds N, --runs N)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: --seconds must be a positive integer" >&2; exit 2; }
[[ $parallel =~ ^[0-9]+$ && $parallel -gt 0 ]] || { echo "fuzz.sh: --jobs must be a positive integer" >&2; exit 2; }
[[ -z $runs || $runs =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --runs must be a positive integer" >&2; exit 2; }

all=()
for f in fuzz/*_fuzz.cpp; do n=${f##*/}; all+=("${n%_fuzz.cpp}"); done
if [[ $list -eq 1 ]]; then printf '%s\n' "${all[@]}"; exit 0; fi
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ -f fuzz/${t}_fuzz.cpp ]] || { echo "fuzz.sh: no target '$t' (--list)" >&2; exit 2; }
done

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing: run scripts/setup.sh" >&2; exit 1; }
export CCACHE_DIR=${CCACHE_DIR:-$root/build/.ccache}
cmake --preset fuzz >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build build/fuzz -j "$(nproc)" "${build_targets[@]}"

seeds=build/fuzz/seeds
rm -rf "$seeds"
python3 fuzz/make_seeds.py "$seeds"
printf '%-18s %12s %8s %8s %s\n' target executions cov ft result
# One target: its run, then its line (and, when it failed, what the log says).
run_one() {
  local t=$1 corpus=build/fuzz/corpus/$1 crashes=build/fuzz/crashes/$1 log=build/fuzz/$1.log rc=0
  mkdir -p "$corpus" "$crashes" "$seeds/$t"
  local args=(-rss_limit_mb=2048 -timeout=10 "-max_len=$(max_len "$t")" -print_final_stats=1
              "-artifact_prefix=$crashes/")
  [[ -f fuzz/dict/$t.dict ]] && args+=("-dict=fuzz/dict/$t.dict")
  # The request path runs a whole server whose state grows by design (jobs, users, incidents):
  # libFuzzer's per-input leak check (a full heap scan after any input that allocated more than
  # it freed) would run after nearly every input. Leaks are still checked when the process exits.
  [[ $t == request_path ]] && args+=(-detect_leaks=0)
  if [[ -n $runs ]]; then args+=("-runs=$runs"); else args+=("-max_total_time=$seconds"); fi
  local dirs=("$corpus" "$seeds/$t")
  [[ -d fuzz/regressions/$t ]] && dirs+=("fuzz/regressions/$t")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build/fuzz/fuzz/fuzz_$t" "${args[@]}" "${dirs[@]}" > "$log" 2>&1 || rc=$?
  local execs cov ft result
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  if [[ $rc -eq 0 ]]; then result=ok; else result="FAILED (exit $rc, $log)"; fi
  printf '%-18s %12s %8s %8s %s\n' "$t" "$execs" "$cov" "$ft" "$result"
  if [[ $rc -ne 0 ]]; then grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -5 >&2 || true; fi
  return $rc
}
# The longest input each target is given. The YAML files and the reports are read whole, so their
# cost grows with their size: every construct of a file fits in 4 KiB (the shipped scenarios and
# monitor files are under 3.6 KiB), two report segments in 16 KiB. The others take 64 KiB (the
# request path's head limit is 16 KiB, its bodies go further).
max_len() {
  case $1 in
    yaml_files) echo 4096 ;;
    report_merge) echo 16384 ;;
    *) echo 65536 ;;
  esac
}
failed=0
pids=()
for t in "${targets[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge $parallel ]]; do wait -n || failed=1; done
  run_one "$t" &
done
while [[ $(jobs -rp | wc -l) -gt 0 ]]; do wait -n || failed=1; done
exit $failed
