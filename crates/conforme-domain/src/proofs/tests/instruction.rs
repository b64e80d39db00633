use super::{BIO, HOP, PDE, load, paris, utc};
use crate::proofs::instruction::*;
use InstructionEvent::{Answered, ChapterComplete, Decided, QuestionAsked};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

fn hop() -> InstructionRules {
    InstructionRules::hop_dpi_va2()
}

fn clock(rules: InstructionRules, events: &[InstructionEvent]) -> InstructionClock {
    match InstructionClock::from_events(rules, events) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn an_answer_24_hours_later_to_the_second_keeps_the_place() {
    let chapter = paris(2026, 3, 2, 9, 0, 0);
    // Tuesday 10 March 2026, 23:30 Paris (CET).
    let asked = paris(2026, 3, 10, 23, 30, 0);
    assert_eq!(asked, utc("2026-03-10T22:30:00Z"));
    let due = utc("2026-03-11T22:30:00Z");

    let pending = clock(hop(), &[ChapterComplete(chapter), QuestionAsked(asked)]);
    assert!(pending.is_stopped());
    let keep = pending.keep_place_deadline().expect("pending question");
    assert_eq!(keep.due, due);
    assert_eq!(
        keep.rule,
        "La place dans la file d'attente est garantie si l'éditeur répond dans les 24 heures après la sollicitation de l'ANS du 10/03/2026 à 23:30:00, soit au plus tard le mercredi 11 mars 2026 à\u{a0}23\u{a0}h\u{a0}30 (heure de Paris) ; au-delà, la place n'est plus garantie et le dossier reprend rang à la date de la réponse (DSR-HOP-DPI-Va2 §4.4)."
    );
    assert!(matches!(pending.place(due), QueuePlace::PlaceKept { key, .. } if key == chapter));
    assert_eq!(pending.queue_key(due), Some(chapter));
    let lost = due + Duration::seconds(1);
    assert!(
        matches!(pending.place(lost), QueuePlace::PlaceLost { previous_key, .. } if previous_key == chapter)
    );
    assert_eq!(pending.queue_key(lost), None);

    // Answered 24 hours later to the second: the place is kept.
    let on_time = clock(
        hop(),
        &[
            ChapterComplete(chapter),
            QuestionAsked(asked),
            Answered(due),
        ],
    );
    assert!(!on_time.is_stopped());
    assert_eq!(on_time.queue_key(due), Some(chapter));
    assert!(on_time.moves().is_empty());
    assert_eq!(on_time.stops()[0].place_kept(), Some(true));

    // One second late: the file goes back in the queue at the time of the answer.
    let late = clock(
        hop(),
        &[
            ChapterComplete(chapter),
            QuestionAsked(asked),
            Answered(lost),
        ],
    );
    assert_eq!(late.queue_key(lost), Some(lost));
    assert_eq!(late.stops()[0].place_kept(), Some(false));
    let moved = &late.moves()[0];
    assert_eq!((moved.from, moved.to), (chapter, lost));
    assert_eq!(
        moved.rule,
        "Réponse du 11/03/2026 à 23:30:01 à la sollicitation de l'ANS du 10/03/2026 à 23:30:00, au-delà du délai de 24 heures qui expirait le mercredi 11 mars 2026 à\u{a0}23\u{a0}h\u{a0}30 (heure de Paris) : sa place dans la file d'attente n'est plus garantie : le dossier y reprend rang à la date de sa réponse (DSR-HOP-DPI-Va2 §4.4)."
    );
    match late.place(lost) {
        QueuePlace::Queued { key, rule } => {
            assert_eq!(key, lost);
            assert!(rule.starts_with(
                "Rang dans la file d'attente : depuis la réponse tardive du 11/03/2026 à 23:30:01"
            ));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn twenty_four_hours_are_a_plain_duration_across_dst() {
    // Saturday 28 March 2026, 23:30 CET; the clocks go forward that night.
    let asked = paris(2026, 3, 28, 23, 30, 0);
    let c = clock(hop(), &[ChapterComplete(asked), QuestionAsked(asked)]);
    let keep = c.keep_place_deadline().expect("pending");
    // 24 hours later it is 00:30 CEST on Monday 30 March on the wall clock.
    assert_eq!(keep.due, paris(2026, 3, 30, 0, 30, 0));
    assert!(
        keep.rule
            .contains("lundi 30 mars 2026 à\u{a0}0\u{a0}h\u{a0}30"),
        "{}",
        keep.rule
    );
}

#[test]
fn thirty_days_without_answer_abandon_across_dst() {
    let chapter = paris(2026, 3, 2, 9, 0, 0);
    // Tuesday 10 March 2026, 10:00 CET; summer time starts on 29 March.
    let asked = paris(2026, 3, 10, 10, 0, 0);
    let c = clock(hop(), &[ChapterComplete(chapter), QuestionAsked(asked)]);
    let deadline = c.abandonment_deadline().expect("pending");
    // The day of the question is not counted: 24:00 Paris (CEST) on Thursday 9 April.
    assert_eq!(deadline.due, utc("2026-04-09T22:00:00Z"));
    assert_ne!(deadline.due, asked + Duration::hours(30 * 24));
    assert_eq!(
        deadline.rule,
        "Sans réponse de l'éditeur dans les 30 jours après la sollicitation de l'ANS du mardi 10 mars 2026 à\u{a0}10\u{a0}h\u{a0}00, la demande de référencement est considérée comme abandonnée : réponse attendue au plus tard le jeudi 9 avril 2026 à\u{a0}24\u{a0}h\u{a0}00 (heure de Paris) (le jour de la sollicitation n'est pas compté) (DSR-HOP-DPI-Va2 §4.4)."
    );
    assert!(!c.is_abandoned(deadline.due));
    assert!(c.is_abandoned(deadline.due + Duration::seconds(1)));
    assert!(matches!(
        c.place(deadline.due + Duration::seconds(1)),
        QueuePlace::Abandoned { since } if since.due == deadline.due
    ));

    // An answer at the deadline is taken (the place, though, was lost long before).
    let answered = clock(
        hop(),
        &[
            ChapterComplete(chapter),
            QuestionAsked(asked),
            Answered(deadline.due),
        ],
    );
    assert_eq!(answered.queue_key(deadline.due), Some(deadline.due));
    // One second later it cannot be: the candidature is abandoned.
    let mut c2 = c.clone();
    let err = c2
        .apply(Answered(deadline.due + Duration::seconds(1)))
        .expect_err("abandoned");
    assert_eq!(c2, c, "unchanged on error");
    assert_eq!(
        err.to_string(),
        "réponse de l'éditeur impossible : la demande de référencement est abandonnée, faute de réponse à la sollicitation de l'ANS du 10/03/2026 à 10:00:00 dans le délai qui expirait le jeudi 9 avril 2026 à\u{a0}24\u{a0}h\u{a0}00"
    );
}

#[test]
fn instruction_time_excludes_the_stops() {
    let t0 = paris(2026, 1, 5, 9, 0, 0);
    let day = Duration::days(1);
    let events = [
        ChapterComplete(t0),
        ChapterComplete(t0 + day),
        QuestionAsked(t0 + day * 2),
        Answered(t0 + day * 2 + Duration::hours(6)),
        QuestionAsked(t0 + day * 7),
        Answered(t0 + day * 9),
        Decided(t0 + day * 15),
    ];
    let c = clock(hop(), &events);
    let after = t0 + day * 30;
    assert_eq!(c.wall_time(after), day * 15);
    assert_eq!(
        c.instruction_time(after),
        day * 15 - Duration::hours(6 + 48)
    );
    assert_eq!(c.chapters_received(), 2);
    assert_eq!(c.started(), Some(t0));
    assert_eq!(c.decided(), Some(t0 + day * 15));
    assert_eq!(c.moves().len(), 1, "only the 48-hour answer was late");
    assert_eq!(c.place(after), QueuePlace::Decided { at: t0 + day * 15 });
    assert!(c.keep_place_deadline().is_none() && c.abandonment_deadline().is_none());

    // Midway, while the second question is pending, the clock is stopped.
    let midway = clock(hop(), &events[..5]);
    assert!(midway.is_stopped());
    let at = t0 + day * 8;
    assert_eq!(midway.instruction_time(at), day * 7 - Duration::hours(6));
    assert_eq!(
        midway.instruction_time(at + day),
        midway.instruction_time(at)
    );
    // Before the first chapter nothing runs.
    let empty = InstructionClock::new(hop());
    assert_eq!(empty.instruction_time(at), Duration::zero());
    assert!(matches!(empty.place(at), QueuePlace::NotQueued { .. }));
}

#[test]
fn a_decision_ends_a_pending_stop() {
    let t0 = paris(2026, 6, 1, 9, 0, 0);
    let day = Duration::days(1);
    let c = clock(
        hop(),
        &[
            ChapterComplete(t0),
            QuestionAsked(t0 + day),
            Decided(t0 + day * 3),
        ],
    );
    assert!(!c.is_stopped());
    assert!(!c.is_abandoned(t0 + day * 60));
    assert_eq!(c.stops()[0].closed_by_decision, Some(t0 + day * 3));
    assert_eq!(c.stops()[0].place_kept(), None);
    assert_eq!(c.instruction_time(t0 + day * 60), day);
}

#[test]
fn impossible_events_are_refused() {
    let t0 = paris(2026, 2, 2, 9, 0, 0);
    let h = Duration::hours(1);
    let err = |events: &[InstructionEvent]| {
        InstructionClock::from_events(hop(), events).expect_err("refused")
    };
    assert_eq!(
        err(&[QuestionAsked(t0)]),
        ClockError::NotInInstruction {
            label: "sollicitation de l'ANS"
        }
    );
    assert!(matches!(
        err(&[Decided(t0)]),
        ClockError::NotInInstruction { .. }
    ));
    assert_eq!(
        err(&[ChapterComplete(t0), Answered(t0 + h)]),
        ClockError::NoPendingQuestion
    );
    assert_eq!(
        err(&[
            ChapterComplete(t0),
            QuestionAsked(t0 + h),
            QuestionAsked(t0 + h * 2)
        ]),
        ClockError::QuestionPending { asked: t0 + h }
    );
    let e = err(&[ChapterComplete(t0 + h), ChapterComplete(t0)]);
    assert!(matches!(e, ClockError::OutOfOrder { .. }));
    assert_eq!(
        e.to_string(),
        "événement antérieur au précédent : réception d'un chapitre complet le 02/02/2026 à 09:00:00, après un événement du 02/02/2026 à 10:00:00"
    );
    let e = err(&[
        ChapterComplete(t0),
        Decided(t0 + h),
        ChapterComplete(t0 + h * 2),
    ]);
    assert_eq!(
        e.to_string(),
        "réception d'un chapitre complet impossible : la décision a été rendue le 02/02/2026 à 10:00:00"
    );
    // Equal instants are in order.
    let c = clock(
        hop(),
        &[ChapterComplete(t0), QuestionAsked(t0), Answered(t0)],
    );
    assert_eq!(c.instruction_time(t0 + h), h);
}

#[test]
fn bio_deprioritises_and_compares_with_six_weeks() {
    let rules = InstructionRules::bio_sgl_va1();
    let t0 = paris(2022, 3, 1, 9, 0, 0);
    let day = Duration::days(1);
    let asked = paris(2022, 3, 10, 9, 0, 0);
    let pending = clock(rules.clone(), &[ChapterComplete(t0), QuestionAsked(asked)]);
    let warning = pending.delay_warning().expect("BIO warns");
    assert_eq!(warning.due, paris(2022, 3, 16, 0, 0, 0));
    assert!(
        warning
            .rule
            .contains("mardi 15 mars 2022 à\u{a0}24\u{a0}h\u{a0}00"),
        "{}",
        warning.rule
    );
    assert!(
        pending
            .keep_place_deadline()
            .expect("pending")
            .rule
            .contains("l'instruction du dossier est dépriorisée")
    );

    let c = clock(
        rules,
        &[
            ChapterComplete(t0),
            QuestionAsked(asked),
            Answered(asked + day * 2),
        ],
    );
    assert!(c.moves()[0].rule.contains("dépriorisée"));
    assert!(c.moves()[0].rule.ends_with("(DSR-BIO-SGL-Va1 §4.4)."));

    let now = t0 + day * 43;
    let cmp = c.indicative(now).expect("BIO has an indicative time");
    assert_eq!(cmp.indicative, Duration::weeks(6));
    assert_eq!(cmp.spent, day * 41);
    assert_eq!(cmp.remaining, day);
    assert!(!cmp.exceeded);
    let end = cmp.expected_end.expect("running");
    assert_eq!(end.due, now + day);
    assert!(cmp.message.starts_with("Temps d'instruction de l'ANS : 41 jours sur un délai indicatif d'instruction de 6 semaines"), "{}", cmp.message);
    assert!(cmp.message.contains("il reste 1 jour"));

    let cmp = c.indicative(t0 + day * 50).expect("indicative");
    assert!(cmp.exceeded);
    assert_eq!(cmp.remaining, Duration::zero());
    assert!(cmp.expected_end.is_none());
    assert!(cmp.message.contains("au-delà du délai indicatif"));
    assert!(cmp.message.contains("de 6 jours"));

    assert!(
        clock(hop(), &[ChapterComplete(t0)])
            .indicative(now)
            .is_none()
    );
    assert!(
        clock(hop(), &[ChapterComplete(t0)])
            .delay_warning()
            .is_none()
    );
}

#[test]
fn rules_per_programme() {
    let hop_rules = InstructionRules::for_programme(&load("HOP", HOP));
    assert_eq!(hop_rules, InstructionRules::hop_dpi_va2());
    let bio_rules = InstructionRules::for_programme(&load("BIO", BIO));
    assert_eq!(bio_rules, InstructionRules::bio_sgl_va1());
    assert_eq!(bio_rules.indicative_weeks, Some(6));
    let pde_rules = InstructionRules::for_programme(&load("PDE", PDE));
    assert_eq!(pde_rules.late_answer, LateAnswerEffect::MovesToAnswerTime);
    assert_eq!(
        pde_rules.source,
        "MS2-DUI-PDE-Va1-SF : règles du DSR-HOP-DPI-Va2 §4.4"
    );
}

// --- Properties ---

#[derive(Debug, Clone, Copy)]
enum Step {
    Chapter,
    Question,
    Answer,
}

fn arb_steps() -> impl Strategy<Value = Vec<(Step, i64)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec![Step::Chapter, Step::Question, Step::Answer]),
            // Up to 10 days between events, to the second.
            0_i64..864_000,
        ),
        0..20,
    )
}

