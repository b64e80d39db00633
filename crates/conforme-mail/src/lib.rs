//! Outgoing email of the platform: sign-up verification, one-time codes, password reset,
//! invitations and notifications.
//!
//! - [`MailConfig`] says where messages go: by default `.eml` files written into a folder
//!   (nothing leaves the machine), or an SMTP server, configured with one URL
//!   (`CONFORME_SMTP_URL`, see [`MailConfig::from_url`]).
//! - [`Mailer`] sends an [`OutgoingEmail`] through that transport (lettre underneath), from the
//!   sender configured with `CONFORME_MAIL_FROM` (default [`DEFAULT_FROM`]).
//! - [`templates`] builds each kind of message (subject, plain text and HTML, in French) from
//!   askama templates kept in this crate's `templates/` folder.
//!
//! ```no_run
//! # async fn demo() -> Result<(), conforme_mail::MailError> {
//! use conforme_mail::{MailConfig, Mailer, templates};
//! let config = MailConfig::from_url("smtp://127.0.0.1:2525", "var/mail".as_ref())?;
//! let mailer = Mailer::new(config, conforme_mail::DEFAULT_FROM)?;
//! let email = templates::one_time_code("482913", 10)?.to("claire.martin@example.org", None);
//! mailer.send(&email).await?;
//! # Ok(()) }
//! ```

mod config;
mod error;
mod mailer;
pub mod templates;

#[cfg(test)]
mod test_support;

pub use config::{MailConfig, SmtpTls};
pub use error::{ConfigProblem, MailError};
pub use mailer::{DEFAULT_TIMEOUT, Mailer, OutgoingEmail};

/// Environment variable holding the transport URL read by [`Mailer::from_env`].
pub const SMTP_URL_ENV: &str = "CONFORME_SMTP_URL";
/// Environment variable holding the sender mailbox read by [`Mailer::from_env`].
pub const MAIL_FROM_ENV: &str = "CONFORME_MAIL_FROM";
/// Sender used when `CONFORME_MAIL_FROM` is not set.
pub const DEFAULT_FROM: &str = "Conforme <ne-pas-repondre@conforme.localhost>";
