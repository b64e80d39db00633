//! Proof dossiers: the dossier value decided by the domain (`ProofDossier`, kept as JSON with
//! an optimistic version and the queue columns beside it), and the files deposited against
//! its checklist, with their history (a replaced or withdrawn file keeps its row). Every
//! change writes its journal entry, thread message, timers and notifications in one
//! transaction.

use crate::candidatures::{
    Effects, attachment_entry, attachment_from_row, effects_and_entry, insert_attachment_row,
};
use crate::jobs::NewJob;
use crate::journal::{NewEntry, append};
use crate::notifications::NewNotification;
use crate::{Attachment, NewMessage, Store, StoreError, StoreResult, parse_ts, ts};
use chrono::{DateTime, Utc};
use conforme_domain::candidature::CandidatureState;
use conforme_domain::proofs::ProofDossier;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
pub struct StoredProofDossier {
    pub candidature_id: String,
    pub dossier: ProofDossier,
    pub queue_key: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A file deposited against a target of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct ProofFile {
    pub id: String,
    pub candidature_id: String,
    pub target: String,
    pub attachment: Attachment,
    /// The automatic checks (JSON array of `CheckOutcome`).
    pub checks: serde_json::Value,
    pub deposited_at: DateTime<Utc>,
    pub deposited_by: String,
    pub replaced_at: Option<DateTime<Utc>>,
    pub replaced_by: Option<String>,
}

impl ProofFile {
    pub fn current(&self) -> bool {
        self.replaced_at.is_none()
    }
}

/// A change of a proof dossier decided by the domain, with what goes with it.
#[derive(Debug, Clone)]
pub struct DossierChange {
    pub candidature_id: String,
    /// The dossier version the decision was made on.
    pub expected_version: i64,
    pub dossier: ProofDossier,
    pub queue_key: Option<DateTime<Utc>>,
    pub action: &'static str,
    /// What the journal records as the change's detail.
    pub detail: serde_json::Value,
    pub message: Option<NewMessage>,
    pub schedule: Vec<NewJob>,
    pub cancel_jobs: Vec<&'static str>,
    pub notifications: Vec<NewNotification>,
    pub fired_job: Option<String>,
    /// A new state of the candidature itself (abandonment).
    pub candidature_state: Option<CandidatureState>,
}

impl DossierChange {
    pub fn new(
        stored: &StoredProofDossier,
        dossier: ProofDossier,
        queue_key: Option<DateTime<Utc>>,
        action: &'static str,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            candidature_id: stored.candidature_id.clone(),
            expected_version: stored.version,
            dossier,
            queue_key,
            action,
            detail,
            message: None,
            schedule: vec![],
            cancel_jobs: vec![],
            notifications: vec![],
            fired_job: None,
            candidature_state: None,
        }
    }
}

const COLUMNS: &str = "candidature_id, state, queue_key, assigned_to, complete_at, waiting_editor, created_at, updated_at, version";

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn dossier_from_row(r: &AnyRow) -> StoreResult<StoredProofDossier> {
    let state: String = r.try_get("state")?;
    Ok(StoredProofDossier {
        candidature_id: r.try_get("candidature_id")?,
        dossier: serde_json::from_str(&state).map_err(corrupt)?,
        queue_key: r
            .try_get::<Option<String>, _>("queue_key")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
        version: r.try_get("version")?,
    })
}

const FILE_COLUMNS: &str = "f.id AS file_id, f.candidature_id AS file_candidature, f.target, f.checks, f.deposited_at, \
    f.deposited_by, f.replaced_at, f.replaced_by, a.id, a.organisation_id, a.candidature_id, a.storage_key, a.file_name, \
    a.content_type, a.size_bytes, a.sha256, a.uploaded_by, a.uploaded_at";

