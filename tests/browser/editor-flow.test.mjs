// The editor's and the instructor's journeys through the pages, against a
// running `conforme demo` server (see scripts/browser-test.sh, which starts one
// and exports CONFORME_DEMO_URL), run with node's built-in test runner.
//
// - The browser is Debian's Chromium (env CHROMIUM, default /usr/bin/chromium);
//   playwright-core never downloads a browser of its own.
// - The base URL comes from env CONFORME_DEMO_URL and must be a loopback
//   address; every request the pages make to any other host is aborted and
//   reported.
// - Login goes through the pages: password, then the emailed code, read from
//   /demo/courriels (demo mode writes emails there instead of sending them).
// - The demo's clock is moved with PUT /api/v1/_clock, at the end only (the
//   automatic rejection of an unanswered complement).
// - Full-page screenshots go to tests/browser/screenshots/flow-*.png (git-ignored).
//
// The steps depend on each other (the same demo data, changed as they go), so
// they run in order in one describe block.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WORKER_WAIT_MS,
  blockedRequests,
  newContext,
  openPage,
  assertNoProblems,
  visit,
  submit,
  screenshot,
  checkPage,
  text,
  logIn,
  clockNow,
  setClock,
  useDemoBrowser,
} from './demo-harness.mjs';

const EDITOR = 'editeur@demo.conforme.fr';
const INSTRUCTOR = 'instructeur@demo.conforme.fr';
const REF = {
  validated: 'HOP-DPI-Va2-2024-0001',
  complement: 'HOP-DPI-Va2-2024-0002',
  rejected: 'HOP-DPI-Va2-2024-0003',
  draft: 'HOP-DPI-Va2-2024-0004',
  referenced: 'HOP-DPI-Va2-2024-0005',
  referencable: 'HOP-DPI-Va2-2024-0006',
  submitted: 'MS2-DUI-PDE-Va1-SF-2024-0001',
};
const COMPLEMENT_DUE = 'mercredi 18 septembre 2024 à 24 h 00';
const MISSING_PIECES = ["Preuve de la demande d'homologation CNDA", 'Documentation des fonctions minimales'];
const STATE = {
  draft: 'Brouillon',
  submitted: "Déposé, en attente d'examen",
  complement: 'Complément demandé',
  validated: 'Dossier administratif validé',
  rejected: 'Rejeté',
};
useDemoBrowser('flow');

// ---------------------------------------------------------------------------
// Candidature pages

/** The candidature ids by reference, from the workspace table. */
async function workspaceRows(page) {
  return page.$$eval('main table tbody tr', (rows) =>
    rows.map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s+/g, ' ').trim());
      const a = tr.querySelector('td a');
      return { reference: cells[0], href: a?.getAttribute('href'), state: cells[3], due: cells[5] };
    }),
  );
}

async function stateOf(page) {
  return text(page.locator('#etat'));
}

/** The thread of a candidature page: "kind — author — at" and body of each message. */
async function thread(page) {
  return page.$$eval('.conforme-message', (ms) =>
    ms.map((m) => ({
      meta: m.querySelector('p')?.innerText.trim() ?? '',
      body: m.querySelector('.conforme-text')?.innerText.trim() ?? '',
    })),
  );
}

async function errorList(page) {
  return page.$$eval('main .fr-alert--error li', (lis) => lis.map((li) => li.innerText.trim()));
}

// ---------------------------------------------------------------------------

