//! Benchmark: the public registry's throughput (the HTML page `/registre/{code}` and the API
//! `/api/v1/registry/{code}`, plus a search and a number verification), against a bare axum
//! route served by the same process, runtime and client (the machinery of [`crate::http`]).
//!
//! The registry is seeded in a fresh SQLite store: `candidatures` deposited candidatures of
//! HOP-DPI-Va2, each of its own organisation, of which `referenced` carry a référencement
//! (every fifth of those suspended, every seventh withdrawn). Each page and API answer reads
//! every deposited candidature and référencement of the programme and decides each line
//! through the domain, so the work grows with the registry.

use crate::http::{REQUEST_TIMEOUT, bare, batch, loopback_listener};
use crate::stats::{self, Samples};
use anyhow::{Context, ensure};
use axum::Router;
use axum::routing::get;
use chrono::{Duration as Days, Utc};
use conforme_domain::account::Role;
use conforme_domain::candidature::{AdministrativeDossier, CandidatureState, EditorIdentity};
use conforme_domain::referencing::number::issue;
use conforme_domain::referencing::{Referencing, Standing};
use conforme_store::{NewUser, ReferencingChange, Store, Transition};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

const CODE: &str = "HOP-DPI-Va2";

pub struct Options {
    /// Measured requests per target and round.
    pub requests: usize,
    /// Requests per target before measuring.
    pub warmup: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Measured batches per target, the targets alternating.
    pub rounds: usize,
    /// Deposited candidatures in the registry.
    pub candidatures: usize,
    /// How many of them are referenced.
    pub referenced: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            requests: 2000,
            warmup: 200,
            concurrency: 8,
            rounds: 3,
            candidatures: 40,
            referenced: 10,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    Bare,
    App,
}

struct Target {
    name: &'static str,
    server: Server,
    path_and_query: String,
    body_size: usize,
    rates: Vec<f64>,
    latencies: Vec<Duration>,
    errors: usize,
}

/// A valid SIRET (Luhn) made of `n`.
fn siret(n: usize) -> String {
    let body = format!("{:013}", 1_000_000_000_000usize + n);
    for d in 0..10u32 {
        let candidate = format!("{body}{d}");
        let sum: u32 = candidate
            .chars()
            .rev()
            .enumerate()
            .filter_map(|(i, c)| c.to_digit(10).map(|v| (i, v)))
            .map(|(i, v)| {
                if i % 2 == 1 {
                    let w = v * 2;
                    if w > 9 { w - 9 } else { w }
                } else {
                    v
                }
            })
            .sum();
        if sum.is_multiple_of(10) {
            return candidate;
        }
    }
    body
}

fn identity(company: &str, siret: &str) -> EditorIdentity {
    EditorIdentity {
        company_name: company.into(),
        siret: siret.into(),
        legal_form: "SAS".into(),
        head_function: "Président".into(),
        head_office_address: "1 rue de la Paix, 75002 Paris".into(),
        legal_rep_name: "Marie Curie".into(),
        legal_rep_title: "Présidente".into(),
        legal_rep_email: "marie@example.fr".into(),
        legal_rep_phone: "01 23 45 67 89".into(),
        contact_name: "Louis Pasteur".into(),
        contact_email: "louis@example.fr".into(),
        contact_phone: "01 98 76 54 32".into(),
        cnda_nie: "NIE-42".into(),
    }
}

