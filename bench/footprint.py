#!/usr/bin/env python3
"""Memory of changeq's two services against the tools they replace; started by bench/footprint.sh (see there).

    footprint.py table --work DIR --output FILE [--sizes 50000,200000] [--skip-lsyncd]
    footprint.py nmt --work DIR --output DIR [--sizes 50000,200000]
    footprint.py soak --work DIR --csv FILE [--minutes 120] [--interval 30] [--dirs 10000]

Resident memory is read from /proc/PID/status and split as the kernel keeps it: RssAnon (heap, stacks, malloc:
what the process itself costs), RssFile (mapped files: the JVM's libraries, class-data archives, jars) and
RssShmem (mapped tmpfs files: the queue's chunks when the queue lies on tmpfs, as here). The peak of a phase is
the sample with the largest VmRSS, sampled every 20 ms, and VmHWM (the kernel's own peak, which no sample can
miss) beside it.
"""
import argparse
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import WORKLOADS, await_text, cpu_seconds, log, machine, stop  # noqa: E402
import converge  # noqa: E402
import driver  # noqa: E402

FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM")
SAMPLE_S = 0.02
# A tool has finished with a workload once it has used less than this share of a core for a second.
IDLE_SHARE = 0.02


def memory(pid):
    """The status fields above in MB, or None once the process is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in FIELDS:
                    values[key] = int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return values


def descendants(pid):
    """Every process below pid (rsync children of a follower or of lsyncd)."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            for task in os.listdir(f"/proc/{parent}/task"):
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    children = [int(c) for c in f.read().split()]
                found.extend(children)
                pending.extend(children)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


class Peak:
    """Samples processes in a thread: each one's sample with the largest VmRSS, and the largest sum of VmRSS
    over a process and its descendants (a follower or lsyncd with its rsync)."""

    def __init__(self, pids):
        self.pids = pids
        self.peaks = {pid: None for pid in pids}
        self.with_children = {pid: 0.0 for pid in pids}
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            for pid in self.pids:
                m = memory(pid)
                if m is None:
                    continue
                if self.peaks[pid] is None or m["VmRSS"] > self.peaks[pid]["VmRSS"]:
                    self.peaks[pid] = m
                total = m["VmRSS"] + sum((memory(c) or {"VmRSS": 0})["VmRSS"] for c in descendants(pid))
                self.with_children[pid] = max(self.with_children[pid], total)
            time.sleep(SAMPLE_S)

    def stop(self):
        self.running = False
        self.thread.join()
        for pid in self.pids:
            final = memory(pid)
            if final is not None and self.peaks[pid] is not None:
                self.peaks[pid]["VmHWM"] = final["VmHWM"]
        return self


def await_idle(pid, limit_s=120):
    """Waits until the process has been nearly idle for a second."""
    deadline = time.monotonic() + limit_s
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_seconds(pid)
        if now - before < IDLE_SHARE:
            return
        before = now
    raise RuntimeError(f"process {pid} still busy after {limit_s} s")


class CReader:
    name = "C reader"

    def __init__(self, ctx):
        self.ctx = ctx

    def start(self, root, run_dir):
        self.err = os.path.join(run_dir, "creader.err")
        self.proc = subprocess.Popen([os.path.join(self.ctx.work, "creader"), root],
                                     stdout=open(os.path.join(run_dir, "creader.out"), "wb"),
                                     stderr=open(self.err, "wb"))
        await_text(self.err, "ready ", 300, self.proc)
        return self.proc


class Context:
    def __init__(self, args):
        self.repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.dist = os.path.join(self.repo, "systemd/target/changeq")
        self.work = args.work
        self.gen = os.path.join(self.work, "gen")


class Processes:
    """What converge's tools expect of a cpuacct group, without one: this script reads memory, not CPU."""

    @staticmethod
    def popen(args, **kwargs):
        return subprocess.Popen(args, **kwargs)


def trackers(ctx):
    return [("changeq", driver.Changeq(ctx)), ("inotifywait", driver.Inotifywait(ctx)), ("C reader", CReader(ctx))]


