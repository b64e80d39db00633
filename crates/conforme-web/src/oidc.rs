//! Login through an OpenID Connect provider (an iSC or Pro Santé Connect style identity
//! provider), as an alternative to the password: the authorization-code flow with PKCE and a
//! nonce, against one configurable issuer found by discovery.
//!
//! - `GET /connexion/oidc?suite=…` sends the browser to the provider. The request's `state`,
//!   `nonce` and PKCE verifier are kept server-side, without any schema change, as a one-use
//!   row of the `email_tokens` table: purpose [`PURPOSE_STATE`], `token_hash` = SHA-256 of the
//!   state, and `nonce|verifier|next` in the `email` column, valid [`STATE_MINUTES`] minutes.
//!   The state itself also goes into a short-lived HttpOnly, `SameSite=Lax` cookie, so that a
//!   callback is accepted only in the browser that started it (no login CSRF: an attacker
//!   cannot make a victim's browser finish a flow the attacker started).
//! - `GET /connexion/oidc/retour?code&state` takes the state row (it serves once), exchanges
//!   the code with the PKCE verifier, and has `openidconnect` validate the ID token: signature
//!   against the provider's JWKS, issuer, audience, expiry, nonce, and the access-token hash.
//!   The email claims are read from the ID token, or from the userinfo endpoint when the ID
//!   token has none (most providers, `oidc-provider` among them, serve them there).
//!
//! Who is signed in: the account already linked to this (issuer, subject); otherwise the
//! account with the address the provider vouches for (`email_verified`), which gets linked on
//! this first login (journalled `user.oidc-linked`); otherwise a new editor account, its
//! address verified, linked at once. An address the provider does not vouch for links nothing
//! and creates nothing, nor does an account whose own address was never validated (someone
//! could have registered it with a password of theirs, waiting for its owner to link it).
//!
//! The second factor: a provider of this kind authenticates strongly itself (Pro Santé
//! Connect requires the e-CPS app or a CPS card), so a session opened by it counts as past
//! its second factor; Conforme sends no emailed code on top.

use crate::AppState;
use crate::auth::{Layout, session_cookie};
use crate::error::{AppError, PageResult};
use crate::secrets::{constant_time_eq, random_token, sha256_hex};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Duration;
use conforme_domain::account::Role;
use conforme_domain::identifiers::Email;
use conforme_store::{EmailToken, NewUser, User, UserField};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;

/// The `email_tokens` purpose of a pending authorization request.
pub const PURPOSE_STATE: &str = "oidc-state";
/// The cookie binding a pending authorization request to the browser that started it.
pub const STATE_COOKIE: &str = "conforme_oidc";
/// How long the provider may take to send the user back.
pub const STATE_MINUTES: i64 = 10;
/// The path of the callback, under the public address.
pub const CALLBACK_PATH: &str = "/connexion/oidc/retour";
/// How long the discovered metadata and signing keys are kept before being fetched again (a
/// signature that does not verify also fetches them again, once: the provider may have
/// rotated its keys).
const DISCOVERY_TTL: std::time::Duration = std::time::Duration::from_secs(3600);
/// Timeout of each call to the provider.
const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider as discovered: its client, and the HTTP client to reach it.
struct Discovered {
    client: DiscoveredClient,
    http: openidconnect::reqwest::Client,
    at: Instant,
}

/// The OpenID Connect provider offered on the login page.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer identifier; discovery reads `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    client_secret: String,
    /// The provider's name on the login button ("Pro Santé Connect").
    pub label: String,
    discovered: Arc<tokio::sync::Mutex<Option<Arc<Discovered>>>>,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("label", &self.label)
            .finish()
    }
}

