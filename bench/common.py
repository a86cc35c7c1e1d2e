"""What the benchmark scripts share: the workloads' names, /proc readings, process handling, table cells."""
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

WORKLOADS = {
    1: "W1 create 200,000 files in 1,000 dirs",
    2: "W2 rewrite 10,000 files ×20",
    3: "W3 5,000 new dirs × 20 files",
    4: "W4 rename a dir of 10,000 files",
    5: "W5 delete 50,000 files",
    6: "W6 move in a dir of 10,000 files",
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kb(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


def await_text(path, text, timeout, proc):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited {proc.returncode} before '{text}'; see {path}")
        try:
            with open(path, "rb") as f:
                if text.encode() in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"no '{text}' in {path} after {timeout} s")


def stop(proc, timeout=60):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def median_range(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    return f"{value:.{digits}f}"


def cell(runs, key, digits=1):
    med, lo, hi = median_range([r.get(key) for r in runs])
    if med is None:
        return "—"
    if lo == hi:
        return fmt(med, digits)
    return f"{fmt(med, digits)} ({fmt(lo, digits)}–{fmt(hi, digits)})"


def ratio(a_runs, b_runs, key):
    a = median_range([r.get(key) for r in a_runs])[0]
    b = median_range([r.get(key) for r in b_runs])[0]
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    fs = subprocess.run(["stat", "-f", "-c", "%T", os.path.dirname(os.path.abspath(os.path.join(os.getcwd())))],
                        capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": mem / 1024 / 1024, "kernel": platform.release(),
            "java": java, "work_fs": fs}
