//! The Conforme platform as a library: configuration, start-up (migrations, bundled
//! programmes and REMs), the server, and the command-line operations. `main.rs` only parses
//! arguments; the integration tests drive these same functions.
#![forbid(unsafe_code)]

pub mod bundled;
pub mod cli;
pub mod demo;
pub mod worker;

use anyhow::Context;
use chrono::{DateTime, Utc};
use conforme_domain::clock::{Clock, SettableClock, SystemClock};
use conforme_domain::programme::Programme;
use conforme_domain::rem::VersionLabel;
use conforme_store::{RemVersionInfo, Store, StoreError};
use conforme_web::{AppState, WebConfig};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// Who the journal names for actions the platform takes by itself at start.
pub const SYSTEM_ACTOR: &str = "system:bundle";

/// The SQLite URL used when none is configured: a file under the data directory.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("conforme.db").display())
}

/// Opens the database, creating the SQLite file and its directory when needed.
pub async fn open_store(database_url: &str) -> anyhow::Result<Store> {
    if let Some(path) = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("création du dossier de données {}", parent.display()))?;
        }
    }
    let store = Store::connect(database_url)
        .await
        .with_context(|| format!("connexion à {}", conforme_store::redact(database_url)))?;
    Ok(store)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Applies migrations, loads the bundled programmes and REM versions, and returns every
/// programme in the database, validated.
pub async fn prepare(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Vec<Programme>> {
    store.migrate().await.context("migrations")?;
    for (position, bundled) in bundled::PROGRAMMES.iter().enumerate() {
        let programme = Programme::from_toml(bundled.file, bundled.toml)?;
        store
            .upsert_programme(
                programme.code.as_str(),
                position as i64,
                bundled.toml,
                &sha256_hex(bundled.toml.as_bytes()),
                now,
                SYSTEM_ACTOR,
            )
            .await?;
    }
    for rem in bundled::REMS {
        if store.rem_version(rem.programme, rem.label).await?.is_none() {
            let info = import_rem(
                store,
                rem.programme,
                rem.label,
                rem.file,
                rem.bytes,
                now,
                SYSTEM_ACTOR,
            )
            .await?;
            tracing::info!(
                programme = rem.programme,
                version = rem.label,
                requirements = info.version.requirement_count,
                "bundled REM loaded"
            );
        }
    }
    load_programmes(store).await
}

/// Every programme stored, parsed and validated again.
pub async fn load_programmes(store: &Store) -> anyhow::Result<Vec<Programme>> {
    let stored = store.programmes().await?;
    stored
        .iter()
        .map(|p| {
            Programme::from_toml(
                &format!("dispositif {} (base de données)", p.code),
                &p.definition,
            )
            .map_err(Into::into)
        })
        .collect()
}

/// The outcome of a REM import.
pub struct ImportOutcome {
    pub version: RemVersionInfo,
    pub warnings: Vec<String>,
}

/// Why a REM import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportRefused {
    #[error(transparent)]
    Label(#[from] conforme_domain::rem::VersionLabelError),
    #[error(transparent)]
    Workbook(#[from] conforme_rem::ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a workbook and stores it as a new, immutable version: all or nothing.
pub async fn import_rem(
    store: &Store,
    programme: &str,
    label: &str,
    source_name: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
    actor: &str,
) -> Result<ImportOutcome, ImportRefused> {
    let label = VersionLabel::parse(label)?;
    let imported = conforme_rem::import_xlsx(bytes, source_name)?;
    let warnings: Vec<String> = imported.warnings.iter().map(ToString::to_string).collect();
    let version = store
        .insert_rem_version(
            programme,
            label.as_str(),
            source_name,
            &sha256_hex(bytes),
            &imported.rem,
            &warnings,
            now,
            actor,
        )
        .await?;
    Ok(ImportOutcome { version, warnings })
}

/// The address users reach the platform at, for links in emails.
pub fn public_url(listen: &str) -> String {
    std::env::var("CONFORME_PUBLIC_URL").unwrap_or_else(|_| format!("http://{listen}"))
}

/// How the platform's clock runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClockOptions {
    /// Start the clock at this instant instead of the system time.
    pub now: Option<DateTime<Utc>>,
    /// Allow `PUT /api/v1/_clock`.
    pub control: bool,
}

/// The state the server runs with.
pub async fn app_state(
    store: Store,
    clock: ClockOptions,
    config: WebConfig,
    files: conforme_files::FileStore,
) -> anyhow::Result<AppState> {
    let (clock_dyn, control): (Arc<dyn Clock>, Option<Arc<SettableClock>>) =
        match (clock.now, clock.control) {
            (None, false) => (Arc::new(SystemClock), None),
            (start, control) => {
                let settable = Arc::new(SettableClock::starting_at(start.unwrap_or_else(Utc::now)));
                (settable.clone(), control.then_some(settable))
            }
        };
    let programmes = prepare(&store, clock_dyn.now()).await?;
    Ok(AppState {
        store,
        clock: clock_dyn,
        clock_control: control,
        programmes: Arc::new(programmes),
        config: Arc::new(config),
        files,
    })
}

/// Starts the background worker; returns its stop switch and handle.
pub fn start_worker(
    state: &AppState,
    mailer: conforme_mail::Mailer,
    poll: std::time::Duration,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = worker::Worker {
        store: state.store.clone(),
        clock: state.clock.clone(),
        mailer,
        public_url: state.config.public_url.clone(),
    };
    (tx, tokio::spawn(worker.run(rx, poll)))
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested, finishing requests in flight");
}
