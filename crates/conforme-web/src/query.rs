//! Parsing of the requirement-list query shared by the REM browser and the API: every
//! parameter is checked and a bad one is named in the answer.

use crate::error::AppError;
use conforme_domain::rem::RequirementKind;
use conforme_store::RequirementFilter;
use serde::Deserialize;

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
const MAX_QUERY_CHARS: usize = 200;
const MAX_FILTER_CHARS: usize = 500;

/// The raw parameters, all optional text so that malformed values get our own message.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequirementParams {
    /// Full-text search (accent- and case-insensitive; every word must match).
    pub q: Option<String>,
    /// Périmètre, e.g. `Vague 2`.
    pub perimetre: Option<String>,
    /// Chapter title, exactly.
    pub chapitre: Option<String>,
    /// Profile, e.g. `Général`.
    pub profil: Option<String>,
    /// `exigence` or `preconisation`.
    pub nature: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<String>,
}

/// Checked parameters.
#[derive(Debug, Clone)]
pub struct RequirementQuery {
    pub filter: RequirementFilter,
    pub page: i64,
    pub per_page: i64,
}

fn non_empty(v: &Option<String>, field: &str, max: usize) -> Result<Option<String>, AppError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => Err(AppError::bad_field(
            field,
            format!("{max} caractères au plus"),
        )),
        Some(s) if s.chars().any(char::is_control) => Err(AppError::bad_field(
            field,
            "caractères de contrôle non admis",
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

fn positive(v: &Option<String>, field: &str, default: i64, max: i64) -> Result<i64, AppError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(AppError::bad_field(
                field,
                format!("un entier entre 1 et {max} est attendu, reçu « {s} »"),
            )),
        },
    }
}

impl RequirementParams {
    pub fn parse(&self) -> Result<RequirementQuery, AppError> {
        let kind = match non_empty(&self.nature, "nature", 20)?.as_deref() {
            None => None,
            Some(s) => Some(RequirementKind::parse(s).ok_or_else(|| {
                AppError::bad_field(
                    "nature",
                    format!("« exigence » ou « preconisation » attendu, reçu « {s} »"),
                )
            })?),
        };
        Ok(RequirementQuery {
            filter: RequirementFilter {
                perimetre: non_empty(&self.perimetre, "perimetre", MAX_FILTER_CHARS)?,
                chapitre: non_empty(&self.chapitre, "chapitre", MAX_FILTER_CHARS)?,
                profil: non_empty(&self.profil, "profil", MAX_FILTER_CHARS)?,
                kind,
                query: non_empty(&self.q, "q", MAX_QUERY_CHARS)?,
            },
            page: positive(&self.page, "page", 1, 1_000_000)?,
            per_page: positive(&self.per_page, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
        })
    }
}

impl RequirementQuery {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(f: impl FnOnce(&mut RequirementParams)) -> RequirementParams {
        let mut p = RequirementParams::default();
        f(&mut p);
        p
    }

    #[test]
    fn defaults_and_limits() {
        let q = RequirementParams::default().parse().expect("defaults");
        assert_eq!((q.page, q.per_page, q.offset()), (1, 20, 0));
        let q = params(|p| {
            p.page = Some("3".into());
            p.per_page = Some("50".into());
            p.q = Some("  ".into());
        })
        .parse()
        .expect("valid");
        assert_eq!(q.offset(), 100);
        assert!(q.filter.query.is_none());
    }

    #[test]
    fn bad_values_are_named() {
        for (field, f) in [
            ("page", params(|p| p.page = Some("0".into()))),
            ("page", params(|p| p.page = Some("abc".into()))),
            ("per_page", params(|p| p.per_page = Some("101".into()))),
            ("nature", params(|p| p.nature = Some("autre".into()))),
            ("q", params(|p| p.q = Some("x".repeat(201)))),
            ("chapitre", params(|p| p.chapitre = Some("a\u{0}b".into()))),
        ] {
            match f.parse() {
                Err(AppError::BadRequest { errors, .. }) => assert_eq!(errors[0].field, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
