//! The proof dossier over HTTP, on SQLite and PostgreSQL: the checklist, deposits by API and
//! by page with their checks and history, submission chapter by chapter and complete, the
//! Date 2bis and Date 3 cut-offs with the CNDA exception, verdicts, questions that stop the
//! clock (24-hour place, 30-day abandonment firing once across a restart), the INS test day,
//! the instructor's workspace, and isolation between editors.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, TestApp, controlled, editor, spawn_app, token, validated};
use conforme_domain::account::Role;
use conforme_domain::candidature::CandidatureState;
use serde_json::{Value, json};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Api<'a> {
    fn new(app: &'a TestApp, token: String) -> Self {
        Self { app, token }
    }

    async fn checklist(&self, id: &str) -> (u16, Value) {
        let r = self
            .app
            .client
            .get(format!("{}/api/v1/candidatures/{id}/proofs", self.app.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn upload(&self, id: &str, target: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
        let r = self
            .app
            .client
            .post(format!(
                "{}/api/v1/candidatures/{id}/proofs/files",
                self.app.url
            ))
            .query(&[("target", target), ("name", name)])
            .bearer_auth(&self.token)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, id: &str, what: &str, body: Value) -> (u16, Value) {
        let r = self
            .app
            .client
            .post(format!(
                "{}/api/v1/candidatures/{id}/proofs/{what}",
                self.app.url
            ))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Deposits a PNG for every required line of `chapter` (all chapters when None) and
    /// the programme's pieces.
    async fn fill(&self, id: &str, chapter: Option<&str>, pieces: bool) {
        let (_, list) = self.checklist(id).await;
        for item in list["items"].as_array().unwrap() {
            let wanted = item["required"].as_bool().unwrap()
                && chapter.is_none_or(|c| item["chapter"] == c)
                && item["files"].as_array().unwrap().is_empty();
            if wanted {
                let (s, v) = self
                    .upload(id, item["target"].as_str().unwrap(), "capture.png", PNG)
                    .await;
                assert_eq!(s, 201, "{v}");
            }
        }
        if pieces {
            for p in ["piece:cnda-homologation", "piece:pentest-report"] {
                let (s, v) = self.upload(id, p, "piece.pdf", PDF).await;
                assert_eq!(s, 201, "{v}");
            }
        }
    }
}

async fn setup(
    app: &TestApp,
    email: &str,
    company: &str,
    siret: &str,
    wave1: bool,
) -> (common::Browser, String, String) {
    let (b, org) = editor(app, email, company, siret).await;
    let id = validated(app, &org, &b.user.id, wave1).await;
    let t = token(
        app,
        &b.user.id,
        &["candidatures:read", "candidatures:write"],
    )
    .await;
    (b, id, t)
}

/// Marie, of « Éditeur A », with a validated candidature of HOP-DPI-Va2 not referenced in
/// wave 1: her browser, the candidature and an API token.
async fn editor_a(app: &TestApp) -> (common::Browser, String, String) {
    setup(
        app,
        "marie@editeur-a.fr",
        "Éditeur A",
        "73282932000074",
        false,
    )
    .await
}

async fn instructor(app: &TestApp) -> common::Browser {
    app.browser_for("instructeur@ans.fr", Role::Instructor, None, false)
        .await
}

async fn deposit_and_instruct(backend: Backend) {
    // March 2026: before HOP-DPI-Va2's Date 2bis.
    let app = spawn_app(backend, controlled("2026-03-02T10:00:00+01:00")).await;
    let (a, id, ta) = editor_a(&app).await;
    let (_b, id_b, tb) = setup(
        &app,
        "jean@editeur-b.fr",
        "Éditeur B",
        "55208131766522",
        false,
    )
    .await;
    let instructor = instructor(&app).await;
    let api = Api::new(&app, ta);
    let api_b = Api::new(&app, tb);

    // The checklist: not referenced in wave 1, so the wave-1 INS chapter is required;
    // préconisations never are.
    let (s, list) = api.checklist(&id).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["rem_version"], "prepublication-2023");
    assert_eq!(list["wave1"], "not-referenced");
    let items = list["items"].as_array().unwrap();
    let required: Vec<&Value> = items.iter().filter(|i| i["required"] == true).collect();
    assert_eq!(list["required"].as_u64().unwrap() as usize, required.len());
    assert!(required.iter().any(|i| i["chapter"] == "Gestion de l'INS"));
    assert_eq!(list["deposited"], 0);
    assert_eq!(list["deposit_open"], true);

    // A deposit: hashed, checked, downloadable by its owner only.
    let first = required[0]["target"].as_str().unwrap().to_string();
    let (s, f) = api.upload(&id, &first, "capture écran.png", PNG).await;
    assert_eq!(s, 201, "{f}");
    assert_eq!(f["content_type"], "image/png");
    assert_eq!(f["size"], PNG.len());
    assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    assert!(
        f["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "not-empty" && c["status"] == "pass")
    );
    let attachment = f["attachment_id"].as_str().unwrap().to_string();
    // Bad inputs: unknown target, empty file, refused type; nothing recorded.
    let (s, v) = api
        .upload(&id, "SC.NOPE/X.01#preuve=9.9.9", "x.png", PNG)
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = api.upload(&id, "pas une clé", "x.png", PNG).await;
    assert_eq!(s, 400);
    let (s, _) = api.upload(&id, &first, "vide.png", b"").await;
    assert_eq!(s, 422);
    let (s, _) = api
        .upload(
            &id,
            &first,
            "a.exe",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0",
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(app.store.proof_files(&id).await.unwrap().len(), 1);

    // Another editor reaches neither the dossier nor the file.
    let (s, _) = api_b.checklist(&id).await;
    assert_eq!(s, 404);
    let (s, _) = api_b.upload(&id, &first, "x.png", PNG).await;
    assert_eq!(s, 404);
    let r = app
        .client
        .get(format!("{}/api/v1/attachments/{attachment}", app.url))
        .bearer_auth(&api_b.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = app
        .client
        .get(format!("{}/api/v1/attachments/{attachment}", app.url))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let (s, _) = api_b.checklist(&id_b).await;
    assert_eq!(s, 200);

    // A second file for the same proof, by the page, replacing the first: history kept.
    let form = reqwest::multipart::Form::new()
        .text("csrf", a.csrf.clone())
        .text("target", first.clone())
        .text("replaces", f["id"].as_str().unwrap().to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("preuve.pdf"),
        );
    let r = a
        .client
        .post(format!("{}/candidatures/{id}/preuves/fichiers", app.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    let files = app.store.proof_files(&id).await.unwrap();
    assert_eq!(files.len(), 2);
    assert!(files[0].replaced_at.is_some() && files[1].current());

    // Submitting an incomplete chapter names what is missing and changes nothing.
    let chapter = "Gestion de l'INS";
    let (s, v) = api.post(&id, "submit", json!({ "chapter": chapter })).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["errors"].as_array().unwrap().len() > 1, "{v}");
    assert!(
        app.store
            .proof_dossier(&id)
            .await
            .unwrap()
            .unwrap()
            .queue_key
            .is_none()
    );

    // A complete chapter enters the queue; the dossier is not complete yet.
    api.fill(&id, Some(chapter), false).await;
    let (s, v) = api.post(&id, "submit", json!({ "chapter": chapter })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["completed"], false);
    let stored = app.store.proof_dossier(&id).await.unwrap().unwrap();
    assert!(stored.queue_key.is_some());
    // The whole dossier without the pieces: refused, naming them.
    api.fill(&id, None, false).await;
    let (s, v) = api.post(&id, "submit", json!({})).await;
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains("Rapport de test d'intrusion"), "{v}");
    api.fill(&id, None, true).await;
    let (s, v) = api.post(&id, "submit", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["completed"], true);
    let (_, list) = api.checklist(&id).await;
    assert_eq!(list["percent"], 100);
    assert!(list["complete_at"].is_string());

    // The penetration-test results and their computed verdict.
    let csv =
        "Point de contrôle;Criticité;Résultat\nPC-1;haute;conforme\nPC-2;moyenne;non conforme\n";
    let (s, body, _) = a
        .post(
            &format!("/candidatures/{id}/preuves/pentest"),
            &[("csv", csv)],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (s, body, _) = a
        .post(
            &format!("/candidatures/{id}/preuves/pentest"),
            &[("csv", "n'importe quoi")],
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let (_, page) = a.get(&format!("/candidatures/{id}/preuves")).await;
    assert!(page.contains("verdict-pentest"), "{page}");

    // Verdicts: a non-compliant one needs a reason; only instructors rule.
    let path = format!("/candidatures/{id}/preuves/avis");
    let (s, _, _) = a
        .post(&path, &[("target", &first), ("verdict", "conforme")])
        .await;
    assert_eq!(s, 403);
    let (s, body, _) = instructor
        .post(&path, &[("target", &first), ("verdict", "non-conforme")])
        .await;
    assert_eq!(s, 409, "{body}");
    let (s, _, _) = instructor
        .post(
            &path,
            &[
                ("target", &first),
                ("verdict", "non-conforme"),
                ("reason", "Capture illisible"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, list) = api.checklist(&id).await;
    let line = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["target"] == first.as_str())
        .unwrap()
        .clone();
    assert_eq!(line["verdict"], "not-compliant");
    assert_eq!(line["verdict_reason"], "Capture illisible");

    // A question stops the clock; an answer within 24 hours keeps the place.
    let key_before = app
        .store
        .proof_dossier(&id)
        .await
        .unwrap()
        .unwrap()
        .queue_key;
    let (s, _, _) = instructor
        .post(
            &format!("/candidatures/{id}/preuves/sollicitation"),
            &[("message", "Merci de redéposer la capture.")],
        )
        .await;
    assert_eq!(s, 303);
    let (_, list) = api.checklist(&id).await;
    assert_eq!(list["question_pending"], true);
    // 30 days from 2 March, counted as the French practice does: 1 April 24:00 Paris.
    assert_eq!(list["abandonment_due"], "2026-04-01T22:00:00Z");
    app.set_clock("2026-03-03T09:00:00+01:00").await;
    let (s, v) = api
        .post(&id, "answer", json!({ "message": "Capture redéposée." }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["place_kept"], true);
    assert_eq!(
        app.store
            .proof_dossier(&id)
            .await
            .unwrap()
            .unwrap()
            .queue_key,
        key_before
    );
    let (s, _) = api
        .post(&id, "answer", json!({ "message": "encore" }))
        .await;
    assert_eq!(s, 409);

    // The instructor's workspace lists it, with filters.
    let (s, page) = instructor.get("/instruction/preuves").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Éditeur A") && page.contains("Éditeur B"),
        "{page}"
    );
    let (_, page) = instructor
        .get("/instruction/preuves?statut=a-instruire")
        .await;
    assert!(
        page.contains("Éditeur A") && !page.contains("Éditeur B"),
        "{page}"
    );
    let (s, _) = a.get("/instruction/preuves").await;
    assert_eq!(s, 403);

    // Every change is in the history.
    let journal = app.store.journal_for("candidature", &id).await.unwrap();
    for action in [
        "proofs.opened",
        "proofs.file-deposited",
        "proofs.file-replaced",
        "proofs.submitted",
        "proofs.completed",
        "proofs.verdict",
        "proofs.question-asked",
        "proofs.answered",
        "proofs.pentest-entered",
    ] {
        assert!(journal.iter().any(|e| e.action == action), "{action}");
    }
    app.stop().await;
}
both!(deposit_and_instruct_by_api_and_pages, deposit_and_instruct);

async fn cut_offs(backend: Backend) {
    // One minute before Date 2bis (31 March 2026 12:00 Paris).
    let app = spawn_app(backend, controlled("2026-03-31T11:59:00+02:00")).await;
    let (_a, id, ta) = editor_a(&app).await;
    let (_b, late, tb) = setup(
        &app,
        "jean@editeur-b.fr",
        "Éditeur B",
        "55208131766522",
        false,
    )
    .await;
    let instructor = instructor(&app).await;
    let api = Api::new(&app, ta);
    let api_b = Api::new(&app, tb);
    api.fill(&id, None, true).await;
    api_b.fill(&late, None, true).await;
    // At 12:00 the complete dossier is on time (the clock runs on from 11:59:59.5)…
    app.set_clock("2026-03-31T11:59:59.500+02:00").await;
    let (s, v) = api.post(&id, "submit", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["completed"], true);
    // …one second later it is not, and the deposit form is closed for an incomplete one.
    app.set_clock("2026-03-31T12:00:01+02:00").await;
    let (s, v) = api_b.post(&late, "submit", json!({})).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("Date 2bis"), "{v}");
    let first = api_b.checklist(&late).await.1["items"][0]["target"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = api_b.upload(&late, &first, "x.png", PNG).await;
    assert_eq!(s, 409);
    // The complete one may still exchange until Date 3: a redeposit, a new pentest report.
    let target = api.checklist(&id).await.1["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["required"] == true)
        .unwrap()["target"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = api.upload(&id, &target, "nouvelle.png", PNG).await;
    assert_eq!(s, 201);
    app.set_clock("2026-06-30T11:59:59.500+02:00").await;
    let (s, _) = api
        .upload(&id, "piece:pentest-report", "rapport.pdf", PDF)
        .await;
    assert_eq!(s, 201);
    // After Date 3 nothing is instructed, except the CNDA attestation after pre-examination.
    app.set_clock("2026-06-30T12:00:01+02:00").await;
    let (s, v) = api
        .upload(&id, "piece:pentest-report", "rapport.pdf", PDF)
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("Date 3"), "{v}");
    let (s, _) = api.upload(&id, &target, "x.png", PNG).await;
    assert_eq!(s, 409);
    let (s, _) = api
        .upload(&id, "piece:cnda-homologation", "attestation.pdf", PDF)
        .await;
    assert_eq!(s, 409);
    let (s, _, _) = instructor
        .post(
            &format!("/candidatures/{id}/preuves/situation"),
            &[("wave1", "not-referenced"), ("cnda_pre_examined", "oui")],
        )
        .await;
    assert_eq!(s, 303);
    let (s, v) = api
        .upload(&id, "piece:cnda-homologation", "attestation.pdf", PDF)
        .await;
    assert_eq!(s, 201, "{v}");
    app.stop().await;
}
both!(cut_offs_at_the_second, cut_offs);

async fn abandonment_across_restart(backend: Backend) {
    let app = spawn_app(backend, controlled("2026-03-02T10:00:00+01:00")).await;
    let (_a, id, ta) = editor_a(&app).await;
    let instructor = instructor(&app).await;
    let api = Api::new(&app, ta);
    api.fill(&id, Some("Gestion de l'INS"), false).await;
    let (s, _) = api
        .post(&id, "submit", json!({ "chapter": "Gestion de l'INS" }))
        .await;
    assert_eq!(s, 200);
    let (s, _, _) = instructor
        .post(
            &format!("/candidatures/{id}/preuves/sollicitation"),
            &[("message", "Précisez le scénario 1.2.")],
        )
        .await;
    assert_eq!(s, 303);
    // The due instant itself (1 April 24:00 Paris): still on time, nothing fires.
    app.set_clock("2026-04-02T00:00:00+02:00").await;
    app.settle().await;
    assert_eq!(
        app.store.candidature(&id).await.unwrap().unwrap().state,
        CandidatureState::Validated
    );
    let token = api.token;
    // The platform stops; it restarts after the due time: the deadline fires once.
    let app = app.restart(controlled("2026-04-02T00:00:02+02:00")).await;
    app.settle().await;
    assert_eq!(
        app.store.candidature(&id).await.unwrap().unwrap().state,
        CandidatureState::Abandoned
    );
    let app = app.restart(controlled("2026-04-03T09:00:00+02:00")).await;
    app.settle().await;
    let journal = app.store.journal_for("candidature", &id).await.unwrap();
    assert_eq!(
        journal
            .iter()
            .filter(|e| e.action == "proofs.abandoned")
            .count(),
        1
    );
    // Nothing more is accepted.
    let api = Api::new(&app, token);
    let (s, _) = api
        .post(&id, "answer", json!({ "message": "trop tard" }))
        .await;
    assert_eq!(s, 409);
    app.stop().await;
}
both!(
    abandonment_fires_once_across_restart,
    abandonment_across_restart
);

async fn late_answer_loses_place(backend: Backend) {
    let app = spawn_app(backend, controlled("2026-03-02T10:00:00+01:00")).await;
    let (_a, id, ta) = editor_a(&app).await;
    let instructor = instructor(&app).await;
    let api = Api::new(&app, ta);
    api.fill(&id, Some("Gestion de l'INS"), false).await;
    api.post(&id, "submit", json!({ "chapter": "Gestion de l'INS" }))
        .await;
    let key = app
        .store
        .proof_dossier(&id)
        .await
        .unwrap()
        .unwrap()
        .queue_key
        .unwrap();
    app.set_clock("2026-03-02T12:00:00+01:00").await;
    instructor
        .post(
            &format!("/candidatures/{id}/preuves/sollicitation"),
            &[("message", "Question")],
        )
        .await;
    // 24 hours and two seconds later.
    app.set_clock("2026-03-03T12:00:02+01:00").await;
    let (s, v) = api
        .post(&id, "answer", json!({ "message": "Réponse" }))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["place_kept"], false);
    let moved = app
        .store
        .proof_dossier(&id)
        .await
        .unwrap()
        .unwrap()
        .queue_key
        .unwrap();
    assert!(moved > key);
    assert!(moved >= common::at("2026-03-03T11:00:02Z"));
    let (_, page) = instructor.get(&format!("/candidatures/{id}/preuves")).await;
    assert!(page.contains("Changement de rang"), "{page}");
    app.stop().await;
}
both!(late_answer_loses_the_place, late_answer_loses_place);

async fn ins_test_day(backend: Backend) {
    let app = spawn_app(backend, controlled("2026-03-02T10:00:00+01:00")).await;
    let (a, id, ta) = editor_a(&app).await;
    let (_w, id_w1, _) = setup(
        &app,
        "jean@editeur-b.fr",
        "Éditeur B",
        "55208131766522",
        true,
    )
    .await;
    let instructor = instructor(&app).await;
    let api = Api::new(&app, ta);
    let propose = |id: &str| format!("/candidatures/{id}/preuves/test/proposition");
    // Not open before the INS proofs are in.
    let (s, _, _) = instructor
        .post(&propose(&id), &[("date", "2026-03-10T10:00")])
        .await;
    assert_eq!(s, 409);
    api.fill(&id, Some("Gestion de l'INS"), false).await;
    // Beyond two weeks: refused; within: proposed.
    let (s, body, _) = instructor
        .post(&propose(&id), &[("date", "2026-03-20T10:00")])
        .await;
    assert_eq!(s, 409, "{body}");
    let (s, _, _) = instructor
        .post(&propose(&id), &[("date", "2026-03-10T10:00")])
        .await;
    assert_eq!(s, 303);
    // The recording is deposited once the editor confirmed; then the outcome per scenario.
    let (s, _) = api.upload(&id, "session-de-test", "session.mp4", PNG).await;
    assert_eq!(s, 409);
    let (s, _, _) = a
        .post(
            &format!("/candidatures/{id}/preuves/test/confirmation"),
            &[],
        )
        .await;
    assert_eq!(s, 303);
    let result = format!("/candidatures/{id}/preuves/test/resultat");
    // Not before the session is held.
    let (s, body, _) = instructor.post(&result, &[("outcomes", "1.1;ok;")]).await;
    assert_eq!(s, 409, "{body}");
    app.set_clock("2026-03-10T12:00:00+01:00").await;
    let (s, _, _) = instructor.post(&result, &[("outcomes", "1.1;ok;")]).await;
    assert_eq!(s, 409);
    let (s, _) = api.upload(&id, "session-de-test", "session.png", PNG).await;
    assert_eq!(s, 201);
    let (s, _, _) = instructor.post(&result, &[("outcomes", "1.1;ko;")]).await;
    assert_eq!(s, 409);
    let (s, _, _) = instructor
        .post(&result, &[("outcomes", "1.1;peut-être;")])
        .await;
    assert_eq!(s, 422);
    let (s, _, _) = instructor
        .post(
            &result,
            &[("outcomes", "1.1;ok;\n1.2;ko;Nom de naissance tronqué")],
        )
        .await;
    assert_eq!(s, 303);
    let d = app.store.proof_dossier(&id).await.unwrap().unwrap().dossier;
    let t = d.test_session.unwrap();
    assert_eq!(t.outcomes.len(), 2);
    assert!(t.recorded_at.is_some());
    // A solution referenced in wave 1 has no INS test day.
    let (s, _, _) = instructor
        .post(&propose(&id_w1), &[("date", "2026-03-10T10:00")])
        .await;
    assert_eq!(s, 409);
    app.stop().await;
}
both!(ins_test_day_within_two_weeks, ins_test_day);

async fn cut_off_upload_leaves_nothing(backend: Backend) {
    let app = spawn_app(backend, controlled("2026-03-02T10:00:00+01:00")).await;
    let (_a, id, ta) = editor_a(&app).await;
    let api = Api::new(&app, ta);
    let target = api.checklist(&id).await.1["items"][0]["target"]
        .as_str()
        .unwrap()
        .to_string();
    // A client that announces 20 MiB, sends 12 (past the first multipart part), and goes.
    use tokio::io::AsyncWriteExt;
    let host = app.url.trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
    let path = format!(
        "/api/v1/candidatures/{id}/proofs/files?target={}&name=video.png",
        target.replace('#', "%23").replace('/', "%2F")
    );
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        api.token,
        20 * 1024 * 1024
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(PNG).await.unwrap();
    let chunk = vec![7u8; 1024 * 1024];
    for _ in 0..12 {
        sock.write_all(&chunk).await.unwrap();
    }
    sock.flush().await.unwrap();
    drop(sock);
    app.settle().await;
    assert!(app.store.proof_files(&id).await.unwrap().is_empty());
    let stored: Vec<_> = walk(&app.mail_dir.parent().unwrap().join("files"));
    assert!(stored.is_empty(), "{stored:?}");
    app.stop().await;
}
both!(
    cut_off_upload_leaves_nothing_registered,
    cut_off_upload_leaves_nothing
);

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn bad_inputs_and_wrong_sides(backend: Backend) {
    let app = spawn_app(backend, controlled("2026-03-02T10:00:00+01:00")).await;
    let (a, id, ta) = editor_a(&app).await;
    let instructor = instructor(&app).await;
    let api = Api::new(&app, ta);
    let target = api.checklist(&id).await.1["items"][0]["target"]
        .as_str()
        .unwrap()
        .to_string();
    let preuves = format!("/candidatures/{id}/preuves");

    // An announced size past the limit is refused before any byte is read.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.url.trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
    let path = format!(
        "/api/v1/candidatures/{id}/proofs/files?target={}",
        target.replace('#', "%23").replace('/', "%2F")
    );
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        api.token,
        9u64 * 1024 * 1024 * 1024
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64];
    let n = sock.read(&mut answer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    drop(sock);

    // Malformed bodies and values, each named; nothing changes.
    let r = app
        .client
        .post(format!(
            "{}/api/v1/candidatures/{id}/proofs/submit",
            app.url
        ))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{ pas du json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let (s, v) = api
        .post(&id, "submit", json!({ "chapter": "Chapitre inconnu" }))
        .await;
    assert_eq!(s, 409, "{v}");
    let (s, _) = api.post(&id, "answer", json!({ "message": "   " })).await;
    assert_eq!(s, 400);
    let (s, _) = api
        .post(&id, "answer", json!({ "message": "x".repeat(10_001) }))
        .await;
    assert_eq!(s, 400);
    let r = app
        .client
        .post(format!("{}/api/v1/candidatures/{id}/proofs/files", app.url))
        .bearer_auth(&api.token)
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "target is required");
    for (path, fields) in [
        ("ajout", vec![("key", "pas-une-clé")]),
        ("ajout", vec![("key", "SC.NOPE/X.01#preuve=1.1.1")]),
        ("situation", vec![("wave1", "peut-être")]),
        (
            "avis",
            vec![("target", target.as_str()), ("verdict", "bof")],
        ),
        ("test/proposition", vec![("date", "demain")]),
    ] {
        let (s, body, _) = instructor.post(&format!("{preuves}/{path}"), &fields).await;
        assert!(s == 422 || s == 409, "{path}: {s} {body}");
    }
    assert_eq!(
        app.store.proof_dossier(&id).await.unwrap().unwrap().version,
        1,
        "nothing was changed"
    );

    // A form without its CSRF token is refused, the file not stored.
    let form = reqwest::multipart::Form::new()
        .text("target", target.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("x.png"),
        );
    let r = a
        .client
        .post(format!("{}{preuves}/fichiers", app.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(app.store.proof_files(&id).await.unwrap().is_empty());

    // Each side keeps to its own acts.
    let (s, _, _) = a
        .post(&format!("{preuves}/sollicitation"), &[("message", "?")])
        .await;
    assert_eq!(s, 403);
    let (s, _, _) = a
        .post(&format!("{preuves}/attribution"), &[("assign", "moi")])
        .await;
    assert_eq!(s, 403);
    let (s, _, _) = instructor.post(&format!("{preuves}/soumission"), &[]).await;
    assert_eq!(s, 403);
    let (s, _, _) = instructor
        .post(&format!("{preuves}/reponse"), &[("message", "réponse")])
        .await;
    assert_eq!(s, 403);
    let form = reqwest::multipart::Form::new()
        .text("csrf", instructor.csrf.clone())
        .text("target", target.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("x.png"),
        );
    let r = instructor
        .client
        .post(format!("{}{preuves}/fichiers", app.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(app.store.proof_files(&id).await.unwrap().is_empty());
    // A token that may only read cannot deposit.
    let read_only = token(&app, &a.user.id, &["candidatures:read"]).await;
    let (s, _) = Api::new(&app, read_only)
        .upload(&id, &target, "x.png", PNG)
        .await;
    assert_eq!(s, 403);
    app.stop().await;
}
both!(
    bad_inputs_and_wrong_sides_refused,
    bad_inputs_and_wrong_sides
);
