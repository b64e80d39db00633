//! Attachments: the pieces of a candidature's administrative dossier (proof of the CNDA
//! application, documentation of the minimal functions, wave-1 attestation), uploaded by the
//! editor through the dossier page or the API and downloaded by those entitled.
//!
//! Uploads are streamed straight into the file store, whose [`FileStore::put_stream`] computes
//! the SHA-256 and the size on the way, checks the type from the content and stops at the
//! size limit; a refused, failed or interrupted upload leaves nothing behind. Only then is the
//! attachment recorded (journalled) and set in the dossier; if that fails, the stored bytes are
//! deleted.
//!
//! These routes are kept out of the application's global 1 MiB body limit and 30 s timeout
//! (see [`crate::router`]) and set their own: [`MAX_PIECE_BYTES`] for the file, and
//! [`UPLOAD_TIMEOUT`] for the whole request.
//!
//! Downloads answer "not found" for another organisation's attachment as for an unknown
//! identifier, so that identifiers cannot be probed.

use crate::AppState;
use crate::auth::{ApiAuth, Auth, Layout, PageAuth};
use crate::candidatures::{load_visible, programme_of};
use crate::error::{ApiError, AppError, FieldError, PageResult, Problem};
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use conforme_domain::candidature::{AdministrativeDossier, CandidatureState};
use conforme_domain::policy::Action;
use conforme_files::{FileError, StoredObject, UploadLimits, format_size};
use conforme_store::{Attachment, Candidature, StoreError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::{IntoParams, ToSchema};

/// The largest piece of the administrative dossier, in bytes.
pub const MAX_PIECE_BYTES: u64 = 50 * 1024 * 1024;
/// Room for the multipart envelope and the small fields sent with the file.
const FORM_OVERHEAD: u64 = 64 * 1024;
/// How long an upload request may last (50 MiB at about 250 kbit/s).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The limits of the other requests of this module, as for the rest of the application.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const SMALL_BODY: usize = 1024 * 1024;
/// The longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 200;
/// The longest text field of the upload form (CSRF token, field name), in bytes.
const MAX_TEXT_FIELD: usize = 1024;

/// The types a dossier piece may have, as sniffed from its content.
pub const PIECE_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/zip",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// The same, for people.
pub const PIECE_FORMATS: &str =
    "PDF, PNG, JPEG, ZIP, texte brut, documents bureautiques (DOCX, XLSX, PPTX, ODT, ODS, ODP)";

/// The dossier fields that hold an attachment, in display order, with their labels.
pub const PIECE_FIELDS: [(&str, &str); 3] = [
    (
        "cnda_application_proof",
        "Preuve de la demande d'homologation CNDA",
    ),
    ("documentation", "Documentation des fonctions minimales"),
    ("wave1_attestation", "Attestation de référencement vague 1"),
];

/// The upload limits of a dossier piece.
pub fn piece_limits() -> UploadLimits {
    UploadLimits::new(MAX_PIECE_BYTES).allowing(PIECE_TYPES.iter().copied())
}

pub fn router() -> Router<AppState> {
    let uploads = Router::new()
        .route("/candidatures/{id}/pieces", post(upload_page))
        .route("/organisation/groupement/{id}/mandat", post(upload_mandate))
        .route("/candidatures/{id}/fil", post(upload_to_thread))
        .route(
            "/candidatures/{id}/referencement/levee",
            post(upload_lifting),
        )
        .route(
            "/api/v1/candidatures/{id}/attachments",
            post(upload_attachment),
        )
        // The multipart extractor honours this limit; the raw API body is limited by the
        // file store itself (the file is the whole body).
        .layer(DefaultBodyLimit::max(
            (MAX_PIECE_BYTES + FORM_OVERHEAD) as usize,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            UPLOAD_TIMEOUT,
        ));
    Router::new()
        .route("/pieces/{id}", get(download_page))
        .route("/api/v1/attachments/{id}", get(download_attachment))
        .layer(RequestBodyLimitLayer::new(SMALL_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .merge(uploads)
}

// ---------------------------------------------------------------------------------------------
// What the pages show

/// The pieces of a candidature's dossier, for the dossier and candidature pages (templates
/// `attachments_*.html`).
#[derive(Debug, Clone)]
pub struct Pieces {
    pub candidature_id: String,
    pub csrf: String,
    /// Whether the viewer may upload now (an editor of the organisation, dossier editable).
    pub editable: bool,
    pub items: Vec<Piece>,
    pub max_size: String,
    pub formats: &'static str,
}

impl Pieces {
    /// Whether a piece required for the deposit is still missing.
    pub fn missing_required(&self) -> bool {
        self.items.iter().any(|p| p.required && p.file.is_none())
    }
}

#[derive(Debug, Clone)]
pub struct Piece {
    /// The dossier field, also the upload form's `field`.
    pub field: &'static str,
    pub label: &'static str,
    /// Required for the deposit.
    pub required: bool,
    pub file: Option<PieceFile>,
    /// The dossier names an attachment that is not this candidature's (or is gone).
    pub dangling: bool,
}

impl Piece {
    /// Whether the read-only list shows it (the wave-1 attestation only when it matters).
    pub fn listed(&self) -> bool {
        self.required || self.file.is_some() || self.dangling
    }
}

#[derive(Debug, Clone)]
pub struct PieceFile {
    pub id: String,
    pub url: String,
    pub name: String,
    pub size: String,
    pub sha256: String,
    pub sha256_short: String,
    pub uploaded_at: String,
}

/// The attachment held by a dossier field, if it is this candidature's own.
async fn own_attachment(
    state: &AppState,
    c: &Candidature,
    id: &str,
) -> Result<Option<Attachment>, AppError> {
    Ok(state.store.attachment(id).await?.filter(|a| {
        a.organisation_id == c.organisation_id && a.candidature_id.as_deref() == Some(&c.id)
    }))
}

fn piece_id<'a>(d: &'a AdministrativeDossier, field: &str) -> Option<&'a String> {
    match field {
        "cnda_application_proof" => d.cnda_application_proof.as_ref(),
        "documentation" => d.documentation.as_ref(),
        "wave1_attestation" => d.wave1_attestation.as_ref(),
        _ => None,
    }
}

fn set_piece(d: &mut AdministrativeDossier, field: &str, id: String) {
    match field {
        "cnda_application_proof" => d.cnda_application_proof = Some(id),
        "documentation" => d.documentation = Some(id),
        "wave1_attestation" => d.wave1_attestation = Some(id),
        _ => {}
    }
}

/// The dossier field named `name`, if it is one holding a piece.
fn piece_field(name: &str) -> Option<(&'static str, &'static str)> {
    PIECE_FIELDS.iter().copied().find(|(f, _)| *f == name)
}

/// The pieces of `c` as `auth` sees them (the caller has checked `auth` may see `c`).
pub async fn pieces(state: &AppState, auth: &Auth, c: &Candidature) -> Result<Pieces, AppError> {
    let mut items = Vec::with_capacity(PIECE_FIELDS.len());
    for (field, label) in PIECE_FIELDS {
        let id = piece_id(&c.dossier, field);
        let attachment = match id {
            Some(id) => own_attachment(state, c, id).await?,
            None => None,
        };
        items.push(Piece {
            field,
            label,
            required: field != "wave1_attestation" || c.dossier.wave1_referenced == Some(true),
            dangling: id.is_some() && attachment.is_none(),
            file: attachment.map(|a| PieceFile {
                url: format!("/pieces/{}", a.id),
                size: format_size(u64::try_from(a.size_bytes).unwrap_or(0)),
                sha256_short: a.sha256.chars().take(12).collect(),
                uploaded_at: crate::format::paris_short(a.uploaded_at),
                id: a.id,
                name: a.file_name,
                sha256: a.sha256,
            }),
        });
    }
    Ok(Pieces {
        candidature_id: c.id.clone(),
        csrf: auth.csrf_token(),
        editable: c.state.editable()
            && auth
                .may(&Action::UploadAttachment {
                    organisation_id: &c.organisation_id,
                })
                .is_ok(),
        items,
        max_size: format_size(MAX_PIECE_BYTES),
        formats: PIECE_FORMATS,
    })
}

// ---------------------------------------------------------------------------------------------
// Storing

fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.email)
}

