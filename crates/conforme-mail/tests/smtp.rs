//! Sending through a real SMTP server: aiosmtpd, started from `tests/tools/smtp_sink.py`
//! (needs `pip install aiosmtpd`), listening on 127.0.0.1 only. Also checks that unreachable or
//! silent servers give an error quickly instead of hanging.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use conforme_mail::{MailConfig, MailError, Mailer, OutgoingEmail, templates};
use mail_parser::{MessageParser, PartType};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sink process, killed when dropped (even if the test panics).
struct SmtpSink {
    child: Child,
    port: u16,
}

impl SmtpSink {
    fn start(dir: &Path) -> SmtpSink {
        let check = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .output()
            .expect("python3 is needed for the SMTP tests");
        assert!(
            check.status.success(),
            "the SMTP integration test needs the Python package aiosmtpd: run `pip install aiosmtpd` \
             (python3 -c 'import aiosmtpd' failed: {})",
            String::from_utf8_lossy(&check.stderr).trim()
        );
        let script = workspace_root().join("tests/tools/smtp_sink.py");
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
            .arg(dir)
            // The sink stops when this pipe closes, i.e. when this test process is gone.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", script.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut sink = SmtpSink { child, port: 0 };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("smtp_sink.py did not print its port within 30 s");
        sink.port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from smtp_sink.py: {line:?}"));
        sink
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A message received by the sink: its envelope and its decoded content.
#[derive(Debug)]
struct Received {
    mail_from: String,
    rcpt_tos: Vec<String>,
    to_address: String,
    to_name: Option<String>,
    subject: String,
    text: String,
    html: Option<String>,
}

/// Waits (at most `within`) until `count` messages are in `dir`, and reads them.
fn wait_for_messages(dir: &Path, count: usize, within: Duration) -> Vec<Received> {
    let deadline = Instant::now() + within;
    loop {
        let mut envelopes: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        if envelopes.len() >= count {
            envelopes.sort();
            return envelopes.iter().map(|p| read_received(p)).collect();
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} messages reached the SMTP server within {within:?}",
            envelopes.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_received(envelope_path: &Path) -> Received {
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(envelope_path).unwrap()).unwrap();
    let raw = std::fs::read(envelope_path.with_extension("eml")).unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    let to = message.to().and_then(|a| a.first()).unwrap();
    Received {
        mail_from: envelope["mail_from"].as_str().unwrap().to_owned(),
        rcpt_tos: envelope["rcpt_tos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        to_address: to.address().unwrap().to_owned(),
        to_name: to.name().map(str::to_owned),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .unwrap_or_default()
            .replace("\r\n", "\n"),
        html: message.parts.iter().find_map(|part| match &part.body {
            PartType::Html(html) => Some(html.replace("\r\n", "\n")),
            _ => None,
        }),
    }
}

fn mailer_for(url: &str) -> Mailer {
    Mailer::new(
        MailConfig::from_url(url, Path::new("/nonexistent")).unwrap(),
        conforme_mail::DEFAULT_FROM,
    )
    .unwrap()
}

#[tokio::test]
async fn messages_reach_a_real_smtp_server() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(tmp.path());
    let mailer = mailer_for(&format!("smtp://127.0.0.1:{}", sink.port));

    let link = "https://conforme.example/compte/verifier?jeton=Zx81&suite=1";
    let verify = templates::verify_email(link)
        .unwrap()
        .to("alice@example.org", Some("Alice Lefèvre".to_owned()));
    mailer.send(&verify).await.unwrap();
    let plain = OutgoingEmail {
        to: "bob@example.org".to_owned(),
        to_name: None,
        subject: "Accusé de réception".to_owned(),
        text: "Votre demande n° 7 a bien été reçue.".to_owned(),
        html: None,
    };
    mailer.send(&plain).await.unwrap();

    let received = wait_for_messages(tmp.path(), 2, Duration::from_secs(10));
    assert_eq!(received.len(), 2);

    let alice = &received[0];
    assert_eq!(alice.mail_from, "ne-pas-repondre@conforme.localhost");
    assert_eq!(alice.rcpt_tos, ["alice@example.org"]);
    assert_eq!(alice.to_address, "alice@example.org");
    assert_eq!(alice.to_name.as_deref(), Some("Alice Lefèvre"));
    assert_eq!(alice.subject, "Confirmez votre adresse électronique");
    assert!(alice.text.contains(link), "{}", alice.text);
    assert!(alice.text.contains("L'équipe Conforme"), "{}", alice.text);
    let html = alice.html.as_deref().expect("an HTML alternative");
    assert!(
        html.contains("Confirmer mon adresse électronique"),
        "{html}"
    );

    let bob = &received[1];
    assert_eq!(bob.rcpt_tos, ["bob@example.org"]);
    assert_eq!(bob.to_address, "bob@example.org");
    assert_eq!(bob.subject, "Accusé de réception");
    assert_eq!(bob.text.trim_end(), "Votre demande n° 7 a bien été reçue.");
    assert_eq!(bob.html, None);

    // The sink offers no STARTTLS: smtp+starttls must refuse to go on in plain text,
    // and smtps must fail its TLS handshake; neither delivers anything nor hangs.
    for url in [
        format!("smtp+starttls://user:secret@127.0.0.1:{}", sink.port),
        format!("smtps://user:secret@127.0.0.1:{}", sink.port),
    ] {
        let started = Instant::now();
        let err = mailer_for(&url).send(&plain).await.unwrap_err();
        assert!(matches!(err, MailError::Smtp { .. }), "{url}: {err:?}");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{url}: {:?}",
            started.elapsed()
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(wait_for_messages(tmp.path(), 2, Duration::ZERO).len(), 2);
}

#[tokio::test]
async fn an_unreachable_server_fails_quickly() {
    // A port that was free a moment ago: nothing listens there any more.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mailer = mailer_for(&format!("smtp://127.0.0.1:{port}"));
    let email = templates::one_time_code("123456", 10)
        .unwrap()
        .to("claire@example.org", None);
    let started = Instant::now();
    let err = mailer.send(&email).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, MailError::Smtp { .. }), "{err:?}");
    assert!(err.is_transient(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("échec de l'envoi par SMTP"), "{text}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections but never sends its greeting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mailer = Mailer::with_timeout(
        MailConfig::from_url(
            &format!("smtp://127.0.0.1:{port}"),
            Path::new("/nonexistent"),
        )
        .unwrap(),
        conforme_mail::DEFAULT_FROM,
        Duration::from_millis(500),
    )
    .unwrap();
    let email = templates::password_reset("https://conforme.example/r/1")
        .unwrap()
        .to("claire@example.org", None);
    let started = Instant::now();
    let err = mailer.send(&email).await.unwrap_err();
    let elapsed = started.elapsed();
    holder.abort();
    assert!(matches!(err, MailError::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(err.to_string().contains("délai dépassé"), "{err}");
}
