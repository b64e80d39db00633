//! The catalogue: programme definitions, REM versions (immutable once imported), their
//! requirements and proof lines, with filtered, searched, paginated reads.

use crate::journal::{NewEntry, append};
use crate::{Store, StoreError, StoreResult, parse_ts, ts};
use chrono::{DateTime, Utc};
use conforme_domain::rem::{ProofLine, Rem, Requirement, RequirementId, RequirementKind};
use conforme_domain::text::fold_for_search;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A programme definition as stored: its TOML text, parsed again by the domain on load.
#[derive(Debug, Clone)]
pub struct StoredProgramme {
    pub code: String,
    pub definition: String,
    pub definition_sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RemVersionInfo {
    pub id: String,
    pub programme_code: String,
    pub label: String,
    pub imported_at: DateTime<Utc>,
    pub source_name: String,
    pub source_sha256: String,
    pub requirement_count: i64,
    pub proof_line_count: i64,
    pub warnings: Vec<String>,
}

/// Filters of the REM browser and the requirement list API.
#[derive(Debug, Clone, Default)]
pub struct RequirementFilter {
    pub perimetre: Option<String>,
    pub chapitre: Option<String>,
    pub profil: Option<String>,
    pub kind: Option<RequirementKind>,
    /// Free text; every word must appear (accent- and case-insensitive) in the requirement,
    /// its scenarios or its proofs.
    pub query: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementSummary {
    pub id: String,
    pub position: i64,
    pub perimetre: String,
    pub chapitre: String,
    pub fonction: String,
    pub exigence: String,
    pub profil: String,
    pub kind: RequirementKind,
    pub scenario_count: i64,
    pub proof_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementPage {
    pub items: Vec<RequirementSummary>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Facet {
    pub value: String,
    pub count: i64,
}

/// The values a REM version's filters can take, with how many requirements carry each.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Facets {
    pub perimetres: Vec<Facet>,
    pub chapitres: Vec<Facet>,
    pub profils: Vec<Facet>,
}

const VERSION_COLUMNS: &str = "id, programme_code, label, imported_at, source_name, source_sha256, \
     requirement_count, proof_line_count, warnings";

fn version_from_row(row: &AnyRow) -> StoreResult<RemVersionInfo> {
    let warnings: String = row.try_get("warnings")?;
    Ok(RemVersionInfo {
        id: row.try_get("id")?,
        programme_code: row.try_get("programme_code")?,
        label: row.try_get("label")?,
        imported_at: parse_ts(&row.try_get::<String, _>("imported_at")?)?,
        source_name: row.try_get("source_name")?,
        source_sha256: row.try_get("source_sha256")?,
        requirement_count: row.try_get("requirement_count")?,
        proof_line_count: row.try_get("proof_line_count")?,
        warnings: serde_json::from_str(&warnings)
            .map_err(|e| StoreError::Corrupt(format!("avertissements de version : {e}")))?,
    })
}

fn kind_from_row(row: &AnyRow) -> StoreResult<RequirementKind> {
    let kind: String = row.try_get("kind")?;
    RequirementKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("nature « {kind} »")))
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A WHERE clause with its `$n` parameters, built once for both backends.
struct Where {
    sql: String,
    binds: Vec<String>,
}

impl Where {
    fn new(version_id: &str) -> Self {
        Self {
            sql: "rem_version_id = $1".into(),
            binds: vec![version_id.to_string()],
        }
    }

    fn push(&mut self, clause: &str, value: String) {
        self.binds.push(value);
        let n = self.binds.len();
        self.sql.push_str(" AND ");
        self.sql.push_str(&clause.replace("$?", &format!("${n}")));
    }