fn not_editable(state: CandidatureState) -> AppError {
    AppError::Conflict(format!(
        "Le dossier ne peut plus être modifié : il est à l'état « {} ».",
        state.label()
    ))
}

const CHANGED_DURING_UPLOAD: &str = "Le dossier a été modifié pendant l'envoi : le fichier \
    n'a pas été enregistré. Rechargez la page et envoyez-le de nouveau.";

/// Removes stored bytes that will not be recorded.
async fn discard(state: &AppState, key: &str) {
    if let Err(e) = state.files.delete(key).await {
        tracing::error!(error = %e, key, "could not delete an unrecorded upload");
    }
}

/// Records a stored file as the piece `field` of `c`: the attachment (journalled), then the
/// dossier field, on the dossier as it is now (it may have changed during the upload). On any
/// failure the stored bytes are deleted.
async fn record(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    field: &'static str,
    raw_name: &str,
    stored: StoredObject,
) -> Result<Attachment, AppError> {
    let now = state.clock.now();
    let attachment = Attachment {
        id: uuid::Uuid::new_v4().to_string(),
        organisation_id: c.organisation_id.clone(),
        candidature_id: Some(c.id.clone()),
        file_name: sanitise_file_name(raw_name, &stored.content_type),
        storage_key: stored.key,
        content_type: stored.content_type,
        size_bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: stored.sha256,
        uploaded_by: auth.user.id.clone(),
        uploaded_at: now,
    };
    let outcome: Result<(), AppError> = async {
        let current = state
            .store
            .candidature(&c.id)
            .await?
            .ok_or_else(|| AppError::NotFound("Cette candidature n'existe plus.".into()))?;
        if !current.state.editable() {
            return Err(not_editable(current.state));
        }
        let mut dossier = current.dossier.clone();
        set_piece(&mut dossier, field, attachment.id.clone());
        state
            .store
            .attach_to_dossier(&c.id, current.version, &dossier, &attachment, &actor(auth))
            .await
            .map_err(|e| match e {
                StoreError::Stale(_) => AppError::Conflict(CHANGED_DURING_UPLOAD.into()),
                other => other.into(),
            })?;
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(attachment),
        Err(e) => {
            discard(state, &attachment.storage_key).await;
            Err(e)
        }
    }
}

