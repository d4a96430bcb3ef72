// An OTLP/HTTP test receiver that decodes every payload with the official message definitions:
// the protobufjs root that @opentelemetry/otlp-transformer 0.214 generated from opentelemetry-proto
// (build/src/generated/root.js; later versions dropped it). tests/support/otlp_receiver.hpp runs
// it for the C++ conformance tests.
//
//   node tests/telemetry/node/otlp_receiver.mjs [PORT]   prints {"port":N} as its first stdout
//                                                        line (PORT: default 0, a free one)
//
// POST /v1/traces, /v1/metrics, /v1/logs
//   Content-Encoding: gzip is gunzipped. application/x-protobuf goes through
//   Export{Trace,Metrics,Logs}ServiceRequest.decode. application/json is parsed, then brought to
//   what protobufjs reads (its fromObject takes a string in a bytes field as base64 and its verify
//   refuses int64 as decimal strings): hex ids to bytes, decimal-string 64-bit integers to Long,
//   "NaN" / "Infinity" / "-Infinity" to numbers; then verify() must return null and fromObject()
//   builds the message. The JSON mapping's own rules are checked on the way: ids are hex of the
//   right length, enums are integers, 64-bit integers are decimal strings or numbers, and every
//   key is a field of the message (unknownKeys lists those that are not: a snake_case key would
//   silently vanish otherwise).
//   Either way the message is stored as plain JSON (toObject: 64-bit integers as decimal strings,
//   enums as integers, ids as lowercase hex, non-finite doubles as "NaN" / "Infinity"; a JSON
//   payload is re-encoded to protobuf and decoded first, so both encodings store the same shape)
//   with its path, content type, encoding, sizes, request headers and the status answered.
//   The answer is 200 with an empty Export*ServiceResponse in the request's encoding unless a
//   control rule says otherwise. A body that does not decode is answered 400 and recorded in
//   `errors`; nothing a client sends crashes the receiver.
// GET /received    {"requests": [...], "errors": [...]}
// POST /control    a rule for the next `count` requests (default 1; -1: every request), in the
//                  order given, optionally for one `path`:
//                  {"status":503,"retryAfter":"1","count":2}  {"delayMs":3000}
//                  {"partialSuccess":{"rejected":3,"errorMessage":"..."}}  {"status":400}
// POST /reset      forgets requests, errors and rules.
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// web/node_modules holds the decoder (web/package-lock.json pins it); ES modules ignore NODE_PATH,
// so resolve from web/ explicitly (TRAFFICSIM_WEB_DIR overrides, e.g. for an installed copy).
const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = process.env.TRAFFICSIM_WEB_DIR ?? path.resolve(here, '../../../web');
const require = createRequire(path.join(webDir, 'package.json'));
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Long = require('protobufjs/minimal').util.Long;

const collector = root.opentelemetry.proto.collector;
const SIGNALS = {
  '/v1/traces': {
    request: collector.trace.v1.ExportTraceServiceRequest,
    response: collector.trace.v1.ExportTraceServiceResponse,
    rejectedField: 'rejectedSpans',
  },
  '/v1/metrics': {
    request: collector.metrics.v1.ExportMetricsServiceRequest,
    response: collector.metrics.v1.ExportMetricsServiceResponse,
    rejectedField: 'rejectedDataPoints',
  },
  '/v1/logs': {
    request: collector.logs.v1.ExportLogsServiceRequest,
    response: collector.logs.v1.ExportLogsServiceResponse,
    rejectedField: 'rejectedLogRecords',
  },
};

const MAX_BODY_BYTES = 64 << 20;

// ----- the JSON mapping, brought to what protobufjs reads -----

// Byte fields written as hex in OTLP JSON, with their length in bytes.
const HEX_IDS = { traceId: 16, spanId: 8, parentSpanId: 8 };
// 64-bit integer fields (string or number in JSON): unsigned fixed64 ones and signed ones.
const UINT64 = new Set([
  'timeUnixNano', 'startTimeUnixNano', 'endTimeUnixNano', 'observedTimeUnixNano', 'count',
  'bucketCounts', 'zeroCount',
]);
const INT64 = new Set(['asInt', 'intValue']);
// Double fields that may hold "NaN", "Infinity" or "-Infinity".
const DOUBLES = new Set(['doubleValue', 'asDouble', 'sum', 'min', 'max', 'explicitBounds', 'value']);
// Enum fields: the OTLP JSON mapping writes them as integers, never their names.
const ENUMS = new Set(['kind', 'code', 'severityNumber', 'aggregationTemporality']);

class PayloadError extends Error {}

function toLong(text, unsigned, where) {
  if (typeof text === 'number') {
    if (!Number.isInteger(text)) throw new PayloadError(`${where}: ${text} is not an integer`);
    return text;
  }
  if (typeof text !== 'string' || !/^-?[0-9]+$/.test(text)) {
    throw new PayloadError(`${where}: ${JSON.stringify(text)} is not a 64-bit integer`);
  }
  if (unsigned && text.startsWith('-')) throw new PayloadError(`${where}: ${text} is negative`);
  const value = Long.fromString(text, unsigned, 10);
  if (value.toString(10) !== text.replace(/^(-?)0+(?=\d)/, '$1')) {
    throw new PayloadError(`${where}: ${text} does not fit in 64 bits`);
  }
  return value;
}

