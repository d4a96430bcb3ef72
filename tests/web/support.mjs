// What every browser test shares: Debian's Chromium driven by playwright-core (no browser
// download), a trafficsim process on a free loopback port, conditions with deadlines, and the
// screenshot directory (TS_ARTIFACTS, under the build tree). Run by ctest (tests/web/CMakeLists.txt)
// on the release build only: node tests/web/<name>.test.mjs with TRAFFICSIM_BIN set.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

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
