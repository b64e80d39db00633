// The end of the référencement path through the pages, against a running
// `conforme demo` server (see scripts/browser-test.sh, which starts one and
// exports CONFORME_DEMO_URL), run with node's built-in test runner:
//
//   the instructor generates the convention of « DPI Démo Référençable » (its
//   proofs all ruled compliant by the demo seed); the legal representative
//   reads its digest, receives a code by email and signs; the programme
//   administrator schedules the committee for the demo's today; a committee
//   member attributes the référencement from the session's agenda; the editor
//   sees the number; the public verifies it and finds the solution in the
//   registry, and a forged number is caught by its check digits.
//
// - The browser is Debian's Chromium (env CHROMIUM, default /usr/bin/chromium);
//   playwright-core never downloads a browser of its own.
// - The base URL comes from env CONFORME_DEMO_URL and must be a loopback
//   address; every request the pages make to any other host is aborted and
//   reported.
// - Login goes through the pages: password, then the emailed code, read from
//   /demo/courriels; so does the signature code.
// - The demo's clock is put back on its today (Thursday 12 September 2024,
//   09:00) with PUT /api/v1/_clock if another test file moved it (the editor
//   flow moves it 30 days ahead at its end): committee sessions are on working
//   days, and this one is held today. The demo seed's référencement used the
//   committee of Thursday 5 September, another ISO week.
// - Full-page screenshots go to tests/browser/screenshots/ref-*.png (git-ignored).
//
// The steps depend on each other (the same demo data, changed as they go), so
// they run in order in one describe block.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const PASSWORD = 'Demo-Conforme-2024';
const EDITOR = 'editeur@demo.conforme.fr';
const INSTRUCTOR = 'instructeur@demo.conforme.fr';
const PILOT = 'pilote@demo.conforme.fr';
const MEMBER = 'comite@demo.conforme.fr';
const PROGRAMME = 'HOP-DPI-Va2';
const EDITOR_NAME = 'Éditions Démo Santé SAS';
/** The demo candidature whose référencement this file walks, and the one the seed referenced. */
const REF = {
  referencable: 'HOP-DPI-Va2-2024-0006',
  referenced: 'HOP-DPI-Va2-2024-0005',
};
const SOLUTION = 'DPI Démo Référençable';
const VERSION = 'v6.0.0';
/** The demo's today, a Thursday (ISO week 37). */
const TODAY = '2024-09-12';
const TODAY_AT = '2024-09-12T09:00:00+02:00';
const SESSION_LABEL = 'Comité du 12/09/2024';
const SEEDED_SESSION_LABEL = 'Comité du 05/09/2024';
const PHASE = {
  awaitingConvention: 'Convention en préparation',
  awaitingSignature: 'Convention à signer',
  onAgenda: "Inscrit à l'ordre du jour du comité",
  referenced: 'Référencé',
};
const NUMBER = /^HOP-DPI-Va2-2024-\d{4}-\d{2}$/;
const LOGO = 'Le logo « Référencé Ségur » peut être utilisé pour cette solution tant que la convention est en vigueur.';
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);
const SCREENSHOT_DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));
/** How long to wait for the demo's worker (it polls every second). */
const WORKER_WAIT_MS = 8_000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const isLoopback = (hostname) => LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);

