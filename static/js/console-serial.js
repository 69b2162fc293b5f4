// A VM's serial console: xterm.js (npm's @xterm/xterm, served by nginx)
// over this site's console proxy; bytes both ways, as binary messages.
import * as con from './console.js';

const box = document.getElementById('serial-terminal');

// xterm.js styles itself with <style> elements it makes: each gets this
// answer's nonce, which the page's Content-Security-Policy allows (and
// nothing else inline).
const nonce = con.root.dataset.styleNonce;
const createElement = document.createElement.bind(document);
document.createElement = (tag, options) => {
  const el = createElement(tag, options);
  if (nonce && String(tag).toLowerCase() === 'style') el.nonce = nonce;
  return el;
};

const FONT = { family: 'monospace', size: 14 };
const term = new window.Terminal({ cursorBlink: true, scrollback: 5000, fontSize: FONT.size, fontFamily: FONT.family });
const encoder = new TextEncoder();
let sock = null;

// As many columns and rows as the box holds (a phone's too), by the
// size of a character of the terminal's font.
function fit() {
  const probe = document.createElement('span');
  probe.textContent = 'W'.repeat(50);
  probe.style.font = `${FONT.size}px ${FONT.family}`;
  probe.style.position = 'absolute';
  probe.style.visibility = 'hidden';
  document.body.appendChild(probe);
  const cell = probe.getBoundingClientRect();
  probe.remove();
  const cols = Math.max(20, Math.floor((box.clientWidth - 8) / (cell.width / 50)));
  const rows = Math.max(5, Math.floor((box.clientHeight - 8) / Math.ceil(cell.height)));
  if (cols !== term.cols || rows !== term.rows) term.resize(cols, rows);
}

term.open(box);
fit();
window.addEventListener('resize', fit);
term.onData((data) => {
  if (sock && sock.readyState === WebSocket.OPEN) sock.send(encoder.encode(data));
});

async function connect() {
  const url = await con.connectUrl();
  if (!url) return;
  sock = new WebSocket(url, ['binary']);
  sock.binaryType = 'arraybuffer';
  sock.addEventListener('open', () => {
    con.status('Connected', 'success');
    term.focus();
  });
  sock.addEventListener('message', (ev) => term.write(new Uint8Array(ev.data)));
  sock.addEventListener('close', (ev) => {
    sock = null;
    con.status(con.closedText(ev.code, ev.reason), 'warning');
    con.offerReconnect();
  });
}

con.onReconnect(connect);
con.windowButtons(box, () => {
  if (sock) sock.close(1000);
});
connect();
