//! The durable job and timer queue: a row per thing to do at a time (a deadline to fire, an
//! email to send). The worker claims a due job with a lease, and the job's effect marks it done
//! in the effect's own transaction, so a job fires once even across restarts and concurrent
//! workers; a crashed worker's lease expires and the job is claimed again.

use crate::{Store, StoreError, StoreResult, parse_ts, ts};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub object_id: String,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub object_id: String,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
}

const JOB_COLUMNS: &str = "id, kind, object_id, payload, due_at, state, attempts, last_error";

fn job_from_row(r: &AnyRow) -> StoreResult<Job> {
    let payload: String = r.try_get("payload")?;
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        object_id: r.try_get("object_id")?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        due_at: parse_ts(&r.try_get::<String, _>("due_at")?)?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
    })
}

/// Enqueues inside the caller's transaction.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    job: &NewJob,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO jobs (id, kind, object_id, payload, due_at, state, attempts, last_error, locked_until, created_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, NULL, NULL, $6, NULL)",
    )
    .bind(&id)
    .bind(job.kind)
    .bind(&job.object_id)
    .bind(job.payload.to_string())
    .bind(ts(job.due_at))
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Cancels the pending jobs of a kind for an object, inside the caller's transaction.
pub(crate) async fn cancel(
    conn: &mut AnyConnection,
    kind: &str,
    object_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $1 WHERE kind = $2 AND object_id = $3 AND state IN ('pending', 'running')",
    )
    .bind(ts(now))
    .bind(kind)
    .bind(object_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Marks a claimed job done inside the transaction of its effect; false if it was no longer
/// ours (then the caller rolls back and the effect does not happen twice).
pub(crate) async fn finish(
    conn: &mut AnyConnection,
    job_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE jobs SET state = 'done', finished_at = $1, locked_until = NULL WHERE id = $2 AND state = 'running'")
        .bind(ts(now))
        .bind(job_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

impl Store {
    pub async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<String> {
        let mut conn = self.pool().acquire().await?;
        enqueue(&mut conn, job, now).await
    }

    /// Claims the most overdue job, for `lease`. A job whose lease ran out (its worker died)
    /// is claimed again.
    pub async fn claim_due_job(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Option<Job>> {
        for _ in 0..5 {
            let candidate = sqlx::query(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE due_at <= $1 AND \
                 (state = 'pending' OR (state = 'running' AND locked_until < $1)) ORDER BY due_at LIMIT 1"
            ))
            .bind(ts(now))
            .fetch_optional(self.pool())
            .await?;
            let Some(row) = candidate else {
                return Ok(None);
            };
            let job = job_from_row(&row)?;
            let claimed = sqlx::query(
                "UPDATE jobs SET state = 'running', locked_until = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND (state = 'pending' OR (state = 'running' AND locked_until < $3))",
            )
            .bind(ts(now + lease))
            .bind(&job.id)
            .bind(ts(now))
            .execute(self.pool())
            .await?;
            if claimed.rows_affected() == 1 {
                return Ok(Some(Job {
                    state: "running".into(),
                    attempts: job.attempts + 1,
                    ..job
                }));
            }
            // Another worker took it: look again.
        }
        Ok(None)
    }

    /// Marks a job done when its effect needs no transaction of its own (an email sent).
    /// `forget_payload` blanks the payload afterwards (it may hold a one-time code).
    pub async fn finish_job(
        &self,
        job_id: &str,
        now: DateTime<Utc>,
        forget_payload: bool,
    ) -> StoreResult<bool> {
        let mut conn = self.pool().acquire().await?;
        let done = finish(&mut conn, job_id, now).await?;
        if done && forget_payload {
            sqlx::query("UPDATE jobs SET payload = '{}' WHERE id = $1")
                .bind(job_id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(done)
    }

    /// Puts a failed job back for a later attempt, or gives up after `max_attempts`.
    pub async fn fail_job(
        &self,
        job: &Job,
        error: &str,
        retry_at: DateTime<Utc>,
        max_attempts: i64,
    ) -> StoreResult<()> {
        let give_up = job.attempts >= max_attempts;
        sqlx::query(
            "UPDATE jobs SET state = $1, last_error = $2, due_at = $3, locked_until = NULL WHERE id = $4 AND state = 'running'",
        )
        .bind(if give_up { "failed" } else { "pending" })
        .bind(error)
        .bind(ts(retry_at))
        .bind(&job.id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Pending jobs of an object (to show deadlines with their due time).
    pub async fn pending_jobs_for(&self, object_id: &str) -> StoreResult<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE object_id = $1 AND state IN ('pending', 'running') ORDER BY due_at"
        ))
        .bind(object_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Every job of an object, for tests and operations.
    pub async fn jobs_for(&self, object_id: &str) -> StoreResult<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE object_id = $1 ORDER BY created_at, id"
        ))
        .bind(object_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// When the next job is due, so that the worker sleeps until then.
    pub async fn next_job_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT MIN(due_at) AS due FROM jobs WHERE state = 'pending'")
            .fetch_one(self.pool())
            .await?;
        row.try_get::<Option<String>, _>("due")?
            .as_deref()
            .map(parse_ts)
            .transpose()
    }
}
