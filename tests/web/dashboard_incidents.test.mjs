// The incidents section: `demo --time-scale 12`, a latency-injection job started over the API; the
// latency monitor's ALERT opens an incident, which the page lists as open; its detail (opened by
// a click, and again from the #incident=<id> hash after a reload) shows the alert and "opened" timeline
// entry and the monitor's metric as evidence; Acknowledge and Resolve move it on, in the detail
// and in the list.
import { assert, eventually, runTest, screenshotPath, startDemoPage } from './support.mjs';

runTest('dashboard_incidents', async (defer) => {
  const { ts, page, pageErrors } = await startDemoPage(defer, ['--time-scale', '12']);
  await page.goto(`${ts.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await eventually('the incidents section', () => page.locator('#incidents').isVisible());

  const started = await page.evaluate(async () => {
    const r = await fetch('/traffic/start', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ scenario: 'latency_injection', maxRps: 20, duration: 30 }),
    });
    return r.status;
  });
  assert(started === 202, `start answered ${started}`);

  const openRow = page.locator('#incident-list .incident[data-status="open"]', { hasText: 'LLM latency spike' });
  await eventually('an open "LLM latency spike" incident in the list', async () => (await openRow.count()) === 1, 25000, 200);
  const id = await openRow.getAttribute('data-incident');
  assert(/^inc-[0-9a-f]{12}$/.test(id), `unexpected incident id ${id}`);
  const row = page.locator(`#incident-list .incident[data-incident="${id}"]`);
  const detail = page.locator('#incident-detail');

  // The detail, by a click; the hash names the incident.
  await row.locator('button').click();
  await eventually('the detail', async () => (await detail.isVisible()) && (await detail.getAttribute('data-incident')) === id);
  assert((await detail.locator('h3').textContent()) === 'LLM latency spike', 'the detail has another title');
  assert(page.url().endsWith(`#incident=${id}`), `the hash does not name the incident: ${page.url()}`);

  // A reload on #incident=<id> opens it again.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await eventually('the detail from the hash', async () => (await detail.getAttribute('data-incident')) === id && detail.isVisible());

  const kinds = await detail.locator('.incident-timeline li .timeline-kind').allTextContents();
  // Oldest first: the monitor's alert, then the incident it opened.
  assert(kinds.length >= 2 && kinds[0] === 'alert' && kinds[1] === 'opened',
    `the timeline does not start with the alert and then "opened": ${JSON.stringify(kinds)}`);
  const metric = detail.locator('.evidence-table tr[data-metric="llm_latency_spike"]');
  assert((await metric.count()) === 1, 'the evidence table has no llm_latency_spike row');
  const value = Number((await metric.locator('td').nth(1).textContent()).replace(/,/g, ''));
  assert(value > 0, `the metric's value is not shown: ${await metric.textContent()}`);

  const button = (name) => detail.locator(`button[data-action="${name}"]`);
  assert(await button('acknowledge').isEnabled(), 'Acknowledge is disabled on an open incident');
  await button('acknowledge').click();
  await eventually('acknowledged in the detail', async () => (await detail.getAttribute('data-status')) === 'acknowledged');
  await eventually('acknowledged in the list', async () => (await row.getAttribute('data-status')) === 'acknowledged');
  assert(await button('acknowledge').isDisabled(), 'Acknowledge is still enabled once acknowledged');
  await eventually('an "acknowledged" timeline entry', async () =>
    (await detail.locator('.incident-timeline li[data-kind="acknowledged"]').count()) === 1);

  await eventually('Resolve enabled', () => button('resolve').isEnabled());
  await button('resolve').click();
  await eventually('resolved in the detail', async () => (await detail.getAttribute('data-status')) === 'resolved');
  await eventually('resolved in the list', async () => (await row.getAttribute('data-status')) === 'resolved');
  assert(await button('resolve').isDisabled(), 'Resolve is still enabled once resolved');
  const resolvedAt = await detail.locator('[data-fact="resolved"]').textContent();
  assert(resolvedAt && resolvedAt !== '–', 'no resolved time shown');

  const stored = await page.evaluate(async (incident) => (await (await fetch(`/api/v1/incidents/${incident}`)).json()).status, id);
  assert(stored === 'resolved', `the server says ${stored}`);

  await page.locator('#incidents').scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath('dashboard_incidents'), fullPage: true });
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
