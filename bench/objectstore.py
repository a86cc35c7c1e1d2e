#!/usr/bin/env python3
"""changeq's rclone destination against `rclone sync` of the whole tree, to an S3 server on 127.0.0.1.

The tree-size benchmark's tree (bench/treegen.c: 100-byte files, 100 per directory, 100 directories per top
directory), 200,000 files by default, under /dev/shm. The S3 server is the tests' S3Proxy (native-tests/target/
s3proxy/s3proxy.jar, its filesystem backend on the same tmpfs), which logs every request it serves at debug level:
the requests of each command are counted from that log, by HTTP method.

First upload: changeq's first run of the route (a full sync, `rclone sync` inside) into one prefix, against
`rclone sync SRC REMOTE:bucket/rclone/` into another. Then, --runs times: the same --changed files, spread one per
directory over the tree, rewritten with new content of the same size; changeq-tracker records them, changeq-sync
sends the pending paths (an incremental run); `rclone sync` of the whole tree (it lists every object of the prefix,
and reads the modification time of each object whose size matches, one HEAD each). Both with rclone's defaults
(4 transfers, 8 checkers); the times are whole processes (changeq-sync's JVM start included).

Usage: bench/objectstore.py [--files 200000] [--changed 1000] [--runs 3]   (as root; about 15 minutes with the defaults)
Needs gcc, rclone, java 17, and the distribution with the tests' jars: mvn -B -q -DskipTests package.
"""
import argparse
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.path.join(REPO, "systemd/target/changeq")
S3PROXY_JAR = os.path.join(REPO, "native-tests/target/s3proxy/s3proxy.jar")
FILES_PER_DIR, DIRS_PER_DIR, FILE_SIZE = 100, 100, 100
REMOTE, BUCKET = "s3bench", "bench"
REQUEST = re.compile(rb"S3ProxyHandler:\d+ .*\] request: .*\{([A-Z]+)@[0-9a-f]+ http")


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tree_path(i):
    leaf = i // FILES_PER_DIR
    return f"d{leaf // DIRS_PER_DIR}/d{leaf % DIRS_PER_DIR}/f{i % FILES_PER_DIR}"


class S3Proxy:
    """The tests' S3 server in its own JVM; its log, at debug level, names every request."""

    def __init__(self, work):
        self.port = free_port()
        self.data = os.path.join(work, "s3")
        os.makedirs(os.path.join(self.data, BUCKET))
        properties = os.path.join(work, "s3proxy.conf")
        with open(properties, "w") as f:
            f.write(f"s3proxy.endpoint=http://127.0.0.1:{self.port}\ns3proxy.authorization=aws-v2-or-v4\n"
                    f"s3proxy.identity=bench\ns3proxy.credential=bench-secret\njclouds.provider=filesystem\n"
                    f"jclouds.filesystem.basedir={self.data}\n")
        self.log = os.path.join(work, "s3proxy.log")
        self.proc = subprocess.Popen(["java", "-jar", S3PROXY_JAR, "--properties", properties],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
                                     env=dict(os.environ, LOG_LEVEL="debug", JETTY_LOG_LEVEL="info"))
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"S3Proxy did not start; see {self.log}")
            time.sleep(0.1)
        self.rclone_config = os.path.join(work, "rclone.conf")
        with open(os.open(self.rclone_config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(f"[{REMOTE}]\ntype = s3\nprovider = Other\naccess_key_id = bench\n"
                    f"secret_access_key = bench-secret\nendpoint = http://127.0.0.1:{self.port}\n"
                    f"force_path_style = true\n")

    def requests_since(self, offset):
        """The requests logged after byte OFFSET of the log, by method, and the new offset."""
        with open(self.log, "rb") as f:
            f.seek(offset)
            text = f.read()
        counts = {}
        for match in REQUEST.finditer(text):
            method = match.group(1).decode()
            counts[method] = counts.get(method, 0) + 1
        return counts, offset + len(text)

    def log_size(self):
        return os.path.getsize(self.log)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Measured:
    def __init__(self, seconds, requests):
        self.seconds = seconds
        self.requests = requests

    def total(self):
        return sum(self.requests.values())


def measured(server, argv, env, out):
    # The server logs a request as it starts serving it; the last ones of a command are logged before it exits.
    offset = server.log_size()
    started = time.monotonic()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=open(out, "ab"), env=env)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} exited {proc.returncode}: {proc.stdout.decode()}; see {out}")
    requests, _ = server.requests_since(offset)
    return Measured(seconds, requests), proc.stdout.decode()


def await_pending(config, env, count):
    deadline = time.monotonic() + 120
    while True:
        out = subprocess.run([f"{DIST}/bin/changeq-queue", "paths", "--config", config, "--route", "s3", "-0"],
                             capture_output=True, env=env).stdout
        pending = len([p for p in out.split(b"\0") if p])
        if pending == count:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"after 120 s {pending} paths pending, not the {count} changed files")
        time.sleep(0.5)


def cell(figures):
    return f"{statistics.median(figures):.2f} ({min(figures):.2f}–{max(figures):.2f})" if len(figures) > 1 \
        else f"{figures[0]:.2f}"


