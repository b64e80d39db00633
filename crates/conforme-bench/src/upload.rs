//! Benchmark 3: uploading a large file through `conforme_files::FileStore::put_stream` into a
//! local directory store, against a raw write of the same bytes to the same disk.
//!
//! Both sides write the same deterministic pseudo-random payload (it starts with a real MP4
//! `ftyp` box, so it sniffs as `video/mp4`), generated in 64 KiB chunks while it is written.
//! The raw write (the baseline) does what `object_store`'s `LocalFileSystem` does with
//! `with_fsync(true)`, and nothing else: a new staging file in the destination directory, the
//! chunks written in order, `sync_all`, close, rename into place, fsync of the directory.
//! `put_stream` adds the SHA-256, the type check, the size limit, the random key (two levels
//! of directories, created and fsynced) and the multipart upload in parts of 8 MiB, one part
//! being written while the next one fills.
//!
//! Peak memory is measured in child processes (this binary re-executed with the hidden
//! [`CHILD_COMMAND`]), each making one upload or one raw write and printing its own `VmHWM`
//! (the peak resident set size) from `/proc/self/status` as its last line.

use crate::stats::{self, Samples};
use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use conforme_files::{FileStore, FileStoreConfig, PART_SIZE, StoredObject, UploadLimits};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The hidden first argument that makes the binary a peak-memory child.
pub const CHILD_COMMAND: &str = "upload-child";

/// The size of the chunks the payload is generated and streamed in.
const CHUNK: usize = 64 * 1024;
const MIB: u64 = 1024 * 1024;
/// The type the payload sniffs as, and the only one the upload limits allow.
const MP4: &str = "video/mp4";
/// A 32-byte `ftyp` box: major brand `isom`, minor version 0x200, compatible brands `isom`,
/// `iso2`, `avc1`, `mp41` (what ffmpeg writes at the start of an H.264 MP4).
const FTYP: &[u8; 32] = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41";
/// Where the pseudo-random generator starts, so every run writes the same bytes.
const SEED: u64 = 0x5eed_c0f0_2026_0001;

pub struct Options {
    /// Size of the throughput file, in MiB.
    pub mib: u64,
    /// Timed runs per side (after one untimed warm-up run per side).
    pub runs: usize,
    /// Sizes of the peak-memory children, in MiB (the large one is the figure asked for).
    pub peak_mib: Vec<u64>,
    /// The directory the temporary directory is made in (it decides the disk measured).
    pub dir: PathBuf,
}

/// The pool the payload's chunks are copied from (1 MiB of xorshift64* bytes, plus one chunk
/// so that a chunk can start anywhere in the first MiB).
const POOL: usize = 1024 * 1024;

/// The payload: `total` bytes, a `ftyp` box, then a `mdat` box header (64-bit size) and
/// pseudo-random bytes, yielded in fresh 64 KiB chunks (as a server receives them). Each chunk
/// is a copy of the pool at a pseudo-random offset, so that generating it costs a `memcpy`
/// and does not hide the cost of what is measured.
struct Payload {
    remaining: u64,
    first: bool,
    state: u64,
    pool: Vec<u8>,
}

impl Payload {
    fn new(total: u64) -> Self {
        let mut payload = Payload {
            remaining: total,
            first: true,
            state: SEED,
            pool: Vec::with_capacity(POOL + CHUNK),
        };
        for _ in 0..(POOL + CHUNK) / 8 {
            let word = payload.next_word();
            payload.pool.extend_from_slice(&word.to_le_bytes());
        }
        payload
    }

