#!/usr/bin/env python3
"""The cost of a route's history per run: changeq's rsync passes with and without --backup --backup-dir.

W2-like: 10,000 files of 4 KiB in 100 directories, all rewritten in place (same size), then the incremental
list pass (--files-from of the 10,000 paths, --modify-window=-1). W5-like: 50,000 files in 500 directories, all
deleted, then the deletion pass (the 500 directories one level deep with --delete). Each to a local directory
and to an rsync daemon on 127.0.0.1; the pass's arguments as RsyncCommand builds them, plus, with history,
--backup --backup-dir=.changeq-history/RUN and the exclusion of /.changeq-history/. Under /dev/shm (tmpfs).

Usage: bench/history.py [--runs N]      (as root; ~3 minutes with the default 3 runs)
"""
import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

COMMON = ["--modify-window=-1", "--itemize-changes", "--stats"]


def tree(root, files, per_dir, size):
    for i in range(files):
        directory = os.path.join(root, "d%04d" % (i // per_dir))
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "f%06d" % i), "wb") as out:
            out.write(os.urandom(size))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def daemon(work, module):
    port = free_port()
    conf = os.path.join(work, "rsyncd.conf")
    with open(conf, "w") as out:
        out.write("address = 127.0.0.1\nport = %d\nuse chroot = no\nuid = root\ngid = root\n"
                  "[backup]\n  path = %s\n  read only = no\n" % (port, module))
    process = subprocess.Popen(["rsync", "--daemon", "--no-detach", "--config", conf])
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, "rsync://127.0.0.1:%d/backup/" % port
        time.sleep(0.05)
    raise SystemExit("the rsync daemon did not start")


def timed(args):
    started = time.monotonic()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def history_args(history, run):
    return ["--backup", "--backup-dir=.changeq-history/R%d" % run, "--filter=- /.changeq-history/"] if history \
        else ["--filter=P /.changeq-history/***"]


def w2(work, dest, local, history, run):
    src = os.path.join(work, "src")
    shutil.rmtree(src, ignore_errors=True)
    tree(src, 10_000, 100, 4096)
    base = ["rsync", "-a", "-r"] if local else ["rsync", "-rlt"]
    subprocess.run(base + ["--", src + "/", dest], check=True, stdout=subprocess.DEVNULL)
    paths = []
    for directory in sorted(os.listdir(src)):
        for name in sorted(os.listdir(os.path.join(src, directory))):
            with open(os.path.join(src, directory, name), "r+b") as out:
                out.write(os.urandom(4096))
            paths.append("./%s/%s" % (directory, name))
    listed = os.path.join(work, "files")
    with open(listed, "wb") as out:
        out.write(b"\0".join(p.encode() for p in paths) + b"\0")
    return timed(base + COMMON + history_args(history, run) + ["--from0", "--files-from=" + listed,
                                                               "--ignore-missing-args", "--", src + "/", dest])


def w5(work, dest, local, history, run):
    src = os.path.join(work, "src")
    shutil.rmtree(src, ignore_errors=True)
    tree(src, 50_000, 100, 64)
    base = ["rsync", "-a", "-r"] if local else ["rsync", "-rlt"]
    subprocess.run(base + ["--", src + "/", dest], check=True, stdout=subprocess.DEVNULL)
    directories = sorted(os.listdir(src))
    rules = []
    for directory in directories:
        for name in os.listdir(os.path.join(src, directory)):
            os.remove(os.path.join(src, directory, name))
            rules.append("R /%s/%s" % (directory, name))
    rules += ["P /%s/*" % d for d in directories]
    merge = os.path.join(work, "rules")
    with open(merge, "wb") as out:
        out.write(b"\0".join(r.encode() for r in rules) + b"\0")
    listed = os.path.join(work, "dirs")
    with open(listed, "wb") as out:
        out.write(b"\0".join(("./%s/." % d).encode() for d in directories) + b"\0")
    return timed(base + COMMON + ["--from0", "--filter=. " + merge] + history_args(history, run)
                 + ["--no-r", "--dirs", "--delete", "--files-from=" + listed, "--ignore-missing-args", "--",
                    src + "/", dest])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print("machine: %s, %d cores, %s, %s" % (platform.node(), os.cpu_count(), platform.release(),
          subprocess.run(["rsync", "--version"], capture_output=True, text=True).stdout.splitlines()[0]))
    print("| workload | destination | without history (s) | with history (s) | extra per run |")
    print("| --- | --- | --- | --- | --- |")
    for name, workload in (("W2 rewrite 10,000 files (list pass)", w2), ("W5 delete 50,000 files (deletion pass)", w5)):
        for local in (True, False):
            figures = {}
            for history in (False, True):
                times = []
                for run in range(options.runs):
                    work = tempfile.mkdtemp(prefix="changeq-history-bench-", dir="/dev/shm")
                    module = os.path.join(work, "module")
                    os.makedirs(module)
                    server = None
                    try:
                        if local:
                            dest = module + "/copy/"
                        else:
                            server, url = daemon(work, module)
                            dest = url + "copy/"
                        times.append(workload(work, dest, local, history, run))
                    finally:
                        if server:
                            server.terminate()
                            server.wait()
                        shutil.rmtree(work)
                figures[history] = statistics.median(times), min(times), max(times)
            plain, kept = figures[False], figures[True]
            print("| %s | %s | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %+.0f %% |" % (
                name, "local" if local else "daemon", *plain, *kept, 100 * (kept[0] / plain[0] - 1)))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
