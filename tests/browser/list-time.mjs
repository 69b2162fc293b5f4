// Time from navigation to the fully rendered list of N VMs in Debian's
// chromium, logged in already: our instances page (its table has N rows
// and its load event fired), or cockpit-machines' VM list (N rows in its
// table inside cockpit's shell). Prints one line a run: "run MS" when the
// list was complete (for ours followed by the page's own navigation timing:
// the response's end and the load event's end, in ms from its start),
// "incomplete ROWS" when the time limit ran out first.
//
//   node list-time.mjs portal URL USER PASSWORD N RUNS LIMIT-SECONDS
//   node list-time.mjs cockpit URL USER PASSWORD N RUNS LIMIT-SECONDS
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [kind, url, user, password, nText, runsText, limitText] = process.argv.slice(2);
const n = Number(nText);
const runs = Number(runsText);
const limit = Number(limitText) * 1000;

const profile = mkdtempSync(join(tmpdir(), 'webkvm-list-time-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  ignoreHTTPSErrors: true,
  viewport: { width: 1366, height: 768 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] || await context.newPage();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loginPortal() {
  await page.goto(url + '/login');
  await page.fill('#name', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (!page.url().endsWith('/instances')) throw new Error(`the login went to ${page.url()}`);
}

async function loginCockpit() {
  await page.goto(url + '/');
  await page.fill('#login-user-input', user);
  await page.fill('#login-password-input', password);
  await page.click('#login-button');
  // logged in: the shell shows its first page in a frame of its own
  await page.waitForSelector('iframe[name^="cockpit1:"]', { state: 'attached', timeout: 60000 });
  // Without /dev/kvm the machines page first asks whether to go on anyway.
  await page.evaluate(() => localStorage.setItem('virtualization-disabled-ignored', 'true'));
}

// Each run's end is read from the page's own clock (Date.now() in the
// page, the same clock as t0 here), so that the time this script takes to
// hear back from the browser counts for neither page. Ours: a script run
// in the page before its own marks the first frame drawn after the load
// event with the table's N rows (rows come from the server, so they are
// there at the load event unless something took them away).
const markDone = (want) => {
  const done = () => requestAnimationFrame(() => { window.listDoneAt = Date.now(); });
  const full = () => document.querySelectorAll('tr[data-vm]').length >= want;
  window.addEventListener('load', () => {
    if (full()) return done();
    const watch = new MutationObserver(() => {
      if (full()) {
        watch.disconnect();
        done();
      }
    });
    watch.observe(document.body, { childList: true, subtree: true });
  });
};

// portalRun: page.goto until the load event, then until the page marked the drawn list.
async function portalRun() {
  const t0 = Date.now();
  await page.goto(url + '/instances', { waitUntil: 'load', timeout: limit });
  const seen = await page.waitForFunction(() => window.listDoneAt, null, { timeout: limit, polling: 10 });
  const ms = (await seen.jsonValue()) - t0;
  const timing = await page.evaluate(() => {
    const e = performance.getEntriesByType('navigation')[0];
    return `${Math.round(e.responseEnd)} ${Math.round(e.loadEventEnd)}`;
  });
  return { ms: `${ms} ${timing}`, rows: n };
}

// cockpitRows: the rows of cockpit-machines' VM list, in whichever frame
// of the shell shows it (0 while it is not there yet), and the page's
// clock when it counted them.
async function cockpitRows() {
  let rows = 0, at = 0;
  for (const frame of page.frames()) {
    const [count, now] = await frame.evaluate(() =>
      [document.querySelectorAll('#virtual-machines-listing tbody tr[data-row-id]').length, Date.now()])
      .catch(() => [0, 0]);
    if (count > rows) {
      rows = count;
      at = now;
    }
  }
  return { rows, at };
}

async function cockpitRun() {
  const t0 = Date.now();
  await page.goto(url + '/machines', { waitUntil: 'load', timeout: limit }).catch(() => {});
  let rows = 0;
  while (Date.now() - t0 < limit) {
    const seen = await cockpitRows();
    rows = seen.rows;
    if (rows >= n) return { ms: seen.at - t0, rows };
    await sleep(25);
  }
  return { ms: null, rows };
}

try {
  if (kind === 'portal') {
    await context.addInitScript(markDone, n);
    await loginPortal();
  }
  else await loginCockpit();
  for (let i = 0; i < runs; i++) {
    await page.goto('about:blank');
    const r = kind === 'portal'
      ? await portalRun().catch(async () => ({ ms: null, rows: await page.locator('tr[data-vm]').count().catch(() => 0) }))
      : await cockpitRun();
    console.log(r.ms === null ? `incomplete ${r.rows}` : `run ${r.ms}`);
    if (r.ms === null) break;
  }
} catch (e) {
  console.log(`error ${e.message.split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
