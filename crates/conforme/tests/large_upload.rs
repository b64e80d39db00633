//! A 2 GiB proof uploaded through the API is stored whole, hashed, and recorded, while the
//! process's peak memory grows by a bounded amount (the file is streamed, never held). Alone in
//! its test binary so that the peak memory it reads is its own.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, controlled, editor, spawn_app, token, validated};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SIZE: u64 = 2 * 1024 * 1024 * 1024;
/// What the upload may add to the peak resident memory: the file store's two 8 MiB parts,
/// the server's buffers, the test's own chunk.
const BOUND: u64 = 160 * 1024 * 1024;

fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gib_upload_with_bounded_memory() {
    let app = spawn_app(Backend::Sqlite, controlled("2026-03-02T10:00:00+01:00")).await;
    let (b, org) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let id = validated(&app, &org, &b.user.id, false).await;
    let tok = token(
        &app,
        &b.user.id,
        &["candidatures:read", "candidatures:write"],
    )
    .await;
    let list: serde_json::Value = app
        .client
        .get(format!("{}/api/v1/candidatures/{}/proofs", app.url, id))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let target = list["items"][0]["target"].as_str().unwrap().to_string();

    let before = peak_rss();
    // An MP4 header, then 2 GiB of a repeating pattern, sent over a plain socket.
    let host = app.url.trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
    let path = format!(
        "/api/v1/candidatures/{}/proofs/files?target={}&name=demonstration.mp4",
        id,
        target.replace('#', "%23").replace('/', "%2F")
    );
    sock.write_all(
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {tok}\r\nContent-Length: {SIZE}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut chunk = vec![0u8; 1024 * 1024];
    for (i, b) in chunk.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let header = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";
    chunk[..header.len()].copy_from_slice(header);
    let mut hasher = Sha256::new();
    let mut sent = 0u64;
    while sent < SIZE {
        sock.write_all(&chunk).await.unwrap();
        hasher.update(&chunk);
        sent += chunk.len() as u64;
        if sent == chunk.len() as u64 {
            // Later chunks without the header.
            chunk[..header.len()].fill(0);
        }
    }
    let mut answer = Vec::new();
    sock.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let growth = peak_rss().saturating_sub(before);
    eprintln!(
        "peak memory growth during a 2 GiB upload: {} MiB",
        growth / (1024 * 1024)
    );
    assert!(growth < BOUND, "peak memory grew by {growth} bytes");

    let files = app.store.proof_files(&id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].attachment.size_bytes as u64, SIZE);
    assert_eq!(files[0].attachment.content_type, "video/mp4");
    let expected: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(files[0].attachment.sha256, expected);
    app.stop().await;
}
