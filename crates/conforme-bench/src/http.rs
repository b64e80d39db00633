//! Benchmark 2: requirement-list throughput of the real application, against a bare axum
//! route served by the same process, runtime and client.
//!
//! The application is built as `conforme serve` builds it (`app_state` on a fresh SQLite
//! store, then `conforme_web::serve`), on a 127.0.0.1 port chosen by the system; the bare
//! route (`GET /bare`, a constant JSON body, no middleware) listens on another one. A reqwest
//! client drives each target with `concurrency` tasks sharing a fixed number of requests,
//! after a warm-up; every target is run `rounds` times, the targets alternating, and the
//! report gives the median rate over the rounds and latency percentiles over all requests.

use crate::stats::{self, Samples};
use anyhow::{Context, bail, ensure};
use axum::Router;
use axum::http::header;
use axum::routing::get;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Longest time one request may take before the run fails.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time one batch (warm-up or measured) of one target may take.
const BATCH_DEADLINE: Duration = Duration::from_secs(120);

const LIST_PATH: &str = "/api/v1/programmes/HOP-DPI-Va2/rem/prepublication-2023/requirements";
const PAGE_PATH: &str = "/dispositifs/HOP-DPI-Va2/rem/prepublication-2023";

pub struct Options {
    /// Measured requests per target and round.
    pub requests: usize,
    /// Requests per target before measuring.
    pub warmup: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Measured batches per target, the targets alternating.
    pub rounds: usize,
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
    /// What the sanity request found (matching requirements, body size).
    found: String,
    /// Body size of one response, uncompressed.
    body_size: usize,
    rates: Vec<f64>,
    latencies: Vec<Duration>,
    errors: usize,
}

pub struct Report {
    options: Options,
    targets: Vec<Measured>,
}

struct Measured {
    name: &'static str,
    path_and_query: String,
    found: String,
    body_size: usize,
    requests: usize,
    errors: usize,
    rate: f64,
    latencies: Samples,
}

fn targets() -> Vec<Target> {
    let t = |name, server, path_and_query: String| Target {
        name,
        server,
        path_and_query,
        found: String::new(),
        body_size: 0,
        rates: Vec::new(),
        latencies: Vec::new(),
        errors: 0,
    };
    vec![
        t("Bare axum route (baseline)", Server::Bare, "/bare".into()),
        t(
            "API requirement list, page 1",
            Server::App,
            format!("{LIST_PATH}?per_page=20"),
        ),
        t(
            "API requirement list, search",
            Server::App,
            format!("{LIST_PATH}?per_page=20&q=identite"),
        ),
        t(
            "HTML REM page, search",
            Server::App,
            format!("{PAGE_PATH}?q=identite"),
        ),
    ]
}

pub(crate) async fn bare() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

/// Binds a listener on the loopback interface, on a port the system chooses.
pub(crate) async fn loopback_listener() -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("binding 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// The outcome of one batch of requests.
pub(crate) struct Batch {
    pub(crate) elapsed: Duration,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) errors: usize,
}

/// Sends `total` GET requests to `url` from `concurrency` tasks; each task takes the next
/// request number until none is left. Fails past [`BATCH_DEADLINE`].
pub(crate) async fn batch(
    client: &reqwest::Client,
    url: &str,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<Batch> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let start = Instant::now();
    for _ in 0..concurrency.min(total) {
        let (client, url, next) = (client.clone(), url.to_string(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(total / concurrency + 1);
            let mut errors = 0usize;
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let sent = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(response) => {
                        let success = response.status().is_success();
                        response.bytes().await.is_ok() && success
                    }
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        });
    }
    let joined = tokio::time::timeout(BATCH_DEADLINE, async {
        let mut latencies = Vec::with_capacity(total);
        let mut errors = 0;
        while let Some(done) = tasks.join_next().await {
            let (l, e) = done.context("load task")?;
            latencies.extend(l);
            errors += e;
        }
        anyhow::Ok((latencies, errors))
    })
    .await;
    let elapsed = start.elapsed();
    let Ok(joined) = joined else {
        // Dropping the set aborts the tasks still running.
        bail!(
            "{total} requests to {url} did not finish within {} s",
            BATCH_DEADLINE.as_secs()
        );
    };
    let (latencies, errors) = joined?;
    Ok(Batch {
        elapsed,
        latencies,
        errors,
    })
}

