#!/usr/bin/env python3
"""Tree size: changeq's incremental run against rsync's full walk, on disks with a disk's latency, cold cache.

Usage (as root): bench/treesize.py --work DIR --output FILE [--quick] [--sizes 20000,200000,2000000]
                 [--latency-ms 4] [--mb-per-s 150] [--runs N] [--large-runs N]

For each tree size: the source, a local destination and an rsync daemon's module each live on an ext4 file system
on a loop device over an image that bench/slowdisk.c serves through FUSE with a disk's read latency. The images are
copies of one generated tree (cached in /var/tmp/changeq-bench-cache), so every destination starts equal to the
source. changeq-tracker watches the source; changeq-sync has a route to each destination, first synced untimed.
Every timed command runs after `sync`, a journal checkpoint (fsfreeze) and dropping the page cache, with 1,000
changed files pending (spread: one per directory over the whole tree; clustered: ten full directories):
    changeq-sync --route R               (the whole process: JVM, queue, planning, rsync; spread and clustered)
    changeq-sync --route local again     (nothing pending: changeq's own cost per run)
    rsync ... --files-from=LIST          (the command changeq ran for the spread files, by hand: the floor)
    rsync -a SRC/ DEST/                  (the full walk, spread changes pending, tracker stopped)
A full run (three sizes, 3 runs each, the 2,000,000-file tree once) takes about 20 minutes when the images are
cached; building them takes about 1.5 minutes more, nearly all for the largest.
Writes a markdown section to --output. Everything mounted is unmounted and detached on exit, also on errors and
Ctrl-C. Needs gcc, fuse3 and libfuse3-dev (installed with apt-get when missing), e2fsprogs, rsync, and the
distribution (mvn -B -q -DskipTests package).
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from common import machine, stop

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.path.join(REPO, "systemd/target/changeq")
CACHE = "/var/tmp/changeq-bench-cache"

FILES_PER_DIR = 100
DIRS_PER_DIR = 100
FILE_SIZE = 100  # bytes: kept in the inode (inline_data), so a 2,000,000-file image stays near 600 MB
CHANGED = 1000
CLUSTERS = 10
BLOCK = 4096
INODE = 256
MKFS = ["mkfs.ext4", "-q", "-F", "-b", str(BLOCK), "-I", str(INODE), "-O", "inline_data", "-m", "0",
        "-J", "size=16", "-E", "lazy_itable_init=0,lazy_journal_init=0"]
# A SATA disk's default; the loop device would read ahead 2.5 MiB, which no disk does.
READ_AHEAD_KB = 128
LARGE = 1_000_000


def log(message):
    print(f"treesize: {message}", file=sys.stderr, flush=True)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, **kwargs)


class Teardown:
    """Undo actions, run newest first; each runs once, also when an earlier one failed."""

    def __init__(self):
        self.actions = []

    def push(self, name, action):
        self.actions.append((name, action))
        return action

    def now(self, action):
        for i in range(len(self.actions) - 1, -1, -1):
            if self.actions[i][1] is action:
                del self.actions[i]
                action()
                return

    def run(self):
        while self.actions:
            name, action = self.actions.pop()
            try:
                action()
            except Exception as e:  # the remaining actions must still run
                log(f"cleanup: {name}: {e}")


def interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def unmount(path):
    if os.path.ismount(path):
        if subprocess.run(["umount", path], stderr=subprocess.DEVNULL).returncode != 0:
            run(["umount", "-l", path])


def attach_loop(teardown, image, direct_io):
    loop = run(["losetup", "--find", "--show", f"--direct-io={'on' if direct_io else 'off'}", image],
               capture_output=True, text=True).stdout.strip()
    teardown.push(f"detach {loop}", lambda: run(["losetup", "-d", loop]))
    return loop


def mount(teardown, device, mountpoint):
    os.makedirs(mountpoint, exist_ok=True)
    run(["mount", "-t", "ext4", device, mountpoint])
    teardown.push(f"unmount {mountpoint}", lambda: unmount(mountpoint))


def drop_caches(mounts):
    """Empties the page cache, including what ext4's journal still holds: metadata written since the last
    checkpoint stays pinned through `sync` and the drop, so recently changed inodes would be read from memory."""
    os.sync()
    for mountpoint in mounts:
        try:
            run(["fsfreeze", "--freeze", mountpoint])  # checkpoints the journal
        finally:
            subprocess.run(["fsfreeze", "--unfreeze", mountpoint], stderr=subprocess.DEVNULL)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def tree_path(i):
    leaf = i // FILES_PER_DIR
    return f"d{leaf // DIRS_PER_DIR}/d{leaf % DIRS_PER_DIR}/f{i % FILES_PER_DIR}"


def spread_paths(files):
    """CHANGED files spread evenly over the tree: in a tree of 100,000 files or more, each in its own directory."""
    return [tree_path(k * files // CHANGED) for k in range(CHANGED)]


def clustered_paths(files):
    """CHANGED files filling CLUSTERS directories spread evenly over the tree, as an import or a build would."""
    leaves = files // FILES_PER_DIR
    return [tree_path((k * leaves // CLUSTERS) * FILES_PER_DIR + n) for k in range(CLUSTERS)
            for n in range(CHANGED // CLUSTERS)]


def filesystem_size(files):
    """Inodes for the files and directories, and bytes for their inode tables with a quarter to spare, two blocks
    per directory, the journal and the group metadata: the image stays small and sparse."""
    inodes = files + files // FILES_PER_DIR + files // FILES_PER_DIR // DIRS_PER_DIR + 1024
    leaf_dirs = files // FILES_PER_DIR + 1
    size = inodes * INODE * 5 // 4 + leaf_dirs * BLOCK * 2 + (64 << 20)
    return inodes, (size + (1 << 20) - 1) >> 20 << 20


class Context:
    def __init__(self, args, teardown):
        self.args = args
        self.work = os.path.abspath(args.work)
        os.makedirs(self.work, exist_ok=True)
        self.bin = os.path.join(self.work, "bin")
        os.makedirs(self.bin, exist_ok=True)
        if subprocess.run(["stat", "-f", "-c", "%T", self.work], capture_output=True, text=True).stdout.strip() == "tmpfs":
            self.images = os.path.join(self.work, "images")
            os.makedirs(self.images, exist_ok=True)
        else:
            self.images = tempfile.mkdtemp(prefix="changeq-treesize.", dir="/dev/shm")
            teardown.push(f"remove {self.images}", lambda: shutil.rmtree(self.images, ignore_errors=True))
        self.env = dict(os.environ, CHANGEQ_USER="root")
        self.latency_us = int(round(args.latency_ms * 1000))

    def compile(self):
        if subprocess.run(["pkg-config", "--exists", "fuse3"]).returncode != 0 or not shutil.which("fusermount3"):
            run(["apt-get", "install", "-y", "-q", "fuse3", "libfuse3-dev", "pkg-config"], stdout=subprocess.DEVNULL)
        fuse = subprocess.run(["pkg-config", "--cflags", "--libs", "fuse3"], capture_output=True, text=True,
                              check=True).stdout.split()
        run(["gcc", "-O2", "-Wall", "-Wextra", "-o", f"{self.bin}/slowdisk", f"{REPO}/bench/slowdisk.c"] + fuse)
        run(["gcc", "-O2", "-Wall", "-Wextra", "-o", f"{self.bin}/treegen", f"{REPO}/bench/treegen.c"])


def cached_image(ctx, files):
    """The image of a generated tree of FILES files, built once per generator and file system parameters."""
    inodes, size = filesystem_size(files)
    with open(f"{REPO}/bench/treegen.c", "rb") as f:
        generator = hashlib.sha256(f.read()).hexdigest()
    params = json.dumps([files, FILES_PER_DIR, DIRS_PER_DIR, FILE_SIZE, inodes, size, MKFS, generator])
    image = os.path.join(CACHE, f"tree-{files}-{hashlib.sha256(params.encode()).hexdigest()[:16]}.img")
    if os.path.exists(image):
        return image, None
    log(f"building the {files:,}-file image (cached afterwards as {image})")
    started = time.monotonic()
    os.makedirs(CACHE, exist_ok=True)
    scratch = os.path.join(ctx.images, "build.img")
    try:
        with open(scratch, "wb") as f:
            f.truncate(size)
        run(MKFS + ["-N", str(inodes), scratch])
        teardown = Teardown()
        try:
            mountpoint = os.path.join(ctx.work, "build")
            mount(teardown, attach_loop(teardown, scratch, direct_io=False), mountpoint)
            run([f"{ctx.bin}/treegen", f"{mountpoint}/tree", str(files), str(FILES_PER_DIR), str(DIRS_PER_DIR),
                 str(FILE_SIZE)])
        finally:
            teardown.run()  # unmounted and detached before the copy, so the image is complete
        run(["cp", "--sparse=always", scratch, image + ".partial"])
        os.rename(image + ".partial", image)
    finally:
        for leftover in (scratch, image + ".partial"):
            if os.path.exists(leftover):
                os.remove(leftover)
    return image, time.monotonic() - started


class SlowDisks:
    """The source and destination file systems, each on a loop device over its own slowdisk (one arm per disk)."""

    def __init__(self, ctx, teardown, base, images):
        self.dirs = {}
        self.mounts = {}
        for name, image in images.items():
            self.dirs[name] = os.path.join(base, "slowdisk", name)
            os.makedirs(self.dirs[name], exist_ok=True)
            self.serve(ctx, teardown, base, name, image)
            loop = attach_loop(teardown, os.path.join(self.dirs[name], "disk"), direct_io=True)
            with open(f"/sys/block/{os.path.basename(loop)}/queue/read_ahead_kb", "w") as f:
                f.write(f"{READ_AHEAD_KB}\n")
            self.mounts[name] = os.path.join(base, "mnt", name)
            mount(teardown, loop, self.mounts[name])
        teardown.push("latency 0 for unmounting", lambda: self.set_latency(0))

    def serve(self, ctx, teardown, base, name, image):
        directory = self.dirs[name]
        err = os.path.join(base, f"slowdisk-{name}.err")
        proc = subprocess.Popen([f"{ctx.bin}/slowdisk", "--latency-us=0", f"--mb-per-s={ctx.args.mb_per_s}",
                                 directory, image], stderr=open(err, "wb"))

        def stop_serving():
            stop(proc, 10)
            if os.path.ismount(directory):
                if subprocess.run(["fusermount3", "-u", directory], stderr=subprocess.DEVNULL).returncode != 0:
                    run(["umount", "-l", directory])
        teardown.push(f"stop slowdisk {directory}", stop_serving)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(directory, "stats")):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"slowdisk did not mount {directory}: see {err}")
            time.sleep(0.05)

    def set_latency(self, us):
        for directory in self.dirs.values():
            with open(os.path.join(directory, "latency_us"), "w") as f:
                f.write(f"{us}\n")

    def positioned_reads(self):
        counts = {}
        for name, directory in self.dirs.items():
            with open(os.path.join(directory, "stats")) as f:
                counts[name] = int(dict(line.split() for line in f if line.strip())["positioned"])
        return counts


class Measurement:
    def __init__(self, seconds, reads, stdout):
        self.seconds = seconds
        self.reads = reads
        self.stdout = stdout


def timed(ctx, disks, argv, log_file):
    """ARGV after a sync and a dropped page cache, at the slow disks' latency."""
    disks.set_latency(ctx.latency_us)
    drop_caches(disks.mounts.values())
    before = disks.positioned_reads()
    with open(log_file, "ab") as err:
        err.write(f"\n$ {' '.join(argv)}\n".encode())
        err.flush()
        started = time.monotonic()
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=err, env=ctx.env, text=True)
        seconds = time.monotonic() - started
    after = disks.positioned_reads()
    disks.set_latency(0)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(argv)} (see {log_file})")
    return Measurement(seconds, {name: after[name] - before[name] for name in after}, proc.stdout)


