// The live charts of one job, drawn with uPlot (the global from /assets/vendor/uplot.js):
// achieved vs target rate, latency percentiles, error ratio; one line per stream. The x axis is
// the job's elapsed time in seconds, so a reloaded page redraws the same picture from the
// replayed history. Data are plain column arrays (uPlot's model); a redraw is batched so that a
// replay of 1 200 events draws once, not 1 200 times.

export const PERCENTILES = [
  { key: 'p50', field: 'p50Latency', label: 'p50', color: '#15803d' },
  { key: 'p90', field: 'p90Latency', label: 'p90', color: '#0e7490' },
  { key: 'p95', field: 'p95Latency', label: 'p95', color: '#c2410c' },
  { key: 'p99', field: 'p99Latency', label: 'p99', color: '#b91c1c' },
  { key: 'p999', field: 'p999Latency', label: 'p99.9', color: '#7e22ce' },
];
export const DEFAULT_PERCENTILES = ['p50', 'p95', 'p99'];

const STREAM_COLORS = ['#2563eb', '#db2777', '#0891b2', '#a16207', '#4f46e5', '#0f766e'];
const STREAM_DASHES = [undefined, [8, 5], [2, 4], [12, 4, 2, 4]];
const FIELDS = ['currentRps', 'targetRps', 'errorPct', ...PERCENTILES.map((p) => p.field)];
const LATENCY_FIELDS = new Set(PERCENTILES.map((p) => p.field));
const MAX_POINTS = 4000; // beyond it, every other point is dropped (as the server's history does)
const HEIGHT_PX = 230;
const X_INCREMENTS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const fixed = (digits, unit = '') => (u, v) => (v == null ? '–' : `${v.toFixed(digits)}${unit}`);

// The per-stream figures of one Stats event, as {name: figures}; a job without `streams`
// (there should be none) reads as one stream with the top-level figures.
function streamFigures(stats, names) {
  const byName = {};
  for (const s of stats.streams || []) byName[s.name] = s;
  if (!stats.streams?.length && names.length === 1) byName[names[0]] = stats;
  return byName;
}

// Short labels for stream names: a prefix that all of a job's streams share up to an underscore
// or dash is dropped ("HACKATHON_TRAFFIC_NORMAL_TRAFFIC" → "normal traffic"), underscores read as
// spaces, and shouted names are lowered.
export function streamLabels(names) {
  let prefix = '';
  if (names.length > 1) {
    const first = names[0];
    let i = 0;
    while (i < first.length && names.every((n) => n[i] === first[i])) i++;
    prefix = first.slice(0, i);
    const cut = Math.max(prefix.lastIndexOf('_'), prefix.lastIndexOf('-'));
    prefix = cut >= 0 ? prefix.slice(0, cut + 1) : '';
  }
  const labels = {};
  for (const n of names) {
    let label = n.slice(prefix.length) || n;
    if (label === label.toUpperCase()) label = label.toLowerCase();
    labels[n] = label.replace(/_/g, ' ');
  }
  return labels;
}

export class JobCharts {
  // root: the element the three charts go into; streams: the job's streamNames; logLatency: a
  // logarithmic latency axis (a 35 ms baseline beside a 3 s demo stays readable).
  constructor(root, streams, { percentiles = DEFAULT_PERCENTILES, logLatency = false } = {}) {
    this.logLatency = logLatency;
    this.root = root;
    this.streams = streams.length ? streams : ['all'];
    this.multi = this.streams.length > 1;
    this.names = streamLabels(this.streams);
    this.percentiles = new Set(percentiles);
    this.x = [];
    this.columns = new Map();
    for (const s of this.streams) for (const f of FIELDS) this.columns.set(`${s}|${f}`, []);
    this.lastTotals = new Map(); // stream -> its totalRequests at the previous point
    this.phases = []; // [{x, title, index}]
    this.lastPhase = null;
    this.plots = {};
    this.redrawTimer = null;

    root.replaceChildren();
    this.panels = {};
    for (const [id, title] of [['rate', 'Request rate (req/s)'], ['latency', 'Latency (ms)'], ['errors', 'Error ratio (%)']]) {
      const figure = document.createElement('figure');
      figure.className = `chart chart-${id}`;
      figure.dataset.chart = id;
      figure.dataset.points = '0';
      const caption = document.createElement('figcaption');
      caption.textContent = title;
      const holder = document.createElement('div');
      holder.className = 'chart-plot';
      figure.append(caption, holder);
      root.append(figure);
      this.panels[id] = holder;
    }
    this.build();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(root);
  }

