//! The editor organisation over HTTP, on SQLite and PostgreSQL: creation with its checked
//! SIRET, identity updates refused when stale, members invited by email, the solidarity group
//! and mandated distributors, the charter accepted by the legal representative only; and no
//! editor ever reaching another's organisation.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, Browser, TestApp, spawn_app};
use conforme::ClockOptions;
use conforme_domain::account::Role;
use sha2::{Digest, Sha256};

const SIRET_A: &str = "13000940500023";
const SIRET_B: &str = "73282932000074";

/// A valid SIRET from 13 digits: the Luhn check digit appended.
fn siret(prefix: &str) -> String {
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|s| conforme_domain::identifiers::Siret::parse(s).is_ok())
        .unwrap()
}

fn identity_fields(company: &str, siret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("company_name", company.to_string()),
        ("siret", siret.to_string()),
        ("legal_form", "SAS".into()),
        ("head_function", "Président".into()),
        (
            "head_office_address",
            "1 rue de la Paix, 75002 Paris".into(),
        ),
        ("legal_rep_name", "Marie Curie".into()),
        ("legal_rep_title", "Présidente".into()),
        ("legal_rep_email", "Marie@Example.fr".into()),
        ("legal_rep_phone", "01 23 45 67 89".into()),
        ("contact_name", "Louis Pasteur".into()),
        ("contact_email", "louis@example.fr".into()),
        ("contact_phone", "01 98 76 54 32".into()),
        ("cnda_nie", "NIE-42".into()),
    ]
}

fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Creates an editor account and its organisation through the pages; returns the browser and
/// the organisation's id.
async fn editor_with_organisation(
    app: &TestApp,
    email: &str,
    company: &str,
    siret: &str,
    legal_representative: bool,
) -> (Browser, String) {
    let b = app.browser_for(email, Role::Editor, None, false).await;
    let mut fields = identity_fields(company, siret);
    if legal_representative {
        fields.push(("legal_representative", "oui".into()));
    }
    let (status, body, location) = b.post("/organisation", &pairs(&fields)).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(location.as_deref(), Some("/organisation?fait=creee"));
    let org = app
        .store
        .user_by_email(email)
        .await
        .unwrap()
        .unwrap()
        .organisation_id
        .unwrap();
    (b, org)
}

fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn anonymous_get(app: &TestApp, path: &str) -> (u16, String, Option<String>) {
    let r = no_redirect_client()
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, r.text().await.unwrap(), location)
}

