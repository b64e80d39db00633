//! Benchmark 4: computing a candidature's required-proof checklist
//! (`conforme_domain::proofs::required_proofs`) and its deposit progress
//! (`Checklist::progress`), on the bundled REM (the baseline) and on one scaled to about 2,000
//! requirements with `conforme_rem::scale`.
//!
//! Both are pure functions over data in memory; each call is timed alone, many times, and the
//! median reported. The chosen profiles are every profile of the HOP-DPI-Va2 programme, and
//! each wave-1 status is measured, since it decides which rule applies to the « Vague 1 »
//! requirements.

use crate::stats::{self, Samples};
use anyhow::{Context, ensure};
use conforme::bundled;
use conforme_domain::programme::Programme;
use conforme_domain::proofs::{Checklist, ProofKey, Wave1Status, required_proofs};
use conforme_domain::rem::Rem;
use conforme_rem::{import_xlsx, scale};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

const PROGRAMME_FILE: &str = "programmes/HOP-DPI-Va2/programme.toml";
const STATUSES: [Wave1Status; 3] = [
    Wave1Status::NotReferenced,
    Wave1Status::ReferencedWithIns,
    Wave1Status::ReferencedWithoutIns,
];

pub struct Options {
    /// The large REM has at least this many requirements.
    pub requirements: usize,
    /// Timed calls per measurement (after a tenth as many untimed ones).
    pub runs: usize,
}

/// The measurements of one REM for one wave-1 status.
struct Side {
    items: usize,
    required: usize,
    deposited: usize,
    checklist: Samples,
    progress: Samples,
}

struct Row {
    status: Wave1Status,
    base: Side,
    scaled: Side,
}

pub struct Report {
    runs: usize,
    times: usize,
    base_requirements: usize,
    scaled_requirements: usize,
    base_lines: usize,
    scaled_lines: usize,
    profiles: Vec<String>,
    rows: Vec<Row>,
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    black_box(out);
    elapsed
}

/// Every second required proof of `checklist`, in REM order.
fn half_deposited(checklist: &Checklist) -> Vec<ProofKey> {
    checklist
        .required()
        .step_by(2)
        .map(|item| item.key.clone())
        .collect()
}

fn measure(
    rems: [&Rem; 2],
    profiles: &[String],
    status: Wave1Status,
    runs: usize,
) -> anyhow::Result<[Side; 2]> {
    let warmup = runs.div_ceil(10);
    let checklists = rems.map(|rem| required_proofs(rem, profiles, status, &[]));
    let deposits = [
        half_deposited(&checklists[0]),
        half_deposited(&checklists[1]),
    ];
    let mut checklist_runs = [Vec::with_capacity(runs), Vec::with_capacity(runs)];
    let mut progress_runs = [Vec::with_capacity(runs), Vec::with_capacity(runs)];
    // The two REMs alternate, so that a drift of the machine affects both alike.
    for run in 0..warmup + runs {
        for i in 0..2 {
            let c = time(|| {
                required_proofs(
                    black_box(rems[i]),
                    black_box(profiles),
                    black_box(status),
                    &[],
                )
            });
            let p = time(|| black_box(&checklists[i]).progress(black_box(&deposits[i])));
            if run >= warmup {
                checklist_runs[i].push(c);
                progress_runs[i].push(p);
            }
        }
    }
    let [c0, c1] = checklist_runs;
    let [p0, p1] = progress_runs;
    let mut sides = Vec::with_capacity(2);
    for (i, (c, p)) in [(c0, p0), (c1, p1)].into_iter().enumerate() {
        let progress = checklists[i].progress(&deposits[i]);
        let required = checklists[i].required().count();
        ensure!(
            progress.overall.required == required
                && progress.overall.deposited == deposits[i].len(),
            "progress counts {} of {} instead of {} of {required}",
            progress.overall.deposited,
            progress.overall.required,
            deposits[i].len()
        );
        sides.push(Side {
            items: checklists[i].items.len(),
            required,
            deposited: deposits[i].len(),
            checklist: Samples::new(c).context("no checklist run")?,
            progress: Samples::new(p).context("no progress run")?,
        });
    }
    let [base, scaled]: [Side; 2] = sides
        .try_into()
        .map_err(|_| anyhow::anyhow!("two sides expected"))?;
    Ok([base, scaled])
}

