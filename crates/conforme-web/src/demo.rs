//! Demonstration mode only: `/demo/courriels` lists the emails the platform wrote to its
//! folder, so that someone trying the platform reads codes and links without a mail server.
//! Answers 404 unless the server was started by `conforme demo`.

use crate::AppState;
use crate::auth::Layout;
use crate::error::{AppError, PageResult};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/demo/courriels", get(list_emails))
}

struct Email {
    file: String,
    headers: Vec<String>,
    body: String,
}

#[derive(Template)]
#[template(path = "demo_emails.html")]
struct EmailsPage {
    layout: Layout,
    emails: Vec<Email>,
}

/// The plain-text part of a message as lettre writes it (quoted-printable or 7-bit), decoded
/// enough to read codes and links.
fn plain_text(raw: &str) -> (Vec<String>, String) {
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let headers = head
        .lines()
        .filter(|l| l.starts_with("To:") || l.starts_with("Subject:") || l.starts_with("Date:"))
        .map(str::to_string)
        .collect();
    let text_part = rest
        .split("Content-Type: text/plain")
        .nth(1)
        .and_then(|p| p.split_once("\r\n\r\n").map(|(_, b)| b))
        .unwrap_or(rest);
    let text_part = text_part.split("\r\n--").next().unwrap_or(text_part);
    (headers, decode_quoted_printable(text_part))
}

fn decode_quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

async fn list_emails(State(state): State<AppState>) -> PageResult<Html<String>> {
    let Some(dir) = state.config.demo_mail_dir.clone() else {
        return Err(AppError::NotFound("Cette page n'existe pas.".into()).into());
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by_key(|e| std::cmp::Reverse(e.metadata().and_then(|m| m.modified()).ok()));
    let emails = entries
        .iter()
        .take(30)
        .filter_map(|e| {
            let raw = std::fs::read_to_string(e.path()).ok()?;
            let (headers, body) = plain_text(&raw);
            Some(Email {
                file: e.file_name().to_string_lossy().into_owned(),
                headers,
                body,
            })
        })
        .collect();
    Ok(Html(
        EmailsPage {
            layout: Layout::public(""),
            emails,
        }
        .render()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_is_decoded() {
        assert_eq!(
            decode_quoted_printable("Votre code : =\r\n123456 =C3=A9t=C3=A9"),
            "Votre code : 123456 été"
        );
        assert_eq!(decode_quoted_printable("a=3Db="), "a=b=");
    }
}
