#!/usr/bin/env bash
# make bench's plots, from its JSON (scripts/bench.c writes one item a
# line, which is what the awk below reads): one SVG with the ring-0
# instructions of one demand fault by guest symbol (self and inclusive,
# the profiler's, over the #PF path of 64 faults) and the boot's ring-0
# instructions against the guest's RAM size.  gnuplot is Debian's.
#
#   scripts/bench-plot.sh BENCH_JSON OUT_SVG
set -euo pipefail
json=$1
svg=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "key": value pairs of the lines in one of the JSON's arrays.
field() { sed -n "s/.*\"$1\": \"\{0,1\}\([^\",}]*\).*/\1/p"; }
section() { awk -v s="\"$1\": \\[" '$0 ~ s { on = 1; next } on && /^  \]/ { exit } on'; }

section fault_by_symbol < "$json" > "$tmp/f"
paste <(field symbol < "$tmp/f") <(field self < "$tmp/f") <(field inclusive < "$tmp/f") > "$tmp/fault.dat"
section boot_by_ram < "$json" > "$tmp/b"
paste <(field mib < "$tmp/b") <(field instructions < "$tmp/b") > "$tmp/boot.dat"
commit=$(field commit < "$json" | head -n 1)
kvm=$(sed -n 's/.*"kvm": "\([^"]*\)".*/\1/p' "$json")
panels=0
[ -s "$tmp/fault.dat" ] && panels=$((panels + 1))
[ -s "$tmp/boot.dat" ] && panels=$((panels + 1))
if [ $panels -eq 0 ]; then
	echo "bench-plot: nothing to draw: $json has no instruction counts (see its notes)" >&2
	exit 0
fi

{
cat <<GP
set terminal svg size 900,$((450 * panels)) dynamic font "sans,11"
set output "$svg"
set termoption noenhanced
set multiplot layout $panels,1 title "pagewalk make bench, commit ${commit:0:18}, KVM $kvm: ring-0 instructions, exact (single-stepped)"
GP
[ -s "$tmp/fault.dat" ] && cat <<GP
set title "one demand fault (page_fault1 loop, full paging core): instructions by guest symbol"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -35 nomirror
set ylabel "instructions per fault"
set grid ytics
set key top right
plot "$tmp/fault.dat" using 2:xtic(1) title "self", "" using 3 title "inclusive"
GP
[ -s "$tmp/boot.dat" ] && cat <<GP
set style data linespoints
set title "boot to the op loop against guest RAM"
set xtics norotate
set xtics 1024
set xlabel "guest RAM, MiB"
set ylabel "instructions"
set grid ytics
set format y "%.0f"
plot "$tmp/boot.dat" using 1:2 with linespoints pointtype 7 title "boot"
GP
echo "unset multiplot"
} | gnuplot
echo "plot: $svg"