const BASE = (() => {
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
/** Requests to non-loopback hosts, aborted by the route guard. */
const blockedRequests = [];
const contexts = [];

async function newContext() {
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

/**
 * Opens a new page that records uncaught script errors and failed
 * sub-resources (stylesheets, scripts, fonts, icons…).
 */
async function openPage(context) {
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
function assertNoProblems(page) {
  assert.deepEqual(page.problems.splice(0), [], `problems while loading ${page.url()}`);
}

/** Navigates and checks the HTTP status of the (final) document. */
async function visit(page, path, expectedStatus = 200) {
  const res = await page.goto(BASE + path, { waitUntil: 'load' });
  assert.ok(res, `no response for ${path}`);
  assert.equal(res.status(), expectedStatus, `HTTP status of ${path}`);
  return res;
}

/**
 * Clicks what submits a form (or follows a link) and waits for the next
 * document, after any redirect; returns its response.
 */
async function submit(page, target) {
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

async function screenshot(page, name) {
  await page.screenshot({ path: `${SCREENSHOT_DIR}ref-${name}.png`, fullPage: true, animations: 'disabled' });
}

/**
 * Screenshot, then axe scan (WCAG 2.1 A/AA): the findings are reported as
 * diagnostics, and serious or critical violations fail the test.
 */
async function checkPage(t, page, name) {
  // Let the DSFR script finish its set-up before the scan.
  await page.waitForLoadState('networkidle');
  await screenshot(page, name);
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const review = results.incomplete.map((v) => `${v.id} (${v.nodes.length})`).join(', ') || 'none';
  t.diagnostic(
    `axe ref-${name} (${new URL(page.url()).pathname}): ${results.violations.length} violation(s), `
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
const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

// ---------------------------------------------------------------------------
// Demo emails and login

/** The emails listed on /demo/courriels, latest first. */
async function demoEmails(page) {
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
async function emailFiles(context) {
  const page = await openPage(context);
  try {
    return new Set((await demoEmails(page)).map((e) => e.file));
  } finally {
    await page.close();
  }
}

/** Waits for a new login-code email to `to` on /demo/courriels and returns its code. */
async function readLoginCode(context, to, known) {
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
async function logIn(page, email, { t = null, expectNext = '/espace' } = {}) {
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

// ---------------------------------------------------------------------------
// Clock and pages

async function clockNow() {
  const res = await fetch(`${BASE}/api/v1/_clock`);
  assert.equal(res.status, 200, 'GET /api/v1/_clock');
  return new Date((await res.json()).now);
}

async function setClock(instant) {
  const res = await fetch(`${BASE}/api/v1/_clock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ now: instant.toISOString() }),
  });
  assert.equal(res.status, 200, `PUT /api/v1/_clock: ${await res.clone().text()}`);
  return new Date((await res.json()).now);
}

/** The calendar date in Paris of an instant, as YYYY-MM-DD. */
const parisDate = (d) => d.toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });

const phaseOf = (page) => text(page.locator('#phase'));

/** The candidature ids by reference, from a workspace or queue table whose rows link to them. */
async function candidaturePath(page, reference) {
  const link = page.locator('main table tbody tr a', { hasText: reference });
  assert.equal(await link.count(), 1, `one row links to ${reference}`);
  const href = await link.getAttribute('href');
  const m = href.match(/^\/candidatures\/([^/]+)/);
  assert.ok(m, `${reference} links to its candidature: ${href}`);
  return `/candidatures/${m[1]}`;
}

// ---------------------------------------------------------------------------

describe('the référencement path through the pages (demo data)', { timeout: 240_000 }, () => {
  let instructor; // { context, page }
  let editor;
  let pilot;
  let member;
  /** /candidatures/{id} of the candidature walked. */
  let path;
  let digest;
  let sessionPath;
  let number;

  before(async () => {
    const now = await clockNow();
    if (parisDate(now) !== TODAY) {
      const set = await setClock(new Date(TODAY_AT));
      console.log(`# the demo clock was at ${now.toISOString()}; put back on its today: ${set.toISOString()}`);
    }
  });

  test('the instructor opens the référencement page of « DPI Démo Référençable » and generates the convention', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    instructor = { context, page };
    await visit(page, '/instruction/preuves');
    assert.equal(new URL(page.url()).pathname, '/connexion', 'the proof workspace needs a login');
    await logIn(page, INSTRUCTOR, { expectNext: '/instruction/preuves' });
    const row = page.locator('main table tbody tr', { hasText: REF.referencable });
    assert.match(await text(row), new RegExp(SOLUTION), 'the proof workspace lists the candidature with its solution');
    path = await candidaturePath(page, REF.referencable);

    await visit(page, path);
    assert.equal(await text(page.locator('h1')), `Candidature ${REF.referencable}`);
    await submit(page, '#lien-referencement');
    assert.equal(new URL(page.url()).pathname, `${path}/referencement`);
    assert.equal(await text(page.locator('h1')), `Référencement — ${REF.referencable}`);
    assert.equal(await text(page.locator('main .fr-text--lead')), `${SOLUTION}, version ${VERSION} — ${PROGRAMME}`);
    assert.equal(await phaseOf(page), PHASE.awaitingConvention, 'every proof is compliant: the convention is to be prepared');
    assert.equal(
      await page.locator('.fr-breadcrumb__link').first().getAttribute('href'),
      '/instruction/preuves',
      'the instructor’s way back is a page of theirs',
    );
    assert.match(await text(page.locator('#convention')), /Aucune convention n’a encore été générée\./);
    await checkPage(t, page, 'referencement-a-preparer');

    const res = await submit(page, '#generer-convention');
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, `${path}/referencement`);
    assert.equal(await phaseOf(page), PHASE.awaitingSignature);
    assert.match(await page.locator('#convention-pdf').getAttribute('href'), /^\/pieces\/[^/]+$/);
    digest = await text(page.locator('#convention code'));
    assert.match(digest, /^[0-9a-f]{64}$/, 'the digest of the generated convention is shown');
    assert.match(await text(page.locator('#convention')), /Convention générée le jeudi 12 septembre 2024/);
    assert.equal(await page.locator('#signature').count(), 0, 'only the legal representative signs');
    await checkPage(t, page, 'referencement-convention-generee');
    assertNoProblems(page);
  });

  test('the legal representative reads the digest, receives a code by email and signs', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    editor = { context, page };
    await visit(page, '/espace');
    await logIn(page, EDITOR, { expectNext: '/espace' });
    assert.equal(await candidaturePath(page, REF.referencable), path, 'the workspace lists the candidature');
    await visit(page, path);
    await submit(page, '#lien-referencement');
    assert.equal(new URL(page.url()).pathname, `${path}/referencement`);
    assert.equal(await phaseOf(page), PHASE.awaitingSignature);
    // Nothing is downloaded: the digest shown is the one generated, and the one the form signs.
    assert.equal(await text(page.locator('#convention code')), digest);
    assert.equal(await page.locator('#signature input[name="sha256"]').inputValue(), digest);
    assert.match(await text(page.locator('#signature')), /reçu par courriel/);
    await checkPage(t, page, 'referencement-a-signer');

    const known = await emailFiles(context);
    let res = await submit(page, '#envoyer-code');
    assert.equal(res.status(), 200);
    assert.equal(
      await text(page.locator('main .fr-alert--info[role="status"] p')),
      `Un code de confirmation a été envoyé à ${EDITOR} ; il est valable 10 minutes.`,
    );
    const code = await readLoginCode(context, EDITOR, known);
    await page.fill('#code-signature', code);
    await checkPage(t, page, 'referencement-code-envoye');
    res = await submit(page, '#signer');
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, `${path}/referencement`);
    assert.equal(await phaseOf(page), PHASE.onAgenda);
    const proof = await text(page.locator('#preuve-signature'));
    assert.match(proof, /Par Camille Éditeur, le jeudi 12 septembre 2024/);
    assert.match(proof, /code à usage unique envoyé par courriel à editeur@demo\.conforme\.fr/);
    assert.ok(proof.includes(digest), 'the signature proof names the digest signed');
    assert.match(await text(page.locator('#comite')), /inscrite à l’ordre du jour du prochain comité/);
    await checkPage(t, page, 'referencement-signe');
    assertNoProblems(page);
  });

  test('the programme administrator schedules the committee for today', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    pilot = { context, page };
    await visit(page, '/comite');
    assert.equal(new URL(page.url()).pathname, '/connexion', 'the committee needs a login');
    await logIn(page, PILOT, { expectNext: '/comite' });
    assert.equal(await text(page.locator('h1')), 'Comité technique de référencement');
    const agenda = page.locator('#ordres-du-jour tbody tr', { hasText: PROGRAMME });
    assert.equal(await text(agenda.locator('td').nth(2)), '1', 'one candidature on the agenda');
    const seeded = page.locator('#seances li', { hasText: SEEDED_SESSION_LABEL });
    assert.match(await text(seeded), /Close/, 'the seed’s session of 5 September is closed');
    await checkPage(t, page, 'comite-seances');

    await page.selectOption('#seance-dispositif', PROGRAMME);
    await page.fill('#seance-date', TODAY);
    const res = await submit(page, '#programmer-seance button[type="submit"]');
    assert.equal(res.status(), 200);
    const url = new URL(page.url());
    assert.match(url.pathname, /^\/comite\/[^/]+$/, 'the new session’s agenda');
    sessionPath = url.pathname;
    assert.equal(await text(page.locator('h1')), `${SESSION_LABEL} — ${PROGRAMME}`);
    assert.match(await text(page.locator(`#candidature-${REF.referencable}`)), new RegExp(`${EDITOR_NAME}, ${SOLUTION} ${VERSION}`));
    assert.equal(await page.locator(`#candidature-${REF.referencable} form`).count(), 0, 'only committee members decide');
    await checkPage(t, page, 'comite-seance-programmee');
    assertNoProblems(page);
  });

  test('a committee member opens the session’s agenda and attributes the référencement', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    member = { context, page };
    await visit(page, '/comite');
    await logIn(page, MEMBER, { expectNext: '/comite' });
    await submit(page, page.locator('#seances a', { hasText: SESSION_LABEL }));
    assert.equal(new URL(page.url()).pathname, sessionPath);
    assert.equal(await text(page.locator('h1')), `${SESSION_LABEL} — ${PROGRAMME}`);
    const card = page.locator(`#candidature-${REF.referencable}`);
    const about = await text(card);
    assert.match(about, new RegExp(`${REF.referencable} — ${EDITOR_NAME}, ${SOLUTION} ${VERSION}`));
    assert.match(about, /Profils : Général\. Convention signée le jeudi 12 septembre 2024/);
    const modes = await card.locator('fieldset label').allTextContents();
    assert.deepEqual(modes.map((m) => m.trim()), ['Attribution du référencement', 'Réserves bloquantes (non-attribution)']);
    const decisions = page.locator('main h2', { hasText: 'Décisions de la séance' }).locator('xpath=following-sibling::*[1]');
    assert.equal(await text(decisions), 'Aucune décision enregistrée.');
    await checkPage(t, page, 'comite-ordre-du-jour');

    await card.locator(`label[for="mode-${REF.referencable}-attribution"]`).click();
    assert.ok(await card.locator(`#mode-${REF.referencable}-attribution`).isChecked());
    await card.locator(`#motifs-${REF.referencable}`).fill('Dossier de preuves conforme.');
    const res = await submit(page, card.locator('button[type="submit"]'));
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, sessionPath);
    assert.equal(await page.locator(`#candidature-${REF.referencable}`).count(), 0, 'decided: off the agenda');
    assert.equal(await text(page.locator('#ordre-du-jour-vide')), 'Aucune candidature à l’ordre du jour.');
    assert.equal(
      await text(page.locator('#decisions li', { hasText: REF.referencable })),
      `${REF.referencable} — Attribution du référencement : Dossier de preuves conforme.`,
    );
    await checkPage(t, page, 'comite-decision');
    assertNoProblems(page);
  });

  test('the editor sees the number, the attestation and the logo sentence', async (t) => {
    const { page } = editor;
    await visit(page, `${path}/referencement`);
    assert.equal(await phaseOf(page), PHASE.referenced);
    number = await text(page.locator('#numero'));
    assert.match(number, NUMBER);
    t.diagnostic(`référencement number: ${number}`);
    assert.equal(await text(page.locator('#logo')), LOGO);
    assert.match(await page.locator('#attestation-pdf').getAttribute('href'), /^\/pieces\/[^/]+$/);
    const button = await page.locator('#attestation-pdf').boundingBox();
    assert.ok(button.width > 150, `the attestation button shows its text, not only its icon (${button.width} px wide)`);
    assert.equal(await page.locator('#verifier').getAttribute('href'), `/verification/${number}`);
    assert.match(await text(page.locator('#comite')), new RegExp(`${SESSION_LABEL} — Attribution du référencement`));
    await checkPage(t, page, 'referencement-attribue');
    assertNoProblems(page);
  });

  test('the public verifies the number and finds the solution in the registry; a forged number is caught', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    try {
      await visit(page, `/verification/${number}`);
      assert.equal(await text(page.locator('#resultat .fr-alert__title')), 'Référencement valide');
      const table = await text(page.locator('#table-verification'));
      for (const s of [number, EDITOR_NAME, SOLUTION, VERSION, PROGRAMME]) {
        assert.ok(table.includes(s), `the verification shows ${s}: ${table}`);
      }
      assert.match(await text(page.locator('#droit-logo')), /^oui/);
      assert.equal(await page.locator('form[action="/deconnexion"]').count(), 0, 'not logged in');
      await checkPage(t, page, 'verification');

      await visit(page, `/registre/${PROGRAMME}`);
      const row = page.locator('main table tbody tr', { hasText: number });
      assert.equal(await row.count(), 1, `the registry lists ${number}`);
      const cells = await text(row);
      assert.ok(cells.includes(SOLUTION) && cells.includes(EDITOR_NAME) && cells.includes(VERSION), cells);
      assert.equal(await row.locator(`a[href="/verification/${number}"]`).count(), 1, 'the number links to its verification');
      assert.equal(
        await page.locator('main table tbody tr', { hasText: /HOP-DPI-Va2-2024-\d{4}-\d{2}/ }).count(),
        2,
        'the seed’s référencement and this one',
      );
      await checkPage(t, page, 'registre');

      // One digit changed: the check digits (ISO 7064 MOD 97-10) tell.
      const forged = number.replace(/(\d)(-\d{2})$/, (_, d, key) => `${(Number(d) + 1) % 10}${key}`);
      assert.notEqual(forged, number);
      await visit(page, `/verification/${forged}`, 422);
      assert.equal(await text(page.locator('#resultat .fr-alert__title')), 'Numéro erroné ou altéré');
      assert.match(await text(page.locator('#resultat')), /altéré/);
      assert.equal(await page.locator('#table-verification').count(), 0, 'nothing is confirmed');
      await checkPage(t, page, 'verification-alteree');
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });

  test('no page tried to reach a host other than loopback', () => {
    assert.deepEqual(blockedRequests, []);
  });
});
