//! Fetches the French State design system (DSFR) from npm when it is not
//! installed yet, then stages into `$OUT_DIR/dsfr/` only the files the pages
//! need (the npm dist weighs ~88 MB): the bundled CSS and JS, the icon classes,
//! the fonts and SVG icons those stylesheets reference, and the favicons.
//! `src/assets.rs` embeds that folder through the generated
//! `$OUT_DIR/dsfr_embed.rs`.
//!
//! Standard library only: no build dependency.

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, SystemTime};

/// Path of the DSFR package inside `web/`.
const DSFR_PACKAGE: &str = "node_modules/@gouvfr/dsfr";

/// Stylesheets served as-is; their `url(...)` references are staged too.
/// The `.fr-icon-*` classes are not in `dsfr.min.css` (which only has the
/// size modifiers): they live in the icons utility.
const STYLESHEETS: &[&str] = &["dsfr.min.css", "utility/icons/icons.min.css"];

/// Other files served as-is (paths relative to the DSFR `dist/`).
const OTHER_FILES: &[&str] = &[
    "dsfr.module.min.js",
    "dsfr.nomodule.min.js",
    "favicon/apple-touch-icon.png",
    "favicon/favicon.svg",
    "favicon/favicon.ico",
    "favicon/manifest.webmanifest",
    // Referenced by manifest.webmanifest.
    "favicon/android-chrome-192x192.png",
    "favicon/android-chrome-512x512.png",
];

/// Above this staged size, say so: something probably pulls in too much.
const SIZE_WARNING_BYTES: u64 = 15 * 1024 * 1024;

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);
    let web = manifest_dir.join("../../web");
    let web = fs::canonicalize(&web).unwrap_or(web);
    let lockfile = web.join("package-lock.json");
    let package = web.join(DSFR_PACKAGE);
    let dist = package.join("dist");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", lockfile.display());
    println!(
        "cargo:rerun-if-changed={}",
        dist.join("dsfr.min.css").display()
    );
    // rust-embed does not notice files added to a folder it embeds: rerunning
    // this script (cargo scans the directory) recompiles the crate.
    println!("cargo:rerun-if-changed={}", web.join("static").display());

    let wanted = locked_dsfr_version(&lockfile)?;
    // Serialise installs and staging between concurrent builds (several target
    // directories, rust-analyzer...): `npm ci` starts by deleting node_modules.
    let _lock = InstallLock::acquire(&web)?;
    let css = dist.join("dsfr.min.css");
    if !css.is_file() || installed_version(&package).as_deref() != Some(&wanted) {
        npm_ci(&web)?;
        // npm stamps the files with the install time, after this run began:
        // cargo would rerun the script at the next build. Date the watched
        // file as the lockfile it was installed from (best effort).
        if let Ok(installed) = fs::metadata(&lockfile).and_then(|m| m.modified()) {
            let _ = fs::File::options()
                .write(true)
                .open(&css)
                .and_then(|f| f.set_modified(installed));
        }
    }
    match installed_version(&package) {
        Some(v) if v == wanted => {}
        other => {
            return Err(format!(
                "npm installed @gouvfr/dsfr {} but web/package-lock.json locks {wanted}",
                other.as_deref().unwrap_or("(unknown version)")
            ));
        }
    }
    println!("cargo:rustc-env=CONFORME_DSFR_VERSION={wanted}");

    let staged = out_dir.join("dsfr");
    let (count, bytes) = stage(&dist, &staged)
        .map_err(|e| format!("staging the DSFR into {}: {e}", staged.display()))?;
    if bytes > SIZE_WARNING_BYTES {
        println!(
            "cargo:warning=staged DSFR assets weigh {:.1} MB ({count} files): more than expected",
            mb(bytes)
        );
    }

    // rust-embed only interpolates `$OUT_DIR` with an extra feature (and crate):
    // generate the derive with the absolute path instead.
    let generated = format!(
        "/// The DSFR files staged by build.rs ({count} files, {:.1} MB).\n\
         #[derive(::rust_embed::RustEmbed)]\n\
         #[folder = {:?}]\n\
         struct Dsfr;\n",
        mb(bytes),
        staged.to_str().ok_or("OUT_DIR is not valid UTF-8")?,
    );
    let target = out_dir.join("dsfr_embed.rs");
    fs::write(&target, generated).map_err(|e| format!("writing {}: {e}", target.display()))
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs `npm ci` in `web/`, its output going to stderr (stdout is for cargo).
fn npm_ci(web: &Path) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(web)
        .stdin(Stdio::null())
        .stdout(io::stderr())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!(
            "`npm ci --ignore-scripts` failed in {} ({s}). The build fetches the DSFR \
             (@gouvfr/dsfr) from the npm registry: check network access to \
             https://registry.npmjs.org (or your npm proxy/mirror settings), then rebuild. \
             You can also run it yourself: cd web && npm ci --ignore-scripts",
            web.display()
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(
            "`npm` was not found on PATH. Building conforme-web needs Node.js (>= 20.19) \
             and npm to fetch the DSFR design system: install them (e.g. `apt install nodejs npm` \
             or https://nodejs.org), then rebuild."
                .to_owned(),
        ),
        Err(e) => Err(format!("could not run `npm ci` in {}: {e}", web.display())),
    }
}

