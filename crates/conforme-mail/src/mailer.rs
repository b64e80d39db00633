//! Sending: builds the MIME message and hands it to the configured transport.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::config::{MailConfig, SmtpTls};
use crate::error::MailError;

/// Bound on connecting to the SMTP server; the whole SMTP exchange of one message is bounded by
/// twice this.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One message to send, to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The recipient's email address, e.g. `claire.martin@example.org`.
    pub to: String,
    /// The recipient's display name, if known.
    pub to_name: Option<String>,
    /// The subject, plain text (encoded as needed when sent).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML alternative of the body, if any.
    pub html: Option<String>,
}

/// Sends email through the configured transport. Cheap to clone; clones share the transport.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    from: Mailbox,
    transport: Transport,
    /// The configuration, for logs (no password).
    description: String,
}

enum Transport {
    Files {
        dir: PathBuf,
        transport: AsyncFileTransport<Tokio1Executor>,
    },
    Smtp {
        server: String,
        transport: AsyncSmtpTransport<Tokio1Executor>,
        deadline: Duration,
    },
}

impl Mailer {
    /// A mailer for `config`, sending from `from` (a mailbox such as
    /// `Conforme <ne-pas-repondre@conforme.localhost>` or a bare address), with
    /// [`DEFAULT_TIMEOUT`].
    pub fn new(config: MailConfig, from: &str) -> Result<Mailer, MailError> {
        Mailer::with_timeout(config, from, DEFAULT_TIMEOUT)
    }

    /// Like [`Mailer::new`] with another bound on connecting to the SMTP server (the whole
    /// exchange of one message is bounded by twice `timeout`).
    pub fn with_timeout(
        config: MailConfig,
        from: &str,
        timeout: Duration,
    ) -> Result<Mailer, MailError> {
        let from_value = from.trim();
        let from: Mailbox = from_value
            .parse()
            .map_err(|source| MailError::InvalidFrom {
                value: from_value.to_owned(),
                source,
            })?;
        let description = config.to_string();
        let transport = match config {
            MailConfig::Files { dir } => Transport::Files {
                transport: AsyncFileTransport::new(&dir),
                dir,
            },
            MailConfig::Smtp {
                host,
                port,
                tls,
                username,
                password,
            } => {
                let tls_parameters = |host: &str| {
                    TlsParameters::new(host.to_owned()).map_err(|source| MailError::Tls {
                        host: host.to_owned(),
                        source,
                    })
                };
                let lettre_tls = match tls {
                    SmtpTls::None => Tls::None,
                    SmtpTls::StartTls => Tls::Required(tls_parameters(&host)?),
                    SmtpTls::Tls => Tls::Wrapper(tls_parameters(&host)?),
                };
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                    .port(port)
                    .tls(lettre_tls)
                    .timeout(Some(timeout));
                if let (Some(user), Some(pass)) = (username, password) {
                    if tls == SmtpTls::None {
                        tracing::warn!(
                            server = %description,
                            "SMTP credentials will be sent over an unencrypted connection"
                        );
                    }
                    builder = builder.credentials(Credentials::new(user, pass));
                }
                Transport::Smtp {
                    server: description.clone(),
                    transport: builder.build(),
                    deadline: timeout.saturating_mul(2),
                }
            }
        };
        Ok(Mailer {
            inner: Arc::new(Inner {
                from,
                transport,
                description,
            }),
        })
    }

    /// A mailer configured from the environment: `CONFORME_SMTP_URL` (unset or empty: `.eml`
    /// files in `default_dir`) and `CONFORME_MAIL_FROM` (unset or empty: [`crate::DEFAULT_FROM`]).
    pub fn from_env(default_dir: &Path) -> Result<Mailer, MailError> {
        let config = MailConfig::from_env(default_dir)?;
        let from = std::env::var(crate::MAIL_FROM_ENV)
            .ok()
            .filter(|value| !value.trim().is_empty())
            .unwrap_or_else(|| crate::DEFAULT_FROM.to_owned());
        Mailer::new(config, &from)
    }