def at_ready(ctx, sizes):
    """Each tracker on a tree of N directories: at ready, and 10 s later (the tracker trims the JIT's malloc
    arenas every 5 s)."""
    results = {}
    for size in sizes:
        tree = os.path.join(ctx.work, f"tree-{size}")
        root = os.path.join(tree, "root")
        os.makedirs(root)
        subprocess.run([ctx.gen, "tree", root, str(size)], check=True)
        for label, tool in trackers(ctx):
            run_dir = os.path.join(tree, label.replace(" ", "-"))
            os.makedirs(run_dir)
            started = time.monotonic()
            proc = tool.start(root, run_dir)
            ready_s = time.monotonic() - started
            ready = memory(proc.pid)
            time.sleep(10)
            steady = memory(proc.pid)
            stop(proc)
            results[(size, label)] = {"ready_s": ready_s, "ready": ready, "steady": steady}
            log(f"footprint: {size} dirs, {label}: {results[(size, label)]}")
        subprocess.run(["rm", "-rf", tree], check=True)
    return results


def during_w1(ctx):
    """Each tracker's peak while W1 creates 200,000 files, until it is idle again."""
    results = {}
    for label, tool in trackers(ctx):
        run_dir = os.path.join(ctx.work, f"w1-{label.replace(' ', '-')}")
        root, outside = os.path.join(run_dir, "root"), os.path.join(run_dir, "outside")
        os.makedirs(root)
        os.makedirs(outside)
        subprocess.run([ctx.gen, "setup", "1", root, outside, os.path.join(run_dir, "expected")], check=True)
        proc = tool.start(root, run_dir)
        if isinstance(tool, driver.Inotifywait):
            tool.settle()
        peak = Peak([proc.pid])
        subprocess.run([ctx.gen, "run", "1", root, outside], check=True, capture_output=True)
        await_idle(proc.pid)
        results[label] = peak.stop().peaks[proc.pid]
        stop(proc)
        subprocess.run(["rm", "-rf", run_dir], check=True)
        log(f"footprint: W1, {label}: {results[label]}")
    return results


