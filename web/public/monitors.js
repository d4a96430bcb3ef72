// The monitors strip (docs/monitors.md): each monitor's state (OK / PENDING / ALERT, also the
// row's data-state attribute, which the browser tests read), its value against its threshold, and
// the newest transitions, from GET /api/v1/monitors polled every second. Hidden when the server
// runs without monitors (404); says so when the route needs the API key (401).
import { api } from './api.js';

const POLL_MS = 1000;

function formatValue(v, unit) {
  if (v == null) return 'no data';
  const text = Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
  if (!unit && v <= 1 && v >= 0) return `${(v * 100).toFixed(1)} %`;
  return unit ? `${text} ${unit}` : text;
}

function clock(t) {
  return new Date(t * 1000).toLocaleTimeString();
}

export function watchMonitors(root) {
  const list = root.querySelector('#monitor-list');
  const events = root.querySelector('#monitor-events');
  const note = root.querySelector('#monitor-note');
  let timer = null;
  let lastEvents = '';
  function render(state) {
    list.replaceChildren(
      ...state.monitors.map((m) => {
        const li = document.createElement('li');
        li.className = 'monitor';
        li.dataset.monitor = m.id;
        li.dataset.state = m.state;
        const badge = document.createElement('span');
        badge.className = 'monitor-state';
        badge.textContent = m.state;
        const name = document.createElement('span');
        name.className = 'monitor-name';
        name.textContent = m.name;
        name.title = m.description || '';
        const value = document.createElement('span');
        value.className = 'monitor-value';
        const burn = m.id.startsWith('slo_burn');
        value.textContent = burn
          ? `${m.value == null ? 'no data' : `${m.value.toFixed(2)}×`} / ${m.threshold}×`
          : `${formatValue(m.value, m.unit)} / ${formatValue(m.threshold, m.unit)}`;
        li.append(badge, name, value);
        return li;
      }),
    );
    const key = JSON.stringify(state.events.map((e) => [e.t, e.monitor, e.to]));
    if (key !== lastEvents) {
      lastEvents = key;
      events.replaceChildren(
        ...state.events.slice(0, 6).map((e) => {
          const li = document.createElement('li');
          li.dataset.state = e.to;
          li.textContent = `${clock(e.t)} ${e.name}: ${e.from} → ${e.to} — ${e.reason}`;
          return li;
        }),
      );
    }
  }
  async function poll() {
    try {
      const state = await api.monitors();
      root.hidden = false;
      note.hidden = true;
      render(state);
    } catch (error) {
      if (error.status === 404) {
        root.hidden = true;
        return; // monitors are off on this server: they will not come on
      }
      root.hidden = false;
      note.hidden = false;
      note.textContent = error.status === 401 ? 'The monitors need the API key (start or stop a job once to give it).' : `Monitors unavailable: ${error.message}`;
    }
    timer = setTimeout(poll, POLL_MS);
  }
  poll();
  return () => clearTimeout(timer);
}
