//! Streams for the upload tests: made lazily, counting what was pulled from them.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;

/// A PNG signature and header, then filler.
pub fn png(len: usize) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0".to_vec();
    data.extend(pattern(len.saturating_sub(data.len())));
    data.truncate(len);
    data
}

pub fn pdf(len: usize) -> Vec<u8> {
    let mut data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    data.extend(pattern(len.saturating_sub(data.len())));
    data.truncate(len);
    data
}

pub fn zip(len: usize) -> Vec<u8> {
    let mut data = b"PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0".to_vec();
    data.extend(pattern(len.saturating_sub(data.len())));
    data.truncate(len);
    data
}

/// Log lines, with accents.
pub fn text(len: usize) -> Vec<u8> {
    let line = "2026-03-31T12:00:00Z INFO dossier déposé, pièce jointe reçue\n";
    line.repeat(len / line.len() + 1).into_bytes()[..len].to_vec()
}

/// Bytes that look random (xorshift), the same for the same length.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `data` in chunks of `chunk` bytes.
pub fn chunks_of(
    data: &[u8],
    chunk: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send + 'static {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(chunks)
}

/// A stream of `total` bytes made as they are pulled, in chunks of `chunk` bytes (copied from one
/// 1 MiB block, shifted so that the content does not repeat with a short period), counting the
/// bytes pulled in `pulled`; an error instead of the bytes after `fail_after`, if given.
pub struct Lazy {
    block: Bytes,
    total: u64,
    chunk: usize,
    produced: u64,
    fail_after: Option<u64>,
    pub pulled: Arc<AtomicU64>,
    hasher: Sha256,
}

impl Lazy {
    pub fn new(total: u64, chunk: usize) -> Self {
        Lazy {
            block: Bytes::from(pattern(MIB as usize + chunk)),
            total,
            chunk,
            produced: 0,
            fail_after: None,
            pulled: Arc::new(AtomicU64::new(0)),
            hasher: Sha256::new(),
        }
    }

    pub fn failing_after(mut self, bytes: u64) -> Self {
        self.fail_after = Some(bytes);
        self
    }

    /// The count of bytes pulled, to read after the stream is gone.
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.pulled)
    }

    fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if let Some(limit) = self.fail_after
            && self.produced >= limit
        {
            return Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "client went away",
            )));
        }
        if self.produced >= self.total {
            return None;
        }
        let len = (self.total - self.produced).min(self.chunk as u64) as usize;
        let n = self.produced / self.chunk as u64;
        let offset = ((n * 7919) % (MIB - 1)) as usize;
        // A fresh allocation per chunk, as a request body gives: whatever the store keeps
        // shows in the memory used.
        let bytes = Bytes::copy_from_slice(&self.block[offset..offset + len]);
        self.produced += len as u64;
        self.pulled.fetch_add(len as u64, Ordering::SeqCst);
        self.hasher.update(&bytes);
        Some(Ok(bytes))
    }
}

impl Stream for Lazy {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.get_mut().next_chunk())
    }
}

/// The SHA-256 of everything a [`Lazy`] of these parameters yields when read to the end.
pub fn lazy_sha256(total: u64, chunk: usize) -> String {
    let mut lazy = Lazy::new(total, chunk);
    while let Some(Ok(_)) = lazy.next_chunk() {}
    hex(&lazy.hasher.finalize())
}

/// Reads a download to the end: its SHA-256 and length.
pub async fn digest_download<S, E>(mut stream: S) -> (String, u64)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Debug,
{
    use futures_util::StreamExt;
    let mut hasher = Sha256::new();
    let mut len = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("download chunk");
        len += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (hex(&hasher.finalize()), len)
}
