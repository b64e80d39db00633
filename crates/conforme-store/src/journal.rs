//! The journal: every state change, who made it, when, and the state before and after,
//! written in the same transaction as the change. Append-only and hash-chained: each entry's
//! hash covers the previous entry's hash and its own fields, so a modified, removed or
//! reordered entry is detected by [`Store::verify_journal`].

use crate::{Backend, Store, StoreResult, parse_ts, ts};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

/// The hash the first entry chains from.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub at: DateTime<Utc>,
    /// `user:<email>`, `system`, `cli:<login>` …
    pub actor: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JournalEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// What `journal verify` found wrong, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalProblem {
    pub seq: i64,
    pub message: String,
}

#[allow(clippy::too_many_arguments)]
fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        at,
        actor,
        action,
        object_type,
        object_id,
        before.unwrap_or("\u{0}"),
        after.unwrap_or("\u{0}"),
    ] {
        // Length-prefixed so that no two field lists hash alike.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// Appends an entry inside the caller's transaction. On SQLite, call it after the
/// transaction's first write (which takes the write lock); on PostgreSQL an advisory lock
/// held until commit serialises appends.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    entry: &NewEntry<'_>,
) -> StoreResult<i64> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7461001)")
            .execute(&mut *conn)
            .await?;
    }
    let tail = sqlx::query("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (prev_seq, prev_hash) = match tail {
        Some(row) => (
            row.try_get::<i64, _>("seq")?,
            row.try_get::<String, _>("hash")?,
        ),
        None => (0, GENESIS.to_string()),
    };
    let seq = prev_seq + 1;
    let at = ts(entry.at);
    let before = entry.before.as_ref().map(|v| v.to_string());
    let after = entry.after.as_ref().map(|v| v.to_string());
    let hash = entry_hash(
        &prev_hash,
        seq,
        &at,
        entry.actor,
        entry.action,
        entry.object_type,
        entry.object_id,
        before.as_deref(),
        after.as_deref(),
    );
    sqlx::query(
        "INSERT INTO journal (seq, at, actor, action, object_type, object_id, before_state, \
         after_state, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(at)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.object_type)
    .bind(entry.object_id)
    .bind(before)
    .bind(after)
    .bind(prev_hash)
    .bind(hash)
    .execute(&mut *conn)
    .await?;
    Ok(seq)
}

impl Store {
    /// Entries about one object, oldest first.
    pub async fn journal_for(
        &self,
        object_type: &str,
        object_id: &str,
    ) -> StoreResult<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, object_type, object_id, before_state, after_state, \
             prev_hash, hash FROM journal WHERE object_type = $1 AND object_id = $2 ORDER BY seq",
        )
        .bind(object_type)
        .bind(object_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Walks the whole chain and reports every entry that does not hold: a gap in the
    /// sequence (a removed entry), a broken link, or a hash that no longer matches the fields
    /// (a modified entry). An empty list means the journal is intact.
    pub async fn verify_journal(&self) -> StoreResult<(u64, Vec<JournalProblem>)> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, object_type, object_id, before_state, after_state, \
             prev_hash, hash FROM journal ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        let mut problems = Vec::new();
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS.to_string();
        let mut count = 0;
        for row in &rows {
            count += 1;
            let seq: i64 = row.try_get("seq")?;
            let at: String = row.try_get("at")?;
            let get = |c: &str| row.try_get::<String, _>(c);
            let before: Option<String> = row.try_get("before_state")?;
            let after: Option<String> = row.try_get("after_state")?;
            if seq != expected_seq {
                problems.push(JournalProblem {
                    seq,
                    message: format!(
                        "entrée(s) manquante(s) : attendu n° {expected_seq}, trouvé n° {seq}"
                    ),
                });
            }
            let stored_prev = get("prev_hash")?;
            if stored_prev != prev_hash {
                problems.push(JournalProblem {
                    seq,
                    message: "le chaînage avec l'entrée précédente est rompu".into(),
                });
            }
            let recomputed = entry_hash(
                &stored_prev,
                seq,
                &at,
                &get("actor")?,
                &get("action")?,
                &get("object_type")?,
                &get("object_id")?,
                before.as_deref(),
                after.as_deref(),
            );
            let stored = get("hash")?;
            if recomputed != stored {
                problems.push(JournalProblem {
                    seq,
                    message: "le contenu de l'entrée a été modifié (empreinte différente)".into(),
                });
            }
            prev_hash = stored;
            expected_seq = seq + 1;
        }
        Ok((count, problems))
    }
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> StoreResult<JournalEntry> {
    Ok(JournalEntry {
        seq: row.try_get("seq")?,
        at: parse_ts(&row.try_get::<String, _>("at")?)?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        object_type: row.try_get("object_type")?,
        object_id: row.try_get("object_id")?,
        before: row.try_get("before_state")?,
        after: row.try_get("after_state")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_field_and_on_the_chain() {
        let base = entry_hash(GENESIS, 1, "t", "a", "act", "o", "1", None, Some("{}"));
        assert_eq!(base.len(), 64);
        assert_ne!(
            base,
            entry_hash("x", 1, "t", "a", "act", "o", "1", None, Some("{}"))
        );
        assert_ne!(
            base,
            entry_hash(GENESIS, 2, "t", "a", "act", "o", "1", None, Some("{}"))
        );
        assert_ne!(
            base,
            entry_hash(GENESIS, 1, "t", "a", "act", "o", "1", Some("{}"), None)
        );
        assert_ne!(
            base,
            entry_hash(GENESIS, 1, "t", "ab", "ct", "o", "1", None, Some("{}"))
        );
    }
}
