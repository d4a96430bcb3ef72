// The HTML report opens offline: a real two-stream run (Black Friday, compressed clock) rendered
// with `trafficsim report html`, opened from disk in Chromium with the network off and every
// non-file request aborted. The charts must draw (uPlot canvases with a size and with pixels on
// them), the tables must be there, and no request may leave the page.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  assert, eventually, openOffline, paintedPixels, runTest, runTrafficsim as trafficsim, screenshotPath, tempDir,
} from './support.mjs';

await runTest('report_offline', async (defer) => {
  const dir = tempDir('trafficsim-report-');
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const json = path.join(dir, 'run.json');
  const html = path.join(dir, 'run.html');

  // 4 s of the dual-mode scenario at 60x: a baseline and a demo stream, the demo one failing.
  const r = await trafficsim(['run', '--scenario', 'blackfriday', '--time-scale', '60', '--duration', '4s',
    '-q', '--no-color', '--seed', '7', '--data-dir', dir, '--catalog-rows', '5000', '--json', json]);
  assert(r.code === 0 || r.code === 3, `run exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  const h = await trafficsim(['report', 'html', json, '-o', html]);
  assert(h.code === 0, `report html exited ${h.code}:\n${h.stdout}\n${h.stderr}`);
  const text = readFileSync(html, 'utf8');
  assert(!/https?:\/\//.test(text), 'the file holds an http(s) URL');

  const { page, leaving, problems } = await openOffline(defer);
  await page.goto(`file://${html}`);
  await eventually('the three charts (rate, latency, errors)', () =>
    page.evaluate(() => document.body.dataset.charts === '3'), 10000);

  // Each chart: a canvas with a size and something drawn on it.
  const canvases = await paintedPixels(page, '.charts canvas');
  assert(canvases.length === 3, `expected 3 chart canvases, found ${canvases.length}`);
  for (const c of canvases) {
    assert(c.width > 0 && c.height > 0, `a canvas has no size: ${JSON.stringify(c)}`);
    assert(c.painted > 500, `a canvas is (nearly) blank: ${JSON.stringify(c)}`);
  }
  // One line per stream in the legends.
  const legend = await page.$$eval('.charts .u-legend .u-series', (list) => list.map((s) => s.textContent));
  assert(legend.some((t) => t.includes('baseline')) && legend.some((t) => t.includes('demo')),
    `the legend lacks a stream: ${JSON.stringify(legend)}`);
  // The tables are there too.
  const body = await page.textContent('body');
  for (const expected of ['Corrected (from the intended send time)', 'Send lateness', 'Thresholds',
    'GET /products/recommendations', 'Traffic stats']) {
    assert(body.includes(expected), `the page lacks "${expected}"`);
  }
  // The latency percentile can be switched without anything leaving the page either.
  await page.selectOption('.chart select', 'p99_us');

  await page.screenshot({ path: screenshotPath('report_offline'), fullPage: true });
  assert(leaving.length === 0, `requests left the page: ${leaving.join(', ')}`);
  assert(problems.length === 0, problems.join('\n'));
});