    fn query<'q>(
        &'q self,
        sql: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        self.binds
            .iter()
            .fold(sqlx::query(sql), |q, b| q.bind(b.as_str()))
    }
}

impl Store {
    /// Stores a programme definition, or replaces it when its text changed. Journalled.
    pub async fn upsert_programme(
        &self,
        code: &str,
        position: i64,
        definition: &str,
        definition_sha256: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let existing =
            sqlx::query("SELECT definition_sha256, position FROM programmes WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
        let (action, before) = match existing {
            Some(row) => {
                let sha: String = row.try_get("definition_sha256")?;
                let pos: i64 = row.try_get("position")?;
                if sha == definition_sha256 && pos == position {
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE programmes SET definition = $1, definition_sha256 = $2, position = $3, \
                     loaded_at = $4 WHERE code = $5",
                )
                .bind(definition)
                .bind(definition_sha256)
                .bind(position)
                .bind(ts(now))
                .bind(code)
                .execute(&mut *tx)
                .await?;
                (
                    "programme.updated",
                    Some(json!({ "definition_sha256": sha })),
                )
            }
            None => {
                sqlx::query(
                    "INSERT INTO programmes (code, position, definition, definition_sha256, loaded_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(code)
                .bind(position)
                .bind(definition)
                .bind(definition_sha256)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                ("programme.loaded", None)
            }
        };
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action,
                object_type: "programme",
                object_id: code,
                before,
                after: Some(json!({ "definition_sha256": definition_sha256 })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every programme, in their configured order.
    pub async fn programmes(&self) -> StoreResult<Vec<StoredProgramme>> {
        let rows = sqlx::query(
            "SELECT code, definition, definition_sha256 FROM programmes ORDER BY position, code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredProgramme {
                    code: r.try_get("code")?,
                    definition: r.try_get("definition")?,
                    definition_sha256: r.try_get("definition_sha256")?,
                })
            })
            .collect()
    }

    /// A programme's REM versions, oldest import first.
    pub async fn rem_versions(&self, programme_code: &str) -> StoreResult<Vec<RemVersionInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM rem_versions WHERE programme_code = $1 ORDER BY imported_at, label"
        ))
        .bind(programme_code)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    pub async fn rem_version(
        &self,
        programme_code: &str,
        label: &str,
    ) -> StoreResult<Option<RemVersionInfo>> {
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM rem_versions WHERE programme_code = $1 AND label = $2"
        ))
        .bind(programme_code)
        .bind(label)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// Stores a new REM version with all its requirements and lines, and its journal entry,
    /// in one transaction: either everything is stored or nothing is.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_rem_version(
        &self,
        programme_code: &str,
        label: &str,
        source_name: &str,
        source_sha256: &str,
        rem: &Rem,
        warnings: &[String],
        now: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<RemVersionInfo> {
        let mut tx = self.pool().begin().await?;
        let programme_exists = sqlx::query("SELECT code FROM programmes WHERE code = $1")
            .bind(programme_code)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !programme_exists {
            return Err(StoreError::UnknownProgramme(programme_code.to_string()));
        }
        let exists =
            sqlx::query("SELECT id FROM rem_versions WHERE programme_code = $1 AND label = $2")
                .bind(programme_code)
                .bind(label)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if exists {
            return Err(StoreError::RemVersionExists {
                programme: programme_code.to_string(),
                label: label.to_string(),
            });
        }
        let info = RemVersionInfo {
            id: uuid::Uuid::new_v4().to_string(),
            programme_code: programme_code.to_string(),
            label: label.to_string(),
            imported_at: now,
            source_name: source_name.to_string(),
            source_sha256: source_sha256.to_string(),
            requirement_count: rem.requirements.len() as i64,
            proof_line_count: rem.proof_line_count() as i64,
            warnings: warnings.to_vec(),
        };
        let warnings_json = serde_json::to_string(&info.warnings)
            .map_err(|e| StoreError::Corrupt(format!("avertissements : {e}")))?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO rem_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&info.id)
        .bind(programme_code)
        .bind(label)
        .bind(ts(now))
        .bind(source_name)
        .bind(source_sha256)
        .bind(info.requirement_count)
        .bind(info.proof_line_count)
        .bind(warnings_json)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            // Two imports of the same label racing: the unique key decides.
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation())
            {
                return Err(StoreError::RemVersionExists {
                    programme: programme_code.to_string(),
                    label: label.to_string(),
                });
            }
            return Err(e.into());
        }
        for (position, req) in rem.requirements.iter().enumerate() {
            sqlx::query(
                "INSERT INTO requirements (rem_version_id, requirement_id, position, perimetre, \
                 chapitre, fonction, exigence, commentaire, profil, profil_historique, criticite, \
                 kind, scenario_count, proof_count, search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&info.id)
            .bind(req.id.as_str())
            .bind(position as i64)
            .bind(&req.perimetre)
            .bind(&req.chapitre)
            .bind(&req.fonction)
            .bind(&req.exigence)
            .bind(req.commentaire.as_deref())
            .bind(&req.profil)
            .bind(req.profil_historique.as_deref())
            .bind(req.criticite.as_deref())
            .bind(req.kind().as_str())
            .bind(req.scenarios().len() as i64)
            .bind(req.proof_count() as i64)
            .bind(req.search_text())
            .execute(&mut *tx)
            .await?;
            for (line_pos, line) in req.lines.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO rem_lines (rem_version_id, requirement_id, position, scenario_number, \
                     scenario_text, proof_number, proof_text, ordre) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&info.id)
                .bind(req.id.as_str())
                .bind(line_pos as i64)
                .bind(line.scenario_number.as_deref())
                .bind(line.scenario_text.as_deref())
                .bind(line.proof_number.as_deref())
                .bind(line.proof_text.as_deref())
                .bind(line.ordre)
                .execute(&mut *tx)
                .await?;
            }
        }
        append(
            &mut tx,
            self.backend,
            &NewEntry {
                at: now,
                actor,
                action: "rem.imported",
                object_type: "rem_version",
                object_id: &info.id,
                before: None,
                after: Some(json!({
                    "programme": programme_code,
                    "label": label,
                    "source_name": source_name,
                    "source_sha256": source_sha256,
                    "requirements": info.requirement_count,
                    "proof_lines": info.proof_line_count,
                    "warnings": info.warnings.len(),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// One page of a version's requirements matching `filter`, in REM order, with the total.
    pub async fn list_requirements(
        &self,
        version_id: &str,
        filter: &RequirementFilter,
        offset: i64,
        limit: i64,
    ) -> StoreResult<RequirementPage> {
        let mut w = Where::new(version_id);
        if let Some(v) = &filter.perimetre {
            w.push("perimetre = $?", v.clone());
        }
        if let Some(v) = &filter.chapitre {
            w.push("chapitre = $?", v.clone());
        }
        if let Some(v) = &filter.profil {
            w.push("profil = $?", v.clone());
        }
        if let Some(k) = filter.kind {
            w.push("kind = $?", k.as_str().to_string());
        }
        if let Some(q) = &filter.query {
            for word in fold_for_search(q)
                .split(' ')
                .filter(|w| !w.is_empty())
                .take(12)
            {
                w.push("search_text LIKE $? ESCAPE '\\'", like_pattern(word));
            }
        }
        let count_sql = format!("SELECT COUNT(*) AS n FROM requirements WHERE {}", w.sql);
        let total: i64 = w
            .query(&count_sql)
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        let list_sql = format!(
            "SELECT requirement_id, position, perimetre, chapitre, fonction, exigence, profil, kind, \
             scenario_count, proof_count FROM requirements WHERE {} ORDER BY position \
             LIMIT {} OFFSET {}",
            w.sql,
            limit.clamp(0, 1000),
            offset.max(0)
        );
        let rows = w.query(&list_sql).fetch_all(self.pool()).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(RequirementSummary {
                    id: r.try_get("requirement_id")?,
                    position: r.try_get("position")?,
                    perimetre: r.try_get("perimetre")?,
                    chapitre: r.try_get("chapitre")?,
                    fonction: r.try_get("fonction")?,
                    exigence: r.try_get("exigence")?,
                    profil: r.try_get("profil")?,
                    kind: kind_from_row(r)?,
                    scenario_count: r.try_get("scenario_count")?,
                    proof_count: r.try_get("proof_count")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(RequirementPage { items, total })
    }

    /// The filter values of a version with their counts, in order of first appearance.
    pub async fn facets(&self, version_id: &str) -> StoreResult<Facets> {
        let mut facets = Facets::default();
        for (column, target) in [
            ("perimetre", &mut facets.perimetres),
            ("chapitre", &mut facets.chapitres),
            ("profil", &mut facets.profils),
        ] {
            let rows = sqlx::query(&format!(
                "SELECT {column} AS v, COUNT(*) AS n, MIN(position) AS first FROM requirements \
                 WHERE rem_version_id = $1 GROUP BY {column} ORDER BY first"
            ))
            .bind(version_id)
            .fetch_all(self.pool())
            .await?;
            *target = rows
                .iter()
                .map(|r| {
                    Ok(Facet {
                        value: r.try_get("v")?,
                        count: r.try_get("n")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
        }
        Ok(facets)
    }

    /// One requirement with its lines.
    pub async fn requirement(
        &self,
        version_id: &str,
        requirement_id: &str,
    ) -> StoreResult<Option<Requirement>> {
        let row = sqlx::query(
            "SELECT requirement_id, perimetre, chapitre, fonction, exigence, commentaire, profil, \
             profil_historique, criticite FROM requirements WHERE rem_version_id = $1 AND requirement_id = $2",
        )
        .bind(version_id)
        .bind(requirement_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let lines = sqlx::query(
            "SELECT requirement_id, scenario_number, scenario_text, proof_number, proof_text, ordre \
             FROM rem_lines WHERE rem_version_id = $1 AND requirement_id = $2 ORDER BY position",
        )
        .bind(version_id)
        .bind(requirement_id)
        .fetch_all(self.pool())
        .await?;
        let lines = lines
            .iter()
            .map(line_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(requirement_from_row(&row, lines)?))
    }

    /// A whole version, as imported (for export and comparison).
    pub async fn load_rem(&self, version_id: &str) -> StoreResult<Rem> {
        let rows = sqlx::query(
            "SELECT requirement_id, perimetre, chapitre, fonction, exigence, commentaire, profil, \
             profil_historique, criticite FROM requirements WHERE rem_version_id = $1 ORDER BY position",
        )
        .bind(version_id)
        .fetch_all(self.pool())
        .await?;
        let line_rows = sqlx::query(
            "SELECT requirement_id, scenario_number, scenario_text, proof_number, proof_text, ordre \
             FROM rem_lines WHERE rem_version_id = $1 ORDER BY requirement_id, position",
        )
        .bind(version_id)
        .fetch_all(self.pool())
        .await?;
        let mut lines: std::collections::HashMap<String, Vec<ProofLine>> =
            std::collections::HashMap::new();
        for r in &line_rows {
            let id: String = r.try_get("requirement_id")?;
            lines.entry(id).or_default().push(line_from_row(r)?);
        }
        let requirements = rows
            .iter()
            .map(|r| {
                let id: String = r.try_get("requirement_id")?;
                let own = lines.remove(&id).unwrap_or_default();
                requirement_from_row(r, own)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Rem { requirements })
    }
}

fn line_from_row(r: &AnyRow) -> StoreResult<ProofLine> {
    Ok(ProofLine {
        scenario_number: r.try_get("scenario_number")?,
        scenario_text: r.try_get("scenario_text")?,
        proof_number: r.try_get("proof_number")?,
        proof_text: r.try_get("proof_text")?,
        ordre: r.try_get("ordre")?,
    })
}

fn requirement_from_row(r: &AnyRow, lines: Vec<ProofLine>) -> StoreResult<Requirement> {
    let id: String = r.try_get("requirement_id")?;
    Ok(Requirement {
        id: RequirementId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        perimetre: r.try_get("perimetre")?,
        chapitre: r.try_get("chapitre")?,
        fonction: r.try_get("fonction")?,
        exigence: r.try_get("exigence")?,
        commentaire: r.try_get("commentaire")?,
        profil: r.try_get("profil")?,
        profil_historique: r.try_get("profil_historique")?,
        criticite: r.try_get("criticite")?,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