/// Seeds the registry; returns the number of the first référencement.
async fn seed(store: &Store, options: &Options) -> anyhow::Result<String> {
    let now = Utc::now();
    for i in 0..options.candidatures {
        let email = format!("editeur{i}@example.fr");
        let company = format!("Éditeur {i:02} Santé");
        let user = store
            .create_user(
                &NewUser {
                    email: &email,
                    display_name: &company,
                    role: Role::Editor,
                    organisation_id: None,
                    legal_representative: true,
                    password_hash: None,
                    email_verified: true,
                },
                now,
                "bench",
            )
            .await?;
        let siret = siret(i);
        let id = identity(&company, &siret);
        let org = store
            .create_organisation(&id, &siret, &user.id, true, now, "bench")
            .await?;
        let dossier = AdministrativeDossier {
            commercial_name: format!("Solution {i:02}"),
            technical_version: format!("v{}.{i}", 1 + i % 4),
            wave1_referenced: Some(false),
            profiles: vec!["Général".into()],
            ..Default::default()
        };
        let c = store
            .create_candidature(&org.id, CODE, &dossier, &user.id, now, "bench")
            .await?;
        let deposited = now - Days::days(200 - i as i64);
        store
            .apply_transition(
                &Transition {
                    candidature_id: c.id.clone(),
                    expected_version: c.version,
                    new_state: CandidatureState::Validated,
                    action: "candidature.validated",
                    deposited_at: Some(deposited),
                    submitted_at: Some(deposited),
                    editor_snapshot: Some(id),
                    complement_due_at: None,
                    decision: Some("validé".into()),
                    message: None,
                    schedule: vec![],
                    cancel_jobs: vec![],
                    notifications: vec![],
                    fired_job: None,
                },
                now,
                "bench",
            )
            .await?;
        if i < options.referenced {
            let sequence = u32::try_from(i + 1).context("sequence")?;
            let mut r = Referencing::default();
            r.refer(issue(CODE, 2026, sequence), "bench", now)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let standing = match sequence {
                s if s.is_multiple_of(7) => Some(Standing::Withdrawn),
                s if s.is_multiple_of(5) => Some(Standing::Suspended),
                _ => None,
            };
            if let Some(to) = standing {
                r.change_standing(to, "Audit de conformité", "bench", now)
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            }
            let change = ReferencingChange::new(
                &c.id,
                CODE,
                None,
                r,
                "referencing.referenced",
                serde_json::json!({}),
            );
            store.change_referencing(&change, now, "bench").await?;
        }
    }
    Ok(issue(CODE, 2026, 1))
}

fn targets(number: &str) -> Vec<Target> {
    let t = |name, server, path_and_query: String| Target {
        name,
        server,
        path_and_query,
        body_size: 0,
        rates: Vec::new(),
        latencies: Vec::new(),
        errors: 0,
    };
    vec![
        t("Bare axum route (baseline)", Server::Bare, "/bare".into()),
        t(
            "HTML registry page",
            Server::App,
            format!("/registre/{CODE}"),
        ),
        t(
            "HTML registry page, search",
            Server::App,
            format!("/registre/{CODE}?q=sante%2003"),
        ),
        t(
            "API registry",
            Server::App,
            format!("/api/v1/registry/{CODE}"),
        ),
        t(
            "API verification",
            Server::App,
            format!("/api/v1/verification/{number}"),
        ),
    ]
}

/// Runs the benchmark and returns its Markdown results block.
pub async fn run(options: &Options) -> anyhow::Result<String> {
    ensure!(
        options.concurrency >= 1 && options.requests >= 1 && options.rounds >= 1,
        "requests, concurrency and rounds must be at least 1"
    );
    ensure!(
        options.referenced >= 1 && options.referenced <= options.candidatures,
        "at least one référencement, and no more than the candidatures"
    );
    let dir = tempfile::tempdir().context("temporary directory")?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    eprintln!(
        "registry: seeding {} candidatures, {} referenced, on a fresh SQLite store",
        options.candidatures, options.referenced
    );
    let store = conforme::open_store(&url).await?;
    let state = conforme::app_state(
        store.clone(),
        conforme::ClockOptions::default(),
        conforme_web::WebConfig::new("http://127.0.0.1"),
        conforme_files::FileStore::open(&conforme_files::FileStoreConfig::Local {
            root: dir.path().join("files"),
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    )
    .await?;
    // After `app_state`, which migrates the store.
    let number = seed(&store, options).await?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let (app_listener, app_addr) = loopback_listener().await?;
    let (bare_listener, bare_addr) = loopback_listener().await?;
    let mut servers = JoinSet::new();
    servers.spawn(conforme_web::serve(
        app_listener,
        state,
        stopped(stop_rx.clone()),
    ));
    let bare_router = Router::new().route("/bare", get(bare));
    servers.spawn(async move {
        axum::serve(bare_listener, bare_router)
            .with_graceful_shutdown(stopped(stop_rx))
            .await
    });

    let result = drive(options, &number, app_addr, bare_addr).await;

    let _ = stop_tx.send(true);
    let shutdown = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(done) = servers.join_next().await {
            done.context("server task")?.context("server")?;
        }
        anyhow::Ok(())
    })
    .await;
    store.close().await;
    let targets = result?;
    shutdown.context("the servers did not stop within 10 s")??;
    markdown(options, &targets)
}

