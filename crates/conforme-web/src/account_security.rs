//! The account's security page: an authenticator app (TOTP, RFC 6238) as a second factor
//! besides the emailed code, and the link to the OpenID Connect provider.
//!
//! Setting up the app takes two steps. `POST /compte/totp/debut` draws a secret and shows it
//! (in groups of four, as an `otpauth://` URI and as a QR code) without storing it: the secret
//! travels in a hidden field of the confirmation form. `POST /compte/totp/confirmation` stores
//! it only when the code the user typed is valid for it, i.e. once the app has it. Keeping the
//! pending secret in the page rather than on the server is sound here: the form is protected
//! by the session's CSRF token, so only the signed-in user can send a secret for their own
//! account, and a secret the user would alter is merely one they must prove they hold; the
//! page travels over the same channel as the session cookie, which is worth more than it.
//! Removing the app requires a current code from it.

use crate::AppState;
use crate::auth::{Layout, PageAuth};
use crate::error::{AppError, PageResult};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use conforme_store::UserField;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/compte/securite", get(show))
        .route("/compte/totp/debut", post(begin))
        .route("/compte/totp/confirmation", post(confirm))
        .route("/compte/totp/suppression", post(remove))
}

#[derive(Template)]
#[template(path = "totp_security.html")]
struct SecurityPage {
    layout: Layout,
    csrf: String,
    email: String,
    totp: bool,
    info: Option<&'static str>,
    errors: Vec<String>,
    oidc_label: Option<String>,
    oidc_linked: bool,
}

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct SetupPage {
    layout: Layout,
    csrf: String,
    secret: String,
    grouped: String,
    uri: String,
    qr: Option<String>,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct ShowQuery {
    fait: Option<String>,
}

async fn security_page(
    state: &AppState,
    auth: &crate::auth::Auth,
    info: Option<&'static str>,
    errors: Vec<String>,
) -> Result<SecurityPage, AppError> {
    Ok(SecurityPage {
        layout: Layout::of(state, "espace", Some(auth)).await?,
        csrf: auth.csrf_token(),
        email: auth.user.email.clone(),
        totp: auth.user.totp_secret.is_some(),
        info,
        errors,
        oidc_label: state.config.oidc.as_ref().map(|o| o.label.clone()),
        oidc_linked: auth.user.oidc_subject.is_some(),
    })
}

async fn show(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Query(q): Query<ShowQuery>,
) -> PageResult<Html<String>> {
    let info = match q.fait.as_deref() {
        Some("totp-active") => Some(
            "L'application d'authentification est activée : ses codes sont acceptés à la connexion.",
        ),
        Some("totp-retiree") => Some(
            "L'application d'authentification est retirée : le code vous sera envoyé par courriel.",
        ),
        _ => None,
    };
    Ok(Html(
        security_page(&state, &auth, info, vec![]).await?.render()?,
    ))
}

/// The secret in groups of four characters, easier to type.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The QR code of the `otpauth://` URI, as an SVG data URI for an `<img>`.
fn qr_data_uri(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml,{}",
        percent_encoding::utf8_percent_encode(&svg, percent_encoding::NON_ALPHANUMERIC)
    ))
}

fn setup_page(layout: Layout, csrf: String, secret: String, email: &str) -> SetupPage {
    let uri = crate::totp::provisioning_uri(&secret, email);
    SetupPage {
        layout,
        csrf,
        grouped: grouped(&secret),
        qr: qr_data_uri(&uri),
        uri,
        secret,
        errors: vec![],
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn begin(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    if auth.user.totp_secret.is_some() {
        return Ok(Redirect::to("/compte/securite").into_response());
    }
    let secret =
        crate::totp::new_secret().map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let layout = Layout::of(&state, "espace", Some(&auth)).await?;
    let page = setup_page(layout, auth.csrf_token(), secret, &auth.user.email);
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

/// A secret as [`crate::totp::new_secret`] draws it: 20 bytes, 32 base32 characters.
fn well_formed(secret: &str) -> bool {
    secret.len() == 32
        && secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

fn typed_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

async fn confirm(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<ConfirmForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    if auth.user.totp_secret.is_some() {
        return Ok(Redirect::to("/compte/securite").into_response());
    }
    if !well_formed(&form.secret) {
        return Err(AppError::bad_field(
            "secret",
            "clé secrète invalide : recommencez la configuration",
        )
        .into());
    }
    let now = state.clock.now();
    if !crate::totp::verify(&form.secret, &typed_code(&form.code), now) {
        let layout = Layout::of(&state, "espace", Some(&auth)).await?;
        let mut page = setup_page(layout, auth.csrf_token(), form.secret, &auth.user.email);
        page.errors = vec![
            "Code incorrect : saisissez le code à 6 chiffres que l'application affiche en ce moment (vérifiez aussi l'heure de votre téléphone)."
                .into(),
        ];
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    state
        .store
        .update_user_field(
            &auth.user.id,
            UserField::TotpSecret(Some(&form.secret)),
            now,
            &format!("user:{}", auth.user.id),
        )
        .await?;
    Ok(Redirect::to("/compte/securite?fait=totp-active").into_response())
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

async fn remove(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<RemoveForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    let Some(secret) = auth.user.totp_secret.as_deref() else {
        return Ok(Redirect::to("/compte/securite").into_response());
    };
    let now = state.clock.now();
    if !crate::totp::verify(secret, &typed_code(&form.code), now) {
        let page = security_page(
            &state,
            &auth,
            None,
            vec![
                "Code incorrect : saisissez le code que l'application affiche en ce moment.".into(),
            ],
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    state
        .store
        .update_user_field(
            &auth.user.id,
            UserField::TotpSecret(None),
            now,
            &format!("user:{}", auth.user.id),
        )
        .await?;
    Ok(Redirect::to("/compte/securite?fait=totp-retiree").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_shown_and_checked() {
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
        let secret = crate::totp::new_secret().expect("random");
        assert!(well_formed(&secret));
        assert!(!well_formed("abcdefghijklmnopqrstuvwxyz234567"));
        assert!(!well_formed("ABCD"));
        let qr = qr_data_uri(&crate::totp::provisioning_uri(&secret, "a@b.fr")).expect("qr");
        assert!(qr.starts_with("data:image/svg+xml,%3C"));
        assert_eq!(typed_code(" 123 456 "), "123456");
    }
}
