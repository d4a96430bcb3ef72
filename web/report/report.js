// The HTML report's charts: rate, latency and error ratio over time, one line per stream, drawn
// with uPlot (inlined before this script) from the report embedded in #report-data. The tables
// are rendered by trafficsim itself; this file only draws. No network, no modules: the page is one
// file opened from disk.
(function () {
  'use strict';

  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
  const PERCENTILES = [['p50_us', 'p50'], ['p95_us', 'p95'], ['p99_us', 'p99']];

  const report = JSON.parse(document.getElementById('report-data').textContent);
  const runs = Array.isArray(report.phases) ? report.phases : [report];
  const charts = [];

  function num(v) {
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }

  // A time series as points: the page embeds it as columns ({t_s: [...], rps: [...], ...}, see
  // control/html_report.cpp); a report's own array of point objects is read as it is.
  function pointsOf(ts) {
    if (Array.isArray(ts)) return ts;
    if (!ts || !Array.isArray(ts.t_s)) return [];
    return ts.t_s.map((t, i) => {
      const p = { t_s: t };
      for (const k of Object.keys(ts)) if (Array.isArray(ts[k])) p[k] = ts[k][i];
      return p;
    });
  }

  // The series to draw: each stream's own time series, or the run's total when no stream has one.
  function seriesOf(run) {
    const streams = (run.streams || [])
      .map((s, i) => ({ name: s.name || `stream ${i + 1}`, points: pointsOf(s.timeseries) }))
      .filter((s) => s.points.length);
    if (streams.length) return streams;
    const total = pointsOf(run.timeseries);
    return total.length ? [{ name: 'all', points: total }] : [];
  }

  // uPlot wants one x array: the union of the series' times (ms precision), gaps as null.
  function align(series, value) {
    const key = (t) => Math.round(t * 1000) / 1000;
    const xs = new Set();
    for (const s of series) for (const p of s.points) if (num(p.t_s) !== null) xs.add(key(p.t_s));
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    const ys = series.map((s) => {
      const y = new Array(x.length).fill(null);
      for (const p of s.points) if (num(p.t_s) !== null) y[index.get(key(p.t_s))] = value(p);
      return y;
    });
    return [x, ...ys];
  }

  function clock(seconds) {
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, '0');
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }

  // Short runs in seconds ("2.5s"), longer ones as a clock ("12:05", "1:02:05").
  function elapsedTicks(u, ticks) {
    const last = ticks.length ? ticks[ticks.length - 1] : 0;
    return last < 120 ? ticks.map((t) => `${Number(t.toFixed(1))}s`) : ticks.map(clock);
  }

  function chartWidth(box) {
    return Math.max(320, box.clientWidth - 16);
  }

  function makeChart(box, title, unit, series, value, controls) {
    const panel = document.createElement('div');
    panel.className = 'chart';
    const h = document.createElement('h4');
    h.textContent = title;
    if (controls) h.appendChild(controls);
    panel.appendChild(h);
    box.appendChild(panel);
    const opts = {
      width: chartWidth(box),
      height: 220,
      scales: { x: { time: false } },
      axes: [
        { values: elapsedTicks, label: 'elapsed' },
        { label: unit, size: 60 },
      ],
      series: [
        { label: 'elapsed', value: (u, v) => (v === null ? '—' : `${v.toFixed(1)}s`) },
        ...series.map((s, i) => ({
          label: s.name,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          spanGaps: false,
          value: (u, v) => (v === null ? '—' : `${v.toFixed(v < 10 ? 2 : 1)} ${unit}`),
        })),
      ],
    };
    const chart = new uPlot(opts, align(series, value), panel);
    charts.push({ chart, box });
    return chart;
  }

  function drawRun(box, run) {
    const series = seriesOf(run);
    if (!series.length) {
      const p = document.createElement('p');
      p.className = 'none';
      p.textContent = 'This report has no time series.';
      box.appendChild(p);
      return;
    }
    makeChart(box, 'Achieved rate', 'req/s', series, (p) => num(p.rps));

    const select = document.createElement('select');
    select.setAttribute('aria-label', 'Latency percentile');
    for (const [key, label] of PERCENTILES) select.add(new Option(label, key, key === 'p95_us', key === 'p95_us'));
    const controls = document.createElement('span');
    controls.className = 'controls';
    controls.append('percentile ', select);
    const latencyOf = (key) => (p) => (num(p[key]) === null ? null : p[key] / 1000);
    const latency = makeChart(box, 'Corrected latency', 'ms', series, latencyOf('p95_us'), controls);
    select.addEventListener('change', () => latency.setData(align(series, latencyOf(select.value))));

    makeChart(box, 'Error ratio', '%', series, (p) => (num(p.error_ratio) === null ? null : p.error_ratio * 100));
  }

  runs.forEach((run, i) => {
    const box = document.querySelector(`.charts[data-run="${i}"]`);
    if (box) drawRun(box, run);
  });

  function resize() {
    for (const { chart, box } of charts) chart.setSize({ width: chartWidth(box), height: 220 });
  }
  window.addEventListener('resize', resize);
  window.addEventListener('beforeprint', resize);
  window.addEventListener('afterprint', resize);
  document.body.dataset.charts = String(charts.length);
})();
