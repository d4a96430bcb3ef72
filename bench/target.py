#!/usr/bin/env python3
"""Benchmarks of the demo target service (`trafficsim target`), side by side with nginx.

One invocation, one machine: servers pinned to core 0 (nginx: 1 worker; target: --threads 1),
load generators pinned to core 1, medians over --repeats runs.

  throughput  wrk -t1 -c64 keep-alive: nginx serving a small static file, the target's
              /health/live with the access log off and with it on (to a file); ratios to nginx
  products    p50/p99 of /products (indexed) at 500 rps (trafficsim bench -R, open model)
  scan        the recommendations full scan against the indexed query: median query_ms of each
              (as the target reports it) and their ratio
  catalog     time to generate the 500 000-row catalog
  all         everything above

Prints Markdown tables for BENCHMARKS.md and writes raw results to bench/results/.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TS = os.path.join(ROOT, "build", "release", "trafficsim")
NGINX_SH = os.path.join(ROOT, "scripts", "nginx.sh")
SERVER_CPU = "0"
CLIENT_CPU = "1"


def start_nginx(workdir):
    port = subprocess.check_output([NGINX_SH, "start", workdir, "--cpu", SERVER_CPU]).decode().strip()
    pid = open(os.path.join(workdir, "nginx.pid")).read().strip()
    for p in subprocess.check_output(["pgrep", "-P", pid]).decode().split() + [pid]:
        subprocess.call(["taskset", "-pc", SERVER_CPU, p], stdout=subprocess.DEVNULL)
    return int(port)


class Target:
    def __init__(self, data_dir, access_log="off", rows=500000):
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.NamedTemporaryFile(delete=False)
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, TS, "target", "--listen", "127.0.0.1:0", "--threads", "1",
             "--data-dir", data_dir, "--catalog-rows", str(rows), "--access-log", access_log],
            stdout=subprocess.PIPE, stderr=self.err)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise SystemExit(f"target did not start: {line} {open(self.err.name).read()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        # drain stdout (the access log may go there) so the target never blocks on it
        self.drain = subprocess.Popen(["cat"], stdin=self.proc.stdout, stdout=subprocess.DEVNULL)

    def stderr(self):
        return open(self.err.name).read()

    def stop(self):
        self.proc.send_signal(2)
        self.proc.wait(timeout=20)
        self.drain.wait(timeout=5)
        os.unlink(self.err.name)


def wrk(url, duration, conns=64):
    out = subprocess.check_output(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{conns}",
                                   f"-d{duration}s", url]).decode()
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"non-2xx responses from {url}: {non2xx.group(1)}")
    return float(m.group(1))


def throughput(data_dir, repeats, duration):
    rows = {"nginx static file": [], "target /health/live, access log off": [],
            "target /health/live, access log on (file)": []}
    nginx_dir = tempfile.mkdtemp(prefix="bench-nginx-")
    log_dir = tempfile.mkdtemp(prefix="bench-log-")
    try:
        nport = start_nginx(nginx_dir)
        for _ in range(repeats):
            rows["nginx static file"].append(wrk(f"http://127.0.0.1:{nport}/", duration))
            t = Target(data_dir, "off")
            try:
                rows["target /health/live, access log off"].append(wrk(t.url + "/health/live", duration))
            finally:
                t.stop()
            t = Target(data_dir, os.path.join(log_dir, "access.log"))
            try:
                rows["target /health/live, access log on (file)"].append(wrk(t.url + "/health/live", duration))
            finally:
                t.stop()
            os.unlink(os.path.join(log_dir, "access.log"))
    finally:
        subprocess.call([NGINX_SH, "stop", nginx_dir])
        shutil.rmtree(nginx_dir, ignore_errors=True)
        shutil.rmtree(log_dir, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    base = med["nginx static file"]
    print("\n| server (1 core), wrk -t1 -c64 keep-alive | requests/s (median) | runs | ratio to nginx |")
    print("|---|---:|---|---:|")
    for k, v in med.items():
        runs = ", ".join(f"{x:,.0f}" for x in rows[k])
        print(f"| {k} | {v:,.0f} | {runs} | {v / base:.2f}x |")
    return {"runs": rows, "median": med}


def ts_bench(url, rate, duration):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    subprocess.run(["taskset", "-c", CLIENT_CPU, TS, "bench", url, "-R", str(rate), "-c", "32",
                    "-t", "1", "-d", f"{duration}s", "-q", "--no-color", "--json", path],
                   check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        report = json.load(f)
    os.unlink(path)
    return report


def products(data_dir, repeats, duration):
    res = {"products": [], "nginx": []}
    nginx_dir = tempfile.mkdtemp(prefix="bench-nginx-")
    t = Target(data_dir, "off")
    try:
        nport = start_nginx(nginx_dir)
        for _ in range(repeats):
            for key, url in (("products", t.url + "/products?category=electronics"),
                             ("nginx", f"http://127.0.0.1:{nport}/")):
                r = ts_bench(url, 500, duration)
                res[key].append(r["latency"]["corrected"])
    finally:
        t.stop()
        subprocess.call([NGINX_SH, "stop", nginx_dir])
        shutil.rmtree(nginx_dir, ignore_errors=True)
    print("\n| 500 rps, open model (trafficsim bench -R 500) | p50 (median of runs) | p99 (median) | p99 runs |")
    print("|---|---:|---:|---|")
    for key, label in (("products", "target GET /products (indexed, 50 rows)"), ("nginx", "nginx static file")):
        p50 = statistics.median(x["p50_us"] for x in res[key])
        p99s = [x["p99_us"] for x in res[key]]
        print(f"| {label} | {p50 / 1000:.2f} ms | {statistics.median(p99s) / 1000:.2f} ms | "
              + ", ".join(f"{x / 1000:.2f}" for x in p99s) + " |")
    return res


def query_ms(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)["query_ms"]


def scan(data_dir, samples):
    t = Target(data_dir, "off")
    try:
        idx = [query_ms(t.url + "/products?category=electronics") for _ in range(samples)]
        full = [query_ms(t.url + "/products/recommendations?category=electronics") for _ in range(samples)]
    finally:
        t.stop()
    mi, mf = statistics.median(idx), statistics.median(full)
    print("\n| catalog query (500 000 rows, SQLite) | median query time | samples | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| /products: idx_products_category_active, LIMIT 50 | {mi:.3f} ms | {samples} | 1x |")
    print(f"| /products/recommendations: NOT INDEXED full scan | {mf:.1f} ms | {samples} | {mf / mi:,.0f}x |")
    return {"indexed_ms": idx, "scan_ms": full}


def catalog(repeats):
    times = []
    for _ in range(repeats):
        d = tempfile.mkdtemp(prefix="bench-catalog-")
        try:
            t = Target(d, "off")
            deadline = time.time() + 60
            while "generated in" not in t.stderr() and time.time() < deadline:
                time.sleep(0.1)
            m = re.search(r"generated in ([\d.]+) s", t.stderr())
            t.stop()
            times.append(float(m.group(1)))
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print(f"\n| catalog generation, 500 000 rows | median {statistics.median(times):.1f} s | runs: "
          + ", ".join(f"{x:.1f} s" for x in times) + " |")
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["throughput", "products", "scan", "catalog", "all"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--samples", type=int, default=50)
    args = ap.parse_args()
    if not os.access(TS, os.X_OK):
        sys.exit(f"build the release preset first: {TS} is missing")
    data_dir = os.path.join(tempfile.gettempdir(), "trafficsim-bench-catalog")
    results = {}
    if args.what in ("catalog", "all"):
        results["catalog_seconds"] = catalog(args.repeats)
    if args.what in ("throughput", "all"):
        results["throughput"] = throughput(data_dir, args.repeats, args.duration)
    if args.what in ("products", "all"):
        results["products"] = products(data_dir, args.repeats, args.duration)
    if args.what in ("scan", "all"):
        results["scan"] = scan(data_dir, args.samples)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", f"target-{int(time.time())}.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