describe('editor and instructor journeys (demo data)', { timeout: 240_000 }, () => {
  let editor; // { context, page }
  let instructor;
  /** Candidature paths by reference. */
  const paths = {};
  const answer = `Le numéro NIL de la version candidate est NIL-0002. L'extrait Kbis suit par courrier (test ${Date.now()}).`;

  test('the editor logs in through the pages, the code read from /demo/courriels', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    editor = { context, page };
    await visit(page, '/connexion');
    await logIn(page, EDITOR, { t });
    assertNoProblems(page);
  });

  test('the workspace lists the 7 candidatures of the organisation', async (t) => {
    const { page } = editor;
    await visit(page, '/espace');
    assert.equal(await text(page.locator('h1')), 'Mon espace');
    assert.match(await text(page.locator('main .fr-callout__title').first()), /Éditions Démo Santé SAS/);
    const rows = await workspaceRows(page);
    assert.equal(rows.length, 7, `7 candidatures, got ${JSON.stringify(rows)}`);
    assert.deepEqual(rows.map((r) => r.reference).sort(), Object.values(REF).sort());
    for (const r of rows) {
      assert.match(r.href, /^\/candidatures\/[^/]+$/, `${r.reference} links to its page`);
      paths[r.reference] = r.href;
    }
    const byRef = Object.fromEntries(rows.map((r) => [r.reference, r]));
    assert.equal(byRef[REF.draft].state, STATE.draft);
    assert.equal(byRef[REF.complement].state, STATE.complement);
    assert.equal(byRef[REF.validated].state, STATE.validated);
    assert.equal(byRef[REF.rejected].state, STATE.rejected);
    assert.equal(byRef[REF.submitted].state, STATE.submitted);
    assert.equal(byRef[REF.referenced].state, STATE.validated);
    assert.equal(byRef[REF.referencable].state, STATE.validated);
    assert.match(byRef[REF.complement].due, /18\/09\/2024|18 septembre 2024/);
    await checkPage(t, page, 'espace');
    assertNoProblems(page);
  });

  test('an anonymous visitor opening a candidature lands on /connexion', async () => {
    const context = await newContext();
    const page = await openPage(context);
    try {
      const path = paths[REF.complement];
      assert.ok(path, 'the workspace gave the candidature path');
      await visit(page, path);
      const url = new URL(page.url());
      assert.equal(url.pathname, '/connexion');
      assert.equal(url.searchParams.get('suite'), path, 'the login page keeps where to go back');
      assert.equal(await text(page.locator('h1')), 'Se connecter à Conforme');
      assert.equal(await page.locator('#etat').count(), 0, 'nothing of the candidature is shown');
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });

  test('the draft: saving with nothing filled shows the errors next to the fields', async (t) => {
    const { page } = editor;
    await visit(page, paths[REF.draft]);
    assert.equal(await text(page.locator('h1')), `Candidature ${REF.draft}`);
    assert.equal(await stateOf(page), STATE.draft);
    await submit(page, `main a[href="${paths[REF.draft]}/dossier"]`);
    assert.equal(new URL(page.url()).pathname, `${paths[REF.draft]}/dossier`);
    assert.equal(await text(page.locator('h1')), 'Dossier administratif — HOP-DPI-Va2');
    assert.equal(await page.locator('.fr-error-text').count(), 0, 'a never-saved draft shows no error yet');

    const res = await submit(page, '#enregistrer');
    assert.equal(res.status(), 200, 'a draft saves even when incomplete');
    assert.match(await text(page.locator('main .fr-alert--success > p')), /^Brouillon enregistré\. Il reste \d+ points à compléter avant le dépôt :$/);
    assert.ok((await page.locator('main .fr-alert--success li').count()) > 2, 'the remaining points are listed');
    for (const id of ['commercial_name', 'technical_version', 'cnda_nil']) {
      assert.equal(await page.locator(`.fr-input-group--error:has(#${id}) .fr-error-text`).count(), 1, `error under #${id}`);
    }
    assert.equal(await page.locator('fieldset.fr-fieldset--error[aria-labelledby="vague1-legend"]').count(), 1, 'wave 1 question in error');
    await checkPage(t, page, 'dossier-erreurs');
    assertNoProblems(page);
  });

  test('the draft: filled and saved, only the two attachments are missing', async (t) => {
    const { page } = editor;
    await page.fill('#commercial_name', 'DPI Démo Navigateur');
    await page.fill('#technical_version', 'v6.0.0-rc1');
    // DSFR radios and checkboxes are drawn by their labels, which take the clicks.
    await page.click('label[for="vague1-non"]');
    await page.fill('#cnda_nil', 'NIL-0004');
    await page.click('label[for="no_additional_components"]');
    assert.ok(await page.isChecked('#vague1-non'));
    assert.ok(await page.isChecked('#no_additional_components'));
    const res = await submit(page, '#enregistrer');
    assert.equal(res.status(), 200);
    assert.equal(
      await text(page.locator('main .fr-alert--success > p')),
      'Brouillon enregistré. Il reste 2 points à compléter avant le dépôt :',
    );
    assert.deepEqual(
      await page.locator('main .fr-alert--success li').allTextContents(),
      MISSING_PIECES.map((p) => `${p} : pièce obligatoire`),
    );
    assert.equal(await page.inputValue('#commercial_name'), 'DPI Démo Navigateur', 'the form shows what was saved');
    assert.equal(await page.inputValue('#technical_version'), 'v6.0.0-rc1');
    assert.equal(await page.inputValue('#cnda_nil'), 'NIL-0004');
    assert.ok(await page.isChecked('#vague1-non'));
    assert.ok(await page.isChecked('#no_additional_components'));
    assert.equal(await page.locator('form[action$="/dossier"] .fr-error-text').count(), 0, 'no field of the form is in error');
    // What is still missing: the two required pieces.
    const pieces = await text(page.locator('#pieces + p'));
    for (const label of MISSING_PIECES) assert.ok(pieces.includes(label), `"${pieces}" names ${label}`);
    assert.match(pieces, /Manquantes\./);
    for (const field of ['cnda_application_proof', 'documentation']) {
      assert.equal(await text(page.locator(`#piece-${field}-fichier`)), 'aucun fichier');
    }
    await checkPage(t, page, 'dossier-enregistre');
    assertNoProblems(page);
  });

  test('the draft: submitting from the candidature page lists the missing attachments', async (t) => {
    const { page } = editor;
    await visit(page, paths[REF.draft]);
    const fields = await text(page.locator('main dl.conforme-fields'));
    assert.ok(fields.includes('DPI Démo Navigateur') && fields.includes('v6.0.0-rc1'), 'the saved dossier is shown');
    const res = await submit(page, '#deposer');
    assert.equal(res.status(), 422, 'an incomplete dossier is refused');
    assert.equal(await text(page.locator('main .fr-alert--error .fr-alert__title')), '2 points à corriger');
    const errors = await errorList(page);
    assert.deepEqual(errors, MISSING_PIECES.map((label) => `${label} : pièce obligatoire`));
    assert.equal(await stateOf(page), STATE.draft, 'still a draft');
    await checkPage(t, page, 'candidature-depot-refuse');
    assertNoProblems(page);
  });

  test('the complement: due time, live countdown, and the answer', async (t) => {
    const { page } = editor;
    await visit(page, paths[REF.complement]);
    assert.equal(await text(page.locator('h1')), `Candidature ${REF.complement}`);
    assert.equal(await stateOf(page), STATE.complement);
    const callout = page.locator('#echeance');
    assert.equal(await text(callout.locator('.fr-callout__title')), `Réponse attendue au plus tard le ${COMPLEMENT_DUE}`);
    const countdown = callout.locator('.conforme-countdown');
    assert.equal(await countdown.count(), 1);
    const due = Date.parse(await countdown.getAttribute('data-countdown-to'));
    assert.equal(new Date(due).toISOString(), '2024-09-18T22:00:00.000Z', 'due at 24:00 Paris time (22:00 UTC)');
    const first = await text(countdown);
    assert.match(first, /^\d+ j \d\d h \d\d min \d\d s$/, `countdown "${first}"`);
    await page.waitForFunction(
      ([el, before]) => el.textContent.replace(/\s+/g, ' ').trim() !== before,
      [await countdown.elementHandle(), first],
      { timeout: 2_000 },
    );
    const requests = (await thread(page)).filter((m) => m.meta.startsWith('Demande de complément'));
    assert.equal(requests.length, 1, 'the request is in the thread');
    assert.match(requests[0].body, /numéro NIL/);
    await checkPage(t, page, 'candidature-complement');

    await page.fill('#reponse', answer);
    const res = await submit(page, 'form[action$="/reponse"] button[type="submit"]');
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, paths[REF.complement]);
    assert.equal(await stateOf(page), STATE.submitted);
    assert.equal(await page.locator('#echeance').count(), 0, 'no more due time');
    assert.equal(await page.locator('#reponse').count(), 0, 'no more answer form');
    const answers = (await thread(page)).filter((m) => m.meta.startsWith('Réponse au complément'));
    assert.equal(answers.length, 1, 'the answer is in the thread');
    assert.equal(answers[0].body, answer);
    assert.match(answers[0].meta, /Camille Éditeur/);
    await screenshot(page, 'candidature-repondue');
    assertNoProblems(page);
  });

  test('the editor\'s notifications', async (t) => {
    const { page } = editor;
    await visit(page, '/notifications');
    assert.equal(await text(page.locator('h1')), 'Notifications');
    const items = await page.$$eval('main ul.conforme-list > li', (lis) => lis.map((li) => li.innerText.replace(/\s+/g, ' ').trim()));
    assert.ok(items.some((i) => i.includes(`Complément demandé : ${REF.complement}`)), `notifications: ${JSON.stringify(items)}`);
    assert.ok(items.some((i) => i.includes(`Dossier ${REF.validated} validé`)));
    assert.ok(items.some((i) => i.includes(`Dossier ${REF.rejected} rejeté`)));
    const links = await page.$$eval('main ul.conforme-list a', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(links.includes(paths[REF.complement]), 'a notification links to its candidature');
    await checkPage(t, page, 'notifications');
    assertNoProblems(page);
  });

  test('the organisation page', async (t) => {
    const { page } = editor;
    await visit(page, '/organisation');
    assert.equal(await text(page.locator('h1')), 'Éditions Démo Santé SAS');
    await checkPage(t, page, 'organisation');
    assertNoProblems(page);
  });

  test('the charter page, already accepted', async (t) => {
    const { page } = editor;
    await visit(page, '/dispositifs/HOP-DPI-Va2/charte');
    assert.match(await text(page.locator('#acceptation')), /Charte acceptée par votre organisation/);
    await checkPage(t, page, 'charte');
    assertNoProblems(page);
  });

  test('the instructor sees the answered dossier in the queue and validates it', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    instructor = { context, page };
    await visit(page, '/instruction');
    assert.equal(new URL(page.url()).pathname, '/connexion', 'the queue needs a login');
    await logIn(page, INSTRUCTOR, { expectNext: '/instruction' });
    assert.equal(await text(page.locator('h1')), "File d'instruction des dossiers administratifs");
    const rows = await page.$$eval('main table tbody tr', (trs) =>
      trs.map((tr) => {
        const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s+/g, ' ').trim());
        return { reference: cells[0], organisation: cells[1], since: cells[4], state: cells[5], href: tr.querySelector('a')?.getAttribute('href') };
      }),
    );
    t.diagnostic(`queue: ${rows.map((r) => `${r.reference} (${r.state}, ${r.since})`).join(' ; ')}`);
    assert.deepEqual(rows.map((r) => r.reference).sort(), [REF.complement, REF.submitted].sort());
    assert.ok(rows.every((r) => r.organisation === 'Éditions Démo Santé SAS'));
    assert.equal(rows.find((r) => r.reference === REF.submitted).state, 'À examiner');
    assert.equal(rows.find((r) => r.reference === REF.complement).state, 'Complément reçu', 'an answered complement is marked');
    // The queue is ordered oldest (last) deposit first (README: "a queue oldest
    // first"); answering the complement re-deposits the dossier now (12/09),
    // after the MS2 dossier's deposit (11/09), so the answered dossier comes second.
    const answered = rows.find((r) => r.reference === REF.complement);
    assert.match(answered.since, /^12\/09\/2024 \d\d:\d\d$/, 'the answer counts as the latest deposit');
    const sortable = (since) => since.replace(/^(\d\d)\/(\d\d)\/(\d{4}) (.*)$/, '$3-$2-$1 $4');
    const order = rows.map((r) => sortable(r.since));
    assert.deepEqual(order, [...order].sort(), 'oldest deposit first');
    await checkPage(t, page, 'instruction');

    await submit(page, page.locator('main table tbody tr a', { hasText: REF.complement }));
    assert.equal(new URL(page.url()).pathname, paths[REF.complement]);
    assert.equal(await stateOf(page), STATE.submitted);
    const answers = (await thread(page)).filter((m) => m.meta.startsWith('Réponse au complément'));
    assert.equal(answers.length, 1);
    assert.equal(answers[0].body, answer, 'the instructor reads the answer');
    await checkPage(t, page, 'candidature-instruction');
    const res = await submit(page, '#valider');
    assert.equal(res.status(), 200);
    assert.equal(await stateOf(page), STATE.validated);
    assert.equal(await page.locator('#valider').count(), 0, 'no more decision form');
    await screenshot(page, 'candidature-validee');
    assertNoProblems(page);
  });

  test('the editor opens the proof dossier of the validated candidature and deposits a proof', async (t) => {
    const { page } = editor;
    await visit(page, paths[REF.validated]);
    await submit(page, '#dossier-preuves');
    assert.equal(new URL(page.url()).pathname, `${paths[REF.validated]}/preuves`);
    assert.match(await text(page.locator('h1')), /^Dossier de preuves/);
    const progress = await text(page.locator('#progression .fr-callout__title'));
    t.diagnostic(`progress: ${progress}`);
    assert.match(progress, /^0 preuve\(s\) requise\(s\) déposée\(s\) sur \d+ \(0 %\)$/);
    assert.match(await text(page.locator('#progression')), /au plus tard le mardi 31 mars 2026 à 12 h 00/, 'the deposit rule names its cut-off');
    // The first chapter, opened, and a screenshot deposited against its first required proof.
    await page.locator('.fr-accordion__btn').first().click();
    const proof = page.locator('.conforme-proof').first();
    await proof.locator('input[type=file]').setInputFiles({
      name: 'capture-ecran.png',
      mimeType: 'image/png',
      buffer: Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
    });
    const res = await submit(page, proof.locator('button', { hasText: 'Déposer' }));
    assert.equal(res.status(), 200);
    assert.match(await text(page.locator('#progression .fr-callout__title')), /^1 preuve/);
    await page.locator('.fr-accordion__btn').first().click();
    const deposited = page.locator('.conforme-proof').first();
    assert.match(await text(deposited), /capture-ecran\.png/);
    assert.match(await text(deposited), /SHA-256 : [0-9a-f]{64}/);
    await checkPage(t, page, 'preuves-editeur');
    assertNoProblems(page);
  });

  test('the instructor finds it in the proof workspace, with the automatic checks beside the file', async (t) => {
    const { page } = instructor;
    await visit(page, '/instruction/preuves');
    assert.equal(await text(page.locator('h1')), 'Instruction des dossiers de preuves');
    const refs = await page.$$eval('main table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent.trim()));
    assert.ok(refs.includes(REF.validated), `workspace lists ${REF.validated}: ${refs}`);
    await checkPage(t, page, 'instruction-preuves');
    await submit(page, page.locator('main table tbody tr a', { hasText: REF.validated }));
    await page.locator('.fr-accordion__btn').first().click();
    const checks = await text(page.locator('.conforme-checks').first());
    t.diagnostic(`checks: ${checks}`);
    assert.match(checks, /Fichier non vide/i);
    await checkPage(t, page, 'preuves-instructeur');
    assertNoProblems(page);
  });

  test('an unanswered complement is rejected automatically once the clock passes its due time', async (t) => {
    const { page } = instructor;
    await visit(page, paths[REF.submitted]);
    assert.equal(await stateOf(page), STATE.submitted);
    await page.fill('#complement', 'Merci de joindre la documentation à jour des fonctions minimales.');
    let res = await submit(page, 'form[action$="/complement"] button[type="submit"]');
    assert.equal(res.status(), 200);
    assert.equal(await stateOf(page), STATE.complement);
    const dueIso = await page.locator('#echeance .conforme-countdown').getAttribute('data-countdown-to');
    t.diagnostic(`complement on ${REF.submitted} due ${dueIso}: ${await text(page.locator('#echeance .fr-callout__title'))}`);

    const now = await clockNow();
    const later = await setClock(new Date(now.getTime() + 30 * 24 * 3600 * 1000));
    assert.ok(later.getTime() > Date.parse(dueIso), `the clock (${later.toISOString()}) is past the due time ${dueIso}`);
    // The worker polls every second.
    await page.waitForTimeout(3_000);

    const { page: ed } = editor;
    const deadline = Date.now() + WORKER_WAIT_MS;
    for (;;) {
      await visit(ed, paths[REF.submitted]);
      if (new URL(ed.url()).pathname === '/connexion') {
        // Sessions last 12 hours of the platform's clock, which just moved 30 days.
        t.diagnostic('the editor\'s session expired with the clock move: logging in again');
        await logIn(ed, EDITOR, { expectNext: paths[REF.submitted] });
      }
      if ((await stateOf(ed)) === STATE.rejected) break;
      assert.ok(Date.now() < deadline, `still "${await stateOf(ed)}" ${WORKER_WAIT_MS} ms after the clock move`);
      await ed.waitForTimeout(1_000);
    }
    const decisions = (await thread(ed)).filter((m) => m.body.includes('Rejet automatique'));
    assert.equal(decisions.length, 1, 'the thread shows the automatic rejection');
    assert.match(decisions[0].meta, /^Décision — Conforme — /);
    assert.match(await text(ed.locator('main .fr-alert--error')), /Motif : Rejet automatique/);
    assert.match(await text(ed.locator('main ol.conforme-history')), /Rejet automatique \(délai de réponse dépassé\)/);
    await screenshot(ed, 'candidature-rejet-automatique');
    assertNoProblems(ed);
  });

  test('the signup page', async (t) => {
    const context = await newContext();
    const page = await openPage(context);
    try {
      await visit(page, '/inscription');
      assert.equal(await text(page.locator('h1')), 'Créer un compte éditeur');
      await checkPage(t, page, 'inscription');
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });

  test('no page tried to reach a host other than loopback', () => {
    assert.deepEqual(blockedRequests, []);
  });
});
