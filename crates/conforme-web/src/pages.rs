//! The public pages: home, programmes, a programme, the REM browser and a requirement.

use crate::AppState;
use crate::auth::{Layout, Viewer};
use crate::error::{AppError, PageResult};
use crate::format::iso;
use crate::query::{RequirementParams, RequirementQuery};
use crate::views::{
    self, ProgrammeSummaryView, ProgrammeView, RemVersionView, RequirementSummaryView,
    RequirementView,
};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use conforme_store::Facets;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_home))
        .route("/dispositifs", get(list_programmes))
        .route("/dispositifs/{code}", get(show_programme))
        .route("/dispositifs/{code}/rem/{version}", get(browse_rem))
        .route(
            "/dispositifs/{code}/rem/{version}/export.xlsx",
            get(export_rem),
        )
        .route(
            "/dispositifs/{code}/rem/{version}/exigences/{*id}",
            get(show_requirement),
        )
}

fn html(t: impl Template) -> PageResult<Html<String>> {
    Ok(Html(t.render()?))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    programmes: Vec<ProgrammeSummaryView>,
}

async fn show_home(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    html(HomePage {
        layout: Layout::of(&state, "accueil", viewer.as_ref()).await?,
        programmes: state
            .programmes
            .iter()
            .map(|p| views::programme_summary(p, now))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "programmes.html")]
struct ProgrammesPage {
    layout: Layout,
    programmes: Vec<ProgrammeSummaryView>,
}

async fn list_programmes(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    html(ProgrammesPage {
        layout: Layout::of(&state, "dispositifs", viewer.as_ref()).await?,
        programmes: state
            .programmes
            .iter()
            .map(|p| views::programme_summary(p, now))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "programme.html")]
struct ProgrammePage {
    layout: Layout,
    p: ProgrammeView,
    now_iso: String,
}

async fn show_programme(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    Path(code): Path<String>,
) -> PageResult<Html<String>> {
    let programme = state
        .programme(&code)
        .ok_or_else(|| AppError::NotFound(format!("Aucun dispositif « {code} ».")))?;
    let versions = state.store.rem_versions(&code).await?;
    let now = state.clock.now();
    html(ProgrammePage {
        layout: Layout::of(&state, "dispositifs", viewer.as_ref()).await?,
        p: views::programme_view(programme, &versions, now),
        now_iso: iso(now),
    })
}

/// The form's current values, echoed back into the fields.
#[derive(Default)]
struct FormValues {
    q: String,
    perimetre: String,
    chapitre: String,
    profil: String,
    nature: String,
}

struct Row {
    summary: RequirementSummaryView,
    href: String,
    excerpt: String,
}

struct PageLink {
    label: String,
    href: Option<String>,
    title: Option<String>,
    class: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "rem.html")]
struct RemPage {
    layout: Layout,
    code: String,
    version: RemVersionView,
    form: FormValues,
    error: Option<String>,
    facets: Facets,
    items: Vec<Row>,
    total: i64,
    page: i64,
    page_count: i64,
    pagination: Vec<PageLink>,
}

/// Characters escaped in a path segment; `/` is kept since requirement IDs contain it and
/// the route takes the rest of the path.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'`');

fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = cut
        .rsplit_once(' ')
        .map_or(cut.as_str(), |(head, _)| head)
        .to_string();
    format!("{cut} …")
}

fn page_href(base: &str, form: &FormValues, per_page: i64, page: i64) -> String {
    let mut pairs = vec![];
    for (k, v) in [
        ("q", &form.q),
        ("perimetre", &form.perimetre),
        ("chapitre", &form.chapitre),
        ("profil", &form.profil),
        ("nature", &form.nature),
    ] {
        if !v.is_empty() {
            pairs.push(format!("{k}={}", utf8_percent_encode(v, QUERY)));
        }
    }
    if per_page != crate::query::DEFAULT_PER_PAGE {
        pairs.push(format!("per_page={per_page}"));
    }
    pairs.push(format!("page={page}"));
    format!("{base}?{}", pairs.join("&"))
}

/// DSFR pagination: first, previous, a window of pages around the current one, next, last.
fn pagination(
    base: &str,
    form: &FormValues,
    query: &RequirementQuery,
    page_count: i64,
) -> Vec<PageLink> {
    let page = query.page;
    let href = |n: i64| Some(page_href(base, form, query.per_page, n));
    let mut links = vec![
        PageLink {
            label: "Première page".into(),
            href: (page > 1).then(|| href(1)).flatten(),
            title: None,
            class: "fr-pagination__link--first",
            current: false,
        },
        PageLink {
            label: "Page précédente".into(),
            href: (page > 1).then(|| href(page - 1)).flatten(),
            title: None,
            class: "fr-pagination__link--prev fr-pagination__link--lg-label",
            current: false,
        },
    ];
    let start = (page - 2).max(1);
    let end = (page + 2).min(page_count);
    for n in start..=end {
        links.push(PageLink {
            label: n.to_string(),
            href: href(n),
            title: Some(format!("Page {n}")),
            class: "",
            current: n == page,
        });
    }
    links.push(PageLink {
        label: "Page suivante".into(),
        href: (page < page_count).then(|| href(page + 1)).flatten(),
        title: None,
        class: "fr-pagination__link--next fr-pagination__link--lg-label",
        current: false,
    });
    links.push(PageLink {
        label: "Dernière page".into(),
        href: (page < page_count).then(|| href(page_count)).flatten(),
        title: None,
        class: "fr-pagination__link--last",
        current: false,
    });
    links
}

