#!/bin/bash
# The package as users run it: boots Debian with a real systemd in a container, installs the .deb
# with apt, configures the example's three routes (a local mirror with its drop-in, two routes to an
# rsync daemon on loopback standing in for the NAS, later a route to an S3 server on loopback) and runs
# the named steps below in order. Each step prints its name and duration; the first failure prints the
# journal and exits 1.
# Usage: installed-system.sh DEB ROOTFS-CACHE-DIR WORK-DIR S3PROXY-JAR
# Exit 77: this machine cannot boot a container (not root, no systemd-nspawn, debootstrap or overlayfs).
set -euo pipefail
deb=$(readlink -f "$1")
cache=$2
work=$3
s3proxy_jar=$(readlink -f "$4")
here=$(dirname "$(readlink -f "$0")")
started=$SECONDS

[ "$(id -u)" -eq 0 ] || { echo "not root"; exit 77; }
for tool in systemd-nspawn nsenter; do
    command -v "$tool" >/dev/null || { echo "no $tool (apt-get install systemd-container)"; exit 77; }
done
rootfs=$(sh "$here/debian-rootfs.sh" "$cache") || exit $?

config=/etc/changeq/changeq.yaml
# The NAS: an rsync daemon on 127.0.0.1, inside the container, which shares the host's network.
nas_port=$((20000 + $$ % 20000))
nas=rsync://127.0.0.1:$nas_port/Backup
# The object storage: S3Proxy over a directory, inside the container too.
s3_port=$((nas_port + 1))

mkdir -p "$work/upper" "$work/overlay-work" "$work/root"
mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$work/upper,workdir=$work/overlay-work" "$work/root" \
    || { echo "no overlayfs"; exit 77; }
nspawn=
teardown() {
    if [ -n "$nspawn" ]; then
        kill -TERM "$nspawn" 2>/dev/null || true
        wait "$nspawn" 2>/dev/null || true
    fi
    umount "$work/root" 2>/dev/null || umount -l "$work/root"
    rm -rf "$work/upper" "$work/overlay-work"
}
trap teardown EXIT

systemd-nspawn -q -D "$work/root" --boot --register=no --keep-unit --console=passive \
    --machine="changeq-it-$$" >"$work/console.log" 2>&1 &
nspawn=$!

