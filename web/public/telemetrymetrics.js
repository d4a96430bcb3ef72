// The Metrics page: GET /api/v1/telemetry/metrics polled every second while on screen, one uPlot
// chart per series group the server sends — request rates, request durations, query times,
// connection-pool waits, job durations (p50 / p95 per interval) and the cache hit ratio — with
// the wall clock on the x axis. A chart whose series set changes is rebuilt; otherwise only its
// data are replaced. Under `serve --segments` the page also lists the distributed run's segments
// (GET /api/v1/telemetry/segments: up or not, requests, errors, the last scrape); their sum is
// the source "segments" of the charts. Without a distributed run that route is 404 and the
// panel stays hidden (and is not asked again).
import { getJson } from './api.js';
import { el } from './waterfall.js';

const POLL_MS = 1000;
const HEIGHT_PX = 220;
const COLORS = ['#2563eb', '#db2777', '#15803d', '#c2410c', '#7e22ce', '#0891b2', '#a16207', '#4f46e5'];
const $ = (id) => document.getElementById(id);

const UNIT_FORMAT = {
  'req/s': (v) => `${v.toFixed(v < 10 ? 1 : 0)}`,
  ms: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`),
  ratio: (v) => `${(v * 100).toFixed(0)} %`,
};

export function watchTelemetryMetrics() {
  const root = $('metric-charts');
  const note = $('metrics-note');
  const charts = new Map(); // id -> {figure, holder, plot, key}
  let timer = null;
  let visible = false;

  function figureFor(chart) {
    let c = charts.get(chart.id);
    if (!c) {
      const holder = el('div', { className: 'chart-plot' });
      const figure = el('figure', { className: 'chart metric-chart', dataset: { chart: chart.id, points: '0' } },
        el('figcaption', { text: `${chart.title} (${chart.unit === 'ratio' ? '%' : chart.unit})` }), holder,
        el('p', { className: 'muted metric-empty', text: 'No data from any source yet.' }));
      root.append(figure);
      c = { figure, holder, plot: null, key: '' };
      charts.set(chart.id, c);
    }
    return c;
  }

  function draw(chart, t) {
    const c = figureFor(chart);
    const has = chart.series.length > 0 && t.length > 0;
    c.figure.dataset.points = String(has ? t.length : 0);
    c.figure.dataset.series = String(chart.series.length);
    c.figure.querySelector('.metric-empty').hidden = has;
    c.holder.hidden = !has;
    if (!has) return;
    const data = [t, ...chart.series.map((s) => s.values)];
    const key = chart.series.map((s) => s.label).join('|');
    const width = c.holder.clientWidth || 500;
    if (c.plot && c.key === key) {
      c.plot.setData(data);
      if (Math.abs(c.plot.width - width) > 2) c.plot.setSize({ width, height: HEIGHT_PX });
      return;
    }
    c.plot?.destroy();
    c.key = key;
    const format = UNIT_FORMAT[chart.unit] || ((v) => String(v));
    // A group's p50 and p95 share a colour (p50 dashed).
    const groupOf = (label) => label.replace(/ p(50|95)$/, '');
    const groups = [...new Set(chart.series.map((s) => groupOf(s.label)))];
    c.plot = new uPlot({
      width,
      height: HEIGHT_PX,
      scales: { x: { time: true }, y: chart.unit === 'ratio' ? { range: [0, 1] } : { range: (u, min, max) => [0, Math.max(max * 1.1, chart.unit === 'ms' ? 1 : 0.1)] } },
      axes: [{}, { values: (u, vals) => vals.map((v) => (v == null ? '' : format(v))), size: 70 }],
      series: [
        {},
        ...chart.series.map((s) => ({
          label: s.label,
          stroke: COLORS[groups.indexOf(groupOf(s.label)) % COLORS.length],
          width: 2,
          dash: s.label.endsWith(' p50') ? [6, 4] : undefined,
          spanGaps: true,
          value: (u, v) => (v == null ? '–' : format(v)),
        })),
      ],
      legend: { live: true },
    }, data, c.holder);
  }

  const segmentsPanel = $('segments-panel');
  let segmentsWatched = true; // until the server says 404
  const count = (n) => Number(n).toLocaleString('en-US');

  function drawSegments(answer) {
    segmentsPanel.hidden = false;
    segmentsPanel.dataset.up = String(answer.up);
    segmentsPanel.dataset.known = String(answer.known);
    segmentsPanel.dataset.requests = String(answer.requests);
    const via = answer.mode === 'prometheus' ? ` through Prometheus ${answer.source}` : '';
    $('segments-summary').textContent =
      `· ${answer.up} of ${answer.known} segments answering${via} · ${count(answer.requests)} requests, ${count(answer.errors)} error${answer.errors === 1 ? '' : 's'}`;
    const now = Date.now() / 1000;
    const rows = answer.segments.map((s) => {
      const age = s.last_scrape_unix == null ? 'never' : `${Math.max(0, now - s.last_scrape_unix).toFixed(0)} s ago`;
      const label = s.segment === '' ? '–' : `${s.segment}/${s.segments || '?'}`;
      return el('tr', { className: s.up ? 'segment-row up' : 'segment-row down', dataset: { segment: s.segment, up: String(s.up) } },
        el('td', { text: label }),
        el('td', { className: 'mono', text: s.name }),
        el('td', { className: s.up ? 'ok' : 'bad', text: s.up ? 'up' : 'down', title: s.error || '' }),
        el('td', { className: 'num', text: count(s.requests) }),
        el('td', { className: 'num', text: count(s.errors) }),
        el('td', { text: s.up ? age : `${age} · ${s.error}` }));
    });
    $('segment-rows').replaceChildren(...rows);
  }

  async function pollSegments() {
    if (!segmentsWatched) return;
    try {
      drawSegments(await getJson('/api/v1/telemetry/segments'));
    } catch (error) {
      if (error.status === 404) {
        segmentsWatched = false;
        segmentsPanel.hidden = true;
      }
    }
  }

  async function poll() {
    clearTimeout(timer);
    if (!visible) return;
    await pollSegments();
    try {
      const answer = await getJson('/api/v1/telemetry/metrics');
      note.textContent = answer.t.length
        ? `Sampled once a second while this page is open · ${answer.samples} samples held (5 minutes at most).`
        : 'Sampling: the charts draw from the second sample on.';
      for (const chart of answer.charts) draw(chart, answer.t);
    } catch (error) {
      note.textContent = error.status === 401 ? 'The metrics need the API key (start or stop a job once to give it).' : `Metrics unavailable: ${error.message}`;
    }
    if (visible) timer = setTimeout(poll, POLL_MS);
  }

  return {
    show() {
      visible = true;
      poll();
    },
    hide() {
      visible = false;
      clearTimeout(timer);
    },
  };
}