impl OidcSettings {
    pub fn new(issuer: &str, client_id: &str, client_secret: &str, label: &str) -> Self {
        OidcSettings {
            issuer: issuer.trim().to_string(),
            client_id: client_id.trim().to_string(),
            client_secret: client_secret.to_string(),
            label: label.trim().to_string(),
            discovered: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// The settings from `CONFORME_OIDC_ISSUER`, `CONFORME_OIDC_CLIENT_ID`,
    /// `CONFORME_OIDC_CLIENT_SECRET` and `CONFORME_OIDC_LABEL` (default "fournisseur
    /// d'identité"): none when no issuer is set; an error when the issuer is set without a
    /// client.
    pub fn from_env() -> Result<Option<Self>, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(issuer) = var("CONFORME_OIDC_ISSUER") else {
            return Ok(None);
        };
        IssuerUrl::new(issuer.clone())
            .map_err(|e| format!("CONFORME_OIDC_ISSUER « {issuer} » : {e}"))?;
        let client_id = var("CONFORME_OIDC_CLIENT_ID")
            .ok_or("CONFORME_OIDC_ISSUER est défini sans CONFORME_OIDC_CLIENT_ID")?;
        let client_secret = var("CONFORME_OIDC_CLIENT_SECRET")
            .ok_or("CONFORME_OIDC_ISSUER est défini sans CONFORME_OIDC_CLIENT_SECRET")?;
        let label = var("CONFORME_OIDC_LABEL").unwrap_or_else(|| "fournisseur d'identité".into());
        Ok(Some(OidcSettings::new(
            &issuer,
            &client_id,
            &client_secret,
            &label,
        )))
    }

    /// The provider's metadata and keys: fetched at first use, kept [`DISCOVERY_TTL`], fetched
    /// again when `refresh`.
    async fn provider(&self, public_url: &str, refresh: bool) -> Result<Arc<Discovered>, String> {
        let mut cached = self.discovered.lock().await;
        if let Some(d) = cached.as_ref()
            && !refresh
            && d.at.elapsed() < DISCOVERY_TTL
        {
            return Ok(d.clone());
        }
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let the provider's answers point anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| format!("client HTTP : {e}"))?;
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| format!("issuer : {e}"))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| format!("découverte de {} : {}", self.issuer, error_chain(&e)))?;
        let redirect = RedirectUrl::new(format!("{public_url}{CALLBACK_PATH}"))
            .map_err(|e| format!("adresse de retour : {e}"))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let d = Arc::new(Discovered {
            client,
            http,
            at: Instant::now(),
        });
        *cached = Some(d.clone());
        Ok(d)
    }
}

/// An error with its causes, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connexion/oidc", get(start))
        .route(CALLBACK_PATH, get(callback))
}

fn settings(state: &AppState) -> Result<&OidcSettings, AppError> {
    state.config.oidc.as_ref().ok_or_else(|| {
        AppError::NotFound("La connexion par un fournisseur d'identité n'est pas proposée.".into())
    })
}

#[derive(Template)]
#[template(path = "oidc_error.html")]
struct FailurePage {
    layout: Layout,
    title: String,
    lead: String,
    more: Vec<String>,
    label: String,
    next_encoded: String,
}

/// A clear page saying why no session was opened; the pending request's cookie is dropped.
fn failure(
    jar: CookieJar,
    settings: &OidcSettings,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
) -> PageResult<Response> {
    let page = FailurePage {
        layout: Layout::public(""),
        title: title.to_string(),
        lead: paragraphs
            .first()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        more: paragraphs.iter().skip(1).map(|p| p.to_string()).collect(),
        label: settings.label.clone(),
        next_encoded: crate::pages::encode_query("/espace"),
    };
    Ok((status, jar.add(gone_state_cookie()), Html(page.render()?)).into_response())
}

fn unreachable_provider(
    jar: CookieJar,
    settings: &OidcSettings,
    cause: &str,
) -> PageResult<Response> {
    tracing::warn!(issuer = %settings.issuer, %cause, "OpenID Connect provider failed");
    let text = format!(
        "La connexion avec {} n'a pas pu aboutir : le fournisseur d'identité ne répond pas ou sa réponse n'a pas pu être vérifiée. Aucune session n'a été ouverte.",
        settings.label
    );
    failure(
        jar,
        settings,
        StatusCode::BAD_GATEWAY,
        "Connexion impossible",
        &[
            &text,
            "Réessayez dans quelques instants, ou connectez-vous avec votre adresse électronique et votre mot de passe.",
        ],
    )
}

/// A browser-session cookie: the server-side row it points to lasts [`STATE_MINUTES`] anyway.
fn state_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((STATE_COOKIE, value))
        .path("/connexion/oidc")
        .http_only(true)
        .secure(secure)
        // Lax: the cookie comes back on the provider's top-level redirect to the callback.
        .same_site(SameSite::Lax)
        .build()
}

