// The monitors strip: `demo --time-scale 12` (1-minute windows last 5 s), a latency-injection job
// started over the API; the "LLM latency spike" row turns ALERT on the page and the transition
// appears in the list, while the other monitors stay OK.
import { assert, eventually, runTest, screenshotPath, startDemoPage } from './support.mjs';

runTest('dashboard_monitors', async (defer) => {
  const { ts, page, pageErrors } = await startDemoPage(defer, ['--time-scale', '12']);
  await page.goto(`${ts.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  const row = (id) => page.locator(`#monitors .monitor[data-monitor="${id}"]`);
  await eventually('the monitors strip', async () => (await row('llm_latency_spike').count()) === 1);
  assert((await page.locator('#monitors .monitor').count()) === 6, 'expected the six built-in monitors');
  assert(await row('llm_latency_spike').getAttribute('data-state') === 'OK', 'the latency monitor is not OK before any traffic');

  const started = await page.evaluate(async () => {
    const r = await fetch('/traffic/start', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ scenario: 'latency_injection', maxRps: 20, duration: 30 }),
    });
    return r.status;
  });
  assert(started === 202, `start answered ${started}`);
  await eventually('the latency monitor in ALERT on the page', async () =>
    (await row('llm_latency_spike').getAttribute('data-state')) === 'ALERT', 25000, 200);
  const events = await page.locator('#monitor-events li').allTextContents();
  assert(events.some((t) => t.includes('LLM latency spike') && t.includes('→ ALERT')),
    `no ALERT transition listed: ${JSON.stringify(events)}`);
  assert(await row('llm_error_burst').getAttribute('data-state') === 'OK', 'the error monitor left OK on latency alone');
  await page.screenshot({ path: screenshotPath('dashboard_monitors'), fullPage: true });
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
