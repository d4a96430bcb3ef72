#!/usr/bin/env python3
"""Scale-out benchmarks (issue 14): one plan as n segments on this machine, merged.

  throughput  closed model, 64 connections in all, for --duration s against one private nginx
              (1 worker, core 0): trafficsim as n = 1, 2, 4 segments (each -t 1 with 64/n
              connections, one --start-at, all pinned to core 1), merged with `report merge`,
              beside wrk -t1 -c64 on the same core in the same run. Merged requests/s, generator
              CPU per request (the segments' user + system time added), and the start skew the
              merged report computes from the segments' first sends (meta.start_skew_ms).
  merge       `report merge` time for 64 segment reports of a 1-hour run: one real segment
              report of the demo target behind a jittered delay (so its histograms span
              1-200 ms and errors), its timeseries stretched to 7 200 half-second points as an
              hour's run has, copied as segments 0..63 of 64; the merge timed --repeats times.
  all         both

Medians over --repeats; prints Markdown tables for BENCHMARKS.md and writes the raw figures to
bench/results/scale_out.json.
"""
import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import Measured, number, start_nginx, stop_nginx  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TS = os.path.join(ROOT, "build", "release", "trafficsim")
CLIENT_CPU = "1"


def measured_group(cmds, timeout):
    """Starts every command at once (pinned to the client core) and waits for all: Measured's
    rusage for each, via its own fork."""
    procs = []
    for cmd in cmds:
        full = ["taskset", "-c", CLIENT_CPU] + cmd
        out = tempfile.NamedTemporaryFile(delete=False, suffix=".out")
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                os.execvp(full[0], full)
            finally:
                os._exit(127)
        procs.append((pid, out.name))
    deadline = time.monotonic() + timeout
    results = []
    for pid, path in procs:
        while True:
            wpid, status, ru = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
            time.sleep(0.02)
        with open(path, errors="replace") as f:
            text = f.read()
        os.unlink(path)
        results.append({"cpu": ru.ru_utime + ru.ru_stime, "status": status, "out": text})
    return results


