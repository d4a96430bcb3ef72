// The dashboard's one state and its wiring: the card starts and stops jobs; the watched job's
// stream feeds the live figures, the charts and (for a dual-mode job) the baseline/demo panels;
// the job list, the target panel, the monitors and the incidents poll. On load the page
// re-attaches to a running job, whose stream replays its history, so a reload keeps the charts
// and the Stop button.
import { api, isActive, setKeyPrompt } from './api.js';
import { TrafficCard } from './card.js';
import { DEFAULT_PERCENTILES, JobCharts, PERCENTILES } from './charts.js';
import { DualPanels } from './dual.js';
import { renderJobs } from './jobs.js';
import { JobStream } from './stream.js';
import { watchTarget } from './target.js';
import { watchMonitors } from './monitors.js';
import { watchIncidents } from './incidents.js';
import { watchSimulator } from './simulate.js';
import { watchPages } from './pages.js';
import { watchTraces } from './traces.js';
import { watchLogs } from './logs.js';
import { watchTelemetryMetrics } from './telemetrymetrics.js';

const $ = (id) => document.getElementById(id);
const JOBS_POLL_MS = 3000;
const PERCENTILE_STORAGE = 'trafficsim.percentiles';

const state = {
  catalog: null,
  card: null,
  // The job on screen: {job: JobState, stream, charts, dual, ended}
  watched: null,
  percentiles: loadPercentiles(),
  logLatency: null, // null: logarithmic for dual-mode jobs only, until the user chooses
  jobs: [],
  jobsLoaded: false,
};

function loadPercentiles() {
  try {
    const saved = JSON.parse(localStorage.getItem(PERCENTILE_STORAGE));
    if (Array.isArray(saved) && saved.length) return saved;
  } catch {
    // fall through to the defaults
  }
  return [...DEFAULT_PERCENTILES];
}

// ---- formatting ----

