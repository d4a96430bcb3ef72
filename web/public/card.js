// The Traffic Simulator card (the seed's mockup): scenario radios, Duration, Max RPS (hard
// capped), Endpoints, the consent checkbox that gates Start, and the Start / Stop buttons with
// their loading states. It owns the form only; app.js decides what Start and Stop do.

const $ = (id) => document.getElementById(id);

function durationLabel(seconds) {
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = seconds / 60;
  return Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${seconds} seconds`;
}

function option(value, text, selected) {
  const o = document.createElement('option');
  o.value = String(value);
  o.textContent = text;
  o.selected = selected;
  return o;
}

// The rates offered: a few below the cap, the cap, and two above it so a presenter can show the
// server clamping them.
function rateChoices(cap) {
  const below = [1, 2, 5, 10, 20, 50, 100].filter((r) => r < cap);
  return [...below, cap, cap * 2.5, cap * 5].map((r) => Math.round(r));
}

// One scenario radio with its label, any extra elements (a warning sign, a select) and its
// description as a hint.
function scenarioRow(s, { checked = false, dualMode = false, extra = [] } = {}) {
  const row = document.createElement('div');
  row.className = dualMode ? 'scenario dual-mode' : 'scenario';
  const input = document.createElement('input');
  input.type = 'radio';
  input.name = 'scenario';
  input.id = `scenario-${s.name}`;
  input.value = s.name;
  input.checked = checked;
  if (dualMode) input.dataset.dualMode = 'true';
  const label = document.createElement('label');
  label.htmlFor = input.id;
  label.textContent = s.title;
  row.append(input, label, ...extra);
  if (s.description) {
    const hint = document.createElement('span');
    hint.className = 'hint';
    hint.textContent = s.description;
    row.append(hint);
  }
  return row;
}

export class TrafficCard {
  // handlers: onStart(config), onStop()
  constructor(catalog, handlers) {
    this.catalog = catalog;
    this.handlers = handlers;
    this.active = false; // a job is being watched and still runs
    this.busy = null; // 'start' | 'stop' while a request is in flight
    this.form = $('simulator-form');
    this.consent = $('consent');
    this.startButton = $('start');
    this.stopButton = $('stop');
    this.message = $('card-message');
    this.render();
    this.consent.addEventListener('change', () => this.refreshButtons());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.startButton.disabled) this.handlers.onStart(this.config());
    });
    this.stopButton.addEventListener('click', () => {
      if (!this.stopButton.disabled) this.handlers.onStop();
    });
    this.refreshButtons();
  }

  render() {
    const { scenarios = [], durations = [], endpoints = [], defaults = {}, hardCap } = this.catalog;
    const list = $('scenario-list');
    list.replaceChildren();
    scenarios.filter((s) => s.card).forEach((s, i) => {
      const extra = [];
      if (s.name === 'stress') {
        const warn = document.createElement('span');
        warn.className = 'warn';
        warn.textContent = '⚠';
        warn.title = 'Sustained load at the cap';
        warn.setAttribute('aria-hidden', 'true');
        extra.push(warn);
      }
      list.append(scenarioRow(s, { checked: i === 0, extra }));
    });
    // Beyond the seed's five: the dual-mode story (Black Friday), with its demo clock's speed.
    // It runs the story's length (30 demo minutes / time scale) at its own rates, so Duration,
    // Max RPS and Endpoints do not apply to it.
    scenarios.filter((s) => s.dualMode).forEach((s) => {
      const scale = document.createElement('select');
      scale.id = 'time-scale';
      scale.setAttribute('aria-label', 'Time scale (demo minutes per minute)');
      for (const x of [1, 10, 30, 60]) {
        scale.append(option(x, x === 1 ? 'real time (30 min)' : `${x}× (${Math.round(1800 / x)} s)`, x === 10));
      }
      list.append(scenarioRow(s, { dualMode: true, extra: [scale] }));
    });
    list.addEventListener('change', () => this.refreshButtons());

    const duration = $('duration');
    duration.replaceChildren(...durations.map((d) => option(d, durationLabel(d), d === defaults.duration)));

    const maxRps = $('max-rps');
    const cap = hardCap ?? defaults.maxRps ?? 20;
    maxRps.replaceChildren(
      ...rateChoices(cap).map((r) => option(r, r > cap ? `${r} (capped to ${cap})` : String(r), r === (defaults.maxRps ?? cap))),
    );
    $('cap-note').textContent = `(hard capped at ${cap} req/s)`;

    const ep = $('endpoints');
    const defaultEndpoints = Array.isArray(defaults.endpoints) ? defaults.endpoints[0] : defaults.endpoints || 'all';
    ep.replaceChildren(...endpoints.map((e) => option(e, e === 'all' ? 'All' : e[0].toUpperCase() + e.slice(1), e === defaultEndpoints)));
  }

  dualModeChosen() {
    return this.form.querySelector('input[name="scenario"]:checked')?.dataset.dualMode === 'true';
  }

  config() {
    const scenario = this.form.querySelector('input[name="scenario"]:checked')?.value;
    if (this.dualModeChosen()) return { scenario, timeScale: Number($('time-scale').value) };
    const endpoint = $('endpoints').value || 'all';
    return {
      scenario,
      duration: Number($('duration').value),
      maxRps: Number($('max-rps').value),
      endpoints: endpoint === 'all' ? 'all' : [endpoint],
    };
  }

  // Shows a watched job's settings in the form (a reloaded page shows what is running), when the
  // job is one the card could have started.
  showConfig(job) {
    const radio = document.getElementById(`scenario-${job.scenario}`);
    if (!radio) return;
    radio.checked = true;
    const pick = (select, value) => {
      if ([...select.options].some((o) => o.value === String(value))) select.value = String(value);
    };
    pick($('duration'), job.duration);
    pick($('max-rps'), job.maxRps);
    const endpoints = Array.isArray(job.endpoints) ? job.endpoints : [job.endpoints];
    if (endpoints.length === 1) pick($('endpoints'), endpoints[0]);
  }

  setActive(active) {
    this.active = active;
    this.refreshButtons();
  }

  setBusy(what) {
    this.busy = what;
    this.refreshButtons();
  }

  refreshButtons() {
    const canStart = this.consent.checked && !this.active && !this.busy && !!this.form.querySelector('input[name="scenario"]:checked');
    this.startButton.disabled = !canStart;
    this.startButton.textContent = this.busy === 'start' ? 'Starting…' : 'Start test';
    this.startButton.setAttribute('aria-busy', String(this.busy === 'start'));
    this.stopButton.disabled = !this.active || !!this.busy;
    this.stopButton.textContent = this.busy === 'stop' ? 'Stopping…' : 'Stop';
    this.stopButton.setAttribute('aria-busy', String(this.busy === 'stop'));
    const locked = this.active || this.busy === 'start';
    for (const el of this.form.querySelectorAll('fieldset input, select')) el.disabled = locked;
    // The dual-mode story has its own length and rates.
    if (this.dualModeChosen()) for (const id of ['duration', 'max-rps', 'endpoints']) $(id).disabled = true;
  }

  // kind: 'info' | 'warn' | 'error'; an empty text hides the message.
  say(text, kind = 'info') {
    this.message.hidden = !text;
    this.message.textContent = text || '';
    this.message.dataset.kind = kind;
  }
}
