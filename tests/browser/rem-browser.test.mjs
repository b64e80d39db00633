// Browser tests of the Conforme web pages, run with node's built-in test runner
// against a running server (see scripts/browser-test.sh, which starts one).
//
// - The browser is Debian's Chromium (env CHROMIUM, default /usr/bin/chromium);
//   playwright-core never downloads a browser of its own.
// - The base URL comes from env CONFORME_URL and must be a loopback address;
//   every request the pages make to any other host is aborted and reported.
// - Full-page screenshots go to tests/browser/screenshots/ (git-ignored).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const PROGRAMME = 'HOP-DPI-Va2';
const VERSION = 'prepublication-2023';
const REM_PATH = `/dispositifs/${PROGRAMME}/rem/${VERSION}`;
const API_PATH = `/api/v1/programmes/${PROGRAMME}/rem/${VERSION}/requirements`;
const REQUIREMENT_ID = 'SC.CDA/DD.05';
const TOTAL_REQUIREMENTS = 146;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);
const SCREENSHOT_DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const isLoopback = (hostname) => LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);

const BASE = (() => {
  const raw = process.env.CONFORME_URL;
  if (!raw) {
    throw new Error('CONFORME_URL is not set: run scripts/browser-test.sh, or start `conforme serve` and export CONFORME_URL=http://127.0.0.1:PORT');
  }
  const url = new URL(raw);
  if (!isLoopback(url.hostname)) {
    throw new Error(`CONFORME_URL must point to a loopback address, got ${raw}`);
  }
  return url.origin;
})();

let browser;
let context;
/** Requests to non-loopback hosts, aborted by the route guard. */
const blockedRequests = [];

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
  context = await browser.newContext({
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
});

after(async () => {
  await context?.close();
  await browser?.close();
});

/**
 * Opens a new page that records uncaught script errors and failed
 * sub-resources (stylesheets, scripts, fonts, icons…).
 */
async function openPage() {
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`script error: ${err.message}`));
  page.on('requestfailed', (req) => {
    page.problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !res.request().isNavigationRequest()) {
      page.problems.push(`HTTP ${res.status()} for ${res.url()}`);
    }
  });
  return page;
}

/** Navigates and checks the HTTP status of the document. */
async function visit(page, path, expectedStatus = 200) {
  const res = await page.goto(BASE + path, { waitUntil: 'load' });
  assert.ok(res, `no response for ${path}`);
  assert.equal(res.status(), expectedStatus, `HTTP status of ${path}`);
  return res;
}

/** Submits the filter form and waits for the resulting page. */
async function applyFilters(page) {
  const before = page.url();
  await Promise.all([
    page.waitForURL((url) => url.href !== before, { waitUntil: 'load' }),
    page.click('#appliquer'),
  ]);
}

async function pageTotal(page) {
  const text = (await page.textContent('#resultats-total')).trim();
  assert.match(text, /^\d+$/, `#resultats-total should be a number, got "${text}"`);
  return Number(text);
}

async function rowIds(page) {
  return page.$$eval('table#table-exigences tbody tr[data-exigence]', (rows) =>
    rows.map((row) => row.dataset.exigence),
  );
}

/** The query of the current page, without empty parameters. */
function pageQuery(page) {
  const params = new URLSearchParams();
  for (const [key, value] of new URL(page.url()).searchParams) {
    if (value !== '') params.append(key, value);
  }
  return params;
}

/** Asks the JSON API for the same query (loopback only). */
async function api(params) {
  const res = await fetch(`${BASE}${API_PATH}?${params}`);
  assert.equal(res.status, 200, `API ${API_PATH}?${params}`);
  const body = await res.json();
  for (const key of ['items', 'total', 'page', 'per_page']) {
    assert.ok(key in body, `API answer has "${key}"`);
  }
  return body;
}

async function screenshot(page, name) {
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: true, animations: 'disabled' });
}

function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], `problems while loading ${page.url()}`);
}