def summary(stdout):
    line = [l for l in stdout.splitlines() if l.startswith("route=")][-1]
    return dict(field.split("=", 1) for field in line.split())


def rsync_transferred(stdout):
    match = re.search(r"Number of regular files transferred: ([\d,]+)", stdout)
    return int(match.group(1).replace(",", "")) if match else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daemon(teardown, base, module_path):
    port = free_port()
    config = os.path.join(base, "rsyncd.conf")
    with open(config, "w") as f:
        f.write(f"address = 127.0.0.1\nport = {port}\nuse chroot = no\nlog file = {base}/rsyncd.log\n\n"
                f"[tree]\npath = {module_path}\nread only = no\nuid = root\ngid = root\n")
    proc = subprocess.Popen(["rsync", "--daemon", "--no-detach", f"--config={config}"])
    teardown.push("stop the rsync daemon", lambda: stop(proc))
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return f"rsync://127.0.0.1:{port}/tree/"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the rsync daemon did not start: see {base}/rsyncd.log")
            time.sleep(0.05)


class Changes:
    """Rewrites files with new content of the same size, at least a second apart, so rsync's quick check (size and
    whole-second time) sees every one as changed."""

    def __init__(self, root):
        self.root = root
        self.count = 0
        self.last = 0.0

    def make(self, disks, paths):
        disks.set_latency(0)
        time.sleep(max(0.0, self.last + 1.1 - time.monotonic()))
        self.count += 1
        for i, path in enumerate(paths):
            text = f"changed {self.count} file {i}\n".encode()
            with open(os.path.join(self.root, path), "wb") as f:
                f.write(text + b"y" * (FILE_SIZE - len(text)))
        self.last = time.monotonic()