fn gone_state_cookie() -> Cookie<'static> {
    let mut c = Cookie::build((STATE_COOKIE, ""))
        .path("/connexion/oidc")
        .build();
    c.make_removal();
    c
}

#[derive(Deserialize)]
struct StartQuery {
    suite: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<StartQuery>,
) -> PageResult<Response> {
    let settings = settings(&state)?;
    let next = crate::accounts::safe_next(q.suite.as_deref());
    let provider = match settings.provider(&state.config.public_url, false).await {
        Ok(p) => p,
        Err(cause) => return unreachable_provider(jar, settings, &cause),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = provider
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            // The state: 32 random bytes, hex (as the platform's other tokens); empty only
            // if the system's randomness failed, which the check below turns into an error.
            || CsrfToken::new(random_token().unwrap_or_default()),
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    if csrf.secret().len() != 64 {
        return Err(AppError::Internal("random: no state".into()).into());
    }
    let now = state.clock.now();
    state
        .store
        .issue_email_token(
            &sha256_hex(csrf.secret()),
            &EmailToken {
                purpose: PURPOSE_STATE.into(),
                email: format!("{}|{}|{next}", nonce.secret(), verifier.secret()),
                user_id: None,
                organisation_id: None,
                created_by: None,
                expires_at: now + Duration::minutes(STATE_MINUTES),
                used_at: None,
            },
            now,
        )
        .await?;
    let jar = jar.add(state_cookie(
        csrf.secret().clone(),
        state.config.secure_cookies,
    ));
    Ok((jar, Redirect::to(url.as_str())).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    /// RFC 9207: the issuer of the answer, when the provider says it.
    iss: Option<String>,
}

/// What the provider said about the user, once verified.
struct Identity {
    issuer: String,
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<CallbackQuery>,
) -> PageResult<Response> {
    let settings = settings(&state)?;
    let now = state.clock.now();
    // The pending request: its state must be the one this browser started, and serves once.
    let in_cookie = jar.get(STATE_COOKIE).map(|c| c.value().to_string());
    let pending = match (&q.state, &in_cookie) {
        (Some(sent), Some(kept)) if sent.len() == 64 && constant_time_eq(sent, kept) => {
            state
                .store
                .consume_email_token(&sha256_hex(sent), PURPOSE_STATE, now)
                .await?
        }
        _ => None,
    };
    if let Some(error) = q.error.as_deref() {
        tracing::info!(issuer = %settings.issuer, %error, "OpenID Connect provider refused");
        let (title, text) = if error == "access_denied" {
            (
                "Connexion annulée",
                format!(
                    "La connexion avec {} a été refusée ou interrompue. Aucune session n'a été ouverte.",
                    settings.label
                ),
            )
        } else {
            (
                "Connexion refusée par le fournisseur d'identité",
                format!(
                    "{} n'a pas accepté la demande de connexion (erreur « {} »). Aucune session n'a été ouverte.",
                    settings.label,
                    error.chars().take(60).collect::<String>()
                ),
            )
        };
        return failure(
            jar,
            settings,
            StatusCode::UNAUTHORIZED,
            title,
            &[
                &text,
                "Vous pouvez réessayer, ou vous connecter avec votre adresse électronique et votre mot de passe.",
            ],
        );
    }
    let parts = pending
        .as_ref()
        .and_then(|p| {
            let mut it = p.email.splitn(3, '|');
            Some((it.next()?, it.next()?, it.next()?))
        })
        .map(|(n, v, next)| {
            (
                n.to_string(),
                v.to_string(),
                crate::accounts::safe_next(Some(next)),
            )
        });
    let (Some(code), Some((nonce, verifier, next))) = (q.code.as_deref(), parts) else {
        return failure(
            jar,
            settings,
            StatusCode::BAD_REQUEST,
            "Demande de connexion invalide ou expirée",
            &[
                &format!(
                    "Cette réponse de {} ne correspond à aucune demande de connexion en cours dans ce navigateur : elle a déjà servi, elle a expiré (elle vaut {STATE_MINUTES} minutes) ou elle a été modifiée. Aucune session n'a été ouverte.",
                    settings.label
                ),
                "Recommencez depuis la page de connexion.",
            ],
        );
    };
    let identity = match verified_identity(&state, settings, code, nonce, verifier).await {
        Ok(identity) => identity,
        Err(cause) => return unreachable_provider(jar, settings, &cause),
    };
    if let Some(iss) = q.iss.as_deref()
        && iss != identity.issuer
    {
        return unreachable_provider(
            jar,
            settings,
            &format!("iss {iss} ≠ issuer {}", identity.issuer),
        );
    }
    let user = match account_for(&state, &identity).await? {
        Ok(user) => user,
        Err(refusal) => {
            let paragraphs: Vec<&str> = refusal.paragraphs.iter().map(String::as_str).collect();
            return failure(jar, settings, refusal.status, refusal.title, &paragraphs);
        }
    };
    let jar = open_session(&state, &user, jar.add(gone_state_cookie())).await?;
    tracing::info!(user = %user.id, issuer = %identity.issuer, "OpenID Connect login");
    Ok((jar, Redirect::to(&next)).into_response())
}

/// Exchanges the code and checks the ID token; reads the email claims from the userinfo
/// endpoint when the ID token has none.
async fn verified_identity(
    state: &AppState,
    settings: &OidcSettings,
    code: &str,
    nonce: String,
    verifier: String,
) -> Result<Identity, String> {
    let public_url = &state.config.public_url;
    let provider = settings.provider(public_url, false).await?;
    let token = provider
        .client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| error_chain(&e))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&provider.http)
        .await
        .map_err(|e| format!("échange du code : {}", error_chain(&e)))?;
    let id_token = token
        .id_token()
        .ok_or("pas de jeton d'identité dans la réponse")?;
    let nonce = Nonce::new(nonce);
    // The ID token's times are checked against the real clock (the provider's), not against
    // the platform's clock, which tests may set elsewhere.
    let first = id_token
        .claims(&provider.client.id_token_verifier(), &nonce)
        .cloned();
    let (claims, provider) = match first {
        Ok(claims) => (claims, provider),
        Err(ClaimsVerificationError::SignatureVerification(_)) => {
            let fresh = settings.provider(public_url, true).await?;
            let claims = id_token
                .claims(&fresh.client.id_token_verifier(), &nonce)
                .map_err(|e| format!("jeton d'identité : {}", error_chain(&e)))?
                .clone();
            (claims, fresh)
        }
        Err(e) => return Err(format!("jeton d'identité : {}", error_chain(&e))),
    };
    if let Some(expected) = claims.access_token_hash() {
        let verifier = provider.client.id_token_verifier();
        let alg = id_token.signing_alg().map_err(|e| error_chain(&e))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| error_chain(&e))?;
        let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
            .map_err(|e| error_chain(&e))?;
        if actual != *expected {
            return Err("at_hash ne correspond pas au jeton d'accès".into());
        }
    }
    let name_of = |full: Option<&str>, given: Option<&str>, family: Option<&str>| {
        full.map(str::to_string).or_else(|| {
            let joined = [given, family]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.trim().is_empty()).then_some(joined)
        })
    };
    let mut identity = Identity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: name_of(
            claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
            claims
                .given_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
            claims
                .family_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
        ),
    };
    if identity.email.is_none()
        && let Ok(request) = provider
            .client
            .user_info(token.access_token().clone(), Some(claims.subject().clone()))
    {
        let info: CoreUserInfoClaims = request
            .request_async(&provider.http)
            .await
            .map_err(|e| format!("userinfo : {}", error_chain(&e)))?;
        identity.email = info.email().map(|e| e.to_string());
        identity.email_verified = info.email_verified().unwrap_or(false);
        if identity.name.is_none() {
            identity.name = name_of(
                info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
                info.given_name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str()),
                info.family_name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str()),
            );
        }
    }
    Ok(identity)
}

