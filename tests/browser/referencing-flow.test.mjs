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

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blockedRequests,
  newContext,
  openPage,
  assertNoProblems,
  visit,
  submit,
  checkPage,
  text,
  emailFiles,
  readLoginCode,
  logIn,
  clockNow,
  setClock,
  useDemoBrowser,
} from './demo-harness.mjs';

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
useDemoBrowser('ref');

// ---------------------------------------------------------------------------
// Pages

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
