// The Traces, Logs and Metrics pages on a compressed Black Friday (time scale 60): the Traces
// page filtered to traffic.type=demo lists only demo traces; one opens as a waterfall of its
// spans (the recommendations call and its SELECT, whose attributes show the full table scan);
// "Baseline vs demo" puts the indexed baseline query beside the demo's scan; a trace id on the
// Logs page opens that trace; the Metrics page draws its charts. Screenshots of each page.
import { assert, eventually, paintedPixels, runTest, screenshotPath, startDemoPage } from './support.mjs';

runTest('dashboard_traces', async (defer) => {
  const { ts, page, pageErrors } = await startDemoPage(defer, ['--scenario', 'blackfriday', '--time-scale', '60']);
  await page.goto(`${ts.url}/#traces`);
  await page.waitForSelector('body[data-ready="true"]');
  assert(await page.locator('#page-traces').isVisible(), 'the Traces page is not shown for #traces');
  assert(await page.locator('#page-overview').isHidden(), 'the overview stays on screen on the Traces page');

  // Filter by traffic.type = demo: every row is a demo trace.
  await page.selectOption('#trace-traffic-type', 'demo');
  const rows = page.locator('#trace-rows tr.trace-row');
  await eventually('demo traces in the table, and only demo traces', async () => {
    const types = await rows.evaluateAll((list) => list.map((r) => r.dataset.trafficType));
    return types.length > 0 && types.every((t) => t === 'demo');
  }, 20000, 200);

  // A recommendations trace (with its database span) opens as a waterfall.
  await page.fill('#trace-route', '/products/recommendations');
  await eventually('a recommendations trace with its query span', async () => {
    const counts = await rows.evaluateAll((list) => list.map((r) => Number(r.children[6].textContent)));
    return counts.some((n) => n >= 2);
  }, 15000, 200);
  const row = page.locator('#trace-rows tr.trace-row').filter({ has: page.locator('td.num:text-matches("^[2-9]$")') }).first();
  const traceId = await row.getAttribute('data-trace-id');
  await row.locator('a.trace-open').click();
  await page.waitForSelector(`#trace-detail[data-trace-id="${traceId}"][data-loaded="true"]`);
  const spans = page.locator('#trace-detail .waterfall .wf-row:not(.wf-axis)');
  assert((await spans.count()) >= 2, `the waterfall shows ${await spans.count()} spans`);
  const root = await spans.first().getAttribute('data-name');
  assert(root === 'GET /products/recommendations', `the waterfall starts at ${root}`);
  const select = page.locator('#trace-detail .wf-row[data-name="SELECT ecommerce.products"]');
  assert((await select.count()) === 1, 'the waterfall has no SELECT span');
  assert(Number(await select.getAttribute('data-depth')) === 1, 'the SELECT is not the request\'s child');
  await select.click();
  const attrs = page.locator('#trace-detail .wf-attrs');
  await eventually('the SELECT span\'s attributes', async () => (await attrs.isVisible()) && (await attrs.textContent()).includes('db.full_table_scan'));
  assert((await attrs.textContent()).includes('db.query.text'), 'the query text is not among the attributes');
  assert((await select.locator('.wf-tag.bad').allTextContents()).includes('full table scan'), 'the SELECT is not tagged as a full table scan');
  await page.locator('#trace-detail').screenshot({ path: screenshotPath('dashboard_traces_waterfall') });

  // The smoking gun: the newest baseline trace beside the newest demo trace.
  await page.fill('#trace-route', '');
  await page.locator('#trace-compare').click();
  const baseline = page.locator('#compare-grid .compare-side[data-type="baseline"][data-trace-id]');
  const demo = page.locator('#compare-grid .compare-side[data-type="demo"][data-trace-id]');
  await eventually('baseline and demo traces side by side', async () => (await baseline.count()) === 1 && (await demo.count()) === 1);
  assert((await baseline.locator('.compare-db').textContent()).includes('idx_products_category_active'), 'the baseline side does not show its index');
  assert((await demo.locator('.compare-db').textContent()).includes('full table scan'), 'the demo side does not show the full table scan');
  await page.screenshot({ path: screenshotPath('dashboard_traces'), fullPage: true });

  // Logs: the live tail; a trace id opens that trace on the Traces page.
  await page.locator('#page-nav a[data-page="logs"]').click();
  await page.waitForSelector('#page-logs:not([hidden])');
  const link = page.locator('#log-rows a.trace-link').first();
  await link.waitFor({ timeout: 15000 });
  await page.selectOption('#log-level', 'info');
  await link.waitFor({ timeout: 15000 });
  await page.screenshot({ path: screenshotPath('dashboard_logs') });
  const logged = await link.getAttribute('data-trace-id');
  await link.click();
  await page.waitForSelector('#page-traces:not([hidden])');
  await eventually(`trace ${logged} open from the log`, async () =>
    (await page.locator(`#trace-detail[data-trace-id="${logged}"]`).count()) === 1 &&
    (await page.locator('#trace-detail').getAttribute('data-loaded')) === 'true');
  assert((await page.locator('#trace-detail .waterfall .wf-row:not(.wf-axis)').count()) >= 1, 'the logged trace has no spans');

  // Metrics: the charts draw from the second sample on.
  await page.locator('#page-nav a[data-page="metrics"]').click();
  await page.waitForSelector('#page-metrics:not([hidden])');
  await eventually('the request-rate and query-time charts drawn', async () => {
    const rate = page.locator('figure[data-chart="request_rate"]');
    const query = page.locator('figure[data-chart="query_time"]');
    if (Number(await rate.getAttribute('data-points')) < 2 || Number(await query.getAttribute('data-points')) < 1) return false;
    const painted = await paintedPixels(page, 'figure[data-chart="request_rate"] canvas');
    return painted.length > 0 && painted[0].painted > 500;
  }, 15000, 250);
  await page.screenshot({ path: screenshotPath('dashboard_metrics'), fullPage: true });
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
