//! One template per kind of message, in French: a subject, a plain-text body and an HTML body.
//!
//! The templates live in this crate's `templates/` folder, a `.txt` and an `.html` file per
//! message, extending `base.txt` and `base.html` (greeting, signature "L'équipe Conforme" and
//! the notice that the message is automatic). Plain text is not escaped; HTML is, so values
//! coming from users (an organisation's name, a notification's text) cannot inject markup.
//!
//! Links given to these functions must be absolute `https://` (or `http://`) URLs built by the
//! platform.

use askama::Template;

use crate::error::MailError;
use crate::mailer::OutgoingEmail;

/// A rendered message, ready to be addressed with [`Message::to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Message {
    /// The message addressed to `address` (display name `name`, if known).
    pub fn to(self, address: impl Into<String>, name: Option<String>) -> OutgoingEmail {
        OutgoingEmail {
            to: address.into(),
            to_name: name,
            subject: self.subject,
            text: self.text,
            html: Some(self.html),
        }
    }
}

fn render(
    template: &'static str,
    subject: String,
    text: &impl Template,
    html: &impl Template,
) -> Result<Message, MailError> {
    let failed = |source| MailError::Template { template, source };
    Ok(Message {
        text: text.render().map_err(failed)?,
        html: html.render().map_err(failed)?,
        subject,
    })
}

#[derive(Template)]
#[template(path = "verify_email.txt", escape = "none")]
struct VerifyEmailText<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyEmailHtml<'a> {
    subject: &'a str,
    link: &'a str,
}

/// Asks to confirm an email address (at sign-up or when the address changes) by opening `link`.
pub fn verify_email(link: &str) -> Result<Message, MailError> {
    let subject = "Confirmez votre adresse électronique";
    render(
        "verify_email",
        subject.to_owned(),
        &VerifyEmailText { link },
        &VerifyEmailHtml { subject, link },
    )
}

#[derive(Template)]
#[template(path = "one_time_code.txt", escape = "none")]
struct OneTimeCodeText<'a> {
    code: &'a str,
    validity: &'a str,
}

#[derive(Template)]
#[template(path = "one_time_code.html")]
struct OneTimeCodeHtml<'a> {
    subject: &'a str,
    code: &'a str,
    validity: &'a str,
}

/// Gives a one-time code, valid `minutes_valid` minutes. The code is not put in the subject,
/// which lock screens and notifications show.
pub fn one_time_code(code: &str, minutes_valid: u32) -> Result<Message, MailError> {
    let subject = "Votre code de vérification";
    // French: singular for 0 and 1.
    let validity = if minutes_valid < 2 {
        format!("{minutes_valid}\u{a0}minute")
    } else {
        format!("{minutes_valid}\u{a0}minutes")
    };
    render(
        "one_time_code",
        subject.to_owned(),
        &OneTimeCodeText {
            code,
            validity: &validity,
        },
        &OneTimeCodeHtml {
            subject,
            code,
            validity: &validity,
        },
    )
}

#[derive(Template)]
#[template(path = "password_reset.txt", escape = "none")]
struct PasswordResetText<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct PasswordResetHtml<'a> {
    subject: &'a str,
    link: &'a str,
}

/// Lets the holder of the account choose a new password by opening `link`.
pub fn password_reset(link: &str) -> Result<Message, MailError> {
    let subject = "Réinitialisation de votre mot de passe";
    render(
        "password_reset",
        subject.to_owned(),
        &PasswordResetText { link },
        &PasswordResetHtml { subject, link },
    )
}

#[derive(Template)]
#[template(path = "invitation.txt", escape = "none")]
struct InvitationText<'a> {
    org_name: &'a str,
    inviter: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationHtml<'a> {
    subject: &'a str,
    org_name: &'a str,
    inviter: &'a str,
    link: &'a str,
}

/// Invites someone to join the organisation `org_name` on behalf of `inviter` (a person's
/// name); `link` accepts the invitation.
pub fn invitation(org_name: &str, inviter: &str, link: &str) -> Result<Message, MailError> {
    let subject = format!("Invitation à rejoindre «\u{a0}{org_name}\u{a0}» sur Conforme");
    render(
        "invitation",
        subject.clone(),
        &InvitationText {
            org_name,
            inviter,
            link,
        },
        &InvitationHtml {
            subject: &subject,
            org_name,
            inviter,
            link,
        },
    )
}

