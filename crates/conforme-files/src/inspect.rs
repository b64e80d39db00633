//! Looking inside a stored archive: can it be opened, and how many files does it hold. The
//! instructor sees the answer next to the proof; an archive that cannot be opened is worth
//! telling the editor at once rather than at instruction time.
//!
//! The object is streamed into an anonymous temporary file (bounded memory whatever its size)
//! and read there off the async runtime. A ZIP (and the office formats built on ZIP) is read by
//! its central directory only, nothing is decompressed; a TAR by its headers, skipping the
//! contents; a gzip is decompressed to its end (its CRC checked), counting the TAR entries
//! inside a `.tar.gz`.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::error::FileError;
use crate::store::{FileStore, is_valid_key};

/// What reading an archive found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchiveInspection {
    /// It opens; `entries` counts the files in it (directories not counted; a gzip that holds
    /// no TAR is one file).
    Readable { entries: usize },
    /// It does not open; why, in French.
    Unreadable { reason: String },
}

/// How an archive type is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Zip,
    Tar,
    Gzip,
}

/// The MIME types (as sniffed) built on ZIP.
fn is_zip_based(essence: &str) -> bool {
    matches!(
        essence,
        "application/zip"
            | "application/x-zip-compressed"
            | "application/epub+zip"
            | "application/java-archive"
    ) || essence.starts_with("application/vnd.openxmlformats-officedocument.")
        || essence.starts_with("application/vnd.oasis.opendocument.")
}

fn format_of(content_type: &str) -> Option<Format> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if is_zip_based(&essence) {
        Some(Format::Zip)
    } else {
        match essence.as_str() {
            "application/x-tar" => Some(Format::Tar),
            "application/gzip" | "application/x-gzip" => Some(Format::Gzip),
            _ => None,
        }
    }
}

impl FileStore {
    /// Opens the archive stored under `key`, whose sniffed type is `content_type`: `None` when
    /// that type is not an archive this store can read (ZIP and the OOXML/ODF office types,
    /// TAR, gzip), otherwise what reading it found. An error is a key of the wrong shape or the
    /// store's (missing file, disk or network), never the archive's: a broken archive is
    /// [`ArchiveInspection::Unreadable`].
    pub async fn inspect_archive(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<Option<ArchiveInspection>, FileError> {
        if !is_valid_key(key) {
            return Err(FileError::InvalidKey);
        }
        let Some(format) = format_of(content_type) else {
            return Ok(None);
        };
        let (_, mut stream) = self.get_stream(key).await?;
        let mut file = blocking(|| tempfile::tempfile().map_err(store_error)).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file = blocking(move || {
                file.write_all(&chunk).map_err(store_error)?;
                Ok(file)
            })
            .await?;
        }
        let inspection = blocking(move || {
            file.flush().map_err(store_error)?;
            file.seek(SeekFrom::Start(0)).map_err(store_error)?;
            Ok(match format {
                Format::Zip => inspect_zip(file),
                Format::Tar => inspect_tar(io::BufReader::new(file)),
                Format::Gzip => inspect_gzip(file),
            })
        })
        .await?;
        Ok(Some(inspection))
    }
}

async fn blocking<T, F>(work: F) -> Result<T, FileError>
where
    F: FnOnce() -> Result<T, FileError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FileError::Store(e.to_string()))?
}

fn store_error(error: io::Error) -> FileError {
    FileError::Store(format!("fichier temporaire : {error}"))
}

fn unreadable(reason: &str) -> ArchiveInspection {
    ArchiveInspection::Unreadable {
        reason: reason.to_string(),
    }
}

fn inspect_zip(file: File) -> ArchiveInspection {
    use zip::result::ZipError;
    match zip::ZipArchive::new(file) {
        Ok(archive) => ArchiveInspection::Readable {
            entries: archive.file_names().filter(|n| !n.ends_with('/')).count(),
        },
        Err(ZipError::UnsupportedArchive(_)) => {
            unreadable("archive ZIP d'une variante non prise en charge (multi-volumes ou chiffrée)")
        }
        Err(ZipError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
            unreadable("archive ZIP tronquée")
        }
        Err(_) => unreadable(
            "archive ZIP invalide ou tronquée : son répertoire central est introuvable ou illisible",
        ),
    }
}

const BLOCK: usize = 512;

/// A number of a TAR header: octal digits padded with spaces or NULs, or (GNU) base-256 when
/// the first byte's high bit is set.
fn tar_number(field: &[u8]) -> Option<u64> {
    match field.first() {
        Some(first) if first & 0x80 != 0 => {
            field[1..].iter().try_fold(u64::from(first & 0x7f), |n, b| {
                n.checked_mul(256)?.checked_add(u64::from(*b))
            })
        }
        _ => {
            let digits: Vec<u8> = field
                .iter()
                .copied()
                .skip_while(|b| *b == b' ' || *b == 0)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .collect();
            if digits.is_empty() {
                return None;
            }
            digits.iter().try_fold(0u64, |n, d| {
                n.checked_mul(8)?.checked_add(u64::from(d - b'0'))
            })
        }
    }
}

