// What every browser test shares: Debian's Chromium driven by playwright-core (no browser
// download), a trafficsim process on a free loopback port, conditions with deadlines, and the
// screenshot directory (TS_ARTIFACTS, under the build tree). Run by ctest (tests/web/CMakeLists.txt)
// on the release build only: node tests/web/<name>.test.mjs with TRAFFICSIM_BIN set.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

export const bin = process.env.TRAFFICSIM_BIN;
export const artifacts = process.env.TS_ARTIFACTS || path.join(os.tmpdir(), 'trafficsim-web');
mkdirSync(artifacts, { recursive: true });

export function fail(message) {
  throw new Error(message);
}

export function assert(cond, message) {
  if (!cond) fail(message);
}

// Polls fn (sync or async) until it returns a truthy value; throws `what` after timeoutMs.
export async function eventually(what, fn, timeoutMs = 15000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) fail(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'trafficsim-web-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Starts `trafficsim <args>` and resolves once its first stdout line (the URL) is printed.
// Returns {url, proc, output(), stop()}; stop() sends SIGINT, then SIGKILL after 10 s.
export async function startTrafficsim(args, { timeoutMs = 30000, env = {} } = {}) {
  assert(bin, 'TRAFFICSIM_BIN is not set');
  const proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await Promise.race([
    eventually('the first stdout line (the URL)', () => {
      const m = out.match(/^(http:\/\/\S+)/);
      return m && m[1].replace(/\/$/, '');
    }, timeoutMs, 20),
    exited.then((r) => fail(`trafficsim exited (${JSON.stringify(r)}) before printing its URL:\n${out}\n${err}`)),
  ]);
  return {
    url,
    proc,
    exited,
    output: () => out,
    errors: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGINT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

// Debian's Chromium, headless, with the flags this closed network needs.
export async function launchBrowser() {
  const userDataDir = tempDir('trafficsim-chromium-');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// Runs `trafficsim <args>` to its end; resolves with {code, stdout, stderr} whatever the exit code.
export async function runTrafficsim(args, timeoutMs = 90000) {
  assert(bin, 'TRAFFICSIM_BIN is not set');
  try {
    const { stdout, stderr } = await promisify(execFile)(bin, args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// `trafficsim demo` on a free port with a small catalog in a temporary data directory (plus
// `args`), and a browser page with its errors collected; every part is cleaned up by `defer`.
// Returns {ts, page, pageErrors, browser}.
export async function startDemoPage(defer, args = []) {
  const dataDir = tempDir();
  defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const ts = await startTrafficsim([
    'demo', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--catalog-rows', '2000', ...args,
  ]);
  defer(() => ts.stop());
  const browser = await launchBrowser();
  defer(() => browser.close());
  const page = await browser.context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { ts, page, pageErrors, browser };
}

// A page of a browser with the network off and every request but file: aborted, for opening a
// report from disk. Returns {page, leaving (URLs that tried to leave), problems (page errors,
// console errors and warnings)}.
export async function openOffline(defer) {
  const browser = await launchBrowser();
  defer(() => browser.close());
  const { context } = browser;
  await context.setOffline(true);
  const leaving = [];
  context.on('request', (req) => {
    if (!req.url().startsWith('file:')) leaving.push(req.url());
  });
  await context.route('**/*', (route) =>
    route.request().url().startsWith('file:') ? route.continue() : route.abort());
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  return { page, leaving, problems };
}

// How much of a canvas is painted: the count of pixels that are not fully transparent.
export function paintedPixels(page, selector) {
  return page.$$eval(selector, (list) => list.map((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
    return { width: c.width, height: c.height, painted };
  }));
}

export function screenshotPath(name) {
  return path.join(artifacts, `${name}.png`);
}

// Runs an async test body with cleanups run in reverse order whatever happens; exits 0 or 1.
export async function runTest(name, body) {
  const cleanups = [];
  const defer = (fn) => cleanups.push(fn);
  const hardTimeout = setTimeout(() => {
    console.error(`${name}: hard timeout`);
    process.exit(1);
  }, Number(process.env.TS_WEB_TEST_TIMEOUT_MS || 120000));
  let ok = false;
  try {
    await body(defer);
    ok = true;
  } catch (e) {
    console.error(`${name}: FAILED: ${e.stack || e}`);
  }
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (e) {
      console.error(`${name}: cleanup: ${e.message}`);
    }
  }
  clearTimeout(hardTimeout);
  console.log(`${name}: ${ok ? 'passed' : 'failed'}`);
  process.exit(ok ? 0 : 1);
}
