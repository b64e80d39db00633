//! Who is asking: the browser session (cookie, second factor passed) or an API token
//! (`Authorization: Bearer`), turned into the policy's [`Actor`]; CSRF protection of forms;
//! the page layout's view of the user.

use crate::AppState;
use crate::error::{ApiError, AppError};
use crate::secrets::{constant_time_eq, random_token, sha256_hex};
use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use conforme_domain::account::Role;
use conforme_domain::policy::{Action, Actor, Scope, authorize};
use conforme_store::{Session, User};

pub const SESSION_COOKIE: &str = "conforme_session";
pub const ANON_CSRF_COOKIE: &str = "conforme_csrf";
/// How long a browser session lasts.
pub const SESSION_HOURS: i64 = 12;

/// The signed-in user of a page or API call.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    pub actor: Actor,
    /// The session's CSRF token (browser sessions only).
    pub csrf: Option<String>,
    pub session_hash: Option<String>,
}

impl Auth {
    /// The platform acting for a user outside any request (demo data, operations): the same
    /// policy applies.
    pub fn acting_as(user: User) -> Self {
        Self::from_user(user, None, None, None)
    }

    fn from_user(
        user: User,
        scopes: Option<Vec<Scope>>,
        csrf: Option<String>,
        session_hash: Option<String>,
    ) -> Self {
        let actor = Actor {
            user_id: user.id.clone(),
            role: user.role,
            organisation_id: user.organisation_id.clone(),
            legal_representative: user.legal_representative,
            scopes,
        };
        Auth {
            user,
            actor,
            csrf,
            session_hash,
        }
    }

    /// Asks the policy; a refusal on another organisation's object reads as "not found".
    pub fn may(&self, action: &Action<'_>) -> Result<(), AppError> {
        authorize(&self.actor, action).map_err(|d| match d {
            conforme_domain::policy::Denied::NotYours => AppError::NotFound(d.to_string()),
            other => AppError::Forbidden(other.to_string()),
        })
    }

    /// Checks the CSRF token a form sent back.
    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        match &self.csrf {
            Some(expected) if constant_time_eq(expected, sent) => Ok(()),
            _ => Err(AppError::Forbidden(
                "Le formulaire a expiré ou ne vient pas de cette page : rechargez-la et recommencez.".into(),
            )),
        }
    }

    pub fn csrf_token(&self) -> String {
        self.csrf.clone().unwrap_or_default()
    }
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}

/// The session behind the request's cookie, whether or not its second factor is passed.
pub async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, AppError> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(state
        .store
        .session(&sha256_hex(&token), state.clock.now())
        .await?)
}

/// A page that needs a signed-in user: otherwise the browser goes to the login page and comes
/// back afterwards.
#[derive(Debug, Clone)]
pub struct PageAuth(pub Auth);

/// Where an anonymous visitor is sent.
pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        Redirect::to(&format!(
            "/connexion?suite={}",
            crate::pages::encode_query(&self.0)
        ))
        .into_response()
    }
}

impl<S> FromRequestParts<S> for PageAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.to_string(), |u| u.0.to_string());
        let session = session_of(&state, &parts.headers)
            .await
            .map_err(|e| crate::error::PageError(e).into_response())?;
        match session {
            Some(s) if s.second_factor_at.is_some() => Ok(PageAuth(Auth::from_user(
                s.user,
                None,
                Some(s.csrf_token),
                Some(s.token_hash),
            ))),
            Some(_) => Err(Redirect::to("/connexion/code").into_response()),
            None => Err(LoginRedirect(path).into_response()),
        }
    }
}

/// An API call with a bearer token.
#[derive(Debug, Clone)]
pub struct ApiAuth(pub Auth);