describe('REM browser', { timeout: 120_000 }, () => {
  test('lists all 146 requirements, 20 per page, each linking to its page', async () => {
    const page = await openPage();
    try {
      await visit(page, REM_PATH);
      assert.equal(await pageTotal(page), TOTAL_REQUIREMENTS);
      const ids = await rowIds(page);
      assert.equal(ids.length, 20);
      const apiPage = await api(new URLSearchParams());
      assert.equal(apiPage.total, TOTAL_REQUIREMENTS);
      assert.deepEqual(ids, apiPage.items.map((r) => r.id), 'same rows and order as the API');
      const hrefs = await page.$$eval('table#table-exigences tbody tr[data-exigence] > :first-child a', (links) =>
        links.map((a) => a.getAttribute('href')),
      );
      assert.equal(hrefs.length, ids.length, 'every row links to its requirement');
      for (const href of hrefs) assert.ok(href.startsWith(`${REM_PATH}/exigences/`), href);
      await page.waitForSelector('#filtres');
      assertNoProblems(page);
    } finally {
      await page.close();
    }
  });

  test('search ignores accents and case, and filters narrow like the API', async () => {
    const page = await openPage();
    try {
      await visit(page, REM_PATH);

      // "IDENTITE" must find "identité".
      await page.fill('#q', 'IDENTITE');
      await applyFilters(page);
      assert.equal(new URL(page.url()).searchParams.get('q'), 'IDENTITE');
      assert.equal(await page.inputValue('#q'), 'IDENTITE', 'the form keeps the search');
      const searchTotal = await pageTotal(page);
      assert.ok(searchTotal > 0 && searchTotal < TOTAL_REQUIREMENTS, `search total ${searchTotal}`);
      assert.equal(searchTotal, (await api(pageQuery(page))).total, 'same total as the API');
      assert.equal(searchTotal, (await api(new URLSearchParams({ q: 'identité' }))).total, 'same total as "identité"');
      assert.equal((await rowIds(page)).length, Math.min(searchTotal, 20));

      // + profile "IAM".
      await page.selectOption('#profil', 'IAM');
      await applyFilters(page);
      let query = pageQuery(page);
      assert.equal(query.get('q'), 'IDENTITE');
      assert.equal(query.get('profil'), 'IAM');
      const profileTotal = await pageTotal(page);
      assert.ok(profileTotal > 0 && profileTotal < searchTotal, `profile total ${profileTotal} < ${searchTotal}`);
      assert.equal(profileTotal, (await api(query)).total, 'same total as the API');
      assert.deepEqual(await rowIds(page), (await api(query)).items.map((r) => r.id));
      for (const profil of await page.$$eval('table#table-exigences tbody tr td:nth-of-type(3)', (tds) => tds.map((td) => td.textContent.trim()))) {
        assert.equal(profil, 'IAM');
      }

      // Profile back to all, périmètre "Vague 1".
      await page.selectOption('#profil', '');
      await page.selectOption('#perimetre', 'Vague 1');
      await applyFilters(page);
      query = pageQuery(page);
      assert.equal(query.get('q'), 'IDENTITE');
      assert.equal(query.get('perimetre'), 'Vague 1');
      assert.equal(query.get('profil'), null);
      const perimetreTotal = await pageTotal(page);
      assert.ok(perimetreTotal > 0 && perimetreTotal < searchTotal, `périmètre total ${perimetreTotal} < ${searchTotal}`);
      assert.equal(perimetreTotal, (await api(query)).total, 'same total as the API');
      assert.deepEqual(await rowIds(page), (await api(query)).items.map((r) => r.id));
      assertNoProblems(page);
    } finally {
      await page.close();
    }
  });

  test('page 2 shows other rows, and pagination keeps the filters', async () => {
    const page = await openPage();
    try {
      await visit(page, REM_PATH);
      const firstIds = await rowIds(page);
      await Promise.all([
        page.waitForURL((url) => url.searchParams.get('page') === '2', { waitUntil: 'load' }),
        page.click('nav.fr-pagination a.fr-pagination__link[title="Page 2"]'),
      ]);
      const secondIds = await rowIds(page);
      assert.equal(secondIds.length, 20);
      assert.deepEqual(secondIds.filter((id) => firstIds.includes(id)), [], 'page 2 shares no row with page 1');
      assert.deepEqual(secondIds, (await api(new URLSearchParams({ page: '2' }))).items.map((r) => r.id));
      assert.equal(await page.getAttribute('nav.fr-pagination [aria-current="page"]', 'title'), 'Page 2');

      // With a filter, "Page suivante" keeps it.
      await page.selectOption('#perimetre', 'Vague 1');
      await applyFilters(page);
      const filteredTotal = await pageTotal(page);
      assert.ok(filteredTotal > 20, `needs more than one page, got ${filteredTotal}`);
      const filteredFirst = await rowIds(page);
      await Promise.all([
        page.waitForURL((url) => url.searchParams.get('page') === '2', { waitUntil: 'load' }),
        page.click('nav.fr-pagination a.fr-pagination__link--next'),
      ]);
      const query = pageQuery(page);
      assert.equal(query.get('perimetre'), 'Vague 1', 'the filter survives pagination');
      assert.equal(await pageTotal(page), filteredTotal);
      assert.equal(await page.inputValue('#perimetre'), 'Vague 1');
      const filteredSecond = await rowIds(page);
      assert.ok(filteredSecond.length > 0);
      assert.deepEqual(filteredSecond.filter((id) => filteredFirst.includes(id)), []);
      assert.deepEqual(filteredSecond, (await api(query)).items.map((r) => r.id));
      assertNoProblems(page);
    } finally {
      await page.close();
    }
  });

  test('clicking a result opens its requirement page', async () => {
    const page = await openPage();
    try {
      await visit(page, `${REM_PATH}?q=identite`);
      const row = page.locator('table#table-exigences tbody tr[data-exigence]').first();
      const id = await row.getAttribute('data-exigence');
      await Promise.all([
        page.waitForURL((url) => url.pathname.startsWith(`${REM_PATH}/exigences/`), { waitUntil: 'load' }),
        row.locator(':scope > :first-child a').click(),
      ]);
      assert.equal((await page.textContent('h1')).trim(), id);
      assert.ok((await page.title()).startsWith(id), `title "${await page.title()}"`);
      assertNoProblems(page);
    } finally {
      await page.close();
    }
  });

  test('a bad parameter shows an error alert and still the form', async () => {
    const page = await openPage();
    try {
      await visit(page, `${REM_PATH}?per_page=5000`, 400);
      const alert = page.locator('#filtres .fr-alert--error');
      assert.equal(await alert.count(), 1);
      assert.ok(await alert.isVisible());
      assert.match(await alert.textContent(), /per_page/);
      assert.ok(await page.isVisible('form#filtres'));
      assert.ok(await page.isVisible('#q'));
      assert.ok(await page.isVisible('#appliquer'));
      assertNoProblems(page);
    } finally {
      await page.close();
    }
  });
});