    /// xorshift64*.
    fn next_word(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl Iterator for Payload {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.remaining == 0 {
            return None;
        }
        let len = usize::try_from(self.remaining.min(CHUNK as u64)).unwrap_or(CHUNK);
        let total_at_start = self.remaining;
        self.remaining -= len as u64;
        let offset = usize::try_from(self.next_word() % POOL as u64).unwrap_or(0);
        let mut chunk = self.pool[offset..offset + len].to_vec();
        if std::mem::take(&mut self.first) {
            // `ftyp`, then a `mdat` box with a 64-bit size covering the rest of the file.
            let mut header = FTYP.to_vec();
            header.extend_from_slice(&1u32.to_be_bytes());
            header.extend_from_slice(b"mdat");
            header.extend_from_slice(&total_at_start.saturating_sub(32).to_be_bytes());
            let n = header.len().min(chunk.len());
            chunk[..n].copy_from_slice(&header[..n]);
        }
        Some(chunk)
    }
}

fn payload_stream(
    total: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send {
    futures_util::stream::iter(Payload::new(total).map(|chunk| Ok(Bytes::from(chunk))))
}

fn open_store(root: &Path) -> anyhow::Result<FileStore> {
    FileStore::open(&FileStoreConfig::Local {
        root: root.to_path_buf(),
    })
    .context("opening the local file store")
}

fn limits(total: u64) -> UploadLimits {
    UploadLimits::new(total).allowing([MP4])
}

/// One upload through `put_stream`, timed; the stored file is then checked and deleted.
async fn upload_once(store: &FileStore, total: u64) -> anyhow::Result<Duration> {
    let limits = limits(total);
    let start = Instant::now();
    let stored: StoredObject = store
        .put_stream(payload_stream(total), &limits)
        .await
        .context("put_stream")?;
    let elapsed = start.elapsed();
    ensure!(
        stored.size == total,
        "{} bytes stored instead of {total}",
        stored.size
    );
    ensure!(
        stored.content_type == MP4,
        "the payload sniffed as {} instead of {MP4}",
        stored.content_type
    );
    let (size, _) = store.get_stream(&stored.key).await?;
    ensure!(size == total, "{size} bytes on disk instead of {total}");
    store.delete(&stored.key).await?;
    Ok(elapsed)
}

/// One raw write of the payload into `dir`, the way `LocalFileSystem` writes with fsync, timed;
/// the file is then deleted.
fn raw_write_blocking(dir: &Path, total: u64) -> anyhow::Result<Duration> {
    let dest = dir.join("raw-write.mp4");
    let staging = dir.join("raw-write.mp4#1");
    let start = Instant::now();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&staging)
        .with_context(|| format!("creating {}", staging.display()))?;
    for chunk in Payload::new(total) {
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    drop(file);
    std::fs::rename(&staging, &dest)?;
    std::fs::File::open(dir)?.sync_all()?;
    let elapsed = start.elapsed();
    let size = std::fs::metadata(&dest)?.len();
    std::fs::remove_file(&dest)?;
    ensure!(size == total, "{size} bytes written instead of {total}");
    Ok(elapsed)
}

async fn raw_write_once(dir: &Path, total: u64) -> anyhow::Result<Duration> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || raw_write_blocking(&dir, total))
        .await
        .context("raw write task")?
}

/// Generating the payload alone, and generating and hashing it, in memory (no write).
fn cpu_only(total: u64) -> (Duration, Duration) {
    let start = Instant::now();
    for chunk in Payload::new(total) {
        black_box(&chunk);
    }
    let generate = start.elapsed();
    let start = Instant::now();
    let mut hasher = Sha256::new();
    for chunk in Payload::new(total) {
        hasher.update(&chunk);
    }
    black_box(hasher.finalize());
    (generate, start.elapsed())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ChildMode {
    /// `FileStore::put_stream` into a local store rooted at `--dir`.
    Upload,
    /// The raw write into `--dir`.
    Raw,
}

#[derive(Debug, Parser)]
#[command(name = CHILD_COMMAND, about = "Peak-memory child of the upload benchmark (internal).")]
struct ChildCli {
    #[arg(long, value_enum)]
    mode: ChildMode,
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    mib: u64,
    #[arg(long)]
    dir: PathBuf,
}

/// `VmHWM` (peak resident set size) of this process, in KiB.
fn own_vm_hwm_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    parse_vm_hwm(&status).context("no VmHWM line in /proc/self/status")
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The child: one upload or one raw write, then `elapsed_us N` and `VmHWM: N kB` on stdout.
/// `args` are the process arguments after the program name, starting with [`CHILD_COMMAND`].
pub async fn child_main(args: Vec<std::ffi::OsString>) -> anyhow::Result<()> {
    let cli = ChildCli::try_parse_from(args)?;
    let total = cli.mib * MIB;
    let elapsed = match cli.mode {
        ChildMode::Upload => upload_once(&open_store(&cli.dir)?, total).await?,
        ChildMode::Raw => {
            std::fs::create_dir_all(&cli.dir)?;
            raw_write_once(&cli.dir, total).await?
        }
    };
    println!("elapsed_us {}", elapsed.as_micros());
    println!("VmHWM: {} kB", own_vm_hwm_kib()?);
    Ok(())
}

/// What a child reported.
struct ChildRun {
    elapsed: Duration,
    vm_hwm_kib: u64,
}

fn parse_child_output(stdout: &str) -> anyhow::Result<ChildRun> {
    let mut lines = stdout.lines().filter(|l| !l.trim().is_empty());
    let last = lines.next_back().context("the child printed nothing")?;
    let vm_hwm_kib = parse_vm_hwm(last).context("the child's last line is not a VmHWM line")?;
    let elapsed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_us "))
        .and_then(|us| us.trim().parse().ok())
        .map(Duration::from_micros)
        .context("the child did not print its time")?;
    Ok(ChildRun {
        elapsed,
        vm_hwm_kib,
    })
}

async fn run_child(mode: ChildMode, mib: u64, dir: &Path) -> anyhow::Result<ChildRun> {
    let exe = std::env::current_exe().context("locating the benchmark binary")?;
    let mode_arg = match mode {
        ChildMode::Upload => "upload",
        ChildMode::Raw => "raw",
    };
    let mut command = std::process::Command::new(exe);
    command
        .arg(CHILD_COMMAND)
        .args(["--mode", mode_arg, "--mib", &mib.to_string(), "--dir"])
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .context("child task")?
        .context("starting the child process")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the {mode_arg} child of {mib} MiB failed ({})",
            output.status
        );
    }
    parse_child_output(&stdout)
        .with_context(|| format!("reading the {mode_arg} child of {mib} MiB"))
}

