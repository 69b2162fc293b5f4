// A VM's screen: noVNC's RFB client from Debian's novnc package, over this
// site's console proxy (static/js/console.js has the ticket and the rest).
import RFB from '/lib/novnc/core/rfb.js';
import * as con from './console.js';

const screen = document.getElementById('vnc-screen');
const scale = document.getElementById('vnc-scale');
const cad = document.getElementById('vnc-cad');
const keys = document.getElementById('vnc-keys');
const pasteForm = document.getElementById('vnc-paste');
const pasteText = document.getElementById('vnc-paste-text');
const pasteSend = document.getElementById('vnc-paste-send');
let rfb = null;

// X keysyms, and the keys (KeyboardEvent.code) they are on, so that
// noVNC can send the key itself where the VM's screen takes that.
const XK = {
  Control_L: 0xffe3, Alt_L: 0xffe9, Shift_L: 0xffe1, Super_L: 0xffeb, Tab: 0xff09,
  Escape: 0xff1b, BackSpace: 0xff08, Print: 0xff61, Return: 0xff0d, F1: 0xffbe,
};
const CODE = {
  [XK.Control_L]: 'ControlLeft', [XK.Alt_L]: 'AltLeft', [XK.Shift_L]: 'ShiftLeft',
  [XK.Super_L]: 'MetaLeft', [XK.Tab]: 'Tab', [XK.Escape]: 'Escape',
  [XK.BackSpace]: 'Backspace', [XK.Print]: 'PrintScreen', [XK.Return]: 'Enter',
};
const COMBOS = {
  'ctrl-alt-f1': [XK.Control_L, XK.Alt_L, XK.F1],
  'ctrl-alt-f2': [XK.Control_L, XK.Alt_L, XK.F1 + 1],
  'ctrl-alt-f7': [XK.Control_L, XK.Alt_L, XK.F1 + 6],
  'ctrl-alt-backspace': [XK.Control_L, XK.Alt_L, XK.BackSpace],
  'alt-tab': [XK.Alt_L, XK.Tab],
  'alt-f4': [XK.Alt_L, XK.F1 + 3],
  'ctrl-esc': [XK.Control_L, XK.Escape],
  escape: [XK.Escape],
  print: [XK.Print],
  super: [XK.Super_L],
};

function codeOf(keysym) {
  if (CODE[keysym]) return CODE[keysym];
  if (keysym >= XK.F1 && keysym < XK.F1 + 12) return `F${keysym - XK.F1 + 1}`;
  return null;
}

// Press the keys in order, release them in reverse.
function sendCombo(list) {
  for (const k of list) rfb.sendKey(k, codeOf(k), true);
  for (const k of [...list].reverse()) rfb.sendKey(k, codeOf(k), false);
}

// Type text into the guest as key presses (a US layout's Shift where a
// character needs it): what paste is without a guest agent.
const SHIFTED = '~!@#$%^&*()_+{}|:"<>?';
function typeText(text) {
  for (const ch of text.replace(/\r\n?/g, '\n')) {
    const cp = ch.codePointAt(0);
    if (cp < 0x20 && ch !== '\n' && ch !== '\t') continue;
    let keysym = cp < 0x100 ? cp : 0x01000000 | cp;
    if (ch === '\n') keysym = XK.Return;
    if (ch === '\t') keysym = XK.Tab;
    const shift = (ch >= 'A' && ch <= 'Z') || SHIFTED.includes(ch);
    if (shift) rfb.sendKey(XK.Shift_L, 'ShiftLeft', true);
    rfb.sendKey(keysym, null);
    if (shift) rfb.sendKey(XK.Shift_L, 'ShiftLeft', false);
  }
}

function enable(on) {
  cad.disabled = !on;
  keys.disabled = !on;
  pasteSend.disabled = !on;
}

async function connect() {
  const url = await con.connectUrl();
  if (!url) return;
  rfb = new RFB(screen, url, { wsProtocols: ['binary'] });
  rfb.scaleViewport = scale.checked;
  rfb.addEventListener('connect', () => {
    con.status('Connected', 'success');
    enable(true);
    rfb.focus();
  });
  rfb.addEventListener('disconnect', (e) => {
    enable(false);
    rfb = null;
    con.status(e.detail.clean ? 'The console closed: the VM stopped, or the console was taken away.'
      : 'The connection to the console was lost.', 'warning');
    con.offerReconnect();
  });
  rfb.addEventListener('securityfailure', (e) => con.status(`Refused: ${e.detail.reason || 'security'}`, 'danger'));
}

scale.addEventListener('change', () => {
  if (rfb) rfb.scaleViewport = scale.checked;
});
cad.addEventListener('click', () => {
  if (rfb) {
    rfb.sendCtrlAltDel();
    rfb.focus();
  }
});
keys.addEventListener('change', () => {
  const list = COMBOS[keys.value];
  keys.value = '';
  if (rfb && list) {
    sendCombo(list);
    rfb.focus();
  }
});
pasteForm.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!rfb || !pasteText.value) return;
  typeText(pasteText.value);
  pasteText.value = '';
  rfb.focus();
});
con.onReconnect(connect);
con.windowButtons(screen, () => {
  if (rfb) rfb.disconnect();
});
connect();
