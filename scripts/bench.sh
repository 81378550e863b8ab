#!/usr/bin/env bash
# make bench: times `make test` once, then runs build/bench
# (scripts/bench.c), which prints the table and writes build/bench.json,
# and draws build/bench.svg from it (scripts/bench-plot.sh).
# make bench-nested ("nested"): build/bench alone in the second host
# (scripts/test-nested.sh boots it there; no QEMU, no make test inside),
# its JSON brought back through the console to build/bench-nested.json,
# drawn as build/bench-nested.svg.
#
#   scripts/bench.sh BUILD_DIR [nested]
#
# BENCH_PAGES sets the pages per page_fault1 round in the guest (default
# 1024 here, 256 nested: where guest kernel code is emulated, a fault
# costs about a millisecond here and more there).
set -euo pipefail
build=$1
here=$(dirname "$(realpath "$0")")
commit=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD 2>/dev/null || commit+=-dirty

if [ "${2:-}" = nested ]; then
	NESTED_BENCH=1 BENCH_COMMIT=$commit BENCH_PAGES=${BENCH_PAGES:-256} "$here/test-nested.sh" "$build"
	"$here/bench-plot.sh" "$build/bench-nested.json" "$build/bench-nested.svg"
	echo "JSON: $build/bench-nested.json"
	exit 0
fi

start=$(date +%s.%N)
synthesis=$(make --no-print-directory O="$build" test 2>&1 | grep 'Synthesis:' | tail -n 1)
end=$(date +%s.%N)
tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$synthesis")
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

"$build/bench" --pages "${BENCH_PAGES:-1024}" --commit "$commit" \
	--qemu "$(command -v qemu-system-x86_64 || true)" --make-test "$secs,${tested:-0}" \
	"$build" "$build/bench.json"
"$here/bench-plot.sh" "$build/bench.json" "$build/bench.svg"
echo "JSON: $build/bench.json"
