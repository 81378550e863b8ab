#!/usr/bin/env bash
# Run the Criterion suite; with SANITIZE=1 also fail on any sanitizer
# report, since Criterion does not fail a test on a LeakSanitizer report.
set -uo pipefail
bin=$1
shift
log=$(mktemp)
# Leaks inside Criterion's own runner are its, not ours (scripts/lsan.supp).
export LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
trap 'rm -f "$log"' EXIT
"$bin" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
	echo "pagewalk: sanitizer report in the test output (above): failing" >&2
	exit 1
fi
exit "$status"
