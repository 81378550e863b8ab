#!/usr/bin/env bash
# Install the Debian packages pagewalk builds and tests with, if any are
# missing; with "test", also gdb, which the gdb stub's tests drive; with
# "fuzz", also clang and its libFuzzer runtime for `make fuzz`; with
# "nested", QEMU and cpio for `make test-nested` (and gdb for the suite
# there); with "man", help2man
# for the man page `make install` installs; with "lint", yamllint; with
# "bench", QEMU (microvm, measured beside vmm) and gnuplot for `make bench`.
# As root it runs apt-get; otherwise it says what to install.
set -euo pipefail

# "libfdt-i386 DIR": the i386 guest's libfdt.a, Debian's libfdt-dev:i386
# unpacked under DIR.  Not installed: libfdt-dev is not Multi-Arch: same,
# so installing the i386 one would remove the host's amd64 one.
if [ "${1:-}" = libfdt-i386 ]; then
	dir=$2
	[ -f "$dir/usr/lib/i386-linux-gnu/libfdt.a" ] && exit 0
	if ! dpkg --print-foreign-architectures | grep -qx i386; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "pagewalk's i386 guest needs Debian's i386 architecture:" >&2
			echo "run: sudo dpkg --add-architecture i386 && sudo apt-get update" >&2
			exit 1
		fi
		dpkg --add-architecture i386
		apt-get update -qq
	fi
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt-get download fetches as _apt
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq libfdt-dev:i386)
	mkdir -p "$dir"
	dpkg-deb -x "$tmp"/libfdt-dev_*_i386.deb "$dir"
	exit 0
fi

packages=(gcc make libc6-dev libelf-dev libfdt-dev libcriterion-dev libedit-dev pkg-config)
case "${1:-}" in
test) packages+=(gdb) ;;
fuzz) packages+=(clang libclang-rt-dev) ;;
nested) packages+=(qemu-system-x86 cpio gdb) ;;
man) packages+=(help2man) ;;
lint) packages+=(yamllint) ;;
bench) packages+=(qemu-system-x86 gnuplot-nox) ;;
esac

missing=()
for p in "${packages[@]}"; do
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != 'install ok installed' ]; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
	echo "pagewalk needs: ${missing[*]} (Debian package names); install them and re-run." >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "pagewalk needs these packages: ${missing[*]}" >&2
	echo "run: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "pagewalk: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
