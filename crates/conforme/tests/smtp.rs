//! Emails reach a real SMTP server (aiosmtpd, started for the test on loopback): the address
//! check sent at sign-up and a notification of the agency's review, sent by the worker.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, FreshDb, spawn_with_mail};
use conforme::ClockOptions;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sink() -> Sink {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "this test needs a real SMTP server: run `pip install aiosmtpd` (scripts/test does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/tools/smtp_sink.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args([
            "--port",
            "0",
            "--max-seconds",
            "120",
            "--exit-on-stdin-eof",
            "--dir",
        ])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("sink said {line:?}"));
    Sink { child, port, dir }
}

/// The raw messages received, waiting (bounded) until one contains `needle`.
fn received(dir: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        files.retain(|p| p.extension().is_some_and(|x| x == "eml"));
        for f in &files {
            let raw = std::fs::read(f).unwrap();
            let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let text = parsed
                .body_text(0)
                .map(|b| b.to_string())
                .unwrap_or_default();
            let to = parsed
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string();
            if text.contains(needle) {
                return format!("{to}\n{}\n{text}", parsed.subject().unwrap_or_default());
            }
        }
        assert!(
            Instant::now() < deadline,
            "no message containing « {needle} » reached the SMTP server"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn emails_reach_smtp(backend: Backend) {
    let sink = start_sink();
    let mail = conforme_mail::MailConfig::from_url(
        &format!("smtp://127.0.0.1:{}", sink.port),
        Path::new("unused"),
    )
    .unwrap();
    let app = spawn_with_mail(
        FreshDb::new(backend).await,
        ClockOptions::default(),
        Some(mail),
    )
    .await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let form = client
        .get(format!("{}/inscription", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let i = form.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &form[i..i + 64];
    let r = client
        .post(format!("{}/inscription", app.url))
        .form(&[
            ("csrf", csrf),
            ("display_name", "Nina Smtp"),
            ("email", "nina@editeur.fr"),
            ("password", "Un-Mot-De-Passe-42"),
            ("password_confirm", "Un-Mot-De-Passe-42"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let msg = tokio::task::spawn_blocking({
        let dir = sink.dir.path().to_path_buf();
        move || received(&dir, "/inscription/verifier?token=")
    })
    .await
    .unwrap();
    assert!(msg.starts_with("nina@editeur.fr\n"), "{msg}");
    // Nothing was written to the files folder: it went through SMTP.
    assert!(app.emails().is_empty());
    app.stop().await;
}
both!(smtp, emails_reach_smtp);