// Formatters answer [number, unit]; the unit is set smaller beside the number.
const integer = (v) => [v == null ? '–' : Math.round(v).toLocaleString('en-US'), ''];
const ms = (v) => [v == null ? '–' : v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'), v == null ? '' : 'ms'];
const rate = (v) => [v == null ? '–' : v.toFixed(1), ''];

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function titleOf(job) {
  if (job.title) return job.title;
  return state.catalog?.scenarios?.find((s) => s.name === job.scenario)?.title || job.scenario;
}

// ---- the live figures ----

const STAT_FORMATS = {
  totalRequests: integer,
  successfulRequests: integer,
  failedRequests: integer,
  currentRps: rate,
  avgLatency: ms,
  p50Latency: ms,
  p95Latency: ms,
  p99Latency: ms,
};

function small(text) {
  const span = document.createElement('span');
  span.className = 'unit';
  span.textContent = text;
  return span;
}

function showStats(stats) {
  for (const [key, format] of Object.entries(STAT_FORMATS)) {
    const dd = document.querySelector(`#stats [data-stat="${key}"]`);
    const value = stats?.[key];
    const [number, unit] = format(value);
    dd.textContent = number;
    if (unit) dd.append(small(` ${unit}`));
    dd.dataset.value = value == null ? '' : String(value);
  }
  const rps = document.querySelector('#stats [data-stat="currentRps"]');
  if (stats?.targetRps != null) rps.append(small(` of ${rate(stats.targetRps)[0]}`));
  document.querySelector('#stats [data-stat="failedRequests"]').classList.toggle('bad', (stats?.failedRequests ?? 0) > 0);
}

function showJobLine(job, stats) {
  const live = $('live');
  live.dataset.status = job.status;
  live.dataset.jobId = job.jobId;
  const elapsed = stats?.elapsed ?? (job.endTime && job.startTime ? (job.endTime - job.startTime) / 1000 : 0);
  const script = job.kind === 'script';
  const parts = [titleOf(job), job.status];
  if (script) parts.push(clock(elapsed));
  else if (job.duration) parts.push(`${clock(elapsed)} / ${clock(job.duration)}`);
  if (job.maxRps && !job.dualMode) parts.push(`max ${job.maxRps} req/s`);
  if (job.status === 'error' && job.error) parts.push(job.error);
  if (stats?.saturated && isActive(job.status)) parts.push('⚠ load generator saturated: the achieved rate is below the target');
  const line = $('job-line');
  line.replaceChildren();
  const status = document.createElement('span');
  status.className = 'status-badge';
  status.dataset.status = job.status;
  status.textContent = job.status;
  const rest = parts.filter((_, i) => i !== 1).join(' · ');
  line.append(status, document.createTextNode(` ${rest}`));

  // Progress: the duration's share, or for a script the phases done.
  const p = stats?.phase;
  let done = null;
  if (job.status === 'completed') done = 1;
  else if (script && p) done = p.index / p.count;
  else if (!script && job.duration) done = Math.min(1, (elapsed ?? 0) / job.duration);
  $('progress').hidden = done === null;
  if (done !== null) $('progress-bar').style.width = `${(done * 100).toFixed(1)}%`;

  const phase = $('phase');
  phase.hidden = !p;
  if (p) {
    phase.textContent = `Phase ${p.index + 1} of ${p.count}: ${p.title}`;
    phase.dataset.index = String(p.index);
  }
}

function showConnection(kind) {
  const el = $('connection');
  const words = { idle: 'no job', open: 'live', reconnecting: 'reconnecting…', ended: 'job ended', gone: 'job no longer on the server' };
  el.dataset.state = kind;
  el.textContent = words[kind] || kind;
}

// ---- watching a job ----

function unwatch() {
  const w = state.watched;
  if (!w) return;
  w.stream?.close();
  w.charts.destroy();
  w.dual?.destroy();
  state.watched = null;
}

function watch(job) {
  unwatch();
  const streams = job.streamNames?.length ? job.streamNames : [job.scenario];
  const w = {
    job,
    charts: new JobCharts($('charts'), streams, { percentiles: state.percentiles, logLatency: state.logLatency ?? !!job.dualMode }),
    dual: job.dualMode ? new DualPanels($('dual'), streams) : null,
    stream: null,
    ended: !isActive(job.status),
  };
  state.watched = w;
  $('log-latency').checked = w.charts.logLatency;
  state.card.setActive(!w.ended);
  state.card.showConfig(job);
  showJobLine(job, job.stats && { ...job.stats, elapsed: jobElapsed(job, job.stats) });
  showStats(job.stats);
  if (job.stats && w.dual) w.dual.update(job.stats, { final: true });
  w.stream = new JobStream(job.jobId, {
    onStats: (stats) => onStats(w, stats),
    onFinal: (final) => onFinal(w, final),
    onGone: () => {
      if (state.watched !== w) return;
      showConnection('gone');
      endWatch(w, { ...w.job, status: w.job.status === 'running' ? 'error' : w.job.status });
    },
    onConnection: (kind) => state.watched === w && !w.ended && showConnection(kind),
  });
  w.stream.open();
  renderJobList();
}

// Seconds since the job started, from the event's wall-clock `t` and the job's startTime (the
// same time line as `elapsed`, which for a script job counts from the script's start).
function jobElapsed(job, stats) {
  if (stats.t != null && job.startTime) return Math.max(0, stats.t - job.startTime / 1000);
  return stats.elapsed;
}

function onStats(w, event) {
  if (state.watched !== w) return;
  const stats = { ...event, elapsed: jobElapsed(w.job, event) };
  w.charts.push(stats);
  if (w.ended) return; // a finished job's replayed history: charts only, the figures are final
  // The job's own status moves starting → running here; the stream's `draining` (a phase or a
  // stopped job finishing its requests) is not shown as the job's status: the final event ends it.
  if (stats.status === 'running' && w.job.status === 'starting') w.job.status = 'running';
  showStats(stats);
  showJobLine(w.job, stats);
  w.dual?.update(stats);
}

function onFinal(w, final) {
  if (state.watched !== w) return;
  endWatch(w, final);
  refreshJobs();
}

function endWatch(w, final) {
  w.ended = true;
  w.job = { ...w.job, ...final };
  clearTimeout(w.stopTimer);
  state.card.setActive(false);
  if (state.card.busy === 'stop') state.card.setBusy(null);
  showStats(w.job.stats);
  showJobLine(w.job, w.job.stats);
  if (w.job.stats && w.dual) w.dual.update(w.job.stats, { final: true });
  showConnection('ended');
  renderJobList();
}

// ---- the card's actions ----

async function onStart(config) {
  const card = state.card;
  card.setBusy('start');
  card.say('');
  try {
    const answer = await api.start(config);
    if (answer.clamped) {
      card.say(`Max RPS clamped by the hard cap: asked for ${answer.requestedMaxRps}, running at ${answer.maxRps} req/s.`, 'warn');
    }
    let job;
    try {
      job = await api.status(answer.jobId);
    } catch {
      job = { ...answer, kind: 'scenario', streamNames: [answer.scenario] };
    }
    watch(job);
  } catch (error) {
    card.say(`Could not start: ${error.message}`, 'error');
  } finally {
    card.setBusy(null);
  }
  refreshJobs();
}

async function onStop() {
  const w = state.watched;
  if (!w || w.ended) return;
  const card = state.card;
  card.setBusy('stop');
  try {
    const answer = await api.stop(w.job.jobId);
    if (!isActive(answer.status)) {
      w.stream?.close();
      endWatch(w, answer);
      refreshJobs();
    } else {
      // The job is winding down: the stream's final event ends the wait; the status is the
      // fallback if that event never comes.
      const poll = async () => {
        if (w.ended || state.watched !== w) return;
        try {
          const s = await api.status(w.job.jobId);
          if (!isActive(s.status)) {
            w.stream?.close();
            endWatch(w, s);
            refreshJobs();
            return;
          }
        } catch {
          // try again
        }
        w.stopTimer = setTimeout(poll, 1000);
      };
      w.stopTimer = setTimeout(poll, 3000);
    }
  } catch (error) {
    card.setBusy(null);
    card.say(`Could not stop: ${error.message}`, 'error');
  }
}

// ---- the job list ----

function renderJobList() {
  renderJobs($('job-rows'), state.jobs, { watchedId: state.watched?.job.jobId, onWatch: (job) => watch(job) });
}

async function refreshJobs() {
  let jobs;
  try {
    jobs = await api.jobs();
  } catch {
    return state.jobs;
  }
  const known = new Set(state.jobs.map((j) => j.jobId));
  const firstLook = !state.jobsLoaded;
  state.jobs = jobs;
  state.jobsLoaded = true;
  const w = state.watched;
  // Follow new work: on load, the running job; later, when the job on screen has ended, a job
  // that appeared since the last look (a script's next job, a start from another browser). A job
  // the user chose to leave (by opening an older one's charts) is not forced back on screen.
  const running = jobs.find((j) => isActive(j.status) && (firstLook || !known.has(j.jobId)));
  if (running && (!w || w.ended) && running.jobId !== w?.job.jobId) {
    watch(running);
  } else {
    const fresh = w && jobs.find((j) => j.jobId === w.job.jobId);
    if (fresh && w.ended) w.job = { ...w.job, ...fresh };
    renderJobList();
  }
  return jobs;
}

// ---- percentile picks ----

function renderPercentilePicks() {
  const root = $('percentile-picks');
  root.replaceChildren();
  for (const p of PERCENTILES) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = p.key;
    box.dataset.percentile = p.key;
    box.checked = state.percentiles.includes(p.key);
    box.addEventListener('change', () => {
      state.percentiles = [...root.querySelectorAll('input:checked')].map((i) => i.value);
      localStorage.setItem(PERCENTILE_STORAGE, JSON.stringify(state.percentiles));
      state.watched?.charts.setPercentiles(state.percentiles);
    });
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = p.color;
    label.append(box, swatch, document.createTextNode(p.label));
    root.append(label);
  }
}

