#!/usr/bin/env bash
# The suite on a slow, busy machine: `make fidelity` FIDELITY_RUNS times in
# a row (default 10), then `make test` TEST_RUNS times (default 3), each
# with a busy loop pinned to one core for the whole run, as other work on a
# shared 2-core CI machine would be. Prints each run's result and time and
# stops at the first failure (its log is kept). Not part of `make test`.
#
#   scripts/stress-test.sh           # make stress-test
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

fidelity_runs=${FIDELITY_RUNS:-10}
test_runs=${TEST_RUNS:-3}
busy_core=$(($(nproc) - 1))
logs=$(mktemp -d)

# The other work: one core spun for as long as this script runs.
taskset -c "$busy_core" bash -c 'while :; do :; done' &
on_exit kill "$!"
echo "stress-test: core $busy_core kept busy; logs in $logs"

repeat() {
  local target=$1 runs=$2 run started took
  for run in $(seq "$runs"); do
    started=$(date +%s)
    if make --no-print-directory "$target" >"$logs/$target-$run.log" 2>&1; then
      took=$(($(date +%s) - started))
      echo "stress-test: make $target run $run of $runs passed in ${took}s"
    else
      took=$(($(date +%s) - started))
      echo "stress-test: make $target run $run of $runs FAILED after ${took}s (tail of $logs/$target-$run.log):"
      tail -40 "$logs/$target-$run.log"
      exit 1
    fi
  done
}

repeat fidelity "$fidelity_runs"
repeat test "$test_runs"
echo "stress-test: $fidelity_runs fidelity and $test_runs full runs in a row passed with a busy core"
