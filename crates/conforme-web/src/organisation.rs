//! The editor organisation's space: creating it, its identity (every editor field of the
//! administrative dossier, with an optimistic version so that a stale form is refused without
//! losing what was typed), its members and the invitations that bring new ones, the
//! solidarity group it leads, its mandated distributors, the charters its legal representative
//! accepted; the agency's read-only view; the invitation link; and a programme's charter with
//! its acceptance.
//!
//! Only members see and change their organisation: everything goes through the policy, and
//! another organisation's objects read as "not found".

use crate::AppState;
use crate::accounts::notice;
use crate::auth::{Auth, Layout, PageAuth, Viewer};
use crate::error::{AppError, PageResult};
use crate::format::paris_long;
use crate::secrets::{random_token, sha256_hex};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, NaiveDate};
use conforme_domain::account::Role;
use conforme_domain::candidature::{EDITOR_FIELDS, EditorIdentity, FieldProblem};
use conforme_domain::identifiers::{Email, Siret};
use conforme_domain::organisation::{
    self as rules, CHARTER_SECTIONS, CharterSection, INVITATION_VALID_DAYS, MandatePeriod,
};
use conforme_domain::policy::Action;
use conforme_domain::programme::Programme;
use conforme_store::organisation_queries::{Invitation, invitation_purpose};
use conforme_store::{EmailToken, Organisation, StoreError, User};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/organisation",
            get(show_organisation).post(create_organisation),
        )
        .route("/organisation/identite", post(update_organisation))
        .route("/organisation/invitations", post(create_invitation))
        .route("/organisation/groupement", post(add_solidarity_member))
        .route(
            "/organisation/groupement/{id}/retrait",
            post(remove_solidarity_member),
        )
        .route("/organisation/distributeurs", post(add_distributor))
        .route(
            "/organisation/distributeurs/{id}/retrait",
            post(remove_distributor),
        )
        .route("/organisations/{id}", get(view_organisation))
        .route("/invitation", get(show_invitation).post(accept_invitation))
        .route(
            "/dispositifs/{code}/charte",
            get(show_charter).post(accept_charter),
        )
}

/// `user:<email>`, as the journal names people.
fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.email)
}

fn page(status: StatusCode, t: &impl Template) -> PageResult<Response> {
    Ok((status, Html(t.render()?)).into_response())
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The organisation of a signed-in editor, or why there is none to act on.
fn own_organisation_id(auth: &Auth) -> Result<String, AppError> {
    if auth.user.role != Role::Editor {
        return Err(AppError::Forbidden(
            "L'espace organisation est réservé aux comptes éditeurs.".into(),
        ));
    }
    auth.user
        .organisation_id
        .clone()
        .ok_or_else(|| AppError::NotFound("Votre compte n'appartient à aucune organisation : créez-la depuis la page « Mon organisation ».".into()))
}

async fn load_organisation(state: &AppState, id: &str) -> Result<Organisation, AppError> {
    state.store.organisation(id).await?.ok_or_else(|| {
        AppError::NotFound("Cette organisation n'existe pas ou ne vous est pas accessible.".into())
    })
}

fn siret_display(raw: &str) -> String {
    Siret::parse(raw).map_or_else(|_| raw.to_string(), |s| s.to_string())
}

fn field_error(problems: &[FieldProblem], field: &str) -> Option<String> {
    problems
        .iter()
        .filter(|p| p.field == field)
        .map(|p| p.message.clone())
        .reduce(|a, b| format!("{a} ; {b}"))
}

fn summary(problems: &[FieldProblem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("{} : {}", p.label, p.message))
        .collect()
}

fn checked(v: &str) -> bool {
    matches!(v, "oui" | "on" | "true" | "1")
}

// ---------------------------------------------------------------------------------------------
// Identity

/// The identity form as posted: every editor field, plus what the form carries besides.
#[derive(Debug, Default, Deserialize)]
struct IdentityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    /// Creation only: the creator states that they are the legal representative.
    #[serde(default)]
    legal_representative: String,
    #[serde(flatten)]
    identity: EditorIdentity,
}

fn trimmed(i: &EditorIdentity) -> EditorIdentity {
    let t = |s: &String| s.trim().to_string();
    EditorIdentity {
        company_name: t(&i.company_name),
        siret: t(&i.siret),
        legal_form: t(&i.legal_form),
        head_function: t(&i.head_function),
        head_office_address: t(&i.head_office_address),
        legal_rep_name: t(&i.legal_rep_name),
        legal_rep_title: t(&i.legal_rep_title),
        legal_rep_email: t(&i.legal_rep_email),
        legal_rep_phone: t(&i.legal_rep_phone),
        contact_name: t(&i.contact_name),
        contact_email: t(&i.contact_email),
        contact_phone: t(&i.contact_phone),
        cnda_nie: t(&i.cnda_nie),
    }
}

/// Checks the identity; once valid, the SIRET is kept as its 14 digits and the addresses in
/// lower case.
fn checked_identity(raw: &EditorIdentity) -> Result<(EditorIdentity, Siret), Vec<FieldProblem>> {
    let mut identity = trimmed(raw);
    let problems = identity.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    let siret = Siret::parse(&identity.siret).map_err(|e| {
        vec![FieldProblem {
            field: "siret".into(),
            label: "SIRET".into(),
            message: e.to_string(),
        }]
    })?;
    identity.siret = siret.as_str().to_string();
    for email in [&mut identity.legal_rep_email, &mut identity.contact_email] {
        if let Ok(e) = Email::parse(email) {
            *email = e.as_str().to_string();
        }
    }
    Ok((identity, siret))
}

