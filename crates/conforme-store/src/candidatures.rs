//! Candidatures: their administrative dossier (drafts saved at any time, with an optimistic
//! version so that a stale form is refused), the state changes of the agency's review with
//! the thread message, timers, notifications and journal entry written in one transaction,
//! the review queue, and attachment records.

use crate::jobs::{NewJob, cancel, enqueue, finish};
use crate::journal::{NewEntry, append};
use crate::notifications::{NewNotification, notify};
use crate::{Store, StoreError, StoreResult, parse_ts, ts};
use chrono::{DateTime, Datelike, Utc};
use conforme_domain::candidature::{AdministrativeDossier, CandidatureState, EditorIdentity};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
pub struct Candidature {
    pub id: String,
    pub reference: String,
    pub organisation_id: String,
    pub programme_code: String,
    pub state: CandidatureState,
    pub dossier: AdministrativeDossier,
    pub editor_snapshot: Option<EditorIdentity>,
    pub deposited_at: Option<DateTime<Utc>>,
    pub last_submitted_at: Option<DateTime<Utc>>,
    pub complement_due_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub kind: String,
    pub body: String,
    pub attachment_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: String,
    pub organisation_id: String,
    pub candidature_id: Option<String>,
    pub storage_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

/// A message to add to the thread.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub author_id: Option<String>,
    pub kind: &'static str,
    pub body: String,
    pub attachment_ids: Vec<String>,
}

/// A state change decided by the domain, with everything that goes with it.
#[derive(Debug, Clone)]
pub struct Transition {
    pub candidature_id: String,
    /// The version the decision was made on; a concurrent change makes the transition fail.
    pub expected_version: i64,
    pub new_state: CandidatureState,
    pub action: &'static str,
    pub deposited_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub editor_snapshot: Option<EditorIdentity>,
    /// `Some(None)` clears the due time.
    pub complement_due_at: Option<Option<DateTime<Utc>>>,
    pub decision: Option<String>,
    pub message: Option<NewMessage>,
    pub schedule: Vec<NewJob>,
    pub cancel_jobs: Vec<&'static str>,
    pub notifications: Vec<NewNotification>,
    /// The job whose firing this is: marked done in the same transaction.
    pub fired_job: Option<String>,
}

const COLUMNS: &str = "id, reference, organisation_id, programme_code, state, dossier, editor_snapshot, deposited_at, \
    last_submitted_at, complement_due_at, decided_at, decision_reason, created_at, updated_at, version";