async fn actions(app: &TestApp, object_type: &str, id: &str) -> Vec<String> {
    app.store
        .journal_for(object_type, id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn create_organisation(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;

    let (status, _, location) = anonymous_get(&app, "/organisation").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/connexion?suite=/organisation"));

    let a = app
        .browser_for("anne@editeur-a.fr", Role::Editor, None, false)
        .await;
    let (status, form) = a.get("/organisation").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("Créer l'espace de votre organisation"),
        "{form}"
    );
    for (name, _) in conforme_domain::candidature::EDITOR_FIELDS {
        assert!(form.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(form.contains("Je suis le représentant légal de cette organisation"));

    // A SIRET with a wrong check digit and a missing NIE: both named, the input kept.
    let mut fields = identity_fields("Éditeur A", "130 009 405 00022");
    fields.retain(|(k, _)| *k != "cnda_nie");
    fields.push(("legal_representative", "oui".into()));
    let (status, body, _) = a.post("/organisation", &pairs(&fields)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("2 points à corriger"), "{body}");
    assert!(
        body.contains("SIRET : le SIRET « 13000940500022 » n&#39;est pas valide"),
        "{body}"
    );
    assert!(body.contains("champ obligatoire"));
    assert!(body.contains("fr-input-group--error"));
    assert!(body.contains("value=\"Éditeur A\""));
    assert!(body.contains("value=\"130 009 405 00022\""));
    assert!(body.contains("value=\"Louis Pasteur\""));
    assert!(body.contains("name=\"legal_representative\" value=\"oui\" checked"));
    let too_short = identity_fields("Éditeur A", "1300094050002");
    let (status, body, _) = a.post("/organisation", &pairs(&too_short)).await;
    assert_eq!(status, 422);
    assert!(body.contains("14 chiffres"), "{body}");
    assert!(
        app.store
            .user_by_email("anne@editeur-a.fr")
            .await
            .unwrap()
            .unwrap()
            .organisation_id
            .is_none()
    );

    // The good one.
    let mut fields = identity_fields("Éditeur A", "130 009 405 00023");
    fields.push(("legal_representative", "oui".into()));
    let (status, _, location) = a.post("/organisation", &pairs(&fields)).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/organisation?fait=creee"))
    );
    let anne = app
        .store
        .user_by_email("anne@editeur-a.fr")
        .await
        .unwrap()
        .unwrap();
    assert!(anne.legal_representative);
    let org_id = anne.organisation_id.unwrap();
    let org = app.store.organisation(&org_id).await.unwrap().unwrap();
    assert_eq!(org.siret, SIRET_A);
    assert_eq!(org.identity.siret, SIRET_A);
    assert_eq!(org.identity.legal_rep_email, "marie@example.fr");
    assert_eq!(org.identity.company_name, "Éditeur A");
    assert_eq!(
        actions(&app, "organisation", &org_id).await,
        ["organisation.created"]
    );

    let (status, page) = a.get("/organisation?fait=creee").await;
    assert_eq!(status, 200);
    assert!(page.contains("L&#39;organisation est créée"), "{page}");
    assert!(page.contains("<h1>Éditeur A</h1>"));
    assert!(page.contains("SIRET 130 009 405 00023"));
    assert!(page.contains("anne@editeur-a.fr"));
    assert!(page.contains("Représentant légal</p>"));
    assert!(page.contains("Chef de file"));
    assert!(page.contains("Chartes acceptées"));

    // Creating a second one is refused; another editor cannot take the same SIRET.
    let (status, _, _) = a.post("/organisation", &pairs(&fields)).await;
    assert_eq!(status, 409);
    let c = app
        .browser_for("claude@editeur-c.fr", Role::Editor, None, false)
        .await;
    let (status, body, _) = c
        .post("/organisation", &pairs(&identity_fields("Copie", SIRET_A)))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("une organisation existe déjà pour le SIRET 13000940500023"),
        "{body}"
    );
    assert!(body.contains("value=\"Copie\""));

    // Without the CSRF token nothing happens; anonymous posts go to the login page.
    let lone = app
        .browser_for("sans-jeton@editeur.fr", Role::Editor, None, false)
        .await;
    let r = lone
        .client
        .post(format!("{}/organisation", app.url))
        .form(&pairs(&identity_fields("Sans jeton", SIRET_B)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = no_redirect_client()
        .post(format!("{}/organisation", app.url))
        .form(&pairs(&identity_fields("Anonyme", SIRET_B)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        app.store
            .user_by_email("sans-jeton@editeur.fr")
            .await
            .unwrap()
            .unwrap()
            .organisation_id
            .is_none()
    );

    // Agency staff have no organisation page of their own.
    let i = app
        .browser_for("ines@ans.fr", Role::Instructor, None, false)
        .await;
    assert_eq!(i.get("/organisation").await.0, 403);
    app.stop().await;
}
both!(create, create_organisation);

async fn only_members_see_their_organisation(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let (a, org_a) =
        editor_with_organisation(&app, "anne@editeur-a.fr", "Éditeur A", SIRET_A, true).await;
    let (b, org_b) =
        editor_with_organisation(&app, "bruno@editeur-b.fr", "Éditeur B", SIRET_B, true).await;
    let (status, _, _) = a
        .post(
            "/organisation/distributeurs",
            &[
                ("company_name", "Distrib A"),
                ("siret", "35600000000047"),
                ("mandate_start", "2026-01-01"),
                ("mandate_end", ""),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let distributor_a = app.store.distributors(&org_a).await.unwrap()[0].id.clone();

    // By page: B sees its own organisation only.
    let (_, page_b) = b.get("/organisation").await;
    assert!(page_b.contains("Éditeur B") && !page_b.contains("Éditeur A"));
    // By guessing identifiers: the same 404 whether the organisation exists or not.
    let (status, body) = b.get(&format!("/organisations/{org_a}")).await;
    assert_eq!(status, 404);
    assert!(!body.contains("Éditeur A"));
    let (status, _) = b
        .get("/organisations/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(status, 404);
    // Changing A's objects from B's session: not found, nothing changed.
    let (status, _, _) = b
        .post(
            &format!("/organisation/distributeurs/{distributor_a}/retrait"),
            &[],
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(app.store.distributors(&org_a).await.unwrap().len(), 1);
    let (status, _, _) = b
        .post(
            "/organisation/identite",
            &pairs(
                &[
                    identity_fields("B renommé", SIRET_B),
                    vec![("version", "1".into())],
                ]
                .concat(),
            ),
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        app.store
            .organisation(&org_a)
            .await
            .unwrap()
            .unwrap()
            .identity
            .company_name,
        "Éditeur A"
    );
    assert_eq!(
        app.store
            .organisation(&org_b)
            .await
            .unwrap()
            .unwrap()
            .identity
            .company_name,
        "B renommé"
    );

    // An editor without organisation finds nothing either; anonymous visitors log in.
    let lone = app
        .browser_for("lone@nowhere.fr", Role::Editor, None, false)
        .await;
    assert_eq!(lone.get(&format!("/organisations/{org_a}")).await.0, 404);
    let (status, _, location) = anonymous_get(&app, &format!("/organisations/{org_a}")).await;
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/connexion?suite="));
    // A member is sent to their own page.
    let (status, _, location) = {
        let r = a
            .client
            .get(format!("{}/organisations/{org_a}", app.url))
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            (),
            r.headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string()),
        )
    };
    assert_eq!((status, location.as_deref()), (303, Some("/organisation")));

    // The agency reads it, without forms; a payment agent may not.
    let i = app
        .browser_for("ines@ans.fr", Role::Instructor, None, false)
        .await;
    let (status, body) = i.get(&format!("/organisations/{org_a}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Éditeur A") && body.contains("Distrib A"));
    assert!(body.contains("Consultation par l'Agence"));
    assert!(
        !body.contains("Enregistrer l'identité")
            && !body.contains("<form method=\"post\" action=\"/organisation")
    );
    assert_eq!(i.get("/organisations/nope").await.0, 404);
    let p = app
        .browser_for("paul@asp.fr", Role::PaymentAgent, None, false)
        .await;
    assert_eq!(p.get(&format!("/organisations/{org_a}")).await.0, 403);
    app.stop().await;
}
both!(isolation, only_members_see_their_organisation);

async fn identity_updates_refuse_stale_forms(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let (a, org) =
        editor_with_organisation(&app, "anne@editeur-a.fr", "Éditeur A", SIRET_A, true).await;
    let (_, page) = a.get("/organisation").await;
    assert!(page.contains("name=\"version\" value=\"1\""), "{page}");

    let update = |name: &str, version: &str, phone: &str| {
        let mut f = identity_fields(name, SIRET_A);
        f.retain(|(k, _)| *k != "legal_rep_phone");
        f.push(("legal_rep_phone", phone.to_string()));
        f.push(("version", version.to_string()));
        f
    };
    // Bad input: named, kept, nothing saved.
    let (status, body, _) = a
        .post(
            "/organisation/identite",
            &pairs(&update("Nouveau nom", "1", "12")),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("Téléphone du représentant légal : « 12 » n&#39;est pas un numéro"),
        "{body}"
    );
    assert!(body.contains("value=\"Nouveau nom\""));
    assert_eq!(
        app.store.organisation(&org).await.unwrap().unwrap().version,
        1
    );

    // A first save from version 1 …
    let (status, _, location) = a
        .post(
            "/organisation/identite",
            &pairs(&update("Éditeur A SAS", "1", "01 02 03 04 05")),
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/organisation?fait=identite#identite"))
    );
    // … then a second form still at version 1: refused, explained, the input kept.
    let (status, body, _) = a
        .post(
            "/organisation/identite",
            &pairs(&update("Éditeur A (ancien onglet)", "1", "01 02 03 04 05")),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("Formulaire périmé"));
    assert!(body.contains("rien n&#39;a été enregistré"));
    assert!(body.contains("value=\"Éditeur A (ancien onglet)\""));
    assert!(body.contains("Valeur enregistrée entre-temps : Éditeur A SAS"));
    assert!(
        body.contains("name=\"version\" value=\"2\""),
        "the form now carries the current version"
    );
    let saved = app.store.organisation(&org).await.unwrap().unwrap();
    assert_eq!(
        (saved.version, saved.identity.company_name.as_str()),
        (2, "Éditeur A SAS")
    );
    assert_eq!(
        actions(&app, "organisation", &org).await,
        ["organisation.created", "organisation.updated"]
    );
    // A garbled version is bad input, not a server error.
    let (status, _, _) = a
        .post(
            "/organisation/identite",
            &pairs(&update("X", "abc", "01 02 03 04 05")),
        )
        .await;
    assert_eq!(status, 422);
    app.stop().await;
}
both!(stale, identity_updates_refuse_stale_forms);

fn invitation_token(email_body: &str) -> String {
    let i = email_body.find("/invitation?token=").unwrap() + "/invitation?token=".len();
    email_body[i..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

async fn members_are_invited_by_email(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let (a, org) =
        editor_with_organisation(&app, "anne@editeur-a.fr", "Éditeur A", SIRET_A, true).await;

    // Bad addresses are named.
    let (status, body, _) = a
        .post("/organisation/invitations", &[("email", "pas-une-adresse")])
        .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("Adresse électronique : « pas-une-adresse » n&#39;est pas une adresse"),
        "{body}"
    );
    assert!(body.contains("value=\"pas-une-adresse\""));
    let (status, body, _) = a
        .post(
            "/organisation/invitations",
            &[("email", "ANNE@editeur-a.fr")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("déjà membre"));

    let (status, _, location) = a
        .post(
            "/organisation/invitations",
            &[("email", "Bob@Editeur-A.fr")],
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/organisation?fait=invitation#membres"))
    );
    let (_, page) = a.get("/organisation").await;
    assert!(
        page.contains("Invitations en attente") && page.contains("<td>bob@editeur-a.fr</td>"),
        "{page}"
    );
    let mail = app
        .wait_email("bob@editeur-a.fr", "/invitation?token=")
        .await;
    assert!(mail.contains("Éditeur A"), "{mail}");
    assert!(mail.contains("anne vous invite"), "{mail}");
    let token = invitation_token(&mail);
    assert_eq!(token.len(), 64);
    let link = format!("/invitation?token={token}");

    // Anonymous: told to log in or create the account, and to come back.
    let (status, body, _) = anonymous_get(&app, &link).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!("/inscription?invitation={token}")),
        "{body}"
    );
    assert!(
        body.contains("/connexion?suite=/invitation%3Ftoken%3D"),
        "{body}"
    );

    // The wrong account is refused, and the link survives.
    let carol = app
        .browser_for("carol@ailleurs.fr", Role::Editor, None, false)
        .await;
    let (status, body) = carol.get(&link).await;
    assert_eq!(status, 403);
    assert!(body.contains("adressée à bob@editeur-a.fr"), "{body}");
    let (status, _, _) = carol
        .post("/invitation", &[("token", token.as_str())])
        .await;
    assert_eq!(status, 403);
    assert!(
        app.store
            .user_by_email("carol@ailleurs.fr")
            .await
            .unwrap()
            .unwrap()
            .organisation_id
            .is_none()
    );

    // The invitee joins.
    let bob = app
        .browser_for("bob@editeur-a.fr", Role::Editor, None, false)
        .await;
    let (status, body) = bob.get(&link).await;
    assert_eq!(status, 200);
    assert!(body.contains("Rejoindre « Éditeur A »"), "{body}");
    let (status, _, location) = bob.post("/invitation", &[("token", token.as_str())]).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/organisation?fait=bienvenue"))
    );
    let bob_user = app
        .store
        .user_by_email("bob@editeur-a.fr")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob_user.organisation_id.as_deref(), Some(org.as_str()));
    assert!(!bob_user.legal_representative);
    assert_eq!(
        actions(&app, "user", &bob_user.id).await.last().unwrap(),
        "user.organisation-joined"
    );
    let org_actions = actions(&app, "organisation", &org).await;
    assert!(org_actions.contains(&"organisation.member-invited".to_string()));
    assert!(org_actions.contains(&"organisation.member-joined".to_string()));
    let (_, page) = bob.get("/organisation?fait=bienvenue").await;
    assert!(page.contains("Vous avez rejoint l&#39;organisation"));
    assert!(page.contains("bob@editeur-a.fr") && page.contains("(vous)"));

    // The link serves once.
    let (status, _, _) = bob.post("/invitation", &[("token", token.as_str())]).await;
    assert_eq!(status, 404);
    let (status, body) = carol.get(&link).await;
    assert_eq!(status, 404);
    assert!(body.contains("Invitation invalide ou expirée"));
    assert_eq!(
        anonymous_get(&app, "/invitation?token=nimportequoi")
            .await
            .0,
        404
    );

    // A member who is not a legal representative may invite a colleague, not a legal
    // representative; the legal representative may.
    let (status, body, _) = bob
        .post(
            "/organisation/invitations",
            &[
                ("email", "lea@editeur-a.fr"),
                ("legal_representative", "oui"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("seul un représentant légal de l&#39;organisation peut inviter un autre représentant légal"), "{body}");
    let (status, _, _) = bob
        .post(
            "/organisation/invitations",
            &[("email", "max@editeur-a.fr")],
        )
        .await;
    assert_eq!(status, 303);
    let (status, _, _) = a
        .post(
            "/organisation/invitations",
            &[
                ("email", "lea@editeur-a.fr"),
                ("legal_representative", "oui"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let mail = app
        .wait_email("lea@editeur-a.fr", "/invitation?token=")
        .await;
    let lea = app
        .browser_for("lea@editeur-a.fr", Role::Editor, None, false)
        .await;
    let (status, _, _) = lea
        .post(
            "/invitation",
            &[("token", invitation_token(&mail).as_str())],
        )
        .await;
    assert_eq!(status, 303);
    assert!(
        app.store
            .user_by_email("lea@editeur-a.fr")
            .await
            .unwrap()
            .unwrap()
            .legal_representative
    );

    // Someone already in another organisation is refused.
    let (_, _) =
        editor_with_organisation(&app, "erin@editeur-e.fr", "Éditeur E", SIRET_B, false).await;
    let (status, _, _) = a
        .post(
            "/organisation/invitations",
            &[("email", "erin@editeur-e.fr")],
        )
        .await;
    assert_eq!(status, 303);
    let mail = app
        .wait_email("erin@editeur-e.fr", "/invitation?token=")
        .await;
    let erin = app
        .browser_for("erin@editeur-e.fr", Role::Editor, None, false)
        .await;
    let (status, body, _) = erin
        .post(
            "/invitation",
            &[("token", invitation_token(&mail).as_str())],
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        body.contains("appartient déjà à une autre organisation"),
        "{body}"
    );
    assert_ne!(
        app.store
            .user_by_email("erin@editeur-e.fr")
            .await
            .unwrap()
            .unwrap()
            .organisation_id
            .as_deref(),
        Some(org.as_str())
    );
    app.stop().await;
}
both!(invitations, members_are_invited_by_email);

async fn solidarity_group_and_distributors(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let (a, org) =
        editor_with_organisation(&app, "anne@editeur-a.fr", "Éditeur A", SIRET_A, true).await;
    let distributor =
        |name: &'static str, siret: &'static str, start: &'static str, end: &'static str| {
            [
                ("company_name", name),
                ("siret", siret),
                ("mandate_start", start),
                ("mandate_end", end),
            ]
        };

    // The end of a mandate may not precede its start.
    let (status, body, _) = a
        .post(
            "/organisation/distributeurs",
            &distributor("Distrib", SIRET_B, "2026-06-01", "2026-01-31"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("Fin du mandat : la fin du mandat (31/01/2026) ne peut pas précéder son début (01/06/2026)"), "{body}");
    assert!(body.contains("value=\"2026-06-01\"") && body.contains("value=\"2026-01-31\""));
    assert!(body.contains("value=\"Distrib\""));
    // Bad dates, a missing start, a bad SIRET: each named.
    let (status, body, _) = a
        .post(
            "/organisation/distributeurs",
            &distributor("Distrib", "123", "", "2026-02-30"),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("SIRET : le SIRET doit comporter 14 chiffres"),
        "{body}"
    );
    assert!(body.contains("Début du mandat : champ obligatoire"));
    assert!(body.contains("Fin du mandat : « 2026-02-30 » n&#39;est pas une date valide"));
    assert!(app.store.distributors(&org).await.unwrap().is_empty());

    let (status, _, location) = a
        .post(
            "/organisation/distributeurs",
            &distributor("Distrib", "732 829 320 00074", "2026-01-01", ""),
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/organisation?fait=distributeur#distributeurs"))
    );
    let (status, _, _) = a
        .post(
            "/organisation/distributeurs",
            &distributor("Distrib", SIRET_B, "01/03/2026", "31/12/2026"),
        )
        .await;
    assert_eq!(status, 422, "overlapping mandates of one distributor");
    let list = app.store.distributors(&org).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].siret.as_str(), list[0].mandate_end),
        (SIRET_B, None)
    );
    let (_, page) = a.get("/organisation").await;
    assert!(
        page.contains("Distrib")
            && page.contains("01/01/2026")
            && page.contains("sans date de fin")
    );
    let (status, _, _) = a
        .post(
            &format!("/organisation/distributeurs/{}/retrait", list[0].id),
            &[],
        )
        .await;
    assert_eq!(status, 303);
    assert!(app.store.distributors(&org).await.unwrap().is_empty());
    let (status, _, _) = a
        .post(
            &format!("/organisation/distributeurs/{}/retrait", list[0].id),
            &[],
        )
        .await;
    assert_eq!(status, 404);

    // The solidarity group: the organisation leads it; members are other editors.
    let member =
        |name: &'static str, siret: &'static str| [("company_name", name), ("siret", siret)];
    let (status, body, _) = a
        .post(
            "/organisation/groupement",
            &member("Partenaire", "73282932000075"),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("clé de contrôle") && body.contains("value=\"Partenaire\""));
    let (status, body, _) = a
        .post("/organisation/groupement", &member("Moi-même", SIRET_A))
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("chef de file du groupement"));
    let other = siret("4420000000001");
    let (status, _, _) = a
        .post(
            "/organisation/groupement",
            &[("company_name", "Partenaire"), ("siret", other.as_str())],
        )
        .await;
    assert_eq!(status, 303);
    let (status, body, _) = a
        .post(
            "/organisation/groupement",
            &[
                ("company_name", "Partenaire bis"),
                ("siret", other.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("déjà membre du groupement"));
    let members = app.store.solidarity_members(&org).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].mandate_attachment_id, None);
    let (_, page) = a.get("/organisation").await;
    assert!(page.contains("Partenaire") && page.contains("Chef de file"));
    let (status, _, _) = a
        .post(
            &format!("/organisation/groupement/{}/retrait", members[0].id),
            &[],
        )
        .await;
    assert_eq!(status, 303);
    assert!(app.store.solidarity_members(&org).await.unwrap().is_empty());

    assert_eq!(
        actions(&app, "organisation", &org).await,
        [
            "organisation.created",
            "organisation.distributor-added",
            "organisation.distributor-removed",
            "organisation.solidarity-member-added",
            "organisation.solidarity-member-removed",
        ]
    );
    app.stop().await;
}
both!(group_and_distributors, solidarity_group_and_distributors);

fn sha256_in(html: &str) -> String {
    let i = html.find("name=\"sha256\" value=\"").unwrap() + 21;
    html[i..i + 64].to_string()
}

async fn the_legal_representative_accepts_the_charter(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let path = "/dispositifs/HOP-DPI-Va2/charte";
    let title = "Charte d'engagement du SONS HOP-DPI-Va2";

    // The text is public.
    let (status, public, _) = anonymous_get(&app, path).await;
    assert_eq!(status, 200);
    assert!(public.contains("Charte d&#39;engagement du SONS HOP-DPI-Va2"));
    assert!(public.contains("Exactitude des déclarations") && public.contains("Référencé Ségur"));
    assert!(!public.contains("name=\"accept\""));
    assert_eq!(anonymous_get(&app, "/dispositifs/NOPE/charte").await.0, 404);

    let (anne, org) =
        editor_with_organisation(&app, "anne@editeur-a.fr", "Éditeur A", SIRET_A, true).await;
    let (status, _, _) = anne
        .post(
            "/organisation/invitations",
            &[("email", "bob@editeur-a.fr")],
        )
        .await;
    assert_eq!(status, 303);
    let mail = app
        .wait_email("bob@editeur-a.fr", "/invitation?token=")
        .await;
    let bob = app
        .browser_for("bob@editeur-a.fr", Role::Editor, None, false)
        .await;
    assert_eq!(
        bob.post(
            "/invitation",
            &[("token", invitation_token(&mail).as_str())]
        )
        .await
        .0,
        303
    );

    // A member who is not the legal representative reads, and may not accept.
    let (status, body) = bob.get(path).await;
    assert_eq!(status, 200);
    assert!(body.contains("Seul le représentant légal peut accepter la charte."));
    assert!(!body.contains("name=\"accept\""));
    let (status, _, _) = bob
        .post(
            path,
            &[
                ("accept", "oui"),
                ("sha256", sha256_in(&anne.get(path).await.1).as_str()),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        app.store
            .charter_acceptances(&org)
            .await
            .unwrap()
            .is_empty()
    );

    // The legal representative: the box must be ticked, the text must be the one shown.
    let (status, page) = anne.get(path).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"accept\""), "{page}");
    let shown = sha256_in(&page);
    let expected = format!(
        "{:x}",
        Sha256::digest(conforme_domain::organisation::charter_text(title).as_bytes())
    );
    assert_eq!(shown, expected);
    let (status, body, _) = anne.post(path, &[("sha256", shown.as_str())]).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("cochez la case pour accepter la charte"),
        "{body}"
    );
    assert!(body.contains("fr-checkbox-group--error"));
    let (status, body, _) = anne
        .post(
            path,
            &[("accept", "oui"), ("sha256", "0".repeat(64).as_str())],
        )
        .await;
    assert_eq!(status, 409);
    assert!(body.contains("Le texte de la charte a changé"));
    assert!(
        app.store
            .charter_acceptances(&org)
            .await
            .unwrap()
            .is_empty()
    );

    let (status, _, location) = anne
        .post(path, &[("accept", "oui"), ("sha256", shown.as_str())])
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/dispositifs/HOP-DPI-Va2/charte?fait=acceptee"))
    );
    let accepted = app.store.charter_acceptances(&org).await.unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].programme_code, "HOP-DPI-Va2");
    assert_eq!(accepted[0].user_id, anne.user.id);
    assert_eq!(accepted[0].charter_title, title);
    assert_eq!(accepted[0].charter_sha256, expected);
    let journal = app.store.journal_for("organisation", &org).await.unwrap();
    let entry = journal
        .iter()
        .find(|e| e.action == "charter.accepted")
        .unwrap();
    assert_eq!(entry.actor, "user:anne@editeur-a.fr");
    let after: serde_json::Value = serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["user_id"], anne.user.id.as_str());
    assert_eq!(after["charter_sha256"], expected.as_str());

    let (_, done) = anne
        .get("/dispositifs/HOP-DPI-Va2/charte?fait=acceptee")
        .await;
    assert!(done.contains("La charte est acceptée au nom de votre organisation"));
    assert!(
        done.contains("Acceptée par anne (anne@editeur-a.fr)"),
        "{done}"
    );
    let (_, page) = bob.get("/organisation").await;
    assert!(
        page.contains("HOP-DPI-Va2</a>") && page.contains(&expected[..12]),
        "{page}"
    );

    // A second acceptance is refused kindly.
    let (status, body, _) = anne
        .post(path, &[("accept", "oui"), ("sha256", shown.as_str())])
        .await;
    assert_eq!(status, 409);
    assert!(body.contains("Votre organisation a déjà accepté cette charte"));
    assert_eq!(app.store.charter_acceptances(&org).await.unwrap().len(), 1);

    // Another programme's charter is another text.
    let (_, bio) = anne.get("/dispositifs/BIO-SGL-Va1/charte").await;
    assert_ne!(sha256_in(&bio), shown);
    app.stop().await;
}
both!(charter, the_legal_representative_accepts_the_charter);
