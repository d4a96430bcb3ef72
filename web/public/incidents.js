// The incidents section (docs/control-api.md, "Incidents"; the shape in docs/incidents.md): the
// list from GET /api/v1/incidents polled every 2 s (unresolved first, newest first within each;
// each row's data-incident and data-status are what the browser tests read), and one incident's
// detail: its timeline, evidence, hypotheses ranked by confidence and actions, with Acknowledge
// and Resolve (POST .../acknowledge|resolve through postJson, which asks for the key on 401).
// Hidden when the server runs without incidents (404); says so when the route needs the key (401).
// The URL hash #incidents scrolls here; #incident=<id> opens that incident.
import { getJson, postJson } from './api.js';

const POLL_MS = 2000;
const STATUS_ORDER = { open: 0, acknowledged: 1, resolved: 2 };

const path = (id, action) => `/api/v1/incidents/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

// ---- small DOM helpers ----

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null) continue;
    if (key === 'className') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function number(v) {
  if (v == null || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

function badge(kind, value) {
  return el('span', { className: `${kind}-badge`, [`data-${kind}`]: value, text: value || '–' });
}

// ---- the detail ----

function section(title, ...body) {
  return el('section', { className: 'incident-part' }, el('h4', { text: title }), ...body);
}

function renderTimeline(timeline) {
  const entries = [...(timeline || [])].sort((a, b) => (a.t_unix ?? 0) - (b.t_unix ?? 0));
  if (!entries.length) return el('p', { className: 'muted', text: 'No entries.' });
  return el(
    'ol',
    { className: 'incident-timeline' },
    ...entries.map((e) =>
      el(
        'li',
        { 'data-kind': e.kind },
        el('time', { dateTime: e.at || '', text: when(e.at) }),
        el('span', { className: 'timeline-kind', text: e.kind }),
        el('span', { className: 'timeline-message', text: e.message }),
      ),
    ),
  );
}

function renderEvidence(evidence = {}) {
  const parts = [];
  const metrics = evidence.metrics || [];
  if (metrics.length) {
    const head = el('tr', {}, ...['Metric', 'Value', 'Baseline', 'σ', 'Unit'].map((h) => el('th', { scope: 'col', className: h === 'σ' ? 'sigma' : null, text: h })));
    const rows = metrics.map((m) =>
      el(
        'tr',
        { 'data-metric': m.name },
        el('td', { className: 'metric-name', text: m.name }),
        el('td', { className: 'num', text: number(m.value) }),
        el('td', { className: 'num', text: number(m.baseline) }),
        el('td', { className: 'num', text: m.sigma > 0 ? number(m.sigma) : '–' }),
        el('td', { text: m.unit || '' }),
      ),
    );
    parts.push(el('table', { className: 'evidence-table' }, el('thead', {}, head), el('tbody', {}, ...rows)));
  }
  const list = (title, items, format = (x) => x) =>
    items?.length ? el('div', { className: 'evidence-list' }, el('h5', { text: title }), el('ul', {}, ...items.map((x) => el('li', { text: format(x) })))) : null;
  parts.push(list('Trace ids', evidence.trace_ids));
  parts.push(list('Active faults', evidence.active_faults));
  parts.push(list('Slow queries', evidence.slow_queries, (q) => `${q.query} — ${number(q.duration_ms)} ms × ${q.count}`));
  const present = parts.filter(Boolean);
  return present.length ? present : [el('p', { className: 'muted', text: 'No evidence recorded.' })];
}

function renderHypotheses(hypotheses) {
  const ranked = [...(hypotheses || [])].sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0));
  if (!ranked.length) return el('p', { className: 'muted', text: 'No hypotheses yet.' });
  return el(
    'ol',
    { className: 'hypotheses' },
    ...ranked.map((h) => {
      const pct = Math.round(Math.max(0, Math.min(1, h.confidence ?? 0)) * 100);
      const bar = el('span', { className: 'confidence-bar', role: 'img', 'aria-label': `confidence ${pct} %` }, el('span', {}));
      bar.firstChild.style.width = `${pct}%`;
      return el(
        'li',
        { 'data-category': h.category },
        el('div', { className: 'hypothesis-head' }, el('strong', { text: h.category }), bar, el('span', { className: 'confidence', text: `${pct} %` })),
        el('p', { text: h.description }),
        h.evidence?.length ? el('ul', { className: 'hypothesis-evidence' }, ...h.evidence.map((e) => el('li', { text: e }))) : null,
      );
    }),
  );
}

function renderActions(actions) {
  if (!actions?.length) return el('p', { className: 'muted', text: 'No actions proposed.' });
  return el(
    'ol',
    { className: 'incident-actions' },
    ...actions.map((a) =>
      el(
        'li',
        { 'data-action': a.type },
        el('div', { className: 'action-head' }, el('strong', { text: a.type }), badge('risk', a.risk), a.blast_radius ? el('span', { className: 'muted', text: `blast radius: ${a.blast_radius}` }) : null),
        a.steps?.length ? el('ol', { className: 'action-steps' }, ...a.steps.map((s) => el('li', { text: s }))) : null,
        a.runbook ? el('p', { className: 'runbook' }, 'Runbook: ', /^https?:\/\//.test(a.runbook) ? el('a', { href: a.runbook, text: a.runbook, rel: 'noopener' }) : el('code', { text: a.runbook })) : null,
      ),
    ),
  );
}

// ---- the section ----

export function watchIncidents(root) {
  const list = root.querySelector('#incident-list');
  const detail = root.querySelector('#incident-detail');
  const note = root.querySelector('#incident-note');
  const message = root.querySelector('#incident-message');
  let incidents = [];
  let selectedId = null;
  let busy = null; // 'acknowledge' | 'resolve' while a POST is in flight
  let lastList = '';
  let lastDetail = '';
  let timer = null;

  const byId = (id) => incidents.find((i) => i.id === id);

  function say(text, kind) {
    message.hidden = !text;
    message.textContent = text || '';
    if (kind) message.dataset.kind = kind;
    else delete message.dataset.kind;
  }

  function renderList() {
    const sorted = [...incidents].sort((a, b) => (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3));
    const key = JSON.stringify([selectedId, sorted.map((i) => [i.id, i.status, i.updated_at])]);
    if (key === lastList) return;
    lastList = key;
    if (!sorted.length) {
      list.replaceChildren(el('li', { className: 'muted empty', text: 'No incidents. A monitor that alerts opens one.' }));
      return;
    }
    list.replaceChildren(
      ...sorted.map((i) =>
        el(
          'li',
          { className: 'incident', 'data-incident': i.id, 'data-status': i.status, 'aria-current': i.id === selectedId ? 'true' : null },
          el(
            'button',
            { type: 'button', className: 'incident-row', 'aria-expanded': String(i.id === selectedId), 'aria-controls': 'incident-detail', onclick: () => open(i.id) },
            badge('status', i.status),
            badge('severity', i.severity),
            el('span', { className: 'incident-title', text: i.title }),
            el('span', { className: 'incident-meta', text: `${i.service} · ${i.source}` }),
            el('time', { className: 'incident-time', dateTime: i.created_at || '', text: when(i.created_at) }),
          ),
        ),
      ),
    );
  }

  function renderDetail() {
    const i = selectedId && byId(selectedId);
    const key = JSON.stringify([i, busy]);
    if (key === lastDetail) return;
    lastDetail = key;
    // A re-render replaces the buttons: keep the keyboard focus on the one that had it (or, when
    // it is now disabled, on the heading).
    const focused = detail.contains(document.activeElement) ? document.activeElement.dataset.action || 'title' : null;
    detail.hidden = !i;
    if (!i) {
      detail.replaceChildren();
      return;
    }
    const action = (name, label, busyLabel, enabled) => {
      const b = el('button', { type: 'button', className: name === 'resolve' ? 'primary' : '', 'data-action': name, text: busy === name ? busyLabel : label });
      b.disabled = !enabled || busy !== null;
      if (busy === name) b.setAttribute('aria-busy', 'true');
      b.addEventListener('click', () => act(i.id, name));
      return b;
    };
    detail.dataset.incident = i.id;
    detail.dataset.status = i.status;
    const facts = [
      ['Status', badge('status', i.status)],
      ['Severity', badge('severity', i.severity)],
      ['Service', i.service],
      ['Source', i.source],
      ['Created', when(i.created_at)],
      ['Resolved', when(i.resolved_at)],
    ];
    detail.replaceChildren(
      el(
        'header',
        { className: 'incident-detail-head' },
        el('h3', { id: 'incident-detail-title', tabIndex: -1, text: i.title }),
        el('button', { type: 'button', className: 'link', text: 'Close', 'aria-label': 'Close the incident details', onclick: () => open(null) }),
      ),
      el('p', { className: 'muted incident-id', text: i.id }),
      el('dl', { className: 'incident-facts' }, ...facts.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { 'data-fact': k.toLowerCase() }, v)))),
      el(
        'div',
        { className: 'buttons incident-buttons' },
        action('acknowledge', 'Acknowledge', 'Acknowledging…', i.status === 'open'),
        action('resolve', 'Resolve', 'Resolving…', i.status !== 'resolved'),
      ),
      section('Timeline', renderTimeline(i.timeline)),
      section('Evidence', ...renderEvidence(i.evidence)),
      section('Hypotheses', renderHypotheses(i.hypotheses)),
      section('Actions', renderActions(i.actions)),
    );
    if (focused) {
      const again = detail.querySelector(`button[data-action="${focused}"]:not(:disabled)`) || detail.querySelector('h3');
      again.focus({ preventScroll: true });
    }
  }

  function render() {
    renderList();
    renderDetail();
  }

  function merge(incident) {
    const at = incidents.findIndex((i) => i.id === incident.id);
    if (at >= 0) incidents[at] = incident;
    else incidents.unshift(incident);
  }

  async function open(id, { scroll = false } = {}) {
    selectedId = id;
    say('');
    history.replaceState(null, '', id ? `#incident=${encodeURIComponent(id)}` : '#incidents');
    if (id && !byId(id)) {
      // Not in the list (older than its 100 or filtered out): ask for it by id.
      try {
        merge(await getJson(path(id)));
      } catch (error) {
        say(error.status === 404 ? `No incident '${id}'.` : `Could not load ${id}: ${error.message}`, 'error');
        selectedId = null;
      }
    }
    render();
    if (scroll && selectedId) detail.scrollIntoView({ block: 'start' });
  }

  async function act(id, name) {
    if (busy) return;
    busy = name;
    say('');
    renderDetail();
    try {
      merge(await postJson(path(id, name), {}));
      say(name === 'acknowledge' ? `Acknowledged ${id}.` : `Resolved ${id}.`);
    } catch (error) {
      say(`Could not ${name}: ${error.message}`, 'error');
    } finally {
      busy = null;
      render();
    }
  }

  function followHash() {
    const hash = decodeURIComponent(location.hash.slice(1));
    if (hash.startsWith('incident=')) {
      open(hash.slice('incident='.length), { scroll: true });
    } else if (hash === 'incidents' && !root.hidden) {
      root.scrollIntoView({ block: 'start' });
    }
  }

  let first = true;
  async function poll() {
    try {
      const answer = await getJson('/api/v1/incidents');
      incidents = Array.isArray(answer) ? answer : [];
      root.hidden = false;
      note.hidden = true;
      if (selectedId && !byId(selectedId)) {
        try {
          merge(await getJson(path(selectedId)));
        } catch {
          // gone: the detail closes below
        }
      }
      render();
      if (first) {
        first = false;
        followHash();
      }
    } catch (error) {
      if (error.status === 404) {
        root.hidden = true;
        return; // incidents are off on this server: they will not come on
      }
      root.hidden = false;
      note.hidden = false;
      note.textContent = error.status === 401 ? 'The incidents need the API key (start or stop a job once to give it).' : `Incidents unavailable: ${error.message}`;
    }
    timer = setTimeout(poll, POLL_MS);
  }

  window.addEventListener('hashchange', followHash);
  poll();
  return () => {
    clearTimeout(timer);
    window.removeEventListener('hashchange', followHash);
  };
}
