//! The instruction clocks of a proof dossier, as a pure state machine over the dated events of
//! one instruction: complete chapters received, questions of the agency, answers of the
//! editor, the decision.
//!
//! Rules (DSR-HOP-DPI-Va2 §4.4, « conformément à la Charte de référencement »; the same in
//! DSR-BIO-SGL-Va1 §4.4):
//!
//! - « L'instruction s'effectue suivant une file d'attente déterminée par l'ordre de réception
//!   d'un chapitre complet de dépôt de preuves de conformité » (BIO: « du dossier complet »).
//!   The file enters the queue when its first complete chapter is received; its queue key is
//!   that instant and files are served by increasing key (ties are the caller's to break, e.g.
//!   by candidature number). Later chapters join the file already queued.
//! - « Le décompte du temps d'instruction des preuves de conformité par l'ANS est suspendu
//!   jusqu'à la réponse de l'Editeur »: a question stops the clock until its answer (or the
//!   decision, if the agency decides without one).
//! - « La place dans la file d'attente est garantie dans le cas de réponse de l'Editeur dans
//!   les 24h après notification de la demande de complément par l'ANS »: 24 hours to the
//!   second ([`deadline_after_hours`]), met at or before the instant. A later answer loses the
//!   place: the file goes back in the queue with the answer's instant as its new key. HOP says
//!   only that the place is no longer guaranteed; BIO that « sa place dans la file d'attente
//!   n'est plus garantie et l'instruction de son dossier est dépriorisée ». Both are modelled
//!   the same way (the file re-enters the queue at the time of the answer, behind every file
//!   received before); [`LateAnswerEffect`] only changes the wording. It is a parameter of
//!   [`InstructionRules`], chosen per programme by [`InstructionRules::for_programme`].
//! - « La demande de référencement est considérée comme abandonnée en cas d'absence de réponse
//!   de l'Editeur dans les 30 jours après la sollicitation de l'ANS »: a delay stated in days
//!   from an event, so it follows the French counting convention of the whole platform
//!   ([`deadline_after_days`]): the day of the question is not counted and the delay ends at
//!   24:00 Paris on the 30th day after it, whatever the DST changes in between. It is not
//!   720 hours: the DSR states this delay in days where it states the other one in hours.
//! - BIO only: « Le délai estimatif d'instruction […] est, à titre purement indicatif, de
//!   6 semaines, à compter du moment où l'Editeur est notifié de la réception de son dossier
//!   complet »; « Le temps de traitement du dossier sera suivi et horodaté ». The platform
//!   compares the instruction time actually spent (stops excluded) with 6 weeks of 7 × 24
//!   hours; it is indicative and never a refusal. « Passé les 5 jours sans réponse de
//!   l'Editeur, un retard important sur l'instruction du dossier est à prévoir » is shown as
//!   a warning date.
//!
//! A file decided (or abandoned) accepts no further event: after blocking reservations, a new
//! deposit of the proofs at fault starts a new instruction with its own clock.

use super::Deadline;
use crate::calendar::{
    deadline_after_days, deadline_after_hours, describe_duration_fr, french_deadline,
    french_instant, to_paris,
};
use crate::programme::{Corridor, Programme};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// One dated event of an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", content = "at", rename_all = "kebab-case")]
pub enum InstructionEvent {
    /// A complete chapter of proofs was received (BIO: the complete dossier).
    ChapterComplete(DateTime<Utc>),
    /// The agency asked the editor something (« sollicitation », « demande de complément »).
    QuestionAsked(DateTime<Utc>),
    /// The editor answered the pending question.
    Answered(DateTime<Utc>),
    /// The instruction ended with a decision.
    Decided(DateTime<Utc>),
}

impl InstructionEvent {
    pub fn at(self) -> DateTime<Utc> {
        match self {
            InstructionEvent::ChapterComplete(at)
            | InstructionEvent::QuestionAsked(at)
            | InstructionEvent::Answered(at)
            | InstructionEvent::Decided(at) => at,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InstructionEvent::ChapterComplete(_) => "réception d'un chapitre complet",
            InstructionEvent::QuestionAsked(_) => "sollicitation de l'ANS",
            InstructionEvent::Answered(_) => "réponse de l'éditeur",
            InstructionEvent::Decided(_) => "décision",
        }
    }
}