/// One request, checked: a 200 answer, and for the API a non-empty page of matches, so that
/// the benchmark measures real work.
async fn sanity(client: &reqwest::Client, url: &str, api: bool) -> anyhow::Result<(String, usize)> {
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body = response.bytes().await?;
    ensure!(status.is_success(), "GET {url}: status {status}");
    if !api {
        return Ok((String::new(), body.len()));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("GET {url}: not JSON"))?;
    let total = json.get("total").and_then(serde_json::Value::as_i64);
    let items = json
        .get("items")
        .and_then(serde_json::Value::as_array)
        .map(Vec::len);
    match (total, items) {
        (Some(total), Some(items)) if total > 0 && items > 0 => {
            Ok((format!("{items} of {total} requirements"), body.len()))
        }
        _ => bail!("GET {url}: no requirement in the answer"),
    }
}

pub async fn run(options: Options) -> anyhow::Result<Report> {
    ensure!(
        options.concurrency >= 1 && options.requests >= 1 && options.rounds >= 1,
        "requests, concurrency and rounds must be at least 1"
    );
    let dir = tempfile::tempdir().context("temporary directory")?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    eprintln!("api: preparing the application on a fresh SQLite store");
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

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        // Either a `true` or the sender gone ends the wait.
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

    let result = drive(&options, app_addr, bare_addr).await;

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
    Ok(Report { options, targets })
}

async fn drive(
    options: &Options,
    app: SocketAddr,
    bare: SocketAddr,
) -> anyhow::Result<Vec<Measured>> {
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
    let mut targets = targets();
    for t in &mut targets {
        let target_url = url(t);
        let (found, size) = sanity(&client, &target_url, t.path_and_query.starts_with("/api/"))
            .await
            .with_context(|| t.name)?;
        t.found = found;
        t.body_size = size;
        eprintln!("api: warm-up {} ({} requests)", t.name, options.warmup);
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
                "api: round {round}/{}: {} ({} requests)",
                options.rounds, t.name, options.requests
            );
            let b = batch(&client, &url(t), options.requests, options.concurrency).await?;
            t.rates
                .push(b.latencies.len() as f64 / b.elapsed.as_secs_f64());
            t.latencies.extend(b.latencies);
            t.errors += b.errors;
        }
    }
    targets
        .into_iter()
        .map(|t| {
            let requests = t.latencies.len();
            Ok(Measured {
                name: t.name,
                path_and_query: t.path_and_query,
                found: t.found,
                body_size: t.body_size,
                requests,
                errors: t.errors,
                rate: stats::median_f64(&t.rates).context("no round")?,
                latencies: Samples::new(t.latencies).context("no request")?,
            })
        })
        .collect()
}

impl Report {
    /// The Markdown block for the results section.
    pub fn markdown(&self) -> String {
        let o = &self.options;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} round{} × {} requests per target after {} warm-up requests, {} concurrent \
             client tasks, keep-alive connections, no compression requested. Requests/s is \
             the median over the rounds; latencies are over all {} requests of a target. The \
             ratios compare each target with the bare route measured in the same run.\n",
            o.rounds,
            if o.rounds == 1 { "" } else { "s" },
            stats::thousands(o.requests as u64),
            stats::thousands(o.warmup as u64),
            o.concurrency,
            stats::thousands((o.rounds * o.requests) as u64),
        );
        let _ = writeln!(
            out,
            "| Target | Requests/s | vs bare | p50 | p99 | p50 vs bare | p99 vs bare | Response | Errors |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        let baseline = self.targets.first();
        for t in &self.targets {
            let (p50, p99) = (t.latencies.percentile(50.0), t.latencies.percentile(99.0));
            let (rate_vs, p50_vs, p99_vs) = match baseline {
                Some(b) => (
                    stats::ratio(t.rate, b.rate),
                    stats::ratio(
                        p50.as_secs_f64(),
                        b.latencies.percentile(50.0).as_secs_f64(),
                    ),
                    stats::ratio(
                        p99.as_secs_f64(),
                        b.latencies.percentile(99.0).as_secs_f64(),
                    ),
                ),
                None => ("–".into(), "–".into(), "–".into()),
            };
            let response = if t.found.is_empty() {
                stats::bytes(t.body_size)
            } else {
                format!("{}, {}", stats::bytes(t.body_size), t.found)
            };
            let _ = writeln!(
                out,
                "| {}<br>`{}` | {} | **{rate_vs}** | {} | {} | {p50_vs} | {p99_vs} | {response} | {} of {} |",
                t.name,
                t.path_and_query,
                stats::rate(t.rate),
                stats::duration(p50),
                stats::duration(p99),
                t.errors,
                stats::thousands(t.requests as u64),
            );
        }
        out
    }
}
