//! The end of the référencement path over HTTP, on SQLite and PostgreSQL: the convention
//! generated once every proof is valid (BIO-SGL-Va1: with the candidature), its signature by
//! the legal representative after a fresh second factor (page and API), the weekly committee
//! and each decision mode of each programme (attribution; blocking reservations before and
//! after Date 3; BIO's non-blocking reservations lifted or lapsed), the attestation and its
//! public verification, suspension, withdrawal, audits and new versions.
#![allow(clippy::unwrap_used)]

mod common;

use common::{BUNDLED_REM, Backend, Browser, TestApp, controlled, editor, identity, spawn_app};
use conforme_domain::account::Role;
use conforme_domain::candidature::{AdministrativeDossier, CandidatureState};
use conforme_domain::proofs::{Target, Verdict, required_proofs};
use serde_json::{Value, json};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// A candidature of `programme` validated in the store, with the editor's identity as
/// submitted, and its proof dossier opened by the editor's first visit.
async fn candidature(
    app: &TestApp,
    b: &Browser,
    org: &str,
    programme: &str,
    company: &str,
) -> String {
    if app.store.rem_versions(programme).await.unwrap().is_empty() {
        // The agency imports the programme's REM (the bundled workbook stands in for it).
        conforme::import_rem(
            &app.store,
            programme,
            "v1",
            "rem.xlsx",
            BUNDLED_REM,
            chrono::Utc::now(),
            "test",
        )
        .await
        .unwrap();
    }
    let dossier = AdministrativeDossier {
        commercial_name: format!("Solution {company}"),
        technical_version: "v2.4.1".into(),
        wave1_referenced: Some(false),
        profiles: vec!["Général".into()],
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let c = app
        .store
        .create_candidature(org, programme, &dossier, &b.user.id, now, "test")
        .await
        .unwrap();
    let t = conforme_store::Transition {
        candidature_id: c.id.clone(),
        expected_version: c.version,
        new_state: CandidatureState::Validated,
        action: "candidature.validated",
        deposited_at: Some(now),
        submitted_at: Some(now),
        editor_snapshot: Some(identity(company, "73282932000074")),
        complement_due_at: None,
        decision: Some("validé".into()),
        message: None,
        schedule: vec![],
        cancel_jobs: vec![],
        notifications: vec![],
        fired_job: None,
    };
    app.store.apply_transition(&t, now, "test").await.unwrap();
    let (s, page) = b.get(&format!("/candidatures/{}/preuves", c.id)).await;
    assert_eq!(s, 200, "{page}");
    c.id
}

/// The instructors' verdicts, all compliant (the instruction itself is tested in proofs.rs).
async fn prove_all(app: &TestApp, id: &str, compliant: bool) {
    let c = app.store.candidature(id).await.unwrap().unwrap();
    let stored = app.store.proof_dossier(id).await.unwrap().unwrap();
    let version = app
        .store
        .rem_versions(&c.programme_code)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.label == stored.dossier.rem_version)
        .unwrap();
    let rem = app.store.load_rem(&version.id).await.unwrap();
    let checklist = required_proofs(
        &rem,
        &c.dossier.profiles,
        stored.dossier.wave1,
        &stored.dossier.additions,
    );
    let mut d = stored.dossier.clone();
    let now = chrono::Utc::now();
    d.complete_at.get_or_insert(now);
    let verdict = Verdict {
        compliant,
        reason: (!compliant).then(|| "à revoir".into()),
        by: "test".into(),
        at: now,
    };
    let mut targets: Vec<String> = checklist
        .required()
        .map(|i| Target::Proof(i.key.clone()).to_string())
        .collect();
    targets.extend(
        [
            "piece:cnda-homologation",
            "piece:pentest-report",
            "piece:ssi-maturity",
        ]
        .map(String::from),
    );
    for t in targets {
        d.verdicts.insert(t, verdict.clone());
    }
    let change = conforme_store::DossierChange::new(&stored, d, None, "test.verdicts", json!({}));
    app.store
        .change_proof_dossier(&change, now, "test")
        .await
        .unwrap();
}

fn hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn code_in(body: &str) -> String {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_string()
}

struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .app
            .client
            .get(format!("{}/api/v1{path}", self.app.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn bytes(&self, path: &str) -> Vec<u8> {
        let r = self
            .app
            .client
            .get(format!("{}/api/v1{path}", self.app.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap().to_vec()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .app
            .client
            .post(format!("{}/api/v1{path}", self.app.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

struct Agency {
    instructor: Browser,
    admin: Browser,
    member: Browser,
}

async fn agency(app: &TestApp) -> Agency {
    Agency {
        instructor: app
            .browser_for("instructeur@ans.fr", Role::Instructor, None, false)
            .await,
        admin: app
            .browser_for("pilote@ans.fr", Role::ProgrammeAdmin, None, false)
            .await,
        member: app
            .browser_for("comite@ans.fr", Role::CommitteeMember, None, false)
            .await,
    }
}

async fn schedule(app: &TestApp, admin: &Browser, programme: &str, date: &str) -> String {
    let (s, body, location) = admin
        .post("/comite", &[("programme", programme), ("date", date)])
        .await;
    assert_eq!(s, 303, "{body}");
    let session = location.unwrap().trim_start_matches("/comite/").to_string();
    assert!(
        app.store
            .committee_session(&session)
            .await
            .unwrap()
            .is_some()
    );
    session
}

async fn decide(
    member: &Browser,
    session: &str,
    id: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut form = vec![("candidature", id)];
    form.extend_from_slice(fields);
    let (s, body, _) = member
        .post(&format!("/comite/{session}/decision"), &form)
        .await;
    (s, body)
}

/// Generation by the instructor, then signature by the legal representative in the page with
/// a code received by email.
async fn convention_signed_in_page(app: &TestApp, a: &Agency, b: &Browser, id: &str) {
    let (s, body, _) = a
        .instructor
        .post(&format!("/candidatures/{id}/referencement/convention"), &[])
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, page) = b.get(&format!("/candidatures/{id}/referencement")).await;
    assert!(
        page.contains("Signer électroniquement la convention"),
        "{page}"
    );
    let sha = app
        .store
        .referencing(id)
        .await
        .unwrap()
        .unwrap()
        .referencing
        .convention
        .unwrap()
        .sha256;
    let (s, body, _) = b
        .post(&format!("/candidatures/{id}/referencement/code"), &[])
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("Un code de confirmation a été envoyé"),
        "{body}"
    );
    let code = code_in(&app.wait_email(&b.user.email, "code").await);
    let (s, body, _) = b
        .post(
            &format!("/candidatures/{id}/referencement/signature"),
            &[("sha256", &sha), ("code", &code)],
        )
        .await;
    assert_eq!(s, 303, "{body}");
}

async fn hop_path_by_api_and_page(backend: Backend) {
    // Monday 4 May 2026, before HOP-DPI-Va2's Date 3 (30 June 2026).
    let app = spawn_app(backend, controlled("2026-05-04T08:00:00Z")).await;
    let a = agency(&app).await;
    let (b, org) = editor(&app, "rl@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let id = candidature(&app, &b, &org, "HOP-DPI-Va2", "Éditeur A").await;
    let api = Api {
        app: &app,
        token: common::token(
            &app,
            &b.user.id,
            &["candidatures:read", "candidatures:write"],
        )
        .await,
    };
    let path = format!("/candidatures/{id}/referencing");

    // Proofs not all valid: no convention yet.
    let (s, v) = api.get(&path).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["phase"], "instruction");
    let (s, body, _) = a
        .instructor
        .post(&format!("/candidatures/{id}/referencement/convention"), &[])
        .await;
    assert_eq!(s, 409, "{body}");
    assert!(
        body.contains("toutes les preuves exigées sont conformes"),
        "{body}"
    );

    prove_all(&app, &id, true).await;
    assert_eq!(api.get(&path).await.1["phase"], "awaiting-convention");
    // Only the agency generates it.
    let (s, _, _) = b
        .post(&format!("/candidatures/{id}/referencement/convention"), &[])
        .await;
    assert_eq!(s, 403);
    let (s, body, _) = a
        .instructor
        .post(&format!("/candidatures/{id}/referencement/convention"), &[])
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, v) = api.get(&path).await;
    assert_eq!(v["phase"], "awaiting-signature", "{v}");
    let sha = v["convention"]["sha256"].as_str().unwrap().to_string();
    let pdf = api
        .bytes(&format!(
            "/attachments/{}",
            v["convention"]["attachment_id"].as_str().unwrap()
        ))
        .await;
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(hex(&pdf), sha);
    app.wait_email(&b.user.email, "convention de référencement est prête")
        .await;

    // The signature needs the legal representative and a fresh code.
    let member = app
        .browser_for("dev@editeur-a.fr", Role::Editor, Some(&org), false)
        .await;
    let member_api = Api {
        app: &app,
        token: common::token(
            &app,
            &member.user.id,
            &["candidatures:read", "candidatures:write"],
        )
        .await,
    };
    let (s, v) = member_api
        .post(
            &format!("{path}/sign"),
            json!({ "sha256": sha, "code": "000000" }),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = api
        .post(
            &format!("{path}/sign"),
            json!({ "sha256": sha, "code": "" }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = api
        .post(
            &format!("{path}/sign"),
            json!({ "sha256": sha, "code": "123456" }),
        )
        .await;
    assert_eq!(s, 400, "no code was sent: {v}");
    let (s, _) = api.post(&format!("{path}/signature-code"), json!({})).await;
    assert_eq!(s, 202);
    let code = code_in(&app.wait_email(&b.user.email, "code").await);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let (s, v) = api
        .post(
            &format!("{path}/sign"),
            json!({ "sha256": sha, "code": wrong }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = api
        .post(
            &format!("{path}/sign"),
            json!({ "sha256": "0".repeat(64), "code": code }),
        )
        .await;
    assert_eq!(s, 409, "another document: {v}");
    assert!(v["detail"].as_str().unwrap().contains("modifiée"), "{v}");
    let (s, v) = api
        .post(
            &format!("{path}/sign"),
            json!({ "sha256": sha, "code": code }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["phase"], "on-agenda");
    let sig = &v["signature"];
    assert_eq!(sig["signer_email"], "rl@editeur-a.fr");
    assert_eq!(sig["document_sha256"], sha.as_str());
    assert!(
        sig["method"].as_str().unwrap().contains("courriel"),
        "{sig}"
    );
    let signed = api
        .bytes(&format!(
            "/attachments/{}",
            sig["signed_attachment_id"].as_str().unwrap()
        ))
        .await;
    assert!(signed.starts_with(b"%PDF-") && signed != pdf);
    let (s, v) = api
        .post(
            &format!("{path}/sign"),
            json!({ "sha256": sha, "code": code }),
        )
        .await;
    assert_eq!(s, 409, "signed once: {v}");

    // The weekly committee: scheduled on Thursday 7 May, decisions from that day.
    let session = schedule(&app, &a.admin, "HOP-DPI-Va2", "2026-05-07").await;
    let (s, body, _) = a
        .admin
        .post(
            "/comite",
            &[("programme", "HOP-DPI-Va2"), ("date", "2026-05-08")],
        )
        .await;
    assert_eq!(s, 409, "weekly: {body}");
    let (_, page) = a.member.get(&format!("/comite/{session}")).await;
    assert!(
        page.contains("Éditeur A") && page.contains("pas encore eu lieu"),
        "{page}"
    );
    let (s, body) = decide(&a.member, &session, &id, &[("mode", "attribution")]).await;
    assert_eq!(s, 409, "{body}");
    app.set_clock("2026-05-07T09:00:00Z").await;
    // HOP-DPI-Va2 has no non-blocking reservations.
    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[("mode", "reserves-non-bloquantes"), ("reasons", "x")],
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("ne prévoit pas"), "{body}");
    let (s, _) = decide(&a.instructor, &session, &id, &[("mode", "attribution")]).await;
    assert_eq!(s, 403, "only committee members decide");
    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[("mode", "attribution"), ("reasons", "Dossier conforme")],
    )
    .await;
    assert_eq!(s, 303, "{body}");

    let (_, v) = api.get(&path).await;
    assert_eq!(v["phase"], "referenced", "{v}");
    assert_eq!(v["logo_rights"], true);
    let number = v["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("HOP-DPI-Va2-2026-0001-"), "{number}");
    let attestation = api
        .bytes(&format!(
            "/attachments/{}",
            v["attestation_id"].as_str().unwrap()
        ))
        .await;
    assert!(attestation.starts_with(b"%PDF-"));
    assert!(
        String::from_utf8_lossy(&attestation).contains("pdfaid:part"),
        "PDF/A identification"
    );
    let mail = app.wait_email(&b.user.email, &number).await;
    assert!(mail.contains("Dossier conforme"), "{mail}");
    let (_, notifications) = b.get("/notifications").await;
    assert!(
        notifications.contains("Référencement attribué"),
        "{notifications}"
    );

    // Public verification and registry, without an account.
    let (s, page) = app.get_text(&format!("/verification/{number}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Solution Éditeur A"), "{page}");
    let (s, v) = app
        .get_json(&format!("/api/v1/verification/{number}"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "valid");
    assert_eq!(v["logo_rights"], true);
    let (_, registry) = app.get_text("/registre/HOP-DPI-Va2").await;
    assert!(registry.contains(&number), "{registry}");

    // After the référencement: a new version, an audit, suspension, reinstatement, withdrawal.
    let (s, v) = api
        .post(&format!("{path}/versions"), json!({ "technical_version": "v2.5.0", "commercial_name": "Solution Éditeur A", "upward_compatible": false }))
        .await;
    assert_eq!(s, 409, "{v}");
    let (s, v) = api
        .post(&format!("{path}/versions"), json!({ "technical_version": "v2.5.0", "commercial_name": "Solution Éditeur A", "upward_compatible": true }))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["compatible_versions"], json!(["v2.5.0"]));
    let r = format!("/candidatures/{id}/referencement");
    let (s, body, _) = a
        .admin
        .post(
            &format!("{r}/audit"),
            &[
                ("kind", "Audit sur site"),
                ("held_on", "2026-05-06"),
                ("findings", "Écart sur la traçabilité"),
                ("outcome", "major-findings"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (s, _, _) = a
        .member
        .post(
            &format!("{r}/statut"),
            &[("standing", "suspended"), ("reasons", "x")],
        )
        .await;
    assert_eq!(s, 403, "only the programme's administration supervises");
    let (s, body, _) = a
        .admin
        .post(
            &format!("{r}/statut"),
            &[("standing", "suspended"), ("reasons", "")],
        )
        .await;
    assert_eq!(s, 409, "reasons required: {body}");
    let (s, body, _) = a
        .admin
        .post(
            &format!("{r}/statut"),
            &[
                ("standing", "suspended"),
                ("reasons", "Écarts majeurs à l'audit du 6 mai"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, v) = app
        .get_json(&format!("/api/v1/verification/{number}"))
        .await;
    assert_eq!(v["status"], "suspended", "{v}");
    assert_eq!(v["logo_rights"], false);
    assert!(
        v["reason"].as_str().unwrap().contains("Écarts majeurs"),
        "{v}"
    );
    app.wait_email(&b.user.email, "est suspendu").await;
    let (s, _, _) = a
        .admin
        .post(
            &format!("{r}/statut"),
            &[("standing", "valid"), ("reasons", "Écarts corrigés")],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(
        app.get_json(&format!("/api/v1/verification/{number}"))
            .await
            .1["status"],
        "valid"
    );
    let (s, _, _) = a
        .admin
        .post(
            &format!("{r}/statut"),
            &[("standing", "withdrawn"), ("reasons", "Manquement grave")],
        )
        .await;
    assert_eq!(s, 303);
    let (_, v) = app
        .get_json(&format!("/api/v1/verification/{number}"))
        .await;
    assert_eq!(v["status"], "withdrawn");
    let (s, _, _) = a
        .admin
        .post(
            &format!("{r}/statut"),
            &[("standing", "valid"), ("reasons", "x")],
        )
        .await;
    assert_eq!(s, 409, "withdrawal is final");
    let (_, page) = b.get(&r).await;
    assert!(
        page.contains("Référencement retiré") && page.contains("ne peut pas être utilisé"),
        "{page}"
    );

    // Every step journalled, the chain intact.
    let entries = app.store.journal_for("candidature", &id).await.unwrap();
    for action in [
        "referencing.convention-generated",
        "referencing.convention-signed",
        "referencing.committee-decision",
        "referencing.version-declared",
        "referencing.audit-recorded",
        "referencing.standing-changed",
    ] {
        assert!(
            entries.iter().any(|e| e.action == action),
            "{action} journalled"
        );
    }
    let (_, problems) = app.store.verify_journal().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    app.stop().await;
}
both!(
    validated_proofs_to_a_verified_attestation,
    hop_path_by_api_and_page
);

async fn blocking_reservations_before_and_after_date_3(backend: Backend) {
    let app = spawn_app(backend, controlled("2026-05-11T08:00:00Z")).await;
    let a = agency(&app).await;
    let (b, org) = editor(&app, "rl@editeur-b.fr", "Éditeur B", "73282932000074").await;
    let id = candidature(&app, &b, &org, "HOP-DPI-Va2", "Éditeur B").await;
    prove_all(&app, &id, true).await;
    convention_signed_in_page(&app, &a, &b, &id).await;
    let session = schedule(&app, &a.admin, "HOP-DPI-Va2", "2026-05-13").await;
    app.set_clock("2026-05-13T09:00:00Z").await;

    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[("mode", "reserves-bloquantes"), ("reasons", "")],
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("motivé"), "{body}");
    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[
            ("mode", "reserves-bloquantes"),
            ("reasons", "Test INS non concluant"),
        ],
    )
    .await;
    assert_eq!(s, 409, "proofs at fault required before Date 3: {body}");
    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[
            ("mode", "reserves-bloquantes"),
            ("reasons", "x"),
            ("at_fault", "ID#preuve=nope"),
        ],
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let stored = app.store.proof_dossier(&id).await.unwrap().unwrap();
    let target = stored
        .dossier
        .verdicts
        .keys()
        .find(|k| !k.starts_with("piece:"))
        .unwrap()
        .clone();
    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[
            ("mode", "reserves-bloquantes"),
            ("reasons", "Test INS non concluant"),
            ("at_fault", &target),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    // The proof at fault returns to instruction; the editor may deposit it again.
    let stored = app.store.proof_dossier(&id).await.unwrap().unwrap();
    let v = &stored.dossier.verdicts[&target];
    assert!(
        !v.compliant
            && v.reason
                .as_deref()
                .unwrap()
                .contains("Test INS non concluant")
    );
    let (_, page) = b.get(&format!("/candidatures/{id}/referencement")).await;
    assert!(
        page.contains("Instruction des preuves") && page.contains("les déposer à nouveau"),
        "{page}"
    );
    let mail = app.wait_email(&b.user.email, "réserves bloquantes").await;
    assert!(mail.contains("Test INS non concluant"), "{mail}");
    let t = common::token(
        &app,
        &b.user.id,
        &["candidatures:read", "candidatures:write"],
    )
    .await;
    let r = app
        .client
        .post(format!("{}/api/v1/candidatures/{id}/proofs/files", app.url))
        .query(&[("target", target.as_str()), ("name", "nouvelle.png")])
        .bearer_auth(&t)
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "redeposit before Date 3");
    let (_, page) = a.member.get(&format!("/comite/{session}")).await;
    assert!(
        page.contains("Aucune candidature à l’ordre du jour"),
        "{page}"
    );

    // Ruled compliant again: back on the agenda, no new signature. After Date 3, blocking
    // reservations refuse.
    prove_all(&app, &id, true).await;
    app.set_clock("2026-07-01T08:00:00Z").await;
    let later = schedule(&app, &a.admin, "HOP-DPI-Va2", "2026-07-02").await;
    app.set_clock("2026-07-02T09:00:00Z").await;
    let (_, page) = a.member.get(&format!("/comite/{later}")).await;
    assert!(page.contains("Éditeur B"), "{page}");
    let (s, body) = decide(
        &a.member,
        &later,
        &id,
        &[
            ("mode", "reserves-bloquantes"),
            ("reasons", "Exigence INS non tenue"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let r = app
        .store
        .referencing(&id)
        .await
        .unwrap()
        .unwrap()
        .referencing;
    assert!(r.refused.is_some() && r.number.is_none());
    let (_, page) = b.get(&format!("/candidatures/{id}/referencement")).await;
    assert!(page.contains("Référencement refusé"), "{page}");
    let (_, registry) = app.get_text("/registre/HOP-DPI-Va2").await;
    assert!(
        !registry.contains("Solution Éditeur B"),
        "a refused candidature is not under instruction: {registry}"
    );
    app.stop().await;
}
both!(
    blocking_reservations_return_then_refuse,
    blocking_reservations_before_and_after_date_3
);

async fn bio_signs_with_the_candidature_and_lifts_reservations(backend: Backend) {
    // April 2022, BIO-SGL-Va1 open (its exchanges end on 31 August 2022).
    let app = spawn_app(backend, controlled("2022-04-04T08:00:00Z")).await;
    let a = agency(&app).await;
    let (b, org) = editor(&app, "rl@labo-c.fr", "Labo C", "73282932000074").await;
    let id = candidature(&app, &b, &org, "BIO-SGL-Va1", "Labo C").await;
    let (c_b, c_org) = editor(&app, "rl@labo-d.fr", "Labo D", "44201234500017").await;
    let other = candidature(&app, &c_b, &c_org, "BIO-SGL-Va1", "Labo D").await;

    // Signed with the candidature, before any proof is valid; on the agenda once they are.
    convention_signed_in_page(&app, &a, &b, &id).await;
    convention_signed_in_page(&app, &a, &c_b, &other).await;
    let r = app
        .store
        .referencing(&id)
        .await
        .unwrap()
        .unwrap()
        .referencing;
    assert!(r.signature.unwrap().method.contains("courriel"));
    let session = schedule(&app, &a.admin, "BIO-SGL-Va1", "2022-04-07").await;
    app.set_clock("2022-04-07T08:00:00Z").await;
    let (_, page) = a.member.get(&format!("/comite/{session}")).await;
    assert!(
        page.contains("Aucune candidature à l’ordre du jour"),
        "{page}"
    );
    prove_all(&app, &id, true).await;
    prove_all(&app, &other, true).await;
    let (_, page) = a.member.get(&format!("/comite/{session}")).await;
    assert!(
        page.contains("Labo C")
            && page.contains("Labo D")
            && page.contains("Réserves non bloquantes"),
        "{page}"
    );

    for cid in [&id, &other] {
        let (s, body) = decide(
            &a.member,
            &session,
            cid,
            &[
                ("mode", "reserves-non-bloquantes"),
                ("reasons", "Guide d'installation incomplet"),
            ],
        )
        .await;
        assert_eq!(s, 303, "{body}");
    }
    let mail = app
        .wait_email(&b.user.email, "réserves non bloquantes")
        .await;
    assert!(
        mail.contains("5 mai 2022"),
        "28 days from 7 April, to 5 May 24:00: {mail}"
    );
    // The instructor may not attribute before anything is deposited.
    let r = format!("/candidatures/{id}/referencement");
    let (s, body, _) = a
        .instructor
        .post(&format!("{r}/examen-levee"), &[("lifted", "oui")])
        .await;
    assert_eq!(s, 409, "{body}");
    // The editor deposits the lifting document (multipart, streamed).
    let form = reqwest::multipart::Form::new()
        .text("csrf", b.csrf.clone())
        .text("note", "Guide complété")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("guide.png"),
        );
    let resp = b
        .client
        .post(format!("{}{r}/levee", app.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        303,
        "{}",
        resp.text().await.unwrap()
    );
    let (s, body, _) = a
        .instructor
        .post(&format!("{r}/examen-levee"), &[("lifted", "oui")])
        .await;
    assert_eq!(s, 303, "{body}");
    let stored = app
        .store
        .referencing(&id)
        .await
        .unwrap()
        .unwrap()
        .referencing;
    assert!(
        stored
            .number
            .as_deref()
            .unwrap()
            .starts_with("BIO-SGL-Va1-2022-0001-")
    );
    app.wait_email(&b.user.email, "réserves non bloquantes sont levées")
        .await;

    // The other one deposits nothing: at the deadline the worker refuses, once.
    app.set_clock("2022-05-05T22:00:01Z").await;
    let mut refused = false;
    for _ in 0..60 {
        refused = app
            .store
            .referencing(&other)
            .await
            .unwrap()
            .unwrap()
            .referencing
            .refused
            .is_some();
        if refused {
            break;
        }
        app.settle().await;
    }
    assert!(refused, "lapsed reservations refuse");
    app.wait_email(&c_b.user.email, "n'ont pas été levées")
        .await;
    let late = reqwest::multipart::Form::new()
        .text("csrf", c_b.csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("tard.png"),
        );
    let resp = c_b
        .client
        .post(format!(
            "{}/candidatures/{other}/referencement/levee",
            app.url
        ))
        .multipart(late)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409, "too late, nothing kept");
    app.stop().await;
}
both!(
    bio_non_blocking_reservations,
    bio_signs_with_the_candidature_and_lifts_reservations
);

async fn permanent_programme_and_bad_inputs(backend: Backend) {
    // MS2-DUI-PDE-Va1-SF is permanent: blocking reservations always let the editor redeposit.
    let app = spawn_app(backend, controlled("2025-12-01T08:00:00Z")).await;
    let a = agency(&app).await;
    let (b, org) = editor(&app, "rl@editeur-e.fr", "Éditeur E", "73282932000074").await;
    let id = candidature(&app, &b, &org, "MS2-DUI-PDE-Va1-SF", "Éditeur E").await;
    prove_all(&app, &id, true).await;
    convention_signed_in_page(&app, &a, &b, &id).await;

    // Sessions: a Saturday, a public holiday, the past, a bad date, an unknown programme.
    for (date, needle) in [
        ("2025-12-06", "jour ouvré"),
        ("2025-12-25", "férié"),
        ("2025-11-28", "passée"),
    ] {
        let (s, body, _) = a
            .admin
            .post(
                "/comite",
                &[("programme", "MS2-DUI-PDE-Va1-SF"), ("date", date)],
            )
            .await;
        assert_eq!(s, 409, "{date}: {body}");
        assert!(body.contains(needle), "{date}: {body}");
    }
    let (s, body, _) = a
        .admin
        .post(
            "/comite",
            &[("programme", "MS2-DUI-PDE-Va1-SF"), ("date", "04/12/2025")],
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let (s, _, _) = a
        .admin
        .post("/comite", &[("programme", "NOPE"), ("date", "2025-12-04")])
        .await;
    assert_eq!(s, 422);
    let (s, _) = b.get("/comite").await;
    assert_eq!(s, 403, "editors do not see the committee");
    let (s, _, _) = b
        .post(
            "/comite",
            &[("programme", "MS2-DUI-PDE-Va1-SF"), ("date", "2025-12-04")],
        )
        .await;
    assert_eq!(s, 403);
    let session = schedule(&app, &a.admin, "MS2-DUI-PDE-Va1-SF", "2025-12-04").await;
    app.set_clock("2025-12-04T09:00:00Z").await;
    let (s, body) = decide(&a.member, &session, &id, &[("mode", "peut-etre")]).await;
    assert_eq!(s, 422, "{body}");
    let long = "x".repeat(4001);
    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[("mode", "attribution"), ("reasons", &long)],
    )
    .await;
    assert_eq!(s, 409, "{body}");
    let (s, _) = decide(&a.member, "nope", &id, &[("mode", "attribution")]).await;
    assert_eq!(s, 404);
    let forged = a
        .member
        .client
        .post(format!("{}/comite/{session}/decision", app.url))
        .form(&[
            ("csrf", "forged"),
            ("candidature", id.as_str()),
            ("mode", "attribution"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403, "forged CSRF");
    let stored = app.store.proof_dossier(&id).await.unwrap().unwrap();
    let target = stored
        .dossier
        .verdicts
        .keys()
        .find(|k| !k.starts_with("piece:"))
        .unwrap()
        .clone();
    let (s, body) = decide(
        &a.member,
        &session,
        &id,
        &[
            ("mode", "reserves-bloquantes"),
            ("reasons", "Preuve illisible"),
            ("at_fault", &target),
        ],
    )
    .await;
    assert_eq!(
        s, 303,
        "permanent programme: the file returns to instruction: {body}"
    );
    assert!(
        app.store
            .referencing(&id)
            .await
            .unwrap()
            .unwrap()
            .referencing
            .refused
            .is_none()
    );
    // Nothing changed by the refused attempts: one decision recorded.
    assert_eq!(
        app.store
            .referencing(&id)
            .await
            .unwrap()
            .unwrap()
            .referencing
            .decisions
            .len(),
        1
    );
    // The session closes; no more decisions in it.
    let (s, _, _) = a
        .admin
        .post(&format!("/comite/{session}/cloture"), &[])
        .await;
    assert_eq!(s, 303);
    prove_all(&app, &id, true).await;
    let (s, body) = decide(&a.member, &session, &id, &[("mode", "attribution")]).await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("close"), "{body}");
    app.stop().await;
}
both!(
    permanent_programme_refusals,
    permanent_programme_and_bad_inputs
);
