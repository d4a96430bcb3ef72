#!/usr/bin/env python3
"""Side-by-side benchmarks of trafficsim and its peers against one private nginx.

Every figure comes from one invocation of this script on one machine: nginx (1 worker) pinned to
core 0, the generator pinned to core 1, medians over --repeats runs. CPU time of the generator is
user + system time of its process (from wait4's rusage). Subcommands:

  efficiency  closed model, 64 connections, 1 thread: requests/s and requests per CPU-second
              for trafficsim, wrk, h2load --h1 and hey (--baseline BINARY adds another
              trafficsim build to the same run: an old-vs-new A/B)
  open        open model at fixed rates: achieved rate, send lateness p99 and latency p99 for
              trafficsim -R, h2load --rps and hey -q
  memory      peak RSS at 10 000 open connections (trafficsim and wrk), and a long run's RSS
              against a short run's
  templates   per-request body templates: CPU per 1 000 requests at a fixed rate for a scenario
              whose body is rendered per request (bench/dynamic-body.yaml), trafficsim with the
              same-size static body, and h2load with that static body
  all         the three above

Prints Markdown tables (paste into BENCHMARKS.md) and writes raw results as JSON to
bench/results/.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TS = os.path.join(ROOT, "build", "release", "trafficsim")
NGINX_SH = os.path.join(ROOT, "scripts", "nginx.sh")
SERVER_CPU = "0"
CLIENT_CPU = "1"


class Measured:
    def __init__(self, cmd, timeout):
        full = ["taskset", "-c", CLIENT_CPU] + cmd
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            fd = os.open(os.path.join(tempfile.gettempdir(), f"bench-{os.getpid()}.out"),
                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            try:
                os.execvp(full[0], full)
            finally:
                os._exit(127)
        deadline = t0 + timeout
        while True:
            wpid, status, ru = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
            time.sleep(0.05)
        self.wall = time.monotonic() - t0
        self.cpu = ru.ru_utime + ru.ru_stime
        self.user = ru.ru_utime
        self.sys = ru.ru_stime
        self.max_rss_kib = ru.ru_maxrss
        path = os.path.join(tempfile.gettempdir(), f"bench-{pid}.out")
        with open(path, errors="replace") as f:
            self.out = f.read()
        os.unlink(path)
        self.status = status


def number(pattern, text, group=1):
    m = re.search(pattern, text, re.M)
    return float(m.group(group).replace(",", "")) if m else None


def start_nginx(workdir):
    port = subprocess.check_output([NGINX_SH, "start", workdir, "--cpu", SERVER_CPU]).decode().strip()
    pid = open(os.path.join(workdir, "nginx.pid")).read().strip()
    # pin the worker (and master) to the server core
    for p in subprocess.check_output(["pgrep", "-P", pid]).decode().split() + [pid]:
        subprocess.call(["taskset", "-pc", SERVER_CPU, p], stdout=subprocess.DEVNULL)
    return int(port)


def stop_nginx(workdir):
    subprocess.call([NGINX_SH, "stop", workdir])


def ts_report(path):
    with open(path) as f:
        return json.load(f)


# ---- efficiency ------------------------------------------------------------------------------

def efficiency(url, repeats, duration, conns, baseline=None):
    def ts_cmd(binary):
        return lambda j: [binary, "bench", url, "-t", "1", "-c", str(conns), "-d", f"{duration}s",
                          "-q", "--no-color", "--json", j]
    tools = {"trafficsim": ts_cmd(TS)}
    if baseline:
        # The same command with another build (e.g. the last landed commit): an A/B in one run,
        # alternating with the other tools so both see the same noise.
        tools["trafficsim (baseline)"] = ts_cmd(baseline)
    tools.update({
        "wrk": lambda j: ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", url],
        "h2load --h1": lambda j: ["h2load", "--h1", "-t1", f"-c{conns}", "-D", str(duration), url],
        "hey": lambda j: ["hey", "-cpus", "1", "-c", str(conns), "-z", f"{duration}s", url],
    })
    results = {t: [] for t in tools}
    for r in range(repeats):
        for name, make in tools.items():
            j = tempfile.mktemp(suffix=".json")
            m = Measured(make(j), duration * 3 + 30)
            if name.startswith("trafficsim"):
                rep = ts_report(j)
                rps = rep["achieved_rps"]
                errors = sum(rep["errors"].get(k, 0) for k in
                             ("connect", "timeout", "closed_mid_response", "other"))
                os.unlink(j)
            elif name == "wrk":
                rps = number(r"Requests/sec:\s+([\d.]+)", m.out)
                errors = 0
            elif name.startswith("h2load"):
                rps = number(r"finished in [\d.]+\w+, ([\d.]+) req/s", m.out)
                errors = number(r"(\d+) errored", m.out) or 0
            else:
                rps = number(r"Requests/sec:\s+([\d.]+)", m.out)
                errors = 0
            if rps is None:
                print(f"  {name}: could not parse output:\n{m.out[-800:]}", file=sys.stderr)
                continue
            per_cpu = rps * duration / m.cpu if m.cpu > 0 else 0
            results[name].append({"rps": rps, "cpu_s": m.cpu, "user_s": m.user, "sys_s": m.sys,
                                  "req_per_cpu_s": per_cpu, "wall_s": m.wall, "errors": errors})
            print(f"  run {r + 1} {name:12s} {rps:>10.0f} req/s  cpu {m.cpu:5.2f}s "
                  f"(user {m.user:.2f} sys {m.sys:.2f})  {per_cpu:>9.0f} req/cpu-s", file=sys.stderr)
    return results


def efficiency_table(results):
    med = {t: (statistics.median([x["rps"] for x in v]) if v else 0,
               statistics.median([x["req_per_cpu_s"] for x in v]) if v else 0,
               statistics.median([x["user_s"] for x in v]) if v else 0,
               statistics.median([x["sys_s"] for x in v]) if v else 0) for t, v in results.items()}
    wrk_rps, wrk_eff = med["wrk"][0] or 1, med["wrk"][1] or 1
    lines = ["| tool | req/s (median) | user s | sys s | req per CPU-second | vs wrk (req/CPU-s) | vs wrk (req/s) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for t, (rps, eff, u, s) in med.items():
        lines.append(f"| {t} | {rps:,.0f} | {u:.2f} | {s:.2f} | {eff:,.0f} | {eff / wrk_eff:.2f}x | {rps / wrk_rps:.2f}x |")
    return "\n".join(lines)


# ---- open model ------------------------------------------------------------------------------

def open_model(url, repeats, duration, rates):
    rows = []
    for rate in rates:
        per = {"trafficsim": [], "h2load --rps": [], "hey -q": []}
        for r in range(repeats):
            j = tempfile.mktemp(suffix=".json")
            m = Measured([TS, "bench", url, "-t", "1", "-R", str(rate), "-d", f"{duration}s", "-q",
                          "--no-color", "--json", j], duration * 3 + 30)
            rep = ts_report(j)
            os.unlink(j)
            lat = rep["latency"]
            per["trafficsim"].append({
                "achieved": rep["achieved_rps"], "lateness_p99_us": lat["send_lateness"]["p99_us"],
                "p99_us": lat["corrected"]["p99_us"], "service_p99_us": lat["service"]["p99_us"],
                "dropped": rep["dropped"], "cpu_s": m.cpu})
            # h2load: --rps is per client; 100 req/s per client
            clients = max(1, rate // 100)
            m = Measured(["h2load", "--h1", "-t1", f"-c{clients}", f"--rps={rate / clients:g}", "-D",
                          str(duration), url], duration * 3 + 30)
            got = number(r"finished in [\d.]+\w+, ([\d.]+) req/s", m.out)
            # h2load prints "time for request: min max mean sd +/- sd" (no percentiles)
            mx = re.search(r"time for request:\s+\S+\s+(\S+)", m.out)
            per["h2load --rps"].append({"achieved": got, "max_latency": mx.group(1) if mx else "?",
                                        "cpu_s": m.cpu})
            # hey: -q is per worker
            workers = max(1, rate // 100)
            m = Measured(["hey", "-cpus", "1", "-c", str(workers), "-q", "100", "-z", f"{duration}s", url],
                         duration * 3 + 30)
            got = number(r"Requests/sec:\s+([\d.]+)", m.out)
            p99 = re.search(r"99%% in ([\d.]+) secs".replace("%%", "%"), m.out)
            per["hey -q"].append({"achieved": got, "p99_s": float(p99.group(1)) if p99 else None,
                                  "cpu_s": m.cpu})
            print(f"  rate {rate} run {r + 1}: ts {per['trafficsim'][-1]['achieved']:.1f} "
                  f"(late p99 {per['trafficsim'][-1]['lateness_p99_us']}us) "
                  f"h2load {per['h2load --rps'][-1]['achieved']} hey {per['hey -q'][-1]['achieved']}",
                  file=sys.stderr)
        rows.append((rate, per))
    return rows


def open_table(rows):
    lines = ["| target req/s | tool | achieved req/s (median) | error vs target | send lateness p99 | latency p99 | generator CPU s |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for rate, per in rows:
        for tool, runs in per.items():
            runs = [x for x in runs if x.get("achieved")]
            if not runs:
                lines.append(f"| {rate:,} | {tool} | (no result) | | | | |")
                continue
            ach = statistics.median([x["achieved"] for x in runs])
            cpu = statistics.median([x["cpu_s"] for x in runs])
            if tool == "trafficsim":
                late = f"{statistics.median([x['lateness_p99_us'] for x in runs]):,.0f} us"
                p99 = f"{statistics.median([x['p99_us'] for x in runs]):,.0f} us (corrected)"
            elif tool.startswith("h2load"):
                late = "not measured"
                p99 = f"max {runs[len(runs) // 2]['max_latency']} (no percentiles, uncorrected)"
            else:
                late = "not measured"
                vals = [x["p99_s"] for x in runs if x["p99_s"] is not None]
                p99 = f"{statistics.median(vals) * 1e6:,.0f} us (uncorrected)" if vals else "?"
            lines.append(f"| {rate:,} | {tool} | {ach:,.1f} | {(ach - rate) / rate * 100:+.2f} % | {late} | {p99} | {cpu:.2f} |")
    return "\n".join(lines)


# ---- memory ----------------------------------------------------------------------------------

def memory(url, long_s, short_s):
    out = {}
    m = Measured([TS, "bench", url, "-t", "1", "-c", "10000", "-d", "10s", "-q", "--no-color",
                  "--timeout", "30s"], 120)
    out["trafficsim_10k_rss_kib"] = m.max_rss_kib
    out["trafficsim_10k_rps"] = number(r"Rate: ([\d,.]+)", m.out)
    m = Measured(["wrk", "-t1", "-c10000", "-d10s", "--timeout", "30s", url], 120)
    out["wrk_10k_rss_kib"] = m.max_rss_kib
    out["wrk_10k_rps"] = number(r"Requests/sec:\s+([\d.]+)", m.out)
    for label, secs in (("short", short_s), ("long", long_s)):
        m = Measured([TS, "bench", url, "-t", "1", "-R", "1000", "-d", f"{secs}s", "-q", "--no-color"],
                     secs * 2 + 60)
        out[f"trafficsim_{label}_{secs}s_rss_kib"] = m.max_rss_kib
    print(json.dumps(out, indent=1), file=sys.stderr)
    return out


def memory_table(mem, long_s, short_s):
    return "\n".join([
        "| measurement | trafficsim | wrk |",
        "|---|---:|---:|",
        f"| peak RSS, 10 000 connections, closed model 10 s | {mem['trafficsim_10k_rss_kib'] / 1024:.1f} MiB | {mem['wrk_10k_rss_kib'] / 1024:.1f} MiB |",
        f"| req/s during that run | {mem['trafficsim_10k_rps'] or 0:,.0f} | {mem['wrk_10k_rps'] or 0:,.0f} |",
        f"| peak RSS, open model 1k req/s for {short_s} s | {mem[f'trafficsim_short_{short_s}s_rss_kib'] / 1024:.1f} MiB | |",
        f"| peak RSS, open model 1k req/s for {long_s} s | {mem[f'trafficsim_long_{long_s}s_rss_kib'] / 1024:.1f} MiB | |",
    ])


# ---- templates -------------------------------------------------------------------------------

def templates(url, repeats, duration, rate):
    body_file = tempfile.mktemp(suffix=".json")
    # A static body of the size the template renders (one email, JSON-escaped).
    with open(body_file, "w") as f:
        f.write('{"subject": "Interview invitation: Senior Backend Engineer at Northwind Labs", '
                '"sender": "talent@northwindlabs.example", "body": "' + "x" * 560 + '"}')
    per = {"trafficsim run (templated body)": [], "trafficsim bench (static body)": [],
           "h2load --rps (static body)": []}
    for r in range(repeats):
        j = tempfile.mktemp(suffix=".json")
        m = Measured([TS, "run", "-f", os.path.join(ROOT, "bench", "dynamic-body.yaml"), "--url",
                      url.rstrip("/"), "--set", f"rate={rate}", "--duration", f"{duration}s",
                      "-t", "1", "-q", "--no-color", "--json", j], duration * 3 + 30)
        rep = ts_report(j)
        os.unlink(j)
        per["trafficsim run (templated body)"].append(
            {"requests": rep["requests"], "cpu_s": m.cpu,
             "lateness_p99_us": rep["latency"]["send_lateness"]["p99_us"]})
        j = tempfile.mktemp(suffix=".json")
        m = Measured([TS, "bench", url, "-t", "1", "-c", "64", "-R", str(rate), "-d", f"{duration}s",
                      "-m", "POST", "--body", "@" + body_file, "-H", "Content-Type: application/json",
                      "-q", "--no-color", "--json", j], duration * 3 + 30)
        rep = ts_report(j)
        os.unlink(j)
        per["trafficsim bench (static body)"].append(
            {"requests": rep["requests"], "cpu_s": m.cpu,
             "lateness_p99_us": rep["latency"]["send_lateness"]["p99_us"]})
        clients = max(1, rate // 100)
        m = Measured(["h2load", "--h1", "-t1", f"-c{clients}", f"--rps={rate / clients:g}", "-D",
                      str(duration), "-d", body_file, "-H", "Content-Type: application/json", url],
                     duration * 3 + 30)
        done = number(r"requests: \d+ total, \d+ started, (\d+) done", m.out)
        per["h2load --rps (static body)"].append({"requests": done, "cpu_s": m.cpu})
        print(f"  run {r + 1}: " + ", ".join(f"{k}: {v[-1]['cpu_s']:.2f}s/{v[-1]['requests']}"
                                           for k, v in per.items()), file=sys.stderr)
    os.unlink(body_file)
    return per


def templates_table(per, rate, duration):
    lines = ["| tool | requests (median) | generator CPU s (median) | CPU ms per 1 000 requests | vs h2load |",
             "|---|---|---|---|---|"]
    def ms_per_k(runs):
        return statistics.median(1e6 * x["cpu_s"] / max(1, float(x["requests"] or 0)) for x in runs)
    base = ms_per_k(per["h2load --rps (static body)"])
    for tool, runs in per.items():
        v = ms_per_k(runs)
        lines.append(f"| {tool} | {statistics.median(float(x['requests'] or 0) for x in runs):,.0f} | "
                     f"{statistics.median(x['cpu_s'] for x in runs):.2f} | {v:.1f} | {v / base:.2f}x |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["efficiency", "open", "memory", "templates", "all"])
    ap.add_argument("--template-rate", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="efficiency run length, s")
    ap.add_argument("--open-duration", type=int, default=20)
    ap.add_argument("--rates", default="1000,10000,30000")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--long", type=int, default=600, help="long run for the memory check, s")
    ap.add_argument("--short", type=int, default=60)
    ap.add_argument("--baseline", help="efficiency: also measure this trafficsim binary (A/B)")
    args = ap.parse_args()
    if not os.path.exists(TS):
        sys.exit(f"build first: cmake --preset release && cmake --build build/release ({TS} missing)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    workdir = tempfile.mkdtemp(prefix="trafficsim-bench.")
    port = start_nginx(workdir)
    url = f"http://127.0.0.1:{port}/"
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw = {"machine": {"nproc": os.cpu_count(), "kernel": os.uname().release}}
    try:
        if args.what in ("efficiency", "all"):
            res = efficiency(url, args.repeats, args.duration, args.connections, args.baseline)
            raw["efficiency"] = res
            print(f"\n### Efficiency: closed model, {args.connections} connections, 1 thread, "
                  f"{args.duration} s, median of {args.repeats}\n")
            print(efficiency_table(res))
        if args.what in ("open", "all"):
            rates = [int(x) for x in args.rates.split(",")]
            rows = open_model(url, args.repeats, args.open_duration, rates)
            raw["open"] = rows
            print(f"\n### Open model: {args.open_duration} s per run, median of {args.repeats}\n")
            print(open_table(rows))
        if args.what in ("templates", "all"):
            per = templates(url, args.repeats, args.duration, args.template_rate)
            raw["templates"] = per
            print(f"\n### Per-request templates: open model at {args.template_rate} req/s, "
                  f"{args.duration} s, 1 thread, median of {args.repeats}\n")
            print(templates_table(per, args.template_rate, args.duration))
        if args.what in ("memory", "all"):
            mem = memory(url, args.long, args.short)
            raw["memory"] = mem
            print("\n### Memory\n")
            print(memory_table(mem, args.long, args.short))
    finally:
        stop_nginx(workdir)
        with open(os.path.join(ROOT, "bench", "results", f"{args.what}-{stamp}.json"), "w") as f:
            json.dump(raw, f, indent=1, default=str)


if __name__ == "__main__":
    main()
