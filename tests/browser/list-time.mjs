// Time from navigation to the fully rendered list of N VMs in Debian's
// chromium, logged in already: our instances page (its list has N rows
// and its load event fired), or cockpit-machines' VM list (N rows in its
// table inside cockpit's shell). Prints one line a run: "run MS" when the
// list was complete (for ours followed by the page's own navigation timing:
// the response's end and the load event's end, in ms from its start),
// "incomplete ROWS" when the time limit ran out first.
//
//   node list-time.mjs portal URL USER PASSWORD N RUNS LIMIT-SECONDS
//   node list-time.mjs cockpit URL USER PASSWORD N RUNS LIMIT-SECONDS
import { launch } from './launch.mjs';

const [kind, url, user, password, nText, runsText, limitText] = process.argv.slice(2);
const n = Number(nText);
const runs = Number(runsText);
const limit = Number(limitText) * 1000;

const { context, page, close } = await launch('list-time');
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
// hear back from the browser counts for neither page. The same script runs
// in both, in every frame before the page's own, and looks whenever the
// document changes (a MutationObserver, which hears each batch of the
// parser's or the page's script's changes) and at the load event: the
// first time the list has its N rows (ours: once its load event has fired
// too, as its rows come with the page itself), it marks the time. (A look
// every 10 ms instead added up to 10 ms to every run, a sixth of ours.)
// A frame that keeps its window for the document it loads after its first
// (cockpit's) runs this once, in the first: every 10 ms it checks whether
// the document is another and then watches that one.
const markDone = ([selector, want, afterLoad]) => {
  let loaded = !afterLoad;
  let watched = null;
  const look = () => {
    if (window.listDoneAt || !loaded || document.querySelectorAll(selector).length < want) return;
    window.listDoneAt = Date.now();
    seen.disconnect();
    clearInterval(rewatch);
  };
  const seen = new MutationObserver(look);
  const watch = () => {
    if (watched === document) return;
    watched = document;
    seen.disconnect();
    seen.observe(document, { childList: true, subtree: true });
    look();
  };
  const rewatch = setInterval(watch, 10);
  watch();
  window.addEventListener('load', () => { loaded = true; look(); });
};

// doneAt: the page's mark in whichever frame made it, or 0.
async function doneAt() {
  for (const frame of page.frames()) {
    const at = await frame.evaluate(() => window.listDoneAt || 0).catch(() => 0);
    if (at) return at;
  }
  return 0;
}

// rowsNow: the most rows any frame shows now (for a run that ran out of time).
async function rowsNow(selector) {
  let rows = 0;
  for (const frame of page.frames()) {
    rows = Math.max(rows, await frame.evaluate((s) => document.querySelectorAll(s).length, selector).catch(() => 0));
  }
  return rows;
}

const selectors = { portal: '.vm-row[data-vm]', cockpit: '#virtual-machines-listing tbody tr[data-row-id]' };

// run: navigate, then wait for the mark (at most LIMIT).
async function run() {
  const t0 = Date.now();
  const path = kind === 'portal' ? '/instances' : '/machines';
  await page.goto(url + path, { waitUntil: 'load', timeout: limit }).catch(() => {});
  while (Date.now() - t0 < limit) {
    const at = await doneAt();
    if (at) {
      if (kind !== 'portal') return { ms: at - t0, rows: n };
      const timing = await page.evaluate(() => {
        const e = performance.getEntriesByType('navigation')[0];
        return `${Math.round(e.responseEnd)} ${Math.round(e.loadEventEnd)}`;
      });
      return { ms: `${at - t0} ${timing}`, rows: n };
    }
    await sleep(25);
  }
  const rows = await rowsNow(selectors[kind]);
  // every row there and no mark: the measurement failed, not the page
  if (rows >= n) throw new Error(`all ${n} rows came, but the in-page mark never fired`);
  return { ms: null, rows };
}

try {
  if (kind === 'portal') await loginPortal();
  else await loginCockpit();
  await context.addInitScript(markDone, [selectors[kind], n, kind === 'portal']);
  for (let i = 0; i < runs; i++) {
    await page.goto('about:blank');
    const r = await run();
    console.log(r.ms === null ? `incomplete ${r.rows}` : `run ${r.ms}`);
    if (r.ms === null) break;
  }
} catch (e) {
  console.log(`error ${e.message.split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  await close();
}