    /// The sender of every message.
    pub fn from(&self) -> &Mailbox {
        &self.inner.from
    }

    /// Where messages go, for logs (`file:///…` or `smtps://user:***@host:465`).
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    /// Sends one message. The recipient address is checked first
    /// ([`MailError::InvalidRecipient`]); nothing is sent then.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let message = self.build(email)?;
        match &self.inner.transport {
            Transport::Files { dir, transport } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|source| MailError::CreateDir {
                        path: dir.clone(),
                        source,
                    })?;
                let id = transport
                    .send(message)
                    .await
                    .map_err(|source| MailError::File {
                        dir: dir.clone(),
                        source,
                    })?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), "email written");
            }
            Transport::Smtp {
                server,
                transport,
                deadline,
            } => {
                let response = tokio::time::timeout(*deadline, transport.send(message))
                    .await
                    .map_err(|_elapsed| MailError::Timeout {
                        server: server.clone(),
                        after: *deadline,
                    })?
                    .map_err(|source| MailError::Smtp {
                        server: server.clone(),
                        source,
                    })?;
                tracing::info!(
                    server = %server,
                    code = %response.code(),
                    "email handed to the SMTP server"
                );
            }
        }
        Ok(())
    }

    fn build(&self, email: &OutgoingEmail) -> Result<Message, MailError> {
        let address: Address =
            email
                .to
                .trim()
                .parse()
                .map_err(|source| MailError::InvalidRecipient {
                    address: email.to.clone(),
                    source,
                })?;
        let to_name = email
            .to_name
            .as_deref()
            .map(single_line)
            .filter(|name| !name.is_empty());
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::new_v4(),
            self.inner.from.email.domain()
        );
        let builder = Message::builder()
            .from(self.inner.from.clone())
            .to(Mailbox::new(to_name, address))
            .subject(single_line(&email.subject))
            .message_id(Some(message_id))
            // RFC 3834: tells vacation responders and the like not to answer.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ));
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.clone());
        let message = match &email.html {
            Some(html) => builder.multipart(
                MultiPart::alternative().singlepart(text).singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html.clone()),
                ),
            ),
            None => builder.singlepart(text),
        };
        message.map_err(MailError::Build)
    }
}

