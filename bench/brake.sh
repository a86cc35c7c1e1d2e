#!/bin/bash
# The cost of max-change's count on a run that changes 10,000 files: the dry run of the incremental pass with
# rsync's itemized lines (what ChangeBrake counts), against the real pass it precedes, to a local directory and to
# an rsync daemon on loopback. The pre-check itself is arithmetic on counts the planner already has: when it lets a
# run through, this dry run is skipped. Runs under /dev/shm; about a minute. Usage: bench/brake.sh [FILES] [ROUNDS]
set -euo pipefail
files=${1:-10000}
rounds=${2:-5}
work=$(mktemp -d /dev/shm/changeq-brake-bench.XXXXXX)
daemon_pid=
cleanup() {
    [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/src" "$work/local" "$work/module"
for ((i = 0; i < files; i++)); do
    d=$((i % 100))
    mkdir -p "$work/src/d$d"
    printf 'file %d\n' "$i" > "$work/src/d$d/f$i"
done
# The list as changeq writes it: NUL-separated, each entry prefixed ./
(cd "$work/src" && find . -type f -print0) > "$work/list"
port=$((20000 + RANDOM % 20000))
cat > "$work/rsyncd.conf" <<CONF
address = 127.0.0.1
port = $port
use chroot = no
pid file = $work/rsyncd.pid
[m]
path = $work/module
read only = no
uid = root
gid = root
CONF
rsync --daemon --no-detach --config "$work/rsyncd.conf" &
daemon_pid=$!
for _ in $(seq 50); do rsync "rsync://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
args=(-rlt --modify-window=-1 --itemize-changes --stats --from0 "--files-from=$work/list" --ignore-missing-args)
for dest in "$work/local/" "rsync://127.0.0.1:$port/m/"; do
    rsync "${args[@]}" -- "$work/src/" "$dest" >/dev/null
done
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
echo "files=$files rounds=$rounds rsync=$(rsync --version | head -n 1 | awk '{print $3}') cpus=$(nproc)"
for dest in "$work/local/" "rsync://127.0.0.1:$port/m/"; do
    name=$([ "${dest#rsync://}" = "$dest" ] && echo local || echo daemon)
    for ((r = 1; r <= rounds; r++)); do
        # Every file rewritten in place with other bytes of another size: what ransomware does.
        find "$work/src" -type f -exec sh -c 'for f; do printf "encrypted %s %s\n" "$RANDOM" "$f" > "$f"; done' sh {} +
        dry=$(seconds rsync "${args[@]}" --dry-run "--out-format=%i %n" -- "$work/src/" "$dest")
        counted=$(rsync "${args[@]}" --dry-run "--out-format=%i %n" -- "$work/src/" "$dest" | grep -c '^[<>]f[^+]' || true)
        real=$(seconds rsync "${args[@]}" -- "$work/src/" "$dest")
        echo "$name round=$r dry-run=${dry}s counted=$counted real-pass=${real}s"
    done
done