/// Whether a header's checksum (the sum of its bytes, the checksum field counted as spaces)
/// is right.
fn tar_checksum_ok(header: &[u8; BLOCK]) -> bool {
    let Some(expected) = tar_number(&header[148..156]) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(*b)
            }
        })
        .sum();
    sum == expected
}

/// Reads a block, or `None` at a clean end of input.
fn read_block(reader: &mut impl Read, block: &mut [u8; BLOCK]) -> io::Result<Option<()>> {
    let mut filled = 0;
    while filled < BLOCK {
        match reader.read(&mut block[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(()))
}

/// Why a TAR stream could not be read to its end.
enum TarFault {
    Truncated,
    BadHeader,
    Io(io::Error),
}

/// Counts the files of a TAR stream by walking its headers and skipping their contents.
/// Directories, links' and PAX/GNU extension headers are not counted.
fn count_tar(reader: &mut impl Read) -> Result<usize, TarFault> {
    let mut header = [0u8; BLOCK];
    let mut entries = 0;
    loop {
        match read_block(reader, &mut header) {
            Ok(Some(())) => {}
            // No end-of-archive blocks: many writers omit them; what was read is complete.
            Ok(None) => return Ok(entries),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(TarFault::Truncated),
            Err(e) => return Err(TarFault::Io(e)),
        }
        if header.iter().all(|b| *b == 0) {
            return Ok(entries);
        }
        if !tar_checksum_ok(&header) {
            return Err(TarFault::BadHeader);
        }
        let size = tar_number(&header[124..136]).ok_or(TarFault::BadHeader)?;
        let typeflag = header[156];
        if matches!(typeflag, b'0' | 0 | b'7') {
            entries += 1;
        }
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        let skipped =
            io::copy(&mut reader.by_ref().take(padded), &mut io::sink()).map_err(TarFault::Io)?;
        if skipped < padded {
            return Err(TarFault::Truncated);
        }
    }
}

fn inspect_tar(mut reader: impl Read) -> ArchiveInspection {
    match count_tar(&mut reader) {
        Ok(entries) => ArchiveInspection::Readable { entries },
        Err(TarFault::Truncated) => unreadable("archive TAR tronquée"),
        Err(TarFault::BadHeader) => unreadable("archive TAR invalide : en-tête illisible"),
        Err(TarFault::Io(_)) => unreadable("archive TAR illisible"),
    }
}

/// Whether a block is a TAR header (POSIX `ustar` magic, or an old-style header with a right
/// checksum).
fn looks_like_tar(head: &[u8]) -> bool {
    let Ok(block) = <&[u8; BLOCK]>::try_from(head) else {
        return false;
    };
    &block[257..262] == b"ustar" || (block.iter().any(|b| *b != 0) && tar_checksum_ok(block))
}

fn gzip_fault(error: &io::Error) -> ArchiveInspection {
    if error.kind() == io::ErrorKind::UnexpectedEof {
        unreadable("fichier gzip tronqué")
    } else {
        unreadable("fichier gzip corrompu (données compressées ou somme de contrôle invalides)")
    }
}

fn inspect_gzip(file: File) -> ArchiveInspection {
    let mut decoder = flate2::read::MultiGzDecoder::new(io::BufReader::new(file));
    let mut head = Vec::with_capacity(BLOCK);
    if let Err(e) = decoder.by_ref().take(BLOCK as u64).read_to_end(&mut head) {
        return gzip_fault(&e);
    }
    if looks_like_tar(&head) {
        let mut stream = io::Cursor::new(head).chain(decoder);
        return match count_tar(&mut stream) {
            // The rest (end-of-archive padding) is read too, for the CRC check.
            Ok(entries) => match io::copy(&mut stream, &mut io::sink()) {
                Ok(_) => ArchiveInspection::Readable { entries },
                Err(e) => gzip_fault(&e),
            },
            Err(TarFault::Io(e)) => gzip_fault(&e),
            Err(TarFault::Truncated) => unreadable("archive TAR tronquée dans le fichier gzip"),
            Err(TarFault::BadHeader) => {
                unreadable("archive TAR invalide dans le fichier gzip : en-tête illisible")
            }
        };
    }
    // Not a TAR: one compressed file, read to its end for the CRC check.
    match io::copy(&mut decoder, &mut io::sink()) {
        Ok(_) => ArchiveInspection::Readable { entries: 1 },
        Err(e) => gzip_fault(&e),
    }
}
