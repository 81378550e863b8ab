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