/// What an answer later than the place-keeping delay does to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LateAnswerEffect {
    /// HOP-DPI-Va2: the place is no longer guaranteed; the file re-enters the queue at the
    /// time of the answer.
    MovesToAnswerTime,
    /// BIO-SGL-Va1: « l'instruction de son dossier est dépriorisée »; same effect on the key.
    Deprioritised,
}

/// The parameters of the instruction clocks of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionRules {
    /// Hours to answer and keep the place in the queue (24).
    pub keep_place_hours: u32,
    /// Days without answer after which the candidature is abandoned (30).
    pub abandonment_days: u32,
    pub late_answer: LateAnswerEffect,
    /// Indicative instruction time, in weeks (BIO: 6).
    pub indicative_weeks: Option<u32>,
    /// Days without answer after which a significant delay is to be expected (BIO: 5).
    pub delay_warning_days: Option<u32>,
    /// The text these rules come from, cited in every explanation.
    pub source: String,
    /// The file enters the queue with the complete dossier (BIO: « ordre de réception du
    /// dossier complet »), not with its first complete chapter.
    #[serde(default)]
    pub queue_on_complete_dossier: bool,
}

impl InstructionRules {
    /// DSR-HOP-DPI-Va2 §4.4.
    pub fn hop_dpi_va2() -> Self {
        Self {
            keep_place_hours: 24,
            abandonment_days: 30,
            late_answer: LateAnswerEffect::MovesToAnswerTime,
            indicative_weeks: None,
            delay_warning_days: None,
            source: "DSR-HOP-DPI-Va2 §4.4".to_string(),
            queue_on_complete_dossier: false,
        }
    }

    /// DSR-BIO-SGL-Va1 §4.4.
    pub fn bio_sgl_va1() -> Self {
        Self {
            keep_place_hours: 24,
            abandonment_days: 30,
            late_answer: LateAnswerEffect::Deprioritised,
            indicative_weeks: Some(6),
            delay_warning_days: Some(5),
            source: "DSR-BIO-SGL-Va1 §4.4".to_string(),
            queue_on_complete_dossier: true,
        }
    }

    /// The rules of a programme. Until programme definitions carry these parameters, the
    /// biology corridor follows DSR-BIO-SGL-Va1 and every other programme DSR-HOP-DPI-Va2
    /// (whose rules are those of the référencement charter), citing the programme's source.
    pub fn for_programme(programme: &Programme) -> Self {
        let biology = programme.def.corridor == Corridor::Biologie;
        let (mut rules, reference) = if biology {
            (Self::bio_sgl_va1(), "BIO-SGL-Va1")
        } else {
            (Self::hop_dpi_va2(), "HOP-DPI-Va2")
        };
        if programme.code.as_str() != reference {
            rules.source = format!("{} : règles du {}", programme.code, rules.source);
        }
        rules
    }
}

/// One stop of the clock: a question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stop {
    pub asked: DateTime<Utc>,
    pub answered: Option<DateTime<Utc>>,
    /// The decision ended the stop without an answer.
    pub closed_by_decision: Option<DateTime<Utc>>,
    /// Answer at or before this instant keeps the place in the queue.
    pub keep_place_due: DateTime<Utc>,
    /// No answer by this instant abandons the candidature.
    pub abandonment_due: DateTime<Utc>,
}

impl Stop {
    /// When the clock restarted, if it did.
    pub fn ended(&self) -> Option<DateTime<Utc>> {
        self.answered.or(self.closed_by_decision)
    }

    /// Whether the answer kept the place (`None` while unanswered).
    pub fn place_kept(&self) -> Option<bool> {
        self.answered.map(|a| a <= self.keep_place_due)
    }
}