struct PeakRow {
    mib: u64,
    raw: ChildRun,
    upload: ChildRun,
}

pub struct Report {
    mib: u64,
    runs: usize,
    raw: Samples,
    upload: Samples,
    generate: Duration,
    generate_and_hash: Duration,
    peaks: Vec<PeakRow>,
}

pub async fn run(options: &Options) -> anyhow::Result<Report> {
    ensure!(
        options.mib * MIB > PART_SIZE as u64,
        "the upload must be larger than one part"
    );
    let head = Payload::new(options.mib * MIB)
        .next()
        .context("empty payload")?;
    let sniffed = conforme_files::sniff(&head);
    ensure!(sniffed == MP4, "the payload sniffs as {sniffed}, not {MP4}");

    let tmp = tempfile::Builder::new()
        .prefix(".conforme-bench-upload-")
        .tempdir_in(&options.dir)
        .with_context(|| format!("temporary directory in {}", options.dir.display()))?;
    let result = measure(options, tmp.path()).await;
    let closed = tmp.close().context("removing the temporary directory");
    let report = result?;
    closed?;
    Ok(report)
}

async fn measure(options: &Options, tmp: &Path) -> anyhow::Result<Report> {
    let total = options.mib * MIB;
    let store_root = tmp.join("store");
    let raw_dir = tmp.join("raw");
    std::fs::create_dir_all(&raw_dir)?;
    let store = open_store(&store_root)?;

    eprintln!("upload: payload generation and SHA-256 in memory");
    let (generate, generate_and_hash) = cpu_only(total);

    eprintln!(
        "upload: {} MiB, raw write and put_stream alternating, 1 warm-up + {} runs each",
        options.mib, options.runs
    );
    let mut raw_runs = Vec::with_capacity(options.runs);
    let mut upload_runs = Vec::with_capacity(options.runs);
    for run in 0..=options.runs {
        let raw = raw_write_once(&raw_dir, total).await?;
        let upload = upload_once(&store, total).await?;
        eprintln!(
            "upload: run {run}: raw {}, put_stream {}",
            stats::duration(raw),
            stats::duration(upload)
        );
        if run > 0 {
            raw_runs.push(raw);
            upload_runs.push(upload);
        }
    }
    let leftovers = store.list_keys().await?;
    ensure!(
        leftovers.is_empty(),
        "{} files left in the store",
        leftovers.len()
    );

    let mut peaks = Vec::new();
    for &mib in &options.peak_mib {
        eprintln!("upload: peak memory, {mib} MiB, raw-write child");
        let raw = run_child(ChildMode::Raw, mib, &raw_dir).await?;
        eprintln!("upload: peak memory, {mib} MiB, put_stream child");
        let upload = run_child(ChildMode::Upload, mib, &store_root).await?;
        peaks.push(PeakRow { mib, raw, upload });
    }

    Ok(Report {
        mib: options.mib,
        runs: options.runs,
        raw: Samples::new(raw_runs).context("no raw write run")?,
        upload: Samples::new(upload_runs).context("no upload run")?,
        generate,
        generate_and_hash,
        peaks,
    })
}

/// Megabytes (10⁶ bytes) per second.
fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn spread(s: &Samples) -> String {
    format!(
        "{} ({}–{})",
        stats::duration(s.median()),
        stats::duration(s.min()),
        stats::duration(s.max())
    )
}

