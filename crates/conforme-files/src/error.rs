//! What can go wrong with a file, in words a user can act on; store failures are kept apart.

/// Why a file could not be stored or read.
///
/// Every variant but [`FileError::Store`] describes the user's file or request and its message
/// can be shown as it is. `Store` is an internal failure (disk, network, S3): log it and show
/// [`FileError::public_message`] instead.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("Le fichier dépasse la taille maximale de {}.", format_size(*limit))]
    TooLarge { limit: u64 },
    #[error("Le fichier est vide.")]
    Empty,
    #[error("Ce type de fichier ({detected}) n'est pas accepté ici.")]
    TypeNotAllowed { detected: String },
    #[error("L'envoi du fichier a été interrompu avant la fin. Veuillez le renvoyer.")]
    Interrupted {
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("Fichier introuvable.")]
    NotFound,
    #[error("Référence de fichier invalide.")]
    InvalidKey,
    /// The cause, for the logs only.
    #[error("erreur du stockage de fichiers : {0}")]
    Store(String),
}

impl FileError {
    /// Whether this is an internal failure rather than a problem with the user's file.
    pub fn is_internal(&self) -> bool {
        matches!(self, FileError::Store(_))
    }

    /// The text to show a user: the error itself, or a generic sentence for an internal
    /// failure (whose cause belongs in the logs).
    pub fn public_message(&self) -> String {
        match self {
            FileError::Store(_) => {
                "Une erreur interne est survenue lors du traitement du fichier. \
                 Réessayez plus tard."
                    .to_string()
            }
            other => other.to_string(),
        }
    }
}

impl From<object_store::Error> for FileError {
    fn from(error: object_store::Error) -> Self {
        match error {
            object_store::Error::NotFound { .. } => FileError::NotFound,
            other => FileError::Store(other.to_string()),
        }
    }
}

/// A size in bytes as French readers expect it: "512 octets", "20 Mo", "1,5 Go" (multiples of
/// 1024, one decimal at most, decimal comma).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["octets", "Ko", "Mo", "Go", "To"];
    if bytes < 1024 {
        return if bytes <= 1 {
            format!("{bytes} octet")
        } else {
            format!("{bytes} octets")
        };
    }
    let mut unit = 0;
    let mut divisor: u64 = 1;
    while unit + 1 < UNITS.len() && bytes / divisor >= 1024 {
        unit += 1;
        divisor *= 1024;
    }
    // Tenths of the unit, rounded to the nearest.
    let mut tenths = (u128::from(bytes) * 10 + u128::from(divisor) / 2) / u128::from(divisor);
    if tenths >= 10_240 && unit + 1 < UNITS.len() {
        // 1023,96 Ko is written 1 Mo, not 1024 Ko.
        unit += 1;
        divisor *= 1024;
        tenths = (u128::from(bytes) * 10 + u128::from(divisor) / 2) / u128::from(divisor);
    }
    let (whole, tenth) = (tenths / 10, tenths % 10);
    if tenth == 0 {
        format!("{whole} {}", UNITS[unit])
    } else {
        format!("{whole},{tenth} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;

    #[test]
    fn formats_sizes_in_french() {
        assert_eq!(format_size(0), "0 octet");
        assert_eq!(format_size(1), "1 octet");
        assert_eq!(format_size(512), "512 octets");
        assert_eq!(format_size(1023), "1023 octets");
        assert_eq!(format_size(KIB), "1 Ko");
        assert_eq!(format_size(1536), "1,5 Ko");
        assert_eq!(format_size(KIB * KIB - 1), "1 Mo");
        assert_eq!(format_size(20 * MIB), "20 Mo");
        assert_eq!(format_size(20 * MIB + 100), "20 Mo");
        assert_eq!(format_size(3 * GIB / 2), "1,5 Go");
        assert_eq!(format_size(5 * GIB), "5 Go");
        assert_eq!(format_size(2048 * GIB), "2 To");
        assert_eq!(format_size(u64::MAX), "16777216 To");
    }

    #[test]
    fn speaks_to_the_user_in_french() {
        assert_eq!(
            FileError::TooLarge { limit: 20 * MIB }.to_string(),
            "Le fichier dépasse la taille maximale de 20 Mo."
        );
        assert_eq!(
            FileError::TypeNotAllowed {
                detected: "application/zip".to_string()
            }
            .to_string(),
            "Ce type de fichier (application/zip) n'est pas accepté ici."
        );
        let internal = FileError::Store("connection refused".to_string());
        assert!(internal.is_internal());
        assert!(!internal.public_message().contains("connection refused"));
        assert!(internal.to_string().contains("connection refused"));
        assert!(!FileError::Empty.is_internal());
        assert_eq!(FileError::Empty.public_message(), "Le fichier est vide.");
    }
}