def converged(ctx, src, dst, limit_s=600):
    """Whether dst came to equal src within limit_s."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if subprocess.run([ctx.gen, "compare", src, dst], stdout=subprocess.DEVNULL).returncode == 0:
            return True
        time.sleep(1)
    log(f"footprint: {dst} not equal to {src} after {limit_s} s")
    return False


def following(ctx, skip_lsyncd):
    """changeq (tracker + follower) and lsyncd syncing W1 to a local directory: each process's peak, the peak
    with its rsync children, and each process 10 s after the destination equals the source."""
    tools = [converge.Changeq(ctx.dist)] + ([] if skip_lsyncd else [converge.Lsyncd()])
    results = {}
    for tool in tools:
        run_dir = os.path.join(ctx.work, f"follow-{tool.name}")
        root, outside, dest = (os.path.join(run_dir, d) for d in ("root", "outside", "dest"))
        for d in (root, outside, dest):
            os.makedirs(d)
        subprocess.run([ctx.gen, "setup", "1", root, outside, os.path.join(run_dir, "expected")], check=True)
        tool.start(Processes, root, dest + "/", run_dir)
        procs = ({"tracker": tool.tracker, "follower": tool.follower} if tool.name == "changeq"
                 else {"lsyncd": tool.proc})
        before = {name: memory(p.pid) for name, p in procs.items()}
        cpu_before = {name: cpu_seconds(p.pid) for name, p in procs.items()}
        peak = Peak([p.pid for p in procs.values()])
        subprocess.run([ctx.gen, "run", "1", root, outside], check=True, capture_output=True)
        done = converged(ctx, root, dest)
        peak.stop()
        time.sleep(10)
        for name, p in procs.items():
            results[(tool.name, name)] = {"before": before[name], "peak": peak.peaks[p.pid],
                                          "peak_with_children": peak.with_children[p.pid],
                                          "after": memory(p.pid), "cpu_s": cpu_seconds(p.pid) - cpu_before[name],
                                          "converged": done}
            log(f"footprint: following, {tool.name} {name}: {results[(tool.name, name)]}")
        tool.stop()
        subprocess.run(["rm", "-rf", run_dir], check=True)
    return results


def split(m):
    if m is None:
        return "— | — | — | —"
    return f"{m['VmRSS']:.1f} | {m['RssAnon']:.1f} | {m['RssFile']:.1f} | {m['RssShmem']:.1f}"


def table(args):
    ctx = Context(args)
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.time()
    load_before = os.getloadavg()[0]
    ready = at_ready(ctx, sizes)
    w1 = during_w1(ctx)
    follow = following(ctx, args.skip_lsyncd)
    m = machine()
    lines = [f"Generated by `bench/run.sh --only footprint` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}"
             f" in {(time.time() - started) / 60:.1f} min, one run of each figure. Machine: {m['cpu']},"
             f" {m['cores']} cores, kernel {m['kernel']}, {m['java']}; trees and queues on tmpfs. Load average"
             f" (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f}. MB = MiB; RSS split as"
             " /proc/PID/status keeps it: anonymous, file-backed, shared memory (the queue's chunks on tmpfs).",
             "",
             "| phase | tool | RSS MB | anonymous | file | shmem | VmHWM MB | ready s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size in sizes:
        for label, _ in trackers(ctx):
            r = ready[(size, label)]
            lines.append(f"| {size:,} dirs, at ready | {label} | {split(r['ready'])} | {r['ready']['VmHWM']:.1f}"
                         f" | {r['ready_s']:.2f} |")
            lines.append(f"| {size:,} dirs, 10 s later | {label} | {split(r['steady'])} |"
                         f" {r['steady']['VmHWM']:.1f} | |")
    for label, _ in trackers(ctx):
        p = w1[label]
        lines.append(f"| {WORKLOADS[1]}, peak | {label} | {split(p)} | {p['VmHWM']:.1f} | |")
    lines += ["", "Syncing W1 (200,000 new files) to a local directory until it equals the source: changeq-tracker"
              " and `changeq-sync follow` (batches of at most 10,000 paths) against lsyncd `default.rsync`"
              " (delay 15 s). Peak: the sample with the largest RSS; with rsync: the largest sum of the process"
              " and its rsync children.", "",
              "| process | idle before | peak RSS MB | anonymous | file | shmem | peak with rsync MB |"
              " 10 s after converging | CPU s (own) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (tool, name), r in follow.items():
        label = (name if tool == "changeq" else tool) + ("" if r["converged"] else " (not converged in 600 s)")
        lines.append(f"| {label} | {r['before']['VmRSS']:.1f} | {split(r['peak'])} |"
                     f" {r['peak_with_children']:.1f} | {r['after']['VmRSS']:.1f} | {r['cpu_s']:.2f} |")
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")


def nmt(args):
    """The tracker at ready at each size and the follower while following W1, under Native Memory Tracking:
    `jcmd VM.native_memory summary` and `GC.class_histogram` into the output directory."""
    ctx = Context(args)
    os.makedirs(args.output, exist_ok=True)
    os.environ["CHANGEQ_JAVA_OPTS"] = (os.environ.get("CHANGEQ_JAVA_OPTS", "")
                                       + " -XX:NativeMemoryTracking=summary").strip()

    def dump(pid, name):
        for command, suffix in (("VM.native_memory", "nmt"), ("GC.class_histogram", "histogram")):
            with open(os.path.join(args.output, f"{name}.{suffix}.txt"), "w") as f:
                f.write(f"# {name}: {memory(pid)}\n")
                subprocess.run(["jcmd", str(pid), command] + (["summary"] if suffix == "nmt" else []),
                               stdout=f, check=True)

    for size in (int(s) for s in args.sizes.split(",")):
        tree = os.path.join(ctx.work, f"nmt-{size}")
        root = os.path.join(tree, "root")
        os.makedirs(root)
        subprocess.run([ctx.gen, "tree", root, str(size)], check=True)
        proc = driver.Changeq(ctx).start(root, tree)
        time.sleep(10)
        dump(proc.pid, f"tracker-{size}")
        stop(proc)
        subprocess.run(["rm", "-rf", tree], check=True)
    run_dir = os.path.join(ctx.work, "nmt-follow")
    root, outside, dest = (os.path.join(run_dir, d) for d in ("root", "outside", "dest"))
    for d in (root, outside, dest):
        os.makedirs(d)
    subprocess.run([ctx.gen, "setup", "1", root, outside, os.path.join(run_dir, "expected")], check=True)
    tool = converge.Changeq(ctx.dist)
    tool.start(Processes, root, dest + "/", run_dir)
    workload = subprocess.Popen([ctx.gen, "run", "1", root, outside], stdout=subprocess.DEVNULL)
    # Midway through W1's sync: the follower has read a batch and runs rsync on it.
    await_text(tool.summary, "rsync-exit=", 300, tool.follower)
    deadline = time.monotonic() + 120
    while not any(os.path.basename(open(f"/proc/{c}/comm").read().strip()) == "rsync"
                  for c in descendants(tool.follower.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    dump(tool.follower.pid, "follower-w1")
    dump(tool.tracker.pid, "tracker-w1")
    workload.wait()
    tool.stop()
    subprocess.run(["rm", "-rf", run_dir], check=True)


def churn(root, stop_event, rate):
    """Creates, rewrites and deletes files and directories under root at about `rate` operations a second,
    keeping the tree's size steady: what a busy share looks like for hours."""
    rng = random.Random(26)
    dirs = [os.path.join(root, d, s) for d in sorted(os.listdir(root)) for s in sorted(os.listdir(os.path.join(root, d)))]
    files, serial = [], 0
    tick = 0.1
    while not stop_event.is_set():
        started = time.monotonic()
        for _ in range(max(1, int(rate * tick / 3))):
            serial += 1
            path = os.path.join(rng.choice(dirs), f"f{serial}")
            with open(path, "wb") as f:
                f.write(b"x" * rng.randrange(1, 4096))
            files.append(path)
            with open(rng.choice(files), "r+b") as f:
                f.write(b"y")
            if len(files) > 20000:
                victim = files.pop(rng.randrange(len(files) - 1000))
                try:
                    os.unlink(victim)
                except FileNotFoundError:
                    pass
        if serial % 1000 < rate * tick / 3:
            # Now and then a directory moves, is made or goes away with its files.
            victim = rng.choice(dirs)
            moved = victim + "m" if not victim.endswith("m") else victim[:-1]
            os.rename(victim, moved)
            dirs[dirs.index(victim)] = moved
            files = [f.replace(victim + "/", moved + "/", 1) if f.startswith(victim + "/") else f for f in files]
        time.sleep(max(0.0, tick - (time.monotonic() - started)))


