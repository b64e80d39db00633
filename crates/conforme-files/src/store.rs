//! The file store: streaming uploads under random keys, downloads, deletion.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    ClientOptions, GetOptions, GetResultPayload, MultipartUpload, ObjectStore, ObjectStoreExt,
    PutMultipartOptions, PutOptions, PutPayload,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::{ConfigError, FileStoreConfig};
use crate::error::FileError;
use crate::sniff::{SNIFF_LEN, sniff};

/// The size of the parts of a multipart upload (S3 wants at least 5 MiB but for the last one;
/// 10,000 parts of 8 MiB allow objects of 78 GiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// The size of the chunks read from a local file for a download.
const READ_CHUNK: usize = 256 * 1024;
/// Every object lives under this prefix, which nothing else uses.
const KEY_ROOT: &str = "objects";

/// What an upload may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    /// The largest size accepted, in bytes. Empty files are always refused.
    pub max_bytes: u64,
    /// The MIME types accepted, as sniffed from the content (`"image/*"` accepts every image
    /// type); `None` accepts any type.
    pub allowed_types: Option<Vec<String>>,
}

impl UploadLimits {
    /// Any type, up to `max_bytes`.
    pub fn new(max_bytes: u64) -> Self {
        UploadLimits {
            max_bytes,
            allowed_types: None,
        }
    }

    /// Only the given MIME types (`"type/*"` for a whole family).
    pub fn allowing<I, T>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.allowed_types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// Whether a file of this (sniffed) type is accepted.
    pub fn allows(&self, content_type: &str) -> bool {
        let Some(allowed) = &self.allowed_types else {
            return true;
        };
        allowed
            .iter()
            .any(|pattern| match pattern.strip_suffix("/*") {
                Some(family) => content_type
                    .split_once('/')
                    .is_some_and(|(f, _)| f.eq_ignore_ascii_case(family)),
                None => pattern.eq_ignore_ascii_case(content_type),
            })
    }
}

/// A file once stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObject {
    /// The random key it is stored under (see [`is_valid_key`]).
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its content, in lowercase hexadecimal.
    pub sha256: String,
    /// Its MIME type, sniffed from its first bytes.
    pub content_type: String,
}

/// Whether `key` has the shape of the keys this store makes (`objects/ab/cd/<uuid v4>`, `abcd`
/// being the UUID's first four digits). Anything else (other prefixes, `..`, absolute paths,
/// upper case) is refused before it reaches the store.
pub fn is_valid_key(key: &str) -> bool {
    let mut parts = key.split('/');
    let (Some(root), Some(a), Some(b), Some(id), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(uuid) = Uuid::try_parse(id) else {
        return false;
    };
    root == KEY_ROOT
        && uuid.get_version_num() == 4
        && uuid.hyphenated().to_string() == id
        && id.get(0..2) == Some(a)
        && id.get(2..4) == Some(b)
}

fn new_key() -> String {
    let id = Uuid::new_v4().hyphenated().to_string();
    let (a, b) = (id.get(0..2).unwrap_or("00"), id.get(2..4).unwrap_or("00"));
    format!("{KEY_ROOT}/{a}/{b}/{id}")
}

fn checked_path(key: &str) -> Result<Path, FileError> {
    if is_valid_key(key) {
        Ok(Path::from(key))
    } else {
        Err(FileError::InvalidKey)
    }
}

/// The file store. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    /// The canonical root directory of a local store, to tidy empty directories after a
    /// failed upload.
    local_root: Option<PathBuf>,
    description: Arc<str>,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileStore({})", self.description)
    }
}

