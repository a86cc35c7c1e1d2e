#!/usr/bin/env python3
"""End to end: how long until the destination equals the source, changeq (tracker + follower) against lsyncd.

Started by `bench/run.sh --only converge` (see there), or on its own as root once the distribution is built:
    python3 bench/converge.py --work DIR --output FILE [--quick] [--runs N] [--lsyncd-runs N] [--limit S]
                              [--workloads 1,2] [--destinations local,daemon] [--tools changeq,lsyncd,lsyncd-delay1]

Each run: set up the workload's starting tree, start the tool (and, for the daemon destination, an rsync daemon
on 127.0.0.1), each in a cpuacct cgroup of its own, let the tool's initial sync make the destination equal the
source, run the workload, and poll `gen watch` until the destination equals the source again.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import time

from common import WORKLOADS, await_text, fmt, log, machine, median_range, status_kb, stop

CPUACCT = "/sys/fs/cgroup/cpuacct"
QUEUED_EVENTS = "/proc/sys/fs/inotify/max_queued_events"
# A tool counts as idle while no rsync of its own runs and its processes use less than this share of one core
# (the tracker and follower idle at ~0.2 %, lsyncd at 0).
IDLE_CPU_SHARE = 0.02
# A tool that stayed idle this long beyond its own delay, with the destination still different, will not
# send the rest: what differs then is lost.
LOST_AFTER_IDLE_S = 10
# After converging, a tool may still run what it had scheduled; its CPU counts until it has been idle for
# its own delay plus this.
SETTLE_S = 2
SETTLE_LIMIT_S = 60
MODULE = "bench"
SINGLE_FILE = "w2/d00/f00000"


class Group:
    """A cpuacct cgroup (v1): the CPU time of every process started in it and of all their children, reaped
    or not, which /proc/PID/stat of the parent would only show for children it has waited for."""

    def __init__(self, parent, name):
        self.path = os.path.join(parent, name)
        os.mkdir(self.path)

    def popen(self, args, **kwargs):
        procs = os.path.join(self.path, "cgroup.procs")

        def join():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

        return subprocess.Popen(args, preexec_fn=join, **kwargs)

    def cpu_s(self):
        with open(os.path.join(self.path, "cpuacct.usage")) as f:
            return int(f.read()) / 1e9

    def pids(self):
        with open(os.path.join(self.path, "cgroup.procs")) as f:
            return [int(p) for p in f.read().split()]

    def rss_mb(self):
        """Sum of the resident sets of the group's processes now."""
        total = 0
        for pid in self.pids():
            try:
                total += max(0, status_kb(pid, "VmRSS"))
            except OSError:
                pass  # exited since the listing
        return total / 1024

    def rsync_running(self):
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "rsync":
                        return True
            except OSError:
                pass
        return False

    def remove(self):
        """Kills what is left in the group (rsync children of a stopped tool), then removes it."""
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        os.rmdir(self.path)


class Changeq:
    """changeq-tracker and `changeq-sync follow` from the distribution, as the units run them, with the route's
    default follow settings (quiet 2 s, max-delay 30 s, max-batch 10,000)."""

    name = "changeq"
    delay_s = 2  # follow.quiet: a run starts once the route's changes have been quiet this long

    def __init__(self, dist):
        self.dist = dist

    def start(self, group, root, dest_url, run_dir):
        config = os.path.join(run_dir, "changeq.yaml")
        # propagate-deletes, because W4 and W5 delete and the copy must follow at once, not at the next full
        # sync; max-delete, because W5 deletes every file of the tree and W4 every file of w4/src, which the
        # default 25 % would refuse until an admin consents (the copy is kept, and the run never converges).
        with open(config, "w") as f:
            f.write(f"queue: {run_dir}/queue\n"
                    f"state: {run_dir}/state\n"
                    f"roots:\n  bench: {{path: {root}}}\n"
                    f"routes:\n  bench: {{root: bench, dest: \"{dest_url}\", propagate-deletes: true,"
                    f" max-delete: 100000000}}\n")
        env = dict(os.environ, CHANGEQ_USER="root")
        tracker_err = os.path.join(run_dir, "tracker.err")
        self.tracker = group.popen([f"{self.dist}/bin/changeq-tracker", "--config", config],
                                   stdout=subprocess.DEVNULL, stderr=open(tracker_err, "wb"), env=env)
        await_text(tracker_err, "watching ", 300, self.tracker)
        # The follower's first run is the route's first, a full sync; its summary line says when it is done.
        self.summary = os.path.join(run_dir, "follow.out")
        self.follower = group.popen([f"{self.dist}/bin/changeq-sync", "follow", "--config", config,
                                     "--route", "bench"],
                                    stdout=open(self.summary, "wb"),
                                    stderr=open(os.path.join(run_dir, "follow.err"), "wb"), env=env)
        await_text(self.summary, "rsync-exit=", 300, self.follower)

    def stop(self):
        stop(self.follower)
        stop(self.tracker)