def throughput(url, repeats, duration):
    rows = {n: [] for n in (1, 2, 4)}
    rows["wrk"] = []
    for r in range(repeats):
        for n in (1, 2, 4):
            d = tempfile.mkdtemp(prefix="scaleout-")
            start = f"{time.time() + 1.5:.3f}"
            cmds = [[TS, "bench", url, "-t", "1", "-c", str(64 // n), "-d", f"{duration}s",
                     "--segment", f"{i}/{n}", "--start-at", start, "-q", "--no-color",
                     "--json", os.path.join(d, f"segment-{i}.json")] for i in range(n)]
            res = measured_group(cmds, duration * 3 + 30)
            bad = [x for x in res if x["status"] != 0]
            if bad:
                print(f"  n={n}: a segment failed:\n{bad[0]['out'][-800:]}", file=sys.stderr)
                continue
            merged = os.path.join(d, "merged.json")
            subprocess.check_call([TS, "report", "merge", d, "--json", merged],
                                  stdout=subprocess.DEVNULL)
            rep = json.load(open(merged))
            cpu = sum(x["cpu"] for x in res)
            requests = rep["requests"]
            row = {"rps": rep["achieved_rps"], "requests": requests, "cpu_s": cpu,
                   "us_per_req": cpu / requests * 1e6, "skew_ms": rep["meta"].get("start_skew_ms"),
                   "p99_us": rep["latency"]["corrected"]["p99_us"]}
            rows[n].append(row)
            print(f"  run {r + 1} n={n} {row['rps']:>9.0f} req/s  cpu {cpu:5.2f}s  "
                  f"{row['us_per_req']:.2f} us/req  skew {row['skew_ms']} ms", file=sys.stderr)
            subprocess.call(["rm", "-rf", d])
        m = Measured(["wrk", "-t1", "-c64", f"-d{duration}s", url], duration * 3 + 30)
        rps = number(r"Requests/sec:\s+([\d.]+)", m.out)
        if rps:
            rows["wrk"].append({"rps": rps, "cpu_s": m.cpu,
                                "us_per_req": m.cpu / (rps * duration) * 1e6})
            print(f"  run {r + 1} wrk {rps:>9.0f} req/s  cpu {m.cpu:5.2f}s  "
                  f"{rows['wrk'][-1]['us_per_req']:.2f} us/req", file=sys.stderr)
    return rows


def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else float("nan")


def throughput_table(rows, duration):
    wrk_rps, wrk_us = med(rows["wrk"], "rps"), med(rows["wrk"], "us_per_req")
    out = [f"Closed model, 64 connections in all, {duration} s, nginx on core 0, every generator "
           "process on core 1; medians of {} runs.".format(len(rows["wrk"])),
           "",
           "| generator | merged req/s | vs wrk | CPU µs / request | vs wrk | start skew (ms) | p99 (µs) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for n in (1, 2, 4):
        r = rows[n]
        if not r:
            continue
        skew = med(r, "skew_ms")
        out.append(f"| trafficsim, {n} segment{'s' if n > 1 else ''} × -c {64 // n} | "
                   f"{med(r, 'rps'):,.0f} | {med(r, 'rps') / wrk_rps:.2f} | "
                   f"{med(r, 'us_per_req'):.2f} | {med(r, 'us_per_req') / wrk_us:.2f} | "
                   f"{skew:.2f} | {med(r, 'p99_us'):,.0f} |")
    out.append(f"| wrk -t1 -c64 | {wrk_rps:,.0f} | 1.00 | {wrk_us:.2f} | 1.00 | – | – |")
    return "\n".join(out)


def make_hour_reports(d, base):
    """64 copies of one real segment report as segments 0..63 of a 1-hour run."""
    hour_points = 7200
    def stretch(series):
        if not series:
            return series
        out = []
        for k in range(hour_points):
            p = dict(series[k % len(series)])
            p["t_s"] = round(0.5 * (k + 1), 3)
            out.append(p)
        return out
    for i in range(64):
        r = copy.deepcopy(base)
        r["meta"]["segment"] = {"index": i, "count": 64}
        r["timeseries"] = stretch(r["timeseries"])
        for s in r["streams"]:
            s["timeseries"] = stretch(s["timeseries"])
        with open(os.path.join(d, f"segment-{i:02d}.json"), "w") as f:
            json.dump(r, f)


def merge_bench(repeats):
    d = tempfile.mkdtemp(prefix="merge64-")
    data = os.path.join(d, "data")
    target = subprocess.Popen([TS, "target", "--listen", "127.0.0.1:0", "--catalog-rows", "2000",
                               "--data-dir", data, "--access-log", "off"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = target.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        # Every request to /products waits 1-200 ms, a few time out: wide histograms.
        subprocess.check_call([TS, "bench", url + "/admin/faults", "-m", "POST", "-H",
                               "Content-Type: application/json", "--body",
                               '{"name":"spread","route":"/products","delay":{"mean_ms":100,'
                               '"jitter_ms":99}}', "-R", "1", "-d", "1s", "-q", "--expect", "201"],
                              stdout=subprocess.DEVNULL)
        plan = os.path.join(d, "plan.yaml")
        with open(plan, "w") as f:
            f.write("name: hour\nduration: 10s\nstreams:\n  - name: shop\n    rate: 400\n"
                    "    requests:\n      - path: /products?limit=5\n        weight: 3\n"
                    "      - path: /health\n        weight: 1\n      - path: /api/v1/users\n"
                    "        weight: 1\n")
        seg = os.path.join(d, "base.json")
        subprocess.check_call([TS, "run", "-f", plan, "--url", url, "--segment", "0/64", "-q",
                               "--json", seg], stdout=subprocess.DEVNULL)
    finally:
        target.terminate()
        target.wait()
    base = json.load(open(seg))
    reports = os.path.join(d, "reports")
    os.makedirs(reports)
    make_hour_reports(reports, base)
    size = sum(os.path.getsize(os.path.join(reports, f)) for f in os.listdir(reports))
    times, cpus = [], []
    for r in range(repeats):
        m = Measured([TS, "report", "merge", reports, "--json", os.path.join(d, "merged.json")], 120)
        if m.status != 0:
            print(f"  merge failed:\n{m.out[-800:]}", file=sys.stderr)
            continue
        times.append(m.wall)
        cpus.append(m.cpu)
        print(f"  run {r + 1} merge of 64 x 1 h: {m.wall:.3f} s wall, {m.cpu:.3f} s CPU, "
              f"peak RSS {m.max_rss_kib / 1024:.1f} MiB", file=sys.stderr)
    # The peer in the same run: Python's json module only reading the same 64 files (no merge,
    # nothing written) - the floor any script-based merge starts from.
    peer = []
    for r in range(repeats):
        t0 = time.monotonic()
        for f in sorted(os.listdir(reports)):
            with open(os.path.join(reports, f)) as fh:
                json.load(fh)
        peer.append(time.monotonic() - t0)
    merged = json.load(open(os.path.join(d, "merged.json")))
    result = {"inputs_mib": size / 2**20, "wall_s": statistics.median(times),
              "python_json_load_s": statistics.median(peer),
              "cpu_s": statistics.median(cpus), "points": len(merged["timeseries"]),
              "endpoints": len(merged["streams"][0]["endpoints"]),
              "requests": merged["requests"], "max_rss_mib": m.max_rss_kib / 1024}
    subprocess.call(["rm", "-rf", d])
    return result


def merge_table(m, repeats):
    return ("| 64 segment reports of a 1-hour run (7 200 points each, 3 endpoints) | size | "
            "wall (median of {}) | vs Python json.load | CPU | peak RSS |\n"
            "|---|---:|---:|---:|---:|---:|\n"
            "| `trafficsim report merge DIR --json F` (read, merge, write) | {:.1f} MiB | {:.2f} s | "
            "{:.2f} | {:.2f} s | {:.0f} MiB |\n"
            "| Python `json.load` of the same files (read only) | | {:.2f} s | 1.00 | | |").format(
                repeats, m["inputs_mib"], m["wall_s"], m["wall_s"] / m["python_json_load_s"],
                m["cpu_s"], m["max_rss_mib"], m["python_json_load_s"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["throughput", "merge", "all"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    a = ap.parse_args()
    out = {"when": datetime.now(timezone.utc).isoformat()}
    tables = []
    if a.mode in ("throughput", "all"):
        work = tempfile.mkdtemp(prefix="nginx-")
        port = start_nginx(work)
        try:
            rows = throughput(f"http://127.0.0.1:{port}/", a.repeats, a.duration)
        finally:
            stop_nginx(work)
        out["throughput"] = {str(k): v for k, v in rows.items()}
        tables.append(throughput_table(rows, a.duration))
    if a.mode in ("merge", "all"):
        m = merge_bench(a.repeats)
        out["merge"] = m
        tables.append(merge_table(m, a.repeats))
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "scale_out.json"), "w") as f:
        json.dump(out, f, indent=2)
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
