// One trace as a waterfall (GET /api/v1/traces/{id}'s spans, already in waterfall order with
// their depth): a row per span, its bar placed by its start and length relative to the trace,
// indented by depth, coloured by kind and status; span events (the connection-pool wait) as
// markers on the bar; database spans tagged with what the seed's smoking gun shows (full table
// scan, rows scanned, index used, pool wait) and their query text. A click on a row shows the
// span's attributes and events below.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'style') Object.assign(node.style, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

export function formatMs(v) {
  if (v == null) return '–';
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 1 : 2)} s`;
  if (v >= 10) return `${Math.round(v).toLocaleString('en-US')} ms`;
  return `${v.toFixed(v >= 1 ? 1 : 2)} ms`;
}

// The tags a span earns: what the seed's demo trace points at.
export function spanTags(attributes = {}) {
  const tags = [];
  if (attributes['db.full_table_scan'] === true) tags.push({ text: 'full table scan', kind: 'bad' });
  const index = attributes['db.index_used'];
  if (index && index !== 'NONE') tags.push({ text: `index ${index}`, kind: 'good' });
  else if (index === 'NONE') tags.push({ text: 'no index', kind: 'bad' });
  if (attributes['db.rows_scanned'] != null) {
    tags.push({ text: `${Number(attributes['db.rows_scanned']).toLocaleString('en-US')} rows scanned`, kind: attributes['db.full_table_scan'] ? 'bad' : '' });
  }
  if (attributes['db.pool_wait_ms'] != null && attributes['db.pool_wait_ms'] >= 1) {
    tags.push({ text: `pool wait ${formatMs(attributes['db.pool_wait_ms'])}`, kind: attributes['db.pool_wait_ms'] >= 100 ? 'bad' : '' });
  }
  if (attributes['db.missing_index']) tags.push({ text: `missing ${attributes['db.missing_index']}`, kind: 'bad' });
  return tags;
}

function isError(span) {
  return span.status?.code === 2 || Number(span.attributes?.['http.response.status_code']) >= 500;
}

function attributeTable(span) {
  const rows = Object.entries(span.attributes || {}).map(([k, v]) =>
    el('tr', {}, el('th', { text: k }), el('td', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) })));
  const parts = [
    el('h4', { text: span.name }),
    el('p', { className: 'muted wf-ids', text: `span ${span.spanId}${span.parentSpanId ? ` · parent ${span.parentSpanId}` : ''} · ${span.kind_name} · ${span.source} · starts at +${formatMs(span.offset_ms)} · ${formatMs(span.duration_ms)}${span.status?.message ? ` · ${span.status.message}` : ''}` }),
    el('table', { className: 'attr-table' }, el('tbody', {}, ...rows)),
  ];
  if (span.events?.length) {
    parts.push(el('h5', { text: 'Events' }));
    parts.push(el('ul', { className: 'wf-event-list' }, ...span.events.map((e) =>
      el('li', { text: `+${formatMs(e.offset_ms)} ${e.name}${Object.keys(e.attributes || {}).length ? ` ${JSON.stringify(e.attributes)}` : ''}` }))));
  }
  return parts;
}

// trace: the answer of GET /api/v1/traces/{id}. compact: no attribute panel (the side-by-side).
export function renderWaterfall(trace, { compact = false } = {}) {
  const total = Math.max(trace.duration_ms || 0, 0.001);
  const pct = (v) => `${Math.max(0, Math.min(100, (v / total) * 100)).toFixed(3)}%`;
  const attrs = el('div', { className: 'wf-attrs', hidden: true });
  const rows = trace.spans.map((span) => {
    // The server span repeats its query's db.* attributes: the tags go on the query's own row.
    const tags = span.kind_name === 'server' ? [] : spanTags(span.attributes);
    const query = span.attributes?.['db.query.text'];
    const label = el('div', { className: 'wf-label', style: { paddingLeft: `${0.3 + span.depth * 1.1}rem` } },
      el('span', { className: 'wf-name', text: span.name, title: span.name }),
      query ? el('code', { className: 'wf-query', text: query, title: query }) : null,
      tags.length ? el('span', { className: 'wf-tags' }, ...tags.map((t) => el('span', { className: `wf-tag ${t.kind}`, text: t.text }))) : null);
    const bar = el('div', { className: 'wf-bar', style: { left: pct(span.offset_ms), width: `max(3px, ${pct(span.duration_ms)})` } });
    const track = el('div', { className: 'wf-track' }, bar,
      ...(span.events || []).map((e) => el('i', { className: 'wf-event', title: `${e.name} at +${formatMs(e.offset_ms)}`, style: { left: pct(e.offset_ms) } })));
    const row = el('div', {
      className: 'wf-row',
      role: 'button',
      tabIndex: 0,
      dataset: { kind: span.kind_name, status: isError(span) ? 'error' : 'ok', depth: String(span.depth), spanId: span.spanId, name: span.name },
    }, label, track, el('span', { className: 'wf-ms', text: formatMs(span.duration_ms) }));
    if (!compact) {
      const select = () => {
        for (const r of row.parentElement.querySelectorAll('.wf-row[aria-current]')) r.removeAttribute('aria-current');
        row.setAttribute('aria-current', 'true');
        attrs.replaceChildren(...attributeTable(span));
        attrs.hidden = false;
      };
      row.addEventListener('click', select);
      row.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), select()));
    }
    return row;
  });
  const ticks = (compact ? [0, 0.5, 1] : [0, 0.25, 0.5, 0.75, 1]).map((f) => el('span', { text: formatMs(total * f), style: { left: `${f * 100}%` } }));
  const axis = el('div', { className: 'wf-row wf-axis', 'aria-hidden': 'true' }, el('div', {}), el('div', { className: 'wf-ticks' }, ...ticks), el('span', {}));
  const root = el('div', { className: `waterfall${compact ? ' compact' : ''}`, dataset: { spanCount: String(rows.length) } }, axis, ...rows);
  return compact ? root : el('div', {}, root, attrs);
}