/// A file sent back in the queue by a late answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueMove {
    pub asked: DateTime<Utc>,
    pub answered: DateTime<Utc>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub rule: String,
}

/// Where the file stands in the queue at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum QueuePlace {
    /// No complete chapter received yet.
    NotQueued {
        rule: String,
    },
    /// In the queue, ordered by `key`.
    Queued {
        key: DateTime<Utc>,
        rule: String,
    },
    /// A question is pending; the place (`key`) is kept if the answer comes by `until.due`.
    PlaceKept {
        key: DateTime<Utc>,
        until: Deadline,
    },
    /// A question is pending past the place-keeping delay: the file will re-enter the queue
    /// at the time of the answer.
    PlaceLost {
        previous_key: DateTime<Utc>,
        rule: String,
    },
    /// No answer within the abandonment delay.
    Abandoned {
        since: Deadline,
    },
    Decided {
        at: DateTime<Utc>,
    },
}

/// The instruction time spent compared with the indicative time (BIO: 6 weeks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicativeComparison {
    pub indicative: Duration,
    pub spent: Duration,
    /// `indicative − spent`, zero once exceeded.
    pub remaining: Duration,
    pub exceeded: bool,
    /// When the indicative time would be reached if the instruction runs without a new stop
    /// (only while it runs and before it is reached).
    pub expected_end: Option<Deadline>,
    /// The comparison in French.
    pub message: String,
}

/// Why an event cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(
        "événement antérieur au précédent : {label} le {}, après un événement du {}",
        stamp(*.at),
        stamp(*.previous)
    )]
    OutOfOrder {
        label: &'static str,
        at: DateTime<Utc>,
        previous: DateTime<Utc>,
    },
    #[error(
        "{label} impossible : aucun chapitre complet n'a encore été reçu, l'instruction n'a pas commencé"
    )]
    NotInInstruction { label: &'static str },
    #[error(
        "une sollicitation de l'ANS du {} attend encore sa réponse : une seule sollicitation à la fois",
        stamp(*.asked)
    )]
    QuestionPending { asked: DateTime<Utc> },
    #[error("réponse impossible : aucune sollicitation de l'ANS n'est en attente")]
    NoPendingQuestion,
    #[error("{label} impossible : la décision a été rendue le {}", stamp(*.decided))]
    AlreadyDecided {
        label: &'static str,
        decided: DateTime<Utc>,
    },
    #[error(
        "{label} impossible : la demande de référencement est abandonnée, faute de réponse à la sollicitation de l'ANS du {} dans le délai qui expirait le {}",
        stamp(*.asked),
        french_deadline(*.due)
    )]
    Abandoned {
        label: &'static str,
        asked: DateTime<Utc>,
        due: DateTime<Utc>,
    },
}

/// An instant to the second, Paris time: "31/03/2026 à 23:30:00".
fn stamp(instant: DateTime<Utc>) -> String {
    to_paris(instant).format("%d/%m/%Y à %H:%M:%S").to_string()
}

/// A deadline as French readers expect it, with the seconds when there are any.
fn deadline_text(due: DateTime<Utc>) -> String {
    let seconds = to_paris(due).second();
    if seconds == 0 {
        format!("{} (heure de Paris)", french_deadline(due))
    } else {
        format!("{} et {seconds} s (heure de Paris)", french_deadline(due))
    }
}

/// The clocks of one instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstructionClock {
    rules: InstructionRules,
    entered: Option<DateTime<Utc>>,
    chapters: u32,
    key: Option<DateTime<Utc>>,
    moves: Vec<QueueMove>,
    stops: Vec<Stop>,
    decided: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

impl InstructionClock {
    /// A clock with no event yet.
    pub fn new(rules: InstructionRules) -> Self {
        Self {
            rules,
            entered: None,
            chapters: 0,
            key: None,
            moves: Vec::new(),
            stops: Vec::new(),
            decided: None,
            last: None,
        }
    }

