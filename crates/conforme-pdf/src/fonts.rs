//! The two embedded faces (DejaVu Sans and DejaVu Sans Bold), their character map and advance
//! widths, and the cleaning of text to what they can draw.
//!
//! Glyphs are laid out one per character from the font's own advances, without shaping: the
//! documents are French prose in one script, the widths measured for line breaking are then
//! exactly the widths drawn, and krilla still writes each glyph's text for extraction.

use krilla::Data;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::raw::TableProvider;
use skrifa::{FontRef, MetadataProvider};
use std::sync::LazyLock;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Parsed once per process: krilla hashes the whole font file when a `Font` is made.
static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    Some(Fonts {
        regular: Face::load(REGULAR)?,
        bold: Face::load(BOLD)?,
    })
});

pub(crate) struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

impl Fonts {
    /// The embedded faces; `None` only if a vendored font file were unreadable.
    pub fn get() -> Option<&'static Fonts> {
        FONTS.as_ref()
    }

    pub fn face(&self, bold: bool) -> &Face {
        if bold { &self.bold } else { &self.regular }
    }
}

pub(crate) struct Face {
    pub font: Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
    /// Drawn for characters the face lacks.
    replacement: skrifa::GlyphId,
}

impl Face {
    fn load(data: &'static [u8]) -> Option<Self> {
        let font_ref = FontRef::new(data).ok()?;
        let units_per_em = f32::from(font_ref.head().ok()?.units_per_em());
        let charmap = font_ref.charmap();
        let metrics = font_ref.glyph_metrics(Size::unscaled(), LocationRef::default());
        let replacement = charmap.map('?')?;
        let font = Font::new(Data::from(data), 0)?;
        Some(Self {
            font,
            charmap,
            metrics,
            units_per_em,
            replacement,
        })
    }

    fn glyph(&self, c: char) -> Option<skrifa::GlyphId> {
        self.charmap
            .map(c)
            .filter(|g| *g != skrifa::GlyphId::NOTDEF)
    }

    /// Advance of one character, in em.
    fn advance(&self, c: char) -> f32 {
        let glyph = self.glyph(c).unwrap_or(self.replacement);
        self.metrics.advance_width(glyph).unwrap_or(0.0) / self.units_per_em
    }

    /// Width of `text` at `size` points, for text already [cleaned](Self::clean).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    pub fn char_width(&self, c: char, size: f32) -> f32 {
        self.advance(c) * size
    }

    /// `text` reduced to what the face draws and PDF/A accepts: tabs and other spacing
    /// become spaces, control and invisible format characters are dropped, characters the
    /// face lacks (and private-use ones, forbidden as text mappings) become `?`.
    pub fn clean(&self, text: &str) -> String {
        text.chars()
            .filter_map(|c| match c {
                '\t' | '\u{2028}' | '\u{2029}' => Some(' '),
                '\n' => Some('\n'),
                '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => None,
                c if c.is_control() => None,
                '\u{E000}'..='\u{F8FF}' | '\u{F0000}'.. => Some('?'),
                c if self.glyph(c).is_none() => Some('?'),
                c => Some(c),
            })
            .collect()
    }

    /// One glyph per character of `text` (already cleaned), advances in em.
    pub fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let glyph = self.glyph(c).unwrap_or(self.replacement);
                KrillaGlyph::new(
                    GlyphId::new(glyph.to_u32()),
                    self.metrics.advance_width(glyph).unwrap_or(0.0) / self.units_per_em,
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                )
            })
            .collect()
    }
}
