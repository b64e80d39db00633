//! The test harness: the real server on port 0 over a fresh database, SQLite (a temporary
//! file) or PostgreSQL (a database created for the test and dropped after it).
#![allow(dead_code, clippy::unwrap_used)]

use conforme::{ClockOptions, app_state, open_store};
use conforme_store::Store;
use sqlx::Connection;
use std::path::PathBuf;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("CONFORME_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn with_database(admin: &str, name: &str) -> String {
    let (head, _) = admin.rsplit_once('/').expect("admin URL with a database");
    format!("{head}/{name}")
}

/// A fresh, empty database of the given kind; dropped by [`FreshDb::drop_now`].
pub struct FreshDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl FreshDb {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("conforme.db").display());
                FreshDb {
                    url,
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("conforme_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&postgres_admin_url())
                    .await
                    .expect("PostgreSQL reachable (set CONFORME_TEST_POSTGRES_URL)");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.ok();
                FreshDb {
                    url: with_database(&postgres_admin_url(), &name),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub async fn drop_now(self) {
        if let Some(name) = &self.pg_name {
            let mut admin = sqlx::PgConnection::connect(&postgres_admin_url())
                .await
                .unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.ok();
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

pub struct TestApp {
    pub url: String,
    pub mail_dir: PathBuf,
    stop_worker: Option<tokio::sync::watch::Sender<bool>>,
    worker: Option<tokio::task::JoinHandle<()>>,
    pub client: reqwest::Client,
    pub store: Store,
    db: Option<FreshDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub async fn spawn_app(backend: Backend, clock: ClockOptions) -> TestApp {
    spawn_on(FreshDb::new(backend).await, clock).await
}

/// Starts the platform (server and worker) on an existing database.
pub async fn spawn_on(db: FreshDb, clock: ClockOptions) -> TestApp {
    spawn_with_mail(db, clock, None).await
}

/// Same, with the emails sent through `mail` (default: files under the database's folder).
pub async fn spawn_with_mail(
    db: FreshDb,
    clock: ClockOptions,
    mail: Option<conforme_mail::MailConfig>,
) -> TestApp {
    let store = open_store(&db.url).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let files_root = db.dir.path().join("files");
    let files = conforme_files::FileStore::open(&conforme_files::FileStoreConfig::Local {
        root: files_root.clone(),
    })
    .unwrap();
    let state = app_state(
        store.clone(),
        clock,
        conforme_web::WebConfig::new(&url),
        files,
    )
    .await
    .unwrap();
    let mail_dir = db.dir.path().join("mail");
    let mail = mail.unwrap_or(conforme_mail::MailConfig::Files {
        dir: mail_dir.clone(),
    });
    let mailer = conforme_mail::Mailer::new(mail, conforme_mail::DEFAULT_FROM).unwrap();
    let (stop_worker, worker) =
        conforme::start_worker(&state, mailer, std::time::Duration::from_millis(50));
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(conforme_web::serve(listener, state, async {
        rx.await.ok();
    }));
    TestApp {
        url,
        mail_dir,
        stop_worker: Some(stop_worker),
        worker: Some(worker),
        client: reqwest::Client::new(),
        store,
        db: Some(db),
        shutdown: Some(tx),
        server: Some(server),
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// Stops the server and the worker, keeping the database, and starts them again on it with
    /// a clock starting at `now` (a restart of the platform).
    pub async fn restart(mut self, clock: ClockOptions) -> TestApp {
        self.halt().await;
        let db = self.db.take().unwrap();
        spawn_on(db, clock).await
    }

    async fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        if let Some(stop) = self.stop_worker.take() {
            stop.send(true).ok();
        }
        if let Some(worker) = self.worker.take() {
            worker.await.unwrap();
        }
        self.store.close().await;
    }

    /// Moves the platform clock (the app must run with `control: true`).
    pub async fn set_clock(&self, rfc3339: &str) {
        let r = self
            .client
            .put(format!("{}/api/v1/_clock", self.url))
            .json(&serde_json::json!({ "now": rfc3339 }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "clock control enabled");
    }

    /// Lets the worker run what is due (it polls every 50 ms).
    pub async fn settle(&self) {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }

    /// Stops the server gracefully, then drops the database.
    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(db) = self.db.take() {
            db.drop_now().await;
        }
    }
}

/// Runs an async test body against both databases: `both!(name, body_fn)` makes
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// A signed-in browser: a client carrying the session cookie, and the session's CSRF token.
pub struct Browser {
    pub client: reqwest::Client,
    pub csrf: String,
    pub user: conforme_store::User,
    pub base: String,
}

impl Browser {
    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// Posts a form, adding the CSRF token; does not follow redirects.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, Option<String>) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&form)
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
}

impl TestApp {
    /// Creates an account (email verified) and a session past its second factor, directly in
    /// the store: for tests of what signed-in users may do. The login itself is tested through
    /// the pages.
    pub async fn browser_for(
        &self,
        email: &str,
        role: conforme_domain::account::Role,
        organisation_id: Option<&str>,
        legal_representative: bool,
    ) -> Browser {
        let now = chrono::Utc::now();
        let user = match self.store.user_by_email(email).await.unwrap() {
            Some(u) => u,
            None => self
                .store
                .create_user(
                    &conforme_store::NewUser {
                        email,
                        display_name: email.split('@').next().unwrap(),
                        role,
                        organisation_id,
                        legal_representative,
                        password_hash: None,
                        email_verified: true,
                    },
                    now,
                    "test",
                )
                .await
                .unwrap(),
        };
        let token = conforme_web::secrets::random_token().unwrap();
        let csrf = conforme_web::secrets::random_token().unwrap();
        let hash = conforme_web::secrets::sha256_hex(&token);
        self.store
            .create_session(
                &hash,
                &user.id,
                &csrf,
                now,
                now + chrono::Duration::hours(12),
            )
            .await
            .unwrap();
        self.store.mark_second_factor(&hash, now).await.unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::COOKIE,
            format!("conforme_session={token}").parse().unwrap(),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            csrf,
            user,
            base: self.url.clone(),
        }
    }

    /// The emails the platform wrote (file transport), decoded: (to, subject, text body).
    pub fn emails(&self) -> Vec<(String, String, String)> {
        let mut out = vec![];
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return out;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        for p in paths {
            let raw = std::fs::read(&p).unwrap();
            let Some(msg) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            let to = msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string();
            let subject = msg.subject().unwrap_or_default().to_string();
            let body = msg.body_text(0).map(|b| b.to_string()).unwrap_or_default();
            out.push((to, subject, body));
        }
        out
    }

    /// Waits (bounded) until an email to `to` whose body contains `needle` arrives.
    pub async fn wait_email(&self, to: &str, needle: &str) -> String {
        for _ in 0..100 {
            if let Some((_, _, body)) = self
                .emails()
                .into_iter()
                .rev()
                .find(|(t, _, b)| t == to && b.contains(needle))
            {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no email to {to} containing « {needle} »: {:?}",
            self.emails()
        );
    }
}

pub const BUNDLED_REM: &[u8] =
    include_bytes!("../../../../programmes/HOP-DPI-Va2/rem/prepublication-2023.xlsx");

// ---------------------------------------------------------------------------------------------
// Fixtures shared by the candidature tests.

use conforme_domain::account::Role as FixtureRole;
use conforme_domain::candidature::EditorIdentity;

pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

pub fn controlled(now: &str) -> ClockOptions {
    ClockOptions {
        now: Some(at(now)),
        control: true,
    }
}

pub fn identity(company: &str, siret: &str) -> EditorIdentity {
    EditorIdentity {
        company_name: company.into(),
        siret: siret.into(),
        legal_form: "SAS".into(),
        head_function: "Président".into(),
        head_office_address: "1 rue de la Paix, 75002 Paris".into(),
        legal_rep_name: "Marie Curie".into(),
        legal_rep_title: "Présidente".into(),
        legal_rep_email: "marie@example.fr".into(),
        legal_rep_phone: "01 23 45 67 89".into(),
        contact_name: "Louis Pasteur".into(),
        contact_email: "louis@example.fr".into(),
        contact_phone: "01 98 76 54 32".into(),
        cnda_nie: "NIE-42".into(),
    }
}

/// An editor (legal representative) of a new organisation that accepted HOP-DPI-Va2's charter.
pub async fn editor(app: &TestApp, email: &str, company: &str, siret: &str) -> (Browser, String) {
    let b = app
        .browser_for(email, FixtureRole::Editor, None, true)
        .await;
    let org = app
        .store
        .create_organisation(
            &identity(company, siret),
            siret,
            &b.user.id,
            true,
            chrono::Utc::now(),
            "test",
        )
        .await
        .unwrap();
    app.store
        .accept_charter(
            &org.id,
            "HOP-DPI-Va2",
            &b.user.id,
            "Charte",
            "0".repeat(64).as_str(),
            chrono::Utc::now(),
            "test",
        )
        .await
        .unwrap();
    (b, org.id)
}

pub fn complete_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("commercial_name", "DPI Santé"),
        ("technical_version", "v2.4.1"),
        ("wave1_referenced", "non"),
        ("cnda_nil", "NIL-77"),
        ("profiles", "Général"),
        ("no_additional_components", "on"),
        ("existing_versions[0][technical_version]", "v2.3"),
        ("existing_versions[0][commercial_name]", "DPI Santé 2023"),
    ]
}

pub async fn version(app: &TestApp, id: &str) -> String {
    app.store
        .candidature(id)
        .await
        .unwrap()
        .unwrap()
        .version
        .to_string()
}

/// Creates a candidature through the pages and fills it; returns its id.
pub async fn drafted(app: &TestApp, b: &Browser) -> String {
    let (status, _, location) = b
        .post("/candidatures", &[("programme", "HOP-DPI-Va2")])
        .await;
    assert_eq!(status, 303);
    let id = location
        .unwrap()
        .trim_start_matches("/candidatures/")
        .trim_end_matches("/dossier")
        .to_string();
    let v = version(app, &id).await;
    let mut form = complete_form();
    form.push(("version", &v));
    let (status, body, _) = b.post(&format!("/candidatures/{id}/dossier"), &form).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Brouillon enregistré"));
    id
}

/// An API token for a user, created in the store; returns the token itself.
pub async fn token(app: &TestApp, user_id: &str, scopes: &[&str]) -> String {
    let t = conforme_web::secrets::random_token().unwrap();
    app.store
        .create_api_token(
            user_id,
            "test",
            &conforme_web::secrets::sha256_hex(&t),
            scopes,
            chrono::Utc::now(),
            "test",
        )
        .await
        .unwrap();
    t
}

/// A candidature of `org` whose administrative dossier is validated, made in the store.
pub async fn validated(app: &TestApp, org: &str, user: &str, wave1: bool) -> String {
    let dossier = conforme_domain::candidature::AdministrativeDossier {
        commercial_name: "DPI Santé".into(),
        technical_version: "v2.4.1".into(),
        wave1_referenced: Some(wave1),
        profiles: vec!["Général".into()],
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let c = app
        .store
        .create_candidature(org, "HOP-DPI-Va2", &dossier, user, now, "test")
        .await
        .unwrap();
    let t = conforme_store::Transition {
        candidature_id: c.id.clone(),
        expected_version: c.version,
        new_state: conforme_domain::candidature::CandidatureState::Validated,
        action: "candidature.validated",
        deposited_at: Some(now),
        submitted_at: Some(now),
        editor_snapshot: None,
        complement_due_at: None,
        decision: Some("validé".into()),
        message: None,
        schedule: vec![],
        cancel_jobs: vec![],
        notifications: vec![],
        fired_job: None,
    };
    app.store.apply_transition(&t, now, "test").await.unwrap();
    c.id
}
