#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into OUT/<target>/ from the repository's own
inputs (the shipped scenarios, monitors, incident scenarios; report files the tests produce
shapes of; protocol samples the tests use). Run by scripts/fuzz.sh; nothing here is copied from
elsewhere."""
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main(out):
    # response_parser: first byte = split step / HEAD flag, then the bytes a server sent.
    responses = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\n\r\nuntil close",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ]
    for i, r in enumerate(responses):
        write(out, "response_parser", f"seed-{i}", bytes([i * 7 % 64]) + r)
        write(out, "response_parser", f"seed-head-{i}", bytes([0x80 | 3]) + r)
    # text_values: selector byte then the text.
    values = {0: ["30s", "1.5m", "500ms", "1h2m", "10us"], 1: ["1000", "2.5k", "6000rpm", "10/s"],
              2: ["2026-12-02T21:00:00Z", "2026-12-02T21:00:00.250+01:00", "1796000000.5"],
              3: ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                  "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"],
              4: ["a%20b%zz+c%", "%E2%82%AC"], 5: ["limit\nlimit=5&traffic_type=demo&x=%41"]}
    for sel, texts in values.items():
        for i, t in enumerate(texts):
            write(out, "text_values", f"seed-{sel}-{i}", bytes([sel]) + t.encode())
    # hdr: an empty V2 histogram as our reports carry it, and one from a report in the docs.
    doc = open(os.path.join(ROOT, "docs", "report-format.md")).read()
    for i, m in enumerate(sorted(set(x for x in doc.split('"') if x.startswith("HISTF") or x.startswith("HISTB")))):
        write(out, "hdr", f"seed-doc-{i}", m)
    # webhook: Alertmanager v4 payloads.
    alert = {"status": "firing", "labels": {"alertname": "LLMLatencySpike", "monitor": "llm_latency_spike",
             "severity": "page"}, "annotations": {"summary": "s"}, "startsAt": "2026-12-01T17:31:56.123Z",
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://p/", "fingerprint": "abc123"}
    body = {"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "trafficsim", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am/", "alerts": [alert]}
    write(out, "webhook", "seed-firing", json.dumps(body))
    body["status"] = "resolved"
    write(out, "webhook", "seed-resolved", json.dumps(body))
    # otlp_response: protobuf (field 1 = partial_success {1: rejected, 2: message}) and JSON.
    write(out, "otlp_response", "seed-pb", b"\x00" + bytes([0x0a, 0x07, 0x08, 0x05, 0x12, 0x03]) + b"bad")
    write(out, "otlp_response", "seed-json", b"\x01" + b'{"partialSuccess":{"rejectedSpans":"5","errorMessage":"bad"}}')
    write(out, "otlp_response", "seed-json-logs", b"\x01" + b'{"partialSuccess":{"rejectedLogRecords":2}}')
    # exposition
    write(out, "exposition", "seed-0",
          '# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n'
          'http_requests_total{endpoint="/",status="200",le="+Inf"} 12 1764700000000\n'
          'x{a="\\"q\\\\\\n"} NaN\nbad line\n')
    # yaml_files: selector byte (0 scenario, 1 demo script, 2 monitors, 3 incident) + a file.
    for p in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))):
        text = open(p, "rb").read()
        sel = 1 if b"phases:" in text else 0
        write(out, "yaml_files", "scenario-" + os.path.basename(p), bytes([sel]) + text)
    for p in sorted(glob.glob(os.path.join(ROOT, "monitors", "*.yaml"))):
        write(out, "yaml_files", "monitors-" + os.path.basename(p), b"\x02" + open(p, "rb").read())
    for p in sorted(glob.glob(os.path.join(ROOT, "incidents", "*.yaml"))):
        write(out, "yaml_files", "incident-" + os.path.basename(p), b"\x03" + open(p, "rb").read())
    # report_merge: two segments of a tiny plan, NUL-separated (shape of docs/report-format.md).
    hist = "HISTBAAAACl4nJNpmczMwMDAyQABzFCaEURcm7yEwf4DRKCTlUmWSZOJmQkAfqQFXw=="  # docs/report-format.md
    lat = {"count": 1, "min_us": 100, "max_us": 100, "mean_us": 100, "sum_us": 100, "stddev_us": 0,
           "p50_us": 100, "p90_us": 100, "p95_us": 100, "p99_us": 100, "p999_us": 100, "histogram": hist}
    def seg(i):
        stats = {"requests": 1, "responses": {"200": 1}, "errors": {"connect": 0, "timeout": 0,
                 "closed_mid_response": 0, "other": 0, "status": 0}, "error_ratio": 0,
                 "expected_failures": 0, "unexpected_failures": 0, "dropped": 0, "bytes_in": 10,
                 "bytes_out": 10, "duration_s": 1.0, "achieved_rps": 1.0,
                 "latency": {"corrected": lat, "service": lat, "send_lateness": lat}}
        stream = dict(stats, name="api", url="http://x/", connections=1,
                      endpoints=[dict(stats, method="GET", path="/")],
                      timeseries=[{"t_s": 0.5, "rps": 2, "error_ratio": 0, "p50_us": 100, "p95_us": 100, "p99_us": 100}])
        return dict(stats, format_version=1, meta={"plan_hash": "0157359de45ad1d1", "seed": 1,
                    "segment": {"index": i, "count": 2}, "model": "open", "threads": 1, "start_at": None,
                    "started_at": "2026-12-03T11:04:22.086933Z", "ended_at": "2026-12-03T11:04:23Z",
                    "planned_duration_s": 1.0, "stopped_early": False, "notes": []},
                    streams=[stream], timeseries=stream["timeseries"],
                    thresholds={"passed": True, "results": [{"stream": None, "condition": "p95 < 1s", "passed": True}]})
    write(out, "report_merge", "seed-two", json.dumps(seg(0)) + "\0" + json.dumps(seg(1)))
    write(out, "report_merge", "seed-dup", json.dumps(seg(0)) + "\0" + json.dumps(seg(0)))

    # request_path: the bytes of one connection; JOBID and PORT are replaced by the fuzzer (a
    # running job's id, the server's port). Every route of docs/control-api.md and the target.
    def req(method, target, body=None, headers=(), version="1.1"):
        head = f"{method} {target} HTTP/{version}\r\nHost: 127.0.0.1:PORT\r\n"
        for h in headers:
            head += h + "\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body.encode())}\r\n"
        return head + "\r\n" + (body or "")
    requests = [
        req("GET", "/"), req("GET", "/assets/app.js"), req("GET", "/assets/../x"),
        req("GET", "/health"), req("GET", "/health/live"), req("GET", "/health/ready"),
        req("GET", "/metrics"), req("GET", "/debug/traces"), req("GET", "/debug/llm"),
        req("GET", "/products?category=books&limit=5"), req("GET", "/products/recommendations?user_id=3"),
        req("POST", "/checkout", '{"user_id":1,"items":[{"sku":"SKU-1","qty":2}]}'),
        req("POST", "/hackathon/classify", '{"text":"the checkout is slow","tokens":120}'),
        req("GET", "/api/v1/users?limit=5&offset=2"), req("GET", "/api/v1/users/17"),
        req("GET", "/api/v1/users/error"),
        req("POST", "/api/v1/users", '{"name":"Ada Lovelace","email":"ada@example.com"}'),
        req("PATCH", "/api/v1/users/1", '{"email":"not-an-email"}'),
        req("GET", "/admin/faults"),
        req("POST", "/admin/faults", '{"name":"flaky","route":"/api/v1/users","probability":0.3,'
            '"abort":{"status":502,"body":{"error":"bad gateway"}},"expires_in":"30s"}'),
        req("POST", "/admin/faults", '{"name":"slow","route":"/products","method":"get",'
            '"delay":{"mean_ms":5,"jitter_ms":1}}'),
        req("DELETE", "/admin/faults/flaky"), req("POST", "/admin/faults/reset"),
        req("GET", "/admin/demo"), req("POST", "/admin/demo", '{"time_scale":60}'),
        req("DELETE", "/admin/demo"),
        req("GET", "/admin/traffic-stats"), req("GET", "/traffic/jobs"), req("GET", "/traffic/scenarios"),
        req("GET", "/traffic/target"),
        req("POST", "/traffic/start", '{"scenario":"normal","maxRps":2,"duration":"2s","endpoints":["list","get"]}'),
        req("POST", "/traffic/start", '{"scenario":"blackfriday","timeScale":600,"duration":"1s"}'),
        req("GET", "/traffic/status/JOBID"), req("GET", "/traffic/report/JOBID?format=html"),
        req("GET", "/traffic/stream/JOBID", headers=["Accept: text/event-stream", "Last-Event-ID: 3"]),
        req("GET", "/traffic/stream/JOBID", headers=["Last-Event-ID: 18446744073709551616"]),
        req("GET", "/api/v1/monitors"),
        req("POST", "/api/v1/alerts/webhook", json.dumps(body)),
        req("GET", "/api/v1/incidents?status=open&service=llm-classifier&since=2026-12-01T00:00:00Z"),
        req("GET", "/api/v1/incidents/inc_1"), req("POST", "/api/v1/incidents/inc_1/acknowledge", "{}"),
        req("POST", "/api/v1/incidents", '{"service": "s", "title": "t", "severity": "high", '
            '"metrics": [{"name": "x", "values": [1, 2, 30]}]}'),
        req("GET", "/api/v1/simulator/scenarios?difficulty=easy"),
        req("POST", "/api/v1/simulator/scenarios/pod_crash_loop/start",
            '{"auto_analyze":true,"execution_mode":"demo","seed":3}'),
        req("GET", "/api/v1/simulator/simulations"),
        req("GET", "/api/v1/traces?traffic_type=demo&route=/products&status=500&min_ms=1&max_ms=9&limit=3"),
        req("GET", "/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736"),
        req("GET", "/api/v1/logs?after=demo-target:4&level=error&limit=2"),
        req("GET", "/api/v1/telemetry/metrics"), req("GET", "/api/v1/telemetry/segments"),
        req("GET", "/health", version="1.0"),
        "POST /traffic/start HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/json\r\n\r\n15\r\n{\"scenario\":\"normal\"}\r\n0\r\n\r\n",
        req("GET", "/health") + req("GET", "/api/v1/users/1") + req("GET", "/metrics"),
    ]
    for i, r in enumerate(requests):
        write(out, "request_path", f"seed-{i}", r)


if __name__ == "__main__":
    main(sys.argv[1])
