//! The file store on a local directory: uploads, limits, failures leaving nothing behind.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use conforme_files::{FileError, FileStore, FileStoreConfig, UploadLimits};
use futures_util::StreamExt;

fn open(root: &Path) -> FileStore {
    FileStore::open(&FileStoreConfig::Local {
        root: root.to_path_buf(),
    })
    .expect("open local store")
}

/// Every file (not directory) under `root`, temporary ones included.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                dirs.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

async fn assert_nothing_left(store: &FileStore, root: &Path) {
    assert_eq!(store.list_keys().await.expect("list"), Vec::<String>::new());
    assert_eq!(files_under(root), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn stores_files_with_their_hash_size_and_sniffed_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let limits = UploadLimits::new(20 * MIB);
    let cases = [
        (png(100_000), "image/png"),
        (pdf(5_000), "application/pdf"),
        (zip(70_000), "application/zip"),
        (text(30_000), "text/plain"),
        (text(10), "text/plain"),
        (pattern(50_000), "application/octet-stream"),
    ];
    let mut keys = Vec::new();
    for (data, expected_type) in cases {
        // Tiny chunks first: the type is sniffed across chunk boundaries.
        for chunk in [3, 4096, 65536] {
            let stored = store
                .put_stream(chunks_of(&data, chunk), &limits)
                .await
                .expect("upload");
            assert_eq!(stored.content_type, expected_type);
            assert_eq!(stored.size, data.len() as u64);
            assert_eq!(stored.sha256, sha256_hex(&data));
            assert!(conforme_files::is_valid_key(&stored.key), "{}", stored.key);
            assert!(!keys.contains(&stored.key));

            let (size, download) = store.get_stream(&stored.key).await.expect("download");
            assert_eq!(size, data.len() as u64);
            let bytes: Vec<u8> = download.map(|c| c.expect("chunk").to_vec()).concat().await;
            assert!(bytes == data, "downloaded bytes differ for {expected_type}");
            assert!(store.exists(&stored.key).await.expect("exists"));
            keys.push(stored.key);
        }
    }
    keys.sort();
    assert_eq!(store.list_keys().await.expect("list"), keys);
    assert_eq!(files_under(dir.path()).len(), keys.len());

    for key in &keys {
        store.delete(key).await.expect("delete");
        assert!(!store.exists(key).await.expect("exists"));
        // Deleting twice is fine.
        store.delete(key).await.expect("delete again");
    }
    assert_nothing_left(&store, dir.path()).await;
}

#[tokio::test]
async fn accepts_a_file_of_exactly_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let data = pdf(MIB as usize);
    let stored = store
        .put_stream(chunks_of(&data, 10_000), &UploadLimits::new(MIB))
        .await
        .expect("upload");
    assert_eq!(stored.size, MIB);
    let one_more = pdf(MIB as usize + 1);
    let refused = store
        .put_stream(chunks_of(&one_more, 10_000), &UploadLimits::new(MIB))
        .await;
    assert!(matches!(refused, Err(FileError::TooLarge { limit }) if limit == MIB));
    assert_eq!(store.list_keys().await.expect("list"), vec![stored.key]);
}

#[tokio::test]
async fn refuses_a_file_too_large_as_soon_as_the_limit_is_passed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let chunk = 64 * KIB as usize;

    // Below one part: nothing was written yet.
    let stream = Lazy::new(100 * MIB, chunk);
    let pulled = stream.counter();
    let result = store.put_stream(stream, &UploadLimits::new(MIB)).await;
    match result {
        Err(FileError::TooLarge { limit }) => assert_eq!(limit, MIB),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(pulled <= MIB + chunk as u64, "{pulled} bytes pulled");
    assert_nothing_left(&store, dir.path()).await;

    // Past several parts: the multipart upload under way is aborted.
    let stream = Lazy::new(100 * MIB, chunk);
    let pulled = stream.counter();
    let result = store.put_stream(stream, &UploadLimits::new(20 * MIB)).await;
    assert!(matches!(result, Err(FileError::TooLarge { limit }) if limit == 20 * MIB));
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(pulled <= 20 * MIB + chunk as u64, "{pulled} bytes pulled");
    assert_nothing_left(&store, dir.path()).await;
    assert_eq!(
        FileError::TooLarge { limit: 20 * MIB }.to_string(),
        "Le fichier dépasse la taille maximale de 20 Mo."
    );
}

#[tokio::test]
async fn refuses_an_empty_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let limits = UploadLimits::new(MIB);
    let result = store.put_stream(chunks_of(&[], 10), &limits).await;
    assert!(matches!(result, Err(FileError::Empty)), "{result:?}");
    // Empty chunks only.
    let empties =
        futures_util::stream::iter((0..3).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::new())));
    let result = store.put_stream(empties, &limits).await;
    assert!(matches!(result, Err(FileError::Empty)), "{result:?}");
    assert_nothing_left(&store, dir.path()).await;
}

