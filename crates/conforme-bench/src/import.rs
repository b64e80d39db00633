//! Benchmark 1: importing a REM, the bundled one (the baseline) and a synthetic one `k` times
//! as large, both written by the same exporter.
//!
//! Three measurements per REM, each repeated and reported as the median: parsing the
//! workbook only (`import_xlsx`), the full import into a fresh SQLite store (`import_rem`:
//! parsing, then one transaction inserting every requirement and proof line and the journal
//! entry), and the same into a fresh PostgreSQL database when an admin URL is given. Opening
//! the store, migrations and loading the bundled programmes (`prepare`) are outside the timing.

use crate::stats::{self, Samples};
use anyhow::{Context, bail, ensure};
use conforme::bundled::{self, BundledRem};
use conforme_domain::rem::Rem;
use conforme_rem::{export_xlsx, import_xlsx, scale};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

const PROGRAMME: &str = "HOP-DPI-Va2";
const BASE_LABEL: &str = "prepublication-2023";
const ACTOR: &str = "bench:import";

pub struct Options {
    /// How many times the bundled REM the large one is.
    pub scale: usize,
    /// Timed runs per measurement (after one untimed warm-up run).
    pub repeat: usize,
    /// `postgres://USER@127.0.0.1:5432/postgres`-style URL of a server on this machine where
    /// the benchmark may create (and then drops) its own databases.
    pub postgres_admin_url: Option<String>,
}

/// One REM under test.
struct Case {
    times: usize,
    label: String,
    file_name: String,
    requirements: usize,
    proof_lines: usize,
    workbook: Vec<u8>,
}

/// Where a full import goes.
enum Target<'a> {
    Sqlite,
    Postgres { admin_url: &'a str },
}

/// A measurement made for both REMs, or why it was not made.
enum Outcome {
    Measured { base: Samples, scaled: Samples },
    Skipped(String),
}

struct Row {
    what: &'static str,
    outcome: Outcome,
}

pub struct Report {
    repeat: usize,
    base: Case,
    scaled: Case,
    original_file: &'static str,
    original_size: usize,
    original_parse: Samples,
    rows: Vec<Row>,
}

pub(crate) fn bundled_rem() -> anyhow::Result<&'static BundledRem> {
    bundled::REMS
        .iter()
        .find(|r| r.programme == PROGRAMME && r.label == BASE_LABEL)
        .with_context(|| format!("REM {PROGRAMME} {BASE_LABEL} absent from the bundled REMs"))
}

fn case(rem: &Rem, times: usize) -> anyhow::Result<Case> {
    let workbook = export_xlsx(rem).with_context(|| format!("exporting the {times}× REM"))?;
    let file_name = format!("synthetic-{times}x.xlsx");
    let reread = import_xlsx(&workbook, &file_name)
        .with_context(|| format!("reading back the exported {times}× REM"))?;
    ensure!(
        reread.rem == *rem,
        "the exported {times}× REM does not read back identical"
    );
    Ok(Case {
        times,
        label: format!("bench-{times}x"),
        file_name,
        requirements: rem.requirements.len(),
        proof_lines: rem.proof_line_count(),
        workbook,
    })
}

/// Times one parse of the workbook.
fn parse_once(bytes: &[u8], file_name: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let imported = import_xlsx(black_box(bytes), file_name)?;
    let elapsed = start.elapsed();
    black_box(&imported);
    Ok(elapsed)
}

/// One warm-up run, then `repeat` timed runs.
fn parse_samples(bytes: &[u8], file_name: &str, repeat: usize) -> anyhow::Result<Samples> {
    parse_once(bytes, file_name)?;
    let runs = (0..repeat)
        .map(|_| parse_once(bytes, file_name))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Samples::new(runs).context("no parse run")
}

/// Opens a fresh store at `url`, prepares it like the server does, and times `import_rem`.
async fn import_into(url: &str, case: &Case) -> anyhow::Result<Duration> {
    let store = conforme::open_store(url).await?;
    let result = async {
        let now = chrono::Utc::now();
        conforme::prepare(&store, now).await?;
        let start = Instant::now();
        let outcome = conforme::import_rem(
            &store,
            PROGRAMME,
            &case.label,
            &case.file_name,
            &case.workbook,
            now,
            ACTOR,
        )
        .await?;
        let elapsed = start.elapsed();
        ensure!(
            usize::try_from(outcome.version.requirement_count).ok() == Some(case.requirements),
            "{} requirements stored instead of {}",
            outcome.version.requirement_count,
            case.requirements
        );
        Ok(elapsed)
    }
    .await;
    store.close().await;
    result
}

