#!/usr/bin/env python3
"""OTLP benchmarks, side by side in one run against one private nginx (scripts/nginx.sh; its
/v1/ location accepts and discards exports).

  export   spans encoded and exported per CPU-second: build/release/bench/otlp/otlp_export_bench
           (protobuf, JSON) beside the OpenTelemetry JavaScript SDK (bench/otlp/sdk_export.mjs:
           sdk-trace-base + exporter-trace-otlp-proto) making and exporting the same spans
  tracing  the load engine with --trace-ratio 0 / 0.1 / 1.0 (client spans exported to the sink):
           closed model, 64 connections, 1 thread; requests/s and CPU-µs per request
  all      both
  down     the endpoint down for --down-seconds (60) at 1 000 spans/s: `trafficsim telemetry
           --rate 1000 --otlp <a port nothing listens on>`, RSS sampled every second; prints the
           growth after the first second, the spans offered and how they were accounted for

CPU time is user + system of the measured process (rusage of the child). Medians over --repeats.
Prints Markdown tables for BENCHMARKS.md.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TS = os.path.join(ROOT, "build", "release", "trafficsim")
HARNESS = os.path.join(ROOT, "build", "release", "bench", "otlp", "otlp_export_bench")
SDK = os.path.join(ROOT, "bench", "otlp", "sdk_export.mjs")
NGINX_SH = os.path.join(ROOT, "scripts", "nginx.sh")


def run_child(cmd, env=None):
    """Runs cmd (with env added to the environment), returns (stdout, cpu seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    full_env = dict(os.environ, **env) if env else None
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=full_env).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu


def export(url, repeats, spans):
    h = ["taskset", "-c", "1", HARNESS, "--url", url, "--spans", str(spans)]
    cases = (
        ("trafficsim protobuf (shared template + inline scalars, as the client tracer)", h),
        ("trafficsim JSON (template + scalars)", h + ["--json"]),
        ("trafficsim protobuf, every attribute in the span's own map", h + ["--map"]),
        ("trafficsim JSON, map", h + ["--map", "--json"]),
        ("trafficsim protobuf, map, spans made beforehand", h + ["--map", "--prebuilt"]),
        ("OpenTelemetry JS SDK (protobuf)",
         ["taskset", "-c", "1", "node", SDK, "--url", url, "--spans", str(spans // 4)]),
    )
    rows = {name: [] for name, _ in cases}
    for _ in range(repeats):
        for name, cmd in cases:
            out, _ = run_child(cmd)
            r = json.loads(out.strip().splitlines()[-1])
            # Each harness's own CPU clock around making and exporting (node's start-up and
            # module loading excluded; the C++ harness's few ms of start-up likewise).
            rows[name].append(r["sent"] / r["cpu_s"])
    return {k: statistics.median(v) for k, v in rows.items()}


def export_table(res):
    sdk = res["OpenTelemetry JS SDK (protobuf)"]
    lines = ["| exporter | spans per CPU-second (median) | vs the JS SDK |", "|---|---:|---:|"]
    for k, v in res.items():
        lines.append(f"| {k} | {v:,.0f} | {v / sdk:.1f}x |")
    return "\n".join(lines)


def tracing(base, repeats, duration):
    res = {}
    big = {"OTEL_BSP_MAX_QUEUE_SIZE": "200000"}
    for label, ratio, env in (("0", "0", None), ("0.1", "0.1", None), ("1.0", "1.0", None),
                              ("0.1, queue 200000", "0.1", big), ("1.0, queue 200000", "1.0", big)):
        rps, cpu_us, sent, dropped = [], [], [], []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as d:
                rep = os.path.join(d, "r.json")
                cmd = ["taskset", "-c", "1", TS, "bench", base + "/", "-c", "64", "-t", "1",
                       "-d", duration, "-q", "--json", rep]
                if ratio != "0":
                    cmd += ["--trace-ratio", ratio, "--otlp", base]
                _, cpu = run_child(cmd, env)
                r = json.load(open(rep))
                n = r["requests"]
                rps.append(n / r["duration_s"])
                cpu_us.append(cpu / n * 1e6)
                t = r.get("export", {}).get("traces", {})
                sent.append(t.get("sent", 0) / r["duration_s"])
                dropped.append(t.get("dropped", 0) / r["duration_s"])
        res[label] = (statistics.median(rps), statistics.median(cpu_us), statistics.median(sent),
                      statistics.median(dropped))
    return res


def tracing_table(res):
    off_rps, off_cpu = res["0"][0], res["0"][1]
    lines = ["| --trace-ratio | requests/s (median) | CPU-µs per request | throughput vs off | CPU vs off "
             "| spans exported/s | spans dropped/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for k, (rps, cpu, sent, dropped) in res.items():
        lines.append(f"| {k} | {rps:,.0f} | {cpu:.2f} | {rps / off_rps:.3f} | {cpu / off_cpu:.3f} "
                     f"| {sent:,.0f} | {dropped:,.0f} |")
    return "\n".join(lines)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def down(seconds):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with tempfile.TemporaryDirectory() as d:
        cmd = [TS, "telemetry", "--rate", "1000", "--duration", f"{seconds}s", "--seed", "7",
               "--otlp", f"http://127.0.0.1:{port}"]
        err = open(os.path.join(d, "err"), "w+")
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True)
        samples = []
        t0 = time.monotonic()
        while p.poll() is None:
            samples.append((time.monotonic() - t0, rss_kib(p.pid)))
            time.sleep(1)
        took = time.monotonic() - t0
        err.seek(0)
        tail = err.read().strip().splitlines()[-3:]
    first = next((kib for t, kib in samples if t >= 1.0), samples[0][1])
    peak = max(kib for _, kib in samples)
    print(f"| endpoint down {seconds} s at 1 000 spans/s | RSS at 1 s {first / 1024:.1f} MiB | "
          f"peak {peak / 1024:.1f} MiB | growth {(peak - first) / 1024:.1f} MiB | exit {p.returncode} "
          f"after {took:.1f} s |")
    for line in tail:
        print("   ", line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["export", "tracing", "all", "down"])
    ap.add_argument("--down-seconds", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--spans", type=int, default=200000)
    ap.add_argument("--duration", default="5s")
    a = ap.parse_args()
    if a.what == "down":
        return down(a.down_seconds)
    work = tempfile.mkdtemp(prefix="otlp-bench-")
    port = subprocess.run(["bash", NGINX_SH, "start", work, "--cpu", "0"], check=True,
                          capture_output=True, text=True).stdout.strip()
    base = f"http://127.0.0.1:{port}"
    try:
        if a.what in ("export", "all"):
            print(export_table(export(base, a.repeats, a.spans)))
            print()
        if a.what in ("tracing", "all"):
            print(tracing_table(tracing(base, a.repeats, a.duration)))
    finally:
        subprocess.run(["bash", NGINX_SH, "stop", work])


if __name__ == "__main__":
    sys.exit(main())
