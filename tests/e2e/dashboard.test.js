// dashboard.test.js — the dashboard in a real browser: puppeteer-core drives
// Debian's chromium (headless) against a running daemon. Run by
// test_dashboard.sh, which starts the daemon with rules/dash.lua of its own
// (tags "nuclear" by tag-nuclear, "reactor" by tag-reactor, and a crit alert
// of reactor-watch on each entry tagged nuclear).
//
// Environment: VIGIL_HTTP the daemon's base URL; SHOT where to save the
// screenshot; CHROMIUM the browser (default /usr/bin/chromium).
// It prints one line a check, "PASS description" or "FAIL description" then
// tab-separated details, stops at the first failure (each step stands on the
// one before) and exits 1 when a check failed. Every wait is for something
// the page shows, up to 60 s.
'use strict';

const puppeteer = require('puppeteer-core');

const BASE = process.env.VIGIL_HTTP;
const SHOT = process.env.SHOT;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 60000;

const problems = []; // console errors and page errors, as they come
let failed = false;

function pass(what) {
  console.log('PASS ' + what);
}
function fail(what, ...details) {
  failed = true;
  console.log('FAIL ' + [what, ...details.map((d) => String(d).replace(/[\t\n]+/g, ' '))].join('\t'));
}

// Runs one step; a step that throws fails with what it was waiting for.
async function step(what, fn) {
  if (failed) return;
  try {
    await fn();
    pass(what);
  } catch (e) {
    fail(what, e && e.message ? e.message : e);
  }
}

