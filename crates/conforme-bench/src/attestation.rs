//! Benchmark 5: generating a référencement attestation as PDF/A-2b
//! (`conforme_pdf::attestation`: layout, QR code, font subsetting, serialisation), against a
//! baseline measured in the same run: a one-page PDF/A-2b carrying one line of text
//! (`conforme_pdf::baseline_page`), which pays the same fixed costs (sRGB output intent, XMP
//! metadata, an embedded font subset) and nothing of the attestation's own content.
//!
//! Each call is timed alone; the two alternate, so that a drift of the machine affects both
//! alike. Median and 95th percentile are reported, and the ratio of the medians.

use crate::stats::{self, Samples};
use anyhow::{Context, ensure};
use chrono::{NaiveDate, TimeZone, Utc};
use conforme_pdf::{AttestationDoc, attestation, baseline_page};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

const BASELINE_TEXT: &str = "Attestation de référencement";

fn sample() -> anyhow::Result<AttestationDoc> {
    Ok(AttestationDoc {
        number: conforme_domain::referencing::number::issue("HOP-DPI-Va2", 2026, 42),
        programme_code: "HOP-DPI-Va2".into(),
        programme_title: "Dossier patient informatisé, vague 2".into(),
        editor_name: "Hôpital Logiciels SAS".into(),
        editor_siret: "73282932000074".into(),
        solution: "DPI Santé+".into(),
        technical_version: "4.2.1".into(),
        profiles: vec![
            "DPI".into(),
            "Imagerie".into(),
            "Circuit du médicament".into(),
        ],
        referenced_on: NaiveDate::from_ymd_opt(2026, 12, 15).context("date")?,
        verification_url: format!(
            "https://conforme.example.fr/verification/{}",
            conforme_domain::referencing::number::issue("HOP-DPI-Va2", 2026, 42)
        ),
        issued_at: Utc
            .with_ymd_and_hms(2026, 12, 15, 10, 0, 0)
            .single()
            .context("time")?,
    })
}

fn time(
    f: impl FnOnce() -> Result<Vec<u8>, conforme_pdf::PdfError>,
) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let pdf = f()?;
    let elapsed = start.elapsed();
    Ok((elapsed, black_box(pdf).len()))
}

/// Times `runs` attestations and `runs` baseline pages (after a tenth as many untimed of
/// each) and returns the Markdown block of the results.
pub fn run(runs: usize) -> anyhow::Result<String> {
    ensure!(runs > 0, "at least one run");
    let doc = sample()?;
    let warmup = runs.div_ceil(10);
    let mut base_runs = Vec::with_capacity(runs);
    let mut doc_runs = Vec::with_capacity(runs);
    let (mut base_size, mut doc_size) = (0, 0);
    eprintln!("attestation: {runs} attestations and {runs} baseline pages");
    for run in 0..warmup + runs {
        let (b, b_size) = time(|| baseline_page(black_box(BASELINE_TEXT)))?;
        let (d, d_size) = time(|| attestation(black_box(&doc)))?;
        if run >= warmup {
            base_runs.push(b);
            doc_runs.push(d);
        }
        (base_size, doc_size) = (b_size, d_size);
    }
    let base = Samples::new(base_runs).context("no baseline run")?;
    let docs = Samples::new(doc_runs).context("no attestation run")?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "Baseline: a one-page PDF/A-2b with one line of text (`conforme_pdf::baseline_page`); \
         measured: a one-page attestation with {} profiles and a QR code of {} characters \
         (`conforme_pdf::attestation`). {} timed calls of each after {} untimed ones, \
         alternating.\n",
        doc.profiles.len(),
        doc.verification_url.len(),
        stats::thousands(runs as u64),
        stats::thousands(warmup as u64),
    );
    let _ = writeln!(out, "| Document | Size | Median | p95 | Ratio of medians |");
    let _ = writeln!(out, "|---|--:|--:|--:|--:|");
    let _ = writeln!(
        out,
        "| Baseline page | {} | {} | {} | 1× |",
        stats::bytes(base_size),
        stats::duration(base.median()),
        stats::duration(base.percentile(95.0)),
    );
    let _ = writeln!(
        out,
        "| Attestation | {} | {} | {} | **{}** |",
        stats::bytes(doc_size),
        stats::duration(docs.median()),
        stats::duration(docs.percentile(95.0)),
        stats::ratio(docs.median().as_secs_f64(), base.median().as_secs_f64()),
    );
    Ok(out)
}
