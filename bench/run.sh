#!/usr/bin/env bash
# Benchmarks changeq-tracker against inotifywait, the sync planner against sort -u, changeq end to end
# (tracker + follower) against lsyncd, and incremental runs against rsync's full walk by tree size.
#
# Usage: bench/run.sh [--quick] [options]      (as root, from anywhere; a full run takes ~75 minutes, ~35-40
#                                               of them converge's, ~20 treesize's; converge --quick ~26)
#   --quick               1 run of everything instead of 5 (3 for watch setup and changeq end to end; lsyncd
#                         end to end runs once anyway) and fewer single-file writes; prints the tables and
#                         leaves BENCHMARKS.md alone
#   --only LIST           any of workloads,watch,plan,converge,treesize (default all five),
#                         footprint, footprint-nmt, soak
#   --workloads 1,2,...   a subset of W1-W6, for workloads and converge
#   --runs N              runs per figure, for workloads and converge
#   --tools changeq,changeq-c2,inotifywait   a subset, for workloads
#   --c2-workloads 1,2,5  where changeq-c2 (the tracker with C2, see below) runs too
#   --watch-runs N
#   --converge-tools changeq,lsyncd,lsyncd-delay1   --destinations local,daemon   --lsyncd-runs N (default 1)
#   --limit S (seconds a run may take to converge, default 300)   --single-writes N   --single-lsyncd-writes N
#                         converge's options (bench/converge.py --help)
#   --sizes 20000,200000,2000000   --latency-ms 4   --mb-per-s 150   --large-runs N
#                         treesize's options (bench/treesize.py --help)
#   --soak-minutes M (default 120)   --soak-csv FILE (default /var/tmp/changeq-soak/soak.csv)
#
# Footprint (bench/footprint.py, --only footprint, 15-25 minutes): resident memory, anonymous and file-backed, of
# changeq-tracker, inotifywait and a minimal C reader (bench/creader.c) at ready on trees of 50,000 and 200,000
# directories and at their peak during W1, and of changeq-sync follow against lsyncd while they sync W1; one run,
# written to BENCHMARKS.md ("Footprint"). --only footprint-nmt writes Native Memory Tracking summaries and heap
# histograms of the tracker and follower at those points to nmt/ beside the soak CSV. Soak (--only soak): tracker
# and follower on a churning tree of 10,000 directories for --soak-minutes, their memory every 30 s into a CSV.
#
# Workloads (bench/gen.c): W1 create 200,000 files over 1,000 dirs; W2 rewrite the same 10,000 files 20 times;
# W3 5,000 new dirs with 20 files each, as fast as possible; W4 rename a dir of 10,000 files inside the root;
# W5 delete 50,000 files; W6 move a dir of 10,000 files into the root from outside. Tools: changeq-tracker in
# quick mode (the distribution's launcher and flags), inotifywait -m -r --format '%w%f%0' into a file. Watch
# setup on trees of 50,000 and 200,000 directories. Planner: PlanBenchmark on a 1,000,000-record backlog
# against sort -u of the same paths. Converge (bench/converge.py): the same workloads until the destination
# equals the source, changeq-tracker + changeq-sync follow against lsyncd default.rsync (delay 15 s, and 1 s),
# to a local directory and to an rsync daemon on 127.0.0.1, and single changed files. Treesize
# (bench/treesize.py): changeq's incremental run against rsync -a of the whole tree, 1,000 changed files in
# trees of 20,000 to 2,000,000 files on disks with a disk's latency (bench/slowdisk.c), cold cache.
#
# Everything runs under /dev/shm (tmpfs) when it is one, else $TMPDIR. fs.inotify.max_user_watches is raised
# for the 200,000-directory tree, max_queued_events set to the packaged sysctl's value; both restored on exit. Needs gcc, javac, inotify-tools, lsyncd (installed
# with apt-get when missing), python3, and the distribution: mvn -B -q -DskipTests package (built when missing).
# Not part of mvn verify.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

quick=
soak_minutes=120
soak_csv=/var/tmp/changeq-soak/soak.csv
only=workloads,watch,plan,converge,treesize
driver_args=()
converge_args=()
treesize_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1; driver_args+=("$1"); converge_args+=("$1"); treesize_args+=("$1") ;;
        --only) only=$2; shift ;;
        --runs | --workloads) driver_args+=("$1" "$2"); converge_args+=("$1" "$2"); shift ;;
        --converge-tools) converge_args+=(--tools "$2"); shift ;;
        --destinations | --lsyncd-runs | --limit | --single-writes | --single-lsyncd-writes | --poll)
            converge_args+=("$1" "$2"); shift ;;
        --sizes | --latency-ms | --mb-per-s | --large-runs) treesize_args+=("$1" "$2"); shift ;;
        --soak-minutes) soak_minutes=$2; shift ;;
        --soak-csv) soak_csv=$2; shift ;;
        *) driver_args+=("$1") ;;
    esac
    shift
