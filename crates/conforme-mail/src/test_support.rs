//! Test helper: reads back the `.eml` files written by the file transport.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use mail_parser::{MessageParser, PartType};

/// One message read back from the outbox, decoded (RFC 2047 headers, quoted-printable and
/// base64 bodies).
#[derive(Debug)]
pub(crate) struct ReadEmail {
    pub(crate) from_address: String,
    pub(crate) to_address: String,
    pub(crate) to_name: Option<String>,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: Option<String>,
    /// The file as written.
    pub(crate) raw: String,
}

/// Every `.eml` file of `dir`, parsed; none when the folder does not exist.
pub(crate) fn read_outbox(dir: &Path) -> Vec<ReadEmail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| parse_eml(&std::fs::read(path).unwrap()))
        .collect()
}

pub(crate) fn parse_eml(bytes: &[u8]) -> ReadEmail {
    let message = MessageParser::default().parse(bytes).unwrap();
    let first = |address: Option<&mail_parser::Address<'_>>| {
        let addr = address.and_then(|a| a.first()).unwrap();
        (
            addr.address().unwrap().to_owned(),
            addr.name().map(str::to_owned),
        )
    };
    let (to_address, to_name) = first(message.to());
    let (from_address, _) = first(message.from());
    ReadEmail {
        from_address,
        to_address,
        to_name,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .unwrap_or_default()
            .replace("\r\n", "\n"),
        html: message.parts.iter().find_map(|part| match &part.body {
            PartType::Html(html) => Some(html.replace("\r\n", "\n")),
            _ => None,
        }),
        raw: String::from_utf8_lossy(bytes).into_owned(),
    }
}
