//! Account pages: sign-up with address verification, login with password then an emailed
//! one-time code (or a TOTP app), logout, password reset, the notifications page.

use crate::AppState;
use crate::auth::{
    Layout, PageAuth, SESSION_HOURS, Viewer, anon_csrf, check_anon_csrf, expired_session_cookie,
    session_cookie, session_of,
};
use crate::error::{AppError, PageResult};
use crate::format::paris_long;
use crate::secrets::{
    constant_time_eq, hash_password, numeric_code, random_token, sha256_hex, verify_password,
};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Duration;
use conforme_domain::account::{
    LOCKOUT, OTP_DIGITS, OTP_VALID_MINUTES, Role, check_password, judge_otp,
};
use conforme_domain::identifiers::Email;
use conforme_store::{EmailToken, NewUser, UserField};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inscription", get(show_signup).post(create_account))
        .route("/inscription/verifier", get(verify_email))
        .route("/connexion", get(show_login).post(login))
        .route("/connexion/code", get(show_code).post(check_code))
        .route("/connexion/code/renvoyer", post(resend_code))
        .route("/deconnexion", post(logout))
        .route("/mot-de-passe-oublie", get(show_forgot).post(request_reset))
        .route(
            "/mot-de-passe/nouveau",
            get(show_reset).post(reset_password),
        )
        .route("/notifications", get(list_notifications))
}

/// Where to go after login: only a path on this site.
const NEXT_COOKIE: &str = "conforme_next";
pub const PURPOSE_VERIFY: &str = "verify-email";
pub const PURPOSE_RESET: &str = "reset-password";
pub const PURPOSE_LOGIN: &str = "login";

/// Where to go after login: only a path on this site, else the workspace.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.len() < 500 =>
        {
            n.to_string()
        }
        _ => "/espace".to_string(),
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub layout: Layout,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<(String, String)>,
}

pub fn notice(
    layout: Layout,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> PageResult<Html<String>> {
    let page = NoticePage {
        layout,
        title: title.to_string(),
        paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
        link: link.map(|(h, l)| (h.to_string(), l.to_string())),
    };
    Ok(Html(page.render()?))
}

async fn hash_in_background(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)
}

async fn verify_in_background(password: String, hash: Option<String>) -> bool {
    // Unknown accounts are checked against a fixed hash so that timing does not tell them apart.
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2xYxJq5h3wZ0w1O6yW0yYbXJ8lqUuYk9cW3u5w5yq6A";
    let hash = hash.unwrap_or_else(|| DUMMY.to_string());
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

fn random(e: getrandom::Error) -> AppError {
    AppError::Internal(format!("random: {e}"))
}

/// Sends a link by email: stores its token's hash, queues the message.
async fn send_link(
    state: &AppState,
    purpose: &str,
    email: &str,
    user_id: Option<&str>,
    valid: Duration,
    path: &str,
    template: &str,
) -> Result<(), AppError> {
    let token = random_token().map_err(random)?;
    let now = state.clock.now();
    state
        .store
        .issue_email_token(
            &sha256_hex(&token),
            &EmailToken {
                purpose: purpose.to_string(),
                email: email.to_string(),
                user_id: user_id.map(str::to_string),
                organisation_id: None,
                created_by: None,
                expires_at: now + valid,
                used_at: None,
            },
            now,
        )
        .await?;
    let link = format!("{}{path}?token={token}", state.config.public_url);
    state
        .store
        .queue_email(
            email,
            json!({ "to": email, "template": template, "link": link }),
            now,
        )
        .await?;
    Ok(())
}

#[derive(Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    #[serde(default)]
    invitation: Option<String>,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    layout: Layout,
    csrf: String,
    form: SignupForm,
    errors: Vec<String>,
    invitation: Option<String>,
}

#[derive(Deserialize)]
struct InvitationQuery {
    invitation: Option<String>,
}

async fn show_signup(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<InvitationQuery>,
) -> PageResult<Response> {
    let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
    let page = SignupPage {
        layout: Layout::public(""),
        csrf,
        form: SignupForm::default(),
        errors: vec![],
        invitation: q.invitation,
    };
    Ok((jar, Html(page.render()?)).into_response())
}

