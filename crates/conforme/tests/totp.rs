//! An authenticator app as second factor, through the pages, on SQLite and PostgreSQL: set up
//! at /compte/securite (a wrong code activates nothing), then a login with the password and
//! the app's code instead of the emailed one; removing the app asks for a current code.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, spawn_app};
use conforme::ClockOptions;
use conforme_domain::account::Role;
use conforme_web::totp::code_at;

fn csrf_in(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[i..i + 64].to_string()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = html.find(&marker).expect("the hidden field") + marker.len();
    html[i..].split('"').next().unwrap().to_string()
}

/// A six-digit code the app does not show around now.
fn wrong_code(secret: &str) -> String {
    let now = chrono::Utc::now();
    let near: Vec<String> = (-2..=2)
        .filter_map(|k| code_at(secret, now + chrono::Duration::seconds(30 * k)))
        .collect();
    ["000000", "111111", "222222", "333333", "444444", "555555"]
        .into_iter()
        .find(|c| !near.iter().any(|n| n == c))
        .unwrap()
        .to_string()
}

fn current_code(secret: &str) -> String {
    code_at(secret, chrono::Utc::now()).unwrap()
}

async fn totp_through_pages(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let email = "paul.durand@editeur.fr";
    let password = "Un-Autre-Mot-De-Passe-42";
    let hash = conforme_web::secrets::hash_password(password).unwrap();
    app.store
        .create_user(
            &conforme_store::NewUser {
                email,
                display_name: "Paul Durand",
                role: Role::Editor,
                organisation_id: None,
                legal_representative: false,
                password_hash: Some(&hash),
                email_verified: true,
            },
            chrono::Utc::now(),
            "test",
        )
        .await
        .unwrap();
    let b = app.browser_for(email, Role::Editor, None, false).await;

    // The security page says no app is set up.
    let (status, body) = b.get("/compte/securite").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Aucune application d'authentification"),
        "{body}"
    );
    // Anonymous visitors are sent to the login page.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anonymous
        .get(format!("{}/compte/securite", app.url))
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

    // Setting up: a forged form does nothing; the real one shows the secret, its URI and QR code.
    let r = b
        .client
        .post(format!("{}/compte/totp/debut", app.url))
        .form(&[("csrf", "x".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let (status, page, _) = b.post("/compte/totp/debut", &[]).await;
    assert_eq!(status, 200);
    let secret = hidden(&page, "secret");
    assert_eq!(secret.len(), 32, "{page}");
    assert!(page.contains("otpauth://totp/Conforme:"), "{page}");
    assert!(page.contains("data:image/svg+xml,"), "a QR code");
    assert!(page.contains(&secret[..4]), "the secret shown in groups");

    // A wrong code activates nothing.
    let (status, body, _) = b
        .post(
            "/compte/totp/confirmation",
            &[("secret", &secret), ("code", &wrong_code(&secret))],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("Code incorrect"), "{body}");
    assert_eq!(hidden(&body, "secret"), secret, "the same secret, to retry");
    let user = app.store.user_by_email(email).await.unwrap().unwrap();
    assert!(user.totp_secret.is_none());
    // Nor does a malformed secret.
    let (status, _, _) = b
        .post(
            "/compte/totp/confirmation",
            &[("secret", "not-a-secret"), ("code", "123456")],
        )
        .await;
    assert_eq!(status, 400);

    // The right code activates it, journalled.
    let (status, _, location) = b
        .post(
            "/compte/totp/confirmation",
            &[("secret", &secret), ("code", &current_code(&secret))],
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/compte/securite?fait=totp-active"))
    );
    let user = app.store.user_by_email(email).await.unwrap().unwrap();
    assert_eq!(user.totp_secret.as_deref(), Some(secret.as_str()));
    let journal = app.store.journal_for("user", &user.id).await.unwrap();
    assert!(journal.iter().any(|e| e.action == "user.totp-enabled"));
    assert!(
        journal
            .iter()
            .all(|e| !e.after.as_deref().unwrap_or_default().contains(&secret)),
        "the secret never goes to the journal"
    );
    let (_, body) = b.get("/compte/securite?fait=totp-active").await;
    assert!(body.contains("est activée"), "{body}");

    // Login with the password, then the app's code instead of the emailed one.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |p: &str| format!("{}{p}", app.url);
    let login_page = client
        .get(url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = client
        .post(url("/connexion"))
        .form(&[
            ("csrf", csrf_in(&login_page).as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/connexion/code");
    let code_page = client
        .get(url("/connexion/code"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        code_page.contains("votre application d'authentification"),
        "{code_page}"
    );
    let session_csrf = csrf_in(&code_page);
    let r = client
        .post(url("/connexion/code"))
        .form(&[
            ("csrf", session_csrf.as_str()),
            ("code", &wrong_code(&secret)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "a wrong code is refused");
    let r = client.get(url("/espace")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/connexion/code");
    let r = client
        .post(url("/connexion/code"))
        .form(&[
            ("csrf", session_csrf.as_str()),
            ("code", &current_code(&secret)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/espace");
    let r = client.get(url("/espace")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "signed in with the app's code");

    // Removing the app asks for a current code.
    let (status, body, _) = b
        .post(
            "/compte/totp/suppression",
            &[("code", &wrong_code(&secret))],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("Code incorrect"), "{body}");
    assert!(
        app.store
            .user_by_email(email)
            .await
            .unwrap()
            .unwrap()
            .totp_secret
            .is_some()
    );
    let (status, _, location) = b
        .post(
            "/compte/totp/suppression",
            &[("code", &current_code(&secret))],
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/compte/securite?fait=totp-retiree"))
    );
    let user = app.store.user_by_email(email).await.unwrap().unwrap();
    assert!(user.totp_secret.is_none());
    let journal = app.store.journal_for("user", &user.id).await.unwrap();
    assert!(journal.iter().any(|e| e.action == "user.totp-disabled"));
    app.stop().await;
}

both!(totp, totp_through_pages);