fn file_from_row(r: &AnyRow) -> StoreResult<ProofFile> {
    let checks: String = r.try_get("checks")?;
    Ok(ProofFile {
        id: r.try_get("file_id")?,
        candidature_id: r.try_get("file_candidature")?,
        target: r.try_get("target")?,
        attachment: attachment_from_row(r)?,
        checks: serde_json::from_str(&checks).map_err(corrupt)?,
        deposited_at: parse_ts(&r.try_get::<String, _>("deposited_at")?)?,
        deposited_by: r.try_get("deposited_by")?,
        replaced_at: r
            .try_get::<Option<String>, _>("replaced_at")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        replaced_by: r.try_get("replaced_by")?,
    })
}

fn state_json(d: &ProofDossier) -> StoreResult<String> {
    serde_json::to_string(d).map_err(corrupt)
}

impl Store {
    /// Opens the proof dossier of a validated candidature, once; an existing one is returned
    /// as it is.
    pub async fn open_proof_dossier(
        &self,
        candidature_id: &str,
        dossier: &ProofDossier,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<StoredProofDossier> {
        if let Some(existing) = self.proof_dossier(candidature_id).await? {
            return Ok(existing);
        }
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO proof_dossiers ({COLUMNS}) VALUES ($1, $2, NULL, NULL, NULL, 0, $3, $3, 1)"
        ))
        .bind(candidature_id)
        .bind(state_json(dossier)?)
        .bind(ts(now))
        .execute(&mut *tx)
        .await;
        match inserted {
            // Opened meanwhile by another request.
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                drop(tx);
                return self
                    .proof_dossier(candidature_id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound("dossier de preuves".into()));
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "proofs.opened",
                object_type: "candidature",
                object_id: candidature_id,
                before: None,
                after: Some(json!({ "rem_version": dossier.rem_version, "wave1": dossier.wave1 })),
            },
        )
        .await?;
        tx.commit().await?;
        self.proof_dossier(candidature_id)
            .await?
            .ok_or_else(|| StoreError::NotFound("dossier de preuves".into()))
    }

    pub async fn proof_dossier(
        &self,
        candidature_id: &str,
    ) -> StoreResult<Option<StoredProofDossier>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM proof_dossiers WHERE candidature_id = $1"
        ))
        .bind(candidature_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(dossier_from_row).transpose()
    }

    /// Every proof dossier, oldest queue place first (those not queued last).
    pub async fn proof_dossiers(&self) -> StoreResult<Vec<StoredProofDossier>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM proof_dossiers \
             ORDER BY CASE WHEN queue_key IS NULL THEN 1 ELSE 0 END, queue_key, created_at, candidature_id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(dossier_from_row).collect()
    }

    /// Applies a change decided by the domain if the dossier is unchanged since it was read
    /// (`Stale` otherwise), with its journal entry, message, timers and notifications.
    pub async fn change_proof_dossier(
        &self,
        c: &DossierChange,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<StoredProofDossier> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE proof_dossiers SET state = $1, queue_key = $2, assigned_to = $3, complete_at = $4, \
             waiting_editor = $5, updated_at = $6, version = version + 1 WHERE candidature_id = $7 AND version = $8",
        )
        .bind(state_json(&c.dossier)?)
        .bind(c.queue_key.map(ts))
        .bind(c.dossier.assigned_to.as_deref())
        .bind(c.dossier.complete_at.map(ts))
        .bind(i64::from(c.dossier.question_pending()))
        .bind(ts(now))
        .bind(&c.candidature_id)
        .bind(c.expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale("le dossier de preuves".into()));
        }
        if let Some(state) = c.candidature_state {
            sqlx::query(
                "UPDATE candidatures SET state = $1, decided_at = $2, updated_at = $2, version = version + 1 WHERE id = $3",
            )
            .bind(state.as_str())
            .bind(ts(now))
            .bind(&c.candidature_id)
            .execute(&mut *tx)
            .await?;
        }
        effects_and_entry(
            &mut tx,
            self.backend,
            &Effects {
                candidature_id: &c.candidature_id,
                fired_job: c.fired_job.as_deref(),
                cancel_jobs: &c.cancel_jobs,
                schedule: &c.schedule,
                message: c.message.as_ref(),
                notifications: &c.notifications,
            },
            c.action,
            &c.detail,
            actor,
            now,
        )
        .await?;
        tx.commit().await?;
        self.proof_dossier(&c.candidature_id)
            .await?
            .ok_or_else(|| StoreError::NotFound("dossier de preuves".into()))
    }

    /// Records a deposited file (its attachment and its place in the dossier), replacing the
    /// current file `replaces` if given, in one transaction. Journalled.
    pub async fn deposit_proof_file(
        &self,
        candidature_id: &str,
        target: &str,
        attachment: &Attachment,
        checks: &serde_json::Value,
        replaces: Option<&str>,
        actor: &str,
    ) -> StoreResult<ProofFile> {
        let now = attachment.uploaded_at;
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.pool().begin().await?;
        insert_attachment_row(&mut tx, attachment).await?;
        append(&mut tx, self.backend, &attachment_entry(attachment, actor)).await?;
        sqlx::query(
            "INSERT INTO proof_files (id, candidature_id, target, attachment_id, checks, deposited_at, deposited_by, replaced_at, replaced_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
        )
        .bind(&id)
        .bind(candidature_id)
        .bind(target)
        .bind(&attachment.id)
        .bind(checks.to_string())
        .bind(ts(now))
        .bind(&attachment.uploaded_by)
        .execute(&mut *tx)
        .await?;
        if let Some(old) = replaces {
            let done = sqlx::query(
                "UPDATE proof_files SET replaced_at = $1, replaced_by = $2 WHERE id = $3 AND candidature_id = $4 \
                 AND target = $5 AND replaced_at IS NULL",
            )
            .bind(ts(now))
            .bind(&id)
            .bind(old)
            .bind(candidature_id)
            .bind(target)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Stale("le fichier remplacé".into()));
            }
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: if replaces.is_some() {
                    "proofs.file-replaced"
                } else {
                    "proofs.file-deposited"
                },
                object_type: "candidature",
                object_id: candidature_id,
                before: replaces.map(|old| json!({ "file_id": old })),
                after: Some(json!({
                    "file_id": id, "target": target, "attachment_id": attachment.id,
                    "file_name": attachment.file_name, "size": attachment.size_bytes, "sha256": attachment.sha256,
                    "checks": checks,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.proof_file(candidature_id, &id)
            .await?
            .ok_or_else(|| StoreError::NotFound("fichier de preuve".into()))
    }

    /// Withdraws a current file (it stays in the history). Journalled.
    pub async fn withdraw_proof_file(
        &self,
        candidature_id: &str,
        file_id: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE proof_files SET replaced_at = $1 WHERE id = $2 AND candidature_id = $3 AND replaced_at IS NULL",
        )
        .bind(ts(now))
        .bind(file_id)
        .bind(candidature_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("fichier de preuve".into()));
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "proofs.file-withdrawn",
                object_type: "candidature",
                object_id: candidature_id,
                before: Some(json!({ "file_id": file_id })),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn proof_file(
        &self,
        candidature_id: &str,
        file_id: &str,
    ) -> StoreResult<Option<ProofFile>> {
        let row = sqlx::query(&format!(
            "SELECT {FILE_COLUMNS} FROM proof_files f JOIN attachments a ON a.id = f.attachment_id \
             WHERE f.candidature_id = $1 AND f.id = $2"
        ))
        .bind(candidature_id)
        .bind(file_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(file_from_row).transpose()
    }

    /// Every file of a dossier, current and past, in deposit order.
    pub async fn proof_files(&self, candidature_id: &str) -> StoreResult<Vec<ProofFile>> {
        let rows = sqlx::query(&format!(
            "SELECT {FILE_COLUMNS} FROM proof_files f JOIN attachments a ON a.id = f.attachment_id \
             WHERE f.candidature_id = $1 ORDER BY f.deposited_at, f.id"
        ))
        .bind(candidature_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(file_from_row).collect()
    }
}
