//! `conforme demo`: the platform with demonstration accounts (an editor who is its
//! organisation's legal representative, an instructor, an administrator) and candidatures at
//! various stages, produced through the same operations as the pages, at realistic instants
//! (the clock is moved while the history is written). Emails are written to files and shown at
//! `/demo/courriels`.

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use conforme_domain::account::Role;
use conforme_domain::candidature::{AdministrativeDossier, EditorIdentity};
use conforme_store::{Attachment, NewUser, Store};
use conforme_web::AppState;
use conforme_web::auth::Auth;
use conforme_web::candidatures as ops;

pub const PASSWORD: &str = "Demo-Conforme-2024";
pub const EDITOR: &str = "editeur@demo.conforme.fr";
pub const INSTRUCTOR: &str = "instructeur@demo.conforme.fr";
pub const ADMIN: &str = "admin@demo.conforme.fr";

fn at(s: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))
}

/// The instant the demonstration starts at (before HOP-DPI-Va2's Date 1, so that every
/// step can be tried).
pub fn start() -> anyhow::Result<DateTime<Utc>> {
    at("2024-09-12T09:00:00+02:00")
}

fn move_clock(state: &AppState, s: &str) -> anyhow::Result<()> {
    let control = state
        .clock_control
        .as_ref()
        .ok_or_else(|| anyhow!("demo needs a settable clock"))?;
    control.set(at(s)?);
    Ok(())
}

async fn user(
    state: &AppState,
    email: &str,
    name: &str,
    role: Role,
    hash: &str,
) -> anyhow::Result<conforme_store::User> {
    let now = state.clock.now();
    Ok(state
        .store
        .create_user(
            &NewUser {
                email,
                display_name: name,
                role,
                organisation_id: None,
                legal_representative: false,
                password_hash: Some(hash),
                email_verified: true,
            },
            now,
            "system:demo",
        )
        .await?)
}

/// A small PDF standing for a piece the editor attached.
const SAMPLE_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn attach(
    state: &AppState,
    store: &Store,
    org: &str,
    user_id: &str,
    candidature: &str,
    name: &str,
) -> anyhow::Result<String> {
    let stream = futures_stream(SAMPLE_PDF);
    let stored = state
        .files
        .put_stream(stream, &conforme_files::UploadLimits::new(1024 * 1024))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let id = uuid::Uuid::new_v4().to_string();
    store
        .insert_attachment(
            &Attachment {
                id: id.clone(),
                organisation_id: org.to_string(),
                candidature_id: Some(candidature.to_string()),
                storage_key: stored.key,
                file_name: name.to_string(),
                content_type: stored.content_type,
                size_bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
                sha256: stored.sha256,
                uploaded_by: user_id.to_string(),
                uploaded_at: state.clock.now(),
            },
            "system:demo",
        )
        .await?;
    Ok(id)
}

fn futures_stream(
    bytes: &'static [u8],
) -> impl futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Unpin + Send {
    futures_util::stream::iter([Ok(bytes::Bytes::from_static(bytes))])
}

/// A candidature filled and ready to submit.
async fn prepared(
    state: &AppState,
    auth: &Auth,
    programme: &str,
    name: &str,
    version: &str,
) -> anyhow::Result<conforme_store::Candidature> {
    let c = ops::create(state, auth, programme)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let org = c.organisation_id.clone();
    let cnda = attach(
        state,
        &state.store,
        &org,
        &auth.user.id,
        &c.id,
        "demande-homologation-cnda.pdf",
    )
    .await?;
    let doc = attach(
        state,
        &state.store,
        &org,
        &auth.user.id,
        &c.id,
        "documentation-fonctions-minimales.pdf",
    )
    .await?;
    let mut profiles = vec!["Général".to_string()];
    if programme != "HOP-DPI-Va2" {
        profiles.push("Esclave de l'identité".into());
    }
    let dossier = AdministrativeDossier {
        commercial_name: name.into(),
        technical_version: version.into(),
        wave1_referenced: Some(false),
        cnda_nil: format!("NIL-{}", &c.reference[c.reference.len() - 4..]),
        cnda_application_proof: Some(cnda),
        documentation: Some(doc),
        profiles,
        no_additional_components: true,
        ..AdministrativeDossier::default()
    };
    ops::save(state, auth, &c, c.version, &dossier)
        .await
        .map_err(|e| anyhow!("{e}"))
}

