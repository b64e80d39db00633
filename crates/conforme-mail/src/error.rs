//! Errors of this crate. Messages are given in French then English, since they reach both the
//! operators reading logs and the French-speaking administrators configuring the platform.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while configuring the mailer, rendering or sending a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// `CONFORME_SMTP_URL` (or the value given to [`crate::MailConfig::from_url`]) is not usable.
    /// `value` is the offending value with any password masked.
    #[error(
        "CONFORME_SMTP_URL invalide « {value} » : {problem} / invalid CONFORME_SMTP_URL \"{value}\": {}",
        problem.english()
    )]
    InvalidConfig {
        value: String,
        problem: ConfigProblem,
    },

    /// The sender mailbox (`CONFORME_MAIL_FROM`) does not parse.
    #[error(
        "adresse d'expéditeur CONFORME_MAIL_FROM invalide « {value} », attendu par exemple « Conforme <ne-pas-repondre@exemple.fr> » / invalid sender CONFORME_MAIL_FROM \"{value}\", expected e.g. \"Conforme <no-reply@example.org>\": {source}"
    )]
    InvalidFrom {
        value: String,
        #[source]
        source: lettre::address::AddressError,
    },

    /// The recipient address of a message is not a valid email address.
    #[error(
        "adresse électronique du destinataire invalide « {address} » / invalid recipient email address \"{address}\": {source}"
    )]
    InvalidRecipient {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },

    /// lettre refused to assemble the message.
    #[error("impossible de composer le courriel / could not build the email: {0}")]
    Build(#[source] lettre::error::Error),

    /// An email template failed to render.
    #[error(
        "échec du rendu du modèle de courriel « {template} » / email template \"{template}\" failed to render: {source}"
    )]
    Template {
        template: &'static str,
        #[source]
        source: askama::Error,
    },

    /// The outbox folder of the file transport could not be created.
    #[error(
        "impossible de créer le dossier des courriels {} / could not create the mail folder {}: {source}",
        path.display(), path.display()
    )]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file transport could not write the `.eml` file.
    #[error(
        "impossible d'écrire le courriel dans {} / could not write the email into {}: {source}",
        dir.display(), dir.display()
    )]
    File {
        dir: PathBuf,
        #[source]
        source: lettre::transport::file::Error,
    },

    /// TLS could not be set up for the SMTP host (at configuration time).
    #[error(
        "configuration TLS impossible pour le serveur SMTP {host} / could not set up TLS for SMTP host {host}: {source}"
    )]
    Tls {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },

    /// The SMTP server could not be reached, refused the message or the exchange failed.
    #[error(
        "échec de l'envoi par SMTP via {server} / SMTP delivery through {server} failed: {source}"
    )]
    Smtp {
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },

    /// The SMTP exchange did not finish in time.
    #[error(
        "délai dépassé ({} s) pour l'envoi par SMTP via {server} / SMTP delivery through {server} timed out after {} s",
        after.as_secs_f32(), after.as_secs_f32()
    )]
    Timeout { server: String, after: Duration },
}

impl MailError {
    /// Whether trying again later may succeed (a network or disk problem, a timeout, a 4xx reply),
    /// as opposed to a configuration or content problem, or a permanent refusal (5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Timeout { .. } | MailError::CreateDir { .. } | MailError::File { .. } => {
                true
            }
            MailError::Smtp { source, .. } => !source.is_permanent(),
            _ => false,
        }
    }
}

/// What is wrong with a transport URL. Displayed in French; [`ConfigProblem::english`] gives
/// the English wording.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// Not a URL at all (the parser's reason is kept).
    NotAUrl(String),
    /// A scheme other than `smtp`, `smtp+starttls`, `smtps` or `file`.
    UnknownScheme(String),
    /// An SMTP URL without a host name.
    MissingHost,
    /// Port 0.
    PortZero,
    /// A password without a user name.
    PasswordWithoutUser,
    /// A user name without a password.
    UserWithoutPassword,
    /// The user name is not valid UTF-8 once percent-decoded.
    UserNotUtf8,
    /// The password is not valid UTF-8 once percent-decoded.
    PasswordNotUtf8,
    /// Something after the host and port of an SMTP URL (`/path`).
    UnexpectedPath(String),
    /// A `?query` or `#fragment`, which are not supported.
    QueryOrFragment,
    /// A `file:` URL that names a host, has credentials or is not an absolute local path.
    NotALocalPath,
    /// The environment variable is set but not valid Unicode.
    NotUnicode,
}

