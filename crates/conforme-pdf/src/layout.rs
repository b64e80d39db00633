//! A small flowing layout on A4 pages: wrapped text, key/value rows, rules and filled
//! rectangles, with automatic page breaks. Pages are first laid out as lists of operations,
//! then drawn with krilla once their number is known, for the « Page n / N » footers.

use crate::PdfError;
use crate::fonts::{Face, Fonts};
use krilla::Document;
use krilla::SerializeSettings;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;

pub const MM: f32 = 72.0 / 25.4;
pub const PAGE_W: f32 = 210.0 * MM;
pub const PAGE_H: f32 = 297.0 * MM;
pub const MARGIN: f32 = 20.0 * MM;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const CONTENT_TOP: f32 = 27.0 * MM;
const CONTENT_BOTTOM: f32 = PAGE_H - 22.0 * MM;

pub const HEADER: &str = "Agence du numérique en santé — Ségur du numérique en santé";

/// The blue of the French State's identity (« bleu France »), for the header and titles.
pub const BLUE: Rgb = Rgb(0, 0, 145);
pub const BLACK: Rgb = Rgb(0, 0, 0);
pub const GREY: Rgb = Rgb(90, 90, 90);

#[derive(Debug, Clone, Copy)]
pub struct Rgb(pub u8, pub u8, pub u8);

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub bold: bool,
    pub size: f32,
    pub color: Rgb,
}

impl Style {
    pub const BODY: Style = Style {
        bold: false,
        size: 10.0,
        color: BLACK,
    };
    pub const LABEL: Style = Style {
        bold: true,
        size: 10.0,
        color: BLACK,
    };

    pub fn line_height(self) -> f32 {
        self.size * 1.4
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
}

enum Op {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        text: String,
    },
    Rects {
        /// x, y (top), width, height.
        rects: Vec<[f32; 4]>,
        color: Rgb,
    },
}

pub struct Layout {
    fonts: &'static Fonts,
    pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page.
    y: f32,
    footer: String,
    /// Header and footer on every page (off only for the benchmark baseline).
    chrome: bool,
}

impl Layout {
    /// `footer` is printed at the bottom left of every page, shortened if too long.
    pub fn new(footer: &str) -> Result<Self, PdfError> {
        let fonts = Fonts::get().ok_or(PdfError::Font)?;
        Ok(Self {
            fonts,
            pages: vec![Vec::new()],
            y: CONTENT_TOP,
            footer: footer.to_string(),
            chrome: true,
        })
    }

    /// A layout whose pages carry only what is put on them.
    pub fn bare() -> Result<Self, PdfError> {
        let mut layout = Self::new("")?;
        layout.chrome = false;
        Ok(layout)
    }