/// A file name fit to be kept and shown: no directories, no control or bidirectional
/// formatting characters, at most [`MAX_NAME_CHARS`] characters (the extension kept); a
/// generic name with the type's extension when nothing is left.
pub fn sanitise_file_name(raw: &str, content_type: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_or_invisible(*c))
        .collect();
    let name = cleaned.trim();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        return format!("fichier.{}", extension_of(content_type));
    }
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_string();
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 10);
    match extension {
        Some(e) => {
            let stem: String = name
                .chars()
                .take(MAX_NAME_CHARS - e.chars().count() - 1)
                .collect();
            format!("{}.{e}", stem.trim_end())
        }
        None => name.chars().take(MAX_NAME_CHARS).collect(),
    }
}

/// Marks that reorder or hide text (a name shown as "report.pdf" that is "fdp.tropxe").
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
    )
}

fn extension_of(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "application/zip" => "zip",
        "text/plain" => "txt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.oasis.opendocument.spreadsheet" => "ods",
        "application/vnd.oasis.opendocument.presentation" => "odp",
        _ => "bin",
    }
}

/// The request's declared length, if any.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// What a refused dossier piece gets: its status and a message for the user.
fn file_refusal(e: &FileError) -> (StatusCode, String) {
    refusal_of(e, "ici", PIECE_FORMATS)
}

/// What a refused file gets: its status and a message for the user, naming the formats
/// accepted `here` (« ici », « pour une preuve »).
pub(crate) fn refusal_of(e: &FileError, here: &str, formats: &str) -> (StatusCode, String) {
    let status = match e {
        FileError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        FileError::Empty | FileError::TypeNotAllowed { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        FileError::Interrupted { .. } | FileError::NotFound | FileError::InvalidKey => {
            StatusCode::BAD_REQUEST
        }
        FileError::Store(cause) => {
            tracing::error!(%cause, "upload failed in the file store");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let message = match e {
        FileError::TypeNotAllowed { detected } => format!(
            "Ce type de fichier ({detected}) n'est pas accepté {here}. Formats acceptés : {formats}."
        ),
        other => other.public_message(),
    };
    (status, message)
}

/// The name of a file sent as a request body: `name` if given, else the `Content-Disposition`
/// header's; empty when neither (a generic name is given when it is kept).
pub(crate) fn body_file_name(name: Option<&str>, headers: &HeaderMap) -> String {
    name.filter(|n| !n.trim().is_empty())
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .and_then(disposition_file_name)
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The upload form of the pages

/// Why an upload from the page was refused.
enum Refusal {
    /// Shown on the dossier page, with this status.
    Page(StatusCode, String),
    /// Answered as an error page (CSRF, policy, internal failures).
    App(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Conflict(m) => Refusal::Page(StatusCode::CONFLICT, m),
            AppError::BadRequest { detail, .. } => {
                Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, detail)
            }
            other => Refusal::App(other),
        }
    }
}

fn multipart_refusal(e: axum::extract::multipart::MultipartError) -> Refusal {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let (status, message) = file_refusal(&FileError::TooLarge {
            limit: MAX_PIECE_BYTES,
        });
        Refusal::Page(status, message)
    } else {
        tracing::info!(error = %e, "upload form cut off or malformed");
        let (status, message) = file_refusal(&FileError::Interrupted { cause: Box::new(e) });
        Refusal::Page(status, message)
    }
}

/// A small text field, read with a bound.
async fn small_text(field: &mut Field<'_>) -> Result<String, Refusal> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(Refusal::Page(
                StatusCode::BAD_REQUEST,
                "Un champ du formulaire est trop long.".into(),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| {
        Refusal::Page(
            StatusCode::BAD_REQUEST,
            "Un champ du formulaire n'est pas du texte valide.".into(),
        )
    })
}

