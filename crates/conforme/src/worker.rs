//! The background worker: claims due jobs from the durable queue and carries them out: emails
//! to send, and deadlines to fire (a complement left unanswered rejects its candidature). A job
//! is done in the same transaction as its effect, so it fires once, across restarts.

use chrono::Duration;
use conforme_domain::candidature::{self, CandidatureState};
use conforme_domain::clock::Clock;
use conforme_mail::{Mailer, templates};
use conforme_store::{
    DossierChange, EMAIL_JOB, EMAIL_SEND_JOB, Job, NewMessage, NewNotification, ReferencingChange,
    Store, StoreError, Transition,
};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::watch;

/// The job kind of a complement deadline (payload: the due instant).
pub const COMPLEMENT_DEADLINE: &str = "candidature.complement-deadline";
/// A reminder one working day… rather 48 hours before a complement deadline.
pub const COMPLEMENT_REMINDER: &str = "candidature.complement-reminder";

/// The job kind of the 30-day abandonment of an unanswered question during the instruction
/// of the proofs (payload: the due instant).
pub const PROOFS_ABANDONMENT: &str = "proofs.abandonment";

const LEASE_SECONDS: i64 = 120;
const MAX_ATTEMPTS: i64 = 8;

pub struct Worker {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub mailer: Mailer,
    pub public_url: String,
}

/// What a job run came to.
#[derive(Debug)]
enum Outcome {
    Done,
    /// The effect already happened or no longer applies.
    Skipped,
}