const PAGES = [
  { name: 'accueil', path: '/', h1: 'Référencement des logiciels de santé' },
  { name: 'dispositifs', path: '/dispositifs', h1: 'Dispositifs de référencement' },
  { name: 'dispositif', path: `/dispositifs/${PROGRAMME}`, h1: PROGRAMME, countdown: true },
  { name: 'rem-recherche', path: `${REM_PATH}?q=IDENTITE&perimetre=Vague+2` },
  { name: 'exigence', path: `${REM_PATH}/exigences/${REQUIREMENT_ID}`, h1: REQUIREMENT_ID },
  { name: 'rem-erreur', path: `${REM_PATH}?per_page=5000`, status: 400 },
];

describe('accessibility (axe, WCAG 2.1 A/AA) and screenshots', { timeout: 120_000 }, () => {
  for (const { name, path, h1, status = 200, countdown = false } of PAGES) {
    test(`${name}: ${path}`, async (t) => {
      const page = await openPage();
      try {
        await visit(page, path, status);
        if (h1) assert.equal((await page.textContent('h1')).trim(), h1);
        if (countdown) {
          const el = page.locator('.conforme-countdown[data-countdown-to]');
          assert.equal(await el.count(), 1, 'the programme page has a countdown');
          assert.ok(!Number.isNaN(Date.parse(await el.getAttribute('data-countdown-to'))));
          assert.notEqual((await el.textContent()).trim(), '');
        }
        // Let the DSFR script finish its set-up before the scan.
        await page.waitForLoadState('networkidle');
        await screenshot(page, name);

        const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
        const lines = results.violations.map((v) => {
          const first = v.nodes[0];
          return `${v.id} [${v.impact}] ${v.nodes.length} node(s), first: ${JSON.stringify(first?.target)} — ${v.help}`;
        });
        const review = results.incomplete.map((v) => `${v.id} (${v.nodes.length})`).join(', ') || 'none';
        const summary = `axe ${name}: ${results.violations.length} violation(s), ${results.passes.length} rule(s) passed, to review by hand: ${review}`;
        t.diagnostic(summary);
        for (const line of lines) t.diagnostic(line);
        const blocking = results.violations
          .filter((v) => BLOCKING_IMPACTS.has(v.impact))
          .map((v) => ({
            id: v.id,
            impact: v.impact,
            nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
          }));
        assert.deepEqual(blocking, [], `serious or critical axe violations on ${path}`);
        assertNoProblems(page);
      } finally {
        await page.close();
      }
    });
  }
});

test('no page tried to reach a host other than loopback', () => {
  assert.deepEqual(blockedRequests, []);
});