/// Reads the upload form (`csrf`, `field`, then `file`: the CSRF token is checked before
/// anything is stored) and stores the file.
async fn receive(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    multipart: &mut Multipart,
) -> Result<(), Refusal> {
    let mut csrf_checked = false;
    let mut target: Option<&'static str> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_refusal)? {
        match field.name().unwrap_or_default() {
            "csrf" => {
                let sent = small_text(&mut field).await?;
                auth.check_csrf(&sent).map_err(Refusal::App)?;
                csrf_checked = true;
            }
            "field" => {
                let name = small_text(&mut field).await?;
                let (f, _) = piece_field(name.trim()).ok_or_else(|| {
                    Refusal::Page(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Pièce inconnue : choisissez une des pièces du dossier.".into(),
                    )
                })?;
                target = Some(f);
            }
            "file" => {
                if !csrf_checked {
                    // The same refusal as a wrong token.
                    auth.check_csrf("").map_err(Refusal::App)?;
                }
                let target = target.ok_or_else(|| {
                    Refusal::Page(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Précisez la pièce à laquelle ce fichier correspond.".into(),
                    )
                })?;
                let raw_name = field.file_name().unwrap_or_default().to_string();
                let stored = match state.files.put_stream(&mut field, &piece_limits()).await {
                    Ok(stored) => stored,
                    Err(FileError::Empty) if raw_name.trim().is_empty() => {
                        return Err(Refusal::Page(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "Aucun fichier choisi : choisissez le fichier à envoyer.".into(),
                        ));
                    }
                    Err(e) => {
                        let (status, message) = file_refusal(&e);
                        return Err(Refusal::Page(status, message));
                    }
                };
                record(state, auth, c, target, &raw_name, stored).await?;
                return Ok(());
            }
            _ => {}
        }
    }
    if !csrf_checked {
        auth.check_csrf("").map_err(Refusal::App)?;
    }
    Err(Refusal::Page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Aucun fichier choisi : choisissez le fichier à envoyer.".into(),
    ))
}

/// Reads what is left of a refused form, so that the browser, still sending, gets the answer
/// rather than a reset connection (bounded by the route's body limit).
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// The dossier page again, with a message about the refused upload.
async fn dossier_with_error(
    state: &AppState,
    auth: &Auth,
    id: &str,
    status: StatusCode,
    message: String,
) -> PageResult<Response> {
    let c = load_visible(state, auth, id).await?;
    let programme = programme_of(state, &c)?;
    let layout = Layout::of(state, "espace", Some(auth)).await?;
    let problems = c.dossier.problems(programme);
    let pieces = pieces(state, auth, &c).await?;
    let page = crate::candidatures::dossier_page(
        layout,
        auth,
        &c,
        programme,
        c.dossier.clone(),
        c.version,
        problems,
        vec![message],
        false,
        pieces,
    );
    Ok((status, Html(page.render()?)).into_response())
}

/// `POST /candidatures/{id}/pieces`: a piece of the dossier, from the dossier page.
async fn upload_page(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let c = load_visible(&state, &auth, &id).await?;
    auth.may(&Action::UploadAttachment {
        organisation_id: &c.organisation_id,
    })?;
    let mut multipart = multipart.map_err(|e| AppError::bad_field("file", e.body_text()))?;
    let refusal = if !c.state.editable() {
        Some(Refusal::from(not_editable(c.state)))
    } else if declared_length(&headers).is_some_and(|n| n > MAX_PIECE_BYTES + FORM_OVERHEAD) {
        // Refused before reading it.
        let (status, message) = file_refusal(&FileError::TooLarge {
            limit: MAX_PIECE_BYTES,
        });
        return dossier_with_error(&state, &auth, &id, status, message).await;
    } else {
        receive(&state, &auth, &c, &mut multipart).await.err()
    };
    match refusal {
        None => Ok(Redirect::to(&format!("/candidatures/{id}/dossier#pieces")).into_response()),
        Some(refusal) => {
            drain(&mut multipart).await;
            match refusal {
                Refusal::Page(status, message) => {
                    dossier_with_error(&state, &auth, &id, status, message).await
                }
                Refusal::App(e) => Err(e.into()),
            }
        }
    }
}

/// A file received from a form whose `csrf` field comes first: the stored object, the name the
/// browser gave, and the form's other (small) text fields.
struct Received {
    stored: StoredObject,
    raw_name: String,
    texts: std::collections::HashMap<String, String>,
}

