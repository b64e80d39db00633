//! Looking inside stored archives on a local directory store: real, truncated and fake ZIPs,
//! TAR and gzip files, and files that are no archive.

mod common;

use std::io::{Cursor, Write};
use std::path::Path;

use common::*;
use conforme_files::{ArchiveInspection, FileError, FileStore, FileStoreConfig, UploadLimits};
use zip::write::SimpleFileOptions;

fn open(root: &Path) -> FileStore {
    FileStore::open(&FileStoreConfig::Local {
        root: root.to_path_buf(),
    })
    .expect("open local store")
}

/// Stores `data` and returns its key and sniffed type.
async fn put(store: &FileStore, data: &[u8]) -> (String, String) {
    let stored = store
        .put_stream(chunks_of(data, 64 * 1024), &UploadLimits::new(64 * MIB))
        .await
        .expect("upload");
    (stored.key, stored.content_type)
}

async fn inspect(store: &FileStore, data: &[u8]) -> (String, Option<ArchiveInspection>) {
    let (key, content_type) = put(store, data).await;
    let inspection = store
        .inspect_archive(&key, &content_type)
        .await
        .expect("inspect");
    (content_type, inspection)
}

/// A ZIP with the given files (deflated) and one directory.
fn real_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer
        .add_directory("captures/", options)
        .expect("directory");
    for (name, content) in files {
        writer.start_file(*name, options).expect("start file");
        writer.write_all(content).expect("write file");
    }
    writer.finish().expect("finish").into_inner()
}

/// A POSIX TAR of the given files, with its two end-of-archive blocks.
fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in files {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..108].copy_from_slice(b"0000644\0");
        header[108..116].copy_from_slice(b"0000000\0");
        header[116..124].copy_from_slice(b"0000000\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
        header[136..148].copy_from_slice(b"00000000000\0");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(content);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("compress");
    encoder.finish().expect("finish")
}

fn readable(entries: usize) -> Option<ArchiveInspection> {
    Some(ArchiveInspection::Readable { entries })
}

fn is_unreadable(inspection: &Option<ArchiveInspection>) -> bool {
    matches!(inspection, Some(ArchiveInspection::Unreadable { .. }))
}

#[tokio::test]
async fn a_real_zip_counts_its_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    // A megabyte that does not compress: the object comes in several chunks.
    let big = pattern(MIB as usize);
    let data = real_zip(&[
        ("captures/etape-1.png", &png(10_000)),
        ("captures/etape-2.png", &png(20_000)),
        ("journal.log", &big),
    ]);
    let (content_type, inspection) = inspect(&store, &data).await;
    assert_eq!(content_type, "application/zip");
    assert_eq!(inspection, readable(3));

    let (_, inspection) = inspect(&store, &real_zip(&[])).await;
    assert_eq!(inspection, readable(0), "a ZIP with only a directory");
}

#[tokio::test]
async fn office_documents_are_read_as_zips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let data = real_zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ]);
    let (key, _) = put(&store, &data).await;
    for content_type in [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    ] {
        assert_eq!(
            store
                .inspect_archive(&key, content_type)
                .await
                .expect("inspect"),
            readable(2),
            "{content_type}"
        );
    }
}

#[tokio::test]
async fn a_truncated_zip_is_unreadable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let data = real_zip(&[("a.txt", &text(50_000)), ("b.bin", &pattern(50_000))]);
    let (content_type, inspection) = inspect(&store, &data[..data.len() / 2]).await;
    assert_eq!(content_type, "application/zip");
    assert!(is_unreadable(&inspection), "{inspection:?}");
    let Some(ArchiveInspection::Unreadable { reason }) = inspection else {
        unreachable!()
    };
    assert!(reason.starts_with("archive ZIP"), "{reason}");
}

#[tokio::test]
async fn garbage_named_zip_is_unreadable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    // A local-file signature, then noise: sniffed as ZIP, not one.
    let (content_type, inspection) = inspect(&store, &zip(70_000)).await;
    assert_eq!(content_type, "application/zip");
    assert!(is_unreadable(&inspection), "{inspection:?}");
    // Noise stored and declared as a ZIP by the caller.
    let (key, _) = put(&store, &pattern(10_000)).await;
    let inspection = store
        .inspect_archive(&key, "application/zip")
        .await
        .expect("inspect");
    assert!(is_unreadable(&inspection), "{inspection:?}");
}

#[tokio::test]
async fn tar_and_gzip_files_are_read_to_their_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let archive = tar(&[
        ("trace.log", &text(3_000)),
        ("message.xml", b"<ClinicalDocument/>"),
    ]);

    let (content_type, inspection) = inspect(&store, &archive).await;
    assert_eq!(content_type, "application/x-tar");
    assert_eq!(inspection, readable(2));

    let (content_type, inspection) = inspect(&store, &gzip(&archive)).await;
    assert_eq!(content_type, "application/gzip");
    assert_eq!(inspection, readable(2), "a .tar.gz");

    let (_, inspection) = inspect(&store, &gzip(&text(200_000))).await;
    assert_eq!(inspection, readable(1), "a gzipped log");

    // Cut in the middle of the first file's content.
    let (key, _) = put(&store, &archive[..1000]).await;
    let inspection = store
        .inspect_archive(&key, "application/x-tar")
        .await
        .expect("inspect");
    assert!(is_unreadable(&inspection), "{inspection:?}");

    let compressed = gzip(&pattern(100_000));
    let (content_type, inspection) = inspect(&store, &compressed[..compressed.len() - 100]).await;
    assert_eq!(content_type, "application/gzip");
    assert!(is_unreadable(&inspection), "{inspection:?}");

    // A flipped byte in the compressed data: corrupt stream or CRC mismatch.
    let mut corrupt = gzip(&text(100_000));
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    let (_, inspection) = inspect(&store, &corrupt).await;
    assert!(is_unreadable(&inspection), "{inspection:?}");
}

#[tokio::test]
async fn other_types_are_not_archives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    for data in [png(5_000), pdf(5_000), text(5_000)] {
        let (content_type, inspection) = inspect(&store, &data).await;
        assert_eq!(inspection, None, "{content_type}");
    }
    // A ZIP declared as something else is not looked into.
    let (key, _) = put(&store, &real_zip(&[("a.txt", b"a")])).await;
    assert_eq!(
        store
            .inspect_archive(&key, "application/octet-stream")
            .await
            .expect("inspect"),
        None
    );
}

#[tokio::test]
async fn missing_files_and_bad_keys_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let (key, _) = put(&store, &real_zip(&[("a.txt", b"a")])).await;
    store.delete(&key).await.expect("delete");
    assert!(matches!(
        store.inspect_archive(&key, "application/zip").await,
        Err(FileError::NotFound)
    ));
    assert!(matches!(
        store
            .inspect_archive("../etc/passwd", "application/zip")
            .await,
        Err(FileError::InvalidKey)
    ));
    assert!(matches!(
        store.inspect_archive("../etc/passwd", "image/png").await,
        Err(FileError::InvalidKey)
    ));
}