/// Control characters (line breaks included) become spaces, so that a header stays one line.
fn single_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.inner.from.to_string())
            .field("transport", &self.inner.description)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::test_support::read_outbox;

    fn email(to: &str) -> OutgoingEmail {
        OutgoingEmail {
            to: to.to_owned(),
            to_name: Some("Élodie Durand".to_owned()),
            subject: "Dossier n° 42 : pièces reçues".to_owned(),
            text: "Bonjour,\n\nLes pièces de votre dossier ont été reçues.\n".to_owned(),
            html: Some("<p>Les pièces de votre dossier ont été reçues.</p>".to_owned()),
        }
    }

    #[test]
    fn mailer_is_clone_send_sync() {
        fn check<T: Clone + Send + Sync + 'static>() {}
        check::<Mailer>();
    }

    #[test]
    fn the_sender_is_checked() {
        let config = MailConfig::Files {
            dir: PathBuf::from("/nonexistent"),
        };
        assert!(Mailer::new(config.clone(), crate::DEFAULT_FROM).is_ok());
        assert!(Mailer::new(config.clone(), "ne-pas-repondre@conforme.example").is_ok());
        let err = Mailer::new(config, "Conforme <pas une adresse>").unwrap_err();
        assert!(matches!(err, MailError::InvalidFrom { .. }), "{err:?}");
        assert!(err.to_string().contains("CONFORME_MAIL_FROM"), "{err}");
    }

    #[tokio::test]
    async fn the_file_transport_writes_one_eml_per_message_creating_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("boîte/envoi");
        let mailer =
            Mailer::new(MailConfig::Files { dir: dir.clone() }, crate::DEFAULT_FROM).unwrap();

        mailer
            .send(&email("elodie.durand@example.org"))
            .await
            .unwrap();
        let mut second = email("marc@example.org");
        second.to_name = None;
        second.html = None;
        second.subject = "Second message".to_owned();
        mailer.send(&second).await.unwrap();

        let outbox = read_outbox(&dir);
        assert_eq!(outbox.len(), 2);
        let first = outbox
            .iter()
            .find(|m| m.to_address == "elodie.durand@example.org")
            .unwrap();
        assert_eq!(first.to_name.as_deref(), Some("Élodie Durand"));
        assert_eq!(first.subject, "Dossier n° 42 : pièces reçues");
        assert_eq!(first.from_address, "ne-pas-repondre@conforme.localhost");
        assert!(
            first
                .text
                .contains("Les pièces de votre dossier ont été reçues.")
        );
        assert_eq!(
            first.html.as_deref(),
            Some("<p>Les pièces de votre dossier ont été reçues.</p>")
        );
        assert!(first.raw.contains("Auto-Submitted: auto-generated"));
        assert!(
            first.raw.contains("@conforme.localhost>"),
            "Message-ID domain"
        );

        let second = outbox
            .iter()
            .find(|m| m.to_address == "marc@example.org")
            .unwrap();
        assert_eq!(second.subject, "Second message");
        assert_eq!(second.html, None);
        // The To: line, unencoded since it is plain ASCII.
        assert!(
            second.raw.contains("To: marc@example.org"),
            "{}",
            second.raw
        );
    }

    #[tokio::test]
    async fn an_invalid_recipient_is_a_typed_error_and_nothing_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(
            MailConfig::Files {
                dir: tmp.path().to_path_buf(),
            },
            crate::DEFAULT_FROM,
        )
        .unwrap();
        for bad in [
            "",
            "pas-une-adresse",
            "a@b@c",
            "Claire <claire@example.org>",
        ] {
            let err = mailer.send(&email(bad)).await.unwrap_err();
            assert!(
                matches!(err, MailError::InvalidRecipient { .. }),
                "{bad}: {err:?}"
            );
            assert!(!err.is_transient());
        }
        assert!(read_outbox(tmp.path()).is_empty());
    }

    #[tokio::test]
    async fn headers_cannot_be_injected_through_the_subject_or_name() {
        let tmp = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(
            MailConfig::Files {
                dir: tmp.path().to_path_buf(),
            },
            crate::DEFAULT_FROM,
        )
        .unwrap();
        let mut hostile = email("victime@example.org");
        hostile.subject = "Bonjour\r\nBcc: espion@example.org".to_owned();
        hostile.to_name = Some("X\r\nBcc: espion@example.org".to_owned());
        mailer.send(&hostile).await.unwrap();
        let outbox = read_outbox(tmp.path());
        assert_eq!(outbox.len(), 1);
        assert!(!outbox[0].raw.contains("\r\nBcc:"), "{}", outbox[0].raw);
        assert_eq!(outbox[0].subject, "Bonjour  Bcc: espion@example.org");
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_a_file_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let mailer = Mailer::new(
            MailConfig::Files {
                dir: file.join("sub"),
            },
            crate::DEFAULT_FROM,
        )
        .unwrap();
        let err = mailer.send(&email("a@example.org")).await.unwrap_err();
        assert!(matches!(err, MailError::CreateDir { .. }), "{err:?}");
    }

    #[test]
    fn debug_and_description_hide_the_password() {
        let config = MailConfig::from_url(
            "smtp+starttls://user:hunter2@smtp.example.org:587",
            Path::new("/tmp"),
        )
        .unwrap();
        let mailer = Mailer::new(config, crate::DEFAULT_FROM).unwrap();
        assert_eq!(
            mailer.description(),
            "smtp+starttls://user:***@smtp.example.org:587"
        );
        assert!(!format!("{mailer:?}").contains("hunter2"));
    }
}
