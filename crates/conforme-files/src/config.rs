//! Where the files go: `CONFORME_FILES_URL`, read once at startup.
//!
//! - unset or empty: a local directory, the default root given by the caller;
//! - `file:///absolute/path` (or a bare absolute path): a local directory;
//! - `s3://bucket?region=eu-west-3`: Amazon S3;
//! - `s3://bucket?endpoint=https://s3.example.net&region=fr-par`: an S3-compatible service
//!   (path-style requests; plain `http://` endpoints are accepted, for a server on the same
//!   host or in tests). The region defaults to `us-east-1` when an endpoint is given.
//!
//! S3 credentials always come from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (never from
//! the URL, never from an instance metadata service).

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

/// The environment variable naming the file store.
pub const FILES_URL_VAR: &str = "CONFORME_FILES_URL";
/// The environment variable holding the S3 access key id.
pub const ACCESS_KEY_ID_VAR: &str = "AWS_ACCESS_KEY_ID";
/// The environment variable holding the S3 secret access key.
pub const SECRET_ACCESS_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";

/// The region used with an explicit endpoint when none is given (MinIO and most
/// S3-compatible servers accept it).
const DEFAULT_ENDPOINT_REGION: &str = "us-east-1";

/// Which store holds the files.
#[derive(Clone, PartialEq, Eq)]
pub enum FileStoreConfig {
    /// A directory on the local disk (created when missing).
    Local { root: PathBuf },
    /// An S3 bucket, on AWS or an S3-compatible service.
    S3 {
        bucket: String,
        region: String,
        /// `None` for AWS itself; otherwise the service's base URL.
        endpoint: Option<String>,
        access_key_id: String,
        secret_access_key: String,
        /// Whether a plain `http://` endpoint may be used.
        allow_http: bool,
    },
}

/// The secret key is never printed.
impl fmt::Debug for FileStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileStoreConfig::Local { root } => f.debug_struct("Local").field("root", root).finish(),
            FileStoreConfig::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key: _,
                allow_http,
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("region", region)
                .field("endpoint", endpoint)
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &"<redacted>")
                .field("allow_http", allow_http)
                .finish(),
        }
    }
}

/// Says where the files go, without secrets; for startup logs.
impl fmt::Display for FileStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileStoreConfig::Local { root } => write!(f, "local directory {}", root.display()),
            FileStoreConfig::S3 {
                bucket,
                region,
                endpoint: Some(endpoint),
                ..
            } => write!(f, "S3 bucket {bucket} at {endpoint} (region {region})"),
            FileStoreConfig::S3 {
                bucket,
                region,
                endpoint: None,
                ..
            } => write!(f, "S3 bucket {bucket} (region {region})"),
        }
    }
}

/// A `CONFORME_FILES_URL` that cannot be used, or a store that cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "{FILES_URL_VAR} : « {url} » n'est pas une adresse reconnue ; formes acceptées : \
         file:///chemin/absolu, s3://compartiment?region=…[&endpoint=https://…]"
    )]
    Unrecognized { url: String },
    #[error("{FILES_URL_VAR} : « {url} » : {problem}")]
    Invalid { url: String, problem: String },
    #[error(
        "{FILES_URL_VAR} désigne un stockage S3 mais {0} n'est pas défini \
         (les identifiants S3 se donnent par AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY)"
    )]
    MissingCredential(&'static str),
    #[error("impossible d'ouvrir le stockage de fichiers ({store}) : {cause}")]
    Open { store: String, cause: String },
}

impl FileStoreConfig {
    /// Reads `CONFORME_FILES_URL` and the AWS credential variables from the process
    /// environment.
    pub fn from_env(default_root: &Path) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let url = env(FILES_URL_VAR);
        Self::from_url(url.as_deref(), default_root, &env)
    }

    /// Parses a `CONFORME_FILES_URL` value; `env` looks up the credential variables.
    pub fn from_url(
        url: Option<&str>,
        default_root: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let raw = url.map(str::trim).unwrap_or_default();
        if raw.is_empty() {
            return Ok(FileStoreConfig::Local {
                root: default_root.to_path_buf(),
            });
        }
        let invalid = |problem: &str| ConfigError::Invalid {
            url: raw.to_string(),
            problem: problem.to_string(),
        };
        if raw.starts_with('/') {
            return Ok(FileStoreConfig::Local {
                root: PathBuf::from(raw),
            });
        }
        let scheme = raw
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("file") => {
                if !raw
                    .get(..7)
                    .is_some_and(|p| p.eq_ignore_ascii_case("file://"))
                {
                    return Err(invalid(
                        "le chemin doit être absolu (file:///chemin/absolu)",
                    ));
                }
                let parsed = Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
                if parsed.query().is_some() || parsed.fragment().is_some() {
                    return Err(invalid("une adresse file:// ne prend pas de paramètres"));
                }
                match parsed.host_str() {
                    None | Some("") | Some("localhost") => {}
                    Some(_) => {
                        return Err(invalid(
                            "un répertoire local s'écrit file:///chemin/absolu (sans nom d'hôte)",
                        ));
                    }
                }
                let root = parsed
                    .to_file_path()
                    .map_err(|()| invalid("le chemin doit être absolu (file:///chemin/absolu)"))?;
                Ok(FileStoreConfig::Local { root })
            }
            Some("s3") => parse_s3(raw, env),
            _ => Err(ConfigError::Unrecognized {
                url: raw.to_string(),
            }),
        }
    }
}