/// A valid event sequence from arbitrary steps: questions only when none is pending, answers
/// only to a pending question, and always well within 30 days (a question pending for more
/// than 15 days is answered at the next step; gaps are under 10 days).
fn events(start: DateTime<Utc>, steps: &[(Step, i64)], decide_after: i64) -> Vec<InstructionEvent> {
    let mut at = start;
    let mut out = vec![ChapterComplete(at)];
    let mut pending: Option<DateTime<Utc>> = None;
    for &(step, gap) in steps {
        at += Duration::seconds(gap);
        match (step, pending) {
            (_, Some(asked)) if at - asked > Duration::days(15) => {
                pending = None;
                out.push(Answered(at));
            }
            (Step::Chapter, _) => out.push(ChapterComplete(at)),
            (Step::Question, None) => {
                pending = Some(at);
                out.push(QuestionAsked(at));
            }
            (Step::Answer, Some(_)) => {
                pending = None;
                out.push(Answered(at));
            }
            _ => {}
        }
    }
    if pending.is_some() {
        // Answer before deciding, so that nothing is abandoned.
        at += Duration::seconds(decide_after.min(86_400));
        out.push(Answered(at));
    }
    out.push(Decided(at + Duration::seconds(decide_after)));
    out
}

proptest! {
    #[test]
    fn instruction_time_never_exceeds_wall_time(
        start_s in 1_600_000_000_i64..1_900_000_000,
        steps in arb_steps(),
        decide_after in 0_i64..864_000,
        probe in 0_i64..10_000_000,
        bio in any::<bool>(),
    ) {
        let start = DateTime::from_timestamp(start_s, 0).expect("in range");
        let rules = if bio { InstructionRules::bio_sgl_va1() } else { InstructionRules::hop_dpi_va2() };
        let all = events(start, &steps, decide_after);
        let decided = all.last().map(|e| e.at()).expect("decided");
        let full = InstructionClock::from_events(rules.clone(), &all).expect("valid sequence");
        let late_answers = full.stops().iter().filter(|s| s.place_kept() == Some(false)).count();
        prop_assert_eq!(full.moves().len(), late_answers);
        let now = start + Duration::seconds(probe);
        prop_assert!(full.instruction_time(now) <= full.wall_time(now));
        prop_assert_eq!(full.wall_time(now), decided - start);
        prop_assert!(full.instruction_time(now) >= Duration::zero());
        // Every prefix too, probed at any instant.
        for n in 1..all.len() {
            let c = InstructionClock::from_events(rules.clone(), &all[..n]).expect("valid prefix");
            let t = c.instruction_time(now);
            prop_assert!(t >= Duration::zero());
            prop_assert!(t <= c.wall_time(now));
            prop_assert!(c.wall_time(now) <= (now - start).max(Duration::zero()));
            if let Some(key) = c.queue_key(now) {
                prop_assert!(key >= start);
                prop_assert!(key <= all[n - 1].at());
            }
        }
    }
}