async fn full_import_once(case: &Case, target: &Target<'_>) -> anyhow::Result<Duration> {
    match target {
        Target::Sqlite => {
            let dir = tempfile::tempdir().context("temporary directory")?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            import_into(&url, case).await
        }
        Target::Postgres { admin_url } => {
            let name = format!("conforme_bench_{}", uuid::Uuid::new_v4().simple());
            let url = database_url(admin_url, &name)?;
            admin_execute(admin_url, &format!("CREATE DATABASE {name}")).await?;
            let result = import_into(&url, case).await;
            let dropped = admin_execute(
                admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await
            .with_context(|| format!("dropping the benchmark database {name}"));
            let elapsed = result?;
            dropped?;
            Ok(elapsed)
        }
    }
}

/// One warm-up run per REM, then `repeat` timed runs, the two REMs alternating so that a
/// drift of the machine affects both alike.
async fn full_import_samples(
    base: &Case,
    scaled: &Case,
    target: &Target<'_>,
    repeat: usize,
) -> anyhow::Result<Outcome> {
    let mut base_runs = Vec::with_capacity(repeat);
    let mut scaled_runs = Vec::with_capacity(repeat);
    for run in 0..=repeat {
        let b = full_import_once(base, target).await?;
        let s = full_import_once(scaled, target).await?;
        if run > 0 {
            base_runs.push(b);
            scaled_runs.push(s);
        }
    }
    Ok(Outcome::Measured {
        base: Samples::new(base_runs).context("no import run")?,
        scaled: Samples::new(scaled_runs).context("no import run")?,
    })
}

async fn admin_execute(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("connecting to {}", conforme_store::redact(admin_url)))?;
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .with_context(|| format!("executing « {sql} »"))?;
    conn.close().await?;
    Ok(())
}

/// Checks that `admin_url` is a PostgreSQL URL on this machine: the benchmark creates and
/// drops databases there, which it must never do on a shared server by mistake.
pub fn check_postgres_admin_url(admin_url: &str) -> anyhow::Result<()> {
    let Some(rest) = admin_url
        .strip_prefix("postgres://")
        .or_else(|| admin_url.strip_prefix("postgresql://"))
    else {
        bail!("CONFORME_BENCH_POSTGRES_URL must start with postgres:// or postgresql://");
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    ensure!(
        loopback,
        "CONFORME_BENCH_POSTGRES_URL must point to this machine (127.0.0.1, ::1 or localhost), not « {host} »"
    );
    Ok(())
}

/// The admin URL with its database replaced by `database` (query parameters kept).
fn database_url(admin_url: &str, database: &str) -> anyhow::Result<String> {
    let (without_query, query) = match admin_url.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (admin_url, None),
    };
    let scheme_end = without_query
        .find("://")
        .context("database URL without scheme")?
        + 3;
    let base = match without_query[scheme_end..].find('/') {
        Some(slash) => &without_query[..scheme_end + slash],
        None => without_query,
    };
    Ok(match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    })
}

pub async fn run(options: &Options) -> anyhow::Result<Report> {
    ensure!(options.scale >= 2, "the scale factor must be at least 2");
    let bundled = bundled_rem()?;
    eprintln!("import: building the 1× and {}× workbooks", options.scale);
    let original = import_xlsx(bundled.bytes, bundled.file)
        .context("reading the bundled REM")?
        .rem;
    let base = case(&original, 1)?;
    let scaled = case(&scale(&original, options.scale), options.scale)?;
    ensure!(
        scaled.requirements == options.scale * base.requirements,
        "the {}× REM has {} requirements instead of {}",
        options.scale,
        scaled.requirements,
        options.scale * base.requirements
    );

    eprintln!("import: parse only");
    let original_parse = parse_samples(bundled.bytes, bundled.file, options.repeat)?;
    let mut rows = vec![Row {
        what: "Parse only (`import_xlsx`)",
        outcome: Outcome::Measured {
            base: parse_samples(&base.workbook, &base.file_name, options.repeat)?,
            scaled: parse_samples(&scaled.workbook, &scaled.file_name, options.repeat)?,
        },
    }];

    eprintln!("import: full import into SQLite");
    rows.push(Row {
        what: "Full import, SQLite (`import_rem`)",
        outcome: full_import_samples(&base, &scaled, &Target::Sqlite, options.repeat).await?,
    });

    let postgres = match options.postgres_admin_url.as_deref() {
        None => Outcome::Skipped("skipped: `CONFORME_BENCH_POSTGRES_URL` not set".to_string()),
        Some(admin_url) => {
            check_postgres_admin_url(admin_url)?;
            eprintln!("import: full import into PostgreSQL");
            full_import_samples(
                &base,
                &scaled,
                &Target::Postgres { admin_url },
                options.repeat,
            )
            .await?
        }
    };
    rows.push(Row {
        what: "Full import, PostgreSQL (`import_rem`)",
        outcome: postgres,
    });

    Ok(Report {
        repeat: options.repeat,
        base,
        scaled,
        original_file: bundled.file,
        original_size: bundled.bytes.len(),
        original_parse,
        rows,
    })
}

