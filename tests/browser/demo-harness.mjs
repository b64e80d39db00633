// What the browser tests against a running `conforme demo` server share (see
// scripts/browser-test.sh, which starts one and exports CONFORME_DEMO_URL):
// Debian's Chromium launched once per test file, contexts whose requests to any
// host but loopback are aborted and recorded, pages that record script errors
// and failed sub-resources, navigation and form helpers, full-page screenshots
// and axe scans, the demo's emails and the login through the pages, the demo's
// clock. A test file calls `useDemoBrowser('prefix')` at its top level; its
// screenshots go to tests/browser/screenshots/prefix-*.png (git-ignored).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const PASSWORD = 'Demo-Conforme-2024';

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);
const SCREENSHOT_DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));
/** How long to wait for the demo's worker (it polls every second). */
export const WORKER_WAIT_MS = 8_000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
export const isLoopback = (hostname) => LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);

export const BASE = (() => {
  const raw = process.env.CONFORME_DEMO_URL;
  if (!raw) {
    throw new Error(
      'CONFORME_DEMO_URL is not set: run scripts/browser-test.sh, or start `conforme demo --listen 127.0.0.1:0` '
        + 'with a throw-away CONFORME_DATA_DIR and export CONFORME_DEMO_URL=http://127.0.0.1:PORT',
    );
  }
  const url = new URL(raw);
  if (!isLoopback(url.hostname)) {
    throw new Error(`CONFORME_DEMO_URL must point to a loopback address, got ${raw}`);
  }
  return url.origin;
})();

let browser;
/** The screenshot and diagnostic prefix of the test file. */
let prefix = 'page';
/** Requests to non-loopback hosts, aborted by the route guard. */
export const blockedRequests = [];
const contexts = [];

export async function newContext() {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    colorScheme: 'light',
  });
  // Only loopback traffic is allowed: anything else is aborted and recorded.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !isLoopback(url.hostname)) {
      blockedRequests.push(url.href);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  contexts.push(context);
  return context;
}

/** Registers the file's hooks: launch Chromium before its tests, close everything after. */
export function useDemoBrowser(screenshotPrefix) {
  prefix = screenshotPrefix;
  before(async () => {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
  });
}

/**
 * Opens a new page that records uncaught script errors and failed
 * sub-resources (stylesheets, scripts, fonts, icons…).
 */