impl Worker {
    /// Runs until `stop` turns true. Polls every `poll` (a settable clock may jump, so the
    /// worker does not sleep until the next due time).
    pub async fn run(self, mut stop: watch::Receiver<bool>, poll: std::time::Duration) {
        tracing::info!(mail = %self.mailer.description(), "worker started");
        let mut last_purge: Option<chrono::DateTime<chrono::Utc>> = None;
        loop {
            let now = self.clock.now();
            if last_purge.is_none_or(|t| now - t > Duration::minutes(10) || now < t) {
                match self.store.purge_expired(now).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(rows = n, "expired sessions, links and codes deleted")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "purge failed"),
                }
                last_purge = Some(now);
            }
            loop {
                match self.run_one().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "worker: cannot reach the queue");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() { break; }
                }
            }
            if *stop.borrow() {
                break;
            }
        }
        tracing::info!("worker stopped");
    }

    /// Claims and runs one due job; false when none is due.
    pub async fn run_one(&self) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let Some(job) = self
            .store
            .claim_due_job(now, Duration::seconds(LEASE_SECONDS))
            .await?
        else {
            return Ok(false);
        };
        match self.execute(&job).await {
            Ok(outcome) => tracing::info!(job = %job.id, kind = %job.kind, ?outcome, "job done"),
            Err(e) => {
                // Back off: 30 s, 1 min, 2 min … capped at an hour.
                let wait = Duration::seconds((30_i64 << (job.attempts.clamp(1, 8) - 1)).min(3600));
                tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %e, "job failed");
                self.store
                    .fail_job(&job, &e, self.clock.now() + wait, MAX_ATTEMPTS)
                    .await?;
            }
        }
        Ok(true)
    }

    async fn execute(&self, job: &Job) -> Result<Outcome, String> {
        match job.kind.as_str() {
            EMAIL_SEND_JOB | EMAIL_JOB => self.send_email(job).await,
            COMPLEMENT_DEADLINE => self.expire_complement(job).await,
            COMPLEMENT_REMINDER => self.remind_complement(job).await,
            PROOFS_ABANDONMENT => self.abandon_unanswered(job).await,
            conforme_web::referencing::LAPSE_JOB => self.lapse_reservations(job).await,
            other => Err(format!("unknown job kind {other}")),
        }
    }

    async fn send_email(&self, job: &Job) -> Result<Outcome, String> {
        let p = &job.payload;
        let s = |k: &str| {
            p.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let to = s("to");
        let message = if job.kind == EMAIL_JOB {
            let link = p
                .get("link")
                .and_then(Value::as_str)
                .map(|l| format!("{}{l}", self.public_url));
            templates::notification(&s("title"), &s("body"), link.as_deref())
        } else {
            match s("template").as_str() {
                "verify_email" => templates::verify_email(&s("link")),
                "password_reset" => templates::password_reset(&s("link")),
                "one_time_code" => {
                    let minutes = p
                        .get("minutes")
                        .and_then(Value::as_u64)
                        .and_then(|m| u32::try_from(m).ok())
                        .unwrap_or(10);
                    templates::one_time_code(&s("code"), minutes)
                }
                "invitation" => {
                    templates::invitation(&s("organisation"), &s("inviter"), &s("link"))
                }
                other => return Err(format!("unknown email template {other}")),
            }
        }
        .map_err(|e| e.to_string())?;
        self.mailer
            .send(&message.to(to, None))
            .await
            .map_err(|e| e.to_string())?;
        let finished = self
            .store
            .finish_job(&job.id, self.clock.now(), true)
            .await
            .map_err(|e| e.to_string())?;
        Ok(if finished {
            Outcome::Done
        } else {
            Outcome::Skipped
        })
    }

    async fn expire_complement(&self, job: &Job) -> Result<Outcome, String> {
        let now = self.clock.now();
        let Some(c) = self
            .store
            .candidature(&job.object_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            self.store
                .finish_job(&job.id, now, false)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(Outcome::Skipped);
        };
        let due = c.complement_due_at.unwrap_or(job.due_at);
        let Some(new_state) = candidature::expire_complement(c.state, due, now) else {
            // Answered in time, or decided otherwise: nothing to fire.
            self.store
                .finish_job(&job.id, now, false)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(Outcome::Skipped);
        };
        let reason = format!(
            "Rejet automatique, faute de réponse à la demande de complément dans le délai de {} jours ouvrés (échéance : {}).",
            candidature::COMPLEMENT_WORKING_DAYS,
            conforme_domain::calendar::french_deadline(due)
        );
        let notifications = self
            .members_notifications(
                &c.organisation_id,
                &c.id,
                "candidature.rejected",
                &format!("Candidature {} rejetée", c.reference),
                &reason,
            )
            .await?;
        let t = Transition {
            candidature_id: c.id.clone(),
            expected_version: c.version,
            new_state,
            action: "candidature.rejected-automatically",
            deposited_at: None,
            submitted_at: None,
            editor_snapshot: None,
            complement_due_at: Some(None),
            decision: Some(reason.clone()),
            message: Some(NewMessage {
                author_id: None,
                kind: "decision",
                body: reason,
                attachment_ids: vec![],
            }),
            schedule: vec![],
            cancel_jobs: vec![COMPLEMENT_REMINDER],
            notifications,
            fired_job: Some(job.id.clone()),
        };
        match self
            .store
            .apply_transition(&t, now, "system:deadline")
            .await
        {
            Ok(_) => Ok(Outcome::Done),
            Err(StoreError::Stale(_)) => {
                Err("candidature changed meanwhile; will look again".into())
            }
            Err(StoreError::Conflict(_)) => Ok(Outcome::Skipped),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A question of the agency left unanswered for 30 days abandons the candidature
    /// (DSR-HOP-DPI-Va2 §4.4), once: the job is marked done in the abandonment's transaction.
    async fn abandon_unanswered(&self, job: &Job) -> Result<Outcome, String> {
        let now = self.clock.now();
        let due = job
            .payload
            .get("due")
            .and_then(Value::as_str)
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or(job.due_at);
        let skip = || async {
            self.store
                .finish_job(&job.id, now, false)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(Outcome::Skipped)
        };
        let (Some(c), Some(stored)) = (
            self.store
                .candidature(&job.object_id)
                .await
                .map_err(|e| e.to_string())?,
            self.store
                .proof_dossier(&job.object_id)
                .await
                .map_err(|e| e.to_string())?,
        ) else {
            return skip().await;
        };
        if !stored.dossier.question_pending()
            || now <= due
            || c.state == CandidatureState::Abandoned
        {
            // Answered meanwhile (the job is then cancelled), or not yet due.
            return skip().await;
        }
        let reason = format!(
            "Candidature abandonnée : aucune réponse à la sollicitation de l'ANS dans le délai de 30 jours (échéance : {}, DSR §4.4).",
            conforme_domain::calendar::french_deadline(due)
        );
        let mut change = DossierChange::new(
            &stored,
            stored.dossier.clone(),
            None,
            "proofs.abandoned",
            serde_json::json!({ "due": due, "reason": reason }),
        );
        change.candidature_state = Some(CandidatureState::Abandoned);
        change.fired_job = Some(job.id.clone());
        change.message = Some(NewMessage {
            author_id: None,
            kind: "decision",
            body: reason.clone(),
            attachment_ids: vec![],
        });
        change.notifications = self
            .members_notifications(
                &c.organisation_id,
                &c.id,
                "proofs.abandoned",
                &format!("Candidature {} abandonnée", c.reference),
                &reason,
            )
            .await?;
        match self
            .store
            .change_proof_dossier(&change, now, "system:deadline")
            .await
        {
            Ok(_) => Ok(Outcome::Done),
            Err(StoreError::Stale(_)) => {
                Err("proof dossier changed meanwhile; will look again".into())
            }
            Err(StoreError::Conflict(_)) => Ok(Outcome::Skipped),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Non-blocking reservations with nothing deposited to lift them by their deadline
    /// refuse the référencement (DSR-BIO-SGL-Va1 §4.5), once.
    async fn lapse_reservations(&self, job: &Job) -> Result<Outcome, String> {
        let now = self.clock.now();
        let err = |e: StoreError| e.to_string();
        let (Some(c), Some(stored)) = (
            self.store.candidature(&job.object_id).await.map_err(err)?,
            self.store.referencing(&job.object_id).await.map_err(err)?,
        ) else {
            self.store
                .finish_job(&job.id, now, false)
                .await
                .map_err(err)?;
            return Ok(Outcome::Skipped);
        };
        let mut r = stored.referencing.clone();
        if r.lapse_lifting(now).is_none() {
            // Deposited, reviewed, or not yet due.
            self.store
                .finish_job(&job.id, now, false)
                .await
                .map_err(err)?;
            return Ok(Outcome::Skipped);
        }
        let reason = r
            .refused
            .as_ref()
            .map(|(why, _)| why.clone())
            .unwrap_or_default();
        let mut change = ReferencingChange::new(
            &c.id,
            &c.programme_code,
            Some(&stored),
            r,
            "referencing.reservations-lapsed",
            serde_json::json!({ "reason": reason }),
        );
        if let Some(p) = self.store.proof_dossier(&c.id).await.map_err(err)? {
            let mut d = p.dossier.clone();
            d.events
                .push(conforme_domain::proofs::InstructionEvent::Decided(now));
            change.proof_dossier = Some((p.version, d));
        }
        change.fired_job = Some(job.id.clone());
        let body = format!("Référencement refusé : {reason}");
        change.message = Some(NewMessage {
            author_id: None,
            kind: "decision",
            body: body.clone(),
            attachment_ids: vec![],
        });
        change.notifications = self
            .members_notifications(
                &c.organisation_id,
                &c.id,
                "referencing.decision",
                &format!("Référencement refusé — {}", c.reference),
                &body,
            )
            .await?;
        match self
            .store
            .change_referencing(&change, now, "system:deadline")
            .await
        {
            Ok(_) => Ok(Outcome::Done),
            Err(StoreError::Stale(_)) => {
                Err("référencement changed meanwhile; will look again".into())
            }
            Err(StoreError::Conflict(_)) => Ok(Outcome::Skipped),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn remind_complement(&self, job: &Job) -> Result<Outcome, String> {
        let now = self.clock.now();
        let c = self
            .store
            .candidature(&job.object_id)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(c) = c.filter(|c| c.state == CandidatureState::ComplementRequested)
            && let Some(due) = c.complement_due_at
        {
            let body = format!(
                "La réponse à la demande de complément sur la candidature {} est attendue au plus tard le {} (heure de Paris). {}",
                c.reference,
                conforme_domain::calendar::french_deadline(due),
                candidature::complement_rule()
            );
            for n in self
                .members_notifications(
                    &c.organisation_id,
                    &c.id,
                    "candidature.deadline-near",
                    "Échéance proche",
                    &body,
                )
                .await?
            {
                self.store
                    .notify(&n, now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        self.store
            .finish_job(&job.id, now, false)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Outcome::Done)
    }

    async fn members_notifications(
        &self,
        organisation_id: &str,
        candidature_id: &str,
        kind: &'static str,
        title: &str,
        body: &str,
    ) -> Result<Vec<NewNotification>, String> {
        let members = self
            .store
            .organisation_members(organisation_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(members
            .into_iter()
            .map(|u| NewNotification {
                user_id: u.id,
                email: u.email,
                kind,
                title: title.to_string(),
                body: body.to_string(),
                link: Some(format!("/candidatures/{candidature_id}")),
            })
            .collect())
    }
}
