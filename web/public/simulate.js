// The incidents section's "Simulate" row (seed 004's one-click scenario buttons; docs/dashboard.md):
// one button per incident scenario from GET /api/v1/simulator/scenarios. A click POSTs
// /api/v1/simulator/scenarios/{id}/start in demo mode ({auto_analyze: true, execution_mode:
// "demo"}, answered in about 6 s once played and analyzed; postJson asks for the key on 401); the
// button reads "running…" meanwhile, then the new incident opens through the hash
// (#incident=<id>, which incidents.js follows). Hidden when the server has no simulator (404).
import { getJson, postJson } from './api.js';

const startPath = (id) => `/api/v1/simulator/scenarios/${encodeURIComponent(id)}/start`;

export function watchSimulator(root) {
  const row = root.querySelector('#simulate-row');
  const buttons = root.querySelector('#simulate-buttons');
  const message = root.querySelector('#incident-message');
  const running = new Set(); // scenario ids with a start in flight

  function say(text, kind) {
    message.hidden = !text;
    message.textContent = text || '';
    if (kind) message.dataset.kind = kind;
    else delete message.dataset.kind;
  }

  async function simulate(scenario, button) {
    if (running.has(scenario.id)) return;
    running.add(scenario.id);
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    button.textContent = 'running…';
    say(`Simulating ${scenario.name}: playing the scenario and analyzing it (a few seconds)…`);
    try {
      const sim = await postJson(startPath(scenario.id), { auto_analyze: true, execution_mode: 'demo' });
      if (!sim?.incident_id) throw new Error('the answer names no incident');
      const found = sim.hypotheses_count === 1 ? '1 hypothesis' : `${sim.hypotheses_count ?? 0} hypotheses`;
      say(`${scenario.name}: incident ${sim.incident_id} ${sim.status || 'started'} with ${found}.`);
      location.hash = `#incident=${encodeURIComponent(sim.incident_id)}`;
    } catch (error) {
      say(`Could not simulate ${scenario.name}: ${error.message}`, 'error');
    } finally {
      running.delete(scenario.id);
      button.disabled = false;
      button.removeAttribute('aria-busy');
      button.textContent = scenario.name;
    }
  }

  function render(scenarios) {
    buttons.replaceChildren(
      ...scenarios.map((s) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'simulate-button';
        b.dataset.scenario = s.id;
        b.dataset.severity = s.severity || '';
        b.textContent = s.name || s.id;
        b.title = `${s.description || s.id} (${s.service}, ${s.severity}, ${s.difficulty})`;
        b.addEventListener('click', () => simulate(s, b));
        return b;
      }),
    );
    row.hidden = !scenarios.length;
  }

  async function load(attempt = 0) {
    try {
      const answer = await getJson('/api/v1/simulator/scenarios');
      render(Array.isArray(answer) ? answer : []);
    } catch (error) {
      if (error.status === 404) {
        row.hidden = true; // no simulator on this server
        return;
      }
      if (attempt < 5) setTimeout(() => load(attempt + 1), 2000 * (attempt + 1));
    }
  }

  load();
}
