// Log in through the portal's forms in Debian's chromium, visit every
// page at a laptop's and a phone's size, keep a screenshot of each, and
// fail on any console error, failed request or CSP violation.
//
//   node pages.mjs URL ADMIN-PASSWORD NEW-PASSWORD SCREENSHOT-DIR VM-NAME
import { join } from 'node:path';
import { launch } from './launch.mjs';

const [url, password, newPassword, shots, vm] = process.argv.slice(2);
const problems = [];

const { page, close } = await launch('pages');
page.on('console', (m) => {
  // the one page that must be missing says so in the console too, and
  // so do the console pages' refused tickets (the VM is not running)
  if (m.type() === 'error' && !m.location().url.includes('/no-such-page') &&
      !(m.text().includes('409') && m.location().url.endsWith('/ticket.json'))) {
    problems.push(`console: ${m.text()} (${m.location().url})`);
  }
});
page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
// A page's background poll cut short when the test moves on is aborted, not failed.
page.on('requestfailed', (r) => {
  if (r.failure()?.errorText === 'net::ERR_ABORTED' && r.headers()['x-requested-with'] === 'poll') return;
  problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
});
page.on('response', (r) => {
  // the console pages ask for a ticket, refused (409) while the VM is not running
  if (r.status() >= 400 && !r.url().includes('/no-such-page') &&
      !(r.status() === 409 && r.url().endsWith('/ticket.json'))) problems.push(`HTTP ${r.status()}: ${r.url()}`);
});
// CSP violations reach the page as events; the page cannot run inline
// script, so the listener comes through the automation channel.
await page.exposeFunction('reportViolation', (v) => problems.push(`CSP violation: ${v}`));
await page.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => {
    window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
  });
});

async function shoot(name) {
  for (const [size, w, h] of [['laptop', 1366, 768], ['phone', 390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: join(shots, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
}

await page.goto(url + '/login');
await shoot('login');
await page.fill('#name', 'admin');
await page.fill('#password', password);
await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
if (!page.url().endsWith('/account/password')) problems.push(`login went to ${page.url()}`);
await shoot('password');
await page.fill('#current', password);
await page.fill('#new', newPassword);
await page.fill('#repeat', newPassword);
await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
if (!page.url().endsWith('/instances')) problems.push(`the password change went to ${page.url()}`);

for (const [name, path] of [['instances', '/instances'], ['instance', `/instance/${vm}`],
                            ['host', '/host'], ['users', '/users'], ['user', '/user/admin'],
                            ['audit', '/audit'], ['create', '/create'], ['flavors', '/flavors'],
                            ['networks', '/networks'], ['network', '/network/lan'],
                            ['storage', '/storage'], ['pool', '/pool/images'], ['tokens', '/account/tokens'],
                            ['not-found', '/no-such-page']]) {
  await page.goto(url + path);
  await page.waitForLoadState('networkidle');
  await shoot(name);
}

// Self-service: a user allowed to make VMs under quotas, on a template
// volume; the admin's user page, then the user's own create page.
await page.goto(url + '/users');
await page.fill('#new-name', 'ada');
await page.fill('#new-password', 'ada-password-123');
await Promise.all([page.waitForNavigation(), page.click('form[action="/users"] button[type=submit]')]);
await page.goto(url + '/user/ada');
await page.check('#may_create');
await page.fill('#q-vms', '3');
await page.fill('#q-vcpus', '4');
await page.fill('#q-memory', '4096');
await page.fill('#q-disk', '60');
await Promise.all([page.waitForNavigation(), page.click('#quota-card button[type=submit]')]);
if (!(await page.textContent('.alert').catch(() => '')).includes('quotas of ada')) problems.push('the quotas were not saved');
await shoot('user-quota');
await page.goto(url + '/pool/images');
await Promise.all([page.waitForNavigation(),
  page.click('tr[data-volume="debian-12.qcow2"] form[action$="/volume/template"] button')]);
await shoot('pool-template');
// an upload from the page: the name follows the file's, the bar runs, the page says what came of it
await page.setInputFiles('#u-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the browser\n') });
if (await page.inputValue('#u-name') !== 'notes.txt') problems.push('the upload did not take the file\'s name');
await Promise.all([page.waitForNavigation(), page.click('#volume-upload button[type=submit]')]);
const uploaded = await page.textContent('.alert').catch(() => '');
if (!uploaded.includes('notes.txt was uploaded')) problems.push(`after the upload: '${uploaded}'`);
if (!await page.$('tr[data-volume="notes.txt"]')) problems.push('the uploaded file is not listed');
await shoot('pool-upload');

// The console pages of a VM that is not running: they load their
// scripts (noVNC's modules, xterm.js with its styles under the CSP's
// nonce) and say why they cannot connect.
for (const kind of ['vnc', 'serial']) {
  await page.goto(url + `/instance/${vm}/console/${kind}`);
  await page.waitForFunction(() => /not running/.test(document.getElementById('console-status').textContent), null,
    { timeout: 15000 }).catch(async () => problems.push(`the ${kind} console page says '${await page.textContent('#console-status')}'`));
  if (kind === 'serial' && !await page.$('.xterm-rows')) problems.push('the serial console page has no terminal');
  await shoot(`console-${kind}`);
}

// The list follows the VMs' states by itself: the script's poll must answer.
await page.goto(url + '/instances');
const polled = await page.waitForResponse((r) => r.url().endsWith('/instances.json'), { timeout: 15000 })
  .then((r) => r.status()).catch(() => 0);
if (polled !== 200) problems.push(`the list's poll answered ${polled}`);

// A destructive action asks first, naming the VM; dismissed, nothing is sent.
await page.goto(url + `/instance/${vm}`);
let asked = '';
page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
await page.click('#delete-form button[type=submit]');
await page.waitForTimeout(500);
if (!asked.includes(vm)) problems.push(`Delete asked for no confirmation naming the VM: '${asked}'`);
if (!page.url().endsWith(`/instance/${vm}`)) problems.push(`a dismissed Delete went on to ${page.url()}`);

// Pressing Start on a VM this host cannot run shows vmmd's reason on the page.
await page.goto(url + `/instance/${vm}`);
page.once('dialog', (d) => d.accept());
await Promise.all([page.waitForNavigation(), page.click('button[formaction$="/start"]')]);
const flash = await page.textContent('.alert').catch(() => '');
if (!flash || !flash.includes(vm)) problems.push(`no message after Start: '${flash}'`);
await shoot('after-start');

// the user allowed to make VMs: Create in the menu, the templates and their quotas
await page.click('form[action="/logout"] button');
await page.waitForURL(/\/login/);
await page.fill('#name', 'ada');
await page.fill('#password', 'ada-password-123');
await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
await page.click('a[href="/create"]');
await page.waitForLoadState('networkidle');
if (!await page.$('#quota-use')) problems.push('the create page shows no quotas to a user under them');
if (!await page.$('option[value="images/debian-12.qcow2"]')) problems.push('the template is not offered');
if (await page.$('option[value="images/scratch.raw"]')) problems.push('a volume that is no template is offered');
await shoot('create-user');

await close();
if (problems.length) {
  console.log(problems.join('\n'));
  process.exit(1);
}
console.log('ok');