async fn drive(
    options: &Options,
    number: &str,
    app: SocketAddr,
    bare: SocketAddr,
) -> anyhow::Result<Vec<Target>> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(options.concurrency)
        .build()
        .context("HTTP client")?;
    let url = |t: &Target| {
        let addr = match t.server {
            Server::Bare => bare,
            Server::App => app,
        };
        format!("http://{addr}{}", t.path_and_query)
    };
    let mut targets = targets(number);
    for t in &mut targets {
        let target_url = url(t);
        let response = client
            .get(&target_url)
            .send()
            .await
            .with_context(|| format!("GET {target_url}"))?;
        let status = response.status();
        let body = response.bytes().await?;
        ensure!(status.is_success(), "GET {target_url}: status {status}");
        if t.path_and_query.starts_with("/api/v1/registry/") {
            let json: serde_json::Value = serde_json::from_slice(&body)?;
            let total = json.get("total").and_then(serde_json::Value::as_u64);
            ensure!(
                total == Some(options.candidatures as u64),
                "GET {target_url}: {total:?} entries, expected {}",
                options.candidatures
            );
        }
        t.body_size = body.len();
        eprintln!("registry: warm-up {} ({} requests)", t.name, options.warmup);
        let warm = batch(&client, &target_url, options.warmup, options.concurrency).await?;
        ensure!(
            warm.errors == 0,
            "{}: {} errors during the warm-up",
            t.name,
            warm.errors
        );
    }
    for round in 1..=options.rounds {
        for t in &mut targets {
            eprintln!(
                "registry: round {round}/{}: {} ({} requests)",
                options.rounds, t.name, options.requests
            );
            let b = batch(&client, &url(t), options.requests, options.concurrency).await?;
            t.rates
                .push(b.latencies.len() as f64 / b.elapsed.as_secs_f64());
            t.latencies.extend(b.latencies);
            t.errors += b.errors;
        }
    }
    Ok(targets)
}

fn markdown(o: &Options, targets: &[Target]) -> anyhow::Result<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Registry of {} deposited candidatures, {} of them referenced. {} round{} × {} \
         requests per target after {} warm-up requests, {} concurrent client tasks, keep-alive \
         connections, no compression requested. Requests/s is the median over the rounds; \
         latencies are over all requests of a target. The ratios compare each target with the \
         bare route measured in the same run.\n",
        o.candidatures,
        o.referenced,
        o.rounds,
        if o.rounds == 1 { "" } else { "s" },
        stats::thousands(o.requests as u64),
        stats::thousands(o.warmup as u64),
        o.concurrency,
    );
    let _ = writeln!(
        out,
        "| Target | Requests/s | vs bare | p50 | p99 | p50 vs bare | p99 vs bare | Response | Errors |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    let measured: Vec<(f64, Samples)> = targets
        .iter()
        .map(|t| {
            Ok((
                stats::median_f64(&t.rates).context("no round")?,
                Samples::new(t.latencies.clone()).context("no request")?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let (base_rate, base) = measured.first().context("no target")?;
    for (t, (rate, lat)) in targets.iter().zip(&measured) {
        let (p50, p99) = (lat.percentile(50.0), lat.percentile(99.0));
        let _ = writeln!(
            out,
            "| {}<br>`{}` | {} | **{}** | {} | {} | {} | {} | {} | {} of {} |",
            t.name,
            t.path_and_query,
            stats::rate(*rate),
            stats::ratio(*rate, *base_rate),
            stats::duration(p50),
            stats::duration(p99),
            stats::ratio(p50.as_secs_f64(), base.percentile(50.0).as_secs_f64()),
            stats::ratio(p99.as_secs_f64(), base.percentile(99.0).as_secs_f64()),
            stats::bytes(t.body_size),
            t.errors,
            stats::thousands(lat.len() as u64),
        );
    }
    Ok(out)
}