/// One input of the identity form.
struct FieldView {
    name: &'static str,
    label: &'static str,
    value: String,
    error: Option<String>,
    /// `text`, `email`, `tel` or `textarea`.
    kind: &'static str,
    autocomplete: &'static str,
    hint: &'static str,
    /// After a stale submission: the value saved meanwhile, when it differs from the input.
    saved_meanwhile: Option<String>,
}

struct FieldGroup {
    legend: &'static str,
    fields: Vec<FieldView>,
}

const GROUPS: &[(&str, &[&str])] = &[
    (
        "L'éditeur",
        &[
            "company_name",
            "siret",
            "legal_form",
            "head_function",
            "head_office_address",
            "cnda_nie",
        ],
    ),
    (
        "Représentant légal",
        &[
            "legal_rep_name",
            "legal_rep_title",
            "legal_rep_email",
            "legal_rep_phone",
        ],
    ),
    (
        "Contact référencement",
        &["contact_name", "contact_email", "contact_phone"],
    ),
];

fn field_shape(name: &str) -> (&'static str, &'static str, &'static str) {
    match name {
        "siret" => (
            "text",
            "off",
            "14 chiffres, espaces acceptés (ex. : 130 009 405 00023)",
        ),
        "legal_form" => ("text", "off", "Ex. : SAS, SARL, SA, association…"),
        "head_function" => ("text", "off", "Ex. : Président, Directeur général…"),
        "head_office_address" => ("textarea", "street-address", ""),
        "legal_rep_title" => ("text", "off", "Ex. : Président, gérant, mandataire…"),
        "legal_rep_email" | "contact_email" => {
            ("email", "email", "Format attendu : nom@domaine.fr")
        }
        "legal_rep_phone" | "contact_phone" => ("tel", "tel", "Ex. : 01 23 45 67 89"),
        "cnda_nie" => (
            "text",
            "off",
            "Numéro d'identification de l'éditeur attribué par le CNDA",
        ),
        "company_name" => ("text", "organization", ""),
        "legal_rep_name" | "contact_name" => ("text", "name", ""),
        _ => ("text", "off", ""),
    }
}

fn label_of(name: &str) -> &'static str {
    EDITOR_FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, l)| *l)
}