class Tree:
    """One tree size: the disks, the daemon, the tracker and the routes."""

    def __init__(self, ctx, teardown, files):
        self.ctx = ctx
        self.teardown = teardown
        self.files = files
        self.base = os.path.join(ctx.work, f"tree-{files}")
        with open("/proc/self/mounts") as f:
            mounted = [line.split()[1] for line in f if line.split()[1].startswith(self.base + "/")]
        if mounted:
            raise RuntimeError(f"still mounted from an earlier run: {' '.join(mounted)}")
        shutil.rmtree(self.base, ignore_errors=True)
        os.makedirs(self.base)
        self.log = os.path.join(self.base, "commands.log")
        image, self.build_s = cached_image(ctx, files)
        started = time.monotonic()
        copies = {}
        for name in ("src", "dst", "daemon"):
            copies[name] = os.path.join(ctx.images, f"{files}-{name}.img")
            teardown.push(f"remove {copies[name]}", lambda p=copies[name]: os.remove(p))
            run(["cp", "--sparse=always", image, copies[name]])
        self.copy_s = time.monotonic() - started
        self.image_mb = os.stat(image).st_blocks * 512 / 1e6
        self.disks = SlowDisks(ctx, teardown, self.base, copies)
        self.src = os.path.join(self.disks.mounts["src"], "tree")
        self.dests = {"local": os.path.join(self.disks.mounts["dst"], "tree") + "/",
                      "daemon": start_daemon(teardown, self.base, os.path.join(self.disks.mounts["daemon"], "tree"))}
        self.config = os.path.join(self.base, "changeq.yaml")
        with open(self.config, "w") as f:
            f.write(f"queue: {json.dumps(os.path.join(self.base, 'changeq/queue'))}\n"
                    f"state: {json.dumps(os.path.join(self.base, 'changeq/state'))}\n"
                    f"roots:\n  tree: {{path: {json.dumps(self.src)}}}\n"
                    "routes:\n" + "".join(f"  {route}: {{root: tree, dest: {json.dumps(dest)}, delete-on-full: false}}\n"
                                          for route, dest in self.dests.items()))
        self.changes = Changes(self.src)
        self.spread = spread_paths(files)
        self.clustered = clustered_paths(files)
        self.tracker = None

    def start_tracker(self):
        err = os.path.join(self.base, "tracker.err")
        self.tracker = subprocess.Popen([f"{DIST}/bin/changeq-tracker", "--config", self.config],
                                        stdout=subprocess.DEVNULL, stderr=open(err, "ab"), env=self.ctx.env)
        self.stop_tracker = self.teardown.push("stop the tracker", lambda: stop(self.tracker))
        deadline = time.monotonic() + 1800
        while b"watching " not in open(err, "rb").read():
            if self.tracker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"changeq-tracker did not start watching: see {err}")
            time.sleep(0.1)

    def sync(self, route, disks=None):
        argv = [f"{DIST}/bin/changeq-sync", "--config", self.config, "--route", route]
        if disks is None:
            with open(self.log, "ab") as err:
                proc = run(argv, stdout=subprocess.PIPE, stderr=err, env=self.ctx.env, text=True)
            return summary(proc.stdout)
        measurement = timed(self.ctx, disks, argv, self.log)
        measurement.summary = summary(measurement.stdout)
        return measurement

    def incremental(self, route):
        m = self.sync(route, self.disks)
        if m.summary["mode"] != "incremental" or int(m.summary["files"]) != CHANGED:
            raise RuntimeError(f"route {route}: {m.stdout.strip()}: expected an incremental run of {CHANGED} files")
        return m

    def await_recorded(self, paths):
        """Until the route's pending paths are exactly PATHS."""
        expected = {f"./{p}" for p in paths} | set(paths)
        deadline = time.monotonic() + 120
        while True:
            out = run([f"{DIST}/bin/changeq-queue", "paths", "--config", self.config, "--route", "local", "-0"],
                      capture_output=True, env=self.ctx.env).stdout
            pending = {p.decode() for p in out.split(b"\0") if p}
            if len(pending) == CHANGED and pending <= expected:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"after 120 s {len(pending)} paths pending, not the {CHANGED} changed files")
            time.sleep(0.5)

    def floor_argv(self, route):
        """The rsync command changeq ran for the files whose content was written, as its log shows it, with a list
        of the changed files in the same format."""
        with open(self.log, encoding="utf-8", errors="replace") as f:
            commands = [line.split("running [", 1)[1].rstrip().rstrip("]").split(", ") for line in f
                        if "RsyncRunner - running [rsync" in line and "--checksum" in line]
        argv = [a for a in commands if a[-1] == self.dests[route]][-1]
        listing = os.path.join(self.base, "changed.list")
        with open(listing, "wb") as f:
            f.write(b"".join(f"./{p}\0".encode() for p in self.spread))
        return [f"--files-from={listing}" if a.startswith("--files-from=") else a for a in argv]


