#!/bin/sh
# Prints the path of a Debian bookworm root file system with systemd, Java 17, rsync and rclone, built with
# debootstrap on first use and kept under CACHE-DIR, keyed by the package list, for later runs.
# Usage: debian-rootfs.sh CACHE-DIR     Exit 77: this machine cannot build one (not root, no debootstrap).
set -eu
cache=$1
packages=systemd,systemd-sysv,dbus,rsync,rclone,openjdk-17-jre-headless,procps,adduser
suite=bookworm
[ "$(id -u)" -eq 0 ] || { echo "not root" >&2; exit 77; }
command -v debootstrap >/dev/null || { echo "no debootstrap (apt-get install debootstrap)" >&2; exit 77; }

key=$(printf '%s %s\n' "$suite" "$packages" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$key
if [ -x "$rootfs/lib/systemd/systemd" ]; then
    echo "$rootfs"
    exit 0
fi

# The mirror apt already uses here; deb.debian.org otherwise.
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n 1)
mirror=${mirror:-$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$cache"
partial=$rootfs.partial
rm -rf "$partial"
echo "building $rootfs from $mirror (once; later runs reuse it)" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$partial" "$mirror" >"$cache/debootstrap-$key.log" 2>&1 \
    || { echo "debootstrap failed; see $cache/debootstrap-$key.log" >&2; tail -n 20 "$cache/debootstrap-$key.log" >&2; exit 1; }
mv "$partial" "$rootfs"
echo "$rootfs"