    pub fn face(&self, style: Style) -> &'static Face {
        self.fonts.face(style.bold)
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = CONTENT_TOP;
    }

    /// Starts a new page unless `height` more fits on this one (a block taller than a page
    /// is started on a fresh page only once).
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM && self.y > CONTENT_TOP {
            self.new_page();
        }
    }

    pub fn space(&mut self, height: f32) {
        self.y += height;
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// One line of already wrapped, cleaned text at the current position.
    fn line(&mut self, x: f32, width: f32, text: String, style: Style, align: Align) {
        let lh = style.line_height();
        self.ensure(lh);
        let x = match align {
            Align::Left => x,
            Align::Center => {
                x + ((width - self.face(style).width(&text, style.size)) / 2.0).max(0.0)
            }
        };
        // The baseline sits about 0.8 em below the top of a line box of 1.4 em.
        let baseline = self.y + style.size * 1.05;
        if !text.is_empty() {
            self.push(Op::Text {
                x,
                baseline,
                style,
                text,
            });
        }
        self.y += lh;
    }

    /// Wrapped text across the content width, with page breaks between lines.
    pub fn text(&mut self, text: &str, style: Style, align: Align) {
        self.text_at(MARGIN, CONTENT_W, text, style, align);
    }

    pub fn text_at(&mut self, x: f32, width: f32, text: &str, style: Style, align: Align) {
        for line in wrap(self.face(style), style.size, text, width) {
            self.line(x, width, line, style, align);
        }
    }

    /// Paragraphs separated by blank lines, each followed by a small gap; single line
    /// breaks inside a paragraph are kept (lists).
    pub fn paragraphs(&mut self, body: &str, style: Style) {
        for paragraph in split_paragraphs(body) {
            self.text(&paragraph, style, Align::Left);
            self.space(style.size * 0.5);
        }
    }

    /// A heading kept with at least two lines of what follows.
    pub fn heading(&mut self, text: &str, style: Style) {
        let lines = wrap(self.face(style), style.size, text, CONTENT_W);
        let height = lines.len() as f32 * style.line_height() + 2.0 * Style::BODY.line_height();
        self.ensure(height);
        for line in lines {
            self.line(MARGIN, CONTENT_W, line, style, Align::Left);
        }
    }

    /// Rows of a bold label and a wrapped value, the values aligned on one column.
    pub fn key_values(&mut self, rows: &[(&str, String)]) {
        let label_w = 52.0 * MM;
        let gap = 3.0 * MM;
        let value_w = CONTENT_W - label_w - gap;
        for (label, value) in rows {
            let labels = wrap(self.face(Style::LABEL), Style::LABEL.size, label, label_w);
            let values = wrap(self.face(Style::BODY), Style::BODY.size, value, value_w);
            let n = labels.len().max(values.len());
            // Rows of up to four lines are not split across pages.
            self.ensure(n.min(4) as f32 * Style::BODY.line_height());
            for i in 0..n {
                let lh = Style::BODY.line_height();
                self.ensure(lh);
                let y = self.y;
                if let Some(l) = labels.get(i) {
                    self.line(MARGIN, label_w, l.clone(), Style::LABEL, Align::Left);
                    self.y = y;
                }
                if let Some(v) = values.get(i) {
                    self.line(
                        MARGIN + label_w + gap,
                        value_w,
                        v.clone(),
                        Style::BODY,
                        Align::Left,
                    );
                }
                self.y = y + lh;
            }
            self.space(1.2 * MM);
        }
    }

    /// A thin horizontal rule across the content width.
    pub fn rule(&mut self, color: Rgb) {
        self.ensure(3.0 * MM);
        self.space(1.0 * MM);
        let y = self.y;
        self.push(Op::Rects {
            rects: vec![[MARGIN, y, CONTENT_W, 0.6]],
            color,
        });
        self.space(2.0 * MM);
    }

    /// Dark modules of a square matrix (`dark[row * width + col]`), centred, `size` points wide
    /// without the quiet zone, which is left blank around it.
    pub fn matrix(&mut self, dark: &[bool], width: usize, size: f32) {
        if width == 0 {
            return;
        }
        let module = size / width as f32;
        let quiet = 4.0 * module;
        self.ensure(size + 2.0 * quiet);
        self.space(quiet);
        let x0 = MARGIN + (CONTENT_W - size) / 2.0;
        let y0 = self.y;
        let mut rects = Vec::new();
        for (row, cells) in dark.chunks(width).enumerate() {
            // Runs of dark modules as one rectangle each: fewer path segments, no seams.
            let mut col = 0;
            while col < cells.len() {
                if cells[col] {
                    let start = col;
                    while col < cells.len() && cells[col] {
                        col += 1;
                    }
                    rects.push([
                        x0 + start as f32 * module,
                        y0 + row as f32 * module,
                        (col - start) as f32 * module,
                        module,
                    ]);
                } else {
                    col += 1;
                }
            }
        }
        self.push(Op::Rects {
            rects,
            color: BLACK,
        });
        self.y = y0 + size + quiet;
    }

    /// Draws the pages with header and footer and serialises them as PDF/A-2b.
    pub fn finish(self, metadata: Metadata) -> Result<Vec<u8>, PdfError> {
        let configuration = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A2_B)
            .finish()
            .map_err(|e| PdfError::Render(format!("{e:?}")))?;
        let settings = SerializeSettings {
            configuration,
            ..SerializeSettings::default()
        };
        let mut document = Document::new_with(settings);
        let page_settings =
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(PdfError::Render("page size".into()))?;
        let total = self.pages.len();
        let small = Style {
            bold: false,
            size: 8.0,
            color: GREY,
        };
        for (index, ops) in self.pages.iter().enumerate() {
            let mut page = document.start_page_with(page_settings.clone());
            let mut surface = page.surface();
            let draw_text = |surface: &mut krilla::surface::Surface<'_>,
                             x: f32,
                             baseline: f32,
                             style: Style,
                             text: &str| {
                let face = self.fonts.face(style.bold);
                surface.set_fill(Some(fill(style.color)));
                surface.draw_glyphs(
                    Point::from_xy(x, baseline),
                    &face.glyphs(text),
                    face.font.clone(),
                    text,
                    style.size,
                    false,
                );
            };

            if self.chrome {
                let header = Style {
                    bold: true,
                    size: 8.5,
                    color: BLUE,
                };
                draw_text(&mut surface, MARGIN, 15.0 * MM, header, HEADER);
                fill_rects(&mut surface, &[[MARGIN, 17.0 * MM, CONTENT_W, 0.8]], BLUE);

                let number = format!("Page {} / {total}", index + 1);
                let face = self.fonts.face(false);
                let number_w = face.width(&number, small.size);
                let footer_y = PAGE_H - 12.0 * MM;
                fill_rects(
                    &mut surface,
                    &[[MARGIN, footer_y - 4.0 * MM, CONTENT_W, 0.4]],
                    GREY,
                );
                let footer = truncate(
                    face,
                    small.size,
                    &face.clean(&self.footer),
                    CONTENT_W - number_w - 8.0 * MM,
                );
                draw_text(&mut surface, MARGIN, footer_y, small, &footer);
                draw_text(
                    &mut surface,
                    PAGE_W - MARGIN - number_w,
                    footer_y,
                    small,
                    &number,
                );
            }

            for op in ops {
                match op {
                    Op::Text {
                        x,
                        baseline,
                        style,
                        text,
                    } => draw_text(&mut surface, *x, *baseline, *style, text),
                    Op::Rects { rects, color } => fill_rects(&mut surface, rects, *color),
                }
            }
            surface.finish();
            page.finish();
        }
        document.set_metadata(metadata);
        document
            .finish()
            .map_err(|e| PdfError::Render(format!("{e}: {e:?}")))
    }
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        ..Fill::default()
    }
}

