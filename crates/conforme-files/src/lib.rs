//! The file store of Conforme: where the proofs uploaded by software editors (screenshots,
//! logs, archives, videos of several GB) are kept.
//!
//! A local directory by default, an S3-compatible bucket when `CONFORME_FILES_URL` says so
//! (see [`FileStoreConfig`]), both through `object_store`. Uploads are streamed with bounded
//! memory whatever their size: the SHA-256 and the size are computed on the way, the type is
//! sniffed from the content and checked before anything is written, the size limit stops the
//! upload as soon as it is passed, and a failed or interrupted upload leaves nothing behind.
//! Files are stored under random keys; who may download one is for the web layer to decide.

mod config;
mod error;
mod inspect;
mod sniff;
mod store;

pub use config::{
    ACCESS_KEY_ID_VAR, ConfigError, FILES_URL_VAR, FileStoreConfig, SECRET_ACCESS_KEY_VAR,
};
pub use error::{FileError, format_size};
pub use inspect::ArchiveInspection;
pub use sniff::{OCTET_STREAM, SNIFF_LEN, TEXT_PLAIN, sniff};
pub use store::{FileStore, PART_SIZE, StoredObject, UploadLimits, is_valid_key};