async function postEntry(record) {
  const res = await fetch(BASE + '/v1/entries', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(record),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /v1/entries answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

// Waits until fn (run in the page, with args) is true; names what it waited for.
async function until(page, what, fn, ...args) {
  try {
    await page.waitForFunction(fn, { timeout: WAIT, polling: 100 }, ...args);
  } catch (e) {
    const errs = await page.$$eval('.err', (els) => els.map((el) => el.textContent).filter((t) => t))
      .catch(() => []);
    throw new Error(`waited ${WAIT / 1000} s for ${what}` +
      (errs.length ? `; the page says: ${errs.join(' | ')}` : ''));
  }
}

async function main() {
  if (!BASE) throw new Error('VIGIL_HTTP must give the daemon\'s base URL');
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-extensions', '--disable-background-networking'],
  });
  try {
    // A page whose console errors, page errors and failed requests are noted.
    const watched = async () => {
      const p = await browser.newPage();
      await p.setViewport({ width: 1366, height: 768 });
      p.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()} (${(m.location() || {}).url || ''})`);
      });
      p.on('pageerror', (e) => problems.push('page error: ' + (e && e.message ? e.message : e)));
      p.on('requestfailed', (r) => {
        // The stream is cut when the page closes: not the page's fault.
        if (!r.url().endsWith('/v1/alerts/stream')) problems.push(`request failed: ${r.url()} ${(r.failure() || {}).errorText}`);
      });
      p.on('dialog', (d) => d.accept()); // the confirm() before expiring a silence
      return p;
    };
    const page = await watched();

    await step('GET / is the dashboard, as HTML with a strict Content-Security-Policy', async () => {
      const res = await page.goto(BASE + '/', { waitUntil: 'domcontentloaded', timeout: WAIT });
      const hd = res.headers();
      if (res.status() !== 200) throw new Error('status ' + res.status());
      if (!/^text\/html; charset=utf-8$/i.test(hd['content-type'] || '')) throw new Error('Content-Type ' + hd['content-type']);
      const csp = hd['content-security-policy'] || '';
      for (const want of ["default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"])
        if (!csp.includes(want)) throw new Error(`the CSP "${csp}" lacks ${want}`);
      if ((hd['x-frame-options'] || '').toUpperCase() !== 'DENY') throw new Error('X-Frame-Options ' + hd['x-frame-options']);
    });

    await step('the page loads the rules and the stream of alerts is live', async () => {
      await until(page, 'the rules table naming reactor-watch',
        () => !!document.querySelector('#rules-table tr[data-rule="reactor-watch"]'));
      await until(page, 'the connection state "live"',
        () => document.getElementById('conn').classList.contains('live'));
    });

    await step('an entry sent to the API raises an alert that appears in the live list without a reload', async () => {
      await page.evaluate(() => { window.__samePage = true; });
      await postEntry({ date: '2024-03-02', source: 'dashboard-test',
        text: 'Satellite images show steam from the cooling tower at Yongbyon reactor.' });
      await until(page, 'a reactor-watch alert about the cooling tower in #alerts', () =>
        [...document.querySelectorAll('#alerts li[data-rule="reactor-watch"]')]
          .some((li) => li.textContent.includes('cooling tower')));
      if (!(await page.evaluate(() => window.__samePage === true))) throw new Error('the page was reloaded');
      const link = await page.$eval('#alerts li[data-rule="reactor-watch"] a.url', (a) => a.href);
      if (!/\/v1\/alerts\/\d+$/.test(link)) throw new Error('the alert\'s link is ' + link);
    });

    await step('a search shows the entry found', async () => {
      await page.click('#search-text');
      await page.type('#search-text', 'cooling tower');
      await page.keyboard.press('Enter');
      await until(page, 'a search result with the cooling tower', () =>
        [...document.querySelectorAll('#search-list li')].some((li) => li.textContent.includes('Yongbyon reactor')));
    });

    await step('the entry\'s detail opens from the keyboard and shows each tag with the rule that set it', async () => {
      await page.focus('#search-list a.entry-link');
      await page.keyboard.press('Enter');
      await until(page, 'the detail dialog with the tags nuclear and reactor', () => {
        const d = document.getElementById('detail');
        const rule = (t) => {
          const td = d.querySelector(`#detail-tags tr[data-tag="${t}"] td.rule`);
          return td && td.textContent;
        };
        return d.open && rule('nuclear') === 'tag-nuclear' && rule('reactor') === 'tag-reactor';
      });
      await until(page, 'the entry\'s text and its alert in the dialog', () =>
        document.getElementById('detail-text').textContent.includes('cooling tower') &&
        document.querySelector('#detail-alerts li') !== null);
      await page.keyboard.press('Escape');
      await until(page, 'the dialog closed by Escape', () => !document.getElementById('detail').open);
    });

    await step('a direct link to an alert (/#alert/ID) opens it', async () => {
      const id = await page.$eval('#alerts li[data-rule="reactor-watch"]', (li) => li.dataset.id);
      const other = await watched(); // a fresh page, as a link followed from elsewhere
      await other.goto(BASE + '/#alert/' + id, { waitUntil: 'domcontentloaded', timeout: WAIT });
      await until(other, `the dialog of alert ${id}`, (want) => {
        const d = document.getElementById('detail');
        return d.open && document.getElementById('detail-title').textContent === 'Alert ' + want &&
          d.textContent.includes('reactor-watch') && d.textContent.includes('cooling tower');
      }, id);
      await other.keyboard.press('Escape');
      await until(other, 'the dialog closed by Escape', () => !document.getElementById('detail').open);
      await other.close();
    });

    await step('a silence made with the page\'s form is listed as active', async () => {
      await page.type('#silence-rule', 'reactor-watch');
      await page.click('#silence-duration', { clickCount: 3 });
      await page.type('#silence-duration', '6h');
      await page.type('#silence-author', 'duty officer');
      await page.type('#silence-reason', 'known maintenance at the site');
      await page.click('#silence-form button[type="submit"]');
      await until(page, 'an active silence of reactor-watch in the list', () =>
        !!document.querySelector('#silences-table tr[data-rule="reactor-watch"][data-state="active"]'));
    });

    await step('an alert of the silenced rule arrives marked silenced', async () => {
      await postEntry({ date: '2024-03-09', source: 'dashboard-test',
        text: 'A second plume rises above the Yongbyon reactor hall.' });
      await until(page, 'a reactor-watch alert about the plume marked "silenced"', () =>
        [...document.querySelectorAll('#alerts li[data-rule="reactor-watch"]')].some((li) =>
          li.textContent.includes('second plume') && li.dataset.state === 'silenced' &&
          li.querySelector('.badge.silenced') !== null));
    });

    await step('the timeline shows both days and the tag chips filter it', async () => {
      await until(page, 'the days 2024-03-02 and 2024-03-09 in the timeline', () =>
        !!document.getElementById('day-2024-03-02') && !!document.getElementById('day-2024-03-09'));
      await page.click('#tag-chips [data-tag="reactor"]');
      await until(page, 'the chip "reactor" pressed', () =>
        document.querySelector('#tag-chips [data-tag="reactor"]').getAttribute('aria-pressed') === 'true');
      await page.click('#tag-chips [data-tag="reactor"]');
    });

    if (!failed && SHOT) {
      await step('a screenshot of the dashboard is saved', async () => {
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await page.screenshot({ path: SHOT });
      });
    }

    if (!failed) {
      const shown = await page.$$eval('.err', (els) => els.map((el) => el.textContent).filter((t) => t));
      if (shown.length) fail('the page shows no error', ...shown);
      else pass('the page shows no error');
    }
    if (problems.length) fail('no console error, page error or failed request', ...problems);
    else pass('no console error, page error or failed request');
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
  fail('the browser test ran', e && e.stack ? e.stack : e);
  process.exit(1);
});
