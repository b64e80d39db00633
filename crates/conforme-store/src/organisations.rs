//! Editor organisations: identity (with an optimistic version so that a stale form is
//! refused), solidarity-group members, mandated distributors, charter acceptances.

use crate::journal::{NewEntry, append};
use crate::{Store, StoreError, StoreResult, parse_ts, ts};
use chrono::{DateTime, NaiveDate, Utc};
use conforme_domain::candidature::EditorIdentity;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub id: String,
    pub siret: String,
    pub identity: EditorIdentity,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SolidarityMember {
    pub id: String,
    pub company_name: String,
    pub siret: String,
    pub mandate_attachment_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Distributor {
    pub id: String,
    pub company_name: String,
    pub siret: String,
    pub mandate_start: NaiveDate,
    pub mandate_end: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CharterAcceptance {
    pub programme_code: String,
    pub user_id: String,
    pub accepted_at: DateTime<Utc>,
    pub charter_title: String,
    pub charter_sha256: String,
}

fn identity_json(identity: &EditorIdentity) -> StoreResult<String> {
    serde_json::to_string(identity).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_date(s: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("date « {s} » : {e}")))
}

impl Store {
    /// Creates an organisation and makes its creator a member (legal representative or not).
    pub async fn create_organisation(
        &self,
        identity: &EditorIdentity,
        siret: &str,
        creator_id: &str,
        creator_is_legal_representative: bool,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Organisation> {
        let mut tx = self.pool().begin().await?;
        let id = uuid::Uuid::new_v4().to_string();
        let inserted = sqlx::query(
            "INSERT INTO organisations (id, siret, identity, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $4, 1)",
        )
        .bind(&id)
        .bind(siret)
        .bind(identity_json(identity)?)
        .bind(ts(now))
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation())
            {
                return Err(StoreError::Conflict(format!(
                    "une organisation existe déjà pour le SIRET {siret} : demandez à l'un de ses membres de vous inviter"
                )));
            }
            return Err(e.into());
        }
        let joined = sqlx::query("UPDATE users SET organisation_id = $1, legal_representative = $2 WHERE id = $3 AND organisation_id IS NULL")
            .bind(&id)
            .bind(i64::from(creator_is_legal_representative))
            .bind(creator_id)
            .execute(&mut *tx)
            .await?;
        if joined.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "ce compte appartient déjà à une organisation".into(),
            ));
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "organisation.created",
                object_type: "organisation",
                object_id: &id,
                before: None,
                after: Some(json!({ "identity": identity, "creator": creator_id, "creator_legal_representative": creator_is_legal_representative })),
            },
        )
        .await?;
        tx.commit().await?;
        self.organisation(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound("organisation".into()))
    }

    pub async fn organisation_by_siret(&self, siret: &str) -> StoreResult<Option<Organisation>> {
        let row = sqlx::query("SELECT id FROM organisations WHERE siret = $1")
            .bind(siret)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => self.organisation(&r.try_get::<String, _>("id")?).await,
            None => Ok(None),
        }
    }

    pub async fn organisation(&self, id: &str) -> StoreResult<Option<Organisation>> {
        let row = sqlx::query(
            "SELECT id, siret, identity, version, updated_at FROM organisations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            let identity: String = r.try_get("identity")?;
            Ok(Organisation {
                id: r.try_get("id")?,
                siret: r.try_get("siret")?,
                identity: serde_json::from_str(&identity)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                version: r.try_get("version")?,
                updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
            })
        })
        .transpose()
    }

    /// Replaces the identity if nobody changed it since `expected_version`. Journalled with
    /// before and after.
    pub async fn update_organisation(
        &self,
        id: &str,
        expected_version: i64,
        identity: &EditorIdentity,
        siret: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Organisation> {
        let before = self
            .organisation(id)
            .await?
            .ok_or_else(|| StoreError::NotFound("organisation".into()))?;
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE organisations SET identity = $1, siret = $2, updated_at = $3, version = version + 1 \
             WHERE id = $4 AND version = $5",
        )
        .bind(identity_json(identity)?)
        .bind(siret)
        .bind(ts(now))
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await;
        match updated {
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                return Err(StoreError::Conflict(format!(
                    "une autre organisation a déjà le SIRET {siret}"
                )));
            }
            Err(e) => return Err(e.into()),
            Ok(done) if done.rows_affected() != 1 => {
                return Err(StoreError::Stale("l'organisation".into()));
            }
            Ok(_) => {}
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "organisation.updated",
                object_type: "organisation",
                object_id: id,
                before: Some(json!({ "identity": before.identity })),
                after: Some(json!({ "identity": identity })),
            },
        )
        .await?;
        tx.commit().await?;
        self.organisation(id)
            .await?
            .ok_or_else(|| StoreError::NotFound("organisation".into()))
    }

    pub async fn solidarity_members(
        &self,
        organisation_id: &str,
    ) -> StoreResult<Vec<SolidarityMember>> {
        let rows = sqlx::query(
            "SELECT id, company_name, siret, mandate_attachment_id FROM solidarity_members \
             WHERE organisation_id = $1 ORDER BY created_at, id",
        )
        .bind(organisation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SolidarityMember {
                    id: r.try_get("id")?,
                    company_name: r.try_get("company_name")?,
                    siret: r.try_get("siret")?,
                    mandate_attachment_id: r.try_get("mandate_attachment_id")?,
                })
            })
            .collect()
    }

    pub async fn add_solidarity_member(
        &self,
        organisation_id: &str,
        company_name: &str,
        siret: &str,
        mandate_attachment_id: Option<&str>,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<String> {
        let mut tx = self.pool().begin().await?;
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO solidarity_members (id, organisation_id, company_name, siret, mandate_attachment_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(organisation_id)
        .bind(company_name)
        .bind(siret)
        .bind(mandate_attachment_id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "organisation.solidarity-member-added",
                object_type: "organisation",
                object_id: organisation_id,
                before: None,
                after: Some(json!({ "member_id": id, "company_name": company_name, "siret": siret, "mandate": mandate_attachment_id })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a member's mandate (an uploaded file owned by the organisation) and points the
    /// member to it, in one transaction. Journalled.
    pub async fn attach_mandate(
        &self,
        organisation_id: &str,
        member_id: &str,
        attachment: &crate::Attachment,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        crate::candidatures::insert_attachment_row(&mut tx, attachment).await?;
        append(
            &mut tx,
            self.backend,
            &crate::candidatures::attachment_entry(attachment, actor),
        )
        .await?;
        let done = sqlx::query("UPDATE solidarity_members SET mandate_attachment_id = $1 WHERE id = $2 AND organisation_id = $3")
            .bind(&attachment.id)
            .bind(member_id)
            .bind(organisation_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("membre du groupement".into()));
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: attachment.uploaded_at,
                actor,
                action: "organisation.mandate-attached",
                object_type: "organisation",
                object_id: organisation_id,
                before: None,
                after: Some(json!({ "member_id": member_id, "attachment_id": attachment.id, "file_name": attachment.file_name })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_solidarity_member(
        &self,
        organisation_id: &str,
        member_id: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<()> {
        self.remove_owned_row(
            "solidarity_members",
            "organisation.solidarity-member-removed",
            organisation_id,
            member_id,
            now,
            actor,
        )
        .await
    }

    pub async fn distributors(&self, organisation_id: &str) -> StoreResult<Vec<Distributor>> {
        let rows = sqlx::query(
            "SELECT id, company_name, siret, mandate_start, mandate_end FROM distributors \
             WHERE organisation_id = $1 ORDER BY created_at, id",
        )
        .bind(organisation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let end: Option<String> = r.try_get("mandate_end")?;
                Ok(Distributor {
                    id: r.try_get("id")?,
                    company_name: r.try_get("company_name")?,
                    siret: r.try_get("siret")?,
                    mandate_start: parse_date(&r.try_get::<String, _>("mandate_start")?)?,
                    mandate_end: end.as_deref().map(parse_date).transpose()?,
                })
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn add_distributor(
        &self,
        organisation_id: &str,
        company_name: &str,
        siret: &str,
        mandate_start: NaiveDate,
        mandate_end: Option<NaiveDate>,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<String> {
        let mut tx = self.pool().begin().await?;
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO distributors (id, organisation_id, company_name, siret, mandate_start, mandate_end, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(organisation_id)
        .bind(company_name)
        .bind(siret)
        .bind(mandate_start.to_string())
        .bind(mandate_end.map(|d| d.to_string()))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "organisation.distributor-added",
                object_type: "organisation",
                object_id: organisation_id,
                before: None,
                after: Some(json!({
                    "distributor_id": id, "company_name": company_name, "siret": siret,
                    "mandate_start": mandate_start.to_string(), "mandate_end": mandate_end.map(|d| d.to_string()),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn remove_distributor(
        &self,
        organisation_id: &str,
        distributor_id: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<()> {
        self.remove_owned_row(
            "distributors",
            "organisation.distributor-removed",
            organisation_id,
            distributor_id,
            now,
            actor,
        )
        .await
    }

    async fn remove_owned_row(
        &self,
        table: &'static str,
        action: &'static str,
        organisation_id: &str,
        row_id: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE id = $1 AND organisation_id = $2"
        ))
        .bind(row_id)
        .bind(organisation_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("ligne".into()));
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action,
                object_type: "organisation",
                object_id: organisation_id,
                before: Some(json!({ "id": row_id })),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the acceptance of a programme's charter (who, when, which text). Once.
    #[allow(clippy::too_many_arguments)]
    pub async fn accept_charter(
        &self,
        organisation_id: &str,
        programme_code: &str,
        user_id: &str,
        charter_title: &str,
        charter_sha256: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO charter_acceptances (organisation_id, programme_code, user_id, accepted_at, charter_title, charter_sha256) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(organisation_id)
        .bind(programme_code)
        .bind(user_id)
        .bind(ts(now))
        .bind(charter_title)
        .bind(charter_sha256)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation())
            {
                return Err(StoreError::Conflict(
                    "la charte de ce dispositif est déjà acceptée".into(),
                ));
            }
            return Err(e.into());
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "charter.accepted",
                object_type: "organisation",
                object_id: organisation_id,
                before: None,
                after: Some(json!({ "programme": programme_code, "user_id": user_id, "charter": charter_title, "charter_sha256": charter_sha256 })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn charter_acceptances(
        &self,
        organisation_id: &str,
    ) -> StoreResult<Vec<CharterAcceptance>> {
        let rows = sqlx::query(
            "SELECT programme_code, user_id, accepted_at, charter_title, charter_sha256 FROM charter_acceptances \
             WHERE organisation_id = $1 ORDER BY accepted_at",
        )
        .bind(organisation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CharterAcceptance {
                    programme_code: r.try_get("programme_code")?,
                    user_id: r.try_get("user_id")?,
                    accepted_at: parse_ts(&r.try_get::<String, _>("accepted_at")?)?,
                    charter_title: r.try_get("charter_title")?,
                    charter_sha256: r.try_get("charter_sha256")?,
                })
            })
            .collect()
    }
}
