//! `conforme demo`: the platform with demonstration accounts (an editor who is its
//! organisation's legal representative, an instructor, an administrator, a committee member,
//! a programme administrator) and candidatures at various stages, up to a référencement shown
//! in the public registry, produced through the same operations as the pages, at realistic
//! instants (the clock is moved while the history is written). Emails are written to files and
//! shown at `/demo/courriels`.

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use conforme_domain::account::Role;
use conforme_domain::candidature::{AdministrativeDossier, EditorIdentity};
use conforme_domain::proofs::{InstructionRules, Target};
use conforme_store::{Attachment, DossierChange, NewUser, Store};
use conforme_web::AppState;
use conforme_web::auth::Auth;
use conforme_web::candidatures as ops;
use conforme_web::{proofs, referencing};

pub const PASSWORD: &str = "Demo-Conforme-2024";
pub const EDITOR: &str = "editeur@demo.conforme.fr";
pub const INSTRUCTOR: &str = "instructeur@demo.conforme.fr";
pub const ADMIN: &str = "admin@demo.conforme.fr";
pub const COMMITTEE_MEMBER: &str = "comite@demo.conforme.fr";
pub const PROGRAMME_ADMIN: &str = "pilote@demo.conforme.fr";

/// The committee's accounts, as `conforme demo` lists them after the others.
pub fn committee_accounts() -> String {
    format!(
        "    {COMMITTEE_MEMBER}  membre du comité technique de référencement (décisions)\n    {PROGRAMME_ADMIN}  pilote du dispositif (programme les séances du comité)"
    )
}

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

/// A small PDF standing for the proof `label` (each one distinct, as real files are).
fn proof_pdf(label: &str) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n% ".to_vec();
    bytes.extend_from_slice(label.as_bytes());
    bytes.extend_from_slice(&SAMPLE_PDF[b"%PDF-1.4".len()..]);
    bytes
}

/// The proof dossier of a validated candidature: at `deposit`, the editor deposits a file for
/// every required proof and every mandatory piece and submits the whole dossier, through the
/// pages' operations (some 150 files for HOP-DPI-Va2); at `ruling`, the instructor rules every
/// required proof and every assessed piece compliant (see below).
async fn prove(
    state: &AppState,
    ed: &Auth,
    ins: &Auth,
    id: &str,
    deposit: &str,
    ruling: &str,
) -> anyhow::Result<()> {
    let fail = |e: conforme_web::error::AppError| anyhow!("{e}");
    move_clock(state, deposit)?;
    let l = proofs::load(state, ed, id).await.map_err(fail)?;
    let programme = state
        .programme(&l.c.programme_code)
        .with_context(|| format!("programme {}", l.c.programme_code))?;
    let required: Vec<Target> = l
        .checklist
        .required()
        .map(|i| Target::Proof(i.key.clone()))
        .collect();
    let pieces = &programme.def.extra_pieces;
    let mut deposited = required.clone();
    deposited.extend(
        pieces
            .iter()
            .filter(|p| p.mandatory || p.assessed)
            .map(|p| Target::Piece(p.code.clone())),
    );
    for (n, target) in deposited.iter().enumerate() {
        let label = target.to_string();
        let stored = state
            .files
            .put_bytes(proof_pdf(&label), &proofs::proof_limits())
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let name = match target {
            Target::Piece(code) => format!("{code}.pdf"),
            _ => format!("preuve-{:03}.pdf", n + 1),
        };
        proofs::record_deposit(state, ed, id, target, None, &name, stored)
            .await
            .map_err(fail)?;
    }
    proofs::submit(state, ed, id, None).await.map_err(fail)?;
    // The instructor's verdicts: the domain's rule for each (as `proofs::rule_on` applies
    // it), written in one change of the dossier rather than one per target, which would load
    // the dossier and its REM some 150 times more at every start of the demo.
    move_clock(state, ruling)?;
    let now = state.clock.now();
    let l = proofs::load(state, ins, id).await.map_err(fail)?;
    let mut d = l.dossier().clone();
    let assessed = pieces
        .iter()
        .filter(|p| p.assessed)
        .map(|p| Target::Piece(p.code.clone()));
    let mut ruled = 0;
    for target in required.into_iter().chain(assessed) {
        d.rule_on(&target, true, "", &ins.user.id, now)
            .map_err(|e| anyhow!("{e}"))?;
        ruled += 1;
    }
    let queue_key = d
        .clock(InstructionRules::for_programme(programme))
        .ok()
        .and_then(|c| c.queue_key(now));
    let change = DossierChange::new(
        &l.stored,
        d,
        queue_key,
        "proofs.verdict",
        serde_json::json!({ "compliant": true, "targets": ruled, "by": "system:demo" }),
    );
    state
        .store
        .change_proof_dossier(&change, now, &format!("user:{}", ins.user.email))
        .await?;
    Ok(())
}