export async function openPage(context) {
  const page = await context.newPage();
  page.problems = [];
  // The same page goes from document to document: a request the previous
  // document had under way (often its favicon) is aborted by the navigation,
  // which is no problem of either document. Each navigation of the page starts
  // a new generation; requests remember the one they were made in.
  let generation = 0;
  const started = new WeakMap();
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) generation += 1;
    started.set(req, generation);
  });
  page.on('pageerror', (err) => page.problems.push(`script error: ${err.message}`));
  page.on('requestfailed', (req) => {
    const error = req.failure()?.errorText;
    // (A request never seen starting counts as an earlier document's.) The
    // browser fetches the page's icon on its own schedule, even after the next
    // navigation has started, and drops it when the document changes.
    const current = started.get(req) === generation;
    const icon = /\/favicon[^/]*$/.test(new URL(req.url()).pathname);
    if (error === 'net::ERR_ABORTED' && (req.isNavigationRequest() || !current || icon)) return;
    page.problems.push(`request failed: ${req.url()} (${error})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !res.request().isNavigationRequest()) {
      page.problems.push(`HTTP ${res.status()} for ${res.url()}`);
    }
  });
  return page;
}

/** Checks, and forgets, what went wrong on the page since the last check. */
export function assertNoProblems(page) {
  assert.deepEqual(page.problems.splice(0), [], `problems while loading ${page.url()}`);
}

/** Navigates and checks the HTTP status of the (final) document. */
export async function visit(page, path, expectedStatus = 200) {
  const res = await page.goto(BASE + path, { waitUntil: 'load' });
  assert.ok(res, `no response for ${path}`);
  assert.equal(res.status(), expectedStatus, `HTTP status of ${path}`);
  return res;
}

/**
 * Clicks what submits a form (or follows a link) and waits for the next
 * document, after any redirect; returns its response.
 */
export async function submit(page, target) {
  await page.evaluate(() => {
    window.conformeOldDocument = true;
  });
  const response = page.waitForResponse(
    (r) => r.request().isNavigationRequest() && r.frame() === page.mainFrame() && !(r.status() >= 300 && r.status() < 400),
  );
  await (typeof target === 'string' ? page.locator(target) : target).click();
  const res = await response;
  await page.waitForFunction(() => !window.conformeOldDocument);
  await page.waitForLoadState('load');
  return res;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: `${SCREENSHOT_DIR}${prefix}-${name}.png`, fullPage: true, animations: 'disabled' });
}

/**
 * Screenshot, then axe scan (WCAG 2.1 A/AA): the findings are reported as
 * diagnostics, and serious or critical violations fail the test.
 */
export async function checkPage(t, page, name) {
  // Let the DSFR script finish its set-up before the scan.
  await page.waitForLoadState('networkidle');
  await screenshot(page, name);
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const review = results.incomplete.map((v) => `${v.id} (${v.nodes.length})`).join(', ') || 'none';
  t.diagnostic(
    `axe ${prefix}-${name} (${new URL(page.url()).pathname}): ${results.violations.length} violation(s), `
      + `${results.passes.length} rule(s) passed, to review by hand: ${review}`,
  );
  for (const v of results.violations) {
    const first = v.nodes[0];
    t.diagnostic(`${v.id} [${v.impact}] ${v.nodes.length} node(s), first: ${JSON.stringify(first?.target)} — ${v.help}`);
  }
  const blocking = results.violations
    .filter((v) => BLOCKING_IMPACTS.has(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
    }));
  assert.deepEqual(blocking, [], `serious or critical axe violations on ${page.url()}`);
}

/** The text of an element as written in the page (textContent: a badge's CSS upper case left aside). */
export const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

// ---------------------------------------------------------------------------
// Demo emails and login

/** The emails listed on /demo/courriels, latest first. */
export async function demoEmails(page) {
  await visit(page, '/demo/courriels');
  return page.$$eval('main section', (sections) =>
    sections.map((s) => ({
      headers: s.querySelector('h2')?.innerText ?? '',
      body: s.querySelector('pre')?.textContent ?? '',
      file: s.querySelector('p')?.textContent.trim() ?? '',
    })),
  );
}

/** The file names of the emails already written, to tell the next ones apart. */
export async function emailFiles(context) {
  const page = await openPage(context);
  try {
    return new Set((await demoEmails(page)).map((e) => e.file));
  } finally {
    await page.close();
  }
}

/** Waits for a new login-code email to `to` on /demo/courriels and returns its code. */
export async function readLoginCode(context, to, known) {
  const page = await openPage(context);
  try {
    const deadline = Date.now() + WORKER_WAIT_MS;
    for (;;) {
      const emails = await demoEmails(page);
      const mail = emails.find(
        (e) => !known.has(e.file) && e.headers.includes(`To: ${to}`) && /code de vérification/.test(e.body),
      );
      const code = mail?.body.match(/^\s*(\d{6})\s*$/m)?.[1];
      if (code) {
        await screenshot(page, 'courriels');
        return code;
      }
      assert.ok(Date.now() < deadline, `no login code email to ${to} on /demo/courriels within ${WORKER_WAIT_MS} ms`);
      await page.waitForTimeout(500);
    }
  } finally {
    await page.close();
  }
}

/**
 * Logs in through the pages on `page`, which is expected to be on the login
 * form already (or is brought there): password, then the emailed code. With
 * `t`, the login and code pages are scanned by axe.
 */
export async function logIn(page, email, { t = null, expectNext = '/espace' } = {}) {
  if (new URL(page.url()).pathname !== '/connexion') await visit(page, '/connexion');
  assert.equal(await text(page.locator('h1')), 'Se connecter à Conforme');
  if (t) await checkPage(t, page, 'connexion');
  const known = await emailFiles(page.context());
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  let res = await submit(page, 'form[action="/connexion"] button[type="submit"]');
  assert.equal(res.status(), 200, 'the password is accepted');
  assert.equal(new URL(page.url()).pathname, '/connexion/code');
  assert.equal(await text(page.locator('h1')), 'Code de vérification');
  if (t) await checkPage(t, page, 'code');
  const code = await readLoginCode(page.context(), email, known);
  await page.fill('#code', code);
  res = await submit(page, 'form[action="/connexion/code"] button[type="submit"]');
  assert.equal(res.status(), 200, 'the code is accepted');
  const url = new URL(page.url());
  assert.equal(url.pathname + url.search, expectNext, 'after the code, the page asked for first');
}

export async function clockNow() {
  const res = await fetch(`${BASE}/api/v1/_clock`);
  assert.equal(res.status, 200, 'GET /api/v1/_clock');
  return new Date((await res.json()).now);
}

export async function setClock(instant) {
  const res = await fetch(`${BASE}/api/v1/_clock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ now: instant.toISOString() }),
  });
  assert.equal(res.status, 200, `PUT /api/v1/_clock: ${await res.clone().text()}`);
  return new Date((await res.json()).now);
}
