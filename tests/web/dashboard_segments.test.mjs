// The Metrics page of `serve --segments`: a distributed run's segments listed (up, requests,
// errors) and their sum charted as the source "segments". Two segments are Node servers that
// answer /metrics as `run --segment i/2 --metrics-listen` does, their counters growing each
// scrape; one of them goes away half-way and shows as down with its last counts kept.
import http from 'node:http';
import { rmSync } from 'node:fs';
import { assert, eventually, launchBrowser, paintedPixels, runTest, screenshotPath, startTrafficsim, tempDir } from './support.mjs';

function fakeSegment(index, perScrape) {
  let requests = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    requests += perScrape;
    const l = `segment="${index}",segments="2"`;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      `# TYPE trafficsim_segment_info gauge\ntrafficsim_segment_info{${l}} 1\n` +
      '# TYPE http_requests_total counter\n' +
      `http_requests_total{${l},endpoint="/products",method="GET",status="200",traffic_type="api"} ${requests}\n` +
      `http_requests_total{${l},endpoint="/products",method="GET",status="503",traffic_type="api"} ${index}\n` +
      '# TYPE http_request_duration_seconds histogram\n' +
      `http_request_duration_seconds_bucket{${l},endpoint="/products",method="GET",traffic_type="api",le="0.05"} ${requests / 2}\n` +
      `http_request_duration_seconds_bucket{${l},endpoint="/products",method="GET",traffic_type="api",le="0.1"} ${requests}\n` +
      `http_request_duration_seconds_bucket{${l},endpoint="/products",method="GET",traffic_type="api",le="+Inf"} ${requests}\n` +
      `http_request_duration_seconds_count{${l},endpoint="/products",method="GET",traffic_type="api"} ${requests}\n`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, requests: () => requests })));
}

runTest('dashboard_segments', async (defer) => {
  const a = await fakeSegment(0, 50);
  const b = await fakeSegment(1, 70);
  defer(() => a.server.close());
  let bClosed = false;
  defer(() => !bClosed && b.server.close());
  const dataDir = tempDir();
  defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const ts = await startTrafficsim([
    'serve', '--target', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0', '--no-monitors',
    '--incidents-db', `${dataDir}/incidents.sqlite`,
    '--segments', `127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}/metrics`,
  ]);
  defer(() => ts.stop());
  const browser = await launchBrowser();
  defer(() => browser.close());
  const page = await browser.context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await page.goto(`${ts.url}/#metrics`);
  await page.waitForSelector('#page-metrics:not([hidden])');
  const panel = page.locator('#segments-panel');
  await eventually('both segments up in the panel', async () =>
    (await panel.isVisible()) && (await panel.getAttribute('data-up')) === '2', 15000, 200);
  const rows = page.locator('#segment-rows tr.segment-row');
  assert((await rows.count()) === 2, `${await rows.count()} segment rows`);
  assert((await rows.nth(0).locator('td').first().textContent()) === '0/2', 'the first row is not segment 0/2');
  assert((await rows.nth(1).locator('td').nth(4).textContent()) === '1', 'segment 1 does not show its one 503');

  // The charts: the sum of both segments under the source "segments".
  await eventually('the request-rate chart drawn from the segments', async () => {
    const rate = page.locator('figure[data-chart="request_rate"]');
    if (Number(await rate.getAttribute('data-points')) < 2) return false;
    const legend = await rate.locator('.u-legend').textContent();
    if (!legend.includes('segments · api')) return false;
    const painted = await paintedPixels(page, 'figure[data-chart="request_rate"] canvas');
    return painted.length > 0 && painted[0].painted > 300;
  }, 20000, 250);
  const duration = page.locator('figure[data-chart="request_duration"]');
  await eventually('the request-duration chart', async () => Number(await duration.getAttribute('data-points')) >= 2, 10000, 250);
  await page.screenshot({ path: screenshotPath('dashboard_segments'), fullPage: true });

  // Segment 1 goes away: down, its counts stay in the total.
  const before = Number(await panel.getAttribute('data-requests'));
  b.server.closeIdleConnections?.();
  await new Promise((r) => b.server.close(r));
  bClosed = true;
  const last = b.requests();
  await eventually('segment 1 shown down', async () =>
    (await page.locator('#segment-rows tr.segment-row[data-segment="1"][data-up="false"]').count()) === 1, 15000, 200);
  const after = Number(await panel.getAttribute('data-requests'));
  assert(after >= before, `the total fell from ${before} to ${after} when a segment went away`);
  const answer = await page.evaluate(async () => (await fetch('/api/v1/telemetry/segments')).json());
  assert(answer.segments[1].requests === last + 1, `segment 1 keeps ${answer.segments[1].requests}, its last scrape said ${last + 1}`);
  assert(answer.requests === answer.segments[0].requests + answer.segments[1].requests, 'the total is not the sum of the segments');
  await page.screenshot({ path: screenshotPath('dashboard_segments_down'), fullPage: true });
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
