// A server started with --api-key: the first Start is refused (401), the page asks for the key in
// its own form (not window.prompt), sends it as X-API-Key with Content-Type: application/json,
// keeps it for the tab, and Stop then works without asking again. A Max RPS above the hard cap is
// started clamped and the card says so.
import { assert, eventually, runTest, screenshotPath, startDemoPage } from './support.mjs';

const KEY = 'projector-key-1';

runTest('dashboard_apikey', async (defer) => {
  const { ts, page, pageErrors } = await startDemoPage(defer, ['--api-key', KEY]);
  page.on('dialog', (d) => {
    pageErrors.push(`a native ${d.type()} dialog opened`);
    d.dismiss();
  });
  const posts = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') posts.push({ url: r.url(), headers: r.headers() });
  });

  await page.goto(`${ts.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.getByLabel('Normal Traffic', { exact: true }).check();
  await page.selectOption('#duration', '30');
  const capped = await page.locator('#max-rps option').evaluateAll((os) => os.map((o) => Number(o.value)).filter((v) => v > 20));
  assert(capped.length > 0, 'Max RPS offers nothing above the hard cap');
  await page.selectOption('#max-rps', String(capped[capped.length - 1]));
  await page.getByLabel('I understand this generates load', { exact: true }).check();
  await page.locator('#start').click();

  await page.waitForSelector('#key-dialog[open]', { timeout: 5000 });
  await page.getByLabel('API key', { exact: true }).fill(KEY);
  await page.getByRole('button', { name: 'Use key' }).click();
  await eventually('the job running', async () => (await page.locator('#live').getAttribute('data-status')) === 'running');
  const message = await page.locator('#card-message').textContent();
  assert(/clamped/i.test(message) && message.includes('20'), `the card does not say the rate was clamped: "${message}"`);
  assert(await page.evaluate(() => sessionStorage.getItem('trafficsim.apiKey')) === KEY, 'the key is not kept in sessionStorage');

  await page.locator('#stop').click();
  await eventually('the job cancelled', async () => (await page.locator('#live').getAttribute('data-status')) === 'cancelled', 10000);
  assert((await page.locator('#key-dialog').getAttribute('open')) === null, 'the key form opened again for Stop');

  const starts = posts.filter((p) => p.url.includes('/traffic/start'));
  const stops = posts.filter((p) => p.url.includes('/traffic/stop/'));
  assert(starts.length === 2, `expected the refused start and its retry, saw ${starts.length} starts`);
  assert(!starts[0].headers['x-api-key'] && starts[1].headers['x-api-key'] === KEY, 'the retry did not carry X-API-Key');
  assert(stops.length === 1 && stops[0].headers['x-api-key'] === KEY, 'Stop did not carry X-API-Key');
  for (const p of posts) {
    assert(p.headers['content-type'] === 'application/json', `a POST to ${p.url} without Content-Type: application/json`);
  }

  await page.screenshot({ path: screenshotPath('dashboard_apikey'), fullPage: true });
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
