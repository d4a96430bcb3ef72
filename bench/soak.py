#!/usr/bin/env python3
"""Soak test of `trafficsim demo` (issue 15): does anything grow, drift or go missing over a long run?

  python3 bench/soak.py --minutes 60            # the figures for BENCHMARKS.md
  python3 bench/soak.py --minutes 10            # the benchmarks' short version
  python3 bench/soak.py --quick                 # 2 minutes, a sample every 5 s: does it work?

Set-up (everything on 127.0.0.1, free ports; a copy of build/release/trafficsim in a temporary
directory is what runs, so a rebuild during the soak changes nothing):

- `trafficsim demo -q --otlp SINK --trace-ratio 0.1` (monitors and incidents on: the built-ins on
  the demo target's registry; the incident store DATA_DIR/incidents.sqlite);
- from the dashboard API (POST /traffic/start), all for the soak's whole length:
  the dual-mode Black Friday job (`blackfriday`, `timeScale` chosen so the demo clock reaches the
  collapse phase, demo minute 20, at a sixth of the warm-up: from then on both streams run at
  their final rates, 100 rpm baseline and 4 200 rpm demo, and latencies, and the built-in
  monitors' incidents open inside the warm-up), seed 001's constant-rate job (`normal`, the users
  API at maxRps 20, the hard cap; docs/scenarios.md: seed 001 is the users scenarios,
  `normal_traffic` is seed 000's LLM mode), and seed 003's activity generator (`activity`), whose
  spans, logs and metrics go, with the demo target's and the load generator's client spans, over
  OTLP/HTTP to a local sink (a Python http.server in this process that answers 200 and counts
  requests and bytes per signal);
- five SSE subscribers (threads; three on the Black Friday job, two on the normal job) counting
  events and reconnecting with Last-Event-ID if a stream ends before its job's `final` event;
- a Prometheus (/usr/bin/prometheus) scraping the demo's /metrics every 5 s.

Every --interval seconds (10) it samples the demo process's RSS (VmRSS), open file descriptors
(/proc/PID/fd), threads, the incident store's size (incidents.sqlite + -wal), the incidents and
their timeline entries, the queue depths on /metrics (trafficsim_otlp_queue_items{signal},
db_pool_queued{pool}, http_connections_open), the jobs' in-flight requests, the number of series
on /metrics, the OTLP counters (trafficsim_otlp_items_total) and the jobs' counters from
GET /traffic/status/{id}.

Verdict (exit 0 pass, 1 fail). Warm-up = the first --warmup minutes (default 5, at most half the
run); "post" = the samples after it while the jobs still run (not draining), "first" = the first
post sample.
  rss       max(post) <= first x 1.10 (the issue's +-10 %). Bounded stores still fill after a
            5-minute warm-up, by design: each job's SSE history (1 200 events: 10 min at 2 a
            second, then halved), the monitors' histories (2 048 points each: 34 min at one
            scrape a second) and the target's users store (10 000: 33 min at the normal job's
            5 creates a second); the span and log buffers (2-4 k items) fill within seconds.
  fds       max(post) <= first + 2 for the descriptors not held by connections: open fds minus
            2 x http_connections_open. The Black Friday job holds ~200 connections at collapse,
            each from the load engine to the target in the same process, so one fd at each end,
            and their number moves with the in-flight requests (the connections themselves are
            judged as a queue, below). A connection from another process (the SSE subscribers,
            Prometheus, this script) shifts the difference by a constant.
  threads   max(post) <= first + 2.
  sqlite    the store may grow only with its content: growth of (db + wal) over the post samples
            <= 64 KiB x (incidents + timeline entries added) + 64 KiB, and the -wal file stays
            under 16 MiB (checkpoints keep it near SQLite's 4 MiB auto-checkpoint).
  queues    for each queue depth (and the jobs' in-flight counts): mean(last third of post) <=
            mean(first third) x 1.25 + slack (OTLP queue 256 items, db pool queue 2, connections
            and in-flight 16); no OTLP item dropped or failed after the warm-up.
  series    the series on /metrics after the warm-up: at most 2 % more than at its end, every one
            of a metric that was there already (a bounded label's value seen for the first time:
            a rare status or error kind), and each new one is listed; a label per request, job or
            user would add far more.
  rate      the seed-001 job (constant 20 req/s): the achieved rate (completed requests per second
            of the job's own clock, from its cumulative counters) of every post window of
            >= --rate-window s (60), and of the whole post span, within 0.5 % of the configured
            rate. Black Friday's rates follow its demo clock on purpose (and its demo stream's
            completions follow 2.5-6 s latencies and time-outs), so its rates are reported, not
            judged.
  accounted every request is accounted for: in each final report (/traffic/report/{id}), at every
            level (total, stream, endpoint), requests == sum(responses) + errors.connect +
            errors.timeout + errors.closed_mid_response + errors.other (docs/report-format.md,
            "Invariant"), the streams sum to the total, and requests + dropped == the stream's
            planned_requests (+-1); the final JobState's totalRequests equals the report's
            completed count; the demo target counted every one of them (http_requests_total by
            traffic_type): exactly the normal job's requests, and for the Black Friday streams
            between their responses (less the server's overload rejections, which it does not
            count there) and their requests (a request the client timed out is counted 499 or not
            at all, if it never reached the server).
  sse       every subscriber got its job's `final` event, with no stall (30 s without a byte).
  scrape    Prometheus's `up` for the demo stayed 1 after the warm-up.
  stop      SIGTERM at the end: the demo exits 0 and its exporters (and the activity job's) report
            nothing dropped or failed.

Prints Markdown tables (paste into BENCHMARKS.md) and writes the samples, checks and final figures
as JSON to bench/results/soak.json.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TS = os.path.join(ROOT, "build", "release", "trafficsim")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

RSS_TOLERANCE = 0.10
FD_THREAD_ALLOWANCE = 2
RATE_TOLERANCE = 0.005
SQLITE_PER_ITEM = 64 * 1024
SQLITE_SLACK = 64 * 1024
WAL_LIMIT = 16 * 1024 * 1024
QUEUE_FACTOR = 1.25
QUEUE_SLACK = {"trafficsim_otlp_queue_items": 256, "db_pool_queued": 2, "http_connections_open": 16,
               "in_flight": 16}


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def call(url, method="GET", body=None, timeout=30):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, method=method, data=data,
                                 headers={"Content-Type": "application/json"} if data is not None
                                 or method == "POST" else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def get_json(url, timeout=30):
    return json.loads(call(url, timeout=timeout)[1])


# ---- the OTLP sink -----------------------------------------------------------------------------

class OtlpSink:
    """POST /v1/traces|metrics|logs -> 200 (an empty protobuf message, or {} for JSON); counts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}  # path -> {"requests", "bytes"}
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with sink.lock:
                    c = sink.counts.setdefault(self.path, {"requests": 0, "bytes": 0})
                    c["requests"] += 1
                    c["bytes"] += len(body)
                json_ = "json" in (self.headers.get("Content-Type") or "")
                out = b"{}" if json_ else b""
                self.send_response(200)
                self.send_header("Content-Type", "application/json" if json_ else "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return {k: dict(v) for k, v in self.counts.items()}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- SSE subscribers ---------------------------------------------------------------------------

class Subscriber(threading.Thread):
    """Holds GET /traffic/stream/{job} open, counts events; reconnects with Last-Event-ID."""

    def __init__(self, host, port, job_id, label, stop):
        super().__init__(daemon=True)
        self.host, self.port, self.job_id, self.label, self.stop_ev = host, port, job_id, label, stop
        self.events = {}
        self.last_id = None
        self.connects = 0
        self.stalls = 0
        self.errors = []
        self.out_of_order = 0
        self.final = None
        self.bytes = 0

    def run(self):
        while not self.stop_ev.is_set() and self.final is None:
            conn = None
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                headers = {"Accept": "text/event-stream"}
                if self.last_id is not None:
                    headers["Last-Event-ID"] = str(self.last_id)
                conn.request("GET", f"/traffic/stream/{self.job_id}", headers=headers)
                resp = conn.getresponse()
                self.connects += 1
                if resp.status != 200:
                    self.errors.append(f"HTTP {resp.status}: {resp.read()[:200]!r}")
                    return
                self.read_events(resp)
            except socket.timeout:
                self.stalls += 1
            except (OSError, http.client.HTTPException) as e:
                if not self.stop_ev.is_set():
                    self.errors.append(f"{type(e).__name__}: {e}")
            finally:
                if conn:
                    conn.close()
            if self.final is None:
                self.stop_ev.wait(1)

    def read_events(self, resp):
        ev_id, ev_name, data = None, "message", []
        while not self.stop_ev.is_set():
            line = resp.readline()
            if not line:
                return  # the stream ended
            self.bytes += len(line)
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            if line == "":
                if data or ev_id is not None:
                    self.dispatch(ev_id, ev_name, "\n".join(data))
                ev_id, ev_name, data = None, "message", []
            elif line.startswith(":"):
                self.events["heartbeat"] = self.events.get("heartbeat", 0) + 1
            else:
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "id":
                    ev_id = value
                elif field == "event":
                    ev_name = value
                elif field == "data":
                    data.append(value)

    def dispatch(self, ev_id, name, data):
        self.events[name] = self.events.get(name, 0) + 1
        if ev_id is not None and ev_id.isdigit():
            n = int(ev_id)
            if self.last_id is not None and n <= self.last_id and name != "final":
                self.out_of_order += 1
            self.last_id = max(n, self.last_id or 0)
        if name == "final":
            try:
                self.final = json.loads(data)
            except ValueError:
                self.final = {"unparsed": data[:200]}

    def summary(self):
        return {"job": self.label, "events": dict(self.events), "connects": self.connects,
                "stalls": self.stalls, "errors": self.errors[-5:], "out_of_order": self.out_of_order,
                "last_id": self.last_id, "got_final": self.final is not None, "bytes": self.bytes}


# ---- reading the process and /metrics ----------------------------------------------------------

def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return {"rss_kib": out.get("VmRSS"), "hwm_kib": out.get("VmHWM"), "threads": out.get("Threads"),
            "fds": len(os.listdir(f"/proc/{pid}/fd")), "cpu_s": cpu}


SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {labels}, value)] from Prometheus text format."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            continue
        try:
            v = float(m.group(3))
        except ValueError:
            continue
        out.append((m.group(1), dict(LABEL_RE.findall(m.group(2) or "")), v))
    return out