#[derive(Template)]
#[template(path = "notification.txt", escape = "none")]
struct NotificationText<'a> {
    title: &'a str,
    body: &'a str,
    link: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "notification.html")]
struct NotificationHtml<'a> {
    subject: &'a str,
    title: &'a str,
    /// Paragraphs (separated by blank lines) of lines.
    paragraphs: Vec<Vec<&'a str>>,
    link: Option<&'a str>,
}

/// A notification: `title` (also the subject), `body` (plain text; blank lines separate
/// paragraphs) and, optionally, a `link` to the page concerned.
pub fn notification(title: &str, body: &str, link: Option<&str>) -> Result<Message, MailError> {
    let body = body.trim();
    let paragraphs = body
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect::<Vec<String>>();
    let paragraphs: Vec<Vec<&str>> = paragraphs
        .iter()
        .map(|p| p.lines().map(str::trim_end).collect())
        .collect();
    render(
        "notification",
        title.to_owned(),
        &NotificationText { title, body, link },
        &NotificationHtml {
            subject: title,
            title,
            paragraphs,
            link,
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::config::MailConfig;
    use crate::mailer::Mailer;
    use crate::test_support::read_outbox;

    const LINK: &str = "https://conforme.example/compte/verifier?jeton=abc&x=1";

    fn assert_common(message: &Message) {
        for body in [&message.text, &message.html] {
            assert!(body.contains("Bonjour,"), "{body}");
            assert!(body.contains("L'équipe Conforme"), "{body}");
            assert!(body.contains("envoyé automatiquement"), "{body}");
            assert!(!body.contains("{{") && !body.contains("{%"), "{body}");
        }
        assert!(message.html.starts_with("<!DOCTYPE html>"));
        assert!(message.html.contains("<html lang=\"fr\">"));
        assert!(!message.html.contains("<img"));
        assert!(!message.html.contains("<script"));
    }

    /// Undoes HTML escaping, whichever entities the escaper chose.
    fn unescape(html: &str) -> String {
        [
            ("&#60;", "<"),
            ("&lt;", "<"),
            ("&#62;", ">"),
            ("&gt;", ">"),
            ("&#34;", "\""),
            ("&quot;", "\""),
            ("&#39;", "'"),
            ("&#x27;", "'"),
            ("&#38;", "&"),
            ("&amp;", "&"),
        ]
        .iter()
        .fold(html.to_owned(), |acc, (entity, c)| acc.replace(entity, c))
    }

    #[test]
    fn verify_email_renders() {
        let m = verify_email(LINK).unwrap();
        assert_common(&m);
        assert_eq!(m.subject, "Confirmez votre adresse électronique");
        assert!(m.text.contains(LINK), "the link is literal in text");
        assert!(
            !m.html.contains(LINK),
            "the & of the link is escaped in HTML"
        );
        assert!(
            unescape(&m.html).contains(&format!("href=\"{LINK}\"")),
            "{}",
            m.html
        );
    }

    #[test]
    fn one_time_code_renders_with_french_plural() {
        let m = one_time_code("482913", 10).unwrap();
        assert_common(&m);
        assert!(!m.subject.contains("482913"), "no code in the subject");
        assert!(m.text.contains("482913"));
        assert!(m.html.contains("482913"));
        assert!(m.text.contains("10\u{a0}minutes"));
        let one = one_time_code("1", 1).unwrap();
        assert!(one.text.contains("1\u{a0}minute."), "{}", one.text);
    }

    #[test]
    fn password_reset_renders() {
        let m = password_reset(LINK).unwrap();
        assert_common(&m);
        assert_eq!(m.subject, "Réinitialisation de votre mot de passe");
        assert!(m.text.contains(LINK));
        assert!(m.text.contains("votre mot de passe actuel reste inchangé"));
    }

    #[test]
    fn hostile_values_are_escaped_in_html_and_literal_in_text() {
        let org = "<script>alert(\"x\")</script> & Cie";
        let inviter = "Jean <b>Dupont</b>";
        let m = invitation(org, inviter, LINK).unwrap();
        assert_common(&m);
        assert!(m.text.contains(org), "{}", m.text);
        assert!(m.text.contains(inviter), "{}", m.text);
        assert!(m.subject.contains(org));
        assert!(!m.html.contains("<script>"), "{}", m.html);
        assert!(!m.html.contains("<b>"), "{}", m.html);
        assert!(!m.html.contains("\"x\""), "{}", m.html);
        assert!(m.html.contains("script&"), "{}", m.html);
        assert!(unescape(&m.html).contains(org), "{}", m.html);
        assert!(unescape(&m.html).contains(inviter), "{}", m.html);

        let n = notification(
            "<i>Titre</i>",
            "Ligne <u>1</u>\nLigne 2\n\nParagraphe 2",
            None,
        )
        .unwrap();
        assert!(
            n.text
                .contains("<i>Titre</i>\n\nLigne <u>1</u>\nLigne 2\n\nParagraphe 2"),
            "{}",
            n.text
        );
        assert!(
            !n.html.contains("<u>") && !n.html.contains("<i>"),
            "{}",
            n.html
        );
        assert!(unescape(&n.html).contains("<h1 style=\"margin:0 0 16px 0;font-size:20px;line-height:1.3;color:#161616;\"><i>Titre</i></h1>"), "{}", n.html);
    }

    #[test]
    fn notification_renders_paragraphs_and_optional_link() {
        let m = notification(
            "Votre dossier a été examiné",
            "Le dossier « Logiciel A » a été examiné.\nUne réponse est attendue.\n\nMerci.",
            Some(LINK),
        )
        .unwrap();
        assert_common(&m);
        assert_eq!(m.subject, "Votre dossier a été examiné");
        assert!(m.text.contains(LINK));
        assert!(
            m.html
                .contains("a été examiné.<br>\nUne réponse est attendue.</p>")
                || m.html
                    .contains("a été examiné.<br>Une réponse est attendue.</p>"),
            "{}",
            m.html
        );
        assert!(m.html.contains(">Merci.</p>"), "{}", m.html);

        let without = notification("Titre", "Corps.", None).unwrap();
        assert_common(&without);
        assert!(!without.html.contains("href=\"http"), "{}", without.html);
        assert!(!without.text.contains("https://"), "{}", without.text);
    }

    /// Prints every message, for reading them: `cargo test -p conforme-mail -- --ignored --nocapture print_all`.
    #[test]
    #[ignore = "prints the messages for proofreading"]
    fn print_all() {
        for m in [
            verify_email(LINK).unwrap(),
            one_time_code("482913", 10).unwrap(),
            password_reset(LINK).unwrap(),
            invitation("Clinique des Lilas", "Claire Martin", LINK).unwrap(),
            notification(
                "Votre dossier a été examiné",
                "Le dossier a été examiné.\n\nMerci.",
                Some(LINK),
            )
            .unwrap(),
        ] {
            println!("=== {}\n{}\n--- html\n{}\n", m.subject, m.text, m.html);
        }
    }

    #[tokio::test]
    async fn a_template_sent_to_files_reads_back_intact() {
        let tmp = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(
            MailConfig::Files {
                dir: tmp.path().to_path_buf(),
            },
            crate::DEFAULT_FROM,
        )
        .unwrap();
        let message = invitation("Clinique <des> Lilas", "Claire Martin", LINK).unwrap();
        mailer
            .send(
                &message
                    .clone()
                    .to("paul@example.org", Some("Paul Bernard".to_owned())),
            )
            .await
            .unwrap();
        let outbox = read_outbox(tmp.path());
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].subject, message.subject);
        assert_eq!(outbox[0].to_address, "paul@example.org");
        assert_eq!(
            outbox[0].text.trim_end(),
            message.text.replace("\r\n", "\n").trim_end()
        );
        assert_eq!(
            outbox[0].html.as_deref().map(str::trim_end),
            Some(message.html.trim_end())
        );
    }
}