    /// The clock after `events`, which must be in chronological order (equal instants
    /// allowed, applied in the given order).
    pub fn from_events(
        rules: InstructionRules,
        events: &[InstructionEvent],
    ) -> Result<Self, ClockError> {
        let mut clock = Self::new(rules);
        for &event in events {
            clock.apply(event)?;
        }
        Ok(clock)
    }

    pub fn rules(&self) -> &InstructionRules {
        &self.rules
    }

    /// Records one event, or says why it cannot happen; the clock is unchanged on error.
    pub fn apply(&mut self, event: InstructionEvent) -> Result<(), ClockError> {
        let at = event.at();
        let label = event.label();
        if let Some(previous) = self.last
            && at < previous
        {
            return Err(ClockError::OutOfOrder {
                label,
                at,
                previous,
            });
        }
        if let Some(decided) = self.decided {
            return Err(ClockError::AlreadyDecided { label, decided });
        }
        if let Some(stop) = self.pending()
            && at > stop.abandonment_due
        {
            return Err(ClockError::Abandoned {
                label,
                asked: stop.asked,
                due: stop.abandonment_due,
            });
        }
        match event {
            InstructionEvent::ChapterComplete(_) => {
                self.entered.get_or_insert(at);
                self.key.get_or_insert(at);
                self.chapters += 1;
            }
            InstructionEvent::QuestionAsked(_) => {
                if self.entered.is_none() {
                    return Err(ClockError::NotInInstruction { label });
                }
                if let Some(stop) = self.pending() {
                    return Err(ClockError::QuestionPending { asked: stop.asked });
                }
                self.stops.push(Stop {
                    asked: at,
                    answered: None,
                    closed_by_decision: None,
                    keep_place_due: deadline_after_hours(at, self.rules.keep_place_hours),
                    abandonment_due: deadline_after_days(at, self.rules.abandonment_days),
                });
            }
            InstructionEvent::Answered(_) => {
                let Some(stop) = self.pending_mut() else {
                    return Err(ClockError::NoPendingQuestion);
                };
                stop.answered = Some(at);
                let (asked, keep_place_due) = (stop.asked, stop.keep_place_due);
                if at > keep_place_due
                    && let Some(from) = self.key
                {
                    let rule = self.late_answer_rule(asked, keep_place_due, at);
                    self.moves.push(QueueMove {
                        asked,
                        answered: at,
                        from,
                        to: at,
                        rule,
                    });
                    self.key = Some(at);
                }
            }
            InstructionEvent::Decided(_) => {
                if self.entered.is_none() {
                    return Err(ClockError::NotInInstruction { label });
                }
                if let Some(stop) = self.pending_mut() {
                    stop.closed_by_decision = Some(at);
                }
                self.decided = Some(at);
            }
        }
        self.last = Some(at);
        Ok(())
    }

    fn pending(&self) -> Option<&Stop> {
        self.stops.last().filter(|s| s.ended().is_none())
    }

    fn pending_mut(&mut self) -> Option<&mut Stop> {
        self.stops.last_mut().filter(|s| s.ended().is_none())
    }

    fn late_answer_rule(
        &self,
        asked: DateTime<Utc>,
        keep_place_due: DateTime<Utc>,
        answered: DateTime<Utc>,
    ) -> String {
        let effect = match self.rules.late_answer {
            LateAnswerEffect::MovesToAnswerTime => {
                "sa place dans la file d'attente n'est plus garantie : le dossier y reprend rang à la date de sa réponse"
            }
            LateAnswerEffect::Deprioritised => {
                "sa place dans la file d'attente n'est plus garantie et l'instruction du dossier est dépriorisée : il y reprend rang à la date de sa réponse"
            }
        };
        format!(
            "Réponse du {} à la sollicitation de l'ANS du {}, au-delà du délai de {} heures qui expirait le {} : {effect} ({}).",
            stamp(answered),
            stamp(asked),
            self.rules.keep_place_hours,
            deadline_text(keep_place_due),
            self.rules.source
        )
    }

    /// When the first complete chapter was received (the start of the instruction).
    pub fn started(&self) -> Option<DateTime<Utc>> {
        self.entered
    }