impl Report {
    /// The Markdown block for the results section.
    pub fn markdown(&self) -> String {
        let total = self.mib * MIB;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Payload: {} MiB ({} bytes) of pseudo-random bytes (copies of 1 MiB of xorshift64* output at pseudo-random offsets) after an MP4 `ftyp` box (sniffed as \
             `{MP4}`, the only type the `UploadLimits` allow), generated in fresh 64 KiB chunks \
             while it is written; local store with fsync, on the disk of the temporary \
             directory. Median of {} timed run{} per side after one warm-up run each, the two \
             sides alternating (min–max in parentheses). MB = 10⁶ bytes.\n",
            stats::thousands(self.mib),
            stats::thousands(total),
            self.runs,
            if self.runs == 1 { "" } else { "s" },
        );
        let raw_rate = mb_per_s(total, self.raw.median());
        let upload_rate = mb_per_s(total, self.upload.median());
        let _ = writeln!(out, "| Path | Time | MB/s | Throughput vs raw write |");
        let _ = writeln!(out, "|---|--:|--:|--:|");
        let _ = writeln!(
            out,
            "| Raw write (baseline): staging file, 64 KiB `write_all`s, `sync_all`, rename, directory fsync | {} | {} | **1.00×** |",
            spread(&self.raw),
            stats::rate(raw_rate),
        );
        let _ = writeln!(
            out,
            "| `FileStore::put_stream`: SHA-256, sniffing, size limit, multipart in 8 MiB parts | {} | {} | **{}** |",
            spread(&self.upload),
            stats::rate(upload_rate),
            stats::ratio(upload_rate, raw_rate),
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "- In memory, without writing: generating the payload runs at {} MB/s, generating \
             and hashing it (SHA-256, one core) at {} MB/s, so SHA-256 alone at about {} MB/s.",
            stats::rate(mb_per_s(total, self.generate)),
            stats::rate(mb_per_s(total, self.generate_and_hash)),
            stats::rate(mb_per_s(
                total,
                self.generate_and_hash.saturating_sub(self.generate)
            )),
        );
        if self.peaks.is_empty() {
            return out;
        }
        let _ = writeln!(
            out,
            "\nPeak memory: `VmHWM` (peak resident set size) of a child process (this binary \
             re-executed with `{CHILD_COMMAND}`) making one write of the given size and \
             printing its own `/proc/self/status` at its end; the raw-write child is the \
             baseline (same binary, same tokio runtime, same payload generator).\n"
        );
        let _ = writeln!(
            out,
            "| File size | Raw write (baseline) | `put_stream` | `put_stream` − raw | Ratio | `put_stream` MB/s (raw MB/s) |"
        );
        let _ = writeln!(out, "|--:|--:|--:|--:|--:|--:|");
        for row in &self.peaks {
            let bytes = row.mib * MIB;
            let _ = writeln!(
                out,
                "| {} MiB | {} | {} | {} | **{}** | {} ({}) |",
                stats::thousands(row.mib),
                mib(row.raw.vm_hwm_kib),
                mib(row.upload.vm_hwm_kib),
                signed_mib(row.upload.vm_hwm_kib, row.raw.vm_hwm_kib),
                stats::ratio(row.upload.vm_hwm_kib as f64, row.raw.vm_hwm_kib as f64),
                stats::rate(mb_per_s(bytes, row.upload.elapsed)),
                stats::rate(mb_per_s(bytes, row.raw.elapsed)),
            );
        }
        if let (Some(small), Some(large)) = (self.peaks.first(), self.peaks.last())
            && large.mib > small.mib
        {
            let _ = writeln!(
                out,
                "\n- From {} MiB to {} MiB ({}), the peak of the `put_stream` child changes by {} \
                 and that of the raw-write child by {}.",
                stats::thousands(small.mib),
                stats::thousands(large.mib),
                stats::ratio(large.mib as f64, small.mib as f64),
                signed_mib(large.upload.vm_hwm_kib, small.upload.vm_hwm_kib),
                signed_mib(large.raw.vm_hwm_kib, small.raw.vm_hwm_kib),
            );
        }
        out
    }
}

fn signed_mib(a: u64, b: u64) -> String {
    // Rounded to 0.1 MiB before the sign is chosen, so that no "−0.0" appears.
    let tenths = ((a as f64 - b as f64) / 102.4).round();
    let sign = if tenths < 0.0 { "−" } else { "+" };
    format!("{sign}{:.1} MiB", tenths.abs() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_deterministic_and_sniffs_as_mp4() {
        let a: Vec<Vec<u8>> = Payload::new(3 * CHUNK as u64 + 5).collect();
        let b: Vec<Vec<u8>> = Payload::new(3 * CHUNK as u64 + 5).collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 4);
        assert_eq!(a.iter().map(Vec::len).sum::<usize>(), 3 * CHUNK + 5);
        assert_eq!(conforme_files::sniff(&a[0]), MP4);
        assert_ne!(a[1], a[2]);
    }

    #[test]
    fn reads_the_childs_last_line() {
        let run = parse_child_output("elapsed_us 1500000\nVmHWM:\t   23456 kB\n").ok();
        assert_eq!(run.as_ref().map(|r| r.vm_hwm_kib), Some(23456));
        assert_eq!(run.map(|r| r.elapsed), Some(Duration::from_millis(1500)));
        assert!(parse_child_output("VmHWM: 1 kB\nelapsed_us 3\n").is_err());
        assert_eq!(signed_mib(2048, 1024), "+1.0 MiB");
        assert_eq!(signed_mib(1024, 2048), "−1.0 MiB");
        assert_eq!(signed_mib(9000, 9010), "+0.0 MiB");
    }
}
