//! Persistence for SQLite and PostgreSQL through one code path (sqlx's `Any` driver, SQL
//! written once with `$n` placeholders), the migrations, and the hash-chained journal.
#![forbid(unsafe_code)]

mod accounts;
mod candidatures;
mod catalogue;
mod jobs;
mod journal;
mod notifications;
pub mod organisation_queries;
mod organisations;
mod proofs;
mod referencings;

pub use accounts::{ApiToken, EmailToken, NewUser, OneTimeCode, Session, User, UserField};
pub use candidatures::{Attachment, Candidature, Message, NewMessage, Transition};
pub use catalogue::{
    Facet, Facets, RemVersionInfo, RequirementFilter, RequirementPage, RequirementSummary,
    StoredProgramme,
};
pub use jobs::{Job, NewJob};
pub use journal::{JournalEntry, JournalProblem, NewEntry};
pub use notifications::{EMAIL_JOB, EMAIL_SEND_JOB, NewNotification, Notification};
pub use organisations::{CharterAcceptance, Distributor, Organisation, SolidarityMember};
pub use proofs::{DossierChange, ProofFile, StoredProofDossier};
pub use referencings::{ReferencingChange, StoredReferencing};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};
use std::borrow::Cow;
use std::time::Duration;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("adresse de base de données non prise en charge : {0} (sqlite:// ou postgres://)")]
    UnsupportedUrl(String),
    #[error("base de données : {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration : {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(
        "la version « {label} » du REM de {programme} existe déjà ; une version importée ne change plus"
    )]
    RemVersionExists { programme: String, label: String },
    #[error("dispositif inconnu : {0}")]
    UnknownProgramme(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0} introuvable")]
    NotFound(String),
    #[error("le formulaire est périmé : {0} a été modifié entre-temps, rechargez la page")]
    Stale(String),
    #[error("donnée stockée incohérente : {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The application's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "catalogue",
        include_str!("../migrations/0001_catalogue.sql"),
    ),
    (
        2,
        "accounts_candidatures",
        include_str!("../migrations/0002_accounts_candidatures.sql"),
    ),
    (
        3,
        "proof_dossiers",
        include_str!("../migrations/0003_proof_dossiers.sql"),
    ),
    (
        4,
        "referencings",
        include_str!("../migrations/0004_referencings.sql"),
    ),
];

impl Store {
    /// Connects to `sqlite://FILE` (created if missing; WAL, busy timeout and foreign keys on)
    /// or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 });
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                         PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                    )
                    .await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
        } else {
            url.to_string()
        };
        let pool = options.connect(&url).await?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations (idempotent).
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect::<Vec<_>>();
        let migrator = Migrator {
            migrations: Cow::Owned(migrations),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Hides a password in a database URL before it is shown.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Timestamps are stored as RFC 3339 UTC text with fixed precision, so that they sort.
pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> StoreResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| StoreError::Corrupt(format!("horodatage « {s} » : {e}")))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