fn fill_rects(surface: &mut krilla::surface::Surface<'_>, rects: &[[f32; 4]], color: Rgb) {
    let mut builder = PathBuilder::new();
    for [x, y, w, h] in rects {
        if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
            builder.push_rect(rect);
        }
    }
    if let Some(path) = builder.finish() {
        surface.set_fill(Some(fill(color)));
        surface.draw_path(&path);
    }
}

/// `text` cut to `width` with an ellipsis.
fn truncate(face: &Face, size: f32, text: &str, width: f32) -> String {
    if face.width(text, size) <= width {
        return text.to_string();
    }
    let budget = width - face.char_width('…', size);
    let mut out = String::new();
    let mut w = 0.0;
    for c in text.chars() {
        w += face.char_width(c, size);
        if w > budget {
            break;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Paragraphs of `body`: runs of non-blank lines, separated by blank lines.
pub fn split_paragraphs(body: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    paragraphs
}

/// Greedy line breaking of `text` (cleaned first) at spaces, to `width` points; a word wider
/// than a line is cut between characters. Line breaks in `text` are kept.
pub fn wrap(face: &Face, size: f32, text: &str, width: f32) -> Vec<String> {
    let text = face.clean(text);
    let space = face.char_width(' ', size);
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0;
        for word in raw.split(' ').filter(|w| !w.is_empty()) {
            let word_w = face.width(word, size);
            let gap = if line.is_empty() { 0.0 } else { space };
            if line_w + gap + word_w <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += gap + word_w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if word_w <= width {
                line.push_str(word);
                line_w = word_w;
            } else {
                for c in word.chars() {
                    let c_w = face.char_width(c, size);
                    if line_w + c_w > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    line.push(c);
                    line_w += c_w;
                }
            }
        }
        lines.push(line);
    }
    lines
}
