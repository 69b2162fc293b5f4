// What both console pages share (templates/console.mustache): the ticket
// each connection needs, fetched with a POST that carries the page's CSRF
// token; the websocket's address, which is always this site's
// /websockify; the status line, Reconnect, full screen and pop-out.
export const root = document.getElementById('console');
export const vm = root.dataset.vm;
export const kind = root.dataset.kind;
const statusEl = document.getElementById('console-status');
const reconnectBtn = document.getElementById('console-reconnect');

export function status(text, tone) {
  statusEl.textContent = text;
  statusEl.className = `badge bg-${tone || 'secondary'}`;
  root.dataset.state = tone || 'secondary';
}

// A fresh ticket (it opens one connection, within 30 s) as the websocket's URL.
export async function ticketUrl() {
  const body = new URLSearchParams({ csrf: root.dataset.csrf });
  const res = await fetch(`/instance/${encodeURIComponent(vm)}/console/${kind}/ticket.json`,
    { method: 'POST', body, credentials: 'same-origin' });
  let answer = {};
  try {
    answer = await res.json();
  } catch (e) {
    // not JSON: an error page of nginx's own
  }
  if (res.status === 401) throw new Error('Your session has ended: log in again.');
  if (!res.ok || !answer.ticket) throw new Error(answer.error || `The console could not be opened (${res.status}).`);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/websockify?ticket=${encodeURIComponent(answer.ticket)}`;
}

// The websocket's URL with a fresh ticket, or null when none was given
// (the status line says why, and Reconnect is offered).
export async function connectUrl() {
  status('Connecting…');
  try {
    return await ticketUrl();
  } catch (e) {
    status(e.message, 'danger');
    offerReconnect();
    return null;
  }
}

// Why a websocket closed, in words, from its close code and reason.
export function closedText(code, reason) {
  if (code === 1008) return `Closed: ${reason || 'no longer allowed'}.`;
  if (code === 1000) return 'The console closed: the VM stopped or its console ended.';
  if (code === 1001) return `Closed: ${reason || 'going away'}.`;
  return 'The connection to the console was lost.';
}

export function offerReconnect() {
  reconnectBtn.hidden = false;
}

export function onReconnect(fn) {
  reconnectBtn.addEventListener('click', () => {
    reconnectBtn.hidden = true;
    fn();
  });
}

// Full screen for target; Pop out opens this page in a window of its own
// (with a ticket of its own) and calls detach here.
export function windowButtons(target, detach) {
  document.getElementById('console-fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else target.requestFullscreen().catch(() => {});
  });
  document.getElementById('console-popout').addEventListener('click', () => {
    const w = window.open(location.pathname, `console-${kind}-${vm}`, 'popup,width=1060,height=840');
    if (!w) return;
    detach();
    status('Opened in its own window', 'secondary');
    offerReconnect();
  });
}
