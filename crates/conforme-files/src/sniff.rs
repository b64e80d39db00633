//! The type of a file, told from its first bytes (never from its name or the client's word).

/// How many leading bytes the type is decided on.
pub const SNIFF_LEN: usize = 8 * 1024;

/// The type of anything not recognised.
pub const OCTET_STREAM: &str = "application/octet-stream";
/// The type of text without a recognised format (logs, CSV, JSON…).
pub const TEXT_PLAIN: &str = "text/plain";

/// The MIME type of a file whose first bytes (at most [`SNIFF_LEN`] are looked at) are `head`.
///
/// Magic numbers first (`infer`: images, PDF, archives, office documents, videos…), then
/// plain text: valid UTF-8 with no NUL byte, a character cut at the end of the window being
/// allowed. Anything else is `application/octet-stream`.
pub fn sniff(head: &[u8]) -> String {
    let head = &head[..head.len().min(SNIFF_LEN)];
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    if is_plain_text(head) {
        TEXT_PLAIN.to_string()
    } else {
        OCTET_STREAM.to_string()
    }
}

fn is_plain_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // Only an incomplete character at the very end, cut by the window.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_types_from_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "application/pdf");
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\x08\0"), "application/zip");
        assert_eq!(sniff(b"2026-03-31 12:00:00 INFO started\n"), TEXT_PLAIN);
        assert_eq!(sniff("Déclaration de conformité ✓".as_bytes()), TEXT_PLAIN);
        assert_eq!(sniff(b"text with a \0 NUL"), OCTET_STREAM);
        assert_eq!(sniff(b"\xff\xfe\xfd not utf-8"), OCTET_STREAM);
        assert_eq!(sniff(b""), OCTET_STREAM);
    }

    #[test]
    fn accepts_a_character_cut_by_the_window() {
        let mut text = "a".repeat(SNIFF_LEN - 1).into_bytes();
        text.extend_from_slice("é".as_bytes());
        assert_eq!(text.len(), SNIFF_LEN + 1);
        assert_eq!(sniff(&text), TEXT_PLAIN);
        // A broken character in the middle is not text.
        let mut broken = b"abc".to_vec();
        broken.push(0xc3);
        broken.extend_from_slice(b"def");
        assert_eq!(sniff(&broken), OCTET_STREAM);
    }
}
