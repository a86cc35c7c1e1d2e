#!/usr/bin/env python3
"""Runs the changeq benchmarks; started by bench/run.sh (see there for usage), which builds what it needs.

Each workload runs in a fresh tree: set up, start the tool, wait until it watches, start the probe, run the
workload, wait until the tool has recorded everything (or a timeout), read its CPU time and peak RSS, stop it.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import time

from common import WORKLOADS, await_text, cell, cpu_seconds, log, machine, ratio, status_kb, stop

# How long after the workload's end a tool may take to record everything.
TIMEOUT_S = 15


class Changeq:
    def __init__(self, ctx, name="changeq", java_opts=None, env=None):
        self.ctx = ctx
        self.name = name
        self.java_opts = java_opts
        self.env = env or {}

    def start(self, root, run_dir):
        env = dict(os.environ)
        if self.java_opts is not None:
            env["CHANGEQ_JAVA_OPTS"] = self.java_opts
        env.update(self.env)
        self.queue = os.path.join(run_dir, "queue")
        self.err = os.path.join(run_dir, "tracker.err")
        self.proc = subprocess.Popen([f"{self.ctx.dist}/bin/changeq-tracker", "--root", root, "--queue", self.queue],
                                     stdout=subprocess.DEVNULL, stderr=open(self.err, "wb"), env=env)
        await_text(self.err, "watching ", 300, self.proc)
        return self.proc

    def probe_args(self, root, expected):
        return ["queue", self.queue, expected, str(TIMEOUT_S)]


class Inotifywait:
    name = "inotifywait"

    def __init__(self, ctx):
        self.ctx = ctx

    def start(self, root, run_dir):
        self.out = os.path.join(run_dir, "inotifywait.out")
        self.err = os.path.join(run_dir, "inotifywait.err")
        self.proc = subprocess.Popen(["inotifywait", "-m", "-r", "--format", "%w%f%0", root],
                                     stdout=open(self.out, "wb"), stderr=open(self.err, "wb"))
        await_text(self.err, "Watches established.", 300, self.proc)
        return self.proc

    def settle(self):
        # Its own walk opened every directory: those events come out right after "Watches established."
        # and must not count as the workload's.
        size = -1
        while size != os.path.getsize(self.out):
            size = os.path.getsize(self.out)
            time.sleep(0.3)

    def probe_args(self, root, expected):
        return ["file", self.out, root, expected, str(TIMEOUT_S)]


class Context:
    def __init__(self, args):
        self.repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.dist = os.path.join(self.repo, "systemd/target/changeq")
        self.work = args.work
        self.gen = os.path.join(self.work, "gen")
        self.probe_cp = os.path.join(self.work, "probe") + ":" + os.path.join(self.dist, "lib/*")
        self.runs = args.runs
        self.watch_runs = args.watch_runs
        self.c2_opts = args.c2_opts
        self.c2_env = dict(kv.split("=", 1) for kv in args.c2_env.split()) if args.c2_env else {}
        self.capped_opts = args.capped_opts


def run_workload(ctx, tool, w, run):
    run_dir = os.path.join(ctx.work, f"{tool.name}-w{w}-{run}")
    root, outside = os.path.join(run_dir, "root"), os.path.join(run_dir, "outside")
    os.makedirs(root)
    os.makedirs(outside)
    expected = os.path.join(run_dir, "expected")
    subprocess.run([ctx.gen, "setup", str(w), root, outside, expected], check=True)
    expected_count = open(expected, "rb").read().count(b"\0")
    proc = tool.start(root, run_dir)
    probe = None
    try:
        if isinstance(tool, Inotifywait):
            tool.settle()
        probe = subprocess.Popen(["java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                                  "-Dchronicle.analytics.disable=true", "-Dchronicle.announcer.disable=true",
                                  "-Ddisable.perf.info=true",
                                  f"-Dlogback.configurationFile={ctx.dist}/conf/logback.xml",
                                  "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
                                  "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                                  "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
                                  "-cp", ctx.probe_cp, "Probe"] + tool.probe_args(root, expected),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if probe.stdout.readline().strip() != "ready":
            raise RuntimeError("probe did not start")
        cpu_before = cpu_seconds(proc.pid)
        out = subprocess.run([ctx.gen, "run", str(w), root, outside], check=True, capture_output=True,
                             text=True).stdout
        start_ns, end_ns = map(int, out.split())
        result = {"workload_s": (end_ns - start_ns) / 1e9, "expected": expected_count}
        probe.stdin.write(f"END {end_ns}\n")
        probe.stdin.flush()
        line = probe.stdout.readline()
        probe.wait()
        figures = dict(kv.split("=") for kv in line.split())
        latency = float(figures["latency_ms"])
        result.update(latency_ms=None if latency < 0 else latency, missing=int(figures["missing"]),
                      extra=int(figures["extra"]), records=int(figures["records"]),
                      overflows=int(figures["overflows"]))
        result["cpu_s"] = cpu_seconds(proc.pid) - cpu_before
        hwm_kb = status_kb(proc.pid, "VmHWM")
        if hwm_kb < 0:
            # Gone (a zombie has no VmHWM): the tool exited during the run.
            result["exited"] = proc.poll()
        else:
            result["hwm_mb"] = hwm_kb / 1024
        if isinstance(tool, Inotifywait):
            # Anything on stderr after the two setup lines is inotifywait reporting trouble (a queue overflow).
            complaints = open(tool.err, errors="replace").read().splitlines()[2:]
            result["overflows"] = result.get("overflows", 0) + len(complaints)
            if complaints:
                result["stderr"] = complaints[:3]
    finally:
        if probe and probe.poll() is None:
            probe.kill()
        stop(proc)
    shutil.rmtree(run_dir)
    return result


def workloads(ctx, tools, selected, c2_workloads):
    results = {}
    for w in selected:
        for tool in tools:
            if tool.name == "changeq-c2" and w not in c2_workloads:
                continue
            runs = []
            for run in range(ctx.runs):
                r = run_workload(ctx, tool, w, run)
                log(f"W{w} {tool.name} run {run + 1}: {r}")
                runs.append(r)
            results[(w, tool.name)] = runs
    return results


def watch_setup(ctx, sizes, tools):
    results = {}
    for size in sizes:
        tree_dir = os.path.join(ctx.work, f"tree-{size}")
        root = os.path.join(tree_dir, "root")
        os.makedirs(root)
        subprocess.run([ctx.gen, "tree", root, str(size)], check=True)
        for label, tool in tools:
            runs = []
            for run in range(ctx.watch_runs):
                run_dir = os.path.join(tree_dir, f"{label}-{run}")
                os.makedirs(run_dir)
                started = time.monotonic()
                proc = tool.start(root, run_dir)
                seconds = time.monotonic() - started
                r = {"setup_s": seconds, "rss_mb": status_kb(proc.pid, "VmRSS") / 1024,
                     "hwm_mb": status_kb(proc.pid, "VmHWM") / 1024,
                     "cpu_s": cpu_seconds(proc.pid)}
                text = open(tool.err, errors="replace").read()
                found = re.search(r"watching (\d+) directories", text)
                if found:
                    r["watched"] = int(found.group(1))
                stop(proc)
                shutil.rmtree(run_dir)
                log(f"watch {size} {label} run {run + 1}: {r}")
                runs.append(r)
            results[(size, label)] = runs
        shutil.rmtree(tree_dir)
    return results


def planner(ctx, configs):
    results = {}
    flags = open(os.path.join(ctx.dist, "libexec/changeq-java")).read()
    module_flags = re.search(r'^module_flags="(.*)"$', flags, re.M).group(1).split()
    cp = ":".join([os.path.join(ctx.repo, "native-tests/target/test-classes"),
                   os.path.join(ctx.repo, "pipeline/target/test-classes"), os.path.join(ctx.dist, "lib/*")])
    java = ["java"] + module_flags + ["-XX:+UseSerialGC", "-Dchronicle.analytics.disable=true",
                                      f"-Dlogback.configurationFile={ctx.dist}/conf/logback.xml", "-cp", cp,
                                      "org.changeq.bench.PlanBenchmark"]
    for records, unique in configs:
        plan_dir = os.path.join(ctx.work, f"plan-{records}-{unique}")
        subprocess.run(java + ["write", plan_dir, str(records), str(unique)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        paths = os.path.join(plan_dir, "paths.txt")
        runs = {"changeq plan": [], "changeq plan -Xmx64m": [], "changeq-queue paths -0": [], "sort -u": [],
                "LC_ALL=C sort -u": []}
        for run in range(ctx.runs):
            # -Xmx64m: does the planner's heap stay bounded by the unique paths, not the records?
            for label, heap in (("changeq plan", []), ("changeq plan -Xmx64m", ["-Xmx64m"])):
                try:
                    timed = timed_run(java[:1] + heap + java[1:] + ["plan", plan_dir])
                except RuntimeError:
                    runs[label].append({"failed": 1})
                    continue
                figures = re.search(r"listed=(\d+) seconds=([0-9.]+)", timed["stdout"])
                runs[label].append({"wall_s": timed["wall_s"], "in_jvm_s": float(figures.group(2)),
                                    "rss_mb": timed["rss_mb"], "listed": int(figures.group(1))})
            # The same plan through the installed command, as an admin would run it: launcher flags and
            # class-data archive included.
            with open(os.path.join(plan_dir, "paths.list"), "wb") as listing:
                timed = timed_run([os.path.join(ctx.dist, "bin/changeq-queue"), "paths", "-0", "--route", "bench",
                                   "--config", os.path.join(plan_dir, "changeq.yaml")], stdout=listing)
            runs["changeq-queue paths -0"].append({"wall_s": timed["wall_s"], "rss_mb": timed["rss_mb"]})
            for label, env in (("sort -u", {"LC_ALL": "C.UTF-8"}), ("LC_ALL=C sort -u", {"LC_ALL": "C"})):
                timed = timed_run(["sort", "-u", "-o", os.path.join(plan_dir, "sorted"), paths], env)
                runs[label].append({"wall_s": timed["wall_s"], "rss_mb": timed["rss_mb"]})
            log(f"plan {records}/{unique} run {run + 1}: " + json.dumps({k: v[-1] for k, v in runs.items()}))
        results[(records, unique)] = runs
        shutil.rmtree(plan_dir)
    return results


def timed_run(command, env_extra=None, stdout=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=stdout or subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    stdout = proc.stdout.read() if stdout is None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{command} failed: {status}")
    return {"wall_s": time.monotonic() - started, "rss_mb": usage.ru_maxrss / 1024, "stdout": stdout}


def report(ctx, args, wl, watch, plan, started_load, finished_load, minutes):
    m = machine()
    work_fs = subprocess.run(["stat", "-f", "-c", "%T", ctx.work], capture_output=True, text=True).stdout.strip()
    lines = []
    add = lines.append
    add(f"Generated by `bench/run.sh{' --quick' if args.quick else ''}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f" in {minutes:.1f} min; {ctx.runs} runs per workload and tool, {ctx.watch_runs} per watch-setup figure; median"
        f" and (min–max).")
    add("")
    add(f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']:.1f} GiB RAM, kernel {m['kernel']}, {m['java']};"
        f" trees and queue on {work_fs} (`{os.path.dirname(ctx.work)}`)."
        f" Load average (1 min) before: {started_load}, after: {finished_load} — the cores are shared with other"
        f" builds, so single runs are noisy.")
    add("")
    if wl:
        add("### Workloads")
        add("")
        add("Latency: from the workload's last syscall until the last expected path is recorded (changeq: in the"
            " queue, read by a follower; inotifywait: in its output file). CPU: user+system of the tool process"
            " during the workload. Peak RSS: VmHWM of the tool.")
        add("")
        add("| workload | tool | workload s | latency ms | missing | extra | records | overflows | CPU s | peak RSS MB |")
        add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for (w, name), runs in sorted(wl.items()):
            add(f"| {WORKLOADS[w]} | {name} | {cell(runs, 'workload_s', 2)} | {cell(runs, 'latency_ms')} |"
                f" {cell(runs, 'missing', 0)} | {cell(runs, 'extra', 0)} | {cell(runs, 'records', 0)} |"
                f" {cell(runs, 'overflows', 0)} | {cell(runs, 'cpu_s', 2)} | {cell(runs, 'hwm_mb')} |")
        add("")
        compared = [w for w in sorted({w for w, _ in wl}) if (w, "changeq") in wl and (w, "inotifywait") in wl]
        if compared:
            add("Ratios changeq / inotifywait (medians):")
            add("")
            add("| workload | latency | CPU | peak RSS |")
            add("| --- | --- | --- | --- |")
            for w in compared:
                a, b = wl[(w, "changeq")], wl[(w, "inotifywait")]
                add(f"| W{w} | {ratio(a, b, 'latency_ms')} | {ratio(a, b, 'cpu_s')} | {ratio(a, b, 'hwm_mb')} |")
            add("")
    if watch:
        add("### Watch setup")
        add("")
        add("Start of the process until it watches the whole tree (changeq: the log line \"watching N directories\","
            " JVM start included; inotifywait: \"Watches established.\"). RSS: VmRSS then; CPU: user+system until then.")
        add("")
        env = " ".join(f"{k}={v}" for k, v in ctx.c2_env.items())
        add(f"changeq: the launcher's flags (`libexec/changeq-java`). changeq-c2: the launcher's flags before the"
            f" tracker got C1 only, `{env} CHANGEQ_JAVA_OPTS=\"{ctx.c2_opts}\"`."
            f" changeq-capped: `CHANGEQ_JAVA_OPTS=\"{ctx.capped_opts}\"`.")
        add("")
        add("| directories | tool | setup s | RSS MB | peak RSS MB | CPU s |")
        add("| --- | --- | --- | --- | --- | --- |")
        for (size, label), runs in watch.items():
            add(f"| {size:,} | {label} | {cell(runs, 'setup_s', 2)} | {cell(runs, 'rss_mb')} | {cell(runs, 'hwm_mb')} |"
                f" {cell(runs, 'cpu_s', 2)} |")
        add("")
        add("Ratios to inotifywait (medians):")
        add("")
        add("| directories | tool | setup time | RSS |")
        add("| --- | --- | --- | --- |")
        for (size, label), runs in watch.items():
            if label != "inotifywait" and (size, "inotifywait") in watch:
                peer = watch[(size, "inotifywait")]
                add(f"| {size:,} | {label} | {ratio(runs, peer, 'setup_s')} | {ratio(runs, peer, 'rss_mb')} |")
        add("")
    if plan:
        add("### Planner")
        add("")
        add("`PlanBenchmark plan`: read the backlog from the queue, filter, dedupe, write the `--from0` list;"
            " `changeq-queue paths -0`: the same through the installed command (launcher flags, class-data archive);"
            " against `sort -u` of the same paths as a newline file (GNU sort, 2 threads). Wall time includes JVM"
            " start; \"in JVM\" is the planner alone. RSS: peak of the process.")
        add("")
        add("| records / unique paths | command | wall s | in JVM s | peak RSS MB | failed runs (OutOfMemoryError) |")
        add("| --- | --- | --- | --- | --- | --- |")
        for (records, unique), runs in plan.items():
            for label, r in runs.items():
                failed = sum(x.get("failed", 0) for x in r)
                add(f"| {records:,} / {unique:,} | {label} | {cell(r, 'wall_s', 2)} | {cell(r, 'in_jvm_s', 2)} |"
                    f" {cell(r, 'rss_mb')} | {failed} |")
            for changeq in ("changeq plan", "changeq-queue paths -0"):
                add(f"| {records:,} / {unique:,} | ratio sort -u / {changeq} (wall) | "
                    f"{ratio(runs['sort -u'], runs[changeq], 'wall_s')}; C locale "
                    f"{ratio(runs['LC_ALL=C sort -u'], runs[changeq], 'wall_s')} | | | |")
        add("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--watch-runs", type=int)
    parser.add_argument("--only", default="workloads,watch,plan")
    parser.add_argument("--workloads", default="1,2,3,4,5,6")
    parser.add_argument("--tools", default="changeq,changeq-c2,inotifywait")
    parser.add_argument("--c2-opts", default="")
    parser.add_argument("--c2-env", default="")
    parser.add_argument("--c2-workloads", default="1,2,5")
    parser.add_argument("--capped-opts", default="")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 5)
    args.watch_runs = args.watch_runs or (1 if args.quick else 3)
    ctx = Context(args)
    load_before = open("/proc/loadavg").read().split()[0]
    began = time.monotonic()
    only = args.only.split(",")
    wl = watch = plan = None
    if "workloads" in only:
        tools = {"changeq": Changeq(ctx), "changeq-c2": Changeq(ctx, "changeq-c2", ctx.c2_opts, ctx.c2_env),
                 "inotifywait": Inotifywait(ctx)}
        wl = workloads(ctx, [tools[t] for t in args.tools.split(",")], [int(w) for w in args.workloads.split(",")],
                       [int(w) for w in args.c2_workloads.split(",")])
    if "watch" in only:
        tools = [("changeq", Changeq(ctx)),
                 ("changeq-c2", Changeq(ctx, "changeq-c2", ctx.c2_opts, ctx.c2_env)),
                 ("changeq-capped", Changeq(ctx, "changeq-capped", ctx.capped_opts)),
                 ("inotifywait", Inotifywait(ctx))]
        watch = watch_setup(ctx, [50_000, 200_000], tools)
    if "plan" in only:
        plan = planner(ctx, [(1_000_000, 1_000_000), (1_000_000, 100_000)])
    load_after = open("/proc/loadavg").read().split()[0]
    text = report(ctx, args, wl, watch, plan, load_before, load_after, (time.monotonic() - began) / 60)
    with open(args.output, "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
