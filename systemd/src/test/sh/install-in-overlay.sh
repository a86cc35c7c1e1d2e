#!/bin/sh
# Installs, reinstalls, removes and purges a .deb with the real dpkg and maintainer scripts, in a
# throwaway copy of this machine: an overlay over / in a private mount namespace, so nothing
# reaches the host (its users, its dpkg database, its /proc/sys, which stays read-only).
# Usage: install-in-overlay.sh DEB WORK-DIR [EARLIER-DEB]     Exit 77: this machine cannot do that
# (not root, no unshare, no overlayfs); anything else non-zero: a step failed. With EARLIER-DEB,
# that is installed first, so that installing DEB is an upgrade from it.
set -eu
deb=$1
work=$2
earlier=${3:-}
[ "$(id -u)" -eq 0 ] || { echo "not root"; exit 77; }
command -v unshare >/dev/null || { echo "no unshare"; exit 77; }
command -v dpkg >/dev/null || { echo "no dpkg"; exit 77; }
mkdir -p "$work/upper" "$work/work" "$work/merged"
cp "$deb" "$work/changeq.deb"
if [ -n "$earlier" ]; then cp "$earlier" "$work/earlier.deb"; fi

exec unshare -m sh -eu -c '
work=$1
m=$work/merged
mount --make-rprivate / 2>/dev/null || true
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$m" || { echo "no overlayfs"; exit 77; }
mount --bind /dev "$m/dev"
mount -t tmpfs tmpfs "$m/tmp"
mount -t proc proc "$m/proc"
mount --bind "$m/proc/sys" "$m/proc/sys"
mount -o remount,bind,ro "$m/proc/sys"
cp "$work/changeq.deb" "$m/tmp/changeq.deb"
in_root() { chroot "$m" "$@"; }

if [ -f "$work/earlier.deb" ]; then
    cp "$work/earlier.deb" "$m/tmp/earlier.deb"
    in_root dpkg -i /tmp/earlier.deb
fi
in_root dpkg -i /tmp/changeq.deb
echo "config: $(head -n 1 "$m/etc/changeq/changeq.yaml")"
echo "user: $(in_root getent passwd changeq | cut -d: -f1,6,7)"
in_root stat -c "dir: %a %U:%G %n" /var/lib/changeq /var/lib/changeq/queue /var/lib/changeq/state
echo "# edited" >> "$m/etc/changeq/changeq.yaml"
in_root dpkg -i --force-confold /tmp/changeq.deb
echo "conffile kept: $(tail -n 1 "$m/etc/changeq/changeq.yaml")"
in_root /usr/bin/changeq-queue --help | head -n 1 | sed "s/^/help: /"
in_root dpkg -r changeq
echo "after remove: $(ls "$m/etc/changeq") $(ls -d "$m/usr/share/changeq" 2>/dev/null || echo no-usr-share)"
in_root dpkg -P changeq
echo "after purge: $(ls -d "$m/etc/changeq" "$m/var/lib/changeq" 2>/dev/null || echo gone) user $(in_root getent passwd changeq >/dev/null && echo kept || echo removed)"
' sh "$work"
