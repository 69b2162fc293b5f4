// A VM's whole life through the portal's pages in Debian's chromium, on a
// guest that really runs: log in, create a VM from a flavor and start it,
// watch the list follow its state without a reload when it is shut down
// from elsewhere, start it and force it off with the list's buttons,
// delete it with its disk; then a guest's screen and serial console
// (consoles() below), and two users at once on the consoles of two VMs
// (twoUsers()). Fails on any console error, failed request or
// CSP violation, and keeps a screenshot of each step.
//
//   node live.mjs URL PASSWORD SHARE SCREENSHOT-DIR
//
// SHARE is where the portal's side (tests/browser/live-portal.sh) takes
// vmmctl commands: ask.N, answered by done.N.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './launch.mjs';

const [url, password, share, shots] = process.argv.slice(2);
const vm = 'live1';
const problems = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { page, close } = await launch('live');
page.setDefaultTimeout(90000);
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`); });
page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
// A poll cut short by a button's navigation is aborted, not failed.
page.on('requestfailed', (r) => {
  if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
});
// A poll of a VM's state that crosses its delete finds no VM: that 404 is the answer.
page.on('response', (r) => {
  if (r.status() === 404 && r.request().headers()['x-requested-with'] === 'poll' && r.url().endsWith('/state.json')) return;
  if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
});
await page.exposeFunction('reportViolation', (v) => problems.push(`CSP violation: ${v}`));
await page.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => {
    window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
  });
});
// Destructive buttons ask first: yes.
page.on('dialog', (d) => d.accept());
// Every navigation of the top frame, to tell a reload from a live update.
let navigations = 0;
page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

// vmmctl COMMAND on the portal's side: { status, text }. Each file goes
// across whole (written aside, then renamed).
let asked = 0;
async function vmmctl(command) {
  asked++;
  writeFileSync(join(share, `ask.${asked}.tmp`), command);
  renameSync(join(share, `ask.${asked}.tmp`), join(share, `ask.${asked}`));
  for (let i = 0; i < 1200; i++) {
    if (existsSync(join(share, `done.${asked}`))) {
      const [status, ...text] = readFileSync(join(share, `done.${asked}`), 'utf8').split('\n');
      return { status: status.trim(), text: text.join(' ') };
    }
    await sleep(100);
  }
  throw new Error(`vmmctl ${command} got no answer`);
}

const rowState = () => page.textContent(`.vm-row[data-vm="${vm}"] .vm-state`);
async function waitRowState(want, what) {
  await page.waitForFunction(([name, state]) => {
    const b = document.querySelector(`.vm-row[data-vm="${name}"] .vm-state`);
    return b && b.textContent.trim() === state;
  }, [vm, want], { timeout: 90000 }).catch(async () => {
    throw new Error(`${what}: the list shows '${await rowState().catch(() => '?')}', not '${want}'`);
  });
}
const flash = () => page.textContent('.alert').catch(() => '');

// Watch a page as the first one is watched: console errors, failed
// requests, answers of 400 and more (but for a 403 that this page's test
// asks for: refusals, URLs), CSP violations.
async function watchPage(p, refusals = new Set()) {
  p.setDefaultTimeout(90000);
  p.on('console', (m) => {
    if (m.type() === 'error' && !refusals.has(m.location().url)) problems.push(`console (${p.url()}): ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`script error (${p.url()}): ${e.message}`));
  p.on('response', (r) => {
    if (r.status() >= 400 && !(r.status() === 403 && refusals.has(r.url()))) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await p.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

// The fb guest's pattern (tests/guests/testguest.c), as the canvas shows it.
function patternAt(x, y) {
  return [((x * 3 + y * 5) & 0xff), ((x ^ y) & 0xff), (((x + y * 7) >> 2) & 0xff)];
}

// createVm NAME CMDLINE [SHOT]: from the flavor "small", its disk a new
// volume of pool p, the test guest as its kernel, started at once (as the
// admin, on the create page; SHOT: a screenshot of the filled form).
async function createVm(name, cmdline, shot) {
  await page.goto(url + '/create');
  await page.fill('#c-name', name);
  await page.selectOption('#c-flavor', { label: await page.$eval('#c-flavor option', () =>
    [...document.querySelectorAll('#c-flavor option')].find((o) => o.textContent.startsWith('small:')).textContent) });
  await page.selectOption('#c-pool', 'p');
  await page.selectOption('#c-kernel', 'p/guest.bzImage');
  await page.fill('#c-cmdline', cmdline);
  await page.check('#c-start');
  if (shot) await page.screenshot({ path: join(shots, shot), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  if (!page.url().endsWith(`/instance/${name}`)) throw new Error(`create ${name} went to ${page.url()}: ${await flash()}`);
}

// The consoles of a guest that paints a known pattern and reports on its
// serial port every key byte it gets: the screen (noVNC) shows the
// pattern (checked on a screenshot, pixel by pixel), keys typed and text
// pasted reach the guest as key presses, and the serial console page
// (xterm.js) shows them as the guest reports them.
async function consoles() {
  const fbvm = 'live2';
  await createVm(fbvm, 'guest=fb');
  if (await page.isHidden('#console-links a[href$="/console/serial"]')) throw new Error('the instance page offers no serial console');

  // the serial console first, in a tab of its own: it shows what the guest prints from when it joined
  const serial = await page.context().newPage();
  await watchPage(serial);
  await serial.goto(url + `/instance/${fbvm}/console/serial`);
  await serial.waitForFunction(() => document.getElementById('console').dataset.state === 'success')
    .catch(async () => { throw new Error(`the serial console did not connect: ${await serial.textContent('#console-status')}`); });

  // the screen, from the instance page's link
  await Promise.all([page.waitForNavigation(), page.click('#console-links a[href$="/console/vnc"]')]);
  await page.waitForFunction(() => document.getElementById('console').dataset.state === 'success')
    .catch(async () => { throw new Error(`the screen did not connect: ${await page.textContent('#console-status')}`); });
  await page.uncheck('#vnc-scale'); // one canvas pixel per screen pixel
  const canvas = page.locator('#vnc-screen canvas');
  let bad = -1;
  for (const end = Date.now() + 60000; Date.now() < end && bad !== 0;) {
    await sleep(200);
    const png = (await canvas.screenshot()).toString('base64');
    bad = await page.evaluate(async ([b64, points]) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      let wrong = 0;
      for (const [x, y, r, gr, b] of points) {
        const d = g.getImageData(x, y, 1, 1).data;
        // noVNC asks for Tight with JPEG (its default quality): a few steps off, never more
        if (Math.abs(d[0] - r) > 16 || Math.abs(d[1] - gr) > 16 || Math.abs(d[2] - b) > 16) wrong++;
      }
      return wrong;
    }, [png, [[0, 0], [1, 0], [7, 3], [50, 90], [200, 17], [333, 222], [511, 255], [600, 400]]
      .map(([x, y]) => [x, y, ...patternAt(x, y)])]);
  }
  await page.screenshot({ path: join(shots, 'live-console-screen.png') });
  if (bad !== 0) throw new Error(`the screen does not show the guest's pattern (${bad} of 8 pixels differ)`);

  // typed keys and pasted text reach the guest: it reports each scancode on its serial port
  await canvas.click({ position: { x: 5, y: 5 } });
  await page.keyboard.type('x');
  await page.fill('#vnc-paste-text', 'ab');
  await page.click('#vnc-paste-send');
  const reported = (code) => serial.waitForFunction((c) => {
    const rows = document.querySelector('.xterm-rows');
    return rows && rows.textContent.includes(c);
  }, code, { timeout: 20000 }).then(() => true, () => false);
  for (const [what, code] of [['the typed x', 'kbd 0x2d'], ['the pasted a', 'kbd 0x1e'], ['the pasted b', 'kbd 0x30']]) {
    if (!await reported(code)) {
      throw new Error(`${what} did not reach the guest: the serial console shows '${(await serial.textContent('.xterm-rows')).slice(-300)}'`);
    }
  }
  await serial.screenshot({ path: join(shots, 'live-console-serial.png') });
  await serial.setViewportSize({ width: 390, height: 844 });
  await serial.screenshot({ path: join(shots, 'live-console-serial-phone.png') });

  // the VM's end: both consoles say so and offer to reconnect
  const off = await vmmctl(`destroy ${fbvm}`);
  if (off.status !== '0') throw new Error(`vmmctl destroy answered ${off.status}: ${off.text}`);
  for (const [p, what] of [[page, 'screen'], [serial, 'serial console']]) {
    await p.waitForSelector('#console-reconnect:not([hidden])', { timeout: 20000 })
      .catch(() => { throw new Error(`the ${what} did not say it closed`); });
  }
  await page.screenshot({ path: join(shots, 'live-console-closed.png') });
  await serial.close();
}

// Two users, each in a browser of their own, at once on the serial
// consoles of two VMs, each with the console right on one of them and
// only the right to see the other: each reaches their own guest (it says
// its command line on '?'), sees what it echoes and nothing of the
// other's, and is refused the other's console.
async function twoUsers() {
  const users = [{ name: 'alice', vm: 'live3', typed: 'from alice', echoed: 'FROM ALICE' },
                 { name: 'bob', vm: 'live4', typed: 'from bob', echoed: 'FROM BOB' }];
  for (const u of users) await createVm(u.vm, `guest=echo vm=${u.vm}`);
  for (const u of users) {
    await page.goto(url + '/users');
    await page.fill('#new-name', u.name);
    await page.fill('#new-password', `${u.name}-password-123`);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/users"] button[type=submit]')]);
    await page.goto(url + `/user/${u.name}`);
    for (const o of users) await page.check(`input[aria-label="${o.vm}: see"]`);
    await page.check(`input[aria-label="${u.vm}: console"]`);
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/rights"] button[type=submit]')]);
    if (!(await page.isChecked(`input[aria-label="${u.vm}: console"]`))) throw new Error(`${u.name} did not get the console right: ${await flash()}`);
  }
  for (const u of users) u.other = users.find((o) => o !== u);
  const browsers = [];
  try {
    for (const u of users) {
      const b = await launch(`live-${u.name}`);
      browsers.push(b);
      u.page = b.page;
      u.refusals = new Set([`${url}/instance/${u.other.vm}/console/serial/ticket.json`]);
      await watchPage(u.page, u.refusals);
      await u.page.goto(url + '/login');
      await u.page.fill('#name', u.name);
      await u.page.fill('#password', `${u.name}-password-123`);
      await Promise.all([u.page.waitForNavigation(), u.page.click('button[type=submit]')]);
      if (!(await u.page.$(`.vm-row[data-vm="${u.other.vm}"]`))) throw new Error(`${u.name} does not see ${u.other.vm}`);
      if (await u.page.$(`.vm-row[data-vm="${u.other.vm}"] a[href$="/console/serial"]`)) throw new Error(`${u.name} is offered ${u.other.vm}'s console`);
      await u.page.goto(url + `/instance/${u.vm}/console/serial`);
      await u.page.waitForFunction(() => document.getElementById('console').dataset.state === 'success')
        .catch(async () => { throw new Error(`${u.name}'s serial console did not connect: ${await u.page.textContent('#console-status')}`); });
    }
    // both open at once; each asks their guest who it is, and types
    for (const u of users) {
      await u.page.locator('.xterm-helper-textarea').focus();
      await u.page.keyboard.type('?');
      await u.page.keyboard.type(u.typed);
    }
    for (const u of users) {
      await u.page.waitForFunction((t) => document.querySelector('.xterm-rows').textContent.includes(t), `vm=${u.vm}`, { timeout: 30000 })
        .catch(async () => { throw new Error(`${u.name}'s console did not reach ${u.vm}: '${(await u.page.textContent('.xterm-rows')).slice(-200)}'`); });
      await u.page.waitForFunction((t) => document.querySelector('.xterm-rows').textContent.includes(t), u.echoed, { timeout: 30000 })
        .catch(async () => { throw new Error(`${u.name}'s guest did not echo: '${(await u.page.textContent('.xterm-rows')).slice(-200)}'`); });
      await u.page.screenshot({ path: join(shots, `live-console-${u.name}.png`) });
    }
    for (const u of users) {
      const shown = await u.page.textContent('.xterm-rows');
      const other = u.other;
      if (shown.includes(other.echoed) || shown.includes(other.typed) || shown.includes(`vm=${other.vm}`)) {
        throw new Error(`${u.name}'s console shows ${other.name}'s guest or text`);
      }
      // a ticket for the other's console is refused (this page's own token;
      // the same request for the user's own VM is the control), and its page
      const ticket = (vm) => u.page.evaluate(async (name) => {
        const body = new URLSearchParams({ csrf: document.getElementById('console').dataset.csrf });
        const r = await fetch(`/instance/${name}/console/serial/ticket.json`, { method: 'POST', body, credentials: 'same-origin' });
        return r.status;
      }, vm);
      const mine = await ticket(u.vm);
      if (mine !== 200) throw new Error(`${u.name}'s ticket for their own console: ${mine}`);
      const theirs = await ticket(other.vm);
      if (theirs !== 403) throw new Error(`${u.name} asked for a ticket to ${other.vm}'s console: ${theirs}`);
      const got = (await u.page.request.get(url + `/instance/${other.vm}/console/serial`)).status();
      if (got !== 403) throw new Error(`${u.name} opened ${other.vm}'s console page (${got})`);
    }
  } finally {
    for (const b of browsers) await b.close();
  }
}

try {
  await page.goto(url + '/login');
  await page.fill('#name', 'admin');
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (!page.url().endsWith('/instances')) throw new Error(`the login went to ${page.url()}`);

  await createVm(vm, 'guest=button', 'live-create.png');
  const state = (await page.textContent('#vm-state')).trim();
  if (state !== 'running') throw new Error(`after create and start the VM is '${state}': ${await flash()}`);
  await page.screenshot({ path: join(shots, 'live-instance-running.png'), fullPage: true });

  // The list shows it running; vmmctl presses its power button from
  // elsewhere; the guest powers off and the list says so by itself.
  await page.goto(url + '/instances');
  await waitRowState('running', 'before the shutdown');
  const before = navigations;
  const shutdown = await vmmctl(`shutdown ${vm}`);
  if (shutdown.status !== '0') throw new Error(`vmmctl shutdown answered ${shutdown.status}: ${shutdown.text}`);
  await waitRowState('shut off', 'after the guest powered off');
  if (navigations !== before) throw new Error('the list was reloaded to show the new state');
  if (await page.isHidden(`.vm-row[data-vm="${vm}"] button[formaction$="/start"]`)) {
    throw new Error('the Start button did not come back with the new state');
  }
  await page.screenshot({ path: join(shots, 'live-list-shut-off.png'), fullPage: true });

  // Start and force off with the list's own buttons.
  await Promise.all([page.waitForNavigation(), page.click(`.vm-row[data-vm="${vm}"] button[formaction$="/start"]`)]);
  await waitRowState('running', 'after Start');
  await page.screenshot({ path: join(shots, 'live-list-running.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click(`.vm-row[data-vm="${vm}"] button[formaction$="/destroy"]`)]);
  await waitRowState('shut off', 'after Force off');

  // Delete it with its disk, from its page.
  const disk = await vmmctl(`vol-info ${vm}.qcow2 --pool p`);
  if (disk.status !== '0') throw new Error(`before the delete its disk is not there: ${disk.text}`);
  await page.goto(url + `/instance/${vm}`);
  await page.check('#remove_storage');
  await Promise.all([page.waitForNavigation(), page.click('#delete-form button[type=submit]')]);
  if (!page.url().endsWith('/instances')) throw new Error(`delete went to ${page.url()}: ${await flash()}`);
  if (await page.$(`.vm-row[data-vm="${vm}"]`)) throw new Error('the deleted VM is still listed');
  const gone = await vmmctl(`dominfo ${vm}`);
  if (gone.status === '0' || !gone.text.includes(`no VM named '${vm}'`)) {
    throw new Error(`after the delete vmmctl dominfo says: ${gone.status} ${gone.text}`);
  }
  const vols = await vmmctl(`vol-info ${vm}.qcow2 --pool p`);
  if (vols.status === '0' || !vols.text.includes(`no volume named '${vm}.qcow2'`)) {
    throw new Error(`after the delete vmmctl vol-info says: ${vols.status} ${vols.text}`);
  }
  await page.screenshot({ path: join(shots, 'live-deleted.png'), fullPage: true });

  await consoles();
  await twoUsers();
} catch (e) {
  problems.push(e.message.split('\n')[0]);
  await page.screenshot({ path: join(shots, 'live-failed.png'), fullPage: true }).catch(() => {});
}
await close();
if (problems.length) {
  console.log(problems.join('\n'));
  process.exit(1);
}
console.log('ok');