  get pointCount() {
    return this.x.length;
  }

  push(stats) {
    const figures = streamFigures(stats, this.streams);
    this.x.push(stats.elapsed ?? 0);
    for (const s of this.streams) {
      const f = figures[s];
      // An interval in which the stream completed nothing has no latency (not 0 ms): a gap the
      // line spans, so a 100 rpm stream draws a line, not dashes down to the axis.
      const total = f?.totalRequests;
      const idle = total != null && this.lastTotals.get(s) === total;
      if (total != null) this.lastTotals.set(s, total);
      for (const field of FIELDS) {
        let v = null;
        if (f && field === 'errorPct') v = (f.errorRatio ?? 0) * 100;
        else if (f && !(idle && LATENCY_FIELDS.has(field))) v = f[field] ?? null;
        this.columns.get(`${s}|${field}`).push(v);
      }
    }
    if (stats.phase && stats.phase.index !== this.lastPhase) {
      this.lastPhase = stats.phase.index;
      this.phases.push({ x: stats.elapsed ?? 0, title: stats.phase.title, index: stats.phase.index });
    }
    if (this.x.length > MAX_POINTS) this.halve();
    this.scheduleRedraw();
  }

  halve() {
    const keep = (_, i) => i % 2 === 0 || i === this.x.length - 1;
    this.x = this.x.filter(keep);
    for (const [k, col] of this.columns) this.columns.set(k, col.filter(keep));
  }

  setPercentiles(keys) {
    this.percentiles = new Set(keys);
    this.rebuildLatency();
  }

  setLogLatency(on) {
    this.logLatency = on;
    this.rebuildLatency();
  }

  rebuildLatency() {
    this.plots.latency?.destroy();
    this.plots.latency = this.makePlot('latency', this.latencySeries(), { log: this.logLatency });
  }

