#!/bin/bash
# The cost of changeq-sync verify on a tree of FILES files (default 200,000 in 1,000 directories, 0.5-16 KiB each,
# about 1 GB): the first verify after the route's first full sync (one slice and every file that sync listed), then
# a later day's slice at the default verify-cycle of 30 days with one corruption planted in it (a byte flipped at the
# destination, size and time put back), which it must find (exit 16), and the run that repairs it. A day passes by
# moving the cycle's start back a day in <state>/verify/ROUTE. The destination is a local directory.
# Usage (as root): bench/verify.sh [FILES] [WORK]; needs the distribution (mvn -B -q -DskipTests package), or
# CHANGEQ_BIN pointing at a directory with changeq-tracker and changeq-sync. WORK defaults to a directory in /var/tmp,
# removed at the end.
set -euo pipefail
files=${1:-200000}
work=${2:-$(mktemp -d /var/tmp/changeq-verify-bench.XXXXXX)}
bin=${CHANGEQ_BIN:-$(cd "$(dirname "$0")/.." && pwd)/systemd/target/changeq/bin}
tracker_pid=
cleanup() {
    [ -z "$tracker_pid" ] || { kill "$tracker_pid" 2>/dev/null || true; wait "$tracker_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/src" "$work/dest" "$work/lib"
python3 - "$work/src" "$files" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
random.seed(7)
per_dir = 200
for i in range(count):
    d = os.path.join(root, "d%03d" % (i // per_dir // 100), "s%04d" % (i // per_dir))
    if i % per_dir == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%03d.dat" % (i % per_dir)), "wb") as out:
        out.write(os.urandom(random.choice((512, 1024, 2048, 4096, 16384))))
PY
cat > "$work/changeq.yaml" <<YAML
queue: $work/lib/queue
state: $work/lib/state
roots:
  src: {path: $work/src}
routes:
  bench: {root: src, dest: $work/dest/}
YAML
"$bin/changeq-tracker" --config "$work/changeq.yaml" 2>"$work/tracker.log" &
tracker_pid=$!
for _ in $(seq 600); do [ -d "$work/lib/queue" ] && grep -q "watching" "$work/tracker.log" && break; sleep 0.1; done
timed() { # timed NAME COMMAND...: the command's stdout summary line and its wall time
    local name=$1 t0 t1 status=0
    shift
    t0=$(date +%s.%N)
    "$@" >"$work/out" 2>"$work/err" || status=$?
    t1=$(date +%s.%N)
    printf '%s: %.1f s, exit %d: %s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$status" "$(tail -n 1 "$work/out")"
}
sync_route() { "$bin/changeq-sync" --config "$work/changeq.yaml" --route bench; }
verify_route() { "$bin/changeq-sync" verify --config "$work/changeq.yaml" --route bench; }
echo "files=$files rsync=$(rsync --version | head -n 1 | awk '{print $3}') cpus=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
timed "first full sync" sync_route
timed "first verify (slice 0 and the files the full sync listed)" verify_route
# The next day: the cycle began a day earlier. A file of slice 1, as VerifySlices hashes its path (FNV-1a, 64 bits).
state="$work/lib/state/verify/bench"
python3 - "$state" <<'PY'
import sys
path = sys.argv[1]
lines = open(path, "rb").read().split(b"\n")
lines = [b"cycle-start %d" % (int(l.split()[1]) - 86400000) if l.startswith(b"cycle-start ") else l for l in lines]
open(path, "wb").write(b"\n".join(lines))
PY
planted=$(python3 - "$work/src" <<'PY'
import os, sys
def slice_of(path, slices=30):
    h = 0xcbf29ce484222325
    for b in path:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return (h - (1 << 64) if h >= 1 << 63 else h) % slices
root = sys.argv[1]
for directory, _, names in os.walk(root):
    for name in sorted(names):
        relative = os.path.relpath(os.path.join(directory, name), root)
        if slice_of(relative.encode()) == 1:
            print(relative)
            sys.exit(0)
PY
)
touch -r "$work/dest/$planted" "$work/stamp"
printf '\xff' | dd of="$work/dest/$planted" bs=1 seek=100 conv=notrunc status=none
touch -r "$work/stamp" "$work/dest/$planted"
timed "next day's slice, corruption planted in $planted" verify_route
grep -qx "content $planted" "$work/out" || { echo "verify did not find $planted" >&2; exit 1; }
timed "the run that repairs it" sync_route
cmp -s "$work/src/$planted" "$work/dest/$planted" || { echo "the run did not repair $planted" >&2; exit 1; }