const EXPECTED_FR: &str = "formes acceptées : smtp://hôte:port, smtp+starttls://utilisateur:mot-de-passe@hôte:587, smtps://utilisateur:mot-de-passe@hôte:465 ou file:///chemin/du/dossier";
const EXPECTED_EN: &str = "accepted forms: smtp://host:port, smtp+starttls://user:password@host:587, smtps://user:password@host:465 or file:///path/to/folder";

impl ConfigProblem {
    /// The English wording of the problem.
    pub fn english(&self) -> String {
        match self {
            ConfigProblem::NotAUrl(reason) => format!("not a URL ({reason}); {EXPECTED_EN}"),
            ConfigProblem::UnknownScheme(scheme) => {
                format!("unknown scheme \"{scheme}\"; {EXPECTED_EN}")
            }
            ConfigProblem::MissingHost => "the SMTP server host name is missing".to_owned(),
            ConfigProblem::PortZero => "port 0 is not a valid SMTP port".to_owned(),
            ConfigProblem::PasswordWithoutUser => {
                "a password is given without a user name".to_owned()
            }
            ConfigProblem::UserWithoutPassword => {
                "a user name is given without a password (write user:password@host)".to_owned()
            }
            ConfigProblem::UserNotUtf8 => {
                "the user name is not valid UTF-8 once percent-decoded".to_owned()
            }
            ConfigProblem::PasswordNotUtf8 => {
                "the password is not valid UTF-8 once percent-decoded".to_owned()
            }
            ConfigProblem::UnexpectedPath(path) => {
                format!("unexpected path \"{path}\" after the host and port of an SMTP URL")
            }
            ConfigProblem::QueryOrFragment => {
                "query strings (?…) and fragments (#…) are not supported".to_owned()
            }
            ConfigProblem::NotALocalPath => {
                "a file: URL must name an absolute local folder, e.g. file:///var/lib/conforme/mail"
                    .to_owned()
            }
            ConfigProblem::NotUnicode => "the value is not valid Unicode".to_owned(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigProblem::NotAUrl(reason) => {
                write!(f, "ce n'est pas une URL ({reason}) ; {EXPECTED_FR}")
            }
            ConfigProblem::UnknownScheme(scheme) => {
                write!(f, "schéma « {scheme} » inconnu ; {EXPECTED_FR}")
            }
            ConfigProblem::MissingHost => f.write_str("le nom du serveur SMTP est absent"),
            ConfigProblem::PortZero => f.write_str("le port 0 n'est pas un port SMTP valide"),
            ConfigProblem::PasswordWithoutUser => {
                f.write_str("un mot de passe est donné sans nom d'utilisateur")
            }
            ConfigProblem::UserWithoutPassword => f.write_str(
                "un nom d'utilisateur est donné sans mot de passe (écrire utilisateur:mot-de-passe@hôte)",
            ),
            ConfigProblem::UserNotUtf8 => f.write_str(
                "le nom d'utilisateur n'est pas de l'UTF-8 valide une fois décodé (encodage %XX)",
            ),
            ConfigProblem::PasswordNotUtf8 => f.write_str(
                "le mot de passe n'est pas de l'UTF-8 valide une fois décodé (encodage %XX)",
            ),
            ConfigProblem::UnexpectedPath(path) => write!(
                f,
                "chemin « {path} » inattendu après l'hôte et le port d'une URL SMTP"
            ),
            ConfigProblem::QueryOrFragment => {
                f.write_str("les paramètres (?…) et fragments (#…) ne sont pas acceptés")
            }
            ConfigProblem::NotALocalPath => f.write_str(
                "une URL file: doit désigner un dossier local par un chemin absolu, par exemple file:///var/lib/conforme/mail",
            ),
            ConfigProblem::NotUnicode => f.write_str("la valeur n'est pas de l'Unicode valide"),
        }
    }
}