#[tokio::test]
async fn refuses_a_type_not_allowed_from_the_first_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let limits = UploadLimits::new(100 * MIB).allowing(["image/*", "application/pdf"]);

    // A large archive: refused once the first 8 KiB are in, not after reading it all.
    let mut archive = zip(64);
    archive.truncate(16);
    let header =
        futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(archive))]);
    let rest = Lazy::new(50 * MIB, 4096);
    let pulled = rest.counter();
    let result = store.put_stream(header.chain(rest), &limits).await;
    match result {
        Err(FileError::TypeNotAllowed { detected }) => assert_eq!(detected, "application/zip"),
        other => panic!("expected TypeNotAllowed, got {other:?}"),
    }
    assert!(pulled.load(Ordering::SeqCst) <= 8 * KIB);

    // A small text file.
    let result = store.put_stream(chunks_of(&text(100), 7), &limits).await;
    assert!(
        matches!(result, Err(FileError::TypeNotAllowed { ref detected }) if detected == "text/plain"),
        "{result:?}"
    );
    assert_nothing_left(&store, dir.path()).await;

    // The allowed ones go through.
    for data in [png(20_000), pdf(20_000)] {
        store
            .put_stream(chunks_of(&data, 1000), &limits)
            .await
            .expect("allowed type");
    }
    assert_eq!(store.list_keys().await.expect("list").len(), 2);
}

#[tokio::test]
async fn an_interrupted_upload_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let limits = UploadLimits::new(100 * MIB);
    // Cut off in the first part, then after several parts were written.
    for cut in [100 * KIB, 20 * MIB + 123] {
        let stream = Lazy::new(50 * MIB, 64 * KIB as usize).failing_after(cut);
        let result = store.put_stream(stream, &limits).await;
        assert!(
            matches!(result, Err(FileError::Interrupted { .. })),
            "{result:?}"
        );
        assert_nothing_left(&store, dir.path()).await;
    }
}

#[tokio::test]
async fn an_upload_dropped_midway_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    // 20 MiB, then the client stalls: the request is dropped (say, by a timeout).
    let stalled = Lazy::new(20 * MIB, 64 * KIB as usize).chain(futures_util::stream::pending());
    let limits = UploadLimits::new(100 * MIB);
    let upload = store.put_stream(stalled, &limits);
    let timed_out = tokio::time::timeout(Duration::from_millis(1500), upload).await;
    assert!(timed_out.is_err(), "the upload should still be waiting");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !files_under(dir.path()).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_nothing_left(&store, dir.path()).await;
}

/// Hundreds of MiB go through in parts: the buffers are bounded by construction (one part being
/// written, the next one filling); this checks the result is exact at that size.
#[tokio::test]
async fn streams_a_large_file() {
    const SIZE: u64 = 300 * MIB;
    const CHUNK: usize = 64 * 1024;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let started = Instant::now();
    let stored = store
        .put_stream(
            Lazy::new(SIZE + 12_345, CHUNK),
            &UploadLimits::new(5 * 1024 * MIB),
        )
        .await
        .expect("upload");
    let uploaded = started.elapsed();
    let expected = lazy_sha256(SIZE + 12_345, CHUNK);
    assert_eq!(stored.size, SIZE + 12_345);
    assert_eq!(stored.sha256, expected);
    assert_eq!(stored.content_type, "application/octet-stream");

    let (size, download) = store.get_stream(&stored.key).await.expect("download");
    assert_eq!(size, SIZE + 12_345);
    let (sha256, len) = digest_download(download).await;
    assert_eq!((sha256, len), (expected, SIZE + 12_345));
    // The whole process (other tests included) stays far below the size of the file.
    let peak = peak_rss_kib();
    eprintln!(
        "300 MiB: upload {uploaded:?}, upload and download {:?}, peak RSS {} MiB",
        started.elapsed(),
        peak / 1024
    );
    assert!(peak < 150 * 1024, "peak RSS {peak} KiB");
}

/// The process's peak resident memory (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn refuses_keys_of_another_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    std::fs::write(dir.path().join("secret.txt"), "not a proof").expect("write");
    for key in [
        "secret.txt",
        "../secret.txt",
        "objects/../secret.txt",
        "/etc/passwd",
        "",
    ] {
        assert!(
            matches!(store.get_stream(key).await, Err(FileError::InvalidKey)),
            "{key}"
        );
        assert!(
            matches!(store.delete(key).await, Err(FileError::InvalidKey)),
            "{key}"
        );
        assert!(!store.exists(key).await.expect("exists"), "{key}");
    }
    let missing = "objects/9f/1c/9f1c2a4e-6b7d-4e8f-9a0b-1c2d3e4f5a6b";
    assert!(matches!(
        store.get_stream(missing).await,
        Err(FileError::NotFound)
    ));
    assert!(dir.path().join("secret.txt").exists());
}

/// The futures and streams can go in an axum handler: `Send`, with a request body stream that
/// is `Send` but not `Sync`.
#[test]
fn futures_and_streams_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let limits = UploadLimits::new(MIB);
    let body: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>,
    > = Box::pin(chunks_of(b"abc", 1));
    let upload = store.put_stream(body, &limits);
    assert_send(&upload);
    let download = store.get_stream("objects/9f/1c/9f1c2a4e-6b7d-4e8f-9a0b-1c2d3e4f5a6b");
    assert_send(&download);
    assert_send(&store.delete("x"));
    assert_send(&store.exists("x"));
    assert_send(&store.list_keys());
}

#[tokio::test]
async fn creates_its_root_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("a/b/files");
    let store = open(&root);
    let stored = store
        .put_stream(chunks_of(&png(1000), 100), &UploadLimits::new(MIB))
        .await
        .expect("upload");
    assert!(store.exists(&stored.key).await.expect("exists"));
    assert!(root.join(&stored.key).is_file());
}