fn field_groups(
    values: &EditorIdentity,
    problems: &[FieldProblem],
    saved: Option<&EditorIdentity>,
) -> Vec<FieldGroup> {
    GROUPS
        .iter()
        .map(|(legend, names)| FieldGroup {
            legend,
            fields: names
                .iter()
                .map(|name| {
                    let (kind, autocomplete, hint) = field_shape(name);
                    let value = values.field(name).to_string();
                    // Spacing is not a difference (a SIRET is shown grouped, stored compact).
                    let glue = if *name == "siret" { "" } else { " " };
                    let compact = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(glue);
                    let saved_meanwhile = saved
                        .map(|s| s.field(name))
                        .filter(|s| compact(s) != compact(&value))
                        .map(|s| {
                            if s.is_empty() {
                                "(vide)".to_string()
                            } else {
                                s.to_string()
                            }
                        });
                    FieldView {
                        name,
                        label: label_of(name),
                        value,
                        error: field_error(problems, name),
                        kind,
                        autocomplete,
                        hint,
                        saved_meanwhile,
                    }
                })
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "organisation_new.html")]
struct NewOrganisationPage {
    layout: Layout,
    csrf: String,
    groups: Vec<FieldGroup>,
    legal_representative: bool,
    errors: Vec<String>,
}

async fn new_organisation_page(
    state: &AppState,
    auth: &Auth,
    status: StatusCode,
    form: &IdentityForm,
    problems: &[FieldProblem],
    extra_errors: Vec<String>,
) -> PageResult<Response> {
    let mut errors = summary(problems);
    errors.extend(extra_errors);
    page(
        status,
        &NewOrganisationPage {
            layout: Layout::of(state, "espace", Some(auth)).await?,
            csrf: auth.csrf_token(),
            groups: field_groups(&form.identity, problems, None),
            legal_representative: checked(&form.legal_representative),
            errors,
        },
    )
}

/// `GET /organisation`: the creation form for an editor without organisation, the
/// organisation's page for a member.
async fn show_organisation(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Query(q): Query<DoneQuery>,
) -> PageResult<Response> {
    if auth.user.role != Role::Editor {
        return Err(AppError::Forbidden(
            "L'espace organisation est réservé aux comptes éditeurs. Les agents consultent une organisation depuis ses candidatures.".into(),
        )
        .into());
    }
    let Some(organisation_id) = auth.user.organisation_id.clone() else {
        return new_organisation_page(
            &state,
            &auth,
            StatusCode::OK,
            &IdentityForm::default(),
            &[],
            vec![],
        )
        .await;
    };
    auth.may(&Action::ViewOrganisation {
        organisation_id: &organisation_id,
    })?;
    let organisation = load_organisation(&state, &organisation_id).await?;
    let mut view = organisation_page(&state, &auth, &organisation, false).await?;
    view.done = q.fait.as_deref().and_then(done_message);
    page(StatusCode::OK, &view)
}

/// `POST /organisation`: creates the organisation of an editor who has none.
async fn create_organisation(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<IdentityForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    if auth.user.role != Role::Editor {
        return Err(AppError::Forbidden(
            "Seul un compte éditeur peut créer une organisation.".into(),
        )
        .into());
    }
    if auth.user.organisation_id.is_some() {
        return Err(AppError::Conflict(
            "Votre compte appartient déjà à une organisation : un compte n'en rejoint qu'une."
                .into(),
        )
        .into());
    }
    let (identity, siret) = match checked_identity(&form.identity) {
        Ok(ok) => ok,
        Err(problems) => {
            return new_organisation_page(
                &state,
                &auth,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &problems,
                vec![],
            )
            .await;
        }
    };
    let created = state
        .store
        .create_organisation(
            &identity,
            siret.as_str(),
            &auth.user.id,
            checked(&form.legal_representative),
            state.clock.now(),
            &actor(&auth),
        )
        .await;
    match created {
        Ok(_) => Ok(see_other("/organisation?fait=creee")),
        Err(StoreError::Conflict(message)) => {
            let problems = [FieldProblem {
                field: "siret".into(),
                label: "SIRET".into(),
                message,
            }];
            new_organisation_page(
                &state,
                &auth,
                StatusCode::CONFLICT,
                &form,
                &problems,
                vec![],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /organisation/identite`: replaces the identity, if nobody changed it since the form
/// was shown.
async fn update_organisation(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<IdentityForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    let organisation_id = own_organisation_id(&auth)?;
    auth.may(&Action::EditOrganisation {
        organisation_id: &organisation_id,
    })?;
    let organisation = load_organisation(&state, &organisation_id).await?;
    let rerender = |status: StatusCode,
                    problems: Vec<FieldProblem>,
                    notice: Option<String>,
                    saved: Option<Organisation>| {
        let state = state.clone();
        let auth = auth.clone();
        let organisation = organisation.clone();
        let typed = trimmed(&form.identity);
        let typed_version = form.version.trim().parse::<i64>().ok();
        async move {
            let mut view = organisation_page(&state, &auth, &organisation, false).await?;
            view.identity = IdentityView {
                groups: field_groups(&typed, &problems, saved.as_ref().map(|s| &s.identity)),
                errors: summary(&problems),
                notice,
                // After a stale submission the form carries the current version: saving again
                // is then a deliberate choice made with the values saved meanwhile in view.
                version: saved
                    .as_ref()
                    .map(|s| s.version)
                    .or(typed_version)
                    .unwrap_or(organisation.version),
            };
            view.focus = Some("identite");
            page(status, &view)
        }
    };
    let Ok(expected_version) = form.version.trim().parse::<i64>() else {
        return rerender(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![],
            Some("Le formulaire ne porte pas de numéro de version lisible : rechargez la page. Vos saisies sont conservées ci-dessous.".into()),
            None,
        )
        .await;
    };
    let (identity, siret) = match checked_identity(&form.identity) {
        Ok(ok) => ok,
        Err(problems) => {
            return rerender(StatusCode::UNPROCESSABLE_ENTITY, problems, None, None).await;
        }
    };
    let updated = state
        .store
        .update_organisation(
            &organisation_id,
            expected_version,
            &identity,
            siret.as_str(),
            state.clock.now(),
            &actor(&auth),
        )
        .await;
    match updated {
        Ok(_) => Ok(see_other("/organisation?fait=identite#identite")),
        Err(StoreError::Stale(_)) => {
            let current = load_organisation(&state, &organisation_id).await?;
            rerender(
                StatusCode::CONFLICT,
                vec![],
                Some("Quelqu'un a modifié l'identité de l'organisation depuis l'affichage de ce formulaire : rien n'a été enregistré. Vos saisies sont conservées ci-dessous ; sous chaque champ qui diffère figure la valeur enregistrée entre-temps. Vérifiez, puis enregistrez à nouveau.".into()),
                Some(current),
            )
            .await
        }
        Err(StoreError::Conflict(message)) => {
            rerender(
                StatusCode::CONFLICT,
                vec![FieldProblem {
                    field: "siret".into(),
                    label: "SIRET".into(),
                    message,
                }],
                None,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The organisation's page

struct IdentityView {
    groups: Vec<FieldGroup>,
    errors: Vec<String>,
    /// A message about the form as a whole (stale form).
    notice: Option<String>,
    version: i64,
}

struct MemberView {
    name: String,
    email: String,
    legal_representative: bool,
    is_me: bool,
}

struct InvitationView {
    email: String,
    legal_representative: bool,
    invited_by: String,
    expires: String,
}

#[derive(Default)]
struct InviteForm {
    email: String,
    legal_representative: bool,
    errors: Vec<String>,
    email_error: Option<String>,
    legal_error: Option<String>,
}

struct SolidarityView {
    id: String,
    company_name: String,
    siret: String,
    /// The mandate given to the lead editor: attachment id, file name, size.
    mandate: Option<(String, String, String)>,
}

#[derive(Default)]
struct CompanyForm {
    company_name: String,
    siret: String,
    mandate_start: String,
    mandate_end: String,
    errors: Vec<String>,
    company_name_error: Option<String>,
    siret_error: Option<String>,
    mandate_start_error: Option<String>,
    mandate_end_error: Option<String>,
}

impl CompanyForm {
    fn failed(input: &CompanyInput, problems: &[FieldProblem]) -> Self {
        CompanyForm {
            company_name: input.company_name.clone(),
            siret: input.siret.clone(),
            mandate_start: input.mandate_start.clone(),
            mandate_end: input.mandate_end.clone(),
            errors: summary(problems),
            company_name_error: field_error(problems, "company_name"),
            siret_error: field_error(problems, "siret"),
            mandate_start_error: field_error(problems, "mandate_start"),
            mandate_end_error: field_error(problems, "mandate_end"),
        }
    }
}

struct DistributorView {
    id: String,
    company_name: String,
    siret: String,
    start: String,
    end: String,
    status: &'static str,
}

struct CharterView {
    programme_code: String,
    title: String,
    who: String,
    when: String,
    sha_short: String,
    sha256: String,
}

struct ProgrammeLink {
    code: String,
    title: String,
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    layout: Layout,
    csrf: String,
    readonly: bool,
    /// A confirmation and the section it belongs to.
    done: Option<(&'static str, &'static str)>,
    /// The section whose form failed: the page says so at the top.
    focus: Option<&'static str>,
    company_name: String,
    siret: String,
    updated: String,
    identity_rows: Vec<(&'static str, String)>,
    identity: IdentityView,
    is_legal_rep: bool,
    has_legal_rep: bool,
    members: Vec<MemberView>,
    invitations: Vec<InvitationView>,
    invite: InviteForm,
    solidarity: Vec<SolidarityView>,
    solidarity_form: CompanyForm,
    distributors: Vec<DistributorView>,
    distributor_form: CompanyForm,
    charters: Vec<CharterView>,
    charters_to_accept: Vec<ProgrammeLink>,
}

impl OrganisationPage {
    /// The confirmation to show at the top of `section`, if any.
    fn done_in(&self, section: &str) -> Option<&'static str> {
        self.done.filter(|(_, s)| *s == section).map(|(m, _)| m)
    }

    fn focus_label(&self) -> &'static str {
        match self.focus {
            Some("identite") => "Identité de l'éditeur",
            Some("membres") => "Inviter un membre",
            Some("groupement") => "Groupement solidaire",
            Some("distributeurs") => "Distributeurs mandatés",
            _ => "",
        }
    }
}

#[derive(Deserialize)]
struct DoneQuery {
    fait: Option<String>,
}

/// The confirmation after a change, and the section it is shown in (the redirect scrolls
/// there): `haut` for the top of the page.
fn done_message(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "creee" => (
            "L'organisation est créée. Invitez vos collègues et, si vous êtes le représentant légal, acceptez la charte des dispositifs auxquels vous candidatez.",
            "haut",
        ),
        "identite" => ("L'identité de l'organisation est enregistrée.", "identite"),
        "invitation" => (
            "L'invitation est envoyée. Le lien reçu par courriel est valable 7 jours.",
            "membres",
        ),
        "membre" => (
            "Le membre est ajouté au groupement solidaire.",
            "groupement",
        ),
        "mandat" => ("Le mandat est enregistré.", "groupement"),
        "membre-retire" => (
            "Le membre est retiré du groupement solidaire.",
            "groupement",
        ),
        "distributeur" => ("Le distributeur mandaté est ajouté.", "distributeurs"),
        "distributeur-retire" => ("Le distributeur mandaté est retiré.", "distributeurs"),
        "bienvenue" => ("Vous avez rejoint l'organisation.", "haut"),
        _ => return None,
    })
}

async fn user_label(state: &AppState, id: &str) -> Result<String, AppError> {
    Ok(match state.store.user(id).await? {
        Some(u) => format!("{} ({})", u.display_name, u.email),
        None => "compte supprimé".into(),
    })
}

fn fr_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Everything the organisation's page shows, forms empty.
async fn organisation_page(
    state: &AppState,
    auth: &Auth,
    organisation: &Organisation,
    readonly: bool,
) -> Result<OrganisationPage, AppError> {
    let now = state.clock.now();
    let store = &state.store;
    let members: Vec<User> = store.organisation_members(&organisation.id).await?;
    let has_legal_rep = members.iter().any(|m| m.legal_representative);
    let names: std::collections::HashMap<String, String> = members
        .iter()
        .map(|m| (m.id.clone(), m.display_name.clone()))
        .collect();
    let mut invitations = vec![];
    for i in store.pending_invitations(&organisation.id, now).await? {
        let invited_by = match i.created_by.as_deref() {
            Some(id) => match names.get(id) {
                Some(n) => n.clone(),
                None => user_label(state, id).await?,
            },
            None => String::new(),
        };
        invitations.push(InvitationView {
            email: i.email,
            legal_representative: i.legal_representative,
            invited_by,
            expires: paris_long(i.expires_at),
        });
    }
    let today = conforme_domain::calendar::to_paris(now).date_naive();
    let distributors = store
        .distributors(&organisation.id)
        .await?
        .into_iter()
        .map(|d| DistributorView {
            status: if d.mandate_start > today {
                "à venir"
            } else if d.mandate_end.is_some_and(|e| e < today) {
                "échu"
            } else {
                "en cours"
            },
            id: d.id,
            company_name: d.company_name,
            siret: siret_display(&d.siret),
            start: fr_date(d.mandate_start),
            end: d.mandate_end.map(fr_date).unwrap_or_default(),
        })
        .collect();
    let accepted = store.charter_acceptances(&organisation.id).await?;
    let mut charters = vec![];
    for a in &accepted {
        let who = match names.get(&a.user_id) {
            Some(n) => n.clone(),
            None => user_label(state, &a.user_id).await?,
        };
        charters.push(CharterView {
            programme_code: a.programme_code.clone(),
            title: a.charter_title.clone(),
            who,
            when: paris_long(a.accepted_at),
            sha_short: a.charter_sha256.chars().take(12).collect(),
            sha256: a.charter_sha256.clone(),
        });
    }
    let charters_to_accept = state
        .programmes
        .iter()
        .filter(|p| !accepted.iter().any(|a| a.programme_code == p.code.as_str()))
        .map(|p| ProgrammeLink {
            code: p.code.as_str().to_string(),
            title: p.def.title.clone(),
        })
        .collect();
    let id = &organisation.identity;
    Ok(OrganisationPage {
        layout: Layout::of(
            state,
            if readonly { "instruction" } else { "espace" },
            Some(auth),
        )
        .await?,
        csrf: auth.csrf_token(),
        readonly,
        done: None,
        focus: None,
        company_name: id.company_name.clone(),
        siret: siret_display(&organisation.siret),
        updated: paris_long(organisation.updated_at),
        identity_rows: EDITOR_FIELDS
            .iter()
            .map(|(name, label)| {
                let v = id.field(name);
                let v = if *name == "siret" {
                    siret_display(v)
                } else {
                    v.to_string()
                };
                (*label, v)
            })
            .collect(),
        identity: IdentityView {
            groups: field_groups(
                &EditorIdentity {
                    siret: siret_display(&id.siret),
                    ..id.clone()
                },
                &[],
                None,
            ),
            errors: vec![],
            notice: None,
            version: organisation.version,
        },
        is_legal_rep: auth.user.legal_representative
            && auth.user.organisation_id.as_deref() == Some(organisation.id.as_str()),
        has_legal_rep,
        members: members
            .iter()
            .map(|m| MemberView {
                name: m.display_name.clone(),
                email: m.email.clone(),
                legal_representative: m.legal_representative,
                is_me: m.id == auth.user.id,
            })
            .collect(),
        invitations,
        invite: InviteForm::default(),
        solidarity: {
            let mut out = vec![];
            for m in store.solidarity_members(&organisation.id).await? {
                let mandate = match &m.mandate_attachment_id {
                    Some(id) => store.attachment(id).await?.map(|a| {
                        (
                            a.id,
                            a.file_name,
                            conforme_files::format_size(u64::try_from(a.size_bytes).unwrap_or(0)),
                        )
                    }),
                    None => None,
                };
                out.push(SolidarityView {
                    id: m.id,
                    company_name: m.company_name,
                    siret: siret_display(&m.siret),
                    mandate,
                });
            }
            out
        },
        solidarity_form: CompanyForm::default(),
        distributors,
        distributor_form: CompanyForm::default(),
        charters,
        charters_to_accept,
    })
}

/// `GET /organisations/{id}`: the agency's read-only view; members go to their own page, and
/// editors of another organisation find nothing.
async fn view_organisation(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
) -> PageResult<Response> {
    auth.may(&Action::ViewOrganisation {
        organisation_id: &id,
    })?;
    if auth.user.organisation_id.as_deref() == Some(id.as_str()) {
        return Ok(see_other("/organisation"));
    }
    let organisation = load_organisation(&state, &id).await?;
    let view = organisation_page(&state, &auth, &organisation, true).await?;
    page(StatusCode::OK, &view)
}

/// The member's organisation, after the policy allowed `action` on it.
async fn editable_organisation(
    state: &AppState,
    auth: &Auth,
    invite: bool,
) -> Result<Organisation, AppError> {
    let organisation_id = own_organisation_id(auth)?;
    if invite {
        auth.may(&Action::InviteMember {
            organisation_id: &organisation_id,
        })?;
    } else {
        auth.may(&Action::EditOrganisation {
            organisation_id: &organisation_id,
        })?;
    }
    load_organisation(state, &organisation_id).await
}

// ---------------------------------------------------------------------------------------------
// Invitations

#[derive(Deserialize)]
struct InviteInput {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    legal_representative: String,
}

/// `POST /organisation/invitations`: invites someone by email. Any member may invite a
/// colleague; only a legal representative may invite a legal representative (see
/// [`rules::check_invitation`]).
async fn create_invitation(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(input): Form<InviteInput>,
) -> PageResult<Response> {
    auth.check_csrf(&input.csrf)?;
    let organisation = editable_organisation(&state, &auth, true).await?;
    let legal = checked(&input.legal_representative);
    let members = state.store.organisation_members(&organisation.id).await?;
    let mut form = InviteForm {
        email: input.email.trim().to_string(),
        legal_representative: legal,
        ..InviteForm::default()
    };
    let email = match Email::parse(&input.email) {
        Ok(e) if members.iter().any(|m| m.email == e.as_str()) => {
            form.email_error = Some(format!("{e} est déjà membre de l'organisation"));
            None
        }
        Ok(e) => Some(e),
        Err(_) if input.email.trim().is_empty() => {
            form.email_error = Some("champ obligatoire".into());
            None
        }
        Err(e) => {
            form.email_error = Some(e.to_string());
            None
        }
    };
    let has_legal_rep = members.iter().any(|m| m.legal_representative);
    if let Err(refusal) =
        rules::check_invitation(auth.user.legal_representative, legal, has_legal_rep)
    {
        form.legal_error = Some(refusal.to_string());
    }
    let Some(email) = email.filter(|_| form.legal_error.is_none()) else {
        form.errors = [
            form.email_error
                .as_ref()
                .map(|e| format!("Adresse électronique : {e}")),
            form.legal_error
                .as_ref()
                .map(|e| format!("Représentant légal : {e}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut view = organisation_page(&state, &auth, &organisation, false).await?;
        view.invite = form;
        view.focus = Some("membres");
        return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    let token = random_token().map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let now = state.clock.now();
    let link = format!("{}/invitation?token={token}", state.config.public_url);
    state
        .store
        .invite_member(
            &sha256_hex(&token),
            &EmailToken {
                purpose: invitation_purpose(legal).to_string(),
                email: email.as_str().to_string(),
                user_id: None,
                organisation_id: Some(organisation.id.clone()),
                created_by: Some(auth.user.id.clone()),
                expires_at: now + Duration::days(INVITATION_VALID_DAYS),
                used_at: None,
            },
            json!({
                "to": email.as_str(),
                "template": "invitation",
                "organisation": organisation.identity.company_name,
                "inviter": auth.user.display_name,
                "link": link,
            }),
            now,
            &actor(&auth),
        )
        .await?;
    Ok(see_other("/organisation?fait=invitation#membres"))
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// What the invitation page offers its visitor.
enum InvitationState {
    /// Not signed in: log in or create the account, then come back.
    Anonymous,
    /// The invited account, free to join.
    Ready,
    /// Already a member of the inviting organisation.
    AlreadyMember,
    /// Refused, and why.
    Refused(String),
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    csrf: String,
    token: String,
    organisation: String,
    inviter: String,
    email: String,
    legal_representative: bool,
    expires: String,
    state: InvitationState,
    login_href: String,
    signup_href: String,
}

fn invitation_state(invitation: &Invitation, auth: Option<&Auth>) -> InvitationState {
    let Some(auth) = auth else {
        return InvitationState::Anonymous;
    };
    let user = &auth.user;
    if user.organisation_id.as_deref() == Some(invitation.organisation_id.as_str()) {
        return InvitationState::AlreadyMember;
    }
    if user.email != invitation.email {
        return InvitationState::Refused(format!(
            "Cette invitation est adressée à {}, et vous êtes connecté avec le compte {}. Déconnectez-vous, puis connectez-vous (ou créez un compte) avec l'adresse invitée.",
            invitation.email, user.email
        ));
    }
    if user.role != Role::Editor {
        return InvitationState::Refused(
            "Un compte d'agent ne peut pas rejoindre une organisation d'éditeur.".into(),
        );
    }
    if user.organisation_id.is_some() {
        return InvitationState::Refused(
            "Votre compte appartient déjà à une autre organisation : un compte ne rejoint qu'une organisation. Pour celle-ci, utilisez un autre compte.".into(),
        );
    }
    InvitationState::Ready
}

async fn invitation_page(
    state: &AppState,
    viewer: Option<&Auth>,
    token: &str,
    invitation: &Invitation,
) -> Result<(StatusCode, InvitationPage), AppError> {
    let organisation = load_organisation(state, &invitation.organisation_id).await?;
    let inviter = match invitation.created_by.as_deref() {
        Some(id) => state
            .store
            .user(id)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let invitation_state = invitation_state(invitation, viewer);
    let status = match &invitation_state {
        InvitationState::Refused(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    };
    let back = format!("/invitation?token={token}");
    Ok((
        status,
        InvitationPage {
            layout: Layout::of(state, "espace", viewer).await?,
            csrf: viewer.map(Auth::csrf_token).unwrap_or_default(),
            token: token.to_string(),
            organisation: organisation.identity.company_name,
            inviter,
            email: invitation.email.clone(),
            legal_representative: invitation.legal_representative,
            expires: paris_long(invitation.expires_at),
            state: invitation_state,
            login_href: format!("/connexion?suite={}", crate::pages::encode_query(&back)),
            signup_href: format!(
                "/inscription?invitation={}",
                crate::pages::encode_query(token)
            ),
        },
    ))
}

async fn invalid_invitation(state: &AppState, viewer: Option<&Auth>) -> PageResult<Response> {
    let body = notice(
        Layout::of(state, "espace", viewer).await?,
        "Invitation invalide ou expirée",
        &[
            "Ce lien d'invitation a déjà servi, a expiré (il vaut 7 jours) ou n'existe pas.",
            "Demandez à un membre de l'organisation de vous inviter de nouveau.",
        ],
        None,
    )?;
    Ok((StatusCode::NOT_FOUND, body).into_response())
}

/// `GET /invitation?token=…`: shows the invitation without using it.
async fn show_invitation(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    Query(q): Query<TokenQuery>,
) -> PageResult<Response> {
    let token = q.token.trim();
    let Some(invitation) = state
        .store
        .peek_invitation(&sha256_hex(token), state.clock.now())
        .await?
    else {
        return invalid_invitation(&state, viewer.as_ref()).await;
    };
    let (status, view) = invitation_page(&state, viewer.as_ref(), token, &invitation).await?;
    page(status, &view)
}

#[derive(Deserialize)]
struct AcceptInvitationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

/// `POST /invitation`: the invited account joins the organisation; the link serves once.
async fn accept_invitation(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<AcceptInvitationForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    let token = form.token.trim();
    let hash = sha256_hex(token);
    let now = state.clock.now();
    let Some(invitation) = state.store.peek_invitation(&hash, now).await? else {
        return invalid_invitation(&state, Some(&auth)).await;
    };
    if !matches!(
        invitation_state(&invitation, Some(&auth)),
        InvitationState::Ready
    ) {
        let (status, view) = invitation_page(&state, Some(&auth), token, &invitation).await?;
        return page(status, &view);
    }
    match state
        .store
        .join_by_invitation(&hash, &auth.user.id, &auth.user.email, now, &actor(&auth))
        .await
    {
        Ok(_) => Ok(see_other("/organisation?fait=bienvenue")),
        Err(StoreError::NotFound(_)) => invalid_invitation(&state, Some(&auth)).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Solidarity group and distributors

#[derive(Deserialize)]
struct CompanyInput {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    siret: String,
    #[serde(default)]
    mandate_start: String,
    #[serde(default)]
    mandate_end: String,
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /organisation/groupement`: adds a member to the solidarity group the organisation
/// leads. (Members' mandates will be attached once attachments exist.)
async fn add_solidarity_member(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(input): Form<CompanyInput>,
) -> PageResult<Response> {
    auth.check_csrf(&input.csrf)?;
    let organisation = editable_organisation(&state, &auth, false).await?;
    let existing = state.store.solidarity_members(&organisation.id).await?;
    let sirets: Vec<&str> = existing.iter().map(|m| m.siret.as_str()).collect();
    match rules::check_solidarity_member(
        &input.company_name,
        &input.siret,
        &organisation.siret,
        &sirets,
    ) {
        Ok(member) => {
            state
                .store
                .add_solidarity_member(
                    &organisation.id,
                    &member.company_name,
                    member.siret.as_str(),
                    None,
                    state.clock.now(),
                    &actor(&auth),
                )
                .await?;
            Ok(see_other("/organisation?fait=membre#groupement"))
        }
        Err(problems) => {
            let mut view = organisation_page(&state, &auth, &organisation, false).await?;
            view.solidarity_form = CompanyForm::failed(&input, &problems);
            view.focus = Some("groupement");
            page(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
    }
}

/// `POST /organisation/groupement/{id}/retrait`.
async fn remove_solidarity_member(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    let organisation = editable_organisation(&state, &auth, false).await?;
    state
        .store
        .remove_solidarity_member(&organisation.id, &id, state.clock.now(), &actor(&auth))
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => AppError::NotFound(
                "Ce membre du groupement n'existe pas ou a déjà été retiré.".into(),
            ),
            other => other.into(),
        })?;
    Ok(see_other("/organisation?fait=membre-retire#groupement"))
}

/// `POST /organisation/distributeurs`: adds a mandated distributor.
async fn add_distributor(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(input): Form<CompanyInput>,
) -> PageResult<Response> {
    auth.check_csrf(&input.csrf)?;
    let organisation = editable_organisation(&state, &auth, false).await?;
    let existing = state.store.distributors(&organisation.id).await?;
    let periods: Vec<MandatePeriod<'_>> = existing
        .iter()
        .map(|d| MandatePeriod {
            siret: &d.siret,
            start: d.mandate_start,
            end: d.mandate_end,
        })
        .collect();
    match rules::check_distributor(
        &input.company_name,
        &input.siret,
        &input.mandate_start,
        &input.mandate_end,
        &periods,
    ) {
        Ok(d) => {
            state
                .store
                .add_distributor(
                    &organisation.id,
                    &d.company_name,
                    d.siret.as_str(),
                    d.mandate_start,
                    d.mandate_end,
                    state.clock.now(),
                    &actor(&auth),
                )
                .await?;
            Ok(see_other("/organisation?fait=distributeur#distributeurs"))
        }
        Err(problems) => {
            let mut view = organisation_page(&state, &auth, &organisation, false).await?;
            view.distributor_form = CompanyForm::failed(&input, &problems);
            view.focus = Some("distributeurs");
            page(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
    }
}

/// `POST /organisation/distributeurs/{id}/retrait`.
async fn remove_distributor(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    let organisation = editable_organisation(&state, &auth, false).await?;
    state
        .store
        .remove_distributor(&organisation.id, &id, state.clock.now(), &actor(&auth))
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => {
                AppError::NotFound("Ce distributeur n'existe pas ou a déjà été retiré.".into())
            }
            other => other.into(),
        })?;
    Ok(see_other(
        "/organisation?fait=distributeur-retire#distributeurs",
    ))
}

// ---------------------------------------------------------------------------------------------
// Charter

/// A programme's charter as shown: its title, its sections, and the fingerprint of exactly
/// that text.
struct Charter {
    title: String,
    sha256: String,
}

fn charter_of(programme: &Programme) -> Charter {
    let title = rules::charter_title(programme.code.as_str(), programme.def.charter.as_deref());
    let sha256 = sha256_hex(&rules::charter_text(&title));
    Charter { title, sha256 }
}

/// What the charter page offers its visitor.
enum CharterState {
    Anonymous,
    /// An editor without organisation.
    NoOrganisation,
    /// Agency staff: reading only.
    Reader,
    Accepted {
        who: String,
        when: String,
        sha_short: String,
        same_text: bool,
    },
    /// A member who is not the legal representative.
    NotLegalRepresentative,
    /// The legal representative, who may accept.
    MayAccept,
}

#[derive(Template)]
#[template(path = "charter.html")]
struct CharterPage {
    layout: Layout,
    csrf: String,
    code: String,
    programme_title: String,
    title: String,
    sections: &'static [CharterSection],
    sha256: String,
    state: CharterState,
    done: bool,
    errors: Vec<String>,
    accept_error: Option<String>,
    info: Option<String>,
}

async fn charter_page(
    state: &AppState,
    viewer: Option<&Auth>,
    programme: &Programme,
) -> Result<CharterPage, AppError> {
    let charter = charter_of(programme);
    let code = programme.code.as_str().to_string();
    let charter_state = match viewer {
        None => CharterState::Anonymous,
        Some(a) if a.user.role != Role::Editor => CharterState::Reader,
        Some(a) => match a.user.organisation_id.as_deref() {
            None => CharterState::NoOrganisation,
            Some(org) => {
                let accepted = state
                    .store
                    .charter_acceptances(org)
                    .await?
                    .into_iter()
                    .find(|x| x.programme_code == code);
                match accepted {
                    Some(x) => CharterState::Accepted {
                        who: user_label(state, &x.user_id).await?,
                        when: paris_long(x.accepted_at),
                        sha_short: x.charter_sha256.chars().take(12).collect(),
                        same_text: x.charter_sha256 == charter.sha256,
                    },
                    None if a.user.legal_representative => CharterState::MayAccept,
                    None => CharterState::NotLegalRepresentative,
                }
            }
        },
    };
    Ok(CharterPage {
        layout: Layout::of(state, "dispositifs", viewer).await?,
        csrf: viewer.map(Auth::csrf_token).unwrap_or_default(),
        programme_title: programme.def.title.clone(),
        code,
        title: charter.title,
        sections: CHARTER_SECTIONS,
        sha256: charter.sha256,
        state: charter_state,
        done: false,
        errors: vec![],
        accept_error: None,
        info: None,
    })
}

fn programme_or_404<'a>(state: &'a AppState, code: &str) -> Result<&'a Programme, AppError> {
    state
        .programme(code)
        .ok_or_else(|| AppError::NotFound(format!("Aucun dispositif « {code} ».")))
}

#[derive(Deserialize)]
struct CharterQuery {
    fait: Option<String>,
}

/// `GET /dispositifs/{code}/charte`: the charter's text, public; its acceptance for the legal
/// representative of an organisation that has not accepted it yet.
async fn show_charter(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    Path(code): Path<String>,
    Query(q): Query<CharterQuery>,
) -> PageResult<Response> {
    let programme = programme_or_404(&state, &code)?;
    let mut view = charter_page(&state, viewer.as_ref(), programme).await?;
    view.done = q.fait.is_some() && matches!(view.state, CharterState::Accepted { .. });
    page(StatusCode::OK, &view)
}

#[derive(Deserialize)]
struct AcceptCharterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    accept: String,
    /// The fingerprint of the text the page showed.
    #[serde(default)]
    sha256: String,
}

/// `POST /dispositifs/{code}/charte`: the legal representative accepts the charter; the
/// acceptance records who, when, and which text (title and SHA-256 of the text shown).
async fn accept_charter(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(code): Path<String>,
    Form(form): Form<AcceptCharterForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    let programme = programme_or_404(&state, &code)?;
    let organisation_id = own_organisation_id(&auth)?;
    auth.may(&Action::AcceptCharter {
        organisation_id: &organisation_id,
    })?;
    let charter = charter_of(programme);
    if !checked(&form.accept) {
        let mut view = charter_page(&state, Some(&auth), programme).await?;
        let message = "cochez la case pour accepter la charte".to_string();
        view.errors = vec![format!("Acceptation de la charte : {message}")];
        view.accept_error = Some(message);
        return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    if form.sha256.trim() != charter.sha256 {
        let mut view = charter_page(&state, Some(&auth), programme).await?;
        view.errors = vec![
            "Le texte de la charte a changé depuis l'affichage de cette page : relisez la version ci-dessous avant de l'accepter.".into(),
        ];
        return page(StatusCode::CONFLICT, &view);
    }
    let accepted = state
        .store
        .accept_charter(
            &organisation_id,
            programme.code.as_str(),
            &auth.user.id,
            &charter.title,
            &charter.sha256,
            state.clock.now(),
            &actor(&auth),
        )
        .await;
    match accepted {
        Ok(()) => Ok(see_other(&format!(
            "/dispositifs/{}/charte?fait=acceptee",
            programme.code
        ))),
        Err(StoreError::Conflict(_)) => {
            let mut view = charter_page(&state, Some(&auth), programme).await?;
            view.info = Some(
                "Votre organisation a déjà accepté cette charte : il n'y a rien de plus à faire, vous pouvez candidater."
                    .into(),
            );
            page(StatusCode::CONFLICT, &view)
        }
        Err(e) => Err(e.into()),
    }
}
