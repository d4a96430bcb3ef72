#!/usr/bin/env python3
"""The control plane's costs (issue 11): run on the release build.

  python3 bench/control_bench.py [--binary build/release/trafficsim] [--repeats 5]

1. CPU of 100 SSE subscribers to one job at the 500 ms cadence (process CPU over 10 s with 100
   subscribers minus the same job with none), in % of one core.
2. POST /traffic/start to the job's first request at the target (`serve --target` aimed at a
   socket that timestamps its first request), median of --repeats.
3. The dashboard page's size: / plus every script and stylesheet it loads.
4. The engine with the dashboard open: the same 2 000 req/s job with 0 and with 10 SSE
   subscribers plus 2 s polling (achieved rate, send lateness p99), side by side.
"""
import argparse, json, os, re, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start(binary, args):
    p = subprocess.Popen([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = p.stdout.readline().strip().rstrip("/")
    threading.Thread(target=lambda: p.stdout.read(), daemon=True).start()
    return p, url

def call(url, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()

def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def subscriber(url, stop):
    host, port = url.split("//")[1].split("/")[0].split(":")
    s = socket.create_connection((host, int(port)))
    path = "/" + url.split("//")[1].split("/", 1)[1]
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    s.settimeout(1)
    while not stop.is_set():
        try:
            if not s.recv(65536): break
        except socket.timeout:
            pass
    s.close()

def poller(url, stop, every_s):
    """Locust's web UI model: GET the job's figures every `every_s` seconds on a kept-alive
    connection (Locust polls /stats/requests every 2 s)."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    s = socket.create_connection((host, int(port)))
    s.settimeout(2)
    while not stop.is_set():
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        try:
            s.recv(65536)
        except socket.timeout:
            pass
        stop.wait(every_s)
    s.close()

def job(url, body):
    return json.loads(call(url + "/traffic/start", "POST", body))["jobId"]

def sse_cpu(binary, tmp):
    p, url = start(binary, ["demo", "--listen", "127.0.0.1:0", "--data-dir", tmp, "--catalog-rows", "500", "-q"])
    try:
        def measure(n, poll=False):
            jid = job(url, '{"scenario":"normal","maxRps":20,"duration":"30s"}')
            stop = threading.Event()
            if poll:
                ts = [threading.Thread(target=poller, args=(f"{url}/traffic/status/{jid}", stop, 2.0), daemon=True) for _ in range(n)]
            else:
                ts = [threading.Thread(target=subscriber, args=(f"{url}/traffic/stream/{jid}", stop), daemon=True) for _ in range(n)]
            for t in ts: t.start()
            time.sleep(2)
            c0, t0 = cpu_s(p.pid), time.monotonic()
            time.sleep(10)
            c1, t1 = cpu_s(p.pid), time.monotonic()
            stop.set()
            call(f"{url}/traffic/stop/{jid}", "POST")
            time.sleep(1)
            return (c1 - c0) / (t1 - t0) * 100
        base = measure(0)
        with_subs = measure(100)
        with_polls = measure(100, poll=True)
        return base, with_subs, with_polls
    finally:
        p.terminate(); p.wait()

def start_latency(binary, repeats):
    out = []
    for _ in range(repeats):
        ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0)); ls.listen(64); tport = ls.getsockname()[1]
        first = {}
        def accept():
            while True:
                try:
                    c, _ = ls.accept()
                except OSError:
                    return
                data = c.recv(4096)
                if data and b"/health" not in data.split(b"\r\n")[0] and "t" not in first:
                    first["t"] = time.monotonic()
                resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
                try:
                    c.sendall(resp)
                    while True:
                        d = c.recv(4096)
                        if not d: break
                        c.sendall(resp)
                except OSError:
                    pass
                c.close()
        threading.Thread(target=accept, daemon=True).start()
        p, url = start(binary, ["serve", "--target", f"http://127.0.0.1:{tport}", "--listen", "127.0.0.1:0"])
        try:
            time.sleep(0.5)
            t0 = time.monotonic()
            job(url, '{"scenario":"normal_traffic","maxRps":20,"duration":"3s"}')
            deadline = time.monotonic() + 5
            while "t" not in first and time.monotonic() < deadline:
                time.sleep(0.001)
            if "t" in first: out.append((first["t"] - t0) * 1000)
        finally:
            p.terminate(); p.wait(); ls.close()
    return out

def page_size(binary, tmp):
    p, url = start(binary, ["demo", "--listen", "127.0.0.1:0", "--data-dir", tmp, "--catalog-rows", "500", "-q"])
    try:
        html = call(url + "/").decode()
        total = len(html.encode())
        seen = set()
        queue = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
        while queue:
            a = queue.pop()
            if a in seen: continue
            seen.add(a)
            body = call(url + a)
            total += len(body)
            if a.endswith(".js"):
                for imp in re.findall(r'from\s+["\']\./([^"\']+)["\']', body.decode()):
                    queue.append("/assets/" + imp)
        return total, sorted(seen)
    finally:
        p.terminate(); p.wait()

def engine_with_dashboard(binary, tmp, rounds):
    """The engine at 2 000 req/s for 10 s with the dashboard closed (no subscribers) and open (10 SSE
    subscribers + the page's 2 s polling), interleaved over `rounds` rounds after one warm-up job
    (the first job of a fresh process pays for its start-up); returns {state: [(rps, p99_us)]}."""
    res = {"closed": [], "open": []}
    p, url = start(binary, ["demo", "--listen", "127.0.0.1:0", "--data-dir", tmp, "--catalog-rows", "500", "-q", "--hard-cap", "100000", "--max-jobs", "1"])
    try:
        plan = [("warm-up", 0)] + [s for _ in range(rounds) for s in (("closed", 0), ("open", 10))]
        for label, n in plan:
            jid = job(url, '{"scenario":"normal","maxRps":2000,"duration":"10s"}')
            stop = threading.Event()
            ts = [threading.Thread(target=subscriber, args=(f"{url}/traffic/stream/{jid}", stop), daemon=True) for _ in range(n)]
            for t in ts: t.start()
            def poll():
                while not stop.is_set():
                    call(url + "/traffic/jobs"); call(url + "/traffic/target"); stop.wait(2)
            if n: threading.Thread(target=poll, daemon=True).start()
            while json.loads(call(f"{url}/traffic/status/{jid}"))["status"] in ("starting", "running"):
                time.sleep(0.2)
            stop.set()
            r = json.loads(call(f"{url}/traffic/report/{jid}"))
            if label in res:
                res[label].append((r["achieved_rps"], r["latency"]["send_lateness"]["p99_us"]))
        return res
    finally:
        p.terminate(); p.wait()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/release/trafficsim")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5, help="closed/open pairs of 10 s engine runs")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    size, assets = page_size(a.binary, tmp)
    print(f"page: {size/1024:.1f} KiB ({len(assets)} assets: {', '.join(assets)})")
    lat = start_latency(a.binary, a.repeats)
    print(f"POST /traffic/start -> first request: median {statistics.median(lat):.1f} ms (runs: {', '.join(f'{x:.1f}' for x in lat)})")
    base, subs, polls = sse_cpu(a.binary, tmp)
    print(f"CPU, job at 20 req/s: {base:.2f} % of a core without subscribers, {subs:.2f} % with 100; 100 subscribers cost {subs-base:.2f} %")
    print(f"peer model (Locust's UI: poll the figures every 2 s): 100 pollers cost {polls-base:.2f} % for a quarter of the updates; "
          f"per update delivered, SSE costs {((subs-base)/4)/max(1e-9, polls-base):.2f}x polling" if polls > base else
          f"peer model (Locust's UI: poll every 2 s): 100 pollers cost {polls-base:.2f} % (at the noise floor)")
    e = engine_with_dashboard(a.binary, tmp, a.rounds)
    med = {}
    for k, runs in e.items():
        rps = statistics.median(r for r, _ in runs); late = statistics.median(l for _, l in runs)
        med[k] = (rps, late)
        print(f"engine at 2000 req/s, dashboard {k}: median achieved {rps:.1f} req/s, send lateness p99 {late/1000:.2f} ms "
              f"(runs: {', '.join(f'{r:.1f}/{l/1000:.2f}' for r, l in runs)})")
    print(f"open / closed: achieved {med['open'][0]/med['closed'][0]:.4f}, send lateness p99 {med['open'][1]/max(1, med['closed'][1]):.2f}")

if __name__ == "__main__":
    main()
