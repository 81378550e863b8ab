#!/usr/bin/env bash
# make bench-compare A=before.json B=after.json: every figure the two runs
# of make bench share, its median in each and B's over A's (below 1: B
# is smaller, which for a time, a size or an instruction count is
# better, for a rate worse).  Figures only one run has are listed apart.
#
#   scripts/bench-compare.sh A.json B.json
set -euo pipefail
if [ $# -ne 2 ] || [ ! -r "$1" ] || [ ! -r "$2" ]; then
	echo "usage: scripts/bench-compare.sh A.json B.json (make bench-compare A=... B=...)" >&2
	exit 1
fi

# name<TAB>unit<TAB>median of each figure line (scripts/bench.c writes one a line).
figures() {
	sed -n 's/^ *{"name": "\([^"]*\)", "unit": "\([^"]*\)", "runs": [0-9]*, "median": \([^,]*\),.*/\1\t\2\t\3/p' "$1"
}
for f in "$1" "$2"; do
	[ -n "$(figures "$f")" ] || { echo "bench-compare: $f has no figures (not make bench's JSON?)" >&2; exit 1; }
done
echo "A: $1 (commit $(sed -n 's/^  "commit": "\(.*\)",$/\1/p' "$1"))"
echo "B: $2 (commit $(sed -n 's/^  "commit": "\(.*\)",$/\1/p' "$2"))"
awk -F '\t' '
	function human(v,   s, neg, out) {
		if (v < 1000 && v > -1000)
			return sprintf(v == int(v) ? "%d" : "%.4g", v)
		neg = v < 0; s = sprintf("%.0f", neg ? -v : v); out = ""
		while (length(s) > 3) { out = " " substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
		return (neg ? "-" : "") s out
	}
	FNR == 1 { file++ }
	file == 1 { a[$1 "\t" $2] = $3; order[++n] = $1 "\t" $2; next }
	{ b[$1 "\t" $2] = $3; if (!($1 "\t" $2 in a)) only_b[++nb] = $1 }
	END {
		printf "%-66s %14s %14s %9s  %s\n", "figure", "A median", "B median", "B/A", "unit"
		for (i = 1; i <= n; i++) {
			k = order[i]
			split(k, p, "\t")
			if (!(k in b)) { only_a[++na] = p[1]; continue }
			ratio = a[k] != 0 ? sprintf("%.3f", b[k] / a[k]) : "-"
			printf "%-66s %14s %14s %9s  %s\n", p[1], human(a[k]), human(b[k]), ratio, p[2]
		}
		for (i = 1; i <= na; i++) print "only in A: " only_a[i]
		for (i = 1; i <= nb; i++) print "only in B: " only_b[i]
	}' <(figures "$1") <(figures "$2")
