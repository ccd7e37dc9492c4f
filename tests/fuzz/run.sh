#!/usr/bin/env bash
# tests/fuzz/run.sh BIN WORK SEEDS [libFuzzer flags...] — one fuzz run of a target (the tests' short runs,
# bench/fuzz's long ones), in one process.  New inputs go to WORK/corpus (the committed seeds in SEEDS are only
# read), a crash, leak, timeout or UB input to WORK/crash-* (leak-*, timeout-*, ...), the log to WORK/log.  Exit
# status 0 when the run found nothing.
set -euo pipefail
bin=$1 work=$2 seeds=$3
shift 3
mkdir -p "$work/corpus"
# UB aborts (-fno-sanitize-recover); the library's own allocations are capped in the targets (tests/fuzz/fuzz.h).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
"$bin" -max_len=16384 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$@" "$work/corpus" "$seeds" > "$work/log" 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
  tail -60 "$work/log"
  echo "run.sh: $(basename "$bin") failed (status $rc); the input is in $work/ (replay: $bin FILE)" >&2
  exit 1
fi
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$work/log" || true
