//! The weekly technical committee (DSR-HOP-DPI-Va2 §4.5: « un comité technique
//! hebdomadaire »): at most one session per programme and calendar week, on a working day;
//! decisions are recorded from the session's day until it is closed.

use crate::calendar::{is_working_day, paris_date, public_holiday_name};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A session as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub programme_code: String,
    pub held_on: NaiveDate,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Whether a session of the programme may be scheduled on `date`, given its other sessions.
pub fn check_schedule(
    others: &[Session],
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if date < paris_date(now) {
        return Err("La date de séance est passée.".into());
    }
    if let Some(name) = public_holiday_name(date) {
        return Err(format!(
            "Le {} est un jour férié ({name}) : choisissez un jour ouvré.",
            date.format("%d/%m/%Y")
        ));
    }
    if !is_working_day(date) {
        return Err(
            "Le comité siège un jour ouvré : choisissez un jour du lundi au vendredi.".into(),
        );
    }
    if let Some(same) = others
        .iter()
        .find(|s| s.held_on.iso_week() == date.iso_week())
    {
        return Err(format!(
            "Le comité est hebdomadaire : une séance est déjà prévue cette semaine, le {}.",
            same.held_on.format("%d/%m/%Y")
        ));
    }
    Ok(())
}

/// Whether a decision may be recorded in `session` at `now`.
pub fn check_sitting(session: &Session, now: DateTime<Utc>) -> Result<(), String> {
    if session.closed_at.is_some() {
        return Err(
            "Cette séance est close : les décisions s'inscrivent à la séance suivante.".into(),
        );
    }
    if paris_date(now) < session.held_on {
        return Err(format!(
            "La séance du {} n'a pas encore eu lieu.",
            session.held_on.format("%d/%m/%Y")
        ));
    }
    Ok(())
}

/// The French label of a session.
pub fn label(held_on: NaiveDate) -> String {
    format!("Comité du {}", held_on.format("%d/%m/%Y"))
}
