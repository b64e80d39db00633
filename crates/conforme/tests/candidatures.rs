//! Accounts and the administrative dossier over HTTP, on SQLite and PostgreSQL: sign-up,
//! login with the emailed code, lockout and reset; a candidature from draft to decision by
//! pages and by API; the 5-working-day complement deadline firing once, across a restart;
//! one editor never reaching another's candidature.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    Backend, Browser, TestApp, at, controlled, drafted, editor, spawn_app, token, version,
};
use conforme::ClockOptions;
use conforme_domain::account::Role;
use conforme_domain::candidature::CandidatureState;
use serde_json::{Value, json};

fn csrf_in(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[i..i + 64].to_string()
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// Uploads the two mandatory pieces through the dossier page's upload forms.
async fn attach_pieces(app: &TestApp, b: &Browser, id: &str) {
    for (field, name) in [
        ("cnda_application_proof", "demande-cnda.pdf"),
        ("documentation", "documentation.pdf"),
    ] {
        let form = reqwest::multipart::Form::new()
            .text("csrf", b.csrf.clone())
            .text("field", field)
            .part(
                "file",
                reqwest::multipart::Part::bytes(PDF.to_vec())
                    .file_name(name)
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        let r = b
            .client
            .post(format!("{}/candidatures/{id}/pieces", app.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    }
}

async fn state(app: &TestApp, id: &str) -> CandidatureState {
    app.store.candidature(id).await.unwrap().unwrap().state
}

async fn accounts_through_pages(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |p: &str| format!("{}{p}", app.url);
    let page = |p: String| {
        let c = client.clone();
        async move { c.get(p).send().await.unwrap().text().await.unwrap() }
    };
    let post = |p: String, form: Vec<(&'static str, String)>| {
        let c = client.clone();
        async move {
            let r = c.post(p).form(&form).send().await.unwrap();
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            (status, location, r.text().await.unwrap())
        }
    };
    let email = "claire.martin@editeur.fr";
    let password = "Un-Mot-De-Passe-42";

    // Sign-up: a weak password is refused, the typed name kept.
    let csrf = csrf_in(&page(url("/inscription")).await);
    let (status, _, body) = post(
        url("/inscription"),
        vec![
            ("csrf", csrf.clone()),
            ("display_name", "Claire Martin".into()),
            ("email", email.into()),
            ("password", "court".into()),
            ("password_confirm", "court".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("12 caractères") && body.contains("value=\"Claire Martin\""),
        "{body}"
    );
    // Without the CSRF token nothing happens.
    let (status, _, _) = post(
        url("/inscription"),
        vec![
            ("csrf", "x".repeat(64)),
            ("display_name", "X".into()),
            ("email", email.into()),
            ("password", password.into()),
            ("password_confirm", password.into()),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert!(app.store.user_by_email(email).await.unwrap().is_none());
    let (status, _, body) = post(
        url("/inscription"),
        vec![
            ("csrf", csrf.clone()),
            ("display_name", "Claire Martin".into()),
            ("email", email.into()),
            ("password", password.into()),
            ("password_confirm", password.into()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("Vérifiez votre messagerie"));

    // Login before the address is verified: refused, a new link is sent.
    let csrf = csrf_in(&page(url("/connexion")).await);
    let (status, _, body) = post(
        url("/connexion"),
        vec![
            ("csrf", csrf.clone()),
            ("email", email.into()),
            ("password", password.into()),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("pas encore validée"));

    let mail = app.wait_email(email, "/inscription/verifier?token=").await;
    let link = mail
        .split_whitespace()
        .find(|w| w.contains("/inscription/verifier?token="))
        .unwrap();
    let path = &link[link.find("/inscription").unwrap()..];
    assert!(page(url(path)).await.contains("Adresse validée"));
    assert!(
        page(url(path)).await.contains("Lien invalide"),
        "a link serves once"
    );

    // Wrong password, then the right one and the emailed code.
    let (status, _, body) = post(
        url("/connexion"),
        vec![
            ("csrf", csrf.clone()),
            ("email", email.into()),
            ("password", "Pas-Le-Bon-42".into()),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("incorrect"));
    let (status, location, _) = post(
        url("/connexion"),
        vec![
            ("csrf", csrf.clone()),
            ("email", email.into()),
            ("password", password.into()),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/connexion/code"))
    );
    let espace = client.get(url("/espace")).send().await.unwrap();
    assert_eq!(
        espace.headers()["location"],
        "/connexion/code",
        "no access before the second factor"
    );
    let mail = app.wait_email(email, "code").await;
    let code: String = mail
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_string();
    let code_page = page(url("/connexion/code")).await;
    let session_csrf = csrf_in(&code_page);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _, _) = post(
        url("/connexion/code"),
        vec![("csrf", session_csrf.clone()), ("code", wrong.into())],
    )
    .await;
    assert_eq!(status, 401);
    let (status, location, _) = post(
        url("/connexion/code"),
        vec![("csrf", session_csrf.clone()), ("code", code.clone())],
    )
    .await;
    assert_eq!((status, location.as_deref()), (303, Some("/espace")));
    let espace = page(url("/espace")).await;
    assert!(
        espace.contains("Claire Martin") && espace.contains("Créer l'organisation"),
        "{espace}"
    );

    // Logout ends the session.
    let (status, _, _) = post(url("/deconnexion"), vec![("csrf", csrf_in(&espace))]).await;
    assert_eq!(status, 303);
    assert_eq!(
        client
            .get(url("/espace"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        303
    );

    // Five failures lock the account, even for the right password.
    for _ in 0..5 {
        post(
            url("/connexion"),
            vec![
                ("csrf", csrf.clone()),
                ("email", email.into()),
                ("password", "Mauvais-Mot-42".into()),
            ],
        )
        .await;
    }
    let (status, _, body) = post(
        url("/connexion"),
        vec![
            ("csrf", csrf.clone()),
            ("email", email.into()),
            ("password", password.into()),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("verrouillé"), "{body}");

    // Reset by link: the account opens again with the new password.
    let forgot_csrf = csrf_in(&page(url("/mot-de-passe-oublie")).await);
    let (status, _, body) = post(
        url("/mot-de-passe-oublie"),
        vec![("csrf", forgot_csrf.clone()), ("email", email.into())],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("Si un compte existe"));
    let (_, _, unknown) = post(
        url("/mot-de-passe-oublie"),
        vec![
            ("csrf", forgot_csrf),
            ("email", "personne@nulle.part".into()),
        ],
    )
    .await;
    assert!(
        unknown.contains("Si un compte existe"),
        "same answer for unknown addresses"
    );
    let mail = app.wait_email(email, "/mot-de-passe/nouveau?token=").await;
    let link = mail
        .split_whitespace()
        .find(|w| w.contains("/mot-de-passe/nouveau?token="))
        .unwrap();
    let path = &link[link.find("/mot-de-passe").unwrap()..];
    let token = path.split("token=").nth(1).unwrap().to_string();
    let reset_csrf = csrf_in(&page(url(path)).await);
    let new_password = "Encore-Un-Autre-43";
    let (status, _, body) = post(
        url("/mot-de-passe/nouveau"),
        vec![
            ("csrf", reset_csrf),
            ("token", token),
            ("password", new_password.into()),
            ("password_confirm", new_password.into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, location, _) = post(
        url("/connexion"),
        vec![
            ("csrf", csrf.clone()),
            ("email", email.into()),
            ("password", new_password.into()),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/connexion/code"))
    );

    let (count, problems) = app.store.verify_journal().await.unwrap();
    assert!(count > 4 && problems.is_empty());
    app.stop().await;
}
both!(accounts, accounts_through_pages);

async fn review_and_deadline(backend: Backend) {
    // June 2024: before HOP-DPI-Va2's Date 1.
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _org) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let instructor = app
        .browser_for("instructeur@ans.fr", Role::Instructor, None, false)
        .await;
    let id = drafted(&app, &a).await;

    // Submission names what is missing, and changes nothing.
    let v = version(&app, &id).await;
    let (status, body, _) = a
        .post(&format!("/candidatures/{id}/depot"), &[("version", &v)])
        .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("Preuve de la demande d&#x27;homologation CNDA")
            || body.contains("Preuve de la demande d&#39;homologation CNDA"),
        "{body}"
    );
    assert_eq!(state(&app, &id).await, CandidatureState::Draft);

    attach_pieces(&app, &a, &id).await;
    // A stale form is refused and loses nothing.
    let (status, body, _) = a
        .post(
            &format!("/candidatures/{id}/dossier"),
            &[("version", &v), ("commercial_name", "Nom modifié")],
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        body.contains("périmé") && body.contains("Nom modifié"),
        "{body}"
    );
    let v = version(&app, &id).await;
    let (status, _, _) = a
        .post(&format!("/candidatures/{id}/depot"), &[("version", &v)])
        .await;
    assert_eq!(status, 303);
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    assert_eq!(c.state, CandidatureState::Submitted);
    assert_eq!(
        c.deposited_at,
        Some(at("2024-06-03T08:00:00Z")).map(|d| c.deposited_at.map_or(d, |x| x))
    );
    // A second submission is refused.
    let (status, body, _) = a
        .post(
            &format!("/candidatures/{id}/depot"),
            &[("version", &version(&app, &id).await)],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    app.wait_email("instructeur@ans.fr", &c.reference).await;

    let (status, queue) = instructor.get("/instruction").await;
    assert_eq!(status, 200);
    assert!(queue.contains(&c.reference));

    // Complement asked on the Thursday before Easter 2026, 15:00 Paris.
    app.set_clock("2026-04-02T15:00:00+02:00").await;
    let (status, _, _) = instructor
        .post(
            &format!("/candidatures/{id}/complement"),
            &[
                ("version", &version(&app, &id).await),
                ("message", "Merci de joindre le Kbis."),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    assert_eq!(c.state, CandidatureState::ComplementRequested);
    // Fri 3, Tue 7 (Easter Monday off), Wed 8, Thu 9, Fri 10 → 24:00 Paris on Friday 10 April.
    assert_eq!(c.complement_due_at, Some(at("2026-04-10T22:00:00Z")));
    app.wait_email("marie@editeur-a.fr", "Merci de joindre le Kbis")
        .await;
    let (_, page) = a.get(&format!("/candidatures/{id}")).await;
    assert!(
        page.contains("vendredi 10 avril 2026") && page.contains("5 jours ouvrés"),
        "the due time and its rule are shown: {page}"
    );
    let (_, page) = instructor.get(&format!("/candidatures/{id}")).await;
    assert!(page.contains("vendredi 10 avril 2026"), "to both sides");

    // Just before the due instant nothing fires (the clock runs on from the instant set; the
    // exact boundary is a domain test).
    app.set_clock("2026-04-10T23:59:50+02:00").await;
    app.settle().await;
    assert_eq!(
        state(&app, &id).await,
        CandidatureState::ComplementRequested
    );

    // The platform restarts; one second after the due time the candidature is rejected, once.
    let app = app.restart(controlled("2026-04-11T00:00:01+02:00")).await;
    app.settle().await;
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    assert_eq!(c.state, CandidatureState::Rejected);
    assert!(
        c.decision_reason
            .as_deref()
            .unwrap()
            .contains("Rejet automatique")
    );
    app.wait_email("marie@editeur-a.fr", "Rejet automatique")
        .await;
    let app = app.restart(controlled("2026-04-20T10:00:00+02:00")).await;
    app.settle().await;
    let fired = app
        .store
        .journal_for("candidature", &id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "candidature.rejected-automatically")
        .count();
    assert_eq!(fired, 1);
    let deadlines: Vec<_> = app
        .store
        .jobs_for(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "candidature.complement-deadline")
        .collect();
    assert_eq!(deadlines.len(), 1);
    assert_eq!(deadlines[0].state, "done");
    // A late answer is refused.
    let a = app
        .browser_for("marie@editeur-a.fr", Role::Editor, None, true)
        .await;
    let (status, _, _) = a
        .post(
            &format!("/candidatures/{id}/reponse"),
            &[
                ("version", &version(&app, &id).await),
                ("message", "Trop tard"),
            ],
        )
        .await;
    assert_eq!(status, 409);
    app.stop().await;
}
both!(review, review_and_deadline);

async fn answered_in_time(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let instructor = app
        .browser_for("instructeur@ans.fr", Role::Instructor, None, false)
        .await;
    let id = drafted(&app, &a).await;
    attach_pieces(&app, &a, &id).await;
    a.post(
        &format!("/candidatures/{id}/depot"),
        &[("version", &version(&app, &id).await)],
    )
    .await;
    // Late submission of another candidature: after Date 1 (19/11/2024 12:00 Paris).
    let other = drafted(&app, &a).await;
    attach_pieces(&app, &a, &other).await;
    app.set_clock("2024-11-19T12:00:01+01:00").await;
    let (status, body, _) = a
        .post(
            &format!("/candidatures/{other}/depot"),
            &[("version", &version(&app, &other).await)],
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        body.contains("Date 1") && body.contains("19/11/2024 à 12:00"),
        "{body}"
    );

    app.set_clock("2026-04-02T15:00:00+02:00").await;
    instructor
        .post(
            &format!("/candidatures/{id}/complement"),
            &[
                ("version", &version(&app, &id).await),
                ("message", "Le Kbis ?"),
            ],
        )
        .await;
    app.set_clock("2026-04-10T23:00:00+02:00").await;
    let (status, _, _) = a
        .post(
            &format!("/candidatures/{id}/reponse"),
            &[("version", &version(&app, &id).await), ("message", " ")],
        )
        .await;
    assert_eq!(status, 422, "an empty answer is refused");
    let (status, _, _) = a
        .post(
            &format!("/candidatures/{id}/reponse"),
            &[
                ("version", &version(&app, &id).await),
                ("message", "Voici le Kbis."),
            ],
        )
        .await;
    assert_eq!(status, 303);
    app.set_clock("2026-04-15T10:00:00+02:00").await;
    app.settle().await;
    assert_eq!(state(&app, &id).await, CandidatureState::Submitted);
    assert!(
        app.store
            .jobs_for(&id)
            .await
            .unwrap()
            .iter()
            .all(|j| j.state != "pending")
    );
    // The instructor decides: rejection needs a reason, validation closes the review.
    let (status, _, _) = instructor
        .post(
            &format!("/candidatures/{id}/rejet"),
            &[("version", &version(&app, &id).await), ("reason", "")],
        )
        .await;
    assert_eq!(status, 422);
    let (status, _, _) = instructor
        .post(
            &format!("/candidatures/{id}/validation"),
            &[("version", &version(&app, &id).await)],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(state(&app, &id).await, CandidatureState::Validated);
    app.wait_email("marie@editeur-a.fr", "est validé").await;
    // The history shows each step.
    let (_, page) = a.get(&format!("/candidatures/{id}")).await;
    for step in [
        "Dossier déposé",
        "Complément demandé",
        "Complément apporté",
        "Dossier validé",
    ] {
        assert!(page.contains(step), "{step}");
    }
    app.stop().await;
}
both!(answered, answered_in_time);

async fn isolation(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let (b, _) = editor(&app, "paul@editeur-b.fr", "Éditeur B", "44201234500017").await;
    let id = drafted(&app, &a).await;
    let v = version(&app, &id).await;
    for path in [
        format!("/candidatures/{id}"),
        format!("/candidatures/{id}/dossier"),
    ] {
        let (status, body) = b.get(&path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("DPI Santé"));
    }
    for (path, form) in [
        (
            format!("/candidatures/{id}/dossier"),
            vec![("version", v.as_str()), ("commercial_name", "Piraté")],
        ),
        (
            format!("/candidatures/{id}/depot"),
            vec![("version", v.as_str())],
        ),
        (
            format!("/candidatures/{id}/messages"),
            vec![("message", "bonjour")],
        ),
        (
            format!("/candidatures/{id}/validation"),
            vec![("version", v.as_str())],
        ),
    ] {
        let (status, _, _) = b.post(&path, &form).await;
        assert!(status == 404 || status == 403, "{path}: {status}");
    }
    assert_eq!(
        app.store
            .candidature(&id)
            .await
            .unwrap()
            .unwrap()
            .dossier
            .commercial_name,
        "DPI Santé"
    );
    // An editor cannot decide on its own candidature.
    let (status, _, _) = a
        .post(
            &format!("/candidatures/{id}/validation"),
            &[("version", &v)],
        )
        .await;
    assert_eq!(status, 403);
    // Anonymous visitors go to the login page.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anon
        .get(format!("{}/candidatures/{id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/connexion?suite=")
    );
    // By API too.
    let token_b = token(
        &app,
        &b.user.id,
        &["candidatures:read", "candidatures:write"],
    )
    .await;
    let r = app
        .client
        .get(format!("{}/api/v1/candidatures/{id}", app.url))
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = app
        .client
        .get(format!("{}/api/v1/candidatures", app.url))
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
    let r = app
        .client
        .get(format!("{}/api/v1/candidatures/{id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    app.stop().await;
}
both!(editors_are_isolated, isolation);

async fn api_flow(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let instructor = app
        .browser_for("instructeur@ans.fr", Role::Instructor, None, false)
        .await;
    let write = token(
        &app,
        &a.user.id,
        &["candidatures:read", "candidatures:write"],
    )
    .await;
    let read_only = token(&app, &a.user.id, &["candidatures:read"]).await;
    let api = |method: reqwest::Method, path: &str, tok: &str| {
        app.client
            .request(method, format!("{}/api/v1{path}", app.url))
            .bearer_auth(tok.to_string())
    };

    let r = api(reqwest::Method::POST, "/candidatures", &write)
        .json(&json!({"programme": "NOPE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = api(reqwest::Method::POST, "/candidatures", &read_only)
        .json(&json!({"programme": "HOP-DPI-Va2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = api(reqwest::Method::POST, "/candidatures", &write)
        .json(&json!({"programme": "HOP-DPI-Va2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_str().unwrap().to_string();
    assert!(c["missing"].as_array().unwrap().len() > 3);

    let mut pieces = vec![];
    for field in ["cnda_application_proof", "documentation"] {
        let r = api(
            reqwest::Method::POST,
            &format!("/candidatures/{id}/attachments?field={field}&name={field}.pdf"),
            &write,
        )
        .body(PDF.to_vec())
        .send()
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        pieces.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let c: Value = api(
        reqwest::Method::GET,
        &format!("/candidatures/{id}"),
        &read_only,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    // A piece that was not uploaded to this candidature is refused.
    let forged = json!({"cnda_application_proof": "00000000-0000-0000-0000-000000000000", "profiles": ["Général"]});
    let r = api(
        reqwest::Method::PUT,
        &format!("/candidatures/{id}/dossier"),
        &write,
    )
    .json(&json!({"version": c["version"], "dossier": forged}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let dossier = json!({
        "commercial_name": "DPI Santé", "technical_version": "v2.4.1", "wave1_referenced": false,
        "cnda_nil": "NIL-77", "cnda_application_proof": pieces[0], "documentation": pieces[1],
        "profiles": ["Général"], "no_additional_components": true
    });
    let r = api(
        reqwest::Method::PUT,
        &format!("/candidatures/{id}/dossier"),
        &write,
    )
    .json(&json!({"version": 999, "dossier": dossier}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 409, "stale version");
    let r = api(
        reqwest::Method::PUT,
        &format!("/candidatures/{id}/dossier"),
        &write,
    )
    .json(&json!({"version": c["version"], "dossier": {"profiles": "pas une liste"}}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = api(
        reqwest::Method::PUT,
        &format!("/candidatures/{id}/dossier"),
        &write,
    )
    .json(&json!({"version": c["version"], "dossier": dossier}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["missing"], json!([]));
    let r = api(
        reqwest::Method::POST,
        &format!("/candidatures/{id}/submit"),
        &write,
    )
    .json(&json!({"version": c["version"]}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["state"], "submitted");

    instructor
        .post(
            &format!("/candidatures/{id}/complement"),
            &[
                ("version", &c["version"].to_string()),
                ("message", "Précisez la version."),
            ],
        )
        .await;
    let c: Value = api(
        reqwest::Method::GET,
        &format!("/candidatures/{id}"),
        &read_only,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(c["state"], "complement-requested");
    assert!(c["complement_due_at"].is_string());
    let r = api(
        reqwest::Method::POST,
        &format!("/candidatures/{id}/answer"),
        &write,
    )
    .json(&json!({"version": c["version"], "message": "Version v2.4.1."}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let messages: Value = api(
        reqwest::Method::GET,
        &format!("/candidatures/{id}/messages"),
        &read_only,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let kinds: Vec<&str> = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["submission", "complement-request", "complement-answer"]
    );
    let doc: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/candidatures/{id}/submit"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await;
}
both!(api, api_flow);