fail() {
    echo "FAILED: $*"
    if [ -n "${pid:-}" ]; then
        echo "--- journal (last 80 lines)"
        inside journalctl --no-pager -n 80 -o short-monotonic || true
    fi
    exit 1
}
# await SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds, or fails the step.
await() {
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "gave up waiting for $what"
        sleep 0.2
    done
}
# inside COMMAND...: runs COMMAND in the container, as root, with a clean environment.
inside() {
    nsenter -t "$pid" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
expect() { # expect WANT GOT WHAT
    [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}
unit_property() { inside systemctl show -p "$2" --value "$1"; }
# run_route ROUTE [MODE]: one run of the route's service; it must succeed (in MODE, when given).
run_route() {
    local unit=changeq-sync@$1.service runs summary
    runs=$(summaries "$1" | wc -l)
    inside systemctl start "$unit" || fail "systemctl start $unit"
    expect success "$(unit_property "$unit" Result)" "$unit Result"
    expect 0 "$(unit_property "$unit" ExecMainStatus)" "$unit ExecMainStatus"
    await 10 "the summary line of $unit" summaries_exceed "$1" "$runs"
    summary=$(summaries "$1" | tail -n 1)
    echo "   $summary"
    if [ -n "${2:-}" ]; then
        case "$summary" in *" mode=$2 "*) ;; *) fail "$unit ran not $2: $summary" ;; esac
    fi
}
# summaries ROUTE: the summary lines its service runs printed so far.
summaries() { inside journalctl --no-pager -o cat -u "changeq-sync@$1.service" | grep "^route=$1 " || true; }
summaries_exceed() { [ "$(summaries "$1" | wc -l)" -gt "$2" ]; }
# journal_has_line UNIT LINE: the unit's journal holds LINE. journald stores what a unit printed just
# before it exited a moment after systemctl start has returned.
journal_has_line() { inside journalctl --no-pager -o cat -u "$1" | grep -qxF -- "$2"; }
# recorded NAME...: the tracker has appended a record naming each NAME.
recorded() {
    local records name
    records=$(inside changeq-queue dump --config "$config")
    for name; do grep -qF -- "$name" <<<"$records" || return 1; done
}
# recorded_since_start REGEX: a record after the tracker's last START matches REGEX.
recorded_since_start() {
    inside changeq-queue dump --config "$config" | awk '/ START /{since = ""} {since = since $0 "\n"} END {printf "%s", since}' \
        | grep -qE -- "$1"
}
# tracker_restarted RESTARTS: systemd restarted the tracker more than RESTARTS times and it is ready.
tracker_restarted() {
    [ "$(unit_property changeq-tracker.service NRestarts)" -gt "$1" ] \
        && [ "$(unit_property changeq-tracker.service ActiveState)" = active ]
}
# booted: the container's systemd (systemd-nspawn's child, once its set-up child is gone) finished booting.
booted() {
    pid=$(cat /proc/"$nspawn"/task/*/children 2>/dev/null | awk '{print $1; exit}')
    [ -n "$pid" ] && case $(inside systemctl is-system-running --wait) in running | degraded) ;; *) false ;; esac
}
# attributes DIR: owner, group, mode and mtime (whole seconds) of everything below DIR.
attributes() { inside find "$1" -mindepth 1 -printf '%P %U %G %m %Ts\n' | sort; }

step_boot() {
    await 90 "the container's systemd to boot" booted
    echo "   $(inside systemctl is-system-running || true), systemd $(inside systemctl --version | awk 'NR==1{print $2}')"
}

step_install() {
    cp "$deb" "$work/root/root/changeq.deb"
    inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/changeq.deb >"$work/apt.log" 2>&1 \
        || { cat "$work/apt.log"; fail "apt-get install"; }
    expect "750 changeq:changeq" "$(inside stat -c '%a %U:%G' /var/lib/changeq/state/flags)" "the flags directory"
    inside test -f /lib/systemd/system/changeq-tracker.service || fail "no tracker unit"
}

step_configure() {
    inside sh -euc '
        # The backup disk: a file system of its own at /mnt/backup.
        mkdir -p /mnt/backup
        mount -t tmpfs -o size=64m backup-disk /mnt/backup
        mkdir -p /srv/nfs/docs /srv/nfs/immich /srv/nfs/anca-elements /srv/nfs/postgres/base /srv/nfs/shared \
            /mnt/backup/daily /srv/nas/pve-backup /srv/nas/nfs
        echo "a document" > /srv/nfs/docs/a.txt
        echo "a photo" > /srv/nfs/immich/x.jpg
        echo "a replica from the NAS" > /srv/nfs/anca-elements/big
        echo 15 > /srv/nfs/postgres/PG_VERSION
        echo "a table" > /srv/nfs/postgres/base/1
        chown -R 999:999 /srv/nfs/postgres
        chmod 0700 /srv/nfs/postgres /srv/nfs/postgres/base
        chmod 0600 /srv/nfs/postgres/PG_VERSION /srv/nfs/postgres/base/1
        echo "shared" > /srv/nfs/shared/notes
        chown -R 1001:4242 /srv/nfs/shared
        chmod 2775 /srv/nfs/shared
        chmod 0640 /srv/nfs/shared/notes
        echo "a dump" > /mnt/backup/daily/db.sql
        find /srv/nfs -exec touch -h -d "2020-01-02 03:04:05" {} +
    '
    inside tee /root/rsyncd.conf >/dev/null <<EOF
address = 127.0.0.1
port = $nas_port
use chroot = no
[Backup]
path = /srv/nas
read only = no
uid = root
gid = root
EOF
    inside systemd-run -q --unit=nas rsync --daemon --no-detach --config /root/rsyncd.conf
    await 10 "the rsync daemon" inside rsync "rsync://127.0.0.1:$nas_port/"
    inside tee "$config" >/dev/null <<EOF
queue: /var/lib/changeq/queue
state: /var/lib/changeq/state
roots:
  nfs:    {path: /srv/nfs, exclude: [/anca-elements/]}
  backup: {path: /mnt/backup}
lists:
  bypass: [/immich/, /temp/]
routes:
  mirror:         {root: nfs, exclude-list: bypass, dest: /mnt/backup/, delete-on-full: false}
  offsite-backup: {root: backup, dest: "$nas/pve-backup/", rsync-args: [-rlt, "--chmod=D0775,F0664"], delete-on-full: true}
  offsite-nfs:    {root: nfs, include-list: bypass, dest: "$nas/nfs/", rsync-args: [-rlt, "--chmod=D0775,F0664"]}
EOF
    inside mkdir -p /etc/systemd/system/changeq-sync@mirror.service.d
    inside cp /usr/share/doc/changeq/examples/local-destination.conf /etc/systemd/system/changeq-sync@mirror.service.d/
    inside systemctl daemon-reload
    inside changeq-sync check --config "$config" >"$work/check.log" 2>&1 || { cat "$work/check.log"; fail "changeq-sync check"; }
}

step_tracker_ready() {
    # Type=notify: start returns once the tracker sent READY=1, i.e. every root is watched.
    inside systemctl enable -q --now changeq-tracker.service || fail "the tracker did not start"
    expect active "$(unit_property changeq-tracker.service ActiveState)" "tracker ActiveState"
    expect running "$(unit_property changeq-tracker.service SubState)" "tracker SubState"
    echo "   StatusText: $(unit_property changeq-tracker.service StatusText)"
}

# Root runs every command of README's "Syncing a route" and "Inspecting the queue" before the
# service's own runs: the launchers run them as the changeq user, so nothing root-owned is left.
step_root_runs_readme_commands() {
    local cmd
    while IFS= read -r cmd; do
        echo "   # $cmd"
        inside sh -c "cd /srv/nfs && $cmd" >"$work/manual.log" 2>&1 || { cat "$work/manual.log"; fail "as root: $cmd"; }
    done <<EOF
changeq-sync --config $config --route offsite-nfs --dry-run
changeq-sync --config $config --route mirror --full
changeq-sync check --config $config
changeq-queue stat --config $config
timeout -s INT 3 changeq-queue tail -f --config $config; [ \$? -eq 124 ]
changeq-queue dump --config $config --type OVERFLOW --from 2026-11-26T00:00
changeq-queue dump --config $config --route offsite-nfs --pending
changeq-queue paths --config $config --route mirror -0 | xargs -0 ls -ld --
changeq-queue top --config $config --depth 2
EOF
    local foreign
    foreign=$(inside find /var/lib/changeq ! -user changeq)
    [ -z "$foreign" ] || fail "root's runs left files the service cannot write: $foreign"
}

# The service account, taken over, plants links in its state directory at root's files (a file, a
# directory, a temporary file, the shadow file) and root then runs README's commands by hand: no file
# outside the state directory changes, and each command succeeds or stops with exit 5 naming a link.
step_planted_links_do_not_reach_root() {
    local state=/var/lib/changeq/state cmd rc before after
    local links="metrics/.changeq_sync_mirror.prom.tmp metrics/changeq_sync_offsite-nfs.prom lists cursors/offsite-backup.cursor"
    local victims='sha256sum /root/victims/authorized_keys /root/victims/dir/* /etc/shadow /etc/passwd; ls -la /root/victims/dir'
    inside sh -ec 'mkdir -p /root/victims/dir; echo "root key" >/root/victims/authorized_keys
        echo "root list" >/root/victims/dir/mirror.files; chmod -R go-rwx /root/victims'
    before=$(inside sh -c "$victims")
    inside setpriv --reuid=changeq --regid=changeq --clear-groups sh -ec '
        cd "$1"
        plant() { if [ -e "$1" ]; then mv "$1" "$1.aside"; fi; mkdir -p "$(dirname "$1")"; ln -s "$2" "$1"; }
        plant metrics/.changeq_sync_mirror.prom.tmp /root/victims/authorized_keys
        plant metrics/changeq_sync_offsite-nfs.prom /root/victims/authorized_keys
        plant lists /root/victims/dir
        plant cursors/offsite-backup.cursor /etc/shadow' plant "$state" || fail "the changeq user could not plant its links"
    while IFS= read -r cmd; do
        rc=0
        inside sh -c "cd /srv/nfs && $cmd" >"$work/manual.log" 2>&1 || rc=$?
        echo "   # $cmd: exit $rc"
        case $rc in
            0) ;;
            5) grep -q 'is a symbolic link; changeq does not follow links' "$work/manual.log" \
                || { cat "$work/manual.log"; fail "as root: $cmd exited 5 without naming a link"; } ;;
            *) cat "$work/manual.log"; fail "as root: $cmd exited $rc" ;;
        esac
        ! grep -q -e $'\tat ' -e 'root key' -e 'root list' -e '^root:' "$work/manual.log" \
            || { cat "$work/manual.log"; fail "as root: $cmd printed a stack trace or root's files"; }
    done <<EOF
changeq-sync --config $config --route mirror
changeq-sync --config $config --route offsite-nfs
changeq-sync --config $config --route offsite-nfs --dry-run
changeq-sync --config $config --route offsite-backup
changeq-sync check --config $config
changeq-queue stat --config $config
changeq-queue paths --config $config --route mirror -0
EOF
    after=$(inside sh -c "$victims")
    [ "$before" = "$after" ] || fail "root's files changed: before $before; after $after"
    # shellcheck disable=SC2086
    inside setpriv --reuid=changeq --regid=changeq --clear-groups sh -ec '
        cd "$1"
        shift
        for link in "$@"; do
            rm -f "$link"
            if [ -e "$link.aside" ]; then mv "$link.aside" "$link"; fi
        done' remove "$state" $links || fail "the changeq user could not remove its links"
}

step_first_runs() {
    run_route offsite-nfs
    run_route offsite-backup
    run_route mirror
    inside test -f /srv/nas/nfs/immich/x.jpg || fail "offsite-nfs did not send immich"
    inside test ! -e /srv/nas/nfs/docs || fail "offsite-nfs sent what mirror sends"
    inside test -f /srv/nas/pve-backup/daily/db.sql || fail "offsite-backup did not send daily/"
    inside test -f /mnt/backup/docs/a.txt || fail "mirror did not send docs/"
    inside test ! -e /mnt/backup/immich || fail "mirror sent the bypass list"
    inside test ! -e /mnt/backup/anca-elements || fail "an excluded path reached the mirror"
}

step_mirror_keeps_owners_and_modes() {
    local source mirrored path
    for path in postgres shared; do
        source=$(attributes "/srv/nfs/$path")
        mirrored=$(attributes "/mnt/backup/$path")
        expect "$source" "$mirrored" "owners, groups, modes and mtimes below $path"
        expect "$(inside stat -c '%u %g %a %Y' "/srv/nfs/$path")" "$(inside stat -c '%u %g %a %Y' "/mnt/backup/$path")" "$path itself"
    done
    expect "999 999 700" "$(inside stat -c '%u %g %a' /mnt/backup/postgres)" "the PostgreSQL directory"
    expect "2775" "$(inside stat -c '%a' /mnt/backup/shared)" "the setgid directory"
}

step_later_runs_are_incremental() {
    inside sh -euc '
        echo "changed" >> /srv/nfs/docs/a.txt
        echo "new" > /srv/nfs/docs/b.txt
        echo "another photo" > /srv/nfs/immich/y.jpg
        echo "checkpoint" > /srv/nfs/postgres/base/2 && chown 999:999 /srv/nfs/postgres/base/2 && chmod 0600 /srv/nfs/postgres/base/2
        mkdir -m 0700 /srv/nfs/postgres/pg_wal && echo "a segment" > /srv/nfs/postgres/pg_wal/1 && chown -R 999:999 /srv/nfs/postgres/pg_wal
        echo "another dump" > /mnt/backup/daily/db2.sql
    '
    await 10 "the tracker to record the changes" recorded b.txt y.jpg db2.sql base/2 pg_wal
    run_route mirror incremental
    run_route offsite-nfs incremental
    run_route offsite-backup incremental
    expect "$(inside cat /srv/nfs/docs/a.txt)" "$(inside cat /mnt/backup/docs/a.txt)" "the mirrored change"
    inside test -f /srv/nas/nfs/immich/y.jpg || fail "offsite-nfs did not deliver y.jpg"
    inside test -f /srv/nas/pve-backup/daily/db2.sql || fail "offsite-backup did not deliver db2.sql"
    inside test -f /srv/nas/pve-backup/docs/b.txt || fail "offsite-backup did not deliver the mirror's new file"
    expect "999 600" "$(inside stat -c '%u %a' /mnt/backup/postgres/base/2)" "a new PostgreSQL file, incrementally"
    expect "999 700" "$(inside stat -c '%u %a' /mnt/backup/postgres/pg_wal)" "a new PostgreSQL directory, incrementally"
    step_mirror_keeps_owners_and_modes
}

# A byte flipped at the NAS with size and time kept (rsync's quick check sees nothing): the verify
# unit finds it (exit 16), the route's next run repairs it, the next verify is clean.
step_verify_finds_and_the_next_run_repairs() {
    local unit=changeq-verify@offsite-nfs.service
    inside sh -euc '
        f=/srv/nas/nfs/immich/x.jpg
        touch -r "$f" /root/x.stamp
        printf "A photo\n" > "$f"
        touch -r /root/x.stamp "$f"
    '
    ! inside systemctl start "$unit" || fail "$unit passed although the NAS holds a corrupted file"
    expect 16 "$(unit_property "$unit" ExecMainStatus)" "$unit ExecMainStatus"
    await 10 "$unit to name the corrupted file in the journal" journal_has_line "$unit" "content immich/x.jpg"
    run_route offsite-nfs incremental
    expect "$(inside cat /srv/nfs/immich/x.jpg)" "$(inside cat /srv/nas/nfs/immich/x.jpg)" "the repaired file"
    inside systemctl start "$unit" || fail "$unit failed after the repair"
    expect 0 "$(unit_property "$unit" ExecMainStatus)" "$unit ExecMainStatus after the repair"
    inside grep -q 'changeq_verify_mismatches{route="offsite-nfs",kind="content"} 0' \
        /var/lib/changeq/state/metrics/changeq_verify_offsite-nfs.prom || fail "the verify metrics"
}

# A route to object storage (rclone to an S3 server, as a Garage or MinIO at a friend's house would
# be) runs from its timer's service, with the unit's hardening and the changeq user's rclone config:
# check previews it, the first run is full, a change goes in an incremental run.
step_s3_route_runs_from_its_timer() {
    cp "$s3proxy_jar" "$work/root/root/s3proxy.jar"
    inside mkdir -p /srv/s3/backup
    inside tee /root/s3proxy.conf >/dev/null <<EOF
s3proxy.endpoint=http://127.0.0.1:$s3_port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=host1
s3proxy.credential=host1-secret
jclouds.provider=filesystem
jclouds.filesystem.basedir=/srv/s3
EOF
    inside systemd-run -q --unit=s3 java -jar /root/s3proxy.jar --properties /root/s3proxy.conf
    await 60 "the S3 server" inside bash -c "exec 3<>/dev/tcp/127.0.0.1/$s3_port"
    inside install -m 600 -o changeq -g changeq /dev/null /etc/changeq/rclone.conf
    inside tee /etc/changeq/rclone.conf >/dev/null <<EOF
[nas-s3]
type = s3
provider = Other
access_key_id = host1
secret_access_key = host1-secret
endpoint = http://127.0.0.1:$s3_port
force_path_style = true
EOF
    echo '  offsite-s3:     {root: nfs, dest: "rclone://nas-s3/backup/host1/", rclone-config: /etc/changeq/rclone.conf}' \
        | inside tee -a "$config" >/dev/null
    inside changeq-sync check --config "$config" >"$work/check-s3.log" 2>&1 \
        || { cat "$work/check-s3.log"; fail "changeq-sync check of the S3 route"; }
    run_route offsite-s3 full
    expect "$(inside cat /srv/nfs/docs/a.txt)" "$(inside cat /srv/s3/backup/host1/docs/a.txt)" "a document in the bucket"
    expect "$(inside cat /srv/nfs/postgres/base/1)" "$(inside cat /srv/s3/backup/host1/postgres/base/1)" \
        "a file only its owner may read, in the bucket"
    ! inside grep -q host1-secret "$config" || fail "the secret reached changeq.yaml"
    ! inside journalctl --no-pager -o cat -u changeq-sync@offsite-s3.service | grep -q host1-secret \
        || fail "the secret reached the journal"
    inside sh -c 'echo "to the bucket" > /srv/nfs/docs/s3.txt'
    await 10 "the tracker to record s3.txt" recorded s3.txt
    run_route offsite-s3 incremental
    expect "to the bucket" "$(inside cat /srv/s3/backup/host1/docs/s3.txt)" "the change in the bucket"
}

# Flags asking for a full sync are honoured once per appearance and never removed: the legacy one
# lies in a root, which the unit makes read-only; changeq's own one may be made by root.
step_flags_honoured_once() {
    inside touch /mnt/backup/.force-full-sync
    run_route offsite-backup full
    summaries offsite-backup | tail -n 1 | grep -q ' reason=flag-file ' || fail "offsite-backup did not honour .force-full-sync"
    run_route offsite-backup incremental
    inside test -f /mnt/backup/.force-full-sync || fail "the legacy flag was removed from the root"
    inside touch /var/lib/changeq/state/flags/mirror.force-full
    run_route mirror full
    summaries mirror | tail -n 1 | grep -q ' reason=forced ' || fail "mirror did not honour its force flag"
    run_route mirror incremental
}

# refused_route ROUTE CODE: the route's service run fails with exit code CODE.
refused_route() {
    local unit=changeq-sync@$1.service
    ! inside systemctl start "$unit" || fail "$unit ran although it must refuse"
    expect exit-code "$(unit_property "$unit" Result)" "$unit Result"
    expect "$2" "$(unit_property "$unit" ExecMainStatus)" "$unit ExecMainStatus"
    echo "   $unit refused: $(inside journalctl --no-pager -o cat -n 30 -u "$unit" | grep -m1 -o 'is not the directory.*\|is missing.*' | cut -c1-160)"
}
nas_copy() { inside find /srv/nas/pve-backup -printf '%P %s\n' | sort; }
root_not_watched() { inside changeq-queue stat --config "$config" | grep -q 'root backup  NOT WATCHED'; }
root_watched() { inside changeq-queue stat --config "$config" | grep -q 'root backup  watched'; }

# The disk under a root and a local destination goes away: the NAS copy must survive, and nothing
# may land on the mount point. Another file system there is refused too. The disk back (here: the
# same tmpfs source, restored from the NAS) is watched again without a restart and syncs.
step_unmounted_disk_is_refused() {
    local before
    before=$(nas_copy)
    inside umount /mnt/backup
    await 20 "the tracker to report root backup as not watched" root_not_watched
    echo "   StatusText: $(unit_property changeq-tracker.service StatusText)"
    unit_property changeq-tracker.service StatusText | grep -q 'NOT WATCHED' || fail "STATUS= does not name the lost root"
    refused_route offsite-backup 4
    refused_route mirror 13
    inside mount -t tmpfs -o size=16m another-disk /mnt/backup
    refused_route offsite-backup 4
    refused_route mirror 13
    inside umount /mnt/backup
    expect "$before" "$(nas_copy)" "the NAS copy after the refused runs"
    expect "" "$(inside ls -A /mnt/backup)" "what was written onto the bare mount point"
    inside sh -euc 'mount -t tmpfs -o size=64m backup-disk /mnt/backup && cp -a /srv/nas/pve-backup/. /mnt/backup/'
    await 20 "the tracker to watch root backup again" root_watched
    run_route offsite-backup full
    run_route mirror
    expect "$before" "$(nas_copy)" "the NAS copy after the disk came back"
}

step_timers_listed() {
    inside systemctl enable -q --now changeq-sync@mirror.timer changeq-sync@offsite-backup.timer changeq-sync@offsite-nfs.timer
    local timers route
    timers=$(inside systemctl list-timers --all --no-pager 'changeq-sync@*')
    for route in mirror offsite-backup offsite-nfs; do
        grep -q "changeq-sync@$route.timer" <<<"$timers" || fail "changeq-sync@$route.timer not listed in: $timers"
    done
}

# A route switched from its timer to its follower: active once READY=1 says it follows, a change at
# the NAS within seconds, a timer run of the route refused with 7 while it follows, the verify unit
# answered by the follower (16 for a flipped byte, repaired, then 0), exit 0 on stop.
follow_summaries() { inside journalctl --no-pager -o cat -u "changeq-sync-follow@$1.service" | grep "^route=$1 " || true; }
step_follower_replaces_the_timer() {
    local unit=changeq-sync-follow@offsite-nfs.service t0
    inside systemctl disable -q --now changeq-sync@offsite-nfs.timer
    inside systemctl enable -q --now "$unit" || fail "systemctl enable --now $unit"
    expect active "$(unit_property "$unit" ActiveState)" "$unit after start"
    unit_property "$unit" StatusText | grep -q 'route offsite-nfs' || fail "STATUS= of $unit: $(unit_property "$unit" StatusText)"
    t0=$SECONDS
    inside sh -c 'echo "followed" > /srv/nfs/immich/followed.jpg'
    await 30 "the follower to deliver followed.jpg" inside test -f /srv/nas/nfs/immich/followed.jpg
    echo "   at the NAS after about $((SECONDS - t0)) s: $(follow_summaries offsite-nfs | tail -n 1)"
    ! inside systemctl start changeq-sync@offsite-nfs.service || fail "a timer run passed while the route is followed"
    expect 7 "$(unit_property changeq-sync@offsite-nfs.service ExecMainStatus)" "a timer run's exit code while followed"
    inside systemctl reset-failed changeq-sync@offsite-nfs.service
    # The verify unit while the follower holds the lock: the follower verifies on request, repairs at once.
    # Verify excuses a file changed since the route's last run began, and followed.jpg may have been written
    # as its run began: one more run begins after it first. That run is the one delivering followed-later.jpg,
    # which the tracker records only once written; a summary line counted here could still be the run that
    # delivered followed.jpg, whose file arrives before its summary.
    inside sh -c 'echo "later" > /srv/nfs/immich/followed-later.jpg'
    await 30 "a follower run after followed.jpg" inside test -f /srv/nas/nfs/immich/followed-later.jpg
    inside sh -euc '
        f=/srv/nas/nfs/immich/followed.jpg
        touch -r "$f" /root/followed.stamp
        printf "fo11owed\n" > "$f"
        touch -r /root/followed.stamp "$f"
    '
    ! inside systemctl start changeq-verify@offsite-nfs.service || fail "verify passed although the NAS holds a corrupted file"
    expect 16 "$(unit_property changeq-verify@offsite-nfs.service ExecMainStatus)" "the verify unit's exit code while followed"
    await 10 "the follower's verify to name the corrupted file in the journal" \
        journal_has_line changeq-verify@offsite-nfs.service "content immich/followed.jpg"
    await 30 "the follower to repair followed.jpg" inside cmp -s /srv/nfs/immich/followed.jpg /srv/nas/nfs/immich/followed.jpg
    inside systemctl start changeq-verify@offsite-nfs.service || fail "verify failed after the follower's repair"
    expect 0 "$(unit_property changeq-verify@offsite-nfs.service ExecMainStatus)" "the verify unit after the repair"
    inside systemctl stop "$unit"
    expect 0 "$(unit_property "$unit" ExecMainStatus)" "the follower's exit status after stop"
    expect success "$(unit_property "$unit" Result)" "the follower's Result after stop"
    inside systemctl disable -q "$unit"
    inside systemctl enable -q --now changeq-sync@offsite-nfs.timer
}

# A mass change under a running follower: the photos it followed rewritten with random bytes (as
# ransomware does) are held by max-change (exit 15, STATUS= says so, the NAS keeps the photos), and
# changeq-sync allow, run by hand with the service running, lets the next run through without a restart.
mass_change_refused() { follow_summaries offsite-nfs | grep -q ' exit=15 '; }
photos_at_nas_are() { inside sh -c "for i in 1 2 3 4; do cmp -s /srv/nfs/immich/p\$i.jpg /srv/nas/nfs/immich/p\$i.jpg || exit 1; done"; }
step_follower_holds_a_mass_change() {
    local unit=changeq-sync-follow@offsite-nfs.service
    inside sed -i 's|^  offsite-nfs: *{root: nfs, |  offsite-nfs:    {root: nfs, max-change: 2, |' "$config"
    inside grep -q 'max-change: 2' "$config" || fail "max-change not set on offsite-nfs"
    inside systemctl disable -q --now changeq-sync@offsite-nfs.timer
    inside systemctl enable -q --now "$unit" || fail "systemctl enable --now $unit"
    inside sh -c 'for i in 1 2 3 4; do echo "photo $i" > /srv/nfs/immich/p$i.jpg; done'
    await 30 "the new photos at the NAS (new files are no change)" photos_at_nas_are
    inside sh -c 'for i in 1 2 3 4; do head -c 64 /dev/urandom > /srv/nfs/immich/p$i.jpg; done'
    await 30 "the follower to refuse the rewrite" mass_change_refused
    unit_property "$unit" StatusText | grep -q 'mass change refused' || fail "STATUS= of $unit: $(unit_property "$unit" StatusText)"
    inside grep -q "photo 1" /srv/nas/nfs/immich/p1.jpg || fail "the refused rewrite reached the NAS"
    expect active "$(unit_property "$unit" ActiveState)" "$unit while refused"
    inside changeq-sync allow --config "$config" --route offsite-nfs --changes 4 >"$work/allow.log" 2>&1 \
        || { cat "$work/allow.log"; fail "changeq-sync allow"; }
    await 30 "the consented rewrite at the NAS" photos_at_nas_are
    # The files arrive while rsync runs; the run uses the consent up once it has committed.
    await 30 "the consent to be used up" inside sh -c '! ls /var/lib/changeq/state/changes/offsite-nfs.consent'
    inside systemctl stop "$unit"
    expect 0 "$(unit_property "$unit" ExecMainStatus)" "the follower's exit status after stop"
    inside systemctl disable -q "$unit"
    inside sed -i 's|max-change: 2, ||' "$config"
    inside systemctl enable -q --now changeq-sync@offsite-nfs.timer
}

# A root and its route added to the config under the running tracker: the route's runs are full and
# exit 14 until systemctl reload makes the tracker watch the root; then what is written in it is
# sent, by a full run (the reload's OVERFLOW) and then incrementally.
root_photos_watched() { inside changeq-queue stat --config "$config" | grep -q 'root photos  watched'; }
step_root_added_needs_a_reload() {
    local unit=changeq-sync@photos.service runs
    inside sh -euc 'mkdir -p /srv/photos /srv/nas/photos && echo "a photo" > /srv/photos/p1.jpg'
    inside sed -i 's|^  backup: {path: /mnt/backup}$|&\n  photos: {path: /srv/photos}|' "$config"
    echo "  photos:         {root: photos, dest: \"$nas/photos/\", rsync-args: [-rlt]}" | inside tee -a "$config" >/dev/null
    runs=$(summaries photos | wc -l)
    ! inside systemctl start "$unit" || fail "$unit passed although the tracker does not watch its root"
    expect 14 "$(unit_property "$unit" ExecMainStatus)" "$unit ExecMainStatus before the reload"
    await 10 "the summary line of $unit" summaries_exceed photos "$runs"
    echo "   $(summaries photos | tail -n 1)"
    case "$(summaries photos | tail -n 1)" in *" mode=full reason=root-not-tracked "*) ;;
        *) fail "$unit before the reload: $(summaries photos | tail -n 1)" ;; esac
    inside systemctl reset-failed "$unit"
    inside systemctl reload changeq-tracker.service || fail "systemctl reload changeq-tracker"
    await 30 "the tracker to watch root photos" root_photos_watched
    expect active "$(unit_property changeq-tracker.service ActiveState)" "tracker ActiveState after the reload"
    inside sh -euc 'echo "another photo" > /srv/photos/p2.jpg'
    await 10 "the tracker to record p2.jpg" recorded p2.jpg
    run_route photos full
    inside test -f /srv/nas/photos/p2.jpg || fail "photos did not deliver p2.jpg"
    inside sh -euc 'echo "a third photo" > /srv/photos/p3.jpg'
    await 10 "the tracker to record p3.jpg" recorded p3.jpg
    run_route photos incremental
    inside test -f /srv/nas/photos/p3.jpg || fail "photos did not deliver p3.jpg incrementally"
}

step_kill_9_restarts_and_catches_up() {
    local before after restarts
    before=$(unit_property changeq-tracker.service MainPID)
    restarts=$(unit_property changeq-tracker.service NRestarts)
    inside kill -9 "$before"
    # RestartSec=5s: the file is made while no tracker runs.
    inside sh -c 'echo "made while the tracker was down" > /srv/nfs/docs/while-down.txt'
    await 30 "systemd to restart the tracker" tracker_restarted "$restarts"
    after=$(unit_property changeq-tracker.service MainPID)
    echo "   tracker $before killed, restarted as $after (NRestarts=$(unit_property changeq-tracker.service NRestarts))"
    await 20 "the catch-up scan to finish" recorded_since_start ' RESCAN '
    # The new file's directory changed too, so the scan may send it whole instead of the file alone.
    recorded_since_start ' (SUBTREE +nfs +docs/|CHANGE +nfs +docs/while-down\.txt)$' \
        || fail "the catch-up scan recorded neither docs/ nor docs/while-down.txt: $(inside changeq-queue tail -n 20 --config "$config")"
    run_route mirror incremental
    expect "made while the tracker was down" "$(inside cat /mnt/backup/docs/while-down.txt)" "the file made while down"
}

# A second tracker on the service's queue is refused, whatever state directory it names: quick mode
# once defaulted its state next to the queue and became a second writer.
step_second_tracker_refused() {
    local status=0
    inside changeq-tracker --root /srv/nfs --queue /var/lib/changeq/queue >"$work/second.log" 2>&1 || status=$?
    expect 7 "$status" "a second tracker's exit code"
    grep -q 'one writer per queue' "$work/second.log" || fail "the refusal does not say why: $(cat "$work/second.log")"
    expect active "$(unit_property changeq-tracker.service ActiveState)" "the service's tracker after the refusal"
}

# A tracker stopped for good is reported by every run instead of a quiet success.
step_stopped_tracker_is_reported() {
    inside systemctl stop changeq-tracker.service
    ! inside systemctl start changeq-sync@mirror.service || fail "a run without a tracker passed as a success"
    expect 14 "$(unit_property changeq-sync@mirror.service ExecMainStatus)" "the run's exit code without a tracker"
    summaries mirror | tail -n 1 | grep -q ' tracker=stopped$' || fail "the summary does not say the tracker stopped"
    inside grep -q '^changeq_tracker_running{route="mirror"} 0$' /var/lib/changeq/state/metrics/changeq_sync_mirror.prom \
        || fail "changeq_tracker_running is not 0"
    inside systemctl start changeq-tracker.service
    run_route mirror
    inside grep -q '^changeq_tracker_running{route="mirror"} 1$' /var/lib/changeq/state/metrics/changeq_sync_mirror.prom \
        || fail "changeq_tracker_running is not back at 1"
}

step_stop_records_stop() {
    inside systemctl stop changeq-tracker.service
    expect 0 "$(unit_property changeq-tracker.service ExecMainStatus)" "the tracker's exit status"
    expect success "$(unit_property changeq-tracker.service Result)" "the tracker's Result"
    inside changeq-queue tail -n 1 --config "$config" | grep -q STOP || fail "the last record is not STOP: $(inside changeq-queue tail -n 1 --config "$config")"
}

step_purge() {
    inside env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq changeq >"$work/apt.log" 2>&1 \
        || { cat "$work/apt.log"; fail "apt-get purge"; }
    local left
    left=$(inside sh -c 'ls -d /lib/systemd/system/changeq* /etc/systemd/system/*.wants/changeq* /var/lib/changeq /etc/changeq /etc/default/changeq 2>/dev/null' || true)
    [ -z "$left" ] || fail "purge left: $left"
    ! inside getent passwd changeq >/dev/null || fail "purge left the changeq user"
    inside test -f /mnt/backup/docs/a.txt || fail "purge touched the backup"
}

step() {
    local t0=$SECONDS
    echo "== $1"
    "step_${1//-/_}"
    echo "== $1 ok ($((SECONDS - t0)) s)"
}
for name in boot install configure tracker-ready root-runs-readme-commands first-runs mirror-keeps-owners-and-modes \
        planted-links-do-not-reach-root later-runs-are-incremental verify-finds-and-the-next-run-repairs s3-route-runs-from-its-timer flags-honoured-once unmounted-disk-is-refused timers-listed follower-replaces-the-timer follower-holds-a-mass-change \
        root-added-needs-a-reload kill-9-restarts-and-catches-up second-tracker-refused stopped-tracker-is-reported stop-records-stop purge; do
    step "$name"
done
echo "installed system: every step passed in $((SECONDS - started)) s"
