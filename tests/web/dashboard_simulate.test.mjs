// The incidents section's Simulate row: one button per incident scenario (GET
// /api/v1/simulator/scenarios); a click on "Latency Spike (Database)" POSTs its start in demo
// mode, the button reads "running…" while the server plays and analyzes it (about 6 s), then the
// new incident opens (#incident=<id>) with its hypotheses (database first) and actions, and the
// list has it as a simulation.
import { assert, eventually, runTest, screenshotPath, startDemoPage } from './support.mjs';

runTest('dashboard_simulate', async (defer) => {
  const { ts, page, pageErrors } = await startDemoPage(defer);
  await page.goto(`${ts.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await eventually('the incidents section', () => page.locator('#incidents').isVisible());

  const buttons = page.locator('#simulate-buttons button[data-scenario]');
  await eventually('the Simulate row with five scenario buttons', async () =>
    (await page.locator('#simulate-row').isVisible()) && (await buttons.count()) === 5);
  const ids = await buttons.evaluateAll((list) => list.map((b) => b.dataset.scenario));
  assert(ids.includes('memory_leak_gradual') && ids.includes('dependency_failure_timeout'),
    `unexpected scenario buttons: ${JSON.stringify(ids)}`);

  const button = page.locator('#simulate-buttons button[data-scenario="latency_spike_database"]');
  const name = await button.textContent();
  assert(name === 'Latency Spike (Database)', `the button reads ${JSON.stringify(name)}`);
  await button.click();
  await eventually('"running…" on the button', async () =>
    (await button.textContent()) === 'running…' && (await button.isDisabled()), 3000, 20);

  const detail = page.locator('#incident-detail');
  const id = await eventually('the new incident named in the hash', () => {
    const m = page.url().match(/#incident=(inc-[0-9a-f]{12})$/);
    return m && m[1];
  }, 30000, 100);
  await eventually('its detail open', async () =>
    (await detail.isVisible()) && (await detail.getAttribute('data-incident')) === id, 10000);
  assert((await detail.locator('h3').textContent()).startsWith('Latency Spike (Database)'),
    `the detail has another title: ${await detail.locator('h3').textContent()}`);
  await eventually('hypotheses, database first', async () =>
    (await detail.locator('.hypotheses > li').count()) > 0 &&
    (await detail.locator('.hypotheses > li').first().getAttribute('data-category')) === 'database', 10000);
  assert((await detail.locator('.incident-actions > li[data-action="create_index"]').count()) === 1,
    'no create_index action in the detail');
  assert((await detail.locator('[data-fact="source"]').textContent()) === 'simulation', 'the source is not "simulation"');
  await eventually('the button back to its name', async () =>
    (await button.textContent()) === name && (await button.isEnabled()), 5000);
  await eventually('the incident in the list', async () =>
    (await page.locator(`#incident-list .incident[data-incident="${id}"]`).count()) === 1, 10000);

  await page.locator('#incidents').scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath('dashboard_simulate'), fullPage: true });
  assert(!pageErrors.length, `errors on the page: ${pageErrors.join('; ')}`);
});
