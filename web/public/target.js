// The built-in target's panel: the LLM route's p95, error rate and tokens per request from the
// target's own metrics (GET /traffic/target), polled every 2 s; hidden when the server drives an
// external target (builtin false) or cannot say.
import { api } from './api.js';

const POLL_MS = 2000;

export function watchTarget(root) {
  const set = (key, text) => (root.querySelector(`[data-target="${key}"]`).textContent = text);
  let timer = null;
  async function poll() {
    try {
      const target = await api.target();
      root.hidden = !target.builtin;
      if (target.builtin && target.llm) {
        const { p95Ms, errorRate, tokensPerRequest, requests } = target.llm;
        set('p95Ms', p95Ms == null ? '–' : `${Math.round(p95Ms)} ms`);
        set('errorRate', errorRate == null ? '–' : `${(errorRate * 100).toFixed(1)} %`);
        set('tokensPerRequest', tokensPerRequest == null ? '–' : tokensPerRequest.toFixed(0));
        set('requests', requests == null ? '–' : String(requests));
      }
      if (!target.builtin) return; // nothing will change under `serve`
    } catch {
      root.hidden = true;
    }
    timer = setTimeout(poll, POLL_MS);
  }
  poll();
  return () => clearTimeout(timer);
}