impl fmt::Display for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl FileStore {
    /// Opens the configured store; a local root directory is created when missing. No request
    /// is made to S3 here.
    pub fn open(config: &FileStoreConfig) -> Result<Self, ConfigError> {
        let description = config.to_string();
        let open_error = |cause: String| ConfigError::Open {
            store: description.clone(),
            cause,
        };
        match config {
            FileStoreConfig::Local { root } => {
                std::fs::create_dir_all(root).map_err(|e| open_error(e.to_string()))?;
                let root = std::fs::canonicalize(root).map_err(|e| open_error(e.to_string()))?;
                let store = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| open_error(e.to_string()))?
                    // Proofs must survive a crash once acknowledged.
                    .with_fsync(true)
                    // Deleting the last file of a directory removes the directory.
                    .with_automatic_cleanup(true);
                Ok(FileStore {
                    store: Arc::new(store),
                    local_root: Some(root),
                    description: description.into(),
                })
            }
            FileStoreConfig::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                install_tls_provider();
                let client = ClientOptions::new()
                    // A download of several GB to a slow client outlasts any overall timeout;
                    // a stalled connection is caught by the read timeout instead.
                    .with_timeout_disabled()
                    .with_connect_timeout(Duration::from_secs(10))
                    .with_read_timeout(Duration::from_secs(120))
                    .with_allow_http(*allow_http);
                let mut builder = AmazonS3Builder::new()
                    .with_client_options(client)
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                let store = builder.build().map_err(|e| open_error(e.to_string()))?;
                Ok(FileStore {
                    store: Arc::new(store),
                    local_root: None,
                    description: description.into(),
                })
            }
        }
    }

    /// A store over any `object_store` implementation (in-memory stores for tests…).
    pub fn from_object_store(store: Arc<dyn ObjectStore>) -> Self {
        // An S3 store built elsewhere needs it as much as one built by `open`.
        install_tls_provider();
        let description = store.to_string();
        FileStore {
            store,
            local_root: None,
            description: description.into(),
        }
    }

    /// Stores a file streamed from `stream` under a new random key.
    ///
    /// The SHA-256 and the size are computed while the bytes go by; the type is sniffed from
    /// the first 8 KiB and checked against `limits` before anything is written; the upload
    /// stops as soon as the size passes `limits.max_bytes`. Memory is bounded whatever the
    /// size: a file smaller than [`PART_SIZE`] is buffered and written in one request, a
    /// larger one goes as a multipart upload with one part being written while the next one
    /// fills (two parts, 16 MiB, at most).
    ///
    /// On any failure, an error from the stream included (the client went away:
    /// [`FileError::Interrupted`]), nothing is left in the store; the same holds if this
    /// future is dropped midway (a multipart upload is then aborted in the background).
    pub async fn put_stream<S, E>(
        &self,
        mut stream: S,
        limits: &UploadLimits,
    ) -> Result<StoredObject, FileError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::error::Error + Send + Sync + 'static,
    {
        let key = new_key();
        let path = Path::from(key.as_str());
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut content_type: Option<String> = None;
        // The first bytes, until the type is known and then until a whole part is there.
        let mut head: Vec<Bytes> = Vec::new();
        let mut head_len: usize = 0;
        let mut upload: Option<Multipart> = None;

        let outcome: Result<(), FileError> = async {
            while let Some(item) = stream.next().await {
                let chunk = item.map_err(|e| FileError::Interrupted { cause: Box::new(e) })?;
                if chunk.is_empty() {
                    continue;
                }
                size = size.saturating_add(chunk.len() as u64);
                if size > limits.max_bytes {
                    return Err(FileError::TooLarge {
                        limit: limits.max_bytes,
                    });
                }
                hasher.update(&chunk);
                if let Some(upload) = upload.as_mut() {
                    upload.write(chunk).await?;
                    continue;
                }
                head_len += chunk.len();
                head.push(chunk);
                if content_type.is_none() && head_len >= SNIFF_LEN {
                    content_type = Some(check_type(&head, limits)?);
                }
                if head_len >= PART_SIZE {
                    let mut started = Multipart::start(self.store.as_ref(), &path).await?;
                    for chunk in head.drain(..) {
                        started.write(chunk).await?;
                    }
                    upload = Some(started);
                }
            }
            Ok(())
        }
        .await;

        let result = match outcome {
            Ok(()) if size == 0 => Err(FileError::Empty),
            Ok(()) => {
                let checked = match content_type.take() {
                    Some(content_type) => Ok(content_type),
                    None => check_type(&head, limits),
                };
                match (checked, upload.take()) {
                    (Err(e), Some(upload)) => {
                        upload.abort().await;
                        Err(e)
                    }
                    (Err(e), None) => Err(e),
                    (Ok(content_type), Some(upload)) => {
                        upload.finish().await.map(|()| content_type)
                    }
                    (Ok(content_type), None) => {
                        let payload: PutPayload = std::mem::take(&mut head).into_iter().collect();
                        self.store
                            .put_opts(&path, payload, PutOptions::default())
                            .await
                            .map(|_| content_type)
                            .map_err(write_error)
                    }
                }
            }
            Err(e) => {
                if let Some(upload) = upload.take() {
                    upload.abort().await;
                }
                Err(e)
            }
        };

        match result {
            Ok(content_type) => Ok(StoredObject {
                key,
                size,
                sha256: hex(&hasher.finalize()),
                content_type,
            }),
            Err(e) => {
                self.tidy_after_failure(&path).await;
                if let FileError::Interrupted { cause } = &e {
                    tracing::info!(%cause, size, "upload interrupted");
                }
                Err(e)
            }
        }
    }

    /// Stores bytes already in memory (a generated document), with the same checks as
    /// [`FileStore::put_stream`].
    pub async fn put_bytes(
        &self,
        bytes: Vec<u8>,
        limits: &UploadLimits,
    ) -> Result<StoredObject, FileError> {
        let chunk: Result<Bytes, std::io::Error> = Ok(Bytes::from(bytes));
        self.put_stream(futures_util::stream::iter([chunk]), limits)
            .await
    }

    /// The size of a stored file and a stream of its bytes.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<
        (
            u64,
            impl Stream<Item = Result<Bytes, FileError>> + Send + Unpin + 'static,
        ),
        FileError,
    > {
        let path = checked_path(key)?;
        let result = self.store.get_opts(&path, GetOptions::default()).await?;
        let size = result.meta.size;
        let stream = match result.payload {
            GetResultPayload::File(file, _) => read_file(file, size),
            GetResultPayload::Stream(stream) => stream.map_err(FileError::from).boxed(),
        };
        Ok((size, stream))
    }

    /// Deletes a stored file; deleting a file that is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), FileError> {
        let path = checked_path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a file is stored under `key` (`false` for a key of another shape).
    pub async fn exists(&self, key: &str) -> Result<bool, FileError> {
        let Ok(path) = checked_path(key) else {
            return Ok(false);
        };
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every key in the store, sorted (for tests and operations: the whole store is listed).
    pub async fn list_keys(&self) -> Result<Vec<String>, FileError> {
        let mut keys: Vec<String> = self
            .store
            .list(Some(&Path::from(KEY_ROOT)))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }

    /// After a failed upload on a local store: removes the two levels of directories made for
    /// it if they are empty (another upload's directory, not empty, stays).
    async fn tidy_after_failure(&self, path: &Path) {
        let Some(root) = &self.local_root else {
            return;
        };
        let mut dir = root.clone();
        dir.extend(path.parts().map(|part| part.as_ref().to_string()));
        let root = root.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for _ in 0..2 {
                if !dir.pop() || dir == root || std::fs::remove_dir(&dir).is_err() {
                    break;
                }
            }
        })
        .await;
    }
}

