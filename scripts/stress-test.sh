#!/usr/bin/env bash
# make fidelity FIDELITY_RUNS times (default 10), then make test TEST_RUNS times
# (3), with one core kept busy as on a shared 2-core CI machine; stops at a failure.
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
core=$(($(nproc) - 1)) logs=$(mktemp -d)
taskset -c "$core" bash -c 'while :; do :; done' &
on_exit kill "$!"
echo "stress-test: core $core kept busy; logs in $logs"
for target in fidelity test; do
  [ $target = test ] && runs=${TEST_RUNS:-3} || runs=${FIDELITY_RUNS:-10}
  for run in $(seq "$runs"); do
    started=$(date +%s) log=$logs/$target-$run.log
    make --no-print-directory $target >"$log" 2>&1 || { tail -40 "$log"; echo "stress-test: make $target run $run FAILED"; exit 1; }
    echo "stress-test: make $target run $run of $runs passed in $(($(date +%s) - started))s"
  done
done
echo "stress-test: all runs passed with a busy core"
