#!/usr/bin/env bash
# make test-nested: the whole Criterion suite on a second kind of KVM host.
# Debian's own kernel boots under QEMU TCG with NESTED_CPU (default "max",
# which offers SVM with NPT, LA57, SMEP, SMAP, PKU and 1 GiB pages); with
# kvm-amd loaded there, /dev/kvm is real KVM on SVM+NPT and the pagewalk
# guest's page walks are QEMU's MMU model.  The built tree goes into the
# initramfs at the same absolute path, the suite runs with
# PAGEWALK_REQUIRE_KVM=1 and PAGEWALK_REQUIRE_PAGING32=1 (SVM runs i386
# paging: its tests must not skip), and this script exits with its status.
#
#   scripts/test-nested.sh BUILD_DIR [CRITERION FLAGS...]
#
# With NESTED_BENCH=1 (make bench-nested, scripts/bench.sh) it runs
# BUILD_DIR/bench there instead (BENCH_PAGES, BENCH_COMMIT) and copies the
# JSON it prints back to BUILD_DIR/bench-nested.json.  With NESTED_CMD set
# it runs that shell command instead (in BUILD_DIR, the tree's paths as
# here), e.g. NESTED_CMD='./vmm --paging 3 guest-pae.elf', and exits with
# its status.
#
# The kernel and busybox come from Debian with apt-get download, once:
# BUILD_DIR/nested/debs is the cache.
set -euo pipefail
O=$(realpath "$1")
shift
cpu=${NESTED_CPU:-max}
timeout=${NESTED_TIMEOUT:-1500}
dir=$O/nested
here=$(dirname "$(realpath "$0")")

"$here/install-deps.sh" nested

