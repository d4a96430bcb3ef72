// A dual-mode job (Black Friday: streams baseline + demo) shown as two panels side by side, each
// coloured by the rule of docs/control-api.md, with the demo minute. The colour is also the
// panel's data-health attribute ("green" | "yellow" | "red"), which the browser tests read.
//
// A panel judges its stream over the last WINDOW_S seconds, not one 500 ms interval: a 100 rpm
// baseline completes 0 or 1 request in an interval, so one interval's rate, error ratio and p95
// flicker. Over the window, the rate and the error ratio come from the cumulative counters and
// the p95 is the request-weighted mean of the intervals' p95s.

// green while errorRatio < 0.05 and p95 < 500 ms; red from errorRatio ≥ 0.5 or p95 ≥ 2 500 ms;
// yellow between.
export function healthOf({ errorRatio = 0, p95Latency = 0 }) {
  if (errorRatio >= 0.5 || p95Latency >= 2500) return 'red';
  if (errorRatio < 0.05 && p95Latency < 500) return 'green';
  return 'yellow';
}

const WINDOW_S = 3;

// The recent samples of one stream and the figures over them.
class StreamWindow {
  constructor() {
    this.samples = []; // {elapsed, total, failed, p95}
  }

  add(elapsed, s) {
    const last = this.samples[this.samples.length - 1];
    if (last && elapsed <= last.elapsed) return;
    if (last && (s.totalRequests ?? 0) < last.total) this.samples = []; // counters restarted
    this.samples.push({ elapsed, total: s.totalRequests ?? 0, failed: s.failedRequests ?? 0, p95: s.p95Latency ?? 0 });
    while (this.samples.length > 2 && elapsed - this.samples[1].elapsed >= WINDOW_S) this.samples.shift();
  }

  // {rps, errorRatio, p95Latency} over the window; null before two samples.
  figures() {
    if (this.samples.length < 2) return null;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const requests = last.total - first.total;
    const seconds = last.elapsed - first.elapsed;
    let weighted = 0;
    for (let i = 1; i < this.samples.length; i++) {
      weighted += this.samples[i].p95 * (this.samples[i].total - this.samples[i - 1].total);
    }
    return {
      rps: seconds > 0 ? requests / seconds : 0,
      errorRatio: requests > 0 ? (last.failed - first.failed) / requests : 0,
      p95Latency: requests > 0 ? weighted / requests : 0,
    };
  }
}

const HEALTH_WORDS = { green: 'Healthy', yellow: 'Degraded', red: 'Failing' };

function figure(label, key) {
  const div = document.createElement('div');
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.dataset.field = key;
  dd.textContent = '–';
  div.append(dt, dd);
  return div;
}

export class DualPanels {
  constructor(root, streamNames) {
    this.root = root;
    this.panels = new Map();
    root.replaceChildren();
    for (const name of streamNames) {
      const panel = document.createElement('article');
      panel.className = 'stream-panel';
      panel.dataset.stream = name;
      panel.dataset.health = 'green';
      const head = document.createElement('header');
      const title = document.createElement('h3');
      title.textContent = name;
      const badge = document.createElement('span');
      badge.className = 'health-badge';
      badge.textContent = HEALTH_WORDS.green;
      head.append(title, badge);
      const minute = document.createElement('p');
      minute.className = 'demo-minute';
      const dl = document.createElement('dl');
      dl.append(
        figure('Rate', 'rpm'),
        figure('Error rate', 'errorRatio'),
        figure('p95', 'p95Latency'),
        figure('Requests', 'totalRequests'),
      );
      panel.append(head, minute, dl);
      root.append(panel);
      this.panels.set(name, { panel, badge, minute, dl, window: new StreamWindow() });
    }
    root.hidden = false;
  }

  // stats: a live Stats event (windowed), or a final JobState's stats (whole-run figures).
  update(stats, { final = false } = {}) {
    const minute = stats.demoMinute;
    for (const s of stats.streams || []) {
      const p = this.panels.get(s.name);
      if (!p) continue;
      let figures = s;
      if (!final && stats.elapsed != null) {
        p.window.add(stats.elapsed, s);
        const w = p.window.figures();
        figures = w ? { ...s, currentRps: w.rps, errorRatio: w.errorRatio, p95Latency: w.p95Latency } : s;
      }
      const health = healthOf(figures);
      p.panel.dataset.health = health;
      p.badge.textContent = HEALTH_WORDS[health];
      if (minute != null) p.minute.textContent = `demo minute ${Math.floor(minute)}`;
      const set = (key, text) => (p.dl.querySelector(`[data-field="${key}"]`).textContent = text);
      set('rpm', `${Math.round((figures.currentRps ?? 0) * 60)} rpm`);
      set('errorRatio', `${((figures.errorRatio ?? 0) * 100).toFixed(1)} %`);
      set('p95Latency', `${Math.round(figures.p95Latency ?? 0)} ms`);
      set('totalRequests', String(s.totalRequests ?? 0));
    }
  }

  destroy() {
    this.root.replaceChildren();
    this.root.hidden = true;
  }
}
