//! Accounts: users, browser sessions, emailed one-time codes, links sent by email, API tokens.
//! Secrets are stored only as SHA-256 hashes (passwords as argon2id hashes made by the caller).

use crate::journal::{NewEntry, append};
use crate::{Store, StoreError, StoreResult, parse_ts, ts};
use chrono::{DateTime, Utc};
use conforme_domain::account::{FailureState, Role};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organisation_id: Option<String>,
    pub legal_representative: bool,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub totp_secret: Option<String>,
    pub failures: FailureState,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, email, display_name, role, organisation_id, legal_representative, \
    password_hash, email_verified_at, totp_secret, failed_logins, locked_until, oidc_issuer, \
    oidc_subject, created_at";

fn opt_ts(row: &AnyRow, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.try_get::<Option<String>, _>(col)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("rôle « {role} »")))?,
        organisation_id: row.try_get("organisation_id")?,
        legal_representative: row.try_get::<i64, _>("legal_representative")? != 0,
        password_hash: row.try_get("password_hash")?,
        email_verified_at: opt_ts(row, "email_verified_at")?,
        totp_secret: row.try_get("totp_secret")?,
        failures: FailureState {
            consecutive_failures: u32::try_from(row.try_get::<i64, _>("failed_logins")?)
                .unwrap_or(0),
            locked_until: opt_ts(row, "locked_until")?,
        },
        oidc_issuer: row.try_get("oidc_issuer")?,
        oidc_subject: row.try_get("oidc_subject")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
    })
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub organisation_id: Option<&'a str>,
    pub legal_representative: bool,
    pub password_hash: Option<&'a str>,
    pub email_verified: bool,
}

/// A browser session as found from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user: User,
    pub csrf_token: String,
    pub second_factor_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// A link sent by email.