fn opt_ts(row: &AnyRow, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.try_get::<Option<String>, _>(col)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

fn from_row(r: &AnyRow) -> StoreResult<Candidature> {
    let state: String = r.try_get("state")?;
    let dossier: String = r.try_get("dossier")?;
    let snapshot: Option<String> = r.try_get("editor_snapshot")?;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    Ok(Candidature {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        organisation_id: r.try_get("organisation_id")?,
        programme_code: r.try_get("programme_code")?,
        state: CandidatureState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("état « {state} »")))?,
        dossier: serde_json::from_str(&dossier).map_err(corrupt)?,
        editor_snapshot: snapshot
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(corrupt)?,
        deposited_at: opt_ts(r, "deposited_at")?,
        last_submitted_at: opt_ts(r, "last_submitted_at")?,
        complement_due_at: opt_ts(r, "complement_due_at")?,
        decided_at: opt_ts(r, "decided_at")?,
        decision_reason: r.try_get("decision_reason")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
        version: r.try_get("version")?,
    })
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Creates a draft candidature with a readable reference (`HOP-DPI-Va2-2026-0001`).
    pub async fn create_candidature(
        &self,
        organisation_id: &str,
        programme_code: &str,
        dossier: &AdministrativeDossier,
        user_id: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Candidature> {
        for _ in 0..5 {
            let mut tx = self.pool().begin().await?;
            let id = uuid::Uuid::new_v4().to_string();
            let prefix = format!("{programme_code}-{}-", now.year());
            let count: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM candidatures WHERE reference LIKE $1")
                    .bind(format!("{prefix}%"))
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            let reference = format!("{prefix}{:04}", count + 1);
            let inserted = sqlx::query(&format!(
                "INSERT INTO candidatures ({COLUMNS}, created_by) VALUES \
                 ($1, $2, $3, $4, $5, $6, NULL, NULL, NULL, NULL, NULL, NULL, $7, $7, 1, $8)"
            ))
            .bind(&id)
            .bind(&reference)
            .bind(organisation_id)
            .bind(programme_code)
            .bind(CandidatureState::Draft.as_str())
            .bind(to_json(dossier)?)
            .bind(ts(now))
            .bind(user_id)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e)
                    if e.as_database_error()
                        .is_some_and(|d| d.is_unique_violation()) =>
                {
                    continue;
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
                    action: "candidature.created",
                    object_type: "candidature",
                    object_id: &id,
                    before: None,
                    after: Some(json!({ "reference": reference, "organisation_id": organisation_id, "programme": programme_code })),
                },
            )
            .await?;
            tx.commit().await?;
            return self
                .candidature(&id)
                .await?
                .ok_or_else(|| StoreError::NotFound("candidature".into()));
        }
        Err(StoreError::Conflict(
            "création simultanée de candidatures : réessayez".into(),
        ))
    }

    pub async fn candidature(&self, id: &str) -> StoreResult<Option<Candidature>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM candidatures WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn candidatures_of(&self, organisation_id: &str) -> StoreResult<Vec<Candidature>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM candidatures WHERE organisation_id = $1 ORDER BY created_at DESC"
        ))
        .bind(organisation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Every candidature of a programme ever deposited, first deposit first (the public
    /// registry's material: what it may show is decided by the domain).
    pub async fn deposited_candidatures(
        &self,
        programme_code: &str,
    ) -> StoreResult<Vec<Candidature>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM candidatures WHERE programme_code = $1 AND deposited_at IS NOT NULL \
             ORDER BY deposited_at, reference"
        ))
        .bind(programme_code)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Dossiers in the agency's hands, oldest submission first: those waiting for a review,
    /// then those waiting for the editor's complement.
    pub async fn review_queue(&self) -> StoreResult<Vec<Candidature>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM candidatures WHERE state IN ('submitted', 'complement-requested') \
             ORDER BY CASE state WHEN 'submitted' THEN 0 ELSE 1 END, last_submitted_at, reference"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Saves the dossier (draft or answer to a complement) if unchanged since
    /// `expected_version`. Journalled with before and after.
    pub async fn save_dossier(
        &self,
        id: &str,
        expected_version: i64,
        dossier: &AdministrativeDossier,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Candidature> {
        self.save_dossier_with(id, expected_version, dossier, None, now, actor)
            .await
    }

    /// Records an uploaded attachment and saves the dossier that points to it, in one
    /// transaction: both or neither.
    pub async fn attach_to_dossier(
        &self,
        id: &str,
        expected_version: i64,
        dossier: &AdministrativeDossier,
        attachment: &Attachment,
        actor: &str,
    ) -> StoreResult<Candidature> {
        self.save_dossier_with(
            id,
            expected_version,
            dossier,
            Some(attachment),
            attachment.uploaded_at,
            actor,
        )
        .await
    }

    async fn save_dossier_with(
        &self,
        id: &str,
        expected_version: i64,
        dossier: &AdministrativeDossier,
        attachment: Option<&Attachment>,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Candidature> {
        let before = self
            .candidature(id)
            .await?
            .ok_or_else(|| StoreError::NotFound("candidature".into()))?;
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query("UPDATE candidatures SET dossier = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4")
            .bind(to_json(dossier)?)
            .bind(ts(now))
            .bind(id)
            .bind(expected_version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale("la candidature".into()));
        }
        if let Some(a) = attachment {
            insert_attachment_row(&mut tx, a).await?;
            append(&mut tx, self.backend, &attachment_entry(a, actor)).await?;
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "candidature.dossier-saved",
                object_type: "candidature",
                object_id: id,
                before: Some(json!({ "dossier": before.dossier })),
                after: Some(json!({ "dossier": dossier })),
            },
        )
        .await?;
        tx.commit().await?;
        self.candidature(id)
            .await?
            .ok_or_else(|| StoreError::NotFound("candidature".into()))
    }

    /// Applies a state change with its message, timers, notifications and journal entry, all
    /// in one transaction. Fails with `Stale` when the candidature changed since it was read,
    /// and with `Conflict` when the fired job was no longer ours.
    pub async fn apply_transition(
        &self,
        t: &Transition,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Candidature> {
        let before = self
            .candidature(&t.candidature_id)
            .await?
            .ok_or_else(|| StoreError::NotFound("candidature".into()))?;
        let mut tx = self.pool().begin().await?;
        let mut sets = vec![
            "state = $1".to_string(),
            "updated_at = $2".to_string(),
            "version = version + 1".to_string(),
        ];
        let mut binds: Vec<Option<String>> =
            vec![Some(t.new_state.as_str().to_string()), Some(ts(now))];
        let mut push = |col: &str, v: Option<String>| {
            binds.push(v);
            sets.push(format!("{col} = ${}", binds.len()));
        };
        if let Some(d) = t.deposited_at {
            push("deposited_at", Some(ts(d)));
        }
        if let Some(d) = t.submitted_at {
            push("last_submitted_at", Some(ts(d)));
        }
        if let Some(s) = &t.editor_snapshot {
            push("editor_snapshot", Some(to_json(s)?));
        }
        if let Some(due) = t.complement_due_at {
            push("complement_due_at", due.map(ts));
        }
        if let Some(reason) = &t.decision {
            push("decided_at", Some(ts(now)));
            push("decision_reason", Some(reason.clone()));
        }
        let sql = format!(
            "UPDATE candidatures SET {} WHERE id = ${} AND version = ${}",
            sets.join(", "),
            binds.len() + 1,
            binds.len() + 2
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let done = q
            .bind(&t.candidature_id)
            .bind(t.expected_version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale("la candidature".into()));
        }
        effects(
            &mut tx,
            &Effects {
                candidature_id: &t.candidature_id,
                fired_job: t.fired_job.as_deref(),
                cancel_jobs: &t.cancel_jobs,
                schedule: &t.schedule,
                message: t.message.as_ref(),
                notifications: &t.notifications,
            },
            now,
        )
        .await?;
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: t.action,
                object_type: "candidature",
                object_id: &t.candidature_id,
                before: Some(json!({ "state": before.state.as_str() })),
                after: Some(json!({
                    "state": t.new_state.as_str(),
                    "complement_due_at": t.complement_due_at.flatten().map(ts),
                    "decision": t.decision,
                    "message": t.message.as_ref().map(|m| &m.body),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.candidature(&t.candidature_id)
            .await?
            .ok_or_else(|| StoreError::NotFound("candidature".into()))
    }

    /// Adds a message to the thread outside any state change (a question, a reply).
    pub async fn post_message(
        &self,
        candidature_id: &str,
        message: &NewMessage,
        notifications: &[NewNotification],
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<String> {
        let mut tx = self.pool().begin().await?;
        let id = insert_message(&mut tx, candidature_id, message, now).await?;
        for n in notifications {
            notify(&mut tx, n, now).await?;
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "candidature.message-posted",
                object_type: "candidature",
                object_id: candidature_id,
                before: None,
                after: Some(json!({ "message_id": id, "body": message.body, "attachments": message.attachment_ids })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a message carrying an uploaded file to the thread: the file's record, the message
    /// and their journal entries in one transaction.
    pub async fn post_message_with_attachment(
        &self,
        candidature_id: &str,
        message: &NewMessage,
        attachment: &Attachment,
        notifications: &[NewNotification],
        actor: &str,
    ) -> StoreResult<String> {
        let now = attachment.uploaded_at;
        let mut tx = self.pool().begin().await?;
        insert_attachment_row(&mut tx, attachment).await?;
        append(&mut tx, self.backend, &attachment_entry(attachment, actor)).await?;
        let mut message = message.clone();
        message.attachment_ids = vec![attachment.id.clone()];
        let id = insert_message(&mut tx, candidature_id, &message, now).await?;
        for n in notifications {
            notify(&mut tx, n, now).await?;
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "candidature.message-posted",
                object_type: "candidature",
                object_id: candidature_id,
                before: None,
                after: Some(json!({ "message_id": id, "body": message.body, "attachments": message.attachment_ids })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn messages(&self, candidature_id: &str) -> StoreResult<Vec<Message>> {
        let rows = sqlx::query(
            "SELECT m.id, m.author_id, u.display_name, m.kind, m.body, m.attachment_ids, m.created_at \
             FROM messages m LEFT JOIN users u ON u.id = m.author_id WHERE m.candidature_id = $1 ORDER BY m.created_at, m.id",
        )
        .bind(candidature_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let ids: String = r.try_get("attachment_ids")?;
                Ok(Message {
                    id: r.try_get("id")?,
                    author_id: r.try_get("author_id")?,
                    author_name: r.try_get("display_name")?,
                    kind: r.try_get("kind")?,
                    body: r.try_get("body")?,
                    attachment_ids: serde_json::from_str(&ids)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
                })
            })
            .collect()
    }

    /// Records an uploaded file. Journalled.
    pub async fn insert_attachment(&self, a: &Attachment, actor: &str) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        insert_attachment_row(&mut tx, a).await?;
        append(&mut tx, self.backend, &attachment_entry(a, actor)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn attachment(&self, id: &str) -> StoreResult<Option<Attachment>> {
        let row = sqlx::query(
            "SELECT id, organisation_id, candidature_id, storage_key, file_name, content_type, size_bytes, sha256, \
             uploaded_by, uploaded_at FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(attachment_from_row).transpose()
    }
}

/// An attachment from a row with the `attachments` table's column names.
pub(crate) fn attachment_from_row(r: &AnyRow) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        organisation_id: r.try_get("organisation_id")?,
        candidature_id: r.try_get("candidature_id")?,
        storage_key: r.try_get("storage_key")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: parse_ts(&r.try_get::<String, _>("uploaded_at")?)?,
    })
}

/// What goes with a change of a candidature, in the change's transaction: the fired job
/// marked done (`Conflict` when it was no longer ours), jobs cancelled and scheduled, the
/// thread message, the notifications.
pub(crate) struct Effects<'a> {
    pub candidature_id: &'a str,
    pub fired_job: Option<&'a str>,
    pub cancel_jobs: &'a [&'static str],
    pub schedule: &'a [NewJob],
    pub message: Option<&'a NewMessage>,
    pub notifications: &'a [NewNotification],
}

pub(crate) async fn effects(
    conn: &mut sqlx::AnyConnection,
    e: &Effects<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if let Some(job_id) = e.fired_job
        && !finish(&mut *conn, job_id, now).await?
    {
        return Err(StoreError::Conflict("échéance déjà traitée".into()));
    }
    for kind in e.cancel_jobs {
        cancel(&mut *conn, kind, e.candidature_id, now).await?;
    }
    for job in e.schedule {
        enqueue(&mut *conn, job, now).await?;
    }
    if let Some(m) = e.message {
        insert_message(&mut *conn, e.candidature_id, m, now).await?;
    }
    for n in e.notifications {
        notify(&mut *conn, n, now).await?;
    }
    Ok(())
}

/// The effects of a change of a candidature's dossier (proofs, référencement) and its journal
/// entry, `detail` as what the entry records.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn effects_and_entry(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    e: &Effects<'_>,
    action: &str,
    detail: &serde_json::Value,
    actor: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    effects(&mut *conn, e, now).await?;
    append(
        &mut *conn,
        backend,
        &NewEntry {
            at: now,
            actor,
            action,
            object_type: "candidature",
            object_id: e.candidature_id,
            before: None,
            after: Some(detail.clone()),
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn insert_attachment_row(
    conn: &mut sqlx::AnyConnection,
    a: &Attachment,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO attachments (id, organisation_id, candidature_id, storage_key, file_name, content_type, size_bytes, \
         sha256, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(&a.organisation_id)
    .bind(a.candidature_id.as_deref())
    .bind(&a.storage_key)
    .bind(&a.file_name)
    .bind(&a.content_type)
    .bind(a.size_bytes)
    .bind(&a.sha256)
    .bind(&a.uploaded_by)
    .bind(ts(a.uploaded_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) fn attachment_entry<'a>(a: &'a Attachment, actor: &'a str) -> NewEntry<'a> {
    NewEntry {
        at: a.uploaded_at,
        actor,
        action: "attachment.uploaded",
        object_type: "attachment",
        object_id: &a.id,
        before: None,
        after: Some(json!({
            "organisation_id": a.organisation_id, "candidature_id": a.candidature_id, "file_name": a.file_name,
            "content_type": a.content_type, "size": a.size_bytes, "sha256": a.sha256,
        })),
    }
}

pub(crate) async fn insert_message(
    conn: &mut sqlx::AnyConnection,
    candidature_id: &str,
    m: &NewMessage,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO messages (id, candidature_id, author_id, kind, body, attachment_ids, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(candidature_id)
    .bind(m.author_id.as_deref())
    .bind(m.kind)
    .bind(&m.body)
    .bind(to_json(&m.attachment_ids)?)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}
