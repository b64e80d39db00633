//! Login through a real OpenID Connect provider (panva/oidc-provider, run by node from
//! tests/tools/oidc_provider), on SQLite and PostgreSQL: the first login links the identity to
//! the account with the same address, later ones find it by (issuer, subject), a new address
//! gets a new account, an address the provider does not vouch for gets nothing; a tampered or
//! replayed state and a refusal at the provider open no session.
//!
//! Needs `node` on PATH and the provider's npm packages (`npm ci` in
//! tests/tools/oidc_provider, which scripts/test runs): without them the test fails, saying so.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, FreshDb};
use conforme::ClockOptions;
use conforme_domain::account::Role;
use conforme_store::Store;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

const CLIENT_ID: &str = "conforme-test";
const CLIENT_SECRET: &str = "conforme-test-secret-0123456789";
const LABEL: &str = "Pro Santé Connect (test)";

/// The provider, a node child process; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        if std::thread::panicking() {
            eprintln!(
                "--- OpenID Connect provider's output ---\n{}",
                self.log.lock().unwrap()
            );
        }
    }
}

fn keep_output(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut log = log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
}

fn start_provider(redirect_uri: &str) -> Provider {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/tools/oidc_provider");
    assert!(
        dir.join("node_modules/oidc-provider/package.json")
            .is_file(),
        "the OpenID Connect provider's npm packages are missing: run `npm ci` in {} (scripts/test does it)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg("server.mjs")
        .arg("0")
        .current_dir(&dir)
        .env("OIDC_CLIENT_ID", CLIENT_ID)
        .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env("OIDC_REDIRECT_URIS", redirect_uri)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("`node` is needed on PATH to run the OpenID Connect provider of this test: {e}")
        });
    let log = Arc::new(Mutex::new(String::new()));
    keep_output(child.stderr.take().unwrap(), log.clone());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut port = None;
    let mut line = String::new();
    while port.is_none() {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let _ = child.wait();
            std::thread::sleep(std::time::Duration::from_millis(200));
            panic!(
                "the OpenID Connect provider stopped before listening:\n{}",
                log.lock().unwrap()
            );
        }
        port = line
            .trim()
            .strip_prefix("PORT ")
            .map(|p| p.parse::<u16>().unwrap());
    }
    keep_output(stdout, log.clone());
    Provider {
        child,
        issuer: format!("http://127.0.0.1:{}", port.unwrap()),
        log,
    }
}

/// The platform with OIDC login set up against a fresh provider (no worker: nothing here
/// sends email).
struct App {
    url: String,
    store: Store,
    provider: Provider,
    db: Option<FreshDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

async fn spawn(backend: Backend) -> App {
    let db = FreshDb::new(backend).await;
    let store = conforme::open_store(&db.url).await.unwrap();
    // The app's address first: the provider must know the redirect URI.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = start_provider(&format!("{url}/connexion/oidc/retour"));
    let config = conforme_web::WebConfig::new(&url).with_oidc(Some(
        conforme_web::oidc::OidcSettings::new(&provider.issuer, CLIENT_ID, CLIENT_SECRET, LABEL),
    ));
    let files = conforme_files::FileStore::open(&conforme_files::FileStoreConfig::Local {
        root: db.dir.path().join("files"),
    })
    .unwrap();
    let state = conforme::app_state(store.clone(), ClockOptions::default(), config, files)
        .await
        .unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(conforme_web::serve(listener, state, async {
        rx.await.ok();
    }));
    App {
        url,
        store,
        provider,
        db: Some(db),
        shutdown: Some(tx),
        server: Some(server),
    }
}

impl App {
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.store.close().await;
        if let Some(db) = self.db.take() {
            db.drop_now().await;
        }
    }