def metric_sum(samples, name, **match):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in match.items()))


def metric_by(samples, name, label):
    out = {}
    for n, l, v in samples:
        if n == name:
            out[l.get(label, "")] = out.get(l.get(label, ""), 0) + v
    return out


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# ---- processes ---------------------------------------------------------------------------------

def stop_group(p, name, grace=30):
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop within {grace} s: SIGKILL")
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(10)


def start_demo(binary, tmp, args, sink_url):
    data_dir = os.path.join(tmp, "data")
    os.makedirs(data_dir)
    err = open(os.path.join(tmp, "demo.stderr"), "w")
    cmd = [binary, "demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--catalog-rows",
           str(args.catalog_rows), "-q", "--no-color", "--otlp", sink_url, "--trace-ratio",
           str(args.trace_ratio), "--max-jobs", "4"]
    log(" ".join(cmd))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    err.close()
    lines = []
    got_url = threading.Event()

    def reader():
        for line in p.stdout:
            lines.append((time.time(), line.rstrip("\n")))
            got_url.set()
        got_url.set()

    threading.Thread(target=reader, daemon=True).start()
    if not got_url.wait(120) or not lines or not lines[0][1].startswith("http://"):
        raise RuntimeError(f"the demo did not print its URL; stderr: {tail(os.path.join(tmp, 'demo.stderr'))}")
    return p, lines[0][1].strip().rstrip("/"), lines, data_dir