/// Why an identity gets no session.
struct Refusal {
    status: StatusCode,
    title: &'static str,
    paragraphs: Vec<String>,
}

fn refusal(status: StatusCode, title: &'static str, text: String) -> Refusal {
    Refusal {
        status,
        title,
        paragraphs: vec![
            text,
            "Vous pouvez vous connecter avec votre adresse électronique et votre mot de passe."
                .into(),
        ],
    }
}

/// The account of an identity: linked before, or found by its vouched-for address and linked
/// now, or created and linked.
async fn account_for(state: &AppState, id: &Identity) -> Result<Result<User, Refusal>, AppError> {
    let store = &state.store;
    let now = state.clock.now();
    if let Some(user) = store.user_by_oidc(&id.issuer, &id.subject).await? {
        return Ok(Ok(user));
    }
    let Some(email) = id.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Ok(Err(refusal(
            StatusCode::FORBIDDEN,
            "Adresse électronique manquante",
            "Votre fournisseur d'identité ne transmet pas d'adresse électronique valide : votre identité ne peut pas être reliée à un compte Conforme.".into(),
        )));
    };
    if !id.email_verified {
        return Ok(Err(refusal(
            StatusCode::FORBIDDEN,
            "Adresse électronique non vérifiée",
            format!(
                "Votre fournisseur d'identité n'atteste pas que l'adresse {email} vous appartient : elle ne peut pas servir à relier ou créer un compte Conforme."
            ),
        )));
    }
    let user = match store.user_by_email(email.as_str()).await? {
        Some(user) if user.oidc_subject.is_some() => {
            return Ok(Err(refusal(
                StatusCode::CONFLICT,
                "Compte déjà relié",
                format!(
                    "Le compte Conforme de {email} est déjà relié à une autre identité de fournisseur d'identité."
                ),
            )));
        }
        Some(user) if user.email_verified_at.is_none() => {
            return Ok(Err(refusal(
                StatusCode::FORBIDDEN,
                "Adresse du compte à valider",
                format!(
                    "Un compte Conforme existe pour {email}, mais son adresse n'a pas encore été validée : ouvrez le lien de validation reçu par courriel (une connexion par mot de passe en envoie un nouveau), puis recommencez."
                ),
            )));
        }
        Some(user) => user,
        None => {
            let name = display_name(id.name.as_deref(), &email);
            store
                .create_user(
                    &NewUser {
                        email: email.as_str(),
                        display_name: &name,
                        role: Role::Editor,
                        organisation_id: None,
                        legal_representative: false,
                        password_hash: None,
                        email_verified: true,
                    },
                    now,
                    &format!("user:{email}"),
                )
                .await?
        }
    };
    store
        .update_user_field(
            &user.id,
            UserField::OidcIdentity {
                issuer: &id.issuer,
                subject: &id.subject,
            },
            now,
            &format!("user:{}", user.id),
        )
        .await?;
    let linked = store
        .user(&user.id)
        .await?
        .ok_or_else(|| AppError::NotFound("compte".into()))?;
    Ok(Ok(linked))
}

