//! `conforme-bench`: the platform's benchmarks, run as a release binary and reported as
//! ratios to a baseline measured in the same run (see `docs/performance.md`).
//!
//! ```text
//! cargo run --release -p conforme-bench -- [import|api|upload|checklist|attestation|registry|all] [--write docs/performance.md]
//! ```
//!
//! - `import`: REM import, the bundled REM (baseline) against one ten times as large;
//! - `api`: requirement-list throughput of the application against a bare axum route;
//! - `upload`: upload throughput of the file store against a raw write of the same bytes, and
//!   the peak memory of an upload (in child processes: the binary re-executes itself with the
//!   hidden first argument `upload-child`);
//! - `checklist`: the required-proof checklist and its progress on a REM of about 2,000
//!   requirements against the bundled one;
//! - `attestation`: generation of the attestation (PDF/A-2b with its QR code) against a
//!   one-line PDF/A-2b page;
//! - `registry`: the public registry page, its search, its API and the verification API
//!   against a bare axum route.
//!
//! The Markdown results go to stdout, progress to stderr; `--write FILE` also replaces the
//! results blocks of `FILE`, leaving the rest of it as it is.
#![forbid(unsafe_code)]

mod attestation;
mod checklist;
mod http;
mod import;
mod registry;
mod report;
mod stats;
mod upload;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// REM import: 1× against 10× (parse, SQLite, PostgreSQL when configured).
    Import,
    /// Requirement-list throughput against a bare axum route.
    Api,
    /// Upload throughput of the file store against a raw write, and its peak memory.
    Upload,
    /// Required-proof checklist and its progress, about 2,000 requirements against 146.
    Checklist,
    /// Attestation PDF/A-2b generation against a one-line PDF/A-2b page.
    Attestation,
    /// Public registry page and API against a bare axum route.
    Registry,
    /// All of them.
    All,
}

