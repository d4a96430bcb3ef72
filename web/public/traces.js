// The Traces page: recent traces from GET /api/v1/traces (polled every 2 s while the page is on
// screen), filtered by traffic.type, route, status and minimum duration; a click (or
// #trace=<id>, which the Logs page links to) opens one trace as a waterfall; "Baseline vs demo"
// puts the newest baseline trace beside the newest demo trace — the seed's smoking gun: the
// indexed SELECT against the full table scan behind a slow recommendations call.
import { ApiError, getJson } from './api.js';
import { el, formatMs, renderWaterfall, spanTags } from './waterfall.js';

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

function when(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false }) + `.${String(Math.floor(ms % 1000)).padStart(3, '0')}`;
}

function statusText(t) {
  return t.status_code != null ? String(t.status_code) : t.status;
}

function traceLink(t) {
  return `#trace=${encodeURIComponent(t.trace_id)}`;
}

function dbCell(t) {
  if (t.full_table_scan) return el('span', { className: 'wf-tag bad', text: 'full table scan' });
  if (t.index_used && t.index_used !== 'NONE') return el('span', { className: 'wf-tag good', text: t.index_used });
  return el('span', { className: 'muted', text: '–' });
}

export function watchTraces() {
  const form = $('trace-filters');
  const rows = $('trace-rows');
  const detail = $('trace-detail');
  const compare = $('trace-side-by-side');
  const message = $('trace-message');
  const routes = new Set();
  let timer = null;
  let visible = false;
  let openId = null;

  function query(extra = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) params.set(k, String(v).trim());
    for (const [k, v] of Object.entries(extra)) if (v) params.set(k, v);
    params.set('limit', extra.limit || '100');
    return params.toString();
  }

  function say(text) {
    message.hidden = !text;
    message.textContent = text || '';
  }

  function renderList(answer) {
    for (const t of answer.traces) if (t.route) routes.add(t.route);
    $('trace-routes').replaceChildren(...[...routes].sort().map((r) => el('option', { value: r })));
    $('trace-count').textContent = `${answer.traces.length} of ${answer.matched} matching · ${answer.spans_held} spans held`;
    if (!answer.traces.length) {
      rows.replaceChildren(el('tr', {}, el('td', { colSpan: 9, className: 'muted', text: answer.spans_held ? 'No trace matches these filters.' : 'No traces yet: start some traffic.' })));
      return;
    }
    rows.replaceChildren(...answer.traces.map((t) => el('tr', {
      className: 'trace-row',
      dataset: { traceId: t.trace_id, trafficType: t.traffic_type || '', status: t.status },
      'aria-current': t.trace_id === openId ? 'true' : null,
    },
    el('td', { className: 'num-time', text: when(t.start_ms) }),
    el('td', {}, el('a', { href: traceLink(t), className: 'trace-open', text: t.root })),
    el('td', {}, el('span', { className: 'traffic-badge', dataset: { type: t.traffic_type || '' }, text: t.traffic_type || '–' })),
    el('td', { text: t.route || '–' }),
    el('td', { className: `trace-status ${t.status}`, text: statusText(t) }),
    el('td', { className: 'num', text: formatMs(t.duration_ms) }),
    el('td', { className: 'num', text: String(t.span_count) }),
    el('td', {}, dbCell(t)),
    el('td', { className: 'muted', text: t.source }))));
  }

  async function refresh() {
    clearTimeout(timer);
    if (!visible) return;
    try {
      renderList(await getJson(`/api/v1/traces?${query()}`));
      say('');
    } catch (error) {
      say(error instanceof ApiError && error.body?.field ? `${error.body.field}: ${error.message}` : `Traces unavailable: ${error.message}`);
    }
    if (visible) timer = setTimeout(refresh, POLL_MS);
  }

  function header(trace) {
    return el('div', { className: 'trace-head' },
      el('span', { className: 'traffic-badge', dataset: { type: trace.traffic_type || '' }, text: trace.traffic_type || 'no traffic.type' }),
      el('h3', { text: trace.root }),
      el('span', { className: `trace-status ${trace.status}`, text: statusText(trace) }),
      el('span', { className: 'trace-total', text: formatMs(trace.duration_ms) }),
      el('span', { className: 'muted', text: `${trace.span_count} spans · ${trace.source}` }));
  }

  async function open(id) {
    openId = id;
    for (const r of rows.querySelectorAll('tr[aria-current]')) r.removeAttribute('aria-current');
    rows.querySelector(`tr[data-trace-id="${CSS.escape(id)}"]`)?.setAttribute('aria-current', 'true');
    detail.hidden = false;
    detail.dataset.traceId = id;
    detail.replaceChildren(el('h2', { text: 'Trace' }), el('p', { className: 'muted', text: `Loading ${id}…` }));
    try {
      const trace = await getJson(`/api/v1/traces/${encodeURIComponent(id)}`);
      if (openId !== id) return;
      detail.replaceChildren(
        el('h2', { text: 'Trace' }),
        header(trace),
        el('p', { className: 'muted wf-ids', text: `trace ${trace.trace_id} · started ${new Date(trace.start_ms).toLocaleString('en-GB')} · click a span for its attributes` }),
        renderWaterfall(trace));
      detail.dataset.loaded = 'true';
    } catch (error) {
      detail.dataset.loaded = 'false';
      detail.replaceChildren(el('h2', { text: 'Trace' }), el('p', { className: 'message', dataset: { kind: 'error' },
        text: error.status === 404 ? `Trace ${id} is no longer held: the buffers keep the most recent spans only.` : `Could not open trace ${id}: ${error.message}` }));
    }
  }

  // The newest baseline and demo traces (of the route in the filter, when one is set), the demo
  // one preferably a full table scan and the baseline one an indexed query: the seed's pair.
  async function sideBySide() {
    const route = $('trace-route').value.trim();
    const pick = async (type, prefer) => {
      const answer = await getJson(`/api/v1/traces?${new URLSearchParams({ traffic_type: type, limit: '50', ...(route ? { route } : {}) })}`);
      const list = answer.traces;
      const t = list.find(prefer) || list.find((x) => x.span_count > 1) || list[0];
      return t ? getJson(`/api/v1/traces/${encodeURIComponent(t.trace_id)}`).catch(() => null) : null;
    };
    compare.hidden = false;
    const grid = $('compare-grid');
    grid.replaceChildren(el('p', { className: 'muted', text: 'Finding the newest baseline and demo traces…' }));
    const [baseline, demo] = await Promise.all([
      pick('baseline', (t) => t.index_used && t.index_used !== 'NONE'),
      pick('demo', (t) => t.full_table_scan && t.route === '/products/recommendations'),
    ]);
    const column = (type, trace) => {
      if (!trace) return el('article', { className: 'compare-side', dataset: { type } }, el('h3', { text: type }), el('p', { className: 'muted', text: `No ${type} trace held yet.` }));
      const db = trace.spans.find((s) => s.attributes?.['db.query.text']);
      const facts = db ? spanTags(db.attributes).map((t) => el('span', { className: `wf-tag ${t.kind}`, text: t.text })) : [];
      return el('article', { className: 'compare-side', dataset: { type, traceId: trace.trace_id } },
        header(trace),
        db ? el('p', { className: 'compare-db' }, el('strong', { text: `${db.name} ${formatMs(db.duration_ms)}` }), ' ', ...facts) : null,
        renderWaterfall(trace, { compact: true }),
        el('a', { href: `#trace=${encodeURIComponent(trace.trace_id)}`, text: 'open this trace' }));
    };
    grid.replaceChildren(column('baseline', baseline), column('demo', demo));
    compare.scrollIntoView({ block: 'start' });
  }

  form.addEventListener('input', () => refresh());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    refresh();
  });
  $('trace-compare').addEventListener('click', () => sideBySide());

  return {
    show(arg) {
      visible = true;
      if (arg) open(arg);
      refresh();
    },
    hide() {
      visible = false;
      clearTimeout(timer);
    },
  };
}
