//! Where outgoing email goes, read from one URL (`CONFORME_SMTP_URL`).

use std::fmt;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use url::{Host, Url};

use crate::error::{ConfigProblem, MailError};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text, for a relay on the same machine or network and for tests (`smtp://`).
    None,
    /// Plain connection upgraded with STARTTLS, which is required: nothing is sent if the
    /// server does not offer it (`smtp+starttls://`, port 587 by default).
    StartTls,
    /// TLS from the first byte, "implicit TLS" (`smtps://`, port 465 by default).
    Tls,
}

impl SmtpTls {
    fn scheme(self) -> &'static str {
        match self {
            SmtpTls::None => "smtp",
            SmtpTls::StartTls => "smtp+starttls",
            SmtpTls::Tls => "smtps",
        }
    }
}

/// Where outgoing email goes.
///
/// `Debug` and `Display` never show the SMTP password.
#[derive(Clone, PartialEq, Eq)]
pub enum MailConfig {
    /// Each message is written as an `.eml` file into `dir` (created when needed).
    /// The default: nothing leaves the machine.
    Files { dir: PathBuf },
    /// Messages are handed to an SMTP server.
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        username: Option<String>,
        password: Option<String>,
    },
}

impl MailConfig {
    /// Reads a `CONFORME_SMTP_URL`-style value:
    ///
    /// - empty (or only blanks): `.eml` files in `default_dir`;
    /// - `file:///path/to/dir`: `.eml` files in that folder;
    /// - `smtp://host:port`: SMTP without encryption (local relay, tests), port 25 by default;
    /// - `smtp+starttls://user:pass@host:587`: SMTP with mandatory STARTTLS, port 587 by default;
    /// - `smtps://user:pass@host:465`: SMTP over TLS, port 465 by default.
    ///
    /// The user name and password are percent-decoded (write `%40` for `@`, `%3A` for `:`,
    /// `%2F` for `/`…); when one is given, so must the other be.
    pub fn from_url(url: &str, default_dir: &Path) -> Result<MailConfig, MailError> {
        let value = url.trim();
        if value.is_empty() {
            return Ok(MailConfig::Files {
                dir: default_dir.to_path_buf(),
            });
        }
        let invalid = |problem| MailError::InvalidConfig {
            value: redact(value),
            problem,
        };
        let parsed = Url::parse(value).map_err(|e| {
            invalid(match e {
                url::ParseError::EmptyHost => ConfigProblem::MissingHost,
                other => ConfigProblem::NotAUrl(other.to_string()),
            })
        })?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid(ConfigProblem::QueryOrFragment));
        }
        let (tls, default_port) = match parsed.scheme() {
            "file" => return file_config(&parsed).map_err(invalid),
            "smtp" => (SmtpTls::None, 25),
            "smtp+starttls" => (SmtpTls::StartTls, 587),
            "smtps" => (SmtpTls::Tls, 465),
            other => return Err(invalid(ConfigProblem::UnknownScheme(other.to_owned()))),
        };
        let host = match parsed.host() {
            Some(Host::Domain(name)) if !name.is_empty() => name.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid(ConfigProblem::MissingHost)),
        };
        let port = parsed.port().unwrap_or(default_port);
        if port == 0 {
            return Err(invalid(ConfigProblem::PortZero));
        }
        if !matches!(parsed.path(), "" | "/") {
            return Err(invalid(ConfigProblem::UnexpectedPath(
                parsed.path().to_owned(),
            )));
        }
        let username = match parsed.username() {
            "" => None,
            raw => Some(
                percent_decode_str(raw)
                    .decode_utf8()
                    .map_err(|_| invalid(ConfigProblem::UserNotUtf8))?
                    .into_owned(),
            ),
        };
        let password = match parsed.password() {
            None => None,
            Some(raw) => Some(
                percent_decode_str(raw)
                    .decode_utf8()
                    .map_err(|_| invalid(ConfigProblem::PasswordNotUtf8))?
                    .into_owned(),
            ),
        };
        match (&username, &password) {
            (None, Some(_)) => return Err(invalid(ConfigProblem::PasswordWithoutUser)),
            (Some(_), None) => return Err(invalid(ConfigProblem::UserWithoutPassword)),
            _ => {}
        }
        Ok(MailConfig::Smtp {
            host,
            port,
            tls,
            username,
            password,
        })
    }

    /// Like [`MailConfig::from_url`], for a value that may be absent (`None` means the
    /// default, `.eml` files in `default_dir`).
    pub fn from_optional_url(
        url: Option<&str>,
        default_dir: &Path,
    ) -> Result<MailConfig, MailError> {
        MailConfig::from_url(url.unwrap_or(""), default_dir)
    }

    /// Reads `CONFORME_SMTP_URL` from the environment (unset or empty: `.eml` files in
    /// `default_dir`).
    pub fn from_env(default_dir: &Path) -> Result<MailConfig, MailError> {
        match std::env::var(crate::SMTP_URL_ENV) {
            Ok(value) => MailConfig::from_url(&value, default_dir),
            Err(std::env::VarError::NotPresent) => MailConfig::from_url("", default_dir),
            Err(std::env::VarError::NotUnicode(raw)) => Err(MailError::InvalidConfig {
                value: redact(&raw.to_string_lossy()),
                problem: ConfigProblem::NotUnicode,
            }),
        }
    }
}

