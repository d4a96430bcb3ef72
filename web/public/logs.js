// The Logs page: a live tail of every source's log records (GET /api/v1/logs polled every
// second with the cursor of the previous answer), newest on top, at most MAX_ROWS kept; a level
// filter (that level and above), Pause, and a record's trace id links to the Traces page on
// that trace (#trace=<id>).
import { getJson } from './api.js';
import { el } from './waterfall.js';

const POLL_MS = 1000;
const MAX_ROWS = 500;
const $ = (id) => document.getElementById(id);

function when(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false }) + `.${String(Math.floor(ms % 1000)).padStart(3, '0')}`;
}

function attributeText(attributes) {
  return Object.entries(attributes || {})
    .filter(([k]) => k !== 'http.route')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' ');
}

export function watchLogs() {
  const rows = $('log-rows');
  const level = $('log-level');
  const pause = $('log-pause');
  const message = $('log-message');
  let cursor = '';
  let timer = null;
  let visible = false;
  let paused = false;
  let shown = 0;
  let generation = 0; // a level change starts over; an answer to an older question is dropped

  function row(r) {
    return el('tr', { className: 'log-row', dataset: { level: r.level, source: r.source, seq: String(r.seq) } },
      el('td', { className: 'num-time', text: when(r.time_ms) }),
      el('td', {}, el('span', { className: 'level-badge', dataset: { level: r.level }, text: r.level })),
      el('td', { className: 'muted', text: r.source }),
      el('td', { className: 'log-message' }, el('span', { text: r.message }), ' ', el('span', { className: 'log-attrs', text: attributeText(r.attributes) })),
      el('td', {}, r.trace_id
        ? el('a', { href: `#trace=${encodeURIComponent(r.trace_id)}`, className: 'trace-link', dataset: { traceId: r.trace_id }, title: `open trace ${r.trace_id}`, text: r.trace_id.slice(0, 12) + '…' })
        : el('span', { className: 'muted', text: '–' })));
  }

  async function poll() {
    clearTimeout(timer);
    if (!visible || paused) return;
    const asked = generation;
    try {
      const params = new URLSearchParams({ level: level.value, limit: '200' });
      if (cursor) params.set('after', cursor);
      const answer = await getJson(`/api/v1/logs?${params}`);
      if (asked !== generation) return;
      cursor = answer.cursor;
      message.hidden = true;
      if (answer.records.length) {
        if (!shown) rows.replaceChildren();
        rows.prepend(...answer.records.map(row).reverse());
        shown += answer.records.length;
        while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
      }
      $('log-count').textContent = `${rows.querySelectorAll('.log-row').length} records shown${answer.truncated ? ' (some skipped: the tail was behind)' : ''}`;
    } catch (error) {
      message.hidden = false;
      message.textContent = error.status === 401 ? 'The logs need the API key (start or stop a job once to give it).' : `Logs unavailable: ${error.message}`;
    }
    if (visible && !paused && asked === generation) timer = setTimeout(poll, POLL_MS);
  }

  level.addEventListener('change', () => {
    generation++;
    cursor = '';
    shown = 0;
    rows.replaceChildren(el('tr', {}, el('td', { colSpan: 5, className: 'muted', text: 'No log records at this level yet.' })));
    poll();
  });
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) poll();
  });

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
