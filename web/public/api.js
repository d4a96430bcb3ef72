// The control API (docs/control-api.md) as a few functions. GETs are open (but send the key when
// there is one: /api/v1/monitors is behind it); every POST sends
// Content-Type: application/json and, once the server has asked for one (401), the API key the
// user typed into the key form, kept in sessionStorage for this tab.

const KEY_STORAGE = 'trafficsim.apiKey';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// The key form is owned by app.js; it registers how to ask (a function returning a Promise of the
// key, or null when the user cancels).
let askForKey = async () => null;
export function setKeyPrompt(fn) {
  askForKey = fn;
}

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || '';
}

export function forgetApiKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export async function getJson(path) {
  const headers = { Accept: 'application/json' };
  const key = apiKey();
  if (key) headers['X-API-Key'] = key; // the routes behind the key (/api/v1/monitors) need it
  const response = await fetch(path, { headers, cache: 'no-store' });
  const body = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function sendPost(path, body) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const key = apiKey();
  if (key) headers['X-API-Key'] = key;
  const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  return { response, body: await readBody(response) };
}

// A POST; on 401 the user is asked for the key (once per refusal) and the request is sent again.
export async function postJson(path, body) {
  let { response, body: answer } = await sendPost(path, body);
  if (response.status === 401) {
    forgetApiKey();
    const key = await askForKey(answer?.message);
    if (key) {
      sessionStorage.setItem(KEY_STORAGE, key);
      ({ response, body: answer } = await sendPost(path, body));
      if (response.status === 401) forgetApiKey();
    }
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

export const api = {
  scenarios: () => getJson('/traffic/scenarios'),
  jobs: () => getJson('/traffic/jobs').then((r) => r.jobs || []),
  status: (jobId) => getJson(`/traffic/status/${encodeURIComponent(jobId)}`),
  target: () => getJson('/traffic/target'),
  monitors: () => getJson('/api/v1/monitors'),
  start: (config) => postJson('/traffic/start', config),
  stop: (jobId) => postJson(`/traffic/stop/${encodeURIComponent(jobId)}`, {}),
  streamUrl: (jobId) => `/traffic/stream/${encodeURIComponent(jobId)}`,
  reportUrl: (jobId, format) =>
    `/traffic/report/${encodeURIComponent(jobId)}${format ? `?format=${format}` : ''}`,
};

// A job still producing load or winding down (stats.status may read "draining" after a stop).
export const isActive = (status) => status === 'starting' || status === 'running' || status === 'draining';