fn file_config(parsed: &Url) -> Result<MailConfig, ConfigProblem> {
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigProblem::NotALocalPath);
    }
    let dir = parsed
        .to_file_path()
        .map_err(|()| ConfigProblem::NotALocalPath)?;
    if !dir.is_absolute() {
        return Err(ConfigProblem::NotALocalPath);
    }
    Ok(MailConfig::Files { dir })
}

/// The value with the password (between `user:` and the last `@` of the authority) masked,
/// for error messages. Works on text that does not parse as a URL too.
fn redact(value: &str) -> String {
    let Some(scheme_end) = value.find("://") else {
        return value.to_owned();
    };
    let rest_start = scheme_end + 3;
    let rest = &value[rest_start..];
    let Some(at) = rest.rfind('@') else {
        return value.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &value[..rest_start],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => value.to_owned(),
    }
}

impl fmt::Display for MailConfig {
    /// A one-line description for logs, without the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailConfig::Files { dir } => write!(f, "file://{}", dir.display()),
            MailConfig::Smtp {
                host,
                port,
                tls,
                username,
                ..
            } => {
                write!(f, "{}://", tls.scheme())?;
                if let Some(user) = username {
                    write!(f, "{user}:***@")?;
                }
                if host.contains(':') {
                    write!(f, "[{host}]:{port}")
                } else {
                    write!(f, "{host}:{port}")
                }
            }
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailConfig::Files { dir } => f.debug_struct("Files").field("dir", dir).finish(),
            MailConfig::Smtp {
                host,
                port,
                tls,
                username,
                password,
            } => f
                .debug_struct("Smtp")
                .field("host", host)
                .field("port", port)
                .field("tls", tls)
                .field("username", username)
                .field("password", &password.as_ref().map(|_| "***"))
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse(url: &str) -> Result<MailConfig, MailError> {
        MailConfig::from_url(url, Path::new("/var/lib/conforme/mail"))
    }

    fn problem(url: &str) -> ConfigProblem {
        match parse(url) {
            Err(MailError::InvalidConfig { problem, .. }) => problem,
            other => panic!("expected InvalidConfig for {url:?}, got {other:?}"),
        }
    }

    fn smtp(
        host: &str,
        port: u16,
        tls: SmtpTls,
        user: Option<&str>,
        pass: Option<&str>,
    ) -> MailConfig {
        MailConfig::Smtp {
            host: host.to_owned(),
            port,
            tls,
            username: user.map(str::to_owned),
            password: pass.map(str::to_owned),
        }
    }

    #[test]
    fn empty_or_absent_means_files_in_the_default_dir() {
        let expected = MailConfig::Files {
            dir: PathBuf::from("/var/lib/conforme/mail"),
        };
        assert_eq!(parse("").unwrap(), expected);
        assert_eq!(parse("  \n").unwrap(), expected);
        assert_eq!(
            MailConfig::from_optional_url(None, Path::new("/var/lib/conforme/mail")).unwrap(),
            expected
        );
    }

    #[test]
    fn file_urls() {
        assert_eq!(
            parse("file:///srv/conforme/outbox").unwrap(),
            MailConfig::Files {
                dir: PathBuf::from("/srv/conforme/outbox")
            }
        );
        assert_eq!(
            parse("file://localhost/srv/bo%C3%AEte").unwrap(),
            MailConfig::Files {
                dir: PathBuf::from("/srv/boîte")
            }
        );
        assert_eq!(
            problem("file://mail.example.org/srv/x"),
            ConfigProblem::NotALocalPath
        );
        assert!(matches!(
            problem("file://u:p@localhost/srv/x"),
            ConfigProblem::NotAUrl(_) | ConfigProblem::NotALocalPath
        ));
    }

