// The Traffic Simulator card end to end: Start is gated by the consent checkbox; Normal Traffic
// starts and its statistics grow; a reload mid-job redraws the chart history from the stream and
// keeps Stop working; Stop ends the job as cancelled with stable final figures; the job list
// offers its report.
import { assert, eventually, runTest, screenshotPath, startDemoPage } from './support.mjs';

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

runTest('dashboard_card', async (defer) => {
  const { ts, page, pageErrors } = await startDemoPage(defer);

  // Hold the control requests a moment so their loading states can be seen.
  await page.route('**/traffic/start', async (route) => {
    await delay(400);
    await route.continue();
  });
  await page.route('**/traffic/stop/*', async (route) => {
    await delay(400);
    await route.continue();
  });

  await page.goto(`${ts.url}/`);
  await page.waitForSelector('body[data-ready="true"]');

  const start = page.locator('#start');
  const stop = page.locator('#stop');
  const consent = page.getByLabel('I understand this generates load', { exact: true });
  assert(await start.isDisabled(), 'Start is enabled before the checkbox is ticked');
  assert(await stop.isDisabled(), 'Stop is enabled with no job');
  assert((await page.locator('#cap-note').textContent()).includes('hard capped'), 'Max RPS does not say it is hard capped');
  for (const title of ['Normal Traffic', 'Peak Usage', 'Error Injection', 'Latency Degradation', 'Stress Test (Safe)']) {
    assert(await page.getByLabel(title, { exact: true }).count() === 1, `no scenario radio "${title}"`);
  }

  await page.getByLabel('Normal Traffic', { exact: true }).check();
  await page.selectOption('#duration', '60');
  await page.selectOption('#max-rps', '20');
  await consent.check();
  assert(await start.isEnabled(), 'Start stays disabled after the checkbox is ticked');
  await consent.uncheck();
  assert(await start.isDisabled(), 'Start is enabled after the checkbox is unticked');
  await consent.check();

  await start.click();
  await eventually('the Start button in its loading state', async () =>
    (await start.textContent()).includes('Starting') && (await start.isDisabled()), 2000, 20);

  const total = async () => Number(await page.locator('#stats [data-stat="totalRequests"]').getAttribute('data-value')) || 0;
  const points = async () => Number(await page.locator('#charts').getAttribute('data-points')) || 0;
  await eventually('the job running on the page', async () => (await page.locator('#live').getAttribute('data-status')) === 'running');
  const first = await eventually('requests counted', total);
  await eventually('the total growing', async () => (await total()) > first);
  assert(await stop.isEnabled(), 'Stop is disabled while the job runs');
  await eventually('a few chart points', async () => (await points()) >= 8);
  const pointsBefore = await points();
  const totalBefore = await total();
  const jobId = await page.locator('#live').getAttribute('data-job-id');

  // Reload mid-job: the page re-attaches and the replayed history redraws the charts.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await eventually('the page re-attached to the job', async () => (await page.locator('#live').getAttribute('data-job-id')) === jobId);
  await eventually(`the chart history redrawn (≥ ${pointsBefore} points)`, async () => (await points()) >= pointsBefore, 5000);
  assert((await total()) >= totalBefore, 'the total went backwards after the reload');
  // One point per 500 ms event: a history drawn twice would show about twice as many.
  const status = await (await page.request.get(`${ts.url}/traffic/status/${jobId}`)).json();
  const most = Math.ceil(status.stats.elapsed / 0.4) + 3;
  assert((await points()) <= most, `${await points()} chart points after ${status.stats.elapsed} s: history drawn twice?`);
  assert(await stop.isEnabled(), 'Stop is disabled after the reload');
  const uplotPaths = await page.locator('#charts .uplot').count();
  assert(uplotPaths === 3, `expected 3 charts, found ${uplotPaths}`);

  await stop.click();
  await eventually('the Stop button in its loading state', async () => (await stop.textContent()).includes('Stopping'), 2000, 20);
  await eventually('the job cancelled on the page', async () => (await page.locator('#live').getAttribute('data-status')) === 'cancelled', 10000);
  assert(await stop.isDisabled(), 'Stop is still enabled after the job ended');
  const finalTotal = await total();
  assert(finalTotal >= totalBefore, 'the final total is below a live one');
  await delay(1500);
  assert((await total()) === finalTotal, 'the final total changed after the job ended');

  const row = page.locator(`#job-rows tr[data-job-id="${jobId}"]`);
  await eventually('the job listed as cancelled', async () => (await row.getAttribute('data-status')) === 'cancelled');
  const download = row.getByRole('link', { name: 'Download report' });
  assert((await download.getAttribute('href')) === `/traffic/report/${jobId}?format=html`, 'the Download report link points elsewhere');
  assert((await download.getAttribute('download')) !== null, 'the Download report link has no download attribute');
  const json = await page.request.get(`${ts.url}/traffic/report/${jobId}`);
  assert(json.ok(), `the JSON report answered ${json.status()}`);

  await page.screenshot({ path: screenshotPath('dashboard_card'), fullPage: true });
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
