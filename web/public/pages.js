// The page navigation (the top bar's links): the URL hash names the page — #traces (and
// #trace=<id>, one trace open), #logs, #metrics — and anything else (none, #incidents,
// #incident=<id>) is the overview. Each page's module is told when it is shown (with the hash's
// argument) and hidden, so it polls only while on screen.

export function pageOf(hash) {
  const h = decodeURIComponent((hash || '').replace(/^#/, ''));
  if (h === 'traces') return { page: 'traces', arg: null };
  if (h.startsWith('trace=')) return { page: 'traces', arg: h.slice('trace='.length) };
  if (h === 'logs') return { page: 'logs', arg: null };
  if (h === 'metrics') return { page: 'metrics', arg: null };
  return { page: 'overview', arg: null };
}

// handlers: {traces: {show(arg), hide()}, logs: ..., metrics: ...}
export function watchPages(handlers) {
  let current = null;
  function follow() {
    const { page, arg } = pageOf(location.hash);
    for (const main of document.querySelectorAll('main.page')) main.hidden = main.dataset.page !== page;
    for (const a of document.querySelectorAll('#page-nav a')) {
      if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (current && current !== page) handlers[current]?.hide();
    current = page;
    handlers[page]?.show(arg);
    document.body.dataset.page = page;
  }
  window.addEventListener('hashchange', follow);
  follow();
}