/// A failure while writing is always the store's, even a "not found" (a missing bucket).
fn write_error(error: object_store::Error) -> FileError {
    FileError::Store(error.to_string())
}

/// Sniffs the type from the first bytes and checks it is allowed.
fn check_type(head: &[Bytes], limits: &UploadLimits) -> Result<String, FileError> {
    let mut window = Vec::with_capacity(SNIFF_LEN);
    for chunk in head {
        let wanted = SNIFF_LEN - window.len();
        if wanted == 0 {
            break;
        }
        window.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
    }
    let detected = sniff(&window);
    if limits.allows(&detected) {
        Ok(detected)
    } else {
        Err(FileError::TypeNotAllowed { detected })
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A local file read in chunks of [`READ_CHUNK`] (object_store's own reader uses 8 KiB, too
/// small for videos of several GB).
fn read_file(
    file: std::fs::File,
    size: u64,
) -> futures_util::stream::BoxStream<'static, Result<Bytes, FileError>> {
    futures_util::stream::try_unfold((file, size), |(mut file, remaining)| async move {
        if remaining == 0 {
            return Ok(None);
        }
        let result = tokio::task::spawn_blocking(move || {
            let wanted = remaining.min(READ_CHUNK as u64);
            let mut buffer = Vec::with_capacity(READ_CHUNK);
            let read = (&mut file).take(wanted).read_to_end(&mut buffer)?;
            Ok::<_, std::io::Error>((buffer, file, read))
        })
        .await
        .map_err(|e| FileError::Store(e.to_string()))?;
        let (buffer, file, read) = result.map_err(|e| FileError::Store(e.to_string()))?;
        if read == 0 {
            return Err(FileError::Store(
                "le fichier a raccourci pendant sa lecture".to_string(),
            ));
        }
        Ok(Some((Bytes::from(buffer), (file, remaining - read as u64))))
    })
    .boxed()
}

/// A multipart upload under way: the part being filled, and at most one part being written.
///
/// Dropped before [`Multipart::finish`] or [`Multipart::abort`] (the request's future was
/// dropped), it cancels its part and aborts the upload in the background, so that S3 keeps no
/// pending upload (a local store removes its temporary file by itself).
struct Multipart {
    upload: Option<Box<dyn MultipartUpload>>,
    buffer: Vec<Bytes>,
    buffered: usize,
    in_flight: Option<JoinHandle<object_store::Result<()>>>,
}

impl Multipart {
    async fn start(store: &dyn ObjectStore, path: &Path) -> Result<Self, FileError> {
        let upload = store
            .put_multipart_opts(path, PutMultipartOptions::default())
            .await
            .map_err(write_error)?;
        Ok(Multipart {
            upload: Some(upload),
            buffer: Vec::new(),
            buffered: 0,
            in_flight: None,
        })
    }

    async fn write(&mut self, mut chunk: Bytes) -> Result<(), FileError> {
        while !chunk.is_empty() {
            let room = PART_SIZE - self.buffered;
            let piece = if chunk.len() > room {
                chunk.split_to(room)
            } else {
                std::mem::take(&mut chunk)
            };
            self.buffered += piece.len();
            self.buffer.push(piece);
            if self.buffered == PART_SIZE {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    /// Waits for the part being written, then starts writing the buffered one.
    async fn send_part(&mut self) -> Result<(), FileError> {
        self.wait_in_flight().await?;
        let payload: PutPayload = std::mem::take(&mut self.buffer).into_iter().collect();
        self.buffered = 0;
        let upload = self
            .upload
            .as_mut()
            .ok_or_else(|| FileError::Store("envoi déjà terminé".to_string()))?;
        self.in_flight = Some(tokio::spawn(upload.put_part(payload)));
        Ok(())
    }

    async fn wait_in_flight(&mut self) -> Result<(), FileError> {
        if let Some(part) = self.in_flight.as_mut() {
            let outcome = part.await;
            self.in_flight = None;
            outcome
                .map_err(|e| FileError::Store(e.to_string()))?
                .map_err(write_error)?;
        }
        Ok(())
    }

    /// Sends the last part and completes the upload; aborts it on failure.
    async fn finish(mut self) -> Result<(), FileError> {
        let outcome = async {
            if self.buffered > 0 {
                self.send_part().await?;
            }
            self.wait_in_flight().await?;
            let upload = self
                .upload
                .as_mut()
                .ok_or_else(|| FileError::Store("envoi déjà terminé".to_string()))?;
            upload.complete().await.map_err(write_error)?;
            Ok::<(), FileError>(())
        }
        .await;
        match outcome {
            Ok(()) => {
                self.upload = None;
                Ok(())
            }
            Err(e) => {
                self.abort().await;
                Err(e)
            }
        }
    }

    /// Cancels the part being written and aborts the upload.
    async fn abort(mut self) {
        if let Some(part) = self.in_flight.take() {
            part.abort();
            let _ = part.await;
        }
        if let Some(mut upload) = self.upload.take()
            && let Err(e) = upload.abort().await
        {
            tracing::warn!(error = %e, "could not abort a multipart upload");
        }
    }
}

impl Drop for Multipart {
    fn drop(&mut self) {
        let Some(mut upload) = self.upload.take() else {
            return;
        };
        let part = self.in_flight.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Some(part) = part {
                        part.abort();
                        let _ = part.await;
                    }
                    if let Err(e) = upload.abort().await {
                        tracing::warn!(error = %e, "could not abort a dropped multipart upload");
                    }
                });
            }
            Err(_) => {
                if let Some(part) = part {
                    part.abort();
                }
                tracing::warn!("multipart upload dropped outside a runtime: not aborted");
            }
        }
    }
}

/// Makes ring the crypto provider of rustls for the process, unless one is already installed
/// (reqwest, built without a provider of its own to spare the aws-lc build, panics without
/// one when a client is made).
fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_and_checks_keys() {
        for _ in 0..100 {
            let key = new_key();
            assert!(is_valid_key(&key), "{key}");
            assert_eq!(key.len(), "objects/ab/cd/".len() + 36);
        }
        let key = new_key();
        for bad in [
            String::new(),
            "objects".to_string(),
            "../etc/passwd".to_string(),
            format!("/{key}"),
            format!("{key}/"),
            format!("{key}/.."),
            key.replacen("objects", "other", 1),
            key.replacen("objects/", "objects/../", 1),
            key.to_uppercase(),
            // The directories must be the UUID's first digits.
            "objects/00/00/9f1c2a4e-6b7d-4e8f-9a0b-1c2d3e4f5a6b".to_string(),
            // Version 4 only.
            "objects/9f/1c/9f1c2a4e-6b7d-1e8f-9a0b-1c2d3e4f5a6b".to_string(),
            // The simple (unhyphenated) form is not ours.
            "objects/9f/1c/9f1c2a4e6b7d4e8f9a0b1c2d3e4f5a6b".to_string(),
        ] {
            assert!(!is_valid_key(&bad), "{bad}");
        }
        assert!(is_valid_key(
            "objects/9f/1c/9f1c2a4e-6b7d-4e8f-9a0b-1c2d3e4f5a6b"
        ));
    }

    #[test]
    fn checks_types_against_the_limits() {
        let any = UploadLimits::new(10);
        assert!(any.allows("application/x-executable"));
        let images_and_pdf = UploadLimits::new(10).allowing(["image/*", "application/pdf"]);
        assert!(images_and_pdf.allows("image/png"));
        assert!(images_and_pdf.allows("image/jpeg"));
        assert!(images_and_pdf.allows("application/pdf"));
        assert!(!images_and_pdf.allows("application/zip"));
        assert!(!images_and_pdf.allows("imagefoo"));
        let none = UploadLimits::new(10).allowing(Vec::<String>::new());
        assert!(!none.allows("text/plain"));
    }

    #[test]
    fn writes_hashes_in_hex() {
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