done
driver_parts=$(tr , '\n' <<<"$only" | grep -x -e workloads -e watch -e plan | paste -sd, || true)
case ",$only," in *,converge,*) converge=1 ;; *) converge= ;; esac
case ",$only," in *,treesize,*) treesize=1 ;; *) treesize= ;; esac
footprint_modes=$(tr , '\n' <<<"$only" | sed -n 's/^footprint$/table/p; s/^footprint-nmt$/nmt/p; s/^soak$/soak/p')

if [ ! -x systemd/target/changeq/bin/changeq-tracker ] || [ ! -d native-tests/target/test-classes/org/changeq/bench ]; then
    mvn -B -q -DskipTests package
fi
command -v lsyncd >/dev/null || apt-get install -y -q lsyncd >/dev/null
command -v inotifywait >/dev/null || { echo "bench: inotifywait missing: apt-get install inotify-tools" >&2; exit 1; }

if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
work=$(mktemp -d "$base/changeq-bench.XXXXXX")
watches_file=/proc/sys/fs/inotify/max_user_watches
watches_before=$(cat "$watches_file")
queued_file=/proc/sys/fs/inotify/max_queued_events
queued_before=$(cat "$queued_file")
cleanup() {
    [ "$(cat "$watches_file")" = "$watches_before" ] || echo "$watches_before" >"$watches_file"
    [ "$(cat "$queued_file")" = "$queued_before" ] || echo "$queued_before" >"$queued_file"
    rm -rf "$work"
}
trap cleanup EXIT
# Every tool gets the kernel event queue the package installs (systemd/src/main/sysctl), as deployed.
queued=$(sed -n 's/^fs.inotify.max_queued_events *= *//p' systemd/src/main/sysctl/60-changeq-inotify.conf)
echo "$queued" >"$queued_file" 2>/dev/null \
    || echo "bench: cannot set $queued_file to $queued (not root?): expect overflows" >&2
# 200,000 directories plus the tree's parents, and room for whatever else runs on the machine.
if [ "$watches_before" -lt 400000 ]; then
    echo 400000 >"$watches_file" 2>/dev/null \
        || echo "bench: cannot raise $watches_file (not root?): the 200,000-directory figures will fail" >&2
fi

gcc -O2 -Wall -Wextra -o "$work/gen" bench/gen.c
gcc -O2 -Wall -Wextra -o "$work/creader" bench/creader.c
mkdir "$work/probe"
javac -d "$work/probe" -cp "systemd/target/changeq/lib/*" bench/Probe.java

# JVM flag sets measured beside the launcher's own (see BENCHMARKS.md): c2 undoes the tracker's C1-only JIT
# and two malloc arenas (glibc's default is 8 per core); capped also caps the heap at 48 MB.
c2_env="MALLOC_ARENA_MAX=16"
c2="-XX:TieredStopAtLevel=4 -XX:CICompilerCount=2 -XX:ReservedCodeCacheSize=240m"
capped="-Xmx48m -XX:MaxMetaspaceSize=48m -Xss256k"

# Replaces the generated block NAME of BENCHMARKS.md with FILE, keeps the prose around it.
write_block() { # write_block NAME FILE
    python3 - "$repo/BENCHMARKS.md" "$1" "$2" <<'PY'
import sys
doc, name, results = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
text = open(doc).read()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
open(doc, "w").write(head + begin + "\n" + results + end + tail)
PY
    echo "bench: $1 written to BENCHMARKS.md" >&2
}

if [ -n "$driver_parts" ]; then
    python3 bench/driver.py --work "$work" --output "$work/results.md" --only "$driver_parts" --c2-opts "$c2" \
        --c2-env "$c2_env" --capped-opts "$capped" "${driver_args[@]}"
    [ -n "$quick" ] || write_block results "$work/results.md"
fi
if [ -n "$converge" ]; then
    python3 bench/converge.py --work "$work" --output "$work/converge.md" "${converge_args[@]}"
    [ -n "$quick" ] || write_block converge "$work/converge.md"
fi
if [ -n "$treesize" ]; then
    python3 bench/treesize.py --work "$work" --output "$work/treesize.md" "${treesize_args[@]}"
    [ -n "$quick" ] || write_block treesize "$work/treesize.md"
fi
for mode in $footprint_modes; do
    case $mode in
        table)
            python3 bench/footprint.py table --work "$work" --output "$work/footprint.md"
            [ -n "$quick" ] || write_block footprint "$work/footprint.md"
            ;;
        nmt) python3 bench/footprint.py nmt --work "$work" --output "$(dirname "$soak_csv")/nmt" ;;
        soak)
            mkdir -p "$(dirname "$soak_csv")"
            python3 bench/footprint.py soak --work "$work" --csv "$soak_csv" --minutes "$soak_minutes"
            ;;
    esac
done