function toDouble(v, where) {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new PayloadError(`${where}: ${JSON.stringify(v)} is not a double`);
}

function fromHex(v, bytes, where) {
  if (typeof v !== 'string' || (v !== '' && !new RegExp(`^[0-9a-fA-F]{${2 * bytes}}$`).test(v))) {
    throw new PayloadError(`${where}: ${JSON.stringify(v)} is not ${2 * bytes} hex digits`);
  }
  return Buffer.from(v, 'hex');
}

function convertScalar(key, v, where) {
  if (key in HEX_IDS) return fromHex(v, HEX_IDS[key], where);
  if (UINT64.has(key) || INT64.has(key)) {
    if (typeof v === 'object') return undefined;  // not a scalar here (none in OTLP today)
    return toLong(v, UINT64.has(key), where);
  }
  if (DOUBLES.has(key) && typeof v !== 'object') return toDouble(v, where);
  if (ENUMS.has(key) && !Number.isInteger(v)) {
    throw new PayloadError(`${where}: enum ${JSON.stringify(v)} must be an integer`);
  }
  return undefined;
}

function fromJsonMapping(value, where) {
  if (Array.isArray(value)) return value.map((v, i) => fromJsonMapping(v, `${where}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    const at = `${where}.${key}`;
    if (Array.isArray(v) && (UINT64.has(key) || INT64.has(key) || DOUBLES.has(key))) {
      out[key] = v.map((e, i) => convertScalar(key, e, `${at}[${i}]`));
      continue;
    }
    const converted = v === null ? undefined : convertScalar(key, v, at);
    out[key] = converted !== undefined ? converted : fromJsonMapping(v, at);
  }
  return out;
}

// Keys of the payload that are no field of the message (what fromObject dropped): `original` is
// the parsed JSON, `known` the message read back with every field present.
function unknownKeys(original, known, where, found) {
  if (Array.isArray(original)) {
    if (Array.isArray(known)) original.forEach((v, i) => unknownKeys(v, known[i], `${where}[${i}]`, found));
    return found;
  }
  if (original === null || typeof original !== 'object') return found;
  if (known === null || typeof known !== 'object') return found;
  for (const [key, v] of Object.entries(original)) {
    if (!(key in known)) {
      found.push(`${where}.${key}`);
    } else {
      unknownKeys(v, known[key], `${where}.${key}`, found);
    }
  }
  return found;
}

// ----- the decoded message as plain JSON -----

function idsToHex(value) {
  if (Array.isArray(value)) return value.map(idsToHex);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = key in HEX_IDS && typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : idsToHex(v);
  }
  return out;
}

function normalise(type, message) {
  return idsToHex(type.toObject(message, { longs: String, enums: Number, bytes: String, json: true, arrays: true }));
}

function decodePayload(signal, contentType, body) {
  const type = signal.request;
  if (contentType === 'application/x-protobuf') {
    let message;
    try {
      message = type.decode(body);
    } catch (e) {
      throw new PayloadError(`protobuf: ${e.message}`);
    }
    return { message: normalise(type, message), unknownKeys: [] };
  }
  let parsed;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new PayloadError(`JSON: ${e.message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PayloadError('JSON: the body is not an object');
  }
  const converted = fromJsonMapping(parsed, '$');
  const problem = type.verify(converted);
  if (problem !== null) throw new PayloadError(`verify: ${problem}`);
  const message = type.fromObject(converted);
  const known = type.toObject(message, { longs: String, bytes: String, json: true, arrays: true, defaults: true });
  // The same shape as a protobuf payload's: through the wire format and back.
  const again = type.decode(type.encode(message).finish());
  return { message: normalise(type, again), unknownKeys: unknownKeys(parsed, known, '$', []) };
}

// ----- behaviour -----

const state = { requests: [], errors: [], rules: [] };

function takeRule(path) {
  for (const rule of state.rules) {
    if (rule.remaining === 0) continue;
    if (rule.path !== undefined && rule.path !== path) continue;
    if (rule.remaining > 0) rule.remaining -= 1;
    return rule;
  }
  return {};
}

function validRule(rule) {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) return 'a rule is a JSON object';
  if (rule.status !== undefined && !(Number.isInteger(rule.status) && rule.status >= 100 && rule.status <= 599)) return 'status: 100..599';
  if (rule.delayMs !== undefined && !(Number.isInteger(rule.delayMs) && rule.delayMs >= 0)) return 'delayMs: a whole number >= 0';
  if (rule.count !== undefined && !Number.isInteger(rule.count)) return 'count: a whole number (-1: every request)';
  if (rule.retryAfter !== undefined && typeof rule.retryAfter !== 'string') return 'retryAfter: a string';
  if (rule.path !== undefined && !(rule.path in SIGNALS)) return 'path: /v1/traces, /v1/metrics or /v1/logs';
  return null;
}

function exportResponse(signal, json, partial) {
  const object = partial
    ? { partialSuccess: { [signal.rejectedField]: partial.rejected ?? 0, errorMessage: partial.errorMessage ?? '' } }
    : {};
  if (json) {
    // proto3 JSON writes int64 as a decimal string.
    if (partial) object.partialSuccess[signal.rejectedField] = String(object.partialSuccess[signal.rejectedField]);
    return Buffer.from(JSON.stringify(object));
  }
  return Buffer.from(signal.response.encode(signal.response.fromObject(object)).finish());
}

// ----- HTTP -----

function send(res, status, headers, body) {
  if (res.destroyed || res.writableEnded) return;
  try {
    res.writeHead(status, { ...headers, 'Content-Length': body.length });
    res.end(body);
  } catch (e) {
    process.stderr.write(`otlp_receiver: answering failed: ${e.message}\n`);
  }
}

function sendJson(res, status, value) {
  send(res, status, { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify(value)));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new PayloadError(`body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function mediaType(header) {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

async function handleExport(req, res, path, signal) {
  const contentType = mediaType(req.headers['content-type']);
  const contentEncoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  const json = contentType === 'application/json';
  const fail = (status, message, bytes) => {
    state.errors.push({ path, contentType, contentEncoding, bytes, status, error: message });
    sendJson(res, status, { code: 3, message });
  };
  let wire;
  try {
    wire = await readBody(req);
  } catch (e) {
    fail(e instanceof PayloadError ? 413 : 400, `body: ${e.message}`, 0);
    return;
  }
  if (contentType !== 'application/x-protobuf' && !json) {
    fail(415, `Content-Type '${req.headers['content-type'] ?? ''}' is neither application/x-protobuf nor application/json`, wire.length);
    return;
  }
  let body = wire;
  if (contentEncoding === 'gzip') {
    try {
      body = zlib.gunzipSync(wire);
    } catch (e) {
      fail(400, `gzip: ${e.message}`, wire.length);
      return;
    }
  } else if (contentEncoding !== '' && contentEncoding !== 'identity') {
    fail(415, `Content-Encoding '${contentEncoding}' is not supported`, wire.length);
    return;
  }
  let decoded;
  try {
    decoded = decodePayload(signal, contentType, body);
  } catch (e) {
    fail(400, e instanceof PayloadError ? e.message : `decode: ${e.message}`, wire.length);
    return;
  }
  const rule = takeRule(path);
  const status = rule.status ?? 200;
  state.requests.push({
    path,
    contentType,
    contentEncoding,
    bytes: wire.length,
    decodedBytes: body.length,
    status,
    delayMs: rule.delayMs ?? 0,
    receivedAtMs: Date.now(),
    headers: req.headers,
    unknownKeys: decoded.unknownKeys,
    body: decoded.message,
  });
  const answer = () => {
    if (status >= 200 && status < 300) {
      send(res, status, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' },
           exportResponse(signal, json, rule.partialSuccess));
      return;
    }
    const headers = { 'Content-Type': 'application/json' };
    if (rule.retryAfter !== undefined) headers['Retry-After'] = rule.retryAfter;
    send(res, status, headers, Buffer.from(JSON.stringify({ code: 14, message: `status ${status} by rule` })));
  };
  if (rule.delayMs) {
    setTimeout(answer, rule.delayMs);
  } else {
    answer();
  }
}

async function handleControl(req, res) {
  let rule;
  try {
    rule = JSON.parse((await readBody(req)).toString('utf8'));
  } catch (e) {
    sendJson(res, 400, { error: `control: ${e.message}` });
    return;
  }
  const problem = validRule(rule);
  if (problem) {
    sendJson(res, 400, { error: `control: ${problem}` });
    return;
  }
  state.rules.push({ ...rule, remaining: rule.count ?? 1 });
  sendJson(res, 200, { rules: state.rules.length });
}

async function handle(req, res) {
  res.on('error', () => {});  // a client that went away while we waited (delayMs)
  const path = (req.url ?? '/').split('?')[0];
  const signal = SIGNALS[path];
  if (signal && req.method === 'POST') return handleExport(req, res, path, signal);
  if (path === '/received' && req.method === 'GET') return sendJson(res, 200, { requests: state.requests, errors: state.errors });
  if (path === '/control' && req.method === 'POST') return handleControl(req, res);
  if (path === '/reset' && req.method === 'POST') {
    await readBody(req).catch(() => {});
    state.requests = [];
    state.errors = [];
    state.rules = [];
    return sendJson(res, 200, {});
  }
  state.errors.push({ path, method: req.method, status: 404, error: `no route for ${req.method} ${path}` });
  req.resume();
  return sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
}

process.on('uncaughtException', (e) => process.stderr.write(`otlp_receiver: ${e.stack ?? e}\n`));
process.on('unhandledRejection', (e) => process.stderr.write(`otlp_receiver: ${e?.stack ?? e}\n`));

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    state.errors.push({ path: req.url, status: 500, error: `receiver: ${e.message}` });
    sendJson(res, 500, { error: e.message });
  });
});
server.on('clientError', (err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
