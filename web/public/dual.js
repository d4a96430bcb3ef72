// A dual-mode job (Black Friday: streams baseline + demo) shown as two panels side by side, each
// coloured by the rule of docs/control-api.md, with the demo minute. The colour is also the
// panel's data-health attribute ("green" | "yellow" | "red"), which the browser tests read.

// green while errorRatio < 0.05 and p95 < 500 ms; red from errorRatio ≥ 0.5 or p95 ≥ 2 500 ms;
// yellow between.
export function healthOf({ errorRatio = 0, p95Latency = 0 }) {
  if (errorRatio >= 0.5 || p95Latency >= 2500) return 'red';
  if (errorRatio < 0.05 && p95Latency < 500) return 'green';
  return 'yellow';
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
      this.panels.set(name, { panel, badge, minute, dl });
    }
    root.hidden = false;
  }

  update(stats) {
    const minute = stats.demoMinute;
    for (const s of stats.streams || []) {
      const p = this.panels.get(s.name);
      if (!p) continue;
      const health = healthOf(s);
      p.panel.dataset.health = health;
      p.badge.textContent = HEALTH_WORDS[health];
      p.minute.textContent = minute == null ? '' : `demo minute ${Math.floor(minute)}`;
      const set = (key, text) => (p.dl.querySelector(`[data-field="${key}"]`).textContent = text);
      set('rpm', `${Math.round((s.currentRps ?? 0) * 60)} rpm`);
      set('errorRatio', `${((s.errorRatio ?? 0) * 100).toFixed(1)} %`);
      set('p95Latency', `${Math.round(s.p95Latency ?? 0)} ms`);
      set('totalRequests', String(s.totalRequests ?? 0));
    }
  }

  destroy() {
    this.root.replaceChildren();
    this.root.hidden = true;
  }
}