#[derive(Debug, Parser)]
#[command(
    name = "conforme-bench",
    about = "Benchmarks of Conforme, reported against a baseline measured in the same run."
)]
struct Cli {
    /// Which benchmark to run.
    #[arg(value_enum, default_value_t = Which::All)]
    which: Which,
    /// Also rewrite the results section of this Markdown file (e.g. docs/performance.md).
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
    /// Import: how many times the bundled REM the large one is.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(2..=100))]
    scale: u16,
    /// Import: timed runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=50))]
    repeat: u16,
    /// Import: admin URL of a PostgreSQL server on this machine, where the benchmark creates
    /// and drops its own databases (e.g. postgres://postgres@127.0.0.1:5432/postgres).
    /// Without it the PostgreSQL import is skipped.
    #[arg(long, env = "CONFORME_BENCH_POSTGRES_URL", hide_env_values = true)]
    postgres_url: Option<String>,
    /// API: measured requests per target and round.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    requests: u32,
    /// API: requests per target before measuring.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    warmup: u32,
    /// API: requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// API: measured rounds, the targets alternating within each.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=20))]
    rounds: u16,
    /// Upload: size of the file whose throughput is measured, in MiB.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(16..=65_536))]
    upload_mib: u64,
    /// Upload: timed runs per side (the median is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=20))]
    upload_runs: u16,
    /// Upload: size of the file of the peak-memory measurement, in MiB (0 skips it).
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u64).range(0..=65_536))]
    peak_mib: u64,
    /// Upload: size of the smaller peak-memory file, showing the peak does not grow with the
    /// size, in MiB (0 skips it).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(0..=65_536))]
    peak_small_mib: u64,
    /// Upload: directory in which the temporary directory is made; its disk is the one
    /// measured (default: the current directory). Everything written is deleted.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Checklist: the large REM has at least this many requirements.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    checklist_requirements: u32,
    /// Checklist: timed calls per measurement (the median is reported).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    checklist_runs: u32,
    /// Attestation: timed generations per document (median and p95 reported).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    attestation_runs: u32,
    /// Registry: deposited candidatures seeded (of which `registry_referenced` referenced).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    registry_candidatures: u32,
    /// Registry: how many of them are referenced.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    registry_referenced: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == upload::CHILD_COMMAND) {
        return upload::child_main(args.into_iter().skip(1).collect()).await;
    }
    let cli = Cli::parse_from(args);
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run with `cargo run --release -p conforme-bench`");
    }
    if let Some(url) = cli.postgres_url.as_deref() {
        // Refused before anything runs rather than after the other measurements.
        import::check_postgres_admin_url(url)?;
    }
    let machine = report::machine_line();
    let mut blocks = Vec::new();

    if matches!(cli.which, Which::Import | Which::All) {
        let result = import::run(&import::Options {
            scale: usize::from(cli.scale),
            repeat: usize::from(cli.repeat),
            postgres_admin_url: cli.postgres_url.clone(),
        })
        .await
        .context("import benchmark")?;
        blocks.push(report::Block {
            key: "import",
            title: "REM import",
            body: format!("{machine}\n\n{}", result.markdown()),
        });
    }

    if matches!(cli.which, Which::Api | Which::All) {
        let result = http::run(http::Options {
            requests: cli.requests as usize,
            warmup: cli.warmup as usize,
            concurrency: usize::from(cli.concurrency),
            rounds: usize::from(cli.rounds),
        })
        .await
        .context("requirement-list benchmark")?;
        blocks.push(report::Block {
            key: "api",
            title: "Requirement-list throughput",
            body: format!("{machine}\n\n{}", result.markdown()),
        });
    }

    if matches!(cli.which, Which::Upload | Which::All) {
        let dir = match &cli.dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().context("current directory")?,
        };
        let mut peak_mib: Vec<u64> = [cli.peak_small_mib, cli.peak_mib]
            .into_iter()
            .filter(|&m| m > 0)
            .collect();
        peak_mib.sort_unstable();
        peak_mib.dedup();
        let result = upload::run(&upload::Options {
            mib: cli.upload_mib,
            runs: usize::from(cli.upload_runs),
            peak_mib,
            dir,
        })
        .await
        .context("upload benchmark")?;
        blocks.push(report::Block {
            key: "upload",
            title: "File upload",
            body: format!("{machine}\n\n{}", result.markdown()),
        });
    }

    if matches!(cli.which, Which::Checklist | Which::All) {
        let result = checklist::run(&checklist::Options {
            requirements: cli.checklist_requirements as usize,
            runs: cli.checklist_runs as usize,
        })
        .context("checklist benchmark")?;
        blocks.push(report::Block {
            key: "checklist",
            title: "Required-proof checklist",
            body: format!("{machine}\n\n{}", result.markdown()),
        });
    }

    if matches!(cli.which, Which::Attestation | Which::All) {
        let body =
            attestation::run(cli.attestation_runs as usize).context("attestation benchmark")?;
        blocks.push(report::Block {
            key: "attestation",
            title: "Attestation PDF generation",
            body: format!("{machine}\n\n{body}"),
        });
    }

    if matches!(cli.which, Which::Registry | Which::All) {
        let body = registry::run(&registry::Options {
            requests: cli.requests as usize,
            warmup: cli.warmup as usize,
            concurrency: usize::from(cli.concurrency),
            rounds: usize::from(cli.rounds),
            candidatures: cli.registry_candidatures as usize,
            referenced: cli.registry_referenced as usize,
        })
        .await
        .context("registry benchmark")?;
        blocks.push(report::Block {
            key: "registry",
            title: "Public registry throughput",
            body: format!("{machine}\n\n{body}"),
        });
    }

    println!("{}", report::render(&blocks));

    if let Some(path) = &cli.write {
        let doc = match std::fs::read_to_string(path) {
            Ok(doc) => doc,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Performance\n".to_string(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        std::fs::write(path, report::rewrite(&doc, &blocks))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}