def check_transferred(what, measured, expected=CHANGED):
    if measured != expected:
        raise RuntimeError(f"{what}: {measured} files transferred, expected {expected}")


def measure_tree(ctx, files, runs):
    teardown = Teardown()
    try:
        tree = Tree(ctx, teardown, files)
        disks = tree.disks
        result = {"files": files, "build_s": tree.build_s, "copy_s": tree.copy_s, "image_mb": tree.image_mb,
                  "changeq": {"local": [], "daemon": []}, "idle": [], "rsync": {"local": [], "daemon": []},
                  "floor": {"local": [], "daemon": []}, "clustered": {"local": [], "daemon": []}}
        started = time.monotonic()
        tree.start_tracker()
        result["tracker_start_s"] = time.monotonic() - started
        started = time.monotonic()
        for route in tree.dests:
            first = tree.sync(route)
            if first["mode"] != "full":
                raise RuntimeError(f"the first run of route {route} was {first['mode']}, not full")
        result["first_sync_s"] = time.monotonic() - started
        log(f"{files:,} files: tracker watching after {result['tracker_start_s']:.1f} s, first full syncs "
            f"(latency 0, untimed) {result['first_sync_s']:.1f} s")

        # The tracker runs, holding a watch (and so the inode) of every source directory, as it does in service;
        # the floor runs beside it, so that the difference is changeq's own. Each set of changes is all that is
        # pending when changeq runs: the runs before committed everything else.
        for i in range(runs):
            tree.changes.make(disks, tree.spread)
            tree.await_recorded(tree.spread)
            for route in tree.dests:
                result["changeq"][route].append(tree.incremental(route))
                log(f"{files:,} files, run {i + 1}: changeq {route} {result['changeq'][route][-1].seconds:.2f} s")
                if route == "local":
                    idle = tree.sync(route, disks)
                    if idle.summary["files"] != "0":
                        raise RuntimeError(f"a second run sent files: {idle.stdout.strip()}")
                    result["idle"].append(idle)
            tree.changes.make(disks, tree.clustered)
            tree.await_recorded(tree.clustered)
            for route in tree.dests:
                result["clustered"][route].append(tree.incremental(route))
                log(f"{files:,} files, run {i + 1}: changeq {route}, {CLUSTERS} directories "
                    f"{result['clustered'][route][-1].seconds:.2f} s")
            tree.changes.make(disks, tree.spread)
            for route in tree.dests:
                m = timed(ctx, disks, tree.floor_argv(route), tree.log)
                check_transferred(f"rsync --files-from to {route}", rsync_transferred(m.stdout))
                result["floor"][route].append(m)
                log(f"{files:,} files, run {i + 1}: rsync --files-from {route} {m.seconds:.2f} s")

        # Without changeq there is no tracker, whose watches keep the source's directory inodes in memory.
        teardown.now(tree.stop_tracker)
        for i in range(runs):
            tree.changes.make(disks, tree.spread)
            for route, dest in tree.dests.items():
                m = timed(ctx, disks, ["rsync", "-a", "--stats", tree.src + "/", dest], tree.log)
                check_transferred(f"rsync -a to {route}", rsync_transferred(m.stdout))
                result["rsync"][route].append(m)
                log(f"{files:,} files, run {i + 1}: rsync -a {route} {m.seconds:.2f} s")
        result["floor_command"] = " ".join(tree.floor_argv("local")[:-3]).replace(tree.base + "/", "")
        return result
    finally:
        teardown.run()


