#!/usr/bin/env bash
# Run the Criterion suite: its report on stderr as usual, TAP and JUnit XML
# into build/test-results/ for CI (pagewalk.tap, pagewalk.xml), and fail on
# any sanitizer report (SANITIZE=1), since Criterion does not fail a test on
# a LeakSanitizer report.  Guest events of failed tests are in
# build/test-logs/ (tests/harness.c).
set -uo pipefail
bin=$1
shift
results=$(dirname "$bin")/../test-results
mkdir -p "$results"
log=$(mktemp)
# Leaks inside Criterion's own runner are its, not ours (scripts/lsan.supp).
export LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
trap 'rm -f "$log"' EXIT
# Two jobs a core: many tests spend part of their time waiting (on a vmm
# child, a gdb socket, a pty, a watchdog), and Criterion's own re-exec per
# test leaves gaps; -jN in TESTFLAGS comes later and wins.
"$bin" --tap="$results/pagewalk.tap" --jobs $(( 2 * $(nproc) )) "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk -f "$(dirname "$0")/tap-junit.awk" "$results/pagewalk.tap" > "$results/pagewalk.xml"
if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
	echo "pagewalk: sanitizer report in the test output (above): failing" >&2
	exit 1
fi
exit "$status"