/// Reads such a form, checking the CSRF token before anything is stored and streaming `file`
/// into the store under the pieces' limits. Text fields are bounded by `text_limit` bytes.
async fn receive_file(
    state: &AppState,
    auth: &Auth,
    multipart: &mut Multipart,
    headers: &HeaderMap,
    text_limit: usize,
) -> Result<Received, Refusal> {
    if declared_length(headers).is_some_and(|n| n > MAX_PIECE_BYTES + FORM_OVERHEAD) {
        let (status, message) = file_refusal(&FileError::TooLarge {
            limit: MAX_PIECE_BYTES,
        });
        return Err(Refusal::Page(status, message));
    }
    let mut csrf_checked = false;
    let mut texts = std::collections::HashMap::new();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_refusal)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "csrf" => {
                let sent = small_text(&mut field).await?;
                auth.check_csrf(&sent).map_err(Refusal::App)?;
                csrf_checked = true;
            }
            "file" => {
                if !csrf_checked {
                    auth.check_csrf("").map_err(Refusal::App)?;
                }
                let raw_name = field.file_name().unwrap_or_default().to_string();
                let stored = state
                    .files
                    .put_stream(&mut field, &piece_limits())
                    .await
                    .map_err(|e| {
                        let (status, message) = file_refusal(&e);
                        Refusal::Page(status, message)
                    })?;
                return Ok(Received {
                    stored,
                    raw_name,
                    texts,
                });
            }
            _ => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
                    if bytes.len() + chunk.len() > text_limit {
                        return Err(Refusal::Page(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "Un champ du formulaire est trop long.".into(),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                texts.insert(name, String::from_utf8_lossy(&bytes).trim().to_string());
            }
        }
    }
    if !csrf_checked {
        auth.check_csrf("").map_err(Refusal::App)?;
    }
    Err(Refusal::Page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Aucun fichier choisi : choisissez le fichier à envoyer.".into(),
    ))
}

/// The record of a received file.
fn attachment_of(
    state: &AppState,
    auth: &Auth,
    organisation_id: &str,
    candidature_id: Option<&str>,
    r: Received,
) -> Attachment {
    Attachment {
        id: uuid::Uuid::new_v4().to_string(),
        organisation_id: organisation_id.to_string(),
        candidature_id: candidature_id.map(str::to_string),
        file_name: sanitise_file_name(&r.raw_name, &r.stored.content_type),
        storage_key: r.stored.key,
        content_type: r.stored.content_type,
        size_bytes: i64::try_from(r.stored.size).unwrap_or(i64::MAX),
        sha256: r.stored.sha256,
        uploaded_by: auth.user.id.clone(),
        uploaded_at: state.clock.now(),
    }
}

/// Answers a refused upload: a page saying why, with the way back (what is left of the form
/// is read first so the browser gets the answer).
async fn refused_upload(
    state: &AppState,
    auth: &Auth,
    multipart: &mut Multipart,
    refusal: Refusal,
    title: &str,
    back: (String, String),
) -> PageResult<Response> {
    drain(multipart).await;
    match refusal {
        Refusal::Page(status, message) => {
            let layout = Layout::of(state, "espace", Some(auth)).await?;
            let page = crate::accounts::NoticePage {
                layout,
                title: title.into(),
                paragraphs: vec![message],
                link: Some(back),
            };
            Ok((status, Html(page.render()?)).into_response())
        }
        Refusal::App(e) => Err(e.into()),
    }
}

