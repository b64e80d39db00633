#![forbid(unsafe_code)]

use clap::Parser;
use conforme::cli::{Cli, Command};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Logs: JSON lines on stdout for the server (CONFORME_LOG_FORMAT=text for humans), plain
/// warnings on stderr for the other commands. CONFORME_LOG sets the filter (default "info").
fn init_logs(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter =
        EnvFilter::try_from_env("CONFORME_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let text = std::env::var("CONFORME_LOG_FORMAT").is_ok_and(|f| f == "text");
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if serving && !text {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder.with_writer(std::io::stderr).init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(matches!(cli.command, Command::Serve(_)));
    conforme::cli::run(cli).await
}