def requests_cell(measurements):
    median = sorted(measurements, key=Measured.total)[len(measurements) // 2]
    methods = ", ".join(f"{n:,} {m}" for m, n in sorted(median.requests.items(), key=lambda kv: -kv[1]))
    return f"{median.total():,} ({methods})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    for path, what in ((f"{DIST}/bin/changeq-sync", "the distribution"), (S3PROXY_JAR, "the tests' S3Proxy jar")):
        if not os.path.exists(path):
            raise SystemExit(f"bench: {path} is missing ({what}): mvn -B -q -DskipTests package")
    base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    work = tempfile.mkdtemp(prefix="changeq-objectstore-", dir=base)
    env = dict(os.environ, CHANGEQ_USER="root")
    # rclone 1.60 refuses every s3 remote while AWS_CA_BUNDLE is set (docs/rclone.md).
    env.pop("AWS_CA_BUNDLE", None)
    server = tracker = None
    try:
        subprocess.run(["gcc", "-O2", "-o", f"{work}/treegen", f"{REPO}/bench/treegen.c"], check=True)
        src = os.path.join(work, "src")
        subprocess.run([f"{work}/treegen", src, str(options.files), str(FILES_PER_DIR), str(DIRS_PER_DIR),
                        str(FILE_SIZE)], check=True)
        server = S3Proxy(work)
        config = os.path.join(work, "changeq.yaml")
        with open(config, "w") as f:
            f.write(f"queue: {work}/queue\nstate: {work}/state\nroots:\n  bench: {{path: {src}}}\n"
                    f"routes:\n  s3: {{root: bench, dest: \"rclone://{REMOTE}/{BUCKET}/changeq/\","
                    f" rclone-config: {server.rclone_config}}}\n")
        out = os.path.join(work, "commands.err")
        tracker_err = os.path.join(work, "tracker.err")
        tracker = subprocess.Popen([f"{DIST}/bin/changeq-tracker", "--config", config], stdout=subprocess.DEVNULL,
                                   stderr=open(tracker_err, "wb"), env=env)
        deadline = time.monotonic() + 600
        while b"watching " not in open(tracker_err, "rb").read():
            if tracker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"changeq-tracker did not start watching: see {tracker_err}")
            time.sleep(0.1)

        changeq = [f"{DIST}/bin/changeq-sync", "--config", config, "--route", "s3"]
        rclone = ["rclone", "--config", server.rclone_config, "sync", src, f"{REMOTE}:{BUCKET}/rclone"]
        log(f"first upload of {options.files:,} files: changeq")
        first_changeq, summary = measured(server, changeq, env, out)
        if "mode=full" not in summary:
            raise SystemExit(f"changeq's first run was not a full sync: {summary}")
        log("first upload: rclone sync")
        first_rclone, _ = measured(server, rclone, env, out)

        changed = [tree_path(k * options.files // options.changed) for k in range(options.changed)]
        incremental = {"changeq": [], "rclone sync": []}
        for run in range(options.runs):
            # Whole seconds apart, so a same-size rewrite has a new time for rclone's check too.
            time.sleep(1.1)
            for i, path in enumerate(changed):
                text = f"run {run} file {i}\n".encode()
                with open(os.path.join(src, path), "wb") as f:
                    f.write(text + b"y" * (FILE_SIZE - len(text)))
            await_pending(config, env, options.changed)
            log(f"run {run + 1}: changeq")
            m, summary = measured(server, changeq, env, out)
            if "mode=incremental" not in summary or f" files={options.changed} " not in f" {summary} ":
                raise SystemExit(f"expected an incremental run of {options.changed} files: {summary}")
            incremental["changeq"].append(m)
            log(f"run {run + 1}: rclone sync")
            incremental["rclone sync"].append(measured(server, rclone, env, out)[0])

        rclone_version = subprocess.run(["rclone", "version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"machine: {platform.node()}, {os.cpu_count()} cores, kernel {platform.release()}, {rclone_version},"
              f" S3Proxy 4.1.0 (filesystem backend on tmpfs), {options.files:,} files of {FILE_SIZE} bytes,"
              f" {options.changed:,} changed, {options.runs} runs")
        print()
        print("| | changeq (rclone destination) | rclone sync of the tree | rclone sync ÷ changeq |")
        print("| --- | --- | --- | --- |")
        print(f"| first upload, s | {first_changeq.seconds:.1f} | {first_rclone.seconds:.1f} |"
              f" {first_rclone.seconds / first_changeq.seconds:.2f}× |")
        print(f"| first upload, requests | {requests_cell([first_changeq])} | {requests_cell([first_rclone])} |"
              f" {first_rclone.total() / first_changeq.total():.2f}× |")
        ours = [m.seconds for m in incremental["changeq"]]
        theirs = [m.seconds for m in incremental["rclone sync"]]
        print(f"| {options.changed:,} changed files, s | {cell(ours)} | {cell(theirs)} |"
              f" {statistics.median(theirs) / statistics.median(ours):.1f}× |")
        ours_requests = statistics.median(m.total() for m in incremental["changeq"])
        theirs_requests = statistics.median(m.total() for m in incremental["rclone sync"])
        print(f"| {options.changed:,} changed files, requests | {requests_cell(incremental['changeq'])} |"
              f" {requests_cell(incremental['rclone sync'])} | {theirs_requests / ours_requests:.1f}× |")
    finally:
        if tracker is not None and tracker.poll() is None:
            tracker.terminate()
            tracker.wait()
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
