#!/usr/bin/env bash
# make check-install: `make install` into a scratch DESTDIR, then README's
# libvmm example, taken from README itself, built against the installed
# headers and library through pkg-config, linked shared and static, and
# run on /dev/kvm with the installed guest: it must answer 40 + 2 = 42.
# Commands whose output grep -q reads go through a variable: grep -q stops
# reading at its match, and under pipefail the writer's SIGPIPE would fail
# the pipe.
set -euo pipefail
O=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
prefix=/usr
make --no-print-directory install O="$O" DESTDIR="$root" PREFIX="$prefix" >/dev/null
for f in bin/vmm share/man/man1/vmm.1 share/pagewalk/guest.elf share/pagewalk/guest-i386.elf share/pagewalk/guest-pae.elf \
	 lib/libvmm.a lib/libvmm.so include/libvmm/libvmm.h include/pagewalk/ring.h lib/pkgconfig/libvmm.pc; do
	[ -e "$root$prefix/$f" ] || { echo "check-install: $prefix/$f not installed" >&2; exit 1; }
done
grep -q '^vmm (pagewalk) ' <<<"$("$root$prefix/bin/vmm" --version)" ||
	{ echo "check-install: vmm --version" >&2; exit 1; }
grep -q 'kernel\\-sync' "$root$prefix/share/man/man1/vmm.1" ||
	{ echo "check-install: the man page lacks the options" >&2; exit 1; }

# The snippet between README's "Driving the guest from C" heading and the end of its first C block.
snippet=$(awk '/^## Driving the guest from C/ { s = 1 } s && /^```c$/ { c = 1; next }
	       c && /^```$/ { exit } c' "$(dirname "$0")/../README.md")
[ -n "$snippet" ] || { echo "check-install: no C example in README" >&2; exit 1; }
cat > "$root/example.c" <<C
#include <err.h>
#include <libvmm.h>

int main(void)
{
$(sed "s|\"build/guest.elf\"|\"$root$prefix/share/pagewalk/guest.elf\"|" <<<"$snippet")
	return res == 42 ? 0 : 1;
}
C
export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root$prefix/lib/pkgconfig
cc -std=gnu11 -Wall -Werror -o "$root/example" "$root/example.c" $(pkg-config --cflags --libs libvmm) \
	-Wl,-rpath,"$root$prefix/lib"
cc -std=gnu11 -Wall -Werror -o "$root/example-static" "$root/example.c" \
	$(pkg-config --cflags libvmm) "$root$prefix/lib/libvmm.a" $(pkg-config --libs-only-l --static libvmm | sed 's/-lvmm//')
grep -q "$root$prefix/lib/libvmm.so.0" <<<"$(ldd "$root/example")" ||
	{ echo "check-install: the example is not linked to the installed libvmm.so" >&2; exit 1; }
"$root/example" && "$root/example-static" ||
	{ echo "check-install: README's example did not get 42 from the guest" >&2; exit 1; }
echo "check-install: make install and README's libvmm example (shared and static): ok"