  scheduleRedraw() {
    if (this.redrawTimer) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = null;
      this.redraw();
    }, 60);
  }

  redraw() {
    for (const [id, plot] of Object.entries(this.plots)) {
      plot.setData(this.dataFor(plot.seriesKeys, plot.logScale));
      this.panels[id].parentElement.dataset.points = String(this.x.length);
    }
    this.root.dataset.points = String(this.x.length);
  }

  // A log axis cannot show 0 (an interval without responses): those points become gaps.
  dataFor(keys, log = false) {
    const columns = keys.map((k) => this.columns.get(k));
    return [this.x, ...(log ? columns.map((c) => c.map((v) => (v > 0 ? v : null))) : columns)];
  }

  label(stream, what) {
    return this.multi ? `${this.names[stream]} ${what}` : what;
  }

  rateSeries() {
    return this.streams.flatMap((s, i) => {
      const color = STREAM_COLORS[i % STREAM_COLORS.length];
      return [
        { key: `${s}|currentRps`, label: this.label(s, 'achieved'), stroke: color, width: 2.5, value: fixed(1) },
        { key: `${s}|targetRps`, label: this.label(s, 'target'), stroke: color, width: 1.5, dash: [6, 5], alpha: 0.6, value: fixed(1) },
      ];
    });
  }

  latencySeries() {
    return this.streams.flatMap((s, i) =>
      PERCENTILES.filter((p) => this.percentiles.has(p.key)).map((p) => ({
        key: `${s}|${p.field}`,
        label: this.label(s, p.label),
        stroke: p.color,
        width: 2,
        dash: STREAM_DASHES[i % STREAM_DASHES.length],
        spanGaps: true,
        value: fixed(1, ' ms'),
      })),
    );
  }

  errorSeries() {
    return this.streams.map((s, i) => {
      const color = STREAM_COLORS[i % STREAM_COLORS.length];
      return { key: `${s}|errorPct`, label: this.multi ? this.names[s] : 'errors', stroke: color, width: 2, fill: `${color}22`, value: fixed(1, ' %') };
    });
  }

  build() {
    this.plots.rate = this.makePlot('rate', this.rateSeries());
    this.plots.latency = this.makePlot('latency', this.latencySeries(), { log: this.logLatency });
    this.plots.errors = this.makePlot('errors', this.errorSeries(), { yFloor: 5 });
  }

  // yFloor: the least top of the y axis, so an idle chart does not zoom into noise.
  makePlot(id, specs, { yFloor = 1, log = false } = {}) {
    const holder = this.panels[id];
    const phases = this.phases;
    const opts = {
      width: Math.max(300, holder.clientWidth || 600),
      height: HEIGHT_PX,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: { time: false },
        y: log ? { distr: 3, log: 10 } : { range: (u, min, max) => [0, Math.max(yFloor, (max ?? 0) * 1.1)] },
      },
      axes: [
        { incrs: X_INCREMENTS_S, values: (u, splits) => splits.map(clock), stroke: '#334155', grid: { stroke: '#e2e8f0' }, font: '13px system-ui, sans-serif' },
        { stroke: '#334155', grid: { stroke: '#e2e8f0' }, font: '13px system-ui, sans-serif', size: 66 },
      ],
      series: [
        { label: 'elapsed', value: (u, v) => (v == null ? '–' : clock(v)) },
        ...specs.map((s) => ({
          label: s.label,
          stroke: s.alpha ? `${s.stroke}99` : s.stroke,
          width: s.width,
          dash: s.dash,
          fill: s.fill,
          value: s.value,
          spanGaps: !!s.spanGaps,
          points: { show: (u) => u.data[0].length < 4 },
        })),
      ],
      hooks: { draw: [(u) => drawPhaseMarkers(u, phases)] },
    };
    const keys = specs.map((s) => s.key);
    holder.replaceChildren();
    const plot = new uPlot(opts, this.dataFor(keys, log), holder);
    plot.seriesKeys = keys;
    plot.logScale = log;
    return plot;
  }

  resize() {
    for (const [id, plot] of Object.entries(this.plots)) {
      const width = this.panels[id].clientWidth;
      if (width > 0 && Math.abs(width - plot.width) > 2) plot.setSize({ width, height: HEIGHT_PX });
    }
  }

  destroy() {
    clearTimeout(this.redrawTimer);
    this.resizeObserver.disconnect();
    for (const plot of Object.values(this.plots)) plot.destroy();
    this.plots = {};
    this.root.replaceChildren();
    delete this.root.dataset.points;
  }
}

// Script phases: a dashed vertical line at each phase's start, with its number and title.
function drawPhaseMarkers(u, phases) {
  if (!phases.length) return;
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.font = `${Math.round(12 * devicePixelRatio)}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  const pad = 3 * devicePixelRatio;
  phases.forEach((phase, i) => {
    const x = Math.round(u.valToPos(phase.x, 'x', true));
    if (x < left || x > left + width) return;
    const next = phases[i + 1] ? u.valToPos(phases[i + 1].x, 'x', true) : left + width;
    const room = next - x - 3 * pad;
    ctx.strokeStyle = '#64748b';
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.lineWidth = devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    let text = `${phase.index + 1}. ${phase.title}`;
    while (text.length > 2 && ctx.measureText(text).width > room) text = `${text.slice(0, -2)}…`;
    if (ctx.measureText(text).width > room) return;
    const textWidth = ctx.measureText(text).width;
    ctx.fillStyle = 'rgb(255 255 255 / 0.85)';
    ctx.fillRect(x + pad, top + pad, textWidth + 2 * pad, 16 * devicePixelRatio);
    ctx.fillStyle = '#1e3a8a';
    ctx.fillText(text, x + 2 * pad, top + 2 * pad);
  });
  ctx.restore();
}
