// The HTML report of a demo script (`trafficsim demo --script demo-video --json`, a
// {"phases": [...]} report) opens offline with one section and three drawn charts per phase.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  assert, eventually, openOffline, paintedPixels, runTest, runTrafficsim as trafficsim, screenshotPath, tempDir,
} from './support.mjs';

await runTest('report_phases', async (defer) => {
  const dir = tempDir('trafficsim-report-phases-');
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const json = path.join(dir, 'script.json');
  const html = path.join(dir, 'script.html');

  // The 3-minute script at 30x: five phases in 6 s.
  const r = await trafficsim(['demo', '--script', 'demo-video', '--time-scale', '30', '--exit',
    '--listen', '127.0.0.1:0', '-q', '--no-color', '--data-dir', dir, '--catalog-rows', '500',
    '--json', json]);
  assert(r.code === 0, `demo exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert(report.phases?.length === 5, `expected 5 phases, got ${report.phases?.length}`);
  const h = await trafficsim(['report', 'html', json, '-o', html]);
  assert(h.code === 0, `report html exited ${h.code}:\n${h.stdout}\n${h.stderr}`);
  assert(!/https?:\/\//.test(readFileSync(html, 'utf8')), 'the file holds an http(s) URL');

  const { page, leaving, problems } = await openOffline(defer);
  await page.goto(`file://${html}`);
  await eventually('three charts per phase', () =>
    page.evaluate(() => document.body.dataset.charts === '15'), 10000);
  const sections = await page.$$eval('section.run', (list) => list.length);
  assert(sections === 5, `expected 5 phase sections, found ${sections}`);
  const blank = (await paintedPixels(page, '.charts canvas')).filter((c) => c.painted < 500).length;
  assert(blank === 0, `${blank} chart canvases are (nearly) blank`);
  const body = await page.textContent('body');
  for (const expected of ['Phase 1: Step 1', 'Phase 5: Step 5', 'time scale 30']) {
    assert(body.includes(expected), `the page lacks "${expected}"`);
  }
  await page.screenshot({ path: screenshotPath('report_phases'), fullPage: true });
  assert(leaving.length === 0, `requests left the page: ${leaving.join(', ')}`);
  assert(problems.length === 0, problems.join('\n'));
});
