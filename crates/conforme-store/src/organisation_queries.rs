//! Invitations to join an editor organisation: sent (link token, email and journal entry in
//! one transaction), listed while pending, and accepted (the link used once, the account
//! joined, both journalled in one transaction, so that a failed join does not burn the link).
//!
//! The invitee's future power to bind the editor is carried by the link's purpose: an
//! [`INVITATION`] makes a member, an [`INVITATION_LEGAL_REPRESENTATIVE`] a legal representative.

use crate::jobs::{NewJob, enqueue};
use crate::journal::{NewEntry, append};
use crate::notifications::EMAIL_SEND_JOB;
use crate::{EmailToken, Store, StoreError, StoreResult, parse_ts, ts};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

/// Purpose of a link inviting a member.
pub const INVITATION: &str = "invitation";
/// Purpose of a link inviting a member who will be a legal representative.
pub const INVITATION_LEGAL_REPRESENTATIVE: &str = "invitation-legal-representative";

/// Whether a link's purpose is an invitation, and which.
pub fn invitation_purpose(legal_representative: bool) -> &'static str {
    if legal_representative {
        INVITATION_LEGAL_REPRESENTATIVE
    } else {
        INVITATION
    }
}

/// An invitation sent and not used yet.
#[derive(Debug, Clone)]
pub struct PendingInvitation {
    pub email: String,
    pub legal_representative: bool,
    /// The inviting user's id.
    pub created_by: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invitation looked at through its link.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub email: String,
    pub organisation_id: String,
    pub legal_representative: bool,
    pub created_by: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Sends an invitation: stores the link's token hash (purpose from
    /// [`invitation_purpose`], `organisation_id` and `created_by` set), queues the email
    /// (`email_payload`, rendered by the worker) and journals `organisation.member-invited`,
    /// all in one transaction.
    pub async fn invite_member(
        &self,
        token_hash: &str,
        token: &EmailToken,
        email_payload: serde_json::Value,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<()> {
        let Some(organisation_id) = token.organisation_id.as_deref() else {
            return Err(StoreError::Corrupt("invitation sans organisation".into()));
        };
        if token.purpose != INVITATION && token.purpose != INVITATION_LEGAL_REPRESENTATIVE {
            return Err(StoreError::Corrupt(format!(
                "objet de lien « {} » : ce n'est pas une invitation",
                token.purpose
            )));
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO email_tokens (token_hash, purpose, email, user_id, organisation_id, created_by, \
             issued_at, expires_at, used_at) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, NULL)",
        )
        .bind(token_hash)
        .bind(&token.purpose)
        .bind(&token.email)
        .bind(organisation_id)
        .bind(token.created_by.as_deref())
        .bind(ts(now))
        .bind(ts(token.expires_at))
        .execute(&mut *tx)
        .await?;
        enqueue(
            &mut tx,
            &NewJob {
                kind: EMAIL_SEND_JOB,
                object_id: token.email.clone(),
                payload: email_payload,
                due_at: now,
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
                action: "organisation.member-invited",
                object_type: "organisation",
                object_id: organisation_id,
                before: None,
                after: Some(json!({
                    "email": token.email,
                    "legal_representative": token.purpose == INVITATION_LEGAL_REPRESENTATIVE,
                    "invited_by": token.created_by,
                    "expires_at": ts(token.expires_at),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organisation's invitations neither used nor expired, newest first.
    pub async fn pending_invitations(
        &self,
        organisation_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<PendingInvitation>> {
        let rows = sqlx::query(
            "SELECT purpose, email, created_by, issued_at, expires_at FROM email_tokens \
             WHERE organisation_id = $1 AND purpose IN ($2, $3) AND used_at IS NULL AND expires_at > $4 \
             ORDER BY issued_at DESC",
        )
        .bind(organisation_id)
        .bind(INVITATION)
        .bind(INVITATION_LEGAL_REPRESENTATIVE)
        .bind(ts(now))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingInvitation {
                    legal_representative: r.try_get::<String, _>("purpose")?
                        == INVITATION_LEGAL_REPRESENTATIVE,
                    email: r.try_get("email")?,
                    created_by: r.try_get("created_by")?,
                    issued_at: parse_ts(&r.try_get::<String, _>("issued_at")?)?,
                    expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
                })
            })
            .collect()
    }

    /// The invitation behind a link's token hash, if it is unused and unexpired.
    pub async fn peek_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Invitation>> {
        let row = sqlx::query(
            "SELECT purpose, email, organisation_id, created_by, expires_at FROM email_tokens \
             WHERE token_hash = $1 AND purpose IN ($2, $3) AND used_at IS NULL AND expires_at > $4",
        )
        .bind(token_hash)
        .bind(INVITATION)
        .bind(INVITATION_LEGAL_REPRESENTATIVE)
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let Some(organisation_id) = r.try_get::<Option<String>, _>("organisation_id")? else {
            return Ok(None);
        };
        Ok(Some(Invitation {
            legal_representative: r.try_get::<String, _>("purpose")?
                == INVITATION_LEGAL_REPRESENTATIVE,
            email: r.try_get("email")?,
            organisation_id,
            created_by: r.try_get("created_by")?,
            expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
        }))
    }

    /// Accepts an invitation for `user_id`, whose address must be the one invited and who must
    /// belong to no organisation: the link is used and the account joins, in one transaction
    /// journalled as `user.organisation-joined` (on the user) and `organisation.member-joined`
    /// (on the organisation). `NotFound` when the link is unknown, used, expired or for
    /// another address; `Conflict` when the account already has an organisation.
    pub async fn join_by_invitation(
        &self,
        token_hash: &str,
        user_id: &str,
        user_email: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Invitation> {
        let mut tx = self.pool().begin().await?;
        let taken = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose IN ($3, $4) \
             AND used_at IS NULL AND expires_at > $1 AND email = $5 AND organisation_id IS NOT NULL",
        )
        .bind(ts(now))
        .bind(token_hash)
        .bind(INVITATION)
        .bind(INVITATION_LEGAL_REPRESENTATIVE)
        .bind(user_email)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() != 1 {
            return Err(StoreError::NotFound("invitation".into()));
        }
        let r = sqlx::query(
            "SELECT purpose, email, organisation_id, created_by, expires_at FROM email_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&mut *tx)
        .await?;
        let invitation = Invitation {
            legal_representative: r.try_get::<String, _>("purpose")?
                == INVITATION_LEGAL_REPRESENTATIVE,
            email: r.try_get("email")?,
            organisation_id: r
                .try_get::<Option<String>, _>("organisation_id")?
                .ok_or_else(|| StoreError::Corrupt("invitation sans organisation".into()))?,
            created_by: r.try_get("created_by")?,
            expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
        };
        let joined = sqlx::query(
            "UPDATE users SET organisation_id = $1, legal_representative = $2 \
             WHERE id = $3 AND organisation_id IS NULL",
        )
        .bind(&invitation.organisation_id)
        .bind(i64::from(invitation.legal_representative))
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if joined.rows_affected() != 1 {
            // Dropping the transaction rolls back: the link stays usable.
            return Err(StoreError::Conflict(
                "ce compte appartient déjà à une organisation".into(),
            ));
        }
        let after = json!({
            "organisation_id": invitation.organisation_id,
            "legal_representative": invitation.legal_representative,
        });
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "user.organisation-joined",
                object_type: "user",
                object_id: user_id,
                before: None,
                after: Some(after),
            },
        )
        .await?;
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "organisation.member-joined",
                object_type: "organisation",
                object_id: &invitation.organisation_id,
                before: None,
                after: Some(json!({
                    "user_id": user_id,
                    "email": user_email,
                    "legal_representative": invitation.legal_representative,
                    "invited_by": invitation.created_by,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(invitation)
    }
}