/// The legal representative signs the convention of `id` as shown, with a fresh code (the one
/// the page would have emailed, issued here directly).
async fn sign(state: &AppState, ed: &Auth, id: &str) -> anyhow::Result<()> {
    let fail = |e: conforme_web::error::AppError| anyhow!("{e}");
    let sha = state
        .store
        .referencing(id)
        .await?
        .and_then(|s| s.referencing.convention)
        .map(|c| c.sha256)
        .context("convention to sign")?;
    let code = conforme_web::secrets::numeric_code(conforme_domain::account::OTP_DIGITS)
        .map_err(|e| anyhow!("random: {e}"))?;
    state
        .store
        .issue_code(
            &ed.user.id,
            referencing::PURPOSE_SIGN,
            &conforme_web::secrets::sha256_hex(&code),
            state.clock.now(),
        )
        .await?;
    referencing::sign_convention(state, ed, id, &sha, &code)
        .await
        .map_err(fail)
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
    let member = user(
        state,
        COMMITTEE_MEMBER,
        "Claude Comité",
        Role::CommitteeMember,
        &hash,
    )
    .await?;
    let pilot = user(
        state,
        PROGRAMME_ADMIN,
        "Sacha Pilote",
        Role::ProgrammeAdmin,
        &hash,
    )
    .await?;
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
    let member = Auth::acting_as(member);
    let pilot = Auth::acting_as(pilot);
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

    // The steps below come after the ones above so that those keep their references; their
    // history is written earlier in September.

    // 6. Taken all the way to a référencement: validated, every proof deposited and ruled
    //    compliant, convention generated and signed, attributed by the committee of Thursday
    //    5 September (ISO week 36; the week of today is left free for a session of one's own).
    move_clock(state, "2024-09-02T10:30:00+02:00")?;
    let c6 = prepared(state, &ed, "HOP-DPI-Va2", "DPI Démo Référencé", "v5.0.0").await?;
    let c6 = ops::submit(state, &ed, &c6, c6.version)
        .await
        .map_err(fail)?;
    move_clock(state, "2024-09-03T09:30:00+02:00")?;
    ops::decide(state, &ins, &c6, c6.version, true, "")
        .await
        .map_err(fail)?;
    prove(
        state,
        &ed,
        &ins,
        &c6.id,
        "2024-09-03T14:00:00+02:00",
        "2024-09-04T10:00:00+02:00",
    )
    .await?;
    move_clock(state, "2024-09-04T11:00:00+02:00")?;
    referencing::generate_convention(state, &ins, &c6.id)
        .await
        .map_err(fail)?;
    move_clock(state, "2024-09-04T15:00:00+02:00")?;
    sign(state, &ed, &c6.id).await?;
    move_clock(state, "2024-09-04T16:00:00+02:00")?;
    let session = referencing::schedule_session(state, &pilot, "HOP-DPI-Va2", "2024-09-05")
        .await
        .map_err(fail)?;
    move_clock(state, "2024-09-05T10:00:00+02:00")?;
    referencing::decide(
        state,
        &member,
        &session.id,
        &c6.id,
        "attribution",
        "Dossier de preuves conforme ; journée de test INS concluante.",
        &[],
    )
    .await
    .map_err(fail)?;
    move_clock(state, "2024-09-05T17:00:00+02:00")?;
    referencing::close_session(state, &pilot, &session.id)
        .await
        .map_err(fail)?;

    // 7. Every proof ruled compliant: the convention is to be prepared (« Convention en
    //    préparation »), the rest of the path is left to walk through the pages.
    move_clock(state, "2024-09-06T10:00:00+02:00")?;
    let c7 = prepared(state, &ed, "HOP-DPI-Va2", "DPI Démo Référençable", "v6.0.0").await?;
    let c7 = ops::submit(state, &ed, &c7, c7.version)
        .await
        .map_err(fail)?;
    move_clock(state, "2024-09-09T11:00:00+02:00")?;
    ops::decide(state, &ins, &c7, c7.version, true, "")
        .await
        .map_err(fail)?;
    prove(
        state,
        &ed,
        &ins,
        &c7.id,
        "2024-09-10T10:00:00+02:00",
        "2024-09-11T15:00:00+02:00",
    )
    .await?;

    move_clock(state, "2024-09-12T09:00:00+02:00")?;
    Ok(true)
}