async fn create_account(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<SignupForm>,
) -> PageResult<Response> {
    check_anon_csrf(&jar, &form.csrf)?;
    let mut errors = Vec::new();
    let name = form.display_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        errors.push("Prénom et nom : obligatoire, 120 caractères au plus".to_string());
    }
    let email = Email::parse(&form.email);
    if let Err(e) = &email {
        errors.push(format!("Adresse électronique : {e}"));
    }
    let local = email
        .as_ref()
        .map(|e| e.local_part().to_string())
        .unwrap_or_default();
    if let Err(problems) = check_password(&form.password, &local) {
        errors.extend(problems.into_iter().map(|p| format!("Mot de passe : {p}")));
    }
    if form.password != form.password_confirm {
        errors.push("Confirmation : les deux mots de passe diffèrent".to_string());
    }
    let (Ok(email), true) = (email, errors.is_empty()) else {
        let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
        let invitation = form.invitation.clone();
        let form = SignupForm {
            password: String::new(),
            password_confirm: String::new(),
            ..form
        };
        let page = SignupPage {
            layout: Layout::public(""),
            csrf,
            form,
            errors,
            invitation,
        };
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            jar,
            Html(page.render()?),
        )
            .into_response());
    };
    let now = state.clock.now();
    let existing = state.store.user_by_email(email.as_str()).await?;
    if existing.is_none() {
        let hash = hash_in_background(form.password.clone()).await?;
        let user = state
            .store
            .create_user(
                &NewUser {
                    email: email.as_str(),
                    display_name: &name,
                    role: Role::Editor,
                    organisation_id: None,
                    legal_representative: false,
                    password_hash: Some(&hash),
                    email_verified: false,
                },
                now,
                &format!("user:{}", email),
            )
            .await?;
        send_link(
            &state,
            PURPOSE_VERIFY,
            email.as_str(),
            Some(&user.id),
            Duration::hours(24),
            "/inscription/verifier",
            "verify_email",
        )
        .await?;
    }
    // The same answer whether the address had an account or not.
    let next = form
        .invitation
        .as_deref()
        .map(|t| format!("/invitation?token={t}"));
    let paragraphs = [
        &format!(
            "Si aucun compte n'existait pour {email}, un lien de validation vient d'y être envoyé. Il est valable 24 heures."
        ) as &str,
        "Cliquez sur ce lien pour activer votre compte, puis connectez-vous.",
    ];
    Ok(notice(
        Layout::public(""),
        "Vérifiez votre messagerie",
        &paragraphs,
        next.as_deref().map(|n| (n, "Revenir à l'invitation")),
    )?
    .into_response())
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn verify_email(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
) -> PageResult<Html<String>> {
    let now = state.clock.now();
    let token = state
        .store
        .consume_email_token(&sha256_hex(q.token.trim()), PURPOSE_VERIFY, now)
        .await?;
    let Some(EmailToken {
        user_id: Some(user_id),
        ..
    }) = token
    else {
        return notice(
            Layout::public(""),
            "Lien invalide ou expiré",
            &[
                "Ce lien de validation a déjà servi ou a expiré. Connectez-vous : un nouveau lien vous sera proposé si besoin.",
            ],
            Some(("/connexion", "Se connecter")),
        );
    };
    state
        .store
        .update_user_field(
            &user_id,
            UserField::EmailVerified,
            now,
            &format!("user:{user_id}"),
        )
        .await?;
    notice(
        Layout::public(""),
        "Adresse validée",
        &["Votre adresse électronique est validée. Vous pouvez vous connecter."],
        Some(("/connexion", "Se connecter")),
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    next: String,
    next_encoded: String,
    email: String,
    errors: Vec<String>,
    info: Option<String>,
    oidc: bool,
    oidc_label: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    suite: Option<String>,
}

fn login_page(
    state: &AppState,
    csrf: String,
    next: String,
    email: String,
    errors: Vec<String>,
    info: Option<String>,
) -> LoginPage {
    LoginPage {
        layout: Layout::public(""),
        csrf,
        next_encoded: crate::pages::encode_query(&next),
        next,
        email,
        errors,
        info,
        oidc: state.config.oidc_label.is_some(),
        oidc_label: state.config.oidc_label.clone().unwrap_or_default(),
    }
}

async fn show_login(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> PageResult<Response> {
    let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
    let page = login_page(
        &state,
        csrf,
        safe_next(q.suite.as_deref()),
        String::new(),
        vec![],
        None,
    );
    Ok((jar, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    suite: Option<String>,
}

/// Opens a session waiting for its second factor and sends the emailed code.
pub async fn start_session(
    state: &AppState,
    user: &conforme_store::User,
    jar: CookieJar,
    next: &str,
) -> Result<CookieJar, AppError> {
    let now = state.clock.now();
    let token = random_token().map_err(random)?;
    let csrf = random_token().map_err(random)?;
    state
        .store
        .create_session(
            &sha256_hex(&token),
            &user.id,
            &csrf,
            now,
            now + Duration::hours(SESSION_HOURS),
        )
        .await?;
    send_code(state, user).await?;
    let next_cookie = Cookie::build((NEXT_COOKIE, next.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    Ok(jar
        .add(session_cookie(token, state.config.secure_cookies))
        .add(next_cookie))
}

async fn send_code(state: &AppState, user: &conforme_store::User) -> Result<(), AppError> {
    let now = state.clock.now();
    let code = numeric_code(OTP_DIGITS).map_err(random)?;
    state
        .store
        .issue_code(&user.id, PURPOSE_LOGIN, &sha256_hex(&code), now)
        .await?;
    state
        .store
        .queue_email(&user.email, json!({ "to": user.email, "template": "one_time_code", "code": code, "minutes": OTP_VALID_MINUTES }), now)
        .await?;
    Ok(())
}

async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> PageResult<Response> {
    check_anon_csrf(&jar, &form.csrf)?;
    let next = safe_next(form.suite.as_deref());
    let now = state.clock.now();
    let refuse = |jar: CookieJar, message: String| -> PageResult<Response> {
        let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
        let page = login_page(
            &state,
            csrf,
            next.clone(),
            form.email.trim().to_string(),
            vec![message],
            None,
        );
        Ok((
            axum::http::StatusCode::UNAUTHORIZED,
            jar,
            Html(page.render()?),
        )
            .into_response())
    };
    let user = match Email::parse(&form.email) {
        Ok(email) => state.store.user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    if let Some(u) = &user
        && LOCKOUT.is_locked(&u.failures, now)
    {
        let until = u.failures.locked_until.map(paris_long).unwrap_or_default();
        return refuse(
            jar,
            format!(
                "Après {} échecs, le compte est verrouillé jusqu'au {until}. Vous pouvez aussi réinitialiser votre mot de passe.",
                LOCKOUT.max_failures
            ),
        );
    }
    let ok = verify_in_background(
        form.password.clone(),
        user.as_ref().and_then(|u| u.password_hash.clone()),
    )
    .await;
    let Some(user) = user.filter(|_| ok) else {
        if let Some(u) = state
            .store
            .user_by_email(&form.email.trim().to_lowercase())
            .await?
        {
            let after = LOCKOUT.after_failure(&u.failures, now);
            state.store.set_login_failures(&u.id, &after, now).await?;
        }
        return refuse(
            jar,
            "Adresse électronique ou mot de passe incorrect.".into(),
        );
    };
    state
        .store
        .set_login_failures(&user.id, &LOCKOUT.after_success(), now)
        .await?;
    if user.email_verified_at.is_none() {
        send_link(
            &state,
            PURPOSE_VERIFY,
            &user.email,
            Some(&user.id),
            Duration::hours(24),
            "/inscription/verifier",
            "verify_email",
        )
        .await?;
        return refuse(jar, "Votre adresse électronique n'est pas encore validée : un nouveau lien de validation vient de vous être envoyé.".into());
    }
    let jar = start_session(&state, &user, jar, &next).await?;
    Ok((jar, Redirect::to("/connexion/code")).into_response())
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    layout: Layout,
    csrf: String,
    masked_email: String,
    totp: bool,
    errors: Vec<String>,
}

fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "votre adresse".into(),
    }
}

async fn show_code(State(state): State<AppState>, headers: HeaderMap) -> PageResult<Response> {
    let Some(session) = session_of(&state, &headers).await? else {
        return Ok(Redirect::to("/connexion").into_response());
    };
    if session.second_factor_at.is_some() {
        return Ok(Redirect::to("/espace").into_response());
    }
    let page = CodePage {
        layout: Layout::public(""),
        csrf: session.csrf_token,
        masked_email: mask(&session.user.email),
        totp: session.user.totp_secret.is_some(),
        errors: vec![],
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

async fn check_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> PageResult<Response> {
    let Some(session) = session_of(&state, &headers).await? else {
        return Ok(Redirect::to("/connexion").into_response());
    };
    if !constant_time_eq(&session.csrf_token, &form.csrf) {
        return Err(
            AppError::Forbidden("Le formulaire a expiré : rechargez la page.".into()).into(),
        );
    }
    let now = state.clock.now();
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let by_app = session
        .user
        .totp_secret
        .as_deref()
        .is_some_and(|secret| crate::totp::verify(secret, &code, now));
    let outcome = if by_app {
        Ok(())
    } else {
        match state
            .store
            .pending_code(&session.user.id, PURPOSE_LOGIN)
            .await?
        {
            None => Err("Aucun code en attente : demandez-en un nouveau.".to_string()),
            Some(pending) => {
                let matches = constant_time_eq(&pending.code_hash, &sha256_hex(&code));
                let judged = judge_otp(pending.issued_at, pending.attempts, matches, now);
                state
                    .store
                    .record_code_attempt(&pending.id, judged.is_ok(), now)
                    .await?;
                judged.map_err(|e| {
                    let s = e.to_string();
                    let mut c = s.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                        + "."
                })
            }
        }
    };
    if let Err(message) = outcome {
        let page = CodePage {
            layout: Layout::public(""),
            csrf: session.csrf_token,
            masked_email: mask(&session.user.email),
            totp: session.user.totp_secret.is_some(),
            errors: vec![message],
        };
        return Ok((axum::http::StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response());
    }
    state
        .store
        .mark_second_factor(&session.token_hash, now)
        .await?;
    let next = safe_next(jar.get(NEXT_COOKIE).map(|c| c.value()));
    let mut gone = Cookie::build((NEXT_COOKIE, "")).path("/").build();
    gone.make_removal();
    Ok((jar.add(gone), Redirect::to(&next)).into_response())
}

async fn resend_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> PageResult<Response> {
    let Some(session) = session_of(&state, &headers).await? else {
        return Ok(Redirect::to("/connexion").into_response());
    };
    if !constant_time_eq(&session.csrf_token, &form.csrf) {
        return Err(
            AppError::Forbidden("Le formulaire a expiré : rechargez la page.".into()).into(),
        );
    }
    send_code(&state, &session.user).await?;
    Ok(Redirect::to("/connexion/code").into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    if let Some(session) = session_of(&state, &headers).await? {
        if !constant_time_eq(&session.csrf_token, &form.csrf) {
            return Err(
                AppError::Forbidden("Le formulaire a expiré : rechargez la page.".into()).into(),
            );
        }
        state.store.delete_session(&session.token_hash).await?;
    }
    Ok((jar.add(expired_session_cookie()), Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    layout: Layout,
    csrf: String,
    errors: Vec<String>,
}

async fn show_forgot(State(state): State<AppState>, jar: CookieJar) -> PageResult<Response> {
    let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
    Ok((
        jar,
        Html(
            ForgotPage {
                layout: Layout::public(""),
                csrf,
                errors: vec![],
            }
            .render()?,
        ),
    )
        .into_response())
}

#[derive(Deserialize)]
struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

async fn request_reset(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ForgotForm>,
) -> PageResult<Response> {
    check_anon_csrf(&jar, &form.csrf)?;
    let Ok(email) = Email::parse(&form.email) else {
        let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
        let page = ForgotPage {
            layout: Layout::public(""),
            csrf,
            errors: vec!["Adresse électronique invalide.".into()],
        };
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            jar,
            Html(page.render()?),
        )
            .into_response());
    };
    if let Some(user) = state.store.user_by_email(email.as_str()).await? {
        send_link(
            &state,
            PURPOSE_RESET,
            &user.email,
            Some(&user.id),
            Duration::hours(1),
            "/mot-de-passe/nouveau",
            "password_reset",
        )
        .await?;
    }
    Ok(notice(
        Layout::public(""),
        "Vérifiez votre messagerie",
        &[&format!("Si un compte existe pour {email}, un lien pour choisir un nouveau mot de passe vient d'y être envoyé. Il est valable une heure.")],
        None,
    )?
    .into_response())
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    layout: Layout,
    csrf: String,
    token: String,
    errors: Vec<String>,
}

async fn show_reset(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> PageResult<Response> {
    let now = state.clock.now();
    if state
        .store
        .peek_email_token(&sha256_hex(q.token.trim()), PURPOSE_RESET, now)
        .await?
        .is_none()
    {
        return Ok(notice(
            Layout::public(""),
            "Lien invalide ou expiré",
            &["Ce lien a déjà servi ou a expiré. Demandez-en un nouveau."],
            Some(("/mot-de-passe-oublie", "Mot de passe oublié")),
        )?
        .into_response());
    }
    let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
    Ok((
        jar,
        Html(
            ResetPage {
                layout: Layout::public(""),
                csrf,
                token: q.token,
                errors: vec![],
            }
            .render()?,
        ),
    )
        .into_response())
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn reset_password(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ResetForm>,
) -> PageResult<Response> {
    check_anon_csrf(&jar, &form.csrf)?;
    let now = state.clock.now();
    let hash = sha256_hex(form.token.trim());
    let Some(token) = state
        .store
        .peek_email_token(&hash, PURPOSE_RESET, now)
        .await?
    else {
        return Ok(notice(
            Layout::public(""),
            "Lien invalide ou expiré",
            &["Ce lien a déjà servi ou a expiré."],
            Some(("/mot-de-passe-oublie", "Mot de passe oublié")),
        )?
        .into_response());
    };
    let local = token
        .email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut errors = check_password(&form.password, &local)
        .err()
        .unwrap_or_default();
    if form.password != form.password_confirm {
        errors.push("les deux mots de passe diffèrent".into());
    }
    if !errors.is_empty() {
        let (csrf, jar) = anon_csrf(jar, state.config.secure_cookies)?;
        let page = ResetPage {
            layout: Layout::public(""),
            csrf,
            token: form.token,
            errors,
        };
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            jar,
            Html(page.render()?),
        )
            .into_response());
    }
    let Some(token) = state
        .store
        .consume_email_token(&hash, PURPOSE_RESET, now)
        .await?
    else {
        return Ok(notice(
            Layout::public(""),
            "Lien invalide ou expiré",
            &["Ce lien a déjà servi."],
            None,
        )?
        .into_response());
    };
    let Some(user_id) = token.user_id else {
        return Err(AppError::NotFound("compte".into()).into());
    };
    let new_hash = hash_in_background(form.password).await?;
    state
        .store
        .update_user_field(
            &user_id,
            UserField::PasswordHash(&new_hash),
            now,
            &format!("user:{user_id}"),
        )
        .await?;
    state.store.delete_user_sessions(&user_id).await?;
    Ok(notice(
        Layout::public(""),
        "Mot de passe modifié",
        &["Votre mot de passe est modifié et vos sessions ouvertes ont été fermées. Connectez-vous avec le nouveau mot de passe."],
        Some(("/connexion", "Se connecter")),
    )?
    .into_response())
}

struct NotificationRow {
    title: String,
    body: String,
    link: Option<String>,
    at: String,
    read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    items: Vec<NotificationRow>,
}

async fn list_notifications(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
) -> PageResult<Html<String>> {
    let items = state.store.notifications(&auth.user.id, 200).await?;
    let layout = Layout::of(&state, "espace", Some(&auth)).await?;
    state
        .store
        .mark_notifications_read(&auth.user.id, state.clock.now())
        .await?;
    let items = items
        .into_iter()
        .map(|n| NotificationRow {
            title: n.title,
            body: n.body,
            link: n.link,
            at: paris_long(n.created_at),
            read: n.read,
        })
        .collect();
    Ok(Html(NotificationsPage { layout, items }.render()?))
}

/// The page shown to someone already signed in who opens a public-only page.
pub async fn viewer_layout(
    state: &AppState,
    viewer: &Viewer,
    nav: &'static str,
) -> Result<Layout, AppError> {
    Layout::of(state, nav, viewer.0.as_ref()).await
}
