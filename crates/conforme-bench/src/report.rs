//! The machine a run was made on, and the rewriting of the results section of
//! `docs/performance.md`.

use std::fmt::Write as _;

const RESULTS_HEADING: &str = "## Results";

/// One line describing the run: date, machine, toolchain, build profile.
pub fn machine_line() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or_else(
            || "unknown memory".to_string(),
            |kib| format!("{:.1} GiB RAM", kib / (1024.0 * 1024.0)),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(
        |_| std::env::consts::OS.to_string(),
        |r| format!("{} {}", std::env::consts::OS, r.trim()),
    );
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "rustc unknown".to_string(), |v| v.trim().to_string());
    let profile = if cfg!(debug_assertions) {
        "**dev profile: debug assertions on, numbers not representative**"
    } else {
        "release profile"
    };
    format!(
        "Run of {} on {cores} logical cores ({cpu}), {memory}, {kernel}; {rustc}, {profile}.",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
    )
}

/// One benchmark's block in the results section, between markers so that a later run of
/// only some benchmarks replaces only their blocks.
pub struct Block {
    pub key: &'static str,
    pub title: &'static str,
    pub body: String,
}

impl Block {
    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "<!-- bench:{} -->", self.key);
        let _ = writeln!(out, "### {}\n", self.title);
        let _ = write!(out, "{}", self.body.trim_end());
        let _ = writeln!(out, "\n<!-- /bench:{} -->", self.key);
        out
    }
}

/// The Markdown of all blocks, for the terminal.
pub fn render(blocks: &[Block]) -> String {
    blocks
        .iter()
        .map(Block::render)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `doc` with each block replacing its previous version inside the results section (or
/// appended to that section); the section is created at the end when missing. Everything
/// outside the section is kept as it is.
pub fn rewrite(doc: &str, blocks: &[Block]) -> String {
    let Some(heading) = find_heading(doc, RESULTS_HEADING) else {
        let mut out = doc.trim_end().to_string();
        let _ = write!(out, "\n\n{RESULTS_HEADING}\n\n{}", render(blocks));
        return out;
    };
    let body_start = heading + RESULTS_HEADING.len();
    let section_end = doc[body_start..]
        .match_indices("\n## ")
        .next()
        .map_or(doc.len(), |(i, _)| body_start + i + 1);
    let mut section = doc[body_start..section_end].to_string();
    for block in blocks {
        let open = format!("<!-- bench:{} -->", block.key);
        let close = format!("<!-- /bench:{} -->", block.key);
        let existing = section.find(&open).and_then(|start| {
            section[start..]
                .find(&close)
                .map(|end| (start, start + end + close.len()))
        });
        let rendered = block.render();
        match existing {
            Some((start, end)) => {
                let end = if section[end..].starts_with('\n') {
                    end + 1
                } else {
                    end
                };
                section.replace_range(start..end, &rendered);
            }
            None => {
                let trimmed = section.trim_end().len();
                section.truncate(trimmed);
                section.push_str("\n\n");
                section.push_str(&rendered);
            }
        }
    }
    let section = section.trim_end();
    let rest = &doc[section_end..];
    if rest.is_empty() {
        format!("{}{section}\n", &doc[..body_start])
    } else {
        format!("{}{section}\n\n{rest}", &doc[..body_start])
    }
}

/// The byte offset of a line that is exactly `heading`.
fn find_heading(doc: &str, heading: &str) -> Option<usize> {
    let mut offset = 0;
    for line in doc.split_inclusive('\n') {
        if line.trim_end() == heading {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(key: &'static str, body: &str) -> Block {
        Block {
            key,
            title: "T",
            body: body.to_string(),
        }
    }

    #[test]
    fn a_missing_section_is_appended() {
        let out = rewrite("# Perf\n\n## Method\n\nText.\n", &[block("a", "one")]);
        assert_eq!(
            out,
            "# Perf\n\n## Method\n\nText.\n\n## Results\n\n<!-- bench:a -->\n### T\n\none\n<!-- /bench:a -->\n"
        );
    }

    #[test]
    fn blocks_are_replaced_in_place_and_the_rest_kept() {
        let doc = "# Perf\n\n## Method\n\nM.\n\n## Results\n\nIntro.\n\n";
        let first = rewrite(doc, &[block("a", "one"), block("b", "two")]);
        let second = rewrite(&first, &[block("a", "uno")]);
        assert!(second.contains("Intro."));
        assert!(second.contains("## Method\n\nM.\n"));
        assert!(second.contains("uno"));
        assert!(!second.contains("one\n"));
        assert!(second.contains("two"));
        assert!(second.find("uno") < second.find("two"));
        assert_eq!(rewrite(&second, &[block("a", "uno")]), second);
    }

    #[test]
    fn later_sections_are_kept() {
        let doc = "## Results\n\nold\n\n## Notes\n\nN.\n";
        let out = rewrite(doc, &[block("a", "one")]);
        assert!(out.ends_with("<!-- /bench:a -->\n\n## Notes\n\nN.\n"));
        assert!(out.contains("old"));
    }
}
