// One job's Server-Sent Events stream (GET /traffic/stream/{jobId}): `stats` events every 500 ms,
// one `final` event, then the server ends the stream.
//
// Reconnection: while the EventSource is CONNECTING the browser reconnects by itself and sends
// Last-Event-ID, so only newer events arrive. When it gives up (CLOSED, e.g. the server answered
// an error), we ask for the job's status and open a fresh stream; a fresh stream replays the job's
// history from the start, so every event whose id is not above the last one seen is dropped here
// and the charts never draw a point twice.
import { api, isActive } from './api.js';

export class JobStream {
  // handlers: onStats(stats, id), onFinal(jobState), onGone(), onConnection('open'|'reconnecting')
  constructor(jobId, handlers) {
    this.jobId = jobId;
    this.handlers = handlers;
    this.lastId = -1;
    this.source = null;
    this.closed = false;
    this.retryTimer = null;
    this.failures = 0;
  }

  open() {
    if (this.closed) return;
    const source = new EventSource(api.streamUrl(this.jobId));
    this.source = source;
    source.addEventListener('open', () => {
      this.failures = 0;
      this.handlers.onConnection?.('open');
    });
    source.addEventListener('stats', (event) => {
      const id = Number(event.lastEventId);
      if (Number.isFinite(id)) {
        if (id <= this.lastId) return;
        this.lastId = id;
      }
      this.handlers.onStats?.(JSON.parse(event.data), id);
    });
    source.addEventListener('final', (event) => {
      this.close();
      this.handlers.onFinal?.(JSON.parse(event.data));
    });
    source.addEventListener('error', () => {
      if (this.closed) return;
      this.handlers.onConnection?.('reconnecting');
      if (source.readyState === EventSource.CLOSED) this.recover();
    });
  }

  // The browser stopped retrying: find out whether the job still runs, then reopen or finish.
  recover() {
    this.source = null;
    const delayMs = Math.min(1000 * 2 ** this.failures, 8000);
    this.failures += 1;
    this.retryTimer = setTimeout(async () => {
      if (this.closed) return;
      try {
        const state = await api.status(this.jobId);
        if (isActive(state.status)) {
          this.open();
        } else {
          this.close();
          this.handlers.onFinal?.(state);
        }
      } catch (error) {
        if (error.status === 404) {
          this.close();
          this.handlers.onGone?.();
        } else {
          this.recover();
        }
      }
    }, delayMs);
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }
}
