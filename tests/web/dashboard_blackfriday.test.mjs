// A compressed Black Friday (dual mode, time scale 60: one demo minute a second) started from the
// card: the server starts the target's story with the job, the page shows baseline and demo side
// by side, and by demo minute 22 the demo panel is red while the baseline panel has stayed green
// the whole time. (`demo --scenario blackfriday` takes the same path: tests/cli/demo_cli_test.)
import { assert, eventually, runTest, screenshotPath, startDemoPage } from './support.mjs';

runTest('dashboard_blackfriday', async (defer) => {
  const { ts, page, pageErrors } = await startDemoPage(defer);
  await page.goto(`${ts.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.getByLabel('Black Friday (baseline + demo)', { exact: true }).check();
  await page.selectOption('#time-scale', '60');
  assert(await page.locator('#duration').isDisabled(), 'Duration stays enabled for the dual-mode story');
  assert(await page.locator('#max-rps').isDisabled(), 'Max RPS stays enabled for the dual-mode story');
  await page.getByLabel('I understand this generates load', { exact: true }).check();
  await page.locator('#start').click();

  const baseline = page.locator('#dual .stream-panel[data-stream="baseline"]');
  const demo = page.locator('#dual .stream-panel[data-stream="demo"]');
  await eventually('the baseline and demo panels', async () => (await baseline.count()) === 1 && (await demo.count()) === 1);
  assert(await page.locator('#stop').isEnabled(), 'Stop is disabled on the running Black Friday job');

  // Sample both panels until the demo turns red; the baseline must be green at every sample
  // once it has served requests.
  const seen = { baseline: new Set(), demo: new Set() };
  let minute = 0;
  let firstRedMinute = null;
  await eventually('the demo panel red in the critical phase (demo minute ≥ 16)', async () => {
    const [b, d, m] = await Promise.all([
      baseline.getAttribute('data-health'),
      demo.getAttribute('data-health'),
      demo.locator('.demo-minute').textContent(),
    ]);
    seen.baseline.add(b);
    seen.demo.add(d);
    minute = Number((m.match(/(\d+)/) || [])[1] || 0);
    assert(b === 'green', `the baseline panel turned ${b} at demo minute ${minute}`);
    if (d === 'red' && firstRedMinute === null) firstRedMinute = minute;
    return d === 'red' && minute >= 16;
  }, 40000, 250);
  assert(firstRedMinute >= 10, `the demo panel was red already at demo minute ${firstRedMinute}`);
  assert(seen.demo.has('green'), 'the demo panel was never green');
  assert(Number(await baseline.locator('[data-field="totalRequests"]').textContent()) > 0, 'the baseline served no requests');

  await page.screenshot({ path: screenshotPath('dashboard_blackfriday'), fullPage: true });
  console.log(`demo went ${[...seen.demo].join(' → ')}; baseline stayed ${[...seen.baseline].join(', ')}; first red at demo minute ${firstRedMinute}`);
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
