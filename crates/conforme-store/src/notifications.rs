//! In-platform notifications, and the emails that accompany them (queued as jobs in the same
//! transaction as the event).

use crate::jobs::{NewJob, enqueue};
use crate::{Store, StoreResult, parse_ts, ts};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

/// A notification to a user, with its email.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: String,
    pub email: String,
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    /// Path in the platform, e.g. `/candidatures/<id>`.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// The job kind of an email to send.
pub const EMAIL_JOB: &str = "email.notification";

/// The job kind of a message email (address check, one-time code, reset link, invitation):
/// its payload names the template and its arguments.
pub const EMAIL_SEND_JOB: &str = "email.send";

/// Records a notification and queues its email, inside the caller's transaction.
pub(crate) async fn notify(
    conn: &mut AnyConnection,
    n: &NewNotification,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, title, body, link, created_at, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
    )
    .bind(&id)
    .bind(&n.user_id)
    .bind(n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(n.link.as_deref())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    enqueue(
        conn,
        &NewJob {
            kind: EMAIL_JOB,
            object_id: id,
            payload: json!({ "to": n.email, "title": n.title, "body": n.body, "link": n.link }),
            due_at: now,
        },
        now,
    )
    .await?;
    Ok(())
}

impl Store {
    /// Queues an email to send now (`payload`: `{"to": …, "template": …, …}`).
    pub async fn queue_email(
        &self,
        to: &str,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.pool().acquire().await?;
        enqueue(
            &mut conn,
            &NewJob {
                kind: EMAIL_SEND_JOB,
                object_id: to.to_string(),
                payload,
                due_at: now,
            },
            now,
        )
        .await?;
        Ok(())
    }

    pub async fn notify(&self, n: &NewNotification, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        notify(&mut tx, n, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn notifications(&self, user_id: &str, limit: i64) -> StoreResult<Vec<Notification>> {
        let rows = sqlx::query(&format!(
            "SELECT id, kind, title, body, link, created_at, read_at FROM notifications WHERE user_id = $1 \
             ORDER BY created_at DESC, id LIMIT {}",
            limit.clamp(1, 500)
        ))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    link: r.try_get("link")?,
                    created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
                    read: r.try_get::<Option<String>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }

    pub async fn unread_notifications(&self, user_id: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn mark_notifications_read(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(ts(now))
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