    pub fn decided(&self) -> Option<DateTime<Utc>> {
        self.decided
    }

    /// Complete chapters received.
    pub fn chapters_received(&self) -> u32 {
        self.chapters
    }

    pub fn stops(&self) -> &[Stop] {
        &self.stops
    }

    /// Every move back in the queue, in order.
    pub fn moves(&self) -> &[QueueMove] {
        &self.moves
    }

    /// Whether the instruction clock is stopped: a question awaits its answer.
    pub fn is_stopped(&self) -> bool {
        self.decided.is_none() && self.pending().is_some()
    }

    /// Whether the candidature is abandoned at `now`: a question still unanswered after its
    /// abandonment deadline.
    pub fn is_abandoned(&self, now: DateTime<Utc>) -> bool {
        self.decided.is_none() && self.pending().is_some_and(|s| now > s.abandonment_due)
    }

    /// The key the file is ordered by in the queue at `now`: `None` when it is not waiting
    /// in the queue (no complete chapter, place lost to a pending question, abandoned,
    /// decided).
    pub fn queue_key(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.place(now) {
            QueuePlace::Queued { key, .. } | QueuePlace::PlaceKept { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The deadline to keep the place in the queue, while a question is pending.
    pub fn keep_place_deadline(&self) -> Option<Deadline> {
        let stop = self.pending().filter(|_| self.decided.is_none())?;
        let consequence = match self.rules.late_answer {
            LateAnswerEffect::MovesToAnswerTime => {
                "au-delà, la place n'est plus garantie et le dossier reprend rang à la date de la réponse"
            }
            LateAnswerEffect::Deprioritised => {
                "au-delà, la place n'est plus garantie et l'instruction du dossier est dépriorisée"
            }
        };
        Some(Deadline {
            due: stop.keep_place_due,
            rule: format!(
                "La place dans la file d'attente est garantie si l'éditeur répond dans les {} heures après la sollicitation de l'ANS du {}, soit au plus tard le {} ; {consequence} ({}).",
                self.rules.keep_place_hours,
                stamp(stop.asked),
                deadline_text(stop.keep_place_due),
                self.rules.source
            ),
        })
    }

    /// The abandonment deadline of the pending question.
    pub fn abandonment_deadline(&self) -> Option<Deadline> {
        let stop = self.pending().filter(|_| self.decided.is_none())?;
        Some(self.abandonment(stop))
    }

    fn abandonment(&self, stop: &Stop) -> Deadline {
        Deadline {
            due: stop.abandonment_due,
            rule: format!(
                "Sans réponse de l'éditeur dans les {} jours après la sollicitation de l'ANS du {}, la demande de référencement est considérée comme abandonnée : réponse attendue au plus tard le {} (le jour de la sollicitation n'est pas compté) ({}).",
                self.rules.abandonment_days,
                french_instant(stop.asked),
                deadline_text(stop.abandonment_due),
                self.rules.source
            ),
        }
    }

    /// BIO: the date after which, without answer, a significant delay is to be expected.
    pub fn delay_warning(&self) -> Option<Deadline> {
        let days = self.rules.delay_warning_days?;
        let stop = self.pending().filter(|_| self.decided.is_none())?;
        let due = deadline_after_days(stop.asked, days);
        Some(Deadline {
            due,
            rule: format!(
                "Passé les {days} jours sans réponse de l'éditeur à la sollicitation du {}, soit après le {}, un retard important sur l'instruction du dossier est à prévoir ({}).",
                french_instant(stop.asked),
                deadline_text(due),
                self.rules.source
            ),
        })
    }

    /// Where the file stands in the queue at `now`.
    pub fn place(&self, now: DateTime<Utc>) -> QueuePlace {
        if let Some(at) = self.decided {
            return QueuePlace::Decided { at };
        }
        let (Some(entered), Some(key)) = (self.entered, self.key) else {
            return QueuePlace::NotQueued {
                rule: format!(
                    "Le dossier entre dans la file d'attente à la réception de son premier chapitre complet de preuves ; l'ordre de la file est celui de cette réception ({}).",
                    self.rules.source
                ),
            };
        };
        if let Some(stop) = self.pending() {
            if now > stop.abandonment_due {
                return QueuePlace::Abandoned {
                    since: self.abandonment(stop),
                };
            }
            if now <= stop.keep_place_due
                && let Some(until) = self.keep_place_deadline()
            {
                return QueuePlace::PlaceKept { key, until };
            }
            return QueuePlace::PlaceLost {
                previous_key: key,
                rule: format!(
                    "Sans réponse dans les {} heures après la sollicitation de l'ANS du {} (délai expiré le {}), la place dans la file d'attente n'est plus garantie : le dossier y reprendra rang à la date de sa réponse ({}).",
                    self.rules.keep_place_hours,
                    stamp(stop.asked),
                    deadline_text(stop.keep_place_due),
                    self.rules.source
                ),
            };
        }
        let rule = match self.moves.last() {
            None => format!(
                "Rang dans la file d'attente : ordre de réception du premier chapitre complet, le {} ({}).",
                stamp(entered),
                self.rules.source
            ),
            Some(m) => format!(
                "Rang dans la file d'attente : depuis la réponse tardive du {}, le dossier est classé à cette date. {}",
                stamp(m.answered),
                m.rule
            ),
        };
        QueuePlace::Queued { key, rule }
    }

    /// Wall time from the first complete chapter to the decision (or `now`).
    pub fn wall_time(&self, now: DateTime<Utc>) -> Duration {
        let Some(start) = self.entered else {
            return Duration::zero();
        };
        let end = self.decided.unwrap_or(now);
        (end - start).max(Duration::zero())
    }

    /// The instruction time actually spent by the agency, from the first complete chapter to
    /// the decision (or `now`), excluding the stops while a question awaited its answer.
    pub fn instruction_time(&self, now: DateTime<Utc>) -> Duration {
        let Some(start) = self.entered else {
            return Duration::zero();
        };
        let end = self.decided.unwrap_or(now);
        if end <= start {
            return Duration::zero();
        }
        let stopped = self
            .stops
            .iter()
            .map(|s| {
                let from = s.asked.max(start);
                let to = s.ended().unwrap_or(end).min(end);
                (to - from).max(Duration::zero())
            })
            .fold(Duration::zero(), |acc, d| acc + d);
        (end - start - stopped).max(Duration::zero())
    }

    /// BIO: the instruction time spent compared with the indicative time.
    pub fn indicative(&self, now: DateTime<Utc>) -> Option<IndicativeComparison> {
        let weeks = self.rules.indicative_weeks?;
        let start = self.entered?;
        let indicative = Duration::weeks(i64::from(weeks));
        let spent = self.instruction_time(now);
        let exceeded = spent > indicative;
        let remaining = (indicative - spent).max(Duration::zero());
        let running = self.decided.is_none() && self.pending().is_none();
        let basis = format!(
            "délai indicatif d'instruction de {weeks} semaines à compter de la réception du dossier complet le {}, hors suspensions pendant les sollicitations de l'ANS ({})",
            stamp(start),
            self.rules.source
        );
        let expected_end = (running && !exceeded).then(|| {
            let due = now + remaining;
            Deadline {
                due,
                rule: format!(
                    "Sans nouvelle suspension, le {basis} serait atteint le {}.",
                    deadline_text(due)
                ),
            }
        });
        let spent_text = describe_duration_fr(spent);
        let message = if exceeded {
            format!(
                "Temps d'instruction de l'ANS : {spent_text}, au-delà du {basis} de {} ; ce délai est purement indicatif.",
                describe_duration_fr(spent - indicative)
            )
        } else {
            format!(
                "Temps d'instruction de l'ANS : {spent_text} sur un {basis} ; il reste {} ; ce délai est purement indicatif.",
                describe_duration_fr(remaining)
            )
        };
        Some(IndicativeComparison {
            indicative,
            spent,
            remaining,
            exceeded,
            expected_end,
            message,
        })
    }
}
