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
    pub client: reqwest::Client,
    pub store: Store,
    db: Option<FreshDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub async fn spawn_app(backend: Backend, clock: ClockOptions) -> TestApp {
    let db = FreshDb::new(backend).await;
    let store = open_store(&db.url).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = app_state(store.clone(), clock, conforme_web::WebConfig::new(&url))
        .await
        .unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(conforme_web::serve(listener, state, async {
        rx.await.ok();
    }));
    TestApp {
        url,
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

    /// Stops the server gracefully, then drops the database.
    pub async fn stop(mut self) {
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

pub const BUNDLED_REM: &[u8] =
    include_bytes!("../../../../programmes/HOP-DPI-Va2/rem/prepublication-2023.xlsx");