# Debian's current kernel: the package linux-image-amd64 depends on.
mkdir -p "$dir/debs"
if ! ls "$dir"/debs/linux-image-*.deb >/dev/null 2>&1 ||
   ! ls "$dir"/debs/busybox-static_*.deb >/dev/null 2>&1; then
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	       awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$kpkg" ]; then
		apt-get update -qq
		kpkg=$(apt-cache depends linux-image-amd64 |
		       awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$kpkg" ] || { echo "test-nested: apt knows no linux-image-amd64" >&2; exit 1; }
	rm -rf "$dir/root"
	# apt's _apt user cannot write into a root-only tree: it warns and
	# downloads as root, which is what we want.
	(cd "$dir/debs" && apt-get download -q "$kpkg" busybox-static 2>&1 |
	 grep -v 'unsandboxed as root' >&2 || true)
fi
if [ ! -d "$dir/root" ]; then
	mkdir -p "$dir/root"
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$dir/root"
	done
fi
kernel=$(ls "$dir"/root/boot/vmlinuz-* | head -n 1)
kver=${kernel##*/vmlinuz-}
mods=$dir/root/lib/modules/$kver/kernel

# The initramfs, new each run: the tree under test changes.
img=$dir/initramfs
rm -rf "$img"
mkdir -p "$img"/{bin,lib/modules,proc,sys,dev,tmp,usr/bin}
cp "$dir/root/bin/busybox" "$img/bin/"
ln -s busybox "$img/bin/sh"
# kvm-amd needs ccp (SEV's PSP driver) and kvm; kvm needs irqbypass.
for m in virt/lib/irqbypass drivers/crypto/ccp/ccp arch/x86/kvm/kvm arch/x86/kvm/kvm-amd; do
	cp "$mods/$m.ko" "$img/lib/modules/"
done

# The built tree at its own path (tests find it through PW_BUILD_DIR),
# without objects, and util-linux's unshare for the missing-/dev/kvm test.
mkdir -p "$img$O"
(cd "$O" && find . \( -path ./obj -o -path './obj-*' -o -path ./nested -o -path ./fuzz -o -path ./deps-i386 \
	-o -path ./sanitize \) -prune -o -type f ! -name '*.d' ! -name '*.o' ! -name '*.a' -print |
	cpio -pdm --quiet "$img$O")
cp /usr/bin/unshare "$img/usr/bin/"
# The sources the tests read at PW_SOURCE_DIR: README (its samples and
# tables are checked), the example scripts, tap-junit.awk, the test headers.
src=$(realpath "$(dirname "$0")/..")
mkdir -p "$img$src/scripts" "$img$src/tests"
cp "$src/README.md" "$img$src/"
cp -r "$src/scripts/examples" "$src/scripts/tap-junit.awk" "$img$src/scripts/"
cp "$src"/tests/*.h "$img$src/tests/"
cp -L /usr/bin/awk "$img/usr/bin/"	# Debian's, not busybox's, as on the host
mkdir -p "$img/lib/terminfo/v"		# the shell's test runs it as a vt100
cp /lib/terminfo/v/vt100 "$img/lib/terminfo/v/"
# gdb for the gdb stub's tests, with its Python scripts and the part of
# Python's library it starts with (it will not start without one).
cp /usr/bin/gdb "$img/usr/bin/"
mkdir -p "$img/usr/share" "$img/usr/lib"
cp -r /usr/share/gdb "$img/usr/share/"
py=$(ls -d /usr/lib/python3.[0-9]* | sort -V | tail -n 1)
(cd / && find "${py#/}" \( -name test -o -name idlelib -o -name ensurepip -o -name tkinter \
	-o -name lib2to3 -o -name pydoc_data -o -name 'config-*' -o -name __pycache__ \
	-o -name dist-packages -o -name site-packages \) -prune -o -print | cpio -pdm --quiet "$img")
# Every shared library those binaries need, and the dynamic loader.
for f in $(find "$img$O" "$img/usr/bin" -type f -perm -u+x); do
	{ ldd "$f" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$img$(dirname "$lib")"
	cp -L "$lib" "$img$lib"
done
# Debian's loader path is /lib64/ld-linux-x86-64.so.2 through a symlink.
if [ -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e "$img/lib64/ld-linux-x86-64.so.2" ]; then
	mkdir -p "$img/lib64"
	cp -L /lib64/ld-linux-x86-64.so.2 "$img/lib64/"
fi

# QEMU's max model has LA57 unless the CPU string takes it away: there the
# 5-level tests must run, not skip.
require_la57=0
case ",$cpu," in
,max,*) [[ ",$cpu," == *,-la57,* ]] || require_la57=1 ;;
esac
flags=$(printf ' %q' "$@")
if [ "${NESTED_BENCH:-0}" = 1 ]; then
	run="$O/bench --pages ${BENCH_PAGES:-256} --commit ${BENCH_COMMIT:-unknown} $O $O/bench.json &&
	echo 'bench-nested: json' && cat $O/bench.json && echo 'bench-nested: end'"
elif [ -n "${NESTED_CMD:-}" ]; then
	run=$NESTED_CMD
else
	run="$O/tests/pagewalk-tests$flags"
fi
cat > "$img/init" <<EOF
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs shm /dev/shm
# Pseudo-terminals, for the shell's test.
mount -t devpts devpts /dev/pts
# Loopback, for the gdb stub's tests.
/bin/busybox ip link set lo up
# /tmp stays the initramfs's own: the tree under test may live there.
for m in irqbypass ccp kvm kvm-amd; do
	/bin/busybox insmod /lib/modules/\$m.ko || echo "test-nested: insmod \$m failed"
done
echo "test-nested: \$(/bin/busybox uname -r), $cpu, /dev/kvm: \$(/bin/busybox ls /dev/kvm 2>&1)"
export PAGEWALK_REQUIRE_KVM=1 PAGEWALK_REQUIRE_LA57=$require_la57 PAGEWALK_REQUIRE_PAGING32=1 PATH=/usr/bin:/bin CRITERION_USE_ASCII=1
cd $O
run() {
	$run
}
run
echo "test-nested: exit \$?"
/bin/busybox poweroff -f
EOF
chmod +x "$img/init"
(cd "$img" && find . | cpio -o -H newc --quiet) > "$dir/initramfs.cpio"

log=$dir/console.log
echo "test-nested: booting $kver under qemu-system-x86_64 -accel tcg -cpu $cpu" >&2
timeout "$timeout" qemu-system-x86_64 -accel tcg,thread=single -cpu "$cpu" -smp 2 -m 4G \
	-nographic -no-reboot ${NESTED_QEMU_FLAGS:-} -kernel "$kernel" -initrd "$dir/initramfs.cpio" \
	-append "console=ttyS0 quiet panic=-1 softlockup_panic=1" </dev/null | tee "$log" || true
status=$(sed -n 's/^test-nested: exit \([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$status" ]; then
	echo "test-nested: the nested host did not finish the suite (console: $log)" >&2
	exit 1
fi
if [ "${NESTED_BENCH:-0}" = 1 ]; then
	sed -n '/^bench-nested: json/,/^bench-nested: end/p' "$log" | tr -d '\r' | sed '1d;$d' \
		> "$O/bench-nested.json"
elif [ -z "${NESTED_CMD:-}" ] && grep -q 'Synthesis: Tested: 0 ' "$log"; then
	echo "test-nested: the suite ran no test (console: $log)" >&2
	exit 1
fi
exit "$status"