def median(measurements):
    return statistics.median(m.seconds for m in measurements)


def spread(measurements):
    values = [m.seconds for m in measurements]
    text = f"{statistics.median(values):.2f}"
    return text + (f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else "")


def reads(measurements, disk):
    return round(statistics.median(m.reads[disk] for m in measurements))


def crossover(points):
    """The tree size where the ratio full/incremental is 1, from (files, ratio) pairs: interpolated in log-log
    between sizes that straddle it, else extrapolated assuming the walk grows with the files and the incremental
    run stays as it is."""
    points = sorted(points)
    for (n1, r1), (n2, r2) in zip(points, points[1:]):
        if (r1 - 1) * (r2 - 1) <= 0 and r1 != r2:
            t = -math.log(r1) / (math.log(r2) - math.log(r1))
            return f"~{round(math.exp(math.log(n1) + t * (math.log(n2) - math.log(n1))), -3):,.0f} files (interpolated)"
    n, r = points[0] if points[0][1] > 1 else points[-1]
    return f"~{round(n / r, -3):,.0f} files (extrapolated from {n:,})"


def machine_line(ctx):
    m = machine()
    rsync = subprocess.run(["rsync", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split()[2]
    return (f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']:.1f} GiB RAM, kernel {m['kernel']}, rsync {rsync}, "
            f"{m['java']}. Slow disks: every read that does not continue the previous one waits "
            f"{ctx.args.latency_ms:g} ms, plus {ctx.args.mb_per_s} MB/s transfer, one read at a time per disk; writes "
            f"without delay (`bench/slowdisk.c` over FUSE, image on tmpfs, loop device with direct I/O and "
            f"{READ_AHEAD_KB} KiB read-ahead); ext4 with {BLOCK // 1024} KiB blocks, {INODE}-byte inodes and "
            f"`inline_data`, default mount options.")


def write_results(ctx, results, output, total_s):
    out = ["### Tree size: incremental against a full walk", ""]
    runs = sorted({len(r["changeq"]["local"]) for r in results})
    out.append(f"Generated by `bench/treesize.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in "
               f"{total_s / 60:.1f} min; {' or '.join(map(str, runs))} run(s) per figure, median and (min–max).")
    out.append("")
    out.append(machine_line(ctx))
    out.append("")
    out.append(
        f"Trees of small files ({FILE_SIZE} bytes, {FILES_PER_DIR} per directory, {DIRS_PER_DIR} directories per "
        f"top directory, written in order: `bench/treegen.c`), {CHANGED:,} of them rewritten with new content of the "
        f"same size before each timed run: **spread**, evenly over the tree (in a tree of 100,000 files or more each "
        f"in its own directory), or **clustered**, filling {CLUSTERS} directories spread over the tree. Source, local "
        f"destination and the rsync daemon's module (`use chroot = no`, on 127.0.0.1) are three such disks made from "
        f"one image, so each destination equals the source but for the pending changes; the routes' first (full) "
        f"syncs are not timed. Before every timed command: `sync; echo 3 > /proc/sys/vm/drop_caches`. **changeq**: "
        f"`changeq-sync --config FILE --route R`, the whole process (JVM start, queue, planning, rsync), with "
        f"`changeq-tracker` watching the source as in service. **rsync -a**: `rsync -a --stats SRC/ DEST/` with the "
        f"spread changes pending, without a tracker. Queue and state on tmpfs; the JVM and its jars are read from "
        f"the system disk after the cache drop too.")
    out.append("")
    out.append("| files | destination | changeq incremental s | rsync -a s | ratio | changeq, clustered s | ratio |")
    out.append("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        for route in ("local", "daemon"):
            full = median(r["rsync"][route])
            out.append(f"| {r['files']:,} | {route} | {spread(r['changeq'][route])} | {spread(r['rsync'][route])} | "
                       f"{full / median(r['changeq'][route]):.1f}× | {spread(r['clustered'][route])} | "
                       f"{full / median(r['clustered'][route]):.1f}× |")
    out.append("")
    for kind in ("changeq", "clustered"):
        for route in ("local", "daemon"):
            points = [(r["files"], median(r["rsync"][route]) / median(r[kind][route])) for r in results]
            out.append(f"- Ratio 1, {'spread' if kind == 'changeq' else 'clustered'} changes, {route}: "
                       f"{crossover(points)}.")
    largest = max(results, key=lambda r: r["files"])
    for kind in ("changeq", "clustered"):
        worst = min(median(largest["rsync"][route]) / median(largest[kind][route]) for route in ("local", "daemon"))
        out.append(f"- Target, incremental ≥ 20× faster than the full walk on the largest tree "
                   f"({largest['files']:,} files), {'spread' if kind == 'changeq' else 'clustered'} changes: "
                   f"**{'met' if worst >= 20 else 'missed'}**, {worst:.1f}× at the least.")
    out.append("")
    out.append(f"The floor is rsync's own cost: `{results[0]['floor_command']} -- SRC/ DEST` "
               f"(`-rlt` instead of `-a -r --super` to the daemon), the command changeq runs for files whose content "
               f"was written (taken from its log), run by hand over exactly the {CHANGED:,} spread changed paths with the tracker "
               f"running, divided per file (rsync's start included). changeq's overhead: a run with nothing pending (JVM, queue, planning, no rsync), and the "
               f"incremental run minus the floor. Positioned reads: the reads the run waited "
               f"{ctx.args.latency_ms:g} ms for, on the source and the destination disk.")
    out.append("")
    out.append("| files | destination | floor s | floor ms per file | changeq − floor s | nothing pending s | "
               "positioned reads src/dest: changeq | floor | rsync -a |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        for route, disk in (("local", "dst"), ("daemon", "daemon")):
            floor = median(r["floor"][route])
            idle = spread(r["idle"]) if route == "local" else "—"
            counts = [f"{reads(r[kind][route], 'src'):,}/{reads(r[kind][route], disk):,}"
                      for kind in ("changeq", "floor", "rsync")]
            out.append(f"| {r['files']:,} | {route} | {spread(r['floor'][route])} | {floor * 1000 / CHANGED:.1f} | "
                       f"{median(r['changeq'][route]) - floor:.2f} | {idle} | {' | '.join(counts)} |")
    out.append("")
    for r in results:
        built = f"built in {r['build_s']:.0f} s (then cached)" if r["build_s"] is not None else "from the cache"
        out.append(f"- {r['files']:,} files: image {r['image_mb']:.0f} MB {built}, three copies {r['copy_s']:.1f} s; "
                   f"tracker watching after {r['tracker_start_s']:.1f} s and first full syncs of both routes "
                   f"{r['first_sync_s']:.1f} s (latency 0, untimed).")
    out.append("")
    with open(output, "w") as f:
        f.write("\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="scratch directory (images go here when it is tmpfs)")
    parser.add_argument("--output", required=True, help="markdown file to write")
    parser.add_argument("--quick", action="store_true", help="trees of 20,000 and 200,000 files, one run each")
    parser.add_argument("--sizes", help="tree sizes, comma-separated (default 20000,200000,2000000)")
    parser.add_argument("--latency-ms", type=float, default=4.0, help="wait per positioned read (default 4)")
    parser.add_argument("--mb-per-s", type=int, default=150, help="transfer rate of the slow disks (default 150)")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; --quick 1)")
    parser.add_argument("--large-runs", type=int, default=1,
                        help=f"runs per figure for trees above {LARGE:,} files (default 1: one full walk of "
                             f"2,000,000 files takes minutes)")
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or ("20000,200000" if args.quick else "20000,200000,2000000")).split(",")]
    runs = args.runs or (1 if args.quick else 3)
    if os.geteuid() != 0:
        sys.exit("treesize: needs root (loop devices, mounts, dropping the page cache)")
    if not os.access(f"{DIST}/bin/changeq-sync", os.X_OK):
        sys.exit(f"treesize: no distribution in {DIST}: mvn -B -q -DskipTests package")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    teardown = Teardown()
    started = time.monotonic()
    try:
        ctx = Context(args, teardown)
        ctx.compile()
        results = [measure_tree(ctx, files, min(runs, args.large_runs) if files > LARGE else runs)
                   for files in sizes]
        write_results(ctx, results, args.output, time.monotonic() - started)
        with open(os.path.join(ctx.work, "treesize.json"), "w") as f:
            json.dump(results, f, indent=1, default=vars)
        log(f"results in {args.output} after {(time.monotonic() - started) / 60:.1f} min")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        teardown.run()


if __name__ == "__main__":
    main()
