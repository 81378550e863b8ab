#!/usr/bin/env bash
# make bench: times `make test` once, then runs build/bench (scripts/bench.c),
# which prints the table and writes build/bench.json.  BENCH_PAGES sets the
# pages per page_fault1 round in the guest (default 1024: on nested hosts
# where guest kernel code is emulated, a fault costs about a millisecond).
set -euo pipefail
build=$1
pages=${BENCH_PAGES:-1024}

start=$(date +%s.%N)
synthesis=$(make --no-print-directory test 2>&1 | grep 'Synthesis:' | tail -n 1)
end=$(date +%s.%N)
tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$synthesis")
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

"$build/bench" "$build" "$build/bench.json" "$pages" "$secs" "${tested:-0}"
if command -v qemu-system-x86_64 >/dev/null; then
	echo "QEMU is installed, but no microvm-bootable twin of the pagewalk guest exists yet: not compared"
else
	echo "QEMU microvm: not installed here, not measured (the figures beside boot are the issue's)"
fi
echo "JSON: $build/bench.json"