def start_prometheus(tmp, demo_addr, scrape_s):
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(f"global:\n  scrape_interval: {scrape_s}s\n  evaluation_interval: {scrape_s}s\n"
                f"scrape_configs:\n  - job_name: trafficsim-demo\n    metrics_path: /metrics\n"
                f"    static_configs:\n      - targets: [\"{demo_addr}\"]\n")
    err = open(os.path.join(tmp, "prometheus.stderr"), "w")
    p = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}",
                          f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                          f"--web.listen-address=127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    err.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"prometheus exited: {tail(os.path.join(tmp, 'prometheus.stderr'))}")
        try:
            if call(url + "/-/ready", timeout=2)[0] == 200:
                return p, url
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.3)
    raise RuntimeError("prometheus not ready within 30 s")


def prom_query(url, q):
    try:
        r = get_json(url + "/api/v1/query?" + urllib.parse.urlencode({"query": q}), timeout=10)
        res = r.get("data", {}).get("result", [])
        return float(res[0]["value"][1]) if res else None
    except (OSError, ValueError, KeyError, IndexError, urllib.error.URLError):
        return None


def tail(path, n=2000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return ""


# ---- sampling ----------------------------------------------------------------------------------

def take_sample(t0, pid, url, jobs, db_path, prom_url, sink, subs):
    s = {"t": round(time.monotonic() - t0, 2), "unix": time.time()}
    s.update(proc_status(pid))
    s["sqlite_db"] = file_size(db_path)
    s["sqlite_wal"] = file_size(db_path + "-wal")
    s["sqlite_shm"] = file_size(db_path + "-shm")
    s["sqlite_bytes"] = s["sqlite_db"] + s["sqlite_wal"]
    try:
        m = parse_metrics(call(url + "/metrics")[1].decode())
        s["series"] = len(m)
        # The series themselves, for naming what appeared after the warm-up.
        s["series_keys"] = sorted(
            n + "{" + ",".join(f"{k}={v}" for k, v in sorted(lb.items())) + "}" for n, lb, _ in m)
        s["queues"] = {
            **{f"trafficsim_otlp_queue_items{{signal={k}}}": v
               for k, v in metric_by(m, "trafficsim_otlp_queue_items", "signal").items()},
            **{f"db_pool_queued{{pool={k}}}": v for k, v in metric_by(m, "db_pool_queued", "pool").items()},
            "http_connections_open": metric_sum(m, "http_connections_open"),
        }
        s["db_pool_busy"] = metric_by(m, "db_pool_busy", "pool")
        s["otlp_items"] = {f"{l.get('signal')}/{l.get('outcome')}": v for n, l, v in m
                           if n == "trafficsim_otlp_items_total"}
        s["server_requests"] = metric_by(m, "http_requests_total", "traffic_type")
        s["server_rejected"] = metric_by(m, "http_server_rejected_requests_total", "reason")
        s["demo_minute"] = metric_sum(m, "demo_minute")
    except (OSError, urllib.error.URLError, ValueError) as e:
        s["metrics_error"] = str(e)
    s["jobs"] = {}
    for label, jid in jobs.items():
        try:
            st = get_json(f"{url}/traffic/status/{jid}")
            stats = st.get("stats", {})
            s["jobs"][label] = {
                "status": st.get("status"), "stats_status": stats.get("status"),
                "elapsed": stats.get("elapsed"), "completed": stats.get("totalRequests"),
                "in_flight": stats.get("inFlight"), "dropped": stats.get("dropped"),
                "failed": stats.get("failedRequests"), "current_rps": stats.get("currentRps"),
                "target_rps": stats.get("targetRps"), "demo_minute": stats.get("demoMinute"),
                "subscribers": st.get("subscribers"),
                "streams": {x.get("name"): {"completed": x.get("totalRequests"),
                                            "in_flight": x.get("inFlight"),
                                            "target_rps": x.get("targetRps")}
                            for x in stats.get("streams", []) or []},
            }
        except (OSError, urllib.error.URLError, ValueError) as e:
            s["jobs"][label] = {"error": str(e)}
    try:
        mon = get_json(url + "/api/v1/monitors")
        s["monitors"] = {x["name"]: x["state"] for x in mon.get("monitors", [])}
        s["monitor_events"] = len(mon.get("events", []))
        s["monitor_scrape_errors"] = mon.get("scrapeErrors")
    except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
        s["monitors_error"] = str(e)
    try:
        inc = get_json(url + "/api/v1/incidents")
        s["incidents"] = len(inc)
        s["incidents_open"] = sum(1 for i in inc if i.get("status") != "resolved")
        s["timeline_entries"] = sum(len(i.get("timeline", [])) for i in inc)
    except (OSError, urllib.error.URLError, ValueError) as e:
        s["incidents_error"] = str(e)
    if prom_url:
        s["prom_up"] = prom_query(prom_url, 'up{job="trafficsim-demo"}')
        s["prom_samples_scraped"] = prom_query(prom_url, 'scrape_samples_scraped{job="trafficsim-demo"}')
        s["prom_scrape_s"] = prom_query(prom_url, 'scrape_duration_seconds{job="trafficsim-demo"}')
    s["sink"] = sink.snapshot()
    s["sse_events"] = sum(sum(v for k, v in x.events.items() if k != "heartbeat") for x in subs)
    return s


# ---- the verdict -------------------------------------------------------------------------------

def mean(xs):
    return statistics.fmean(xs) if xs else 0.0


def thirds(xs):
    n = len(xs)
    k = max(1, n // 3)
    return xs[:k], xs[-k:]


def check_accounting(label, report, final_state, server, rejected_total):
    """Problems (strings) with one job's final report; and its per-stream figures."""
    problems, figures = [], {}

    def completed(b):
        e = b.get("errors", {})
        return (sum(b.get("responses", {}).values()) + e.get("connect", 0) + e.get("timeout", 0)
                + e.get("closed_mid_response", 0) + e.get("other", 0))

    def block(where, b):
        if b.get("requests") != completed(b):
            problems.append(f"{label} {where}: requests {b.get('requests')} != responses + "
                            f"transport errors {completed(b)}")

    block("total", report)
    streams = report.get("streams", [])
    for st in streams:
        block(f"stream {st.get('name')}", st)
        for ep in st.get("endpoints", []):
            block(f"stream {st.get('name')} endpoint {ep.get('name')}", ep)
        eps = st.get("endpoints", [])
        for k in ("requests", "dropped"):
            if eps and sum(x.get(k, 0) for x in eps) != st.get(k):
                problems.append(f"{label} stream {st.get('name')}: endpoints' {k} do not sum to the stream's")
        planned = st.get("planned_requests")
        if planned is not None and not report.get("meta", {}).get("stopped_early"):
            if abs(st.get("requests", 0) + st.get("dropped", 0) - planned) > 1:
                problems.append(f"{label} stream {st.get('name')}: requests {st.get('requests')} + dropped "
                                f"{st.get('dropped')} != planned {planned}")
        responses = sum(st.get("responses", {}).values())
        srv = server.get(st.get("name"))
        figures[st.get("name")] = {"requests": st.get("requests"), "responses": responses,
                                   "dropped": st.get("dropped"), "planned": planned,
                                   "errors": st.get("errors"), "server_counted": srv,
                                   "achieved_rps": st.get("achieved_rps")}
        if srv is not None:
            if label == "normal":
                if srv != st.get("requests"):
                    problems.append(f"{label} stream {st.get('name')}: the target counted {srv:.0f}, "
                                    f"the client sent {st.get('requests')}")
            elif not (responses - rejected_total <= srv <= st.get("requests", 0)):
                problems.append(f"{label} stream {st.get('name')}: the target counted {srv:.0f}, outside "
                                f"[responses {responses} - rejected {rejected_total:.0f}, requests "
                                f"{st.get('requests')}]")
    for k in ("requests", "dropped"):
        if streams and sum(x.get(k, 0) for x in streams) != report.get(k):
            problems.append(f"{label}: streams' {k} do not sum to the total {report.get(k)}")
    if final_state:
        fs = final_state.get("stats", {})
        if fs.get("totalRequests") != completed(report):
            problems.append(f"{label}: final JobState totalRequests {fs.get('totalRequests')} != report's "
                            f"completed {completed(report)}")
    return problems, figures


def verdict(samples, post, args, finals, subs, prom_min_up):
    checks = []  # (name, ok, detail)
    rows = []    # (resource, first, last, max, limit)

    if not post:
        checks.append(("post-warm-up samples", False, "none: the run is shorter than the warm-up"))
        return checks, rows
    first = post[0]
    # RSS
    rss = [s["rss_kib"] for s in post]
    lim = first["rss_kib"] * (1 + RSS_TOLERANCE)
    rows.append(("RSS (MiB)", f"{first['rss_kib'] / 1024:.1f}", f"{rss[-1] / 1024:.1f}",
                 f"{max(rss) / 1024:.1f}", f"<= {lim / 1024:.1f} (+10 %)"))
    if len(post) >= 2 and post[-1]["t"] > first["t"]:
        ts = [s["t"] for s in post]
        mt, mr = mean(ts), mean(rss)
        slope = sum((t - mt) * (r - mr) for t, r in zip(ts, rss)) / sum((t - mt) ** 2 for t in ts)
        rows.append(("RSS slope after warm-up (MiB/min, least squares)", "", "", f"{slope * 60 / 1024:.2f}",
                     "(not judged)"))
    checks.append(("RSS", max(rss) <= lim, f"max {max(rss) / 1024:.1f} MiB vs first {first['rss_kib'] / 1024:.1f} MiB "
                   f"({(max(rss) / first['rss_kib'] - 1) * 100:+.1f} %)"))
    # fds, threads
    fds = [s["fds"] for s in post]
    rows.append(("open files (all)", f"{first['fds']}", f"{fds[-1]}", f"{max(fds)}", "(moves with the connections)"))
    for s in post:
        s["fds_other"] = s["fds"] - 2 * int(s.get("queues", {}).get("http_connections_open", 0))
    for key, name in (("fds_other", "open files - 2 x connections"), ("threads", "threads")):
        xs = [s[key] for s in post]
        lim = first[key] + FD_THREAD_ALLOWANCE
        rows.append((name, f"{first[key]}", f"{xs[-1]}", f"{max(xs)}", f"<= {lim} (+2)"))
        checks.append((name, max(xs) <= lim, f"max {max(xs)} vs first {first[key]} + 2"))
    # sqlite
    sz = [s["sqlite_bytes"] for s in post]
    content = [s.get("incidents", 0) + s.get("timeline_entries", 0) for s in post]
    grown = sz[-1] - sz[0]
    added = max(0, content[-1] - content[0])
    allowed = SQLITE_PER_ITEM * added + SQLITE_SLACK
    wal_max = max(s["sqlite_wal"] for s in post)
    rows.append(("SQLite db + wal (KiB)", f"{sz[0] / 1024:.0f}", f"{sz[-1] / 1024:.0f}", f"{max(sz) / 1024:.0f}",
                 f"growth <= {allowed / 1024:.0f} ({added} items added)"))
    rows.append(("incidents / timeline entries", f"{first.get('incidents')} / {first.get('timeline_entries')}",
                 f"{post[-1].get('incidents')} / {post[-1].get('timeline_entries')}",
                 f"{max(s.get('incidents', 0) for s in post)} / {max(s.get('timeline_entries', 0) for s in post)}", ""))
    checks.append(("SQLite store", grown <= allowed and wal_max <= WAL_LIMIT,
                   f"grew {grown / 1024:.1f} KiB with {added} incidents + timeline entries added "
                   f"(allowed {allowed / 1024:.0f} KiB); -wal max {wal_max / 1024:.0f} KiB"))
    # queues
    qnames = sorted({k for s in post for k in s.get("queues", {})})
    qbad = []
    for q in qnames:
        xs = [s.get("queues", {}).get(q, 0) for s in post]
        a, b = thirds(xs)
        slack = next((v for k, v in QUEUE_SLACK.items() if q.startswith(k)), 2)
        lim = mean(a) * QUEUE_FACTOR + slack
        rows.append((q, f"{xs[0]:.0f}", f"{xs[-1]:.0f}", f"{max(xs):.0f}",
                     f"last-third mean {mean(b):.1f} <= {lim:.1f}"))
        if mean(b) > lim:
            qbad.append(f"{q}: {mean(a):.1f} -> {mean(b):.1f}")
    for job in sorted({j for s in post for j in s.get("jobs", {})}):
        xs = [s["jobs"][job].get("in_flight") for s in post if s["jobs"].get(job, {}).get("in_flight") is not None]
        if not xs:
            continue
        a, b = thirds(xs)
        lim = mean(a) * QUEUE_FACTOR + QUEUE_SLACK["in_flight"]
        rows.append((f"in flight ({job} job)", f"{xs[0]}", f"{xs[-1]}", f"{max(xs)}",
                     f"last-third mean {mean(b):.1f} <= {lim:.1f}"))
        if mean(b) > lim:
            qbad.append(f"in flight {job}: {mean(a):.1f} -> {mean(b):.1f}")
    lost = {}
    for k in sorted({k for s in post for k in s.get("otlp_items", {})}):
        if k.endswith("/dropped") or k.endswith("/failed"):
            d = post[-1].get("otlp_items", {}).get(k, 0) - first.get("otlp_items", {}).get(k, 0)
            if d:
                lost[k] = d
    checks.append(("queue depths", not qbad, "; ".join(qbad) or
                   f"{len(qnames)} queues and the jobs' in-flight counts flat (last third vs first third)"))
    checks.append(("OTLP export", not lost, (f"lost after warm-up: {lost}" if lost else
                   "no item dropped or failed after the warm-up") +
                   f"; sink got {sink_summary(post[-1].get('sink', {}))}"))
    ser = [s.get("series", 0) for s in post]
    ser_limit = int(ser[0] * 1.02)
    rows.append(("series on /metrics", f"{ser[0]}", f"{ser[-1]}", f"{max(ser)}", f"<= {ser_limit} (+2 %)"))
    first_keys = set(post[0].get("series_keys", []))
    families = {k.split("{", 1)[0] for k in first_keys}
    added = {}
    for smp in post:
        for k in smp.get("series_keys", []):
            if k not in first_keys and k not in added:
                added[k] = smp["t"]
    new_family = [k for k in added if k.split("{", 1)[0] not in families]
    detail = f"{ser[0]} -> max {max(ser)}"
    if added:
        detail += "; new after the warm-up: " + ", ".join(f"{k} (t={t:.0f}s)" for k, t in sorted(added.items(), key=lambda x: x[1]))
    checks.append(("metric series", max(ser) <= ser_limit and not new_family, detail))
    # the constant-rate job's achieved rate
    pts = [(s["jobs"]["normal"]["elapsed"], s["jobs"]["normal"]["completed"]) for s in post
           if s["jobs"].get("normal", {}).get("elapsed") is not None]
    windows = []
    i = 0
    for j in range(1, len(pts)):
        # (elapsed comes from the job's 500 ms snapshots: a window may be 0.5 s short)
        if pts[j][0] - pts[i][0] >= args.rate_window - 1:
            windows.append((pts[i][0], pts[j][0], (pts[j][1] - pts[i][1]) / (pts[j][0] - pts[i][0])))
            i = j
    if len(pts) >= 2 and pts[-1][0] > pts[0][0]:
        whole = (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])
        rates = [w[2] for w in windows] + [whole]
        worst = max(rates, key=lambda r: abs(r - args.rate))
        ok = all(abs(r - args.rate) <= RATE_TOLERANCE * args.rate for r in rates)
        rows.append((f"normal job: achieved req/s per {args.rate_window} s window",
                     f"{windows[0][2]:.3f}" if windows else "-", f"{windows[-1][2]:.3f}" if windows else "-",
                     f"{max(w[2] for w in windows):.3f} (min {min(w[2] for w in windows):.3f})" if windows else "-",
                     f"{args.rate} +- 0.5 %"))
        checks.append(("rate (seed-001 job)", ok, f"{len(windows)} windows, whole post span {whole:.3f} req/s; "
                       f"worst {worst:.3f} ({(worst / args.rate - 1) * 100:+.2f} %) vs {args.rate}"))
        finals.setdefault("rate_windows", windows)
    else:
        checks.append(("rate (seed-001 job)", False, "not enough samples of the normal job"))
    bf = [(s["jobs"]["blackfriday"]["elapsed"], s["jobs"]["blackfriday"]["completed"]) for s in post
          if s["jobs"].get("blackfriday", {}).get("elapsed") is not None]
    if len(bf) >= 2 and bf[-1][0] > bf[0][0]:
        rows.append(("blackfriday job: completed req/s after warm-up (not judged)", "", "",
                     f"{(bf[-1][1] - bf[0][1]) / (bf[-1][0] - bf[0][0]):.2f}",
                     f"target {post[-1]['jobs']['blackfriday'].get('target_rps')}"))
    # accounting
    problems = finals.get("accounting_problems", [])
    checks.append(("requests accounted", not problems and finals.get("reports_ok", False),
                   "; ".join(problems[:6]) or finals.get("accounting_detail", "")))
    # SSE
    sse = [x.summary() for x in subs]
    bad = [f"{x['job']}: final {x['got_final']}, stalls {x['stalls']}, errors {x['errors']}, "
           f"out of order {x['out_of_order']}" for x in sse
           if not x["got_final"] or x["stalls"] or x["out_of_order"]]
    checks.append(("SSE subscribers", not bad and len(sse) == args.subscribers, "; ".join(bad) or
                   f"{len(sse)} subscribers, {sum(sum(v for k, v in x['events'].items() if k != 'heartbeat') for x in sse)} "
                   f"events, {sum(x['connects'] for x in sse)} connections, every one got its final event"))
    act = finals.get("activity_report") or {}
    if act:
        ex = act.get("export", {})
        rows.append(("activity job: spans / logs (exported, dropped)", "", "",
                     f"{act.get('spans')} / {act.get('logs')}",
                     ", ".join(f"{k} {v.get('sent')} sent {v.get('dropped')} dropped" for k, v in ex.items())))
    summary = " ".join(finals.get("export_summary", []))
    lost_at_end = [m.group(0) for m in re.finditer(r"\w+ \d+ sent, (\d+) dropped, (\d+) failed", summary)
                   if m.group(1) != "0" or m.group(2) != "0"]
    act_lost = [k for k, v in (act.get("export") or {}).items() if v.get("dropped") or v.get("failed")]
    checks.append(("clean stop", finals.get("demo_exit") == 0 and bool(summary) and not lost_at_end
                   and not act_lost,
                   f"SIGTERM -> exit {finals.get('demo_exit')} in {finals.get('demo_stop_s')} s; "
                   f"{summary.replace('trafficsim: ', '') or 'no export summary'}"
                   + (f"; activity export lost {act_lost}" if act_lost else "")))
    checks.append(("Prometheus scrape", prom_min_up == 1.0, f"min(up) after the warm-up: {prom_min_up}, "
                   f"{finals.get('prom_scrapes') or 0:.0f} scrapes in all"))
    return checks, rows


def sink_summary(sink):
    return ", ".join(f"{k} {v['requests']} requests / {v['bytes'] / 1e6:.1f} MB" for k, v in sorted(sink.items())) or "nothing"


def table(rows, checks, args, meta):
    out = [f"### Soak: {args.minutes:g} min, warm-up {args.warmup:g} min, a sample every {args.interval:g} s "
           f"({meta['samples']} samples, {meta['post']} after the warm-up)\n",
           "| resource | first after warm-up | last | max | limit |", "|---|---:|---:|---:|---|"]
    out += [f"| {' | '.join(str(c) for c in r)} |" for r in rows]
    out += ["", "| check | verdict | detail |", "|---|---|---|"]
    out += [f"| {n} | {'pass' if ok else '**FAIL**'} | {d} |" for n, ok, d in checks]
    return "\n".join(out)


# ---- main --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60, help="the soak's length (every job runs this long)")
    ap.add_argument("--interval", type=float, default=10, help="seconds between samples")
    ap.add_argument("--warmup", type=float, help="minutes not judged (default min(5, minutes / 2))")
    ap.add_argument("--quick", action="store_true", help="--minutes 2 --interval 5")
    ap.add_argument("--binary", default=TS, help="the trafficsim to copy and run")
    ap.add_argument("--rate", type=float, default=20, help="the normal job's maxRps (the hard cap is 20)")
    ap.add_argument("--rate-window", type=float, default=60, help="seconds per rate window")
    ap.add_argument("--time-scale", type=float,
                    help="Black Friday's timeScale (default: demo minute 20 at a sixth of the warm-up)")
    ap.add_argument("--catalog-rows", type=int, default=500000, help="the demo catalog (the demo's default)")
    ap.add_argument("--trace-ratio", type=float, default=0.1, help="the jobs' client spans exported")
    ap.add_argument("--subscribers", type=int, default=5)
    ap.add_argument("--scrape-interval", type=int, default=5, help="Prometheus scrape interval, s")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "soak.json"))
    args = ap.parse_args()
    if args.quick:
        args.minutes, args.interval = 2, 5
    if args.warmup is None:
        args.warmup = min(5.0, args.minutes / 2)
    if args.time_scale is None:
        # Demo minute 20 (collapse: the final rates and latencies) at a sixth of the warm-up, so
        # that the monitors' incidents (Recommendations degraded needs 1 min of window and 2 min
        # of `for` after that) open well inside it.
        args.time_scale = min(3600.0, 20 / (args.warmup / 6)) if args.warmup > 0 else 60.0
    if not os.path.exists(args.binary):
        sys.exit(f"build first: cmake --preset release && cmake --build build/release ({args.binary} missing)")
    duration_s = int(round(args.minutes * 60))

    tmp = tempfile.mkdtemp(prefix="trafficsim-soak.")
    binary = os.path.join(tmp, "trafficsim")
    shutil.copy2(args.binary, binary)
    demo = prom = sink = None
    stop = threading.Event()
    subs = []
    samples = []
    finals = {}
    raw = {"args": vars(args), "machine": {"nproc": os.cpu_count(), "kernel": os.uname().release},
           "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    rc = 1

    def on_term(signum, frame):
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        sink = OtlpSink()
        demo, url, demo_out, data_dir = start_demo(binary, tmp, args, sink.url)
        host, port = url.split("//")[1].split(":")
        port = int(port)
        db_path = os.path.join(data_dir, "incidents.sqlite")
        log(f"demo at {url} (pid {demo.pid}), OTLP sink at {sink.url}")
        prom, prom_url = start_prometheus(tmp, f"{host}:{port}", args.scrape_interval)
        log(f"prometheus at {prom_url}")

        bodies = {
            "blackfriday": {"scenario": "blackfriday", "duration": duration_s, "timeScale": args.time_scale},
            "normal": {"scenario": "normal", "duration": duration_s, "maxRps": args.rate},
            "activity": {"scenario": "activity", "duration": duration_s},
        }
        jobs = {}
        t0 = time.monotonic()
        for label, body in bodies.items():
            st, b = call(url + "/traffic/start", "POST", body)
            r = json.loads(b)
            jobs[label] = r["jobId"]
            log(f"started {label}: {json.dumps(r)}")
        raw["jobs"] = jobs
        for i in range(args.subscribers):
            label = "blackfriday" if i % 2 == 0 else "normal"
            sub = Subscriber(host, port, jobs[label], label, stop)
            sub.start()
            subs.append(sub)

        # Sample until every job has ended.
        k = 0
        while True:
            s = take_sample(t0, demo.pid, url, jobs, db_path, prom_url, sink, subs)
            samples.append(s)
            js = s["jobs"]
            if k % max(1, int(60 / args.interval)) == 0:
                log(f"t={s['t']:.0f}s rss {s['rss_kib'] / 1024:.1f} MiB fds {s['fds']} threads {s['threads']} "
                    f"sqlite {s['sqlite_bytes'] / 1024:.0f} KiB incidents {s.get('incidents')} "
                    f"queues {s.get('queues')} normal {js.get('normal', {}).get('completed')} "
                    f"bf {js.get('blackfriday', {}).get('completed')} (minute {js.get('blackfriday', {}).get('demo_minute')}) "
                    f"sse {s['sse_events']}")
            if demo.poll() is not None:
                raise RuntimeError(f"the demo exited with {demo.returncode}: {tail(os.path.join(tmp, 'demo.stderr'))}")
            if all(j.get("status") not in ("starting", "running") for j in js.values() if "error" not in j) \
                    and all("error" not in j for j in js.values()):
                break
            if time.monotonic() - t0 > duration_s + 180:
                raise RuntimeError("the jobs did not end within 3 minutes of their duration")
            k += 1
            time.sleep(max(0.0, t0 + k * args.interval - time.monotonic()))
        log("every job has ended")

        # The server's counts settle once the last timed-out requests are done with.
        prev = None
        for _ in range(30):
            m = parse_metrics(call(url + "/metrics")[1].decode())
            cur = (metric_by(m, "http_requests_total", "traffic_type"), metric_sum(m, "http_connections_open"))
            if prev == cur:
                break
            prev = cur
            time.sleep(1)
        server = cur[0]
        rejected_total = metric_sum(m, "http_server_rejected_requests_total", reason="overloaded")
        finals["server_requests"] = server
        finals["server_rejected_overloaded"] = rejected_total
        for s in subs:
            s.join(15)
        problems = []
        reports_ok = True
        for label in ("blackfriday", "normal", "activity"):
            state = get_json(f"{url}/traffic/status/{jobs[label]}")
            try:
                report = get_json(f"{url}/traffic/report/{jobs[label]}")
            except urllib.error.HTTPError as e:
                problems.append(f"{label}: report {e.code}")
                reports_ok = False
                continue
            finals[f"{label}_state"] = state
            if label == "activity":
                finals["activity_report"] = report
                continue
            finals[f"{label}_report_totals"] = {k: report.get(k) for k in
                                                ("requests", "responses", "errors", "dropped",
                                                 "duration_s", "achieved_rps", "saturation")}
            finals[f"{label}_report_meta"] = report.get("meta")
            server_by_stream = {st.get("name"): server.get(st.get("name")) for st in report.get("streams", [])}
            p, fig = check_accounting(label, report, state, server_by_stream, rejected_total)
            problems += p
            finals[f"{label}_streams"] = fig
        finals["accounting_problems"] = problems
        finals["reports_ok"] = reports_ok
        bfs = finals.get("blackfriday_streams", {})
        nfs = finals.get("normal_streams", {})
        finals["accounting_detail"] = "; ".join(
            f"{n}: {f['requests']} sent, {f['responses']} answered, {f['requests'] - f['responses']} transport "
            f"errors, {f['dropped']} dropped, target counted {f['server_counted']:.0f}"
            for n, f in list(nfs.items()) + list(bfs.items()) if f.get("server_counted") is not None)

        warm_end = args.warmup * 60
        # After the warm-up, while both traffic jobs still issue (a JobState's stats say "running"
        # while the last requests drain too, so the job's own clock decides).
        post = [s for s in samples if s["t"] >= warm_end and all(
            j.get("status") == "running" and (j.get("elapsed") or 0) < duration_s - 1
            for lbl, j in s["jobs"].items() if lbl != "activity")]
        post_s = max(1, int((samples[-1]["t"] - warm_end)))
        prom_min_up = prom_query(prom_url, f'min_over_time(up{{job="trafficsim-demo"}}[{post_s}s])')
        finals["prom_scrapes"] = prom_query(prom_url, f'count_over_time(up{{job="trafficsim-demo"}}[{int(samples[-1]["t"]) + 30}s])')

        # Stop the demo now (SIGTERM): it flushes its exporters and prints their counts.
        t_stop = time.monotonic()
        stop_group(demo, "demo")
        finals["demo_exit"] = demo.returncode
        finals["demo_stop_s"] = round(time.monotonic() - t_stop, 2)
        err = tail(os.path.join(tmp, "demo.stderr"), 20000)
        finals["export_summary"] = [l for l in err.splitlines() if "export:" in l]
        checks, rows = verdict(samples, post, args, finals, subs, prom_min_up)
        finals["demo_stdout"] = [l for _, l in demo_out][-50:]
        finals["sink"] = sink.snapshot()
        finals["sse"] = [x.summary() for x in subs]
        meta = {"samples": len(samples), "post": len(post)}
        text = table(rows, checks, args, meta)
        print()
        print(text)
        print()
        print("OTLP sink: " + sink_summary(finals["sink"]))
        for l in finals["export_summary"]:
            print(l)
        ok = all(c[1] for c in checks)
        print(f"\nverdict: {'PASS' if ok else 'FAIL'}")
        raw.update({"checks": [{"check": n, "ok": o, "detail": d} for n, o, d in checks],
                    "rows": rows, "table": text, "verdict": "pass" if ok else "fail"})
        rc = 0 if ok else 1
    except Exception as e:
        log(f"error: {type(e).__name__}: {e}")
        raw["error"] = f"{type(e).__name__}: {e}"
        rc = 1
    finally:
        stop.set()
        stop_group(demo, "demo")
        stop_group(prom, "prometheus")
        if sink:
            sink.close()
        raw["samples"] = [{k: v for k, v in smp.items() if k != "series_keys"} for smp in samples]
        raw["finals"] = finals
        raw["demo_stderr_tail"] = tail(os.path.join(tmp, "demo.stderr"), 4000)
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1, default=str)
        log(f"raw results in {args.json}")
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