fn parse_s3(
    raw: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<FileStoreConfig, ConfigError> {
    let invalid = |problem: String| ConfigError::Invalid {
        url: raw.to_string(),
        problem,
    };
    let parsed = Url::parse(raw).map_err(|e| invalid(e.to_string()))?;
    let bucket = parsed.host_str().unwrap_or_default().to_string();
    if bucket.is_empty() {
        return Err(invalid(
            "le nom du compartiment manque (s3://compartiment?…)".to_string(),
        ));
    }
    if !is_valid_bucket_name(&bucket) {
        return Err(invalid(format!(
            "« {bucket} » n'est pas un nom de compartiment S3 valide \
             (3 à 63 caractères : minuscules, chiffres, points et tirets)"
        )));
    }
    if !matches!(parsed.path(), "" | "/") {
        return Err(invalid(
            "un chemin après le nom du compartiment n'est pas pris en charge".to_string(),
        ));
    }
    if parsed.fragment().is_some() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "l'adresse ne doit contenir ni identifiants ni fragment \
             (les identifiants se donnent par AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY)"
                .to_string(),
        ));
    }

    let mut region = None;
    let mut endpoint = None;
    for (name, value) in parsed.query_pairs() {
        let slot = match name.as_ref() {
            "region" => &mut region,
            "endpoint" => &mut endpoint,
            other => {
                return Err(invalid(format!(
                    "paramètre « {other} » inconnu (paramètres admis : region, endpoint)"
                )));
            }
        };
        if slot.is_some() {
            return Err(invalid(format!(
                "le paramètre « {name} » est donné deux fois"
            )));
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(invalid(format!("le paramètre « {name} » est vide")));
        }
        *slot = Some(value.to_string());
    }

    let mut allow_http = false;
    if let Some(endpoint) = &endpoint {
        let endpoint_url = Url::parse(endpoint).map_err(|e| {
            invalid(format!(
                "le point d'accès « {endpoint} » n'est pas une URL : {e}"
            ))
        })?;
        match endpoint_url.scheme() {
            "https" => {}
            "http" => allow_http = true,
            _ => {
                return Err(invalid(format!(
                    "le point d'accès « {endpoint} » doit commencer par https:// ou http://"
                )));
            }
        }
        if endpoint_url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(format!(
                "le point d'accès « {endpoint} » ne nomme pas de serveur"
            )));
        }
        if endpoint_url.query().is_some() || endpoint_url.fragment().is_some() {
            return Err(invalid(format!(
                "le point d'accès « {endpoint} » ne doit pas avoir de paramètres"
            )));
        }
    }
    let region = match (region, &endpoint) {
        (Some(region), _) => region,
        (None, Some(_)) => DEFAULT_ENDPOINT_REGION.to_string(),
        (None, None) => {
            return Err(invalid(
                "la région manque (s3://compartiment?region=eu-west-3)".to_string(),
            ));
        }
    };

    let credential = |name: &'static str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or(ConfigError::MissingCredential(name))
    };
    let access_key_id = credential(ACCESS_KEY_ID_VAR)?;
    let secret_access_key = credential(SECRET_ACCESS_KEY_VAR)?;

    Ok(FileStoreConfig::S3 {
        bucket,
        region,
        endpoint,
        access_key_id,
        secret_access_key,
        allow_http,
    })
}