/// `POST /candidatures/{id}/fil`: a document sent in the candidature's thread, by its editor or
/// by an instructor (multipart: `csrf`, an optional `message`, then `file`).
async fn upload_to_thread(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let c = load_visible(&state, &auth, &id).await?;
    let from_editor = auth
        .may(&Action::UploadAttachment {
            organisation_id: &c.organisation_id,
        })
        .is_ok();
    if !from_editor {
        auth.may(&Action::ReviewCandidatures)?;
    }
    let mut multipart = multipart.map_err(|e| AppError::bad_field("file", e.body_text()))?;
    let outcome: Result<(), Refusal> = async {
        if c.state == CandidatureState::Draft {
            return Err(Refusal::Page(
                StatusCode::CONFLICT,
                "Les échanges s'ouvrent au dépôt du dossier.".into(),
            ));
        }
        let received = receive_file(&state, &auth, &mut multipart, &headers, 40_000).await?;
        let text = received.texts.get("message").cloned().unwrap_or_default();
        let attachment = attachment_of(&state, &auth, &c.organisation_id, Some(&c.id), received);
        let title = format!("Document reçu sur {}", c.reference);
        let body = if text.is_empty() {
            attachment.file_name.clone()
        } else {
            text.clone()
        };
        let notifications = if from_editor {
            crate::candidatures::notify_instructors(
                &state,
                &c,
                "candidature.message",
                &title,
                &body,
            )
            .await
        } else {
            crate::candidatures::notify_members(&state, &c, "candidature.message", &title, &body)
                .await
        };
        let message = conforme_store::NewMessage {
            author_id: Some(auth.user.id.clone()),
            kind: "message",
            body: text,
            attachment_ids: vec![],
        };
        let recorded = match notifications {
            Ok(n) => state
                .store
                .post_message_with_attachment(&c.id, &message, &attachment, &n, &actor(&auth))
                .await
                .map_err(AppError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            discard(&state, &attachment.storage_key).await;
            return Err(Refusal::App(e));
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/candidatures/{id}")).into_response()),
        Err(refusal) => {
            let back = (
                format!("/candidatures/{id}"),
                "Revenir à la candidature".to_string(),
            );
            refused_upload(
                &state,
                &auth,
                &mut multipart,
                refusal,
                "Document non envoyé",
                back,
            )
            .await
        }
    }
}

/// `POST /candidatures/{id}/referencement/levee`: what the editor deposits to lift
/// non-blocking reservations (multipart: `csrf`, an optional `note`, then `file`).
async fn upload_lifting(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let c = load_visible(&state, &auth, &id).await?;
    auth.may(&Action::UploadAttachment {
        organisation_id: &c.organisation_id,
    })?;
    let mut multipart = multipart.map_err(|e| AppError::bad_field("file", e.body_text()))?;
    let outcome: Result<(), Refusal> = async {
        crate::referencing::admit_lifting(&state, &auth, &id).await?;
        let received = receive_file(&state, &auth, &mut multipart, &headers, 8_000).await?;
        let note = received.texts.get("note").cloned().unwrap_or_default();
        let attachment = attachment_of(&state, &auth, &c.organisation_id, Some(&c.id), received);
        let key = attachment.storage_key.clone();
        if let Err(e) =
            crate::referencing::record_lifting(&state, &auth, &id, attachment, &note).await
        {
            discard(&state, &key).await;
            return Err(e.into());
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/candidatures/{id}/referencement")).into_response()),
        Err(refusal) => {
            let back = (
                format!("/candidatures/{id}/referencement"),
                "Revenir au référencement".to_string(),
            );
            refused_upload(
                &state,
                &auth,
                &mut multipart,
                refusal,
                "Document non déposé",
                back,
            )
            .await
        }
    }
}

/// `POST /organisation/groupement/{member}/mandat`: the mandate a solidarity-group member
/// gave the lead editor (multipart: `csrf` first, then `file`; PDF or image, like the pieces).
async fn upload_mandate(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(member_id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let organisation_id = auth.user.organisation_id.clone().ok_or_else(|| {
        AppError::NotFound("Cette organisation n'existe pas ou ne vous est pas accessible.".into())
    })?;
    auth.may(&Action::UploadAttachment {
        organisation_id: &organisation_id,
    })?;
    let members = state.store.solidarity_members(&organisation_id).await?;
    if !members.iter().any(|m| m.id == member_id) {
        return Err(AppError::NotFound("Ce membre du groupement n'existe pas.".into()).into());
    }
    let mut multipart = multipart.map_err(|e| AppError::bad_field("file", e.body_text()))?;
    let outcome: Result<(), Refusal> = async {
        let received =
            receive_file(&state, &auth, &mut multipart, &headers, MAX_TEXT_FIELD).await?;
        let attachment = attachment_of(&state, &auth, &organisation_id, None, received);
        if let Err(e) = state
            .store
            .attach_mandate(&organisation_id, &member_id, &attachment, &actor(&auth))
            .await
        {
            discard(&state, &attachment.storage_key).await;
            return Err(Refusal::App(e.into()));
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to("/organisation?fait=mandat#groupement").into_response()),
        Err(refusal) => {
            let back = (
                "/organisation#groupement".to_string(),
                "Revenir au groupement".to_string(),
            );
            refused_upload(
                &state,
                &auth,
                &mut multipart,
                refusal,
                "Mandat non enregistré",
                back,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Downloads

/// Characters left as they are in an RFC 8187 `filename*` value (`attr-char`).
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment`, with an ASCII stand-in name for old clients and the exact name (RFC 6266).
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR_CHAR)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The type a stored file is served as: one of the accepted (passive) types, or
/// `application/octet-stream` for anything else a browser might run (HTML, SVG, scripts…).
fn served_type(stored: &str) -> &'static str {
    match PIECE_TYPES.iter().find(|t| **t == stored) {
        Some(&"text/plain") => "text/plain; charset=utf-8",
        Some(t) => t,
        None => conforme_files::OCTET_STREAM,
    }
}

/// The attachment `id` if `auth` may download it; another organisation's reads as not found.
async fn downloadable(state: &AppState, auth: &Auth, id: &str) -> Result<Attachment, AppError> {
    let not_found =
        || AppError::NotFound("Ce fichier n'existe pas ou ne vous est pas accessible.".into());
    let a = state.store.attachment(id).await?.ok_or_else(not_found)?;
    auth.may(&Action::ViewAttachment {
        organisation_id: &a.organisation_id,
    })?;
    Ok(a)
}

/// The file, streamed.
async fn serve(state: &AppState, a: &Attachment) -> Result<Response, AppError> {
    let (size, stream) = state
        .files
        .get_stream(&a.storage_key)
        .await
        .map_err(|e| match e {
            FileError::NotFound | FileError::InvalidKey => {
                tracing::error!(attachment = %a.id, "attachment recorded but not stored");
                AppError::NotFound("Ce fichier est introuvable.".into())
            }
            other => AppError::Internal(other.to_string()),
        })?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(served_type(&a.content_type)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&a.file_name),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", a.sha256)) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}

/// `GET /pieces/{id}`: a download from the pages.
async fn download_page(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let a = downloadable(&state, &auth, &id).await?;
    Ok(serve(&state, &a).await?)
}

// ---------------------------------------------------------------------------------------------
// The API

/// Where an uploaded file goes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The dossier field the file is for: `cnda_application_proof`, `documentation` or
    /// `wave1_attestation`.
    #[serde(default)]
    pub field: String,
    /// The file's name; otherwise taken from the `Content-Disposition` header.
    pub name: Option<String>,
}

/// An attachment as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub file_name: String,
    /// The type, as told from the content.
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    /// SHA-256 of the content, lowercase hexadecimal.
    pub sha256: String,
    /// The dossier field it was set in.
    pub field: String,
}

/// A problem about the uploaded file, named `file`.
pub(crate) fn file_problem(status: StatusCode, message: String) -> Response {
    let problem = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail: format!("file : {message}"),
        errors: vec![FieldError {
            field: "file".into(),
            message,
        }],
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::to_vec(&problem).unwrap_or_default(),
    )
        .into_response()
}

/// The file name of a `Content-Disposition` header: `filename*` (RFC 8187, UTF-8) or else
/// `filename`.
fn disposition_file_name(value: &str) -> Option<String> {
    let mut plain = None;
    for param in value.split(';').map(str::trim) {
        let Some((key, v)) = param.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let v = v.trim();
        if key == "filename*" {
            let v = v.trim_matches('"');
            if let Some((charset, rest)) = v.split_once('\'')
                && let Some((_, encoded)) = rest.split_once('\'')
                && charset.eq_ignore_ascii_case("utf-8")
                && let Ok(name) = percent_decode_str(encoded).decode_utf8()
            {
                return Some(name.into_owned());
            }
        } else if key == "filename" {
            let unquoted = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .map_or_else(
                    || v.to_string(),
                    |s| s.replace("\\\"", "\"").replace("\\\\", "\\"),
                );
            plain = Some(unquoted);
        }
    }
    plain
}

#[utoipa::path(post, path = "/candidatures/{id}/attachments", tag = "candidatures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file itself, as the whole body (any Content-Type: the type is told from the content). \
                       At most 50 MiB; PDF, PNG, JPEG, ZIP, plain text, DOCX/XLSX/PPTX, ODT/ODS/ODP. \
                       The name comes from `?name=` or `Content-Disposition: attachment; filename*=UTF-8''…`."),
    responses(
        (status = 201, description = "Stored and set in the dossier", body = AttachmentView),
        (status = 400, description = "Unknown field, or upload interrupted", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Dossier not editable, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty file or type not accepted", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn upload_attachment(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    params: Result<Query<UploadParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let not_found = || {
        AppError::NotFound("Cette candidature n'existe pas ou ne vous est pas accessible.".into())
    };
    let c = state.store.candidature(&id).await?.ok_or_else(not_found)?;
    auth.may(&Action::UploadAttachment {
        organisation_id: &c.organisation_id,
    })?;
    let Query(params) = params.map_err(|e| AppError::bad_field("query", e.body_text()))?;
    let (field, _) = piece_field(params.field.trim()).ok_or_else(|| {
        AppError::bad_field(
            "field",
            format!(
                "pièce inconnue « {} » : attendu {}",
                params.field,
                PIECE_FIELDS.map(|(f, _)| f).join(", ")
            ),
        )
    })?;
    if !c.state.editable() {
        return Err(not_editable(c.state).into());
    }
    if declared_length(&headers).is_some_and(|n| n > MAX_PIECE_BYTES) {
        let (status, message) = file_refusal(&FileError::TooLarge {
            limit: MAX_PIECE_BYTES,
        });
        return Ok(file_problem(status, message));
    }
    let raw_name = body_file_name(params.name.as_deref(), &headers);
    let stored = match state
        .files
        .put_stream(body.into_data_stream(), &piece_limits())
        .await
    {
        Ok(stored) => stored,
        Err(e) => {
            let (status, message) = file_refusal(&e);
            return Ok(file_problem(status, message));
        }
    };
    let a = record(&state, &auth, &c, field, &raw_name, stored).await?;
    let location = format!("/api/v1/attachments/{}", a.id);
    let view = AttachmentView {
        id: a.id,
        file_name: a.file_name,
        content_type: a.content_type,
        size: a.size_bytes,
        sha256: a.sha256,
        field: field.to_string(),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(view),
    )
        .into_response())
}

#[utoipa::path(get, path = "/attachments/{id}", tag = "candidatures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file, as an attachment (Content-Disposition), with Content-Length", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn download_attachment(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let a = downloadable(&state, &auth, &id).await?;
    Ok(serve(&state, &a).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitises_file_names() {
        assert_eq!(
            sanitise_file_name("preuve.pdf", "application/pdf"),
            "preuve.pdf"
        );
        assert_eq!(
            sanitise_file_name("C:\\Users\\moi\\Preuve CNDA.pdf", "application/pdf"),
            "Preuve CNDA.pdf"
        );
        assert_eq!(
            sanitise_file_name("../../etc/passwd", "text/plain"),
            "passwd"
        );
        assert_eq!(
            sanitise_file_name("a\u{0}b\r\nc\u{202e}fdp.exe", "application/pdf"),
            "abcfdp.exe"
        );
        assert_eq!(sanitise_file_name("", "application/pdf"), "fichier.pdf");
        assert_eq!(sanitise_file_name("..", "image/png"), "fichier.png");
        assert_eq!(sanitise_file_name("dir/", "text/plain"), "fichier.txt");
        let long = format!("{}.pdf", "é".repeat(300));
        let kept = sanitise_file_name(&long, "application/pdf");
        assert_eq!(kept.chars().count(), 200);
        assert!(kept.ends_with(".pdf"));
        assert_eq!(
            sanitise_file_name(&"x".repeat(250), "text/plain").len(),
            200
        );
    }

    #[test]
    fn reads_content_disposition() {
        assert_eq!(
            disposition_file_name("attachment; filename=\"preuve.pdf\"").as_deref(),
            Some("preuve.pdf")
        );
        assert_eq!(
            disposition_file_name(
                "attachment; filename=\"preuve.pdf\"; filename*=UTF-8''pr%C3%A9uve%20CNDA.pdf"
            )
            .as_deref(),
            Some("préuve CNDA.pdf")
        );
        assert_eq!(
            disposition_file_name("attachment; filename=doc.txt").as_deref(),
            Some("doc.txt")
        );
        assert_eq!(disposition_file_name("inline"), None);
    }

    #[test]
    fn writes_content_disposition() {
        let v = content_disposition("Preuve « CNDA ».pdf");
        assert_eq!(
            v.to_str().unwrap_or_default(),
            "attachment; filename=\"Preuve _ CNDA _.pdf\"; filename*=UTF-8''Preuve%20%C2%AB%20CNDA%20%C2%BB.pdf"
        );
        let v = content_disposition("a\"b;c.pdf");
        assert!(
            v.to_str()
                .unwrap_or_default()
                .contains("filename=\"a_b;c.pdf\"")
        );
    }

    #[test]
    fn serves_only_passive_types() {
        assert_eq!(served_type("application/pdf"), "application/pdf");
        assert_eq!(served_type("text/plain"), "text/plain; charset=utf-8");
        assert_eq!(served_type("text/html"), "application/octet-stream");
        assert_eq!(served_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(
            served_type("application/x-executable"),
            "application/octet-stream"
        );
    }

    #[test]
    fn knows_the_piece_fields() {
        for (field, _) in PIECE_FIELDS {
            let mut d = AdministrativeDossier::default();
            set_piece(&mut d, field, "x".into());
            assert_eq!(piece_id(&d, field).map(String::as_str), Some("x"));
        }
        assert!(piece_field("commercial_name").is_none());
        assert!(piece_limits().allows("application/pdf"));
        assert!(!piece_limits().allows("application/x-executable"));
        assert!(!piece_limits().allows("text/html"));
    }
}