/// The provider's name for the account, cleaned; the address's local part otherwise.
fn display_name(name: Option<&str>, email: &Email) -> String {
    let cleaned: String = name
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        email.local_part().to_string()
    } else {
        cleaned.to_string()
    }
}

/// Opens a browser session already past its second factor (the provider authenticated the
/// user strongly: see the module's documentation) and returns the jar carrying its cookie.
pub async fn open_session(
    state: &AppState,
    user: &User,
    jar: CookieJar,
) -> Result<CookieJar, AppError> {
    let now = state.clock.now();
    let random = |e: getrandom::Error| AppError::Internal(format!("random: {e}"));
    let token = random_token().map_err(random)?;
    let csrf = random_token().map_err(random)?;
    let hash = sha256_hex(&token);
    state
        .store
        .create_session(
            &hash,
            &user.id,
            &csrf,
            now,
            now + Duration::hours(crate::auth::SESSION_HOURS),
        )
        .await?;
    state.store.mark_second_factor(&hash, now).await?;
    Ok(jar.add(session_cookie(token, state.config.secure_cookies)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_next() {
        let email = Email::parse("Claire.Martin@Editeur.fr").expect("email");
        assert_eq!(display_name(None, &email), "claire.martin");
        assert_eq!(display_name(Some(" \u{7} "), &email), "claire.martin");
        assert_eq!(display_name(Some("Claire Martin"), &email), "Claire Martin");
        assert_eq!(display_name(Some(&"x".repeat(300)), &email).len(), 120);
        assert_eq!(
            crate::accounts::safe_next(Some("//evil.example")),
            "/espace"
        );
        assert_eq!(
            crate::accounts::safe_next(Some("/candidatures")),
            "/candidatures"
        );
        let s = OidcSettings::new("https://idp.example", "id", "very-secret", "PSC");
        assert!(!format!("{s:?}").contains("very-secret"));
    }
}