class Lsyncd:
    """lsyncd's default.rsync, with its default delay (15 s) or a given one."""

    def __init__(self, delay=None):
        self.delay = delay
        self.name = "lsyncd" if delay is None else f"lsyncd delay {delay}"
        self.delay_s = 15 if delay is None else delay

    def start(self, group, root, dest_url, run_dir):
        log_file = os.path.join(run_dir, "lsyncd.log")
        config = os.path.join(run_dir, "lsyncd.lua")
        delay = "" if self.delay is None else f", delay = {self.delay}"
        with open(config, "w") as f:
            f.write(f'settings {{ logfile = "{log_file}", nodaemon = true }}\n'
                    f'sync {{ default.rsync, source = "{root}", target = "{dest_url}"{delay} }}\n')
        self.proc = group.popen(["lsyncd", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Logged once its initial rsync of the whole tree is done.
        await_text(log_file, "finished.", 300, self.proc)

    def stop(self):
        stop(self.proc)


class LocalDestination:
    name = "local"

    def __init__(self, run_dir, groups):
        self.path = os.path.join(run_dir, "dest")
        os.mkdir(self.path)
        self.url = self.path + "/"
        self.group = None

    def stop(self):
        pass


class DaemonDestination:
    """An rsync daemon on 127.0.0.1 with one module on a fresh directory, in a cgroup of its own: its CPU
    (the receiving side, one forked process per connection) is reported apart from the tool's."""

    name = "daemon"

    def __init__(self, run_dir, groups):
        self.path = os.path.join(run_dir, "dest")
        os.mkdir(self.path)
        port = free_port()
        config = os.path.join(run_dir, "rsyncd.conf")
        with open(config, "w") as f:
            f.write(f"address = 127.0.0.1\nport = {port}\nuse chroot = no\n"
                    f"log file = {run_dir}/rsyncd.log\n"
                    f"[{MODULE}]\n  path = {self.path}\n  read only = no\n  uid = root\n  gid = root\n")
        self.group = Group(groups, "daemon")
        self.proc = self.group.popen(["rsync", "--daemon", "--no-detach", "--config", config],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"rsync://127.0.0.1:{port}/{MODULE}/"
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"rsync daemon on port {port} did not start; see {run_dir}/rsyncd.log")
                time.sleep(0.01)

    def stop(self):
        stop(self.proc)


DESTINATIONS = {"local": LocalDestination, "daemon": DaemonDestination}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Watch:
    """`gen watch SRC DST`: each poll re-checks what differed, a whole walk only once that is resolved."""

    def __init__(self, ctx, src, dst):
        self.proc = subprocess.Popen([ctx.gen, "watch", src, dst], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def differing(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


class Idleness:
    """How long a tool has been idle, asked at every poll: since the last poll that found an rsync of its own
    running, or its CPU time grown by more than IDLE_CPU_SHARE of the time since the poll before."""

    def __init__(self, group):
        self.group = group
        self.since = self.last = time.monotonic()
        self.last_cpu = group.cpu_s()

    def idle_for(self):
        now, cpu = time.monotonic(), self.group.cpu_s()
        if self.group.rsync_running() or cpu - self.last_cpu > IDLE_CPU_SHARE * (now - self.last) + 0.005:
            self.since = now
        self.last, self.last_cpu = now, cpu
        return now - self.since


class Context:
    def __init__(self, args):
        self.repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.dist = os.path.join(self.repo, "systemd/target/changeq")
        self.work = args.work
        self.gen = os.path.join(self.work, "gen")
        self.limit = args.limit
        self.poll = args.poll
        self.groups = os.path.join(CPUACCT, f"changeq-bench-converge-{os.getpid()}")
        sysctl = open(os.path.join(self.repo, "systemd/src/main/sysctl/60-changeq-inotify.conf")).read()
        self.queued_events = re.search(r"^fs.inotify.max_queued_events *= *(\d+)", sysctl, re.M).group(1)


def until_equal(ctx, src, dst, limit, what):
    watch = Watch(ctx, src, dst)
    try:
        deadline = time.monotonic() + limit
        while watch.differing():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: {dst} still differs from {src} after {limit} s")
            time.sleep(ctx.poll)
    finally:
        watch.close()


def settle(ctx, group, seconds, peak):
    """Waits until the group has been idle for SECONDS (at most SETTLE_LIMIT_S); returns the peak RSS seen."""
    idleness = Idleness(group)
    deadline = time.monotonic() + SETTLE_LIMIT_S
    while idleness.idle_for() < seconds and time.monotonic() < deadline:
        peak = max(peak, group.rss_mb())
        time.sleep(ctx.poll)
    return peak


def count_differences(ctx, src, dst):
    return int(subprocess.run([ctx.gen, "compare", src, dst], capture_output=True, text=True).stdout)


class Run:
    """One run's tree, destination and tool, each in its cgroup; entered once the tool's initial sync made the
    destination equal the source (not measured). Leaving stops everything and removes the groups and tree."""

    def __init__(self, ctx, tool, destination_class, name, workload):
        self.ctx, self.tool, self.destination_class = ctx, tool, destination_class
        self.dir = os.path.join(ctx.work, name)
        self.groups = os.path.join(ctx.groups, name)
        self.root, self.outside = os.path.join(self.dir, "root"), os.path.join(self.dir, "outside")
        self.workload = workload
        self.destination = self.group = None
        self.tool_started = False

    def __enter__(self):
        os.makedirs(self.root)
        os.makedirs(self.outside)
        os.mkdir(self.groups)
        try:
            subprocess.run([self.ctx.gen, "setup", str(self.workload), self.root, self.outside,
                            os.path.join(self.dir, "expected")], check=True)
            self.destination = self.destination_class(self.dir, self.groups)
            self.group = Group(self.groups, "tool")
            self.tool.start(self.group, self.root, self.destination.url, self.dir)
            self.tool_started = True
            until_equal(self.ctx, self.root, self.destination.path, self.ctx.limit,
                        f"{self.tool.name}'s initial sync")
            settle(self.ctx, self.group, 1, 0)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self.tool_started:
                self.tool.stop()
        finally:
            if self.group:
                self.group.remove()  # whatever a failed start left, and rsync children of a stopped tool
            if self.destination:
                self.destination.stop()
                if self.destination.group:
                    self.destination.group.remove()
            os.rmdir(self.groups)
            shutil.rmtree(self.dir)


def run_workload(ctx, tool, destination_class, w, index):
    name = f"{tool.name.replace(' ', '-')}-w{w}-{destination_class.name}-{index}"
    with Run(ctx, tool, destination_class, name, w) as run:
        group, daemon = run.group, run.destination.group
        root, dest = run.root, run.destination.path
        cpu_before = group.cpu_s()
        daemon_before = daemon.cpu_s() if daemon else 0
        peak = group.rss_mb()
        workload = subprocess.Popen([ctx.gen, "run", str(w), root, run.outside], stdout=subprocess.PIPE,
                                    text=True)
        while workload.poll() is None:
            peak = max(peak, group.rss_mb())
            time.sleep(ctx.poll)
        if workload.returncode != 0:
            raise RuntimeError(f"gen run {w} exited {workload.returncode}")
        start_ns, end_ns = map(int, workload.stdout.read().split())
        result = {"workload_s": (end_ns - start_ns) / 1e9}
        watch = Watch(ctx, root, dest)
        idleness = Idleness(group)
        try:
            while True:
                asked_ns = time.time_ns()
                differing = watch.differing()
                peak = max(peak, group.rss_mb())
                if differing == 0:
                    # Equal when asked, to within the check's own time: a few stat calls, or a whole walk when
                    # the list of what differed has just emptied.
                    result.update(status="converged", converged_s=(asked_ns - start_ns) / 1e9)
                    break
                ending = ("lost" if idleness.idle_for() >= tool.delay_s + LOST_AFTER_IDLE_S
                          else "timeout" if (time.time_ns() - start_ns) / 1e9 > ctx.limit else None)
                if ending:
                    # A whole count, which may also find the last entries arrived since the poll.
                    result.update(status=ending, differing=count_differences(ctx, root, dest))
                    if result["differing"] == 0:
                        result.update(status="converged", converged_s=(time.time_ns() - start_ns) / 1e9)
                    break
                time.sleep(ctx.poll)
        finally:
            watch.close()
        if result["status"] == "converged":
            peak = settle(ctx, group, tool.delay_s + SETTLE_S, peak)
        result.update(cpu_s=group.cpu_s() - cpu_before, rss_mb=peak)
        if daemon:
            result["daemon_cpu_s"] = daemon.cpu_s() - daemon_before
    return result


def single_file(ctx, tool, destination_class, writes):
    """Latency of single changed files: rewrite one file of W2's tree (10,000 files in 100 dirs) WRITES times,
    each once the previous one has arrived and a pause has passed, and time each until the destination's copy
    has the source's size and mtime."""
    name = f"{tool.name.replace(' ', '-')}-single-{destination_class.name}"
    with Run(ctx, tool, destination_class, name, 2) as run:
        source, copy = os.path.join(run.root, SINGLE_FILE), os.path.join(run.destination.path, SINGLE_FILE)
        latencies = []
        for i in range(writes):
            # Pauses of 1.0-1.9 s, so the writes fall on different phases of the tool's own polling.
            time.sleep(1 + (i * 7 % 10) / 10)
            with open(source, "wb") as f:
                f.write(b"x" * (17 + i))  # a size the destination has not had yet
            written = time.monotonic()
            wanted = os.stat(source)
            while True:
                try:
                    got = os.stat(copy)
                    if got.st_size == wanted.st_size and got.st_mtime_ns == wanted.st_mtime_ns:
                        break
                except FileNotFoundError:
                    pass
                if time.monotonic() - written > ctx.limit:
                    raise RuntimeError(f"{tool.name}: {SINGLE_FILE} not at {destination_class.name} after"
                                       f" {ctx.limit} s")
                time.sleep(0.01)
            latencies.append(time.monotonic() - written)
    return latencies


def median_cell(values, digits):
    if median_range(values)[0] is None:
        return "—"
    med, lo, hi = (fmt(v, digits) for v in median_range(values))
    return med if lo == hi else f"{med} ({lo}–{hi})"


def converged_cell(runs, limit):
    converged = [r["converged_s"] for r in runs if r["status"] == "converged"]
    cells = [median_cell(converged, 1)] if converged else []
    timeouts = [r["differing"] for r in runs if r["status"] == "timeout"]
    if timeouts:
        cells.append(f"{len(timeouts)} of {len(runs)} not converged in {limit} s ({max(timeouts):,} differing)")
    lost = sum(r["status"] == "lost" for r in runs)
    if lost:
        cells.append(f"{lost} of {len(runs)} ended idle with entries differing")
    return "; ".join(cells)


def lost_cell(runs):
    lost = [r["differing"] for r in runs if r["status"] == "lost"]
    if not lost:
        return "0"
    return f"{median_cell(lost, 0)} in {len(lost)} of {len(runs)} runs"


def time_ratio(a_runs, b_runs, limit):
    """changeq's median time over the peer's; a peer that did not converge in the limit gives an upper bound."""
    a = median_range([r.get("converged_s") for r in a_runs])[0]
    b = median_range([r.get("converged_s") for r in b_runs])[0]
    if a is None:
        return "—"
    if b is None:
        if all(r["status"] == "timeout" for r in b_runs):
            return f"< {a / limit:.2f}× (not converged in {limit} s)"
        return "— (ended different)"
    return f"{a / b:.2f}×"


def cpu_ratio(a_runs, b_runs):
    a = median_range([r.get("cpu_s") for r in a_runs])[0]
    b = median_range([r.get("cpu_s") for r in b_runs])[0]
    return "—" if a is None or not b else f"{a / b:.2f}×"


def report(ctx, args, results, singles, load_before, load_after, minutes):
    m = machine()
    versions = {name: subprocess.run([name, "--version"], capture_output=True, text=True).stdout.split()[index]
                for name, index in (("rsync", 2), ("lsyncd", 1))}
    lines = []
    add = lines.append
    add("### End to end: changes at the destination")
    add("")
    add(f"Generated by `bench/converge.py{' --quick' if args.quick else ''}` on"
        f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {minutes:.1f} min; runs per workload and"
        f" destination: {args.runs} for changeq, {args.lsyncd_runs} for each lsyncd configuration; median and"
        f" (min–max). Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']:.1f} GiB RAM, kernel {m['kernel']},"
        f" {m['java']}, rsync {versions['rsync']}, lsyncd {versions['lsyncd']}; trees, queue and"
        f" destinations on tmpfs (`{os.path.dirname(ctx.work)}`). Load average (1 min) before: {load_before},"
        f" after: {load_after}. The kernel's inotify queue: {ctx.queued_events} events, as the package's"
        " sysctl sets it.")
    add("")
    add("Tools: changeq is `changeq-tracker --config FILE` and `changeq-sync follow --config FILE --route NAME`"
        " from the distribution (`systemd/target/changeq/bin`), one route with the default follow settings (quiet"
        " 2 s, max-delay 30 s, max-batch 10,000) and rsync-args (`-a -r --super` locally, `-rlt` to the daemon),"
        " plus `propagate-deletes: true` so W4 and W5's deletions follow at once, and a `max-delete` above the"
        " workloads' (the default 25 % refuses W5's deletion of every file until an admin consents). lsyncd is"
        " `default.rsync` with its default `delay` (15 s) and with `delay = 1`. Destinations: a local directory,"
        " and an rsync daemon on 127.0.0.1 (`use chroot = no`, a module on a directory; the tools' target is"
        " `rsync://127.0.0.1:PORT/bench/`), started afresh for each run.")
    add("")
    add("Each run sets up the workload's starting tree, starts the tool and waits for its initial sync (not"
        " measured) until the destination equals the source, runs the workload (`gen run`), then polls"
        f" `gen watch` every {ctx.poll * 1000:.0f} ms: equal means every entry's type, and every file's size and"
        " mtime to the nanosecond, and no entry only at the destination (directories' times are not compared)."
        " The first poll walks both trees and lists what differs; later polls re-check that list in order and"
        " walk again only once it is empty, so polling costs little beside the tool. **converged**: from the"
        " workload's first syscall until a poll found the trees equal."
        f" **lost**: a run ends when the destination still differs and the tool has been idle for its own delay"
        f" plus {LOST_AFTER_IDLE_S} s (no rsync of its own running, under {IDLE_CPU_SHARE:.0%} of a core); the"
        " entries that differ then are lost, as nothing would send them. A run still busy at the limit"
        f" ({ctx.limit} s) is *not converged*, with the entries differing then. **CPU**: user+system of every"
        " process of the tool, from the workload's start until the tool has been idle for its delay plus"
        f" {SETTLE_S} s after converging (what it had still scheduled counts), read from a cgroup-v1 cpuacct"
        " group per tool that its processes and all their children, rsync included, run in: tracker + follower +"
        " rsync for changeq, lsyncd + rsync for lsyncd. For the local destination this includes rsync's receiving"
        " side; for the daemon, the receiving side runs in the daemon, in a group of its own, reported as"
        " **daemon CPU**. **peak RSS**: the largest sum of VmRSS over the tool's processes, sampled at every poll"
        " (short-lived rsync processes can fall between samples; shared pages count in each process).")
    add("")
    add("| workload | destination | tool | converged s | lost | CPU s | daemon CPU s | peak RSS MB |")
    add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for (w, dest, tool), runs in results.items():
        daemon = median_cell([r.get("daemon_cpu_s") for r in runs], 2) if dest == "daemon" else "in CPU s"
        add(f"| {WORKLOADS[w]} | {dest} | {tool} | {converged_cell(runs, ctx.limit)} | {lost_cell(runs)} |"
            f" {median_cell([r['cpu_s'] for r in runs], 2)} | {daemon} |"
            f" {median_cell([r['rss_mb'] for r in runs], 1)} |")
    add("")
    peers = [t for t in dict.fromkeys(tool for _, _, tool in results) if t != "changeq"]
    if "changeq" in {tool for _, _, tool in results} and peers:
        add("Ratios changeq / lsyncd (medians; below 1 is changeq faster or cheaper):")
        add("")
        add("| workload | destination | " + " | ".join(f"time vs {p} | CPU vs {p}" for p in peers) + " |")
        add("| --- | --- | " + " | ".join("--- | ---" for _ in peers) + " |")
        for (w, dest) in dict.fromkeys((w, dest) for w, dest, _ in results):
            mine = results.get((w, dest, "changeq"))
            if not mine:
                continue
            cells = []
            for p in peers:
                theirs = results.get((w, dest, p))
                cells += [time_ratio(mine, theirs, ctx.limit), cpu_ratio(mine, theirs)] if theirs else ["—", "—"]
            add(f"| W{w} | {dest} | " + " | ".join(cells) + " |")
        add("")
    if singles:
        add("### End to end: a single changed file")
        add("")
        add("One file of W2's tree (10,000 files in 100 dirs) rewritten with a new size, each write 1.0–1.9 s after"
            " the previous one arrived; latency from the write's `close` until the destination's copy has the"
            " source's size and mtime (polled every 10 ms). Same tools, settings and destinations as above.")
        add("")
        add("| destination | tool | writes | latency s |")
        add("| --- | --- | --- | --- |")
        for (dest, tool), latencies in singles.items():
            add(f"| {dest} | {tool} | {len(latencies)} | {median_cell(latencies, 2)} |")
        add("")
    add("Targets:")
    add("")
    add("| target | result |")
    add("| --- | --- |")
    for target, result in targets(ctx, results, singles):
        add(f"| {target} | {result} |")
    add("")
    return "\n".join(lines)


def targets(ctx, results, singles):
    mine = {k: v for k, v in results.items() if k[2] == "changeq"}
    if mine:
        runs = [r for v in mine.values() for r in v]
        failed = [f"W{w} {dest}: {r['status']} ({r['differing']:,} differing)"
                  for (w, dest, _), v in mine.items() for r in v if r["status"] != "converged"]
        yield ("changeq converges on every workload and destination, nothing lost",
               f"**{'met' if not failed else 'missed'}**: {len(runs) - len(failed)} of {len(runs)} runs converged"
               + (f"; {', '.join(failed)}" if failed else ""))
    for dest in dict.fromkeys(d for w, d, _ in results if w == 1):
        a = results.get((1, dest, "changeq"))
        peers = [(t, v) for (w, d, t), v in results.items() if w == 1 and d == dest and t != "changeq"]
        if not a or not peers:
            continue
        a_time = median_range([r.get("converged_s") for r in a])[0]
        a_cpu = median_range([r["cpu_s"] for r in a])[0]
        verdicts, met = [], a_time is not None
        for tool, b in peers:
            b_time = median_range([r.get("converged_s") for r in b])[0]
            b_cpu = median_range([r["cpu_s"] for r in b])[0]
            if b_time is None:
                time_text = f"{tool} did not converge in {ctx.limit} s"
                met = met and all(r["status"] == "timeout" for r in b) and a_time <= ctx.limit / 2
            else:
                time_text = f"{fmt(a_time, 1) if a_time else '—'} s vs {fmt(b_time, 1)} s"
                met = met and a_time <= b_time / 2
            met = met and a_cpu <= b_cpu / 4
            verdicts.append(f"{time_text}, CPU {fmt(a_cpu, 2)} s vs {fmt(b_cpu, 2)} s ({cpu_ratio(a, b)}) [{tool}]")
        yield (f"W1 to {dest}: at most half of lsyncd's time, at most a quarter of its CPU",
               f"**{'met' if met else 'missed'}**: " + "; ".join(verdicts))
    for (dest, tool), latencies in singles.items():
        if tool == "changeq":
            med = statistics.median(latencies)
            yield (f"a single changed file at the {dest} destination within 5 s (median of {len(latencies)}),"
                   " default settings", f"**{'met' if med <= 5 else 'missed'}**: {med:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="scratch directory, best on tmpfs")
    parser.add_argument("--output", required=True, help="where the markdown section goes (also printed)")
    parser.add_argument("--quick", action="store_true", help="1 run of everything, fewer single-file writes")
    parser.add_argument("--runs", type=int, help="changeq runs per workload and destination (default 3)")
    parser.add_argument("--lsyncd-runs", type=int, help="runs per lsyncd configuration (default 1)")
    parser.add_argument("--limit", type=int, default=300, help="seconds a run may take to converge (default 300)")
    parser.add_argument("--workloads", default="1,2,3,4,5,6")
    parser.add_argument("--destinations", default="local,daemon")
    parser.add_argument("--tools", default="changeq,lsyncd,lsyncd-delay1")
    parser.add_argument("--single-writes", type=int, help="single-file writes for changeq (default 20)")
    parser.add_argument("--single-lsyncd-writes", type=int, help="... for each lsyncd configuration (default 3)")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between polls (default 0.1)")
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    args.lsyncd_runs = args.lsyncd_runs or 1
    args.single_writes = args.single_writes if args.single_writes is not None else (5 if args.quick else 20)
    args.single_lsyncd_writes = (args.single_lsyncd_writes if args.single_lsyncd_writes is not None
                                 else (2 if args.quick else 3))
    ctx = Context(args)
    if not os.path.exists(ctx.gen):
        subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-o", ctx.gen, os.path.join(ctx.repo, "bench/gen.c")],
                       check=True)
    known = {"changeq": lambda: Changeq(ctx.dist), "lsyncd": Lsyncd, "lsyncd-delay1": lambda: Lsyncd(1)}
    tools = [known[t]() for t in args.tools.split(",")]
    destinations = [DESTINATIONS[d] for d in args.destinations.split(",")]
    load_before = open("/proc/loadavg").read().split()[0]
    began = time.monotonic()
    # Both tools get the kernel event queue the package installs, as deployed.
    queued_before = open(QUEUED_EVENTS).read().strip()
    with open(QUEUED_EVENTS, "w") as f:
        f.write(ctx.queued_events)
    os.mkdir(ctx.groups)
    results, singles = {}, {}
    try:
        for w in [int(w) for w in args.workloads.split(",")]:
            for destination in destinations:
                for tool in tools:
                    runs = []
                    for index in range(args.runs if tool.name == "changeq" else args.lsyncd_runs):
                        r = run_workload(ctx, tool, destination, w, index)
                        log(f"W{w} {destination.name} {tool.name} run {index + 1}: {r}")
                        runs.append(r)
                    results[(w, destination.name, tool.name)] = runs
        for destination in destinations:
            for tool in tools:
                writes = args.single_writes if tool.name == "changeq" else args.single_lsyncd_writes
                if writes:
                    singles[(destination.name, tool.name)] = single_file(ctx, tool, destination, writes)
                    log(f"single file {destination.name} {tool.name}: {singles[(destination.name, tool.name)]}")
    finally:
        os.rmdir(ctx.groups)
        with open(QUEUED_EVENTS, "w") as f:
            f.write(queued_before)
    load_after = open("/proc/loadavg").read().split()[0]
    text = report(ctx, args, results, singles, load_before, load_after, (time.monotonic() - began) / 60)
    with open(args.output, "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