#[derive(Debug, Clone)]
pub struct EmailToken {
    pub purpose: String,
    pub email: String,
    pub user_id: Option<String>,
    pub organisation_id: Option<String>,
    pub created_by: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// The pending one-time code of a user for a purpose.
#[derive(Debug, Clone)]
pub struct OneTimeCode {
    pub id: String,
    pub code_hash: String,
    pub issued_at: DateTime<Utc>,
    pub attempts: u32,
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: String,
    pub user: User,
    pub name: String,
    pub scopes: Vec<String>,
}

impl Store {
    /// Creates an account; the email must be new. Journalled.
    pub async fn create_user(
        &self,
        new: &NewUser<'_>,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<User> {
        let mut tx = self.pool().begin().await?;
        let id = uuid::Uuid::new_v4().to_string();
        let inserted = sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 0, NULL, NULL, NULL, $9)"
        ))
        .bind(&id)
        .bind(new.email)
        .bind(new.display_name)
        .bind(new.role.as_str())
        .bind(new.organisation_id)
        .bind(i64::from(new.legal_representative))
        .bind(new.password_hash)
        .bind(new.email_verified.then(|| ts(now)))
        .bind(ts(now))
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation())
            {
                return Err(StoreError::Conflict(format!(
                    "un compte existe déjà pour {}",
                    new.email
                )));
            }
            return Err(e.into());
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "user.created",
                object_type: "user",
                object_id: &id,
                before: None,
                after: Some(json!({
                    "email": new.email,
                    "role": new.role.as_str(),
                    "organisation_id": new.organisation_id,
                    "legal_representative": new.legal_representative,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.user(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("compte créé introuvable".into()))
    }

    pub async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_oidc(&self, issuer: &str, subject: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2"
        ))
        .bind(issuer)
        .bind(subject)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn organisation_members(&self, organisation_id: &str) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE organisation_id = $1 ORDER BY created_at"
        ))
        .bind(organisation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Users of a role (e.g. every instructor, to notify them).
    pub async fn users_with_role(&self, role: Role) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE role = $1 ORDER BY created_at"
        ))
        .bind(role.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Records a login outcome (failure count and lock). Journalled when it locks the account.
    pub async fn set_login_failures(
        &self,
        user_id: &str,
        state: &FailureState,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
            .bind(i64::from(state.consecutive_failures))
            .bind(state.locked_until.map(ts))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if let Some(until) = state.locked_until.filter(|u| *u > now) {
            append(
                &mut tx,
                self.backend,
                &NewEntry {
                    at: now,
                    actor: "system",
                    action: "user.locked",
                    object_type: "user",
                    object_id: user_id,
                    before: None,
                    after: Some(json!({ "locked_until": ts(until) })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes one account attribute, journalled with before and after (secrets are never
    /// written to the journal, only the fact that they changed).
    pub async fn update_user_field(
        &self,
        user_id: &str,
        field: UserField<'_>,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let (sql, value, action, shown): (&str, Option<String>, &str, serde_json::Value) =
            match field {
                UserField::PasswordHash(h) => (
                    "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2",
                    Some(h.to_string()),
                    "user.password-changed",
                    json!({}),
                ),
                UserField::EmailVerified => (
                    "UPDATE users SET email_verified_at = $1 WHERE id = $2",
                    Some(ts(now)),
                    "user.email-verified",
                    json!({ "email_verified_at": ts(now) }),
                ),
                UserField::TotpSecret(s) => (
                    "UPDATE users SET totp_secret = $1 WHERE id = $2",
                    s.map(str::to_string),
                    if s.is_some() {
                        "user.totp-enabled"
                    } else {
                        "user.totp-disabled"
                    },
                    json!({}),
                ),
                UserField::Organisation {
                    organisation_id,
                    legal_representative,
                } => {
                    sqlx::query("UPDATE users SET legal_representative = $1 WHERE id = $2")
                        .bind(i64::from(legal_representative))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    (
                        "UPDATE users SET organisation_id = $1 WHERE id = $2",
                        Some(organisation_id.to_string()),
                        "user.organisation-joined",
                        json!({ "organisation_id": organisation_id, "legal_representative": legal_representative }),
                    )
                }
                UserField::OidcIdentity { issuer, subject } => {
                    sqlx::query("UPDATE users SET oidc_issuer = $1 WHERE id = $2")
                        .bind(issuer)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    (
                        "UPDATE users SET oidc_subject = $1 WHERE id = $2",
                        Some(subject.to_string()),
                        "user.oidc-linked",
                        json!({ "issuer": issuer, "subject": subject }),
                    )
                }
            };
        let done = sqlx::query(sql)
            .bind(value)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("compte".into()));
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action,
                object_type: "user",
                object_id: user_id,
                before: None,
                after: Some(shown),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a session. The token itself stays with the browser; only its hash is kept.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, second_factor_at, created_at, expires_at) \
             VALUES ($1, $2, $3, NULL, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(ts(now))
        .bind(ts(expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session of a token hash, with its user.
    pub async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, csrf_token, second_factor_at, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: String = row.try_get("user_id")?;
        let Some(user) = self.user(&user_id).await? else {
            return Ok(None);
        };
        Ok(Some(Session {
            token_hash: row.try_get("token_hash")?,
            user,
            csrf_token: row.try_get("csrf_token")?,
            second_factor_at: opt_ts(&row, "second_factor_at")?,
            expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
        }))
    }

    pub async fn mark_second_factor(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET second_factor_at = $1 WHERE token_hash = $2")
            .bind(ts(now))
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every session of a user (after a password reset).
    pub async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Housekeeping: deletes expired sessions, links expired or used more than a day ago, and
    /// one-time codes older than a day. Returns how many rows went.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let day_ago = ts(now - chrono::Duration::days(1));
        let mut n = 0;
        n += sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(ts(now))
            .execute(self.pool())
            .await?
            .rows_affected();
        n += sqlx::query("DELETE FROM email_tokens WHERE expires_at < $1 OR used_at < $2")
            .bind(ts(now))
            .bind(&day_ago)
            .execute(self.pool())
            .await?
            .rows_affected();
        n += sqlx::query("DELETE FROM one_time_codes WHERE issued_at < $1")
            .bind(&day_ago)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n)
    }

    /// Issues a one-time code, replacing any pending one of the same purpose.
    pub async fn issue_code(
        &self,
        user_id: &str,
        purpose: &str,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2")
            .bind(user_id)
            .bind(purpose)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO one_time_codes (id, user_id, purpose, code_hash, issued_at, attempts, used_at) \
             VALUES ($1, $2, $3, $4, $5, 0, NULL)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(user_id)
        .bind(purpose)
        .bind(code_hash)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn pending_code(
        &self,
        user_id: &str,
        purpose: &str,
    ) -> StoreResult<Option<OneTimeCode>> {
        let row = sqlx::query(
            "SELECT id, code_hash, issued_at, attempts FROM one_time_codes \
             WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        )
        .bind(user_id)
        .bind(purpose)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(OneTimeCode {
                id: r.try_get("id")?,
                code_hash: r.try_get("code_hash")?,
                issued_at: parse_ts(&r.try_get::<String, _>("issued_at")?)?,
                attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
            })
        })
        .transpose()
    }

    /// Counts an attempt; marks the code used when it matched.
    pub async fn record_code_attempt(
        &self,
        code_id: &str,
        used: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE one_time_codes SET attempts = attempts + 1, used_at = $1 WHERE id = $2",
        )
        .bind(used.then(|| ts(now)))
        .bind(code_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn issue_email_token(
        &self,
        token_hash: &str,
        token: &EmailToken,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO email_tokens (token_hash, purpose, email, user_id, organisation_id, created_by, \
             issued_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
        )
        .bind(token_hash)
        .bind(&token.purpose)
        .bind(&token.email)
        .bind(token.user_id.as_deref())
        .bind(token.organisation_id.as_deref())
        .bind(token.created_by.as_deref())
        .bind(ts(now))
        .bind(ts(token.expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Takes a link's token: returns it if it exists for that purpose, is unused and unexpired,
    /// and marks it used in the same statement so that it serves once.
    pub async fn consume_email_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<EmailToken>> {
        let mut tx = self.pool().begin().await?;
        let taken = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 \
             AND used_at IS NULL AND expires_at > $1",
        )
        .bind(ts(now))
        .bind(token_hash)
        .bind(purpose)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT purpose, email, user_id, organisation_id, created_by, expires_at, used_at \
             FROM email_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&mut *tx)
        .await?;
        let token = EmailToken {
            purpose: row.try_get("purpose")?,
            email: row.try_get("email")?,
            user_id: row.try_get("user_id")?,
            organisation_id: row.try_get("organisation_id")?,
            created_by: row.try_get("created_by")?,
            expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
            used_at: opt_ts(&row, "used_at")?,
        };
        tx.commit().await?;
        Ok(Some(token))
    }

    /// Looks at a link's token without using it (to show the invitation before accepting).
    pub async fn peek_email_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<EmailToken>> {
        let row = sqlx::query(
            "SELECT purpose, email, user_id, organisation_id, created_by, expires_at, used_at \
             FROM email_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(EmailToken {
                purpose: row.try_get("purpose")?,
                email: row.try_get("email")?,
                user_id: row.try_get("user_id")?,
                organisation_id: row.try_get("organisation_id")?,
                created_by: row.try_get("created_by")?,
                expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
                used_at: None,
            })
        })
        .transpose()
    }

    /// Creates an API token for a user. Journalled (the token itself never is).
    pub async fn create_api_token(
        &self,
        user_id: &str,
        name: &str,
        token_hash: &str,
        scopes: &[&str],
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<String> {
        let mut tx = self.pool().begin().await?;
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(scopes.join(" "))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "api-token.created",
                object_type: "user",
                object_id: user_id,
                before: None,
                after: Some(json!({ "token_id": id, "name": name, "scopes": scopes })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The live token of a hash, with its user; notes its use.
    pub async fn api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ApiToken>> {
        let row = sqlx::query("SELECT id, user_id, name, scopes FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        let user_id: String = row.try_get("user_id")?;
        let Some(user) = self.user(&user_id).await? else {
            return Ok(None);
        };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(ts(now))
            .bind(&id)
            .execute(self.pool())
            .await?;
        let scopes: String = row.try_get("scopes")?;
        Ok(Some(ApiToken {
            id,
            user,
            name: row.try_get("name")?,
            scopes: scopes.split_whitespace().map(str::to_string).collect(),
        }))
    }
}

/// One attribute of an account to change.
#[derive(Debug, Clone, Copy)]
pub enum UserField<'a> {
    PasswordHash(&'a str),
    EmailVerified,
    TotpSecret(Option<&'a str>),
    Organisation {
        organisation_id: &'a str,
        legal_representative: bool,
    },
    OidcIdentity {
        issuer: &'a str,
        subject: &'a str,
    },
}