/// The `@gouvfr/dsfr` version locked in `web/package-lock.json`.
fn locked_dsfr_version(lockfile: &Path) -> Result<String, String> {
    let text =
        fs::read_to_string(lockfile).map_err(|e| format!("reading {}: {e}", lockfile.display()))?;
    text.find(&format!("\"{DSFR_PACKAGE}\""))
        .and_then(|at| json_string_after(&text[at..], "\"version\""))
        .ok_or_else(|| format!("{} does not lock @gouvfr/dsfr", lockfile.display()))
}

/// The version of the installed package, if any.
fn installed_version(package: &Path) -> Option<String> {
    json_string_after(
        &fs::read_to_string(package.join("package.json")).ok()?,
        "\"version\"",
    )
}

/// The string value following the first occurrence of `key` (no JSON parser:
/// enough for npm's machine-written files).
fn json_string_after(text: &str, key: &str) -> Option<String> {
    let rest = &text[text.find(key)? + key.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// Copies the needed dist files into `staged` (emptied first). Returns the
/// number of files and their total size.
fn stage(dist: &Path, staged: &Path) -> io::Result<(usize, u64)> {
    let mut files: BTreeSet<String> = OTHER_FILES.iter().map(|f| (*f).to_owned()).collect();
    for css in STYLESHEETS {
        files.insert((*css).to_owned());
        let text = fs::read_to_string(dist.join(css))?;
        let base = css.rsplit_once('/').map_or("", |(dir, _)| dir);
        for reference in css_urls(&text) {
            match resolve(base, reference) {
                Some(path) if dist.join(&path).is_file() => {
                    files.insert(path);
                }
                _ => println!(
                    "cargo:warning=DSFR: {css} references missing url({reference}), not staged"
                ),
            }
        }
    }

    match fs::remove_dir_all(staged) {
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut bytes = 0;
    for file in &files {
        let target = staged.join(file);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        bytes += fs::copy(dist.join(file), &target)
            .map_err(|e| io::Error::new(e.kind(), format!("{file}: {e}")))?;
    }
    Ok((files.len(), bytes))
}

/// The local targets of the `url(...)` references of a stylesheet, without
/// query or fragment; data URIs and absolute URLs are skipped.
fn css_urls(css: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut rest = css;
    while let Some(at) = rest.find("url(") {
        rest = rest[at + 4..].trim_start();
        let (value, after) = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => match rest[1..].find(quote) {
                Some(end) => (&rest[1..=end], &rest[end + 2..]),
                None => break,
            },
            _ => match rest.find(')') {
                Some(end) => (rest[..end].trim_end(), &rest[end..]),
                None => break,
            },
        };
        rest = after;
        let value = value.split(['?', '#']).next().unwrap_or_default();
        let external = value.is_empty() || value.starts_with('/') || value.contains(':');
        if !external {
            urls.push(value);
        }
    }
    urls
}

/// Resolves `reference` against the directory `base` (both relative to the
/// dist root, `/`-separated); `None` if it leaves the dist root.
fn resolve(base: &str, reference: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in reference.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// A lock file in the temporary directory, named after the (canonical) `web/` path,
/// holding the owner's process id; removed on drop. A lock left by a dead
/// process (or older than ten minutes) is taken over.
struct InstallLock(PathBuf);

impl InstallLock {
    fn acquire(web: &Path) -> Result<Self, String> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        web.hash(&mut hasher);
        let path = env::temp_dir().join(format!("conforme-web-npm-{:016x}.lock", hasher.finish()));
        for _ in 0..1200 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => {
                    // Best effort: without a pid the lock only expires by age.
                    let _ = fs::write(&path, std::process::id().to_string());
                    return Ok(Self(path));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if Self::is_stale(&path) {
                        let _ = fs::remove_file(&path);
                    } else {
                        thread::sleep(Duration::from_millis(500));
                    }
                }
                // Unusable temporary directory: proceed unlocked.
                Err(_) => return Ok(Self(PathBuf::new())),
            }
        }
        Err(format!(
            "waited 10 minutes for {} (another build installing the DSFR?); delete it if stale",
            path.display()
        ))
    }

    fn is_stale(path: &Path) -> bool {
        let old = fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(600));
        let owner_dead = Path::new("/proc/self").exists()
            && fs::read_to_string(path)
                .ok()
                .and_then(|pid| pid.trim().parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        old || owner_dead
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.0);
        }
    }
}