/// S3's bucket naming rules, for a clear error at startup rather than an obscure one on the
/// first upload.
fn is_valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn with_keys(name: &str) -> Option<String> {
        match name {
            ACCESS_KEY_ID_VAR => Some("AKIDTEST".to_string()),
            SECRET_ACCESS_KEY_VAR => Some("secret-test".to_string()),
            _ => None,
        }
    }

    fn parse(
        url: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<FileStoreConfig, ConfigError> {
        FileStoreConfig::from_url(url, Path::new("/var/lib/conforme/files"), env)
    }

    #[test]
    fn defaults_to_the_local_root() {
        for url in [None, Some(""), Some("   ")] {
            assert_eq!(
                parse(url, &no_env),
                Ok(FileStoreConfig::Local {
                    root: PathBuf::from("/var/lib/conforme/files")
                })
            );
        }
    }

    #[test]
    fn reads_local_directories() {
        for url in [
            "file:///srv/conforme/files",
            "file://localhost/srv/conforme/files",
            "/srv/conforme/files",
        ] {
            assert_eq!(
                parse(Some(url), &no_env),
                Ok(FileStoreConfig::Local {
                    root: PathBuf::from("/srv/conforme/files")
                }),
                "{url}"
            );
        }
        assert_eq!(
            parse(Some("file:///srv/d%C3%A9p%C3%B4ts"), &no_env),
            Ok(FileStoreConfig::Local {
                root: PathBuf::from("/srv/dépôts")
            })
        );
        for url in ["file:relative/dir", "file://host/srv", "file:///srv?x=1"] {
            assert!(
                matches!(parse(Some(url), &no_env), Err(ConfigError::Invalid { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn reads_s3_with_an_endpoint() {
        let config = parse(
            Some("s3://conforme-preuves?endpoint=http://127.0.0.1:9000&region=eu-west-3"),
            &with_keys,
        );
        assert_eq!(
            config,
            Ok(FileStoreConfig::S3 {
                bucket: "conforme-preuves".to_string(),
                region: "eu-west-3".to_string(),
                endpoint: Some("http://127.0.0.1:9000".to_string()),
                access_key_id: "AKIDTEST".to_string(),
                secret_access_key: "secret-test".to_string(),
                allow_http: true,
            })
        );
        let config = parse(
            Some("s3://conforme-preuves?endpoint=https://s3.fr-par.example.net"),
            &with_keys,
        );
        assert!(matches!(
            config,
            Ok(FileStoreConfig::S3 { ref region, allow_http: false, .. }) if region == "us-east-1"
        ));
    }

    #[test]
    fn reads_aws_s3() {
        let config = parse(Some("s3://conforme-preuves/?region=eu-west-3"), &with_keys);
        assert!(matches!(
            config,
            Ok(FileStoreConfig::S3 {
                endpoint: None,
                allow_http: false,
                ..
            })
        ));
    }

    #[test]
    fn explains_what_is_wrong() {
        let err = |url: &str| match parse(Some(url), &with_keys) {
            Err(e) => e.to_string(),
            Ok(c) => panic!("{url} accepted as {c:?}"),
        };
        assert!(err("s3://conforme-preuves").contains("la région manque"));
        assert!(err("s3://Conforme_Preuves?region=x").contains("nom de compartiment"));
        assert!(err("s3://conforme-preuves/sous-dossier?region=x").contains("chemin"));
        assert!(err("s3://conforme-preuves?region=x&endpont=y").contains("« endpont » inconnu"));
        assert!(err("s3://conforme-preuves?endpoint=ftp://h").contains("https://"));
        assert!(err("s3://conforme-preuves?region=a&region=b").contains("deux fois"));
        assert!(err("s3://key:secret@conforme-preuves?region=a").contains("identifiants"));
        assert!(err("gs://bucket").contains("formes acceptées"));
        assert!(err("relative/dir").contains("formes acceptées"));

        let missing = parse(Some("s3://conforme-preuves?region=eu-west-3"), &no_env);
        assert_eq!(
            missing,
            Err(ConfigError::MissingCredential(ACCESS_KEY_ID_VAR))
        );
        assert!(
            missing
                .err()
                .map(|e| e.to_string())
                .is_some_and(|m| m.contains("AWS_ACCESS_KEY_ID n'est pas défini"))
        );
        let only_id = |name: &str| (name == ACCESS_KEY_ID_VAR).then(|| "id".to_string());
        assert_eq!(
            parse(Some("s3://conforme-preuves?region=eu-west-3"), &only_id),
            Err(ConfigError::MissingCredential(SECRET_ACCESS_KEY_VAR))
        );
    }

    #[test]
    fn never_prints_the_secret() {
        let config = parse(Some("s3://conforme-preuves?region=eu-west-3"), &with_keys);
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        assert!(!format!("{config:?}").contains("secret-test"));
        assert!(!config.to_string().contains("secret-test"));
        assert_eq!(
            config.to_string(),
            "S3 bucket conforme-preuves (region eu-west-3)"
        );
    }
}