impl<S> FromRequestParts<S> for ApiAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let unauthorized = |detail: &str| {
            let mut r = ApiError(AppError::Unauthorized(detail.to_string())).into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"conforme\""),
            );
            r
        };
        let Some(value) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(unauthorized(
                "Jeton d'API requis : en-tête « Authorization: Bearer <jeton> ».",
            ));
        };
        let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
            return Err(unauthorized(
                "En-tête Authorization attendu sous la forme « Bearer <jeton> ».",
            ));
        };
        let found = state
            .store
            .api_token(&sha256_hex(token), state.clock.now())
            .await
            .map_err(|e| ApiError(e.into()).into_response())?;
        let Some(found) = found else {
            return Err(unauthorized("Jeton d'API inconnu ou révoqué."));
        };
        let scopes = found
            .scopes
            .iter()
            .filter_map(|s| Scope::parse(s))
            .collect();
        Ok(ApiAuth(Auth::from_user(
            found.user,
            Some(scopes),
            None,
            None,
        )))
    }
}

/// Anyone, signed in or not: what the layout shows.
#[derive(Debug, Clone, Default)]
pub struct Viewer(pub Option<Auth>);

impl<S> FromRequestParts<S> for Viewer
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let session = session_of(&state, &parts.headers)
            .await
            .map_err(|e| crate::error::PageError(e).into_response())?;
        Ok(Viewer(
            session
                .filter(|s| s.second_factor_at.is_some())
                .map(|s| Auth::from_user(s.user, None, Some(s.csrf_token), Some(s.token_hash))),
        ))
    }
}

/// The user as the page header shows it.
#[derive(Debug, Clone)]
pub struct LayoutUser {
    pub name: String,
    pub role: Role,
    pub unread: i64,
    pub csrf: String,
}

/// What every page's frame needs: the current section and the signed-in user, if any.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub nav: &'static str,
    pub user: Option<LayoutUser>,
}

impl Layout {
    pub fn public(nav: &'static str) -> Self {
        Layout { nav, user: None }
    }

    pub async fn of(
        state: &AppState,
        nav: &'static str,
        auth: Option<&Auth>,
    ) -> Result<Self, AppError> {
        let user = match auth {
            Some(a) => Some(LayoutUser {
                name: a.user.display_name.clone(),
                role: a.user.role,
                unread: state.store.unread_notifications(&a.user.id).await?,
                csrf: a.csrf_token(),
            }),
            None => None,
        };
        Ok(Layout { nav, user })
    }

    pub fn is_agency(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == Role::Instructor)
    }

    /// Committee members and programme administrators: the committee's pages.
    pub fn is_committee(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| matches!(u.role, Role::CommitteeMember | Role::ProgrammeAdmin))
    }

    pub fn is_editor(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Editor)
    }
}

/// The cookie of a new session.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build()
}

/// The session cookie lives as long as the browser session; the server ends the session after
/// [`SESSION_HOURS`] in any case.
pub fn expired_session_cookie() -> Cookie<'static> {
    let mut c = Cookie::build((SESSION_COOKIE, "")).path("/").build();
    c.make_removal();
    c
}

/// CSRF for forms shown before login (login, sign-up, reset): a random cookie echoed in a
/// hidden field (double submit). Returns the token and the jar to send back.
pub fn anon_csrf(jar: CookieJar, secure: bool) -> Result<(String, CookieJar), AppError> {
    if let Some(existing) = jar.get(ANON_CSRF_COOKIE).map(|c| c.value().to_string())
        && existing.len() == 64
    {
        return Ok((existing, jar));
    }
    let token = random_token().map_err(|e| AppError::Internal(e.to_string()))?;
    let cookie = Cookie::build((ANON_CSRF_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build();
    Ok((token, jar.add(cookie)))
}

pub fn check_anon_csrf(jar: &CookieJar, sent: &str) -> Result<(), AppError> {
    match jar.get(ANON_CSRF_COOKIE) {
        Some(c) if c.value().len() == 64 && constant_time_eq(c.value(), sent) => Ok(()),
        _ => Err(AppError::Forbidden(
            "Le formulaire a expiré ou ne vient pas de cette page : rechargez-la et recommencez."
                .into(),
        )),
    }
}