    /// Who the provider signs in next (or refuses, with `deny`).
    async fn provider_account(
        &self,
        sub: &str,
        email: &str,
        email_verified: bool,
        name: &str,
        deny: bool,
    ) {
        let r = reqwest::Client::new()
            .post(format!("{}/_test/account", self.provider.issuer))
            .json(&serde_json::json!({
                "sub": sub, "email": email, "email_verified": email_verified,
                "name": name, "deny": deny,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
}

/// A fresh browser (its own cookies, at the app and at the provider).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Where a journey through redirects went.
struct Journey {
    visited: Vec<String>,
    status: u16,
    body: String,
}

impl Journey {
    fn last(&self) -> &str {
        self.visited.last().unwrap()
    }

    fn callback(&self) -> &str {
        self.visited
            .iter()
            .find(|u| u.contains("/connexion/oidc/retour"))
            .expect("the provider sent the browser back")
    }
}

/// Follows redirects from `start`, by GET, as a browser would; stops at `stop_before` (a URL
/// prefix), without visiting it.
async fn travel(client: &reqwest::Client, start: &str, stop_before: Option<&str>) -> Journey {
    let mut url = reqwest::Url::parse(start).unwrap();
    let mut visited = vec![];
    for _ in 0..20 {
        if stop_before.is_some_and(|p| url.as_str().starts_with(p)) {
            visited.push(url.to_string());
            return Journey {
                visited,
                status: 0,
                body: String::new(),
            };
        }
        visited.push(url.to_string());
        let r = client.get(url.clone()).send().await.unwrap();
        let status = r.status().as_u16();
        match r.headers().get("location") {
            Some(location) if (300..400).contains(&status) => {
                url = url.join(location.to_str().unwrap()).unwrap();
            }
            _ => {
                return Journey {
                    visited,
                    status,
                    body: r.text().await.unwrap(),
                };
            }
        }
    }
    panic!("too many redirects: {visited:?}");
}

/// Whether the browser holds a session past its second factor.
async fn signed_in(app: &App, client: &reqwest::Client) -> bool {
    let r = client
        .get(format!("{}/espace", app.url))
        .send()
        .await
        .unwrap();
    r.status().as_u16() == 200
}

async fn oidc_login(backend: Backend) {
    let app = spawn(backend).await;
    let now = chrono::Utc::now();
    let issuer = app.provider.issuer.clone();

    // The login page offers the provider.
    let login = reqwest::get(format!("{}/connexion", app.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        login.contains(&format!("Se connecter avec {LABEL}"))
            && login.contains("/connexion/oidc?suite="),
        "{login}"
    );

    // An account that exists, by password, with the address the provider vouches for.
    let claire = app
        .store
        .create_user(
            &conforme_store::NewUser {
                email: "claire.martin@editeur.fr",
                display_name: "Claire Martin",
                role: Role::Editor,
                organisation_id: None,
                legal_representative: false,
                password_hash: None,
                email_verified: true,
            },
            now,
            "test",
        )
        .await
        .unwrap();
    app.provider_account(
        "psc-claire",
        "Claire.Martin@editeur.fr",
        true,
        "Claire Martin",
        false,
    )
    .await;

    // The request: state, nonce and PKCE, its state bound to the browser by an HttpOnly cookie.
    let client = browser();
    let r = client
        .get(format!("{}/connexion/oidc?suite=/notifications", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let to = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(to.as_str().starts_with(&format!("{issuer}/auth?")), "{to}");
    let query: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query.contains_key("nonce") && query.contains_key("state"));
    assert_eq!(
        query["redirect_uri"],
        format!("{}/connexion/oidc/retour", app.url)
    );
    let scopes: Vec<&str> = query["scope"].split(' ').collect();
    assert!(scopes.contains(&"openid") && scopes.contains(&"email"));
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("conforme_oidc="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // First login: the identity is linked to the account with that address; no emailed code.
    let journey = travel(&client, to.as_str(), None).await;
    assert_eq!(
        (journey.status, journey.last()),
        (200, format!("{}/notifications", app.url).as_str()),
        "{:?}\n{}",
        journey.visited,
        journey.body
    );
    assert!(signed_in(&app, &client).await);
    let linked = app
        .store
        .user_by_oidc(&issuer, "psc-claire")
        .await
        .unwrap()
        .expect("linked");
    assert_eq!(linked.id, claire.id);
    let journal = app.store.journal_for("user", &claire.id).await.unwrap();
    let links: Vec<_> = journal
        .iter()
        .filter(|e| e.action == "user.oidc-linked")
        .collect();
    assert_eq!(links.len(), 1);
    assert!(
        links[0].after.as_deref().unwrap().contains("psc-claire"),
        "{:?}",
        links[0]
    );
    // The callback serves once.
    let replay = travel(&client, journey.callback(), None).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(
        replay.body.contains("invalide ou expirée"),
        "{}",
        replay.body
    );

    // Second login, in another browser: found by (issuer, subject), even though the provider
    // now gives another address.
    app.provider_account("psc-claire", "claire@ailleurs.fr", true, "Claire M.", false)
        .await;
    let client = browser();
    let journey = travel(&client, &format!("{}/connexion/oidc", app.url), None).await;
    assert_eq!(journey.status, 200, "{:?}", journey.visited);
    assert_eq!(journey.last(), format!("{}/espace", app.url));
    assert!(signed_in(&app, &client).await);
    assert!(
        app.store
            .user_by_email("claire@ailleurs.fr")
            .await
            .unwrap()
            .is_none()
    );
    let journal = app.store.journal_for("user", &claire.id).await.unwrap();
    assert_eq!(
        journal
            .iter()
            .filter(|e| e.action == "user.oidc-linked")
            .count(),
        1
    );

    // A new address: a new editor account, its address verified, linked.
    app.provider_account(
        "psc-nouveau",
        "nouveau.venu@editeur.fr",
        true,
        "Nouveau Venu",
        false,
    )
    .await;
    let client = browser();
    let journey = travel(&client, &format!("{}/connexion/oidc", app.url), None).await;
    assert_eq!(journey.status, 200, "{:?}", journey.visited);
    assert!(signed_in(&app, &client).await);
    let created = app
        .store
        .user_by_email("nouveau.venu@editeur.fr")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(created.role, Role::Editor);
    assert_eq!(created.display_name, "Nouveau Venu");
    assert!(created.email_verified_at.is_some() && created.password_hash.is_none());
    assert_eq!(created.oidc_issuer.as_deref(), Some(issuer.as_str()));
    assert_eq!(created.oidc_subject.as_deref(), Some("psc-nouveau"));
    let actions: Vec<_> = app
        .store
        .journal_for("user", &created.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["user.created", "user.oidc-linked"]);

    // An address the provider does not vouch for links and creates nothing.
    app.provider_account("psc-douteux", "douteux@editeur.fr", false, "Douteux", false)
        .await;
    let client = browser();
    let journey = travel(&client, &format!("{}/connexion/oidc", app.url), None).await;
    assert_eq!(journey.status, 403, "{}", journey.body);
    assert!(journey.body.contains("non vérifiée"), "{}", journey.body);
    assert!(!signed_in(&app, &client).await);
    assert!(
        app.store
            .user_by_email("douteux@editeur.fr")
            .await
            .unwrap()
            .is_none()
    );

    // A tampered state is refused, and so is the genuine one afterwards in that browser.
    app.provider_account(
        "psc-claire",
        "claire.martin@editeur.fr",
        true,
        "Claire",
        false,
    )
    .await;
    let client = browser();
    let callback = format!("{}/connexion/oidc/retour", app.url);
    let journey = travel(
        &client,
        &format!("{}/connexion/oidc", app.url),
        Some(&callback),
    )
    .await;
    let genuine = reqwest::Url::parse(journey.last()).unwrap();
    let pairs: Vec<(String, String)> = genuine.query_pairs().into_owned().collect();
    assert!(pairs.iter().any(|(k, _)| k == "code"), "{genuine}");
    let mut tampered = genuine.clone();
    tampered
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs.iter().map(|(k, v)| {
            if k == "state" {
                let mut flipped = v.clone();
                let last = flipped.pop().unwrap();
                flipped.push(if last == 'a' { 'b' } else { 'a' });
                (k.clone(), flipped)
            } else {
                (k.clone(), v.clone())
            }
        }));
    let refused = travel(&client, tampered.as_str(), None).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("invalide ou expirée"),
        "{}",
        refused.body
    );
    assert!(!signed_in(&app, &client).await);
    // Another browser cannot finish this browser's request either (no login CSRF).
    let other = browser();
    let refused = travel(&other, genuine.as_str(), None).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(!signed_in(&app, &other).await);

    // A refusal at the provider: a clear page, no session.
    app.provider_account(
        "psc-claire",
        "claire.martin@editeur.fr",
        true,
        "Claire",
        true,
    )
    .await;
    let client = browser();
    let journey = travel(&client, &format!("{}/connexion/oidc", app.url), None).await;
    assert!(journey.callback().contains("error=access_denied"));
    assert_eq!(journey.status, 401, "{}", journey.body);
    assert!(
        journey.body.contains("Connexion annulée") && journey.body.contains("Aucune session"),
        "{}",
        journey.body
    );
    assert!(!signed_in(&app, &client).await);

    app.stop().await;
}

both!(oidc, oidc_login);