def soak(args):
    """changeq-tracker and `changeq-sync follow` on a churning tree for `minutes`, one CSV row per interval."""
    ctx = Context(args)
    run_dir = os.path.join(ctx.work, "soak")
    root, dest = os.path.join(run_dir, "root"), os.path.join(run_dir, "dest")
    for d in (root, dest):
        os.makedirs(d)
    subprocess.run([ctx.gen, "tree", root, str(args.dirs)], check=True)
    tool = converge.Changeq(ctx.dist)
    tool.start(Processes, root, dest + "/", run_dir)
    stop_event = threading.Event()
    worker = threading.Thread(target=churn, args=(root, stop_event, args.rate), daemon=True)
    started = time.monotonic()
    worker.start()
    columns = ["elapsed_s"] + [f"{p}_{k}" for p in ("tracker", "follower") for k in FIELDS] + \
              ["tracker_cpu_s", "follower_cpu_s", "queue_mb"]
    with open(args.csv, "w") as out:
        out.write(",".join(columns) + "\n")
        try:
            while time.monotonic() - started < args.minutes * 60:
                row = [f"{time.monotonic() - started:.0f}"]
                for p in (tool.tracker, tool.follower):
                    m = memory(p.pid)
                    if m is None:
                        raise RuntimeError(f"{p.args[0]} exited {p.poll()}")
                    row += [f"{m[k]:.1f}" for k in FIELDS]
                row += [f"{cpu_seconds(p.pid):.1f}" for p in (tool.tracker, tool.follower)]
                queue = os.path.join(run_dir, "queue")
                # Allocated, not apparent: a cycle file is sparse until written.
                size = sum(os.stat(os.path.join(queue, f)).st_blocks * 512 for f in os.listdir(queue))
                row.append(f"{size / 1048576:.1f}")
                out.write(",".join(row) + "\n")
                out.flush()
                time.sleep(args.interval)
        finally:
            stop_event.set()
            worker.join()
            tool.stop()
            subprocess.run(["rm", "-rf", run_dir], check=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("table", "nmt", "soak"))
    parser.add_argument("--work", required=True)
    parser.add_argument("--output")
    parser.add_argument("--sizes", default="50000,200000")
    parser.add_argument("--skip-lsyncd", action="store_true")
    parser.add_argument("--csv")
    parser.add_argument("--minutes", type=float, default=120)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--dirs", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=600, help="churn operations a second (soak)")
    args = parser.parse_args()
    {"table": table, "nmt": nmt, "soak": soak}[args.mode](args)


if __name__ == "__main__":
    main()