fn per_second(count: usize, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64()
}

fn spread(s: &Samples) -> String {
    format!(
        "{} ({}–{})",
        stats::duration(s.median()),
        stats::duration(s.min()),
        stats::duration(s.max())
    )
}

impl Report {
    /// The Markdown block for the results section.
    pub fn markdown(&self) -> String {
        let (b, s) = (&self.base, &self.scaled);
        let k = s.times;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Workbooks: **1×** = the bundled REM re-exported, {} requirements, {} proof lines, {}; \
             **{k}×** = `conforme_rem::scale(rem, {k})` exported the same way, {} requirements, \
             {} proof lines, {}. Median of {} timed run{} after one warm-up run (min–max in \
             parentheses). A time ratio of {k}× means linear cost.\n",
            stats::thousands(b.requirements as u64),
            stats::thousands(b.proof_lines as u64),
            stats::bytes(b.workbook.len()),
            stats::thousands(s.requirements as u64),
            stats::thousands(s.proof_lines as u64),
            stats::bytes(s.workbook.len()),
            self.repeat,
            if self.repeat == 1 { "" } else { "s" },
        );
        let _ = writeln!(
            out,
            "| Measurement | 1× REM | 1× requirements/s | {k}× REM | {k}× requirements/s | Time ratio {k}× / 1× |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|");
        for row in &self.rows {
            match &row.outcome {
                Outcome::Measured { base, scaled } => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | **{}** |",
                        row.what,
                        spread(base),
                        stats::rate(per_second(b.requirements, base.median())),
                        spread(scaled),
                        stats::rate(per_second(s.requirements, scaled.median())),
                        stats::ratio(scaled.median().as_secs_f64(), base.median().as_secs_f64()),
                    );
                }
                Outcome::Skipped(why) => {
                    let _ = writeln!(out, "| {} | {why} | | | | |", row.what);
                }
            }
        }
        let _ = writeln!(out);
        let parse = self.rows.first().and_then(|r| match &r.outcome {
            Outcome::Measured { base, scaled } => Some((base.median(), scaled.median())),
            Outcome::Skipped(_) => None,
        });
        if let Some((parse_base, parse_scaled)) = parse {
            for row in self.rows.iter().skip(1) {
                if let Outcome::Measured { base, scaled } = &row.outcome {
                    let _ = writeln!(
                        out,
                        "- {}: storing alone (full import − parse, medians) takes {} for 1× and {} for {k}× ({}).",
                        row.what,
                        stats::duration(base.median().saturating_sub(parse_base)),
                        stats::duration(scaled.median().saturating_sub(parse_scaled)),
                        stats::ratio(
                            scaled.median().saturating_sub(parse_scaled).as_secs_f64(),
                            base.median().saturating_sub(parse_base).as_secs_f64()
                        ),
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "- The bundled workbook as shipped (`{}`, {}) parses in {} (median of {}).",
            self.original_file,
            stats::bytes(self.original_size),
            stats::duration(self.original_parse.median()),
            self.original_parse.len(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_replaces_the_database() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "b1").ok(),
            Some("postgres://postgres@127.0.0.1:5432/b1".to_string())
        );
        assert_eq!(
            database_url("postgres://u:p@localhost/postgres?sslmode=disable", "b1").ok(),
            Some("postgres://u:p@localhost/b1?sslmode=disable".to_string())
        );
        assert_eq!(
            database_url("postgres://u@localhost:5432", "b1").ok(),
            Some("postgres://u@localhost:5432/b1".to_string())
        );
    }

    #[test]
    fn only_local_servers_are_accepted() {
        assert!(check_postgres_admin_url("postgres://postgres@127.0.0.1:5432/postgres").is_ok());
        assert!(check_postgres_admin_url("postgresql://u:p@localhost/postgres").is_ok());
        assert!(check_postgres_admin_url("postgres://u@[::1]:5432/postgres").is_ok());
        assert!(check_postgres_admin_url("postgres://u@db.example.org/postgres").is_err());
        assert!(check_postgres_admin_url("postgres://u@10.0.0.5:5432/postgres").is_err());
        assert!(check_postgres_admin_url("mysql://u@127.0.0.1/x").is_err());
    }
}