/// Encodes a value for a query string.
pub fn encode_query(v: &str) -> String {
    utf8_percent_encode(v, QUERY).to_string()
}

pub fn requirement_href(code: &str, version: &str, id: &str) -> String {
    format!(
        "/dispositifs/{code}/rem/{version}/exigences/{}",
        utf8_percent_encode(id, PATH)
    )
}

async fn browse_rem(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    Path((code, label)): Path<(String, String)>,
    Query(params): Query<RequirementParams>,
) -> PageResult<Response> {
    let (_, version) = views::find_version(&state, &code, &label).await?;
    let form = FormValues {
        q: params.q.clone().unwrap_or_default(),
        perimetre: params.perimetre.clone().unwrap_or_default(),
        chapitre: params.chapitre.clone().unwrap_or_default(),
        profil: params.profil.clone().unwrap_or_default(),
        nature: params.nature.clone().unwrap_or_default(),
    };
    // A bad parameter is shown above the form, with the whole list below: nothing the user
    // typed is lost.
    let (query, error) = match params.parse() {
        Ok(q) => (q, None),
        Err(e) => (RequirementParams::default().parse()?, Some(e.to_string())),
    };
    let listing = views::list_requirements(&state, &version, &query).await?;
    let page_count = ((listing.total + query.per_page - 1) / query.per_page).max(1);
    let base = format!("/dispositifs/{code}/rem/{label}");
    let items = listing
        .items
        .into_iter()
        .map(|summary| Row {
            href: requirement_href(&code, &label, &summary.id),
            excerpt: excerpt(&summary.exigence, 280),
            summary,
        })
        .collect();
    let pagination = pagination(&base, &form, &query, page_count);
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let page = RemPage {
        layout: Layout::of(&state, "dispositifs", viewer.as_ref()).await?,
        code,
        version: views::rem_version_view(&version),
        form,
        error,
        facets: listing.facets,
        items,
        total: listing.total,
        page: query.page,
        page_count,
        pagination,
    };
    Ok((status, Html(page.render().map_err(AppError::from)?)).into_response())
}

#[derive(Template)]
#[template(path = "requirement.html")]
struct RequirementPage {
    layout: Layout,
    code: String,
    version_label: String,
    nature_label: &'static str,
    r: RequirementView,
}

async fn show_requirement(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    Path((code, label, id)): Path<(String, String, String)>,
) -> PageResult<Html<String>> {
    let (_, version) = views::find_version(&state, &code, &label).await?;
    let requirement = state
        .store
        .requirement(&version.id, &id)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Aucune exigence « {id} » dans la version {label} du REM de {code}."
            ))
        })?;
    let r = views::requirement_view(&requirement);
    html(RequirementPage {
        layout: Layout::of(&state, "dispositifs", viewer.as_ref()).await?,
        code,
        version_label: label,
        nature_label: views::nature_label(&r.nature),
        r,
    })
}

async fn export_rem(
    State(state): State<AppState>,
    Path((code, label)): Path<(String, String)>,
) -> PageResult<Response> {
    let (_, version) = views::find_version(&state, &code, &label).await?;
    let rem = state.store.load_rem(&version.id).await?;
    let bytes =
        conforme_rem::export_xlsx(&rem).map_err(|e| AppError::Internal(format!("export: {e}")))?;
    let disposition = format!("attachment; filename=\"REM-{code}-{label}.xlsx\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

pub async fn not_found() -> crate::error::PageError {
    AppError::NotFound("Cette page n'existe pas.".into()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_on_words() {
        assert_eq!(excerpt("un  deux\ntrois", 50), "un deux trois");
        assert_eq!(excerpt("alpha beta gamma", 12), "alpha beta …");
    }

    #[test]
    fn requirement_links_keep_slashes() {
        assert_eq!(
            requirement_href("HOP-DPI-Va2", "v1", "SC.DMP/ALI/PROG.02"),
            "/dispositifs/HOP-DPI-Va2/rem/v1/exigences/SC.DMP/ALI/PROG.02"
        );
        assert_eq!(
            requirement_href("X", "v1", "A?B"),
            "/dispositifs/X/rem/v1/exigences/A%3FB"
        );
    }
}
