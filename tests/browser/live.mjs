// A VM's whole life through the portal's pages in Debian's chromium, on a
// guest that really runs: log in, create a VM from a flavor and start it,
// watch the list follow its state without a reload when it is shut down
// from elsewhere, start it and force it off with the list's buttons,
// delete it with its disk. Fails on any console error, failed request or
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
page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
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

try {
  await page.goto(url + '/login');
  await page.fill('#name', 'admin');
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (!page.url().endsWith('/instances')) throw new Error(`the login went to ${page.url()}`);

  // Create from the flavor "small", its disk a new volume of pool p, started at once.
  await page.goto(url + '/create');
  await page.fill('#c-name', vm);
  await page.selectOption('#c-flavor', { label: await page.$eval('#c-flavor option', () =>
    [...document.querySelectorAll('#c-flavor option')].find((o) => o.textContent.startsWith('small:')).textContent) });
  await page.selectOption('#c-pool', 'p');
  await page.selectOption('#c-kernel', 'p/guest.bzImage');
  await page.fill('#c-cmdline', 'guest=button');
  await page.check('#c-start');
  await page.screenshot({ path: join(shots, 'live-create.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  if (!page.url().endsWith(`/instance/${vm}`)) throw new Error(`create went to ${page.url()}: ${await flash()}`);
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