function wireLogToggle() {
  $('log-latency').addEventListener('change', (event) => {
    state.logLatency = event.target.checked;
    state.watched?.charts.setLogLatency(state.logLatency);
  });
}

// ---- the API key form ----

let pendingKey = null;
function askForKey(reason) {
  if (pendingKey) return pendingKey;
  const dialog = $('key-dialog');
  const input = $('key-input');
  $('key-reason').textContent = reason
    ? `The server refused: ${reason}. Enter its API key (kept for this tab only).`
    : 'This server needs its API key to start or stop load (kept for this tab only).';
  input.value = '';
  pendingKey = new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        pendingKey = null;
        resolve(dialog.returnValue === 'ok' && input.value ? input.value : null);
      },
      { once: true },
    );
  });
  dialog.returnValue = '';
  dialog.showModal();
  input.focus();
  return pendingKey;
}

// ---- start ----

async function loadCatalog() {
  for (;;) {
    try {
      return await api.scenarios();
    } catch (error) {
      $('scenario-list').textContent = `Cannot reach the control API (${error.message}); retrying…`;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

async function main() {
  setKeyPrompt(askForKey);
  watchPages({ traces: watchTraces(), logs: watchLogs(), metrics: watchTelemetryMetrics() });
  state.catalog = await loadCatalog();
  state.card = new TrafficCard(state.catalog, { onStart, onStop });
  renderPercentilePicks();
  wireLogToggle();
  watchTarget($('target'));
  watchMonitors($('monitors'));
  watchIncidents($('incidents'));
  watchSimulator($('incidents'));
  await refreshJobs(); // re-attaches to a running job
  setInterval(refreshJobs, JOBS_POLL_MS);
  document.body.dataset.ready = 'true';
}

main();
