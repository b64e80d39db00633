//! Text normalisation shared by search and imports.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds a text for accent- and case-insensitive search: decomposes, drops combining marks,
/// lowercases, turns every kind of whitespace (non-breaking spaces included) and typographic
/// apostrophes into their plain forms, and collapses runs of whitespace.
pub fn fold_for_search(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        let c = match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' => '\'',
            '\u{0152}' | '\u{0153}' => {
                out.push('o');
                'e'
            }
            '\u{00C6}' | '\u{00E6}' => {
                out.push('a');
                'e'
            }
            other => other,
        };
        out.extend(c.to_lowercase());
    }
    out
}

/// Cleans a cell's text as imported: non-breaking and other odd spaces become plain spaces,
/// Windows line ends become `\n`, and surrounding whitespace is trimmed. Inner line breaks are
/// kept: requirement texts are multi-line.
pub fn clean_cell(input: &str) -> String {
    let replaced: String = input
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .map(|c| match c {
            '\u{00A0}' | '\u{202F}' | '\u{2007}' | '\u{2009}' => ' ',
            other => other,
        })
        .collect();
    replaced.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_spaces() {
        assert_eq!(
            fold_for_search("Éditeur  DOIT\u{00A0}vérifier"),
            "editeur doit verifier"
        );
        assert_eq!(fold_for_search("l’identité"), "l'identite");
        assert_eq!(fold_for_search("Œuvre"), "oeuvre");
        assert_eq!(fold_for_search("  \n"), "");
    }

    #[test]
    fn cleans_cells_keeping_line_breaks() {
        assert_eq!(clean_cell("\u{00A0}a\r\nb\u{202F}c "), "a\nb c");
    }
}
