// The job list (GET /traffic/jobs, newest first): each finished job with its final figures,
// "Download report" (the HTML report as an attachment) and its JSON report; a running job can be
// watched (its charts replayed from the stream's history).
import { api, isActive } from './api.js';

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function link(href, text, download) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  if (download) a.download = download;
  return a;
}

function started(ms) {
  if (!ms) return '–';
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// onWatch(job) is called when the user asks to watch a job.
export function renderJobs(tbody, jobs, { watchedId, onWatch }) {
  tbody.replaceChildren();
  if (!jobs.length) {
    const tr = document.createElement('tr');
    const td = cell('No jobs yet.', 'muted');
    td.colSpan = 7;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const job of jobs) {
    const stats = job.stats || {};
    const tr = document.createElement('tr');
    tr.dataset.jobId = job.jobId;
    tr.dataset.status = job.status;
    if (job.jobId === watchedId) tr.classList.add('watched');
    const status = cell(job.status, 'status');
    status.dataset.status = job.status;
    if (job.error) status.title = job.error;
    const errors = stats.totalRequests ? `${(((stats.failedRequests ?? 0) / stats.totalRequests) * 100).toFixed(1)} %` : '–';
    tr.append(
      cell(job.title || job.scenario),
      status,
      cell(started(job.startTime)),
      cell(String(stats.totalRequests ?? 0), 'num'),
      cell(errors, 'num'),
      cell(stats.p95Latency == null ? '–' : `${Math.round(stats.p95Latency)} ms`, 'num'),
    );
    const actions = document.createElement('td');
    actions.className = 'actions';
    if (isActive(job.status)) {
      if (job.jobId !== watchedId) {
        const watch = document.createElement('button');
        watch.type = 'button';
        watch.textContent = 'Watch';
        watch.addEventListener('click', () => onWatch(job));
        actions.append(watch);
      } else {
        actions.append(document.createTextNode('watching'));
      }
    } else {
      actions.append(
        link(api.reportUrl(job.jobId, 'html'), 'Download report', `trafficsim-${job.scenario}-${job.jobId.slice(0, 8)}.html`),
        document.createTextNode(' '),
        link(api.reportUrl(job.jobId), 'JSON'),
      );
      if (job.jobId !== watchedId) {
        const view = document.createElement('button');
        view.type = 'button';
        view.className = 'link';
        view.textContent = 'Charts';
        view.addEventListener('click', () => onWatch(job));
        actions.append(document.createTextNode(' '), view);
      }
    }
    tr.append(actions);
    tbody.append(tr);
  }
}