    #[test]
    fn plain_smtp() {
        assert_eq!(
            parse("smtp://127.0.0.1:2525").unwrap(),
            smtp("127.0.0.1", 2525, SmtpTls::None, None, None)
        );
        assert_eq!(
            parse("smtp://relay.local").unwrap(),
            smtp("relay.local", 25, SmtpTls::None, None, None)
        );
        assert_eq!(
            parse("smtp://[::1]:1025/").unwrap(),
            smtp("::1", 1025, SmtpTls::None, None, None)
        );
    }

    #[test]
    fn starttls_and_tls_with_percent_decoded_credentials() {
        assert_eq!(
            parse("smtp+starttls://conforme%40example.org:p%40ss%3Aw%2Frd%20%C3%A9@smtp.example.org:587").unwrap(),
            smtp(
                "smtp.example.org",
                587,
                SmtpTls::StartTls,
                Some("conforme@example.org"),
                Some("p@ss:w/rd é")
            )
        );
        assert_eq!(
            parse("smtp+starttls://u:p@smtp.example.org").unwrap(),
            smtp(
                "smtp.example.org",
                587,
                SmtpTls::StartTls,
                Some("u"),
                Some("p")
            )
        );
        assert_eq!(
            parse("smtps://u:p@smtp.example.org:465").unwrap(),
            smtp("smtp.example.org", 465, SmtpTls::Tls, Some("u"), Some("p"))
        );
        assert_eq!(
            parse("smtps://smtp.example.org").unwrap(),
            smtp("smtp.example.org", 465, SmtpTls::Tls, None, None)
        );
    }

    #[test]
    fn bad_inputs_are_named() {
        assert!(matches!(problem("/var/mail"), ConfigProblem::NotAUrl(_)));
        assert!(matches!(
            problem("smtp://host:99999"),
            ConfigProblem::NotAUrl(_)
        ));
        assert_eq!(
            problem("http://smtp.example.org"),
            ConfigProblem::UnknownScheme("http".to_owned())
        );
        assert_eq!(
            problem("smtp+ssl://smtp.example.org"),
            ConfigProblem::UnknownScheme("smtp+ssl".to_owned())
        );
        assert_eq!(problem("smtp://"), ConfigProblem::MissingHost);
        assert_eq!(problem("smtp://:25"), ConfigProblem::MissingHost);
        assert_eq!(problem("smtp://host:0"), ConfigProblem::PortZero);
        assert_eq!(
            problem("smtps://:secret@host"),
            ConfigProblem::PasswordWithoutUser
        );
        assert_eq!(
            problem("smtps://user@host"),
            ConfigProblem::UserWithoutPassword
        );
        assert_eq!(
            problem("smtps://u:%FF@host"),
            ConfigProblem::PasswordNotUtf8
        );
        assert_eq!(problem("smtps://%FF:p@host"), ConfigProblem::UserNotUtf8);
        assert_eq!(
            problem("smtp://host:25/ehlo-name"),
            ConfigProblem::UnexpectedPath("/ehlo-name".to_owned())
        );
        assert_eq!(
            problem("smtp://host:25?tls=required"),
            ConfigProblem::QueryOrFragment
        );
        assert_eq!(problem("smtp://host:25#x"), ConfigProblem::QueryOrFragment);
    }

    #[test]
    fn messages_are_bilingual_and_never_show_the_password() {
        let err = parse("smtp+ssl://user:hunter2@smtp.example.org").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("schéma « smtp+ssl » inconnu"), "{text}");
        assert!(text.contains("unknown scheme \"smtp+ssl\""), "{text}");
        assert!(text.contains("user:***@smtp.example.org"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");

        // Even when the value does not parse at all.
        let err = parse("smtps://user:pa ss/w@rd@host:notaport").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("pa ss"), "{text}");
        assert!(text.contains("ce n'est pas une URL"), "{text}");
        assert!(text.contains("not a URL"), "{text}");

        let config = parse("smtps://user:hunter2@smtp.example.org").unwrap();
        assert_eq!(config.to_string(), "smtps://user:***@smtp.example.org:465");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(
            parse("smtp://[::1]:1025").unwrap().to_string(),
            "smtp://[::1]:1025"
        );
    }
}