/// Seeds the demonstration data unless it is already there. Returns whether it seeded.
pub async fn seed(state: &AppState) -> anyhow::Result<bool> {
    let store = &state.store;
    if store.user_by_email(EDITOR).await?.is_some() {
        return Ok(false);
    }
    let hash = conforme_web::secrets::hash_password(PASSWORD).map_err(|e| anyhow!(e))?;
    move_clock(state, "2024-09-02T09:30:00+02:00")?;
    let editor = user(state, EDITOR, "Camille Éditeur", Role::Editor, &hash).await?;
    let instructor = user(
        state,
        INSTRUCTOR,
        "Jean Instructeur",
        Role::Instructor,
        &hash,
    )
    .await?;
    user(state, ADMIN, "Alex Administrateur", Role::Admin, &hash).await?;
    let identity = EditorIdentity {
        company_name: "Éditions Démo Santé SAS".into(),
        siret: "73282932000074".into(),
        legal_form: "SAS".into(),
        head_function: "Président".into(),
        head_office_address: "12 rue des Exemples, 75011 Paris".into(),
        legal_rep_name: "Camille Éditeur".into(),
        legal_rep_title: "Présidente".into(),
        legal_rep_email: EDITOR.into(),
        legal_rep_phone: "01 23 45 67 89".into(),
        contact_name: "Dominique Contact".into(),
        contact_email: "contact@demo.conforme.fr".into(),
        contact_phone: "01 98 76 54 32".into(),
        cnda_nie: "NIE-DEMO-01".into(),
    };
    let org = store
        .create_organisation(
            &identity,
            "73282932000074",
            &editor.id,
            true,
            state.clock.now(),
            "system:demo",
        )
        .await?;
    for programme in state.programmes.iter() {
        // The very text the charter page shows, so that the acceptance reads as current.
        let title = conforme_domain::organisation::charter_title(
            programme.code.as_str(),
            programme.def.charter.as_deref(),
        );
        let sha = crate::sha256_hex(conforme_domain::organisation::charter_text(&title).as_bytes());
        store
            .accept_charter(
                &org.id,
                programme.code.as_str(),
                &editor.id,
                &title,
                &sha,
                state.clock.now(),
                "system:demo",
            )
            .await?;
    }
    let editor = store.user(&editor.id).await?.context("editor")?;
    let ed = Auth::acting_as(editor);
    let ins = Auth::acting_as(instructor);
    let fail = |e: conforme_web::error::AppError| anyhow!("{e}");

    // 1. Submitted early September, validated a week later.
    move_clock(state, "2024-09-02T10:00:00+02:00")?;
    let c1 = prepared(state, &ed, "HOP-DPI-Va2", "DPI Démo Hôpital", "v5.2.0").await?;
    let c1 = ops::submit(state, &ed, &c1, c1.version)
        .await
        .map_err(fail)?;
    move_clock(state, "2024-09-09T14:00:00+02:00")?;
    ops::decide(state, &ins, &c1, c1.version, true, "")
        .await
        .map_err(fail)?;

    // 2. Submitted, a complement asked on Wednesday 11 September: due Wednesday 18 at 24:00.
    move_clock(state, "2024-09-04T11:00:00+02:00")?;
    let c2 = prepared(state, &ed, "HOP-DPI-Va2", "DPI Démo Urgences", "v3.1").await?;
    let c2 = ops::submit(state, &ed, &c2, c2.version)
        .await
        .map_err(fail)?;
    move_clock(state, "2024-09-11T16:00:00+02:00")?;
    ops::ask_complement(state, &ins, &c2, c2.version, "Merci de préciser le numéro NIL de la version candidate et de joindre l'extrait Kbis de moins de trois mois.")
        .await
        .map_err(fail)?;

    // 3. Submitted and rejected.
    move_clock(state, "2024-09-05T09:00:00+02:00")?;
    let c3 = prepared(state, &ed, "HOP-DPI-Va2", "DPI Démo Ancien", "v1.0").await?;
    let c3 = ops::submit(state, &ed, &c3, c3.version)
        .await
        .map_err(fail)?;
    move_clock(state, "2024-09-10T10:00:00+02:00")?;
    ops::decide(state, &ins, &c3, c3.version, false, "La version candidate est annoncée en fin de maintenance ; elle ne peut pas être référencée.")
        .await
        .map_err(fail)?;

    // 4. Submitted, waiting for the agency.
    move_clock(state, "2024-09-11T10:00:00+02:00")?;
    let c4 = prepared(
        state,
        &ed,
        "MS2-DUI-PDE-Va1-SF",
        "DUI Démo Protection de l'enfance",
        "2024.09",
    )
    .await?;
    ops::submit(state, &ed, &c4, c4.version)
        .await
        .map_err(fail)?;

    // 5. A draft.
    move_clock(state, "2024-09-12T08:30:00+02:00")?;
    ops::create(state, &ed, "HOP-DPI-Va2").await.map_err(fail)?;

    move_clock(state, "2024-09-12T09:00:00+02:00")?;
    Ok(true)
}