pub fn run(options: &Options) -> anyhow::Result<Report> {
    let bundled_rem = crate::import::bundled_rem()?;
    let base = import_xlsx(bundled_rem.bytes, bundled_rem.file)
        .context("reading the bundled REM")?
        .rem;
    ensure!(!base.requirements.is_empty(), "the bundled REM is empty");
    let times = options
        .requirements
        .div_ceil(base.requirements.len())
        .max(2);
    let scaled = scale(&base, times);

    let programme = bundled::PROGRAMMES
        .iter()
        .find(|p| p.file == PROGRAMME_FILE)
        .with_context(|| format!("{PROGRAMME_FILE} absent from the bundled programmes"))?;
    let programme = Programme::from_toml(programme.file, programme.toml)
        .with_context(|| format!("reading {PROGRAMME_FILE}"))?;
    let profiles: Vec<String> = programme
        .def
        .profiles
        .iter()
        .map(|p| p.name.clone())
        .collect();

    let mut rows = Vec::with_capacity(STATUSES.len());
    for status in STATUSES {
        eprintln!(
            "checklist: {status:?}, 1× and {times}× REM, {} runs each",
            options.runs
        );
        let [b, s] = measure([&base, &scaled], &profiles, status, options.runs)?;
        ensure!(
            s.items == times * b.items && s.required == times * b.required,
            "the {times}× checklist is not {times} times the 1× one"
        );
        rows.push(Row {
            status,
            base: b,
            scaled: s,
        });
    }
    Ok(Report {
        runs: options.runs,
        times,
        base_requirements: base.requirements.len(),
        scaled_requirements: scaled.requirements.len(),
        base_lines: base.proof_line_count(),
        scaled_lines: scaled.proof_line_count(),
        profiles,
        rows,
    })
}

/// Requirements per millisecond.
fn per_ms(count: usize, d: Duration) -> String {
    let rate = count as f64 / (d.as_secs_f64() * 1e3);
    if rate.is_finite() {
        format!("{rate:.0}")
    } else {
        "–".to_string()
    }
}

fn ratio(scaled: &Samples, base: &Samples) -> String {
    stats::ratio(scaled.median().as_secs_f64(), base.median().as_secs_f64())
}

impl Report {
    /// The Markdown block for the results section.
    pub fn markdown(&self) -> String {
        let k = self.times;
        let mut out = String::new();
        let profiles = self
            .profiles
            .iter()
            .map(|p| format!("« {p} »"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "REMs: **1×** = the bundled REM, {} requirements, {} proof lines; **{k}×** = \
             `conforme_rem::scale(rem, {k})`, {} requirements, {} proof lines. Profiles chosen: \
             every profile of HOP-DPI-Va2 ({profiles}); no proof added by the agency. \
             `progress` is given every second required proof as deposited. Median of {} timed \
             calls after {} untimed ones, the two REMs alternating. A time ratio of {k}× means \
             linear cost.\n",
            stats::thousands(self.base_requirements as u64),
            stats::thousands(self.base_lines as u64),
            stats::thousands(self.scaled_requirements as u64),
            stats::thousands(self.scaled_lines as u64),
            stats::thousands(self.runs as u64),
            stats::thousands(self.runs.div_ceil(10) as u64),
        );
        let _ = writeln!(
            out,
            "| Wave-1 status | Required proofs 1× / {k}× | `required_proofs` 1× | requirements/ms | `required_proofs` {k}× | requirements/ms | Time ratio {k}× / 1× | `progress` 1× | `progress` {k}× | Time ratio {k}× / 1× |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for row in &self.rows {
            let (b, s) = (&row.base, &row.scaled);
            let _ = writeln!(
                out,
                "| {} | {} of {} / {} of {} | {} | {} | {} | {} | **{}** | {} | {} | **{}** |",
                row.status.label(),
                stats::thousands(b.required as u64),
                stats::thousands(b.items as u64),
                stats::thousands(s.required as u64),
                stats::thousands(s.items as u64),
                stats::duration(b.checklist.median()),
                per_ms(self.base_requirements, b.checklist.median()),
                stats::duration(s.checklist.median()),
                per_ms(self.scaled_requirements, s.checklist.median()),
                ratio(&s.checklist, &b.checklist),
                stats::duration(b.progress.median()),
                stats::duration(s.progress.median()),
                ratio(&s.progress, &b.progress),
            );
        }
        let _ = writeln!(out);
        for row in &self.rows {
            let (b, s) = (&row.base, &row.scaled);
            let _ = writeln!(
                out,
                "- {}: p99 of `required_proofs` {} (1×) and {} ({k}×); `progress` over {} and {} \
                 deposits, p99 {} and {}.",
                row.status.label(),
                stats::duration(b.checklist.percentile(99.0)),
                stats::duration(s.checklist.percentile(99.0)),
                stats::thousands(b.deposited as u64),
                stats::thousands(s.deposited as u64),
                stats::duration(b.progress.percentile(99.0)),
                stats::duration(s.progress.percentile(99.0)),
            );
        }
        out
    }
}
