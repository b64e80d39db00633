//! The public registry and the verification of référencement numbers, over HTTP, on SQLite
//! and PostgreSQL: counts and tables, the confidentiality of candidatures under instruction
//! in the pages, the open-data files and the API, search and filters with their bad values,
//! the CSV read back, and the verification of valid, suspended, withdrawn, altered, malformed
//! and forged numbers with the logo rights.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, Browser, TestApp, complete_form, controlled, identity, spawn_app, version};
use conforme_domain::account::Role;
use conforme_domain::referencing::number::issue;
use conforme_domain::referencing::{DeclaredVersion, Referencing, Standing};
use conforme_store::ReferencingChange;
use serde_json::{Value, json};

const CODE: &str = "HOP-DPI-Va2";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// What only the candidature under instruction carries: none of it may be published.
const SECRET_VERSION: &str = "v9.8.7-zq42";
const SECRET_SIRET: &str = "40483304800022";
const SECRET_EMAIL: &str = "delta.secrete@example.fr";
const SECRET_PROFILE: &str = "Authentification PSC par CIBA";
const SECRET_SOLUTION_NAME: &str = "Delta Soins";
const SECRET_EDITOR: &str = "Delta Médical";

/// The registry seeded by [`seed`].
struct Seeded {
    valid: String,
    suspended: String,
    withdrawn: String,
    /// The reference of the candidature under instruction.
    secret_reference: String,
}

/// An editor (legal representative) of a new organisation named `company`, charter accepted.
async fn editor_of(app: &TestApp, email: &str, company: &str, siret: &str, rep: &str) -> Browser {
    let b = app.browser_for(email, Role::Editor, None, true).await;
    let mut id = identity(company, siret);
    id.legal_rep_email = rep.into();
    let org = app
        .store
        .create_organisation(&id, siret, &b.user.id, true, chrono::Utc::now(), "test")
        .await
        .unwrap();
    app.store
        .accept_charter(
            &org.id,
            CODE,
            &b.user.id,
            "Charte",
            "0".repeat(64).as_str(),
            chrono::Utc::now(),
            "test",
        )
        .await
        .unwrap();
    b
}

/// Creates, fills and deposits a candidature through the pages; returns its id.
async fn deposit(
    app: &TestApp,
    b: &Browser,
    solution: &str,
    technical_version: &str,
    profiles: &[&str],
) -> String {
    let (status, _, location) = b.post("/candidatures", &[("programme", CODE)]).await;
    assert_eq!(status, 303);
    let id = location
        .unwrap()
        .trim_start_matches("/candidatures/")
        .trim_end_matches("/dossier")
        .to_string();
    let v = version(app, &id).await;
    let mut form: Vec<(&str, &str)> = complete_form()
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "commercial_name" | "technical_version" | "profiles"))
        .collect();
    form.push(("commercial_name", solution));
    form.push(("technical_version", technical_version));
    for p in profiles {
        form.push(("profiles", p));
    }
    form.push(("version", &v));
    let (status, body, _) = b.post(&format!("/candidatures/{id}/dossier"), &form).await;
    assert_eq!(status, 200, "{body}");
    for (field, name) in [
        ("cnda_application_proof", "demande-cnda.pdf"),
        ("documentation", "documentation.pdf"),
    ] {
        let form = reqwest::multipart::Form::new()
            .text("csrf", b.csrf.clone())
            .text("field", field)
            .part(
                "file",
                reqwest::multipart::Part::bytes(PDF.to_vec())
                    .file_name(name)
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        let r = b
            .client
            .post(format!("{}/candidatures/{id}/pieces", app.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    }
    let v = version(app, &id).await;
    let (status, body, _) = b
        .post(&format!("/candidatures/{id}/depot"), &[("version", &v)])
        .await;
    assert_eq!(status, 303, "{body}");
    id
}

/// Records the référencement `r` of candidature `id` (a first write).
async fn refer(app: &TestApp, id: &str, r: Referencing) {
    let change = ReferencingChange::new(id, CODE, None, r, "referencing.referenced", json!({}));
    app.store
        .change_referencing(&change, common::at("2026-02-05T10:00:00Z"), "test")
        .await
        .unwrap();
}

fn referenced(sequence: u32) -> Referencing {
    let mut r = Referencing::default();
    r.refer(
        issue(CODE, 2026, sequence),
        "comite",
        common::at("2026-02-05T10:00:00Z"),
    )
    .unwrap();
    r
}

/// Four deposited candidatures of HOP-DPI-Va2 (one valid référencement with a compatible
/// version, one suspended, one withdrawn, one under instruction with distinctive data) and a
/// draft, which is not public.
async fn seed(app: &TestApp) -> Seeded {
    let a = editor_of(
        app,
        "alice@alpha.fr",
        "Éditeur Alpha",
        "73282932000074",
        "alice@alpha.fr",
    )
    .await;
    let b = editor_of(
        app,
        "bruno@beta.fr",
        "Bêta Logiciels",
        "55208131766522",
        "bruno@beta.fr",
    )
    .await;
    let c = editor_of(
        app,
        "chloe@gamma.fr",
        "Gamma Santé",
        "31222222200019",
        "chloe@gamma.fr",
    )
    .await;
    let d = editor_of(
        app,
        "dan@delta.fr",
        SECRET_EDITOR,
        SECRET_SIRET,
        SECRET_EMAIL,
    )
    .await;
    let e = editor_of(
        app,
        "eve@epsilon.fr",
        "Epsilon Brouillon",
        "88335566000126",
        "eve@epsilon.fr",
    )
    .await;

    let id_a = deposit(app, &a, "DPI Alpha", "v2.4.1", &["Général"]).await;
    let id_b = deposit(app, &b, "Bêta Dossier", "v3.0", &["Général"]).await;
    let id_c = deposit(app, &c, "Gamma DPI", "v1.0", &["Général"]).await;
    let id_d = deposit(
        app,
        &d,
        SECRET_SOLUTION_NAME,
        SECRET_VERSION,
        &["Général", SECRET_PROFILE],
    )
    .await;
    // A draft, never deposited.
    let (status, _, _) = e.post("/candidatures", &[("programme", CODE)]).await;
    assert_eq!(status, 303);

    let mut ra = referenced(1);
    ra.declare_version(
        "v2.4.1",
        DeclaredVersion {
            technical_version: "v2.5.0".into(),
            commercial_name: "DPI Alpha 2026".into(),
            declared_by: "alice".into(),
            declared_at: common::at("2026-03-01T10:00:00Z"),
        },
        true,
    )
    .unwrap();
    refer(app, &id_a, ra).await;
    let mut rb = referenced(2);
    rb.change_standing(
        Standing::Suspended,
        "Audit de conformité : écarts majeurs à corriger",
        "pa",
        common::at("2026-03-10T09:00:00Z"),
    )
    .unwrap();
    refer(app, &id_b, rb).await;
    let mut rc = referenced(3);
    rc.change_standing(
        Standing::Withdrawn,
        "Retrait à la demande de l’éditeur",
        "pa",
        common::at("2026-04-01T08:00:00Z"),
    )
    .unwrap();
    refer(app, &id_c, rc).await;

    let secret = app.store.candidature(&id_d).await.unwrap().unwrap();
    Seeded {
        valid: issue(CODE, 2026, 1),
        suspended: issue(CODE, 2026, 2),
        withdrawn: issue(CODE, 2026, 3),
        secret_reference: secret.reference,
    }
}

async fn start(backend: Backend) -> (TestApp, Seeded) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let seeded = seed(&app).await;
    (app, seeded)
}

/// The part of a registry page after its search form: the tables.
fn tables(html: &str) -> &str {
    let at = html.find("</form>").expect("the search form");
    &html[at..]
}

async fn download(app: &TestApp, path: &str) -> (u16, String, String, String) {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (status, ct, cd, r.text().await.unwrap())
}

fn read_csv(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

async fn counts_and_tables(backend: Backend) {
    let (app, s) = start(backend).await;

    let (status, index) = app.get_text("/registre").await;
    assert_eq!(status, 200);
    assert!(
        index.contains("2 solutions référencées sur 4 candidatures"),
        "{index}"
    );
    assert!(index.contains(r#"href="/registre/HOP-DPI-Va2""#));
    assert!(index.contains(r#"href="/registre/BIO-SGL-Va1""#));
    assert!(index.contains("0 solution référencée sur 0 candidature"));
    assert!(index.contains(r#"href="/registre" aria-current="page">Registre</a>"#));

    let (status, page) = app.get_text("/registre/HOP-DPI-Va2").await;
    assert_eq!(status, 200);
    assert!(page.contains("2 solutions référencées sur 4 candidatures"));
    assert!(page.contains("dont 1\u{a0}suspendue"), "{page}");
    assert!(page.contains("1\u{a0}candidature en cours d’instruction"));
    assert!(page.contains("1\u{a0}référencement retiré"));
    assert!(
        page.contains("<caption>Solutions référencées du dispositif HOP-DPI-Va2 (3)</caption>")
    );
    assert!(page.contains(
        "<caption>Candidatures en cours d’instruction du dispositif HOP-DPI-Va2 (1)</caption>"
    ));
    assert!(page.contains(r#"<th scope="col">Numéro de référencement</th>"#));
    for n in [&s.valid, &s.suspended, &s.withdrawn] {
        assert!(
            page.contains(&format!(r#"<a href="/verification/{n}">{n}</a>"#)),
            "{n}"
        );
    }
    assert!(page.contains("Éditeur Alpha") && page.contains("DPI Alpha"));
    assert!(page.contains("Versions compatibles : v2.5.0"));
    assert!(page.contains(r#"<time datetime="2026-02-05">5 février 2026</time>"#));
    assert!(page.contains(r#"fr-badge--success">Valide</p>"#));
    assert!(page.contains(r#"fr-badge--warning">Suspendu</p>"#));
    assert!(
        page.contains("depuis le 10 mars 2026 : Audit de conformité : écarts majeurs à corriger")
    );
    assert!(page.contains(r#"fr-badge--error">Retiré</p>"#));
    assert!(page.contains("le 1er avril 2026 : Retrait à la demande de l’éditeur"));
    assert!(page.contains(SECRET_EDITOR) && page.contains(SECRET_SOLUTION_NAME));
    // The draft is not public; the labels of the form are there.
    assert!(!page.contains("Epsilon"));
    assert!(page.contains(r#"<label class="fr-label" for="q">"#));
    assert!(page.contains(r#"href="/registre/HOP-DPI-Va2/donnees.csv""#));
    assert!(page.contains(r#"href="/registre/HOP-DPI-Va2/donnees.json""#));
    assert!(page.contains(r#"href="/registre/dictionnaire""#));

    // The API says the same.
    let (status, list) = app.get_json("/api/v1/registry").await;
    assert_eq!(status, 200, "{list}");
    let hop = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["programme"] == CODE)
        .unwrap();
    assert_eq!(
        hop["counts"],
        json!({"candidates": 4, "under_instruction": 1, "referenced": 2, "suspended": 1, "withdrawn": 1})
    );
    assert_eq!(hop["summary"], "2 solutions référencées sur 4 candidatures");
    let (status, doc) = app.get_json("/api/v1/registry/HOP-DPI-Va2").await;
    assert_eq!(status, 200);
    assert_eq!(doc["total"], 4);
    let statuses: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["valid", "suspended", "withdrawn", "under-instruction"]
    );
    let first = &doc["entries"][0];
    assert_eq!(first["number"], s.valid.as_str());
    assert_eq!(first["technical_version"], "v2.4.1");
    assert_eq!(first["compatible_versions"], json!(["v2.5.0"]));
    assert_eq!(first["profiles"], json!(["Général"]));
    assert_eq!(first["referenced_on"], "2026-02-05");
    assert_eq!(first["editor"], "Éditeur Alpha");
    assert_eq!(
        first["verification_url"],
        format!("{}/verification/{}", app.url, s.valid)
    );
    assert_eq!(doc["entries"][1]["status_since"], "2026-03-10");
    assert_eq!(
        doc["entries"][1]["status_reason"],
        "Audit de conformité : écarts majeurs à corriger"
    );
    app.stop().await;
}
both!(registry_counts_and_tables, counts_and_tables);

async fn under_instruction_is_confidential(backend: Backend) {
    let (app, s) = start(backend).await;
    let secrets = [
        SECRET_VERSION,
        SECRET_SIRET,
        SECRET_EMAIL,
        s.secret_reference.as_str(),
    ];
    let check = |what: &str, text: &str, profile_too: bool| {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows « {secret} »: {text}");
        }
        if profile_too {
            assert!(!text.contains(SECRET_PROFILE), "{what} shows the profile");
        }
        assert!(
            text.contains(SECRET_EDITOR) && text.contains(SECRET_SOLUTION_NAME),
            "{what} lacks the editor or solution"
        );
    };
    let (_, page) = app.get_text("/registre/HOP-DPI-Va2").await;
    // The whole page: the secrets; the tables: the profile too (the form lists the
    // programme's profiles, which are public).
    check("page", &page, false);
    check("tables", tables(&page), true);
    let (_, index) = app.get_text("/registre").await;
    for secret in secrets {
        assert!(!index.contains(secret));
    }
    let (_, _, _, csv_body) = download(&app, "/registre/HOP-DPI-Va2/donnees.csv").await;
    check("CSV", &csv_body, true);
    let (_, _, _, json_body) = download(&app, "/registre/HOP-DPI-Va2/donnees.json").await;
    check("JSON", &json_body, true);
    let (_, api) = app.get_text("/api/v1/registry/HOP-DPI-Va2").await;
    check("API", &api, true);
    let (_, list) = app.get_text("/api/v1/registry").await;
    for secret in secrets {
        assert!(!list.contains(secret));
    }
    // The line under instruction: editor and solution, nothing else.
    let (_, doc) = app.get_json("/api/v1/registry/HOP-DPI-Va2").await;
    let line = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "under-instruction")
        .unwrap();
    assert_eq!(
        line,
        &json!({
            "programme": CODE, "status": "under-instruction", "status_label": "En cours d’instruction",
            "editor": SECRET_EDITOR, "solution": SECRET_SOLUTION_NAME, "technical_version": null,
            "compatible_versions": [], "profiles": [], "referenced_on": null, "number": null,
            "status_since": null, "status_reason": null, "verification_url": null
        })
    );
    // Searches do not reach what is not shown: its version, SIRET, profile.
    for q in [SECRET_VERSION, SECRET_SIRET, "zq42"] {
        let (status, doc) = app
            .get_json(&format!("/api/v1/registry/HOP-DPI-Va2?q={q}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(doc["total"], 0, "{q}");
    }
    let (_, doc) = app
        .get_json("/api/v1/registry/HOP-DPI-Va2?profil=Authentification%20PSC%20par%20CIBA")
        .await;
    assert_eq!(doc["total"], 0, "{doc}");
    let (_, page) = app
        .get_text("/registre/HOP-DPI-Va2?profil=Authentification%20PSC%20par%20CIBA")
        .await;
    assert!(!page.contains(SECRET_SOLUTION_NAME));
    app.stop().await;
}
both!(
    registry_under_instruction_is_confidential,
    under_instruction_is_confidential
);

async fn search_and_filters(backend: Backend) {
    let (app, s) = start(backend).await;
    let numbers = |doc: &Value| -> Vec<String> {
        doc["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["number"].as_str().map_or_else(
                    || format!("~{}", e["editor"].as_str().unwrap()),
                    str::to_string,
                )
            })
            .collect()
    };
    let api = |query: &'static str| {
        let app = &app;
        async move {
            let (status, doc) = app
                .get_json(&format!("/api/v1/registry/HOP-DPI-Va2?{query}"))
                .await;
            assert_eq!(status, 200, "{query}: {doc}");
            doc
        }
    };
    // Accent- and case-insensitive, on editor, solution or number.
    assert_eq!(numbers(&api("q=BETA").await), [s.suspended.as_str()]);
    assert_eq!(
        numbers(&api("q=gamma%20sante").await),
        [s.withdrawn.as_str()]
    );
    assert_eq!(numbers(&api("q=dpi%20alpha").await), [s.valid.as_str()]);
    assert_eq!(
        numbers(&api("q=hop-dpi-va2-2026-0003").await),
        [s.withdrawn.as_str()]
    );
    assert_eq!(
        numbers(&api("q=medical").await),
        [format!("~{SECRET_EDITOR}")]
    );
    assert_eq!(numbers(&api("q=nulle%20part").await), Vec::<String>::new());
    // Status.
    assert_eq!(numbers(&api("statut=reference").await), [s.valid.as_str()]);
    assert_eq!(
        numbers(&api("statut=suspendu").await),
        [s.suspended.as_str()]
    );
    assert_eq!(numbers(&api("statut=retire").await), [s.withdrawn.as_str()]);
    assert_eq!(
        numbers(&api("statut=en-instruction").await),
        [format!("~{SECRET_EDITOR}")]
    );
    assert_eq!(api("statut=tous").await["total"], 4);
    assert_eq!(api("statut=").await["total"], 4);
    // Profile: referenced solutions only; its name folded.
    assert_eq!(
        numbers(&api("profil=general").await),
        [s.valid.as_str(), s.suspended.as_str(), s.withdrawn.as_str()]
    );
    assert_eq!(
        numbers(&api("profil=G%C3%A9n%C3%A9ral&statut=reference&q=alpha").await),
        [s.valid.as_str()]
    );
    // Counts stay those of the whole registry.
    assert_eq!(api("q=beta").await["counts"]["candidates"], 4);

    // The page filters the same way.
    let (status, page) = app.get_text("/registre/HOP-DPI-Va2?q=beta").await;
    assert_eq!(status, 200);
    let t = tables(&page);
    assert!(t.contains("Bêta Dossier") && !t.contains("DPI Alpha") && !t.contains(SECRET_EDITOR));
    assert!(t.contains("Aucune candidature en cours d’instruction ne correspond à ces critères."));
    assert!(page.contains(r#"value="beta""#));
    assert!(page.contains(r#"href="/registre/HOP-DPI-Va2/donnees.csv?q=beta""#));
    let (_, page) = app
        .get_text("/registre/HOP-DPI-Va2?statut=en-instruction")
        .await;
    let t = tables(&page);
    assert!(!t.contains("Solutions référencées") && t.contains(SECRET_EDITOR));
    assert!(page.contains(r#"<option value="en-instruction" selected>"#));
    // Downloads too.
    let (status, _, _, body) =
        download(&app, "/registre/HOP-DPI-Va2/donnees.csv?statut=suspendu").await;
    assert_eq!(status, 200);
    let (_, rows) = read_csv(&body);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][9], s.suspended);

    // Bad values: 400 with the parameter named, everywhere; the page keeps the whole list.
    for (query, field) in [
        ("statut=valide", "statut"),
        ("statut=%3Cscript%3E", "statut"),
        ("profil=Imagerie", "profil"),
    ] {
        let (status, problem) = app
            .get_json(&format!("/api/v1/registry/HOP-DPI-Va2?{query}"))
            .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(problem["errors"][0]["field"], field);
        let (status, page) = app
            .get_text(&format!("/registre/HOP-DPI-Va2?{query}"))
            .await;
        assert_eq!(status, 400, "{query}");
        assert!(page.contains(r#"fr-alert--error"#));
        assert!(!page.contains("<script>"));
        assert!(tables(&page).contains("DPI Alpha"), "whole list shown");
        let (status, _, _, _) =
            download(&app, &format!("/registre/HOP-DPI-Va2/donnees.csv?{query}")).await;
        assert_eq!(status, 400);
        let (status, _, _, _) =
            download(&app, &format!("/registre/HOP-DPI-Va2/donnees.json?{query}")).await;
        assert_eq!(status, 400);
    }
    let (_, problem) = app
        .get_json("/api/v1/registry/HOP-DPI-Va2?statut=valide")
        .await;
    assert!(problem["detail"].as_str().unwrap().contains(
        "valeur inconnue « valide » : attendu tous, reference, suspendu, retire ou en-instruction"
    ));
    let (_, page) = app.get_text("/registre/HOP-DPI-Va2?profil=Imagerie").await;
    assert!(page.contains("profil inconnu « Imagerie »"), "{page}");
    let long = "a".repeat(201);
    let (status, problem) = app
        .get_json(&format!("/api/v1/registry/HOP-DPI-Va2?q={long}"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(problem["errors"][0]["field"], "q");
    // Unknown parameters are ignored.
    let (status, _) = app
        .get_json("/api/v1/registry/HOP-DPI-Va2?page=3&tri=nom")
        .await;
    assert_eq!(status, 200);
    app.stop().await;
}
both!(registry_search_and_filters, search_and_filters);

async fn open_data(backend: Backend) {
    let (app, s) = start(backend).await;
    let (status, ct, cd, body) = download(&app, "/registre/HOP-DPI-Va2/donnees.csv").await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(cd, r#"attachment; filename="registre-HOP-DPI-Va2.csv""#);
    assert!(!body.starts_with('\u{feff}'), "no BOM");
    assert!(body.contains("\r\n"), "CRLF line ends");
    let (header, rows) = read_csv(&body);
    assert_eq!(
        header,
        [
            "programme",
            "status",
            "status_label",
            "editor",
            "solution",
            "technical_version",
            "compatible_versions",
            "profiles",
            "referenced_on",
            "number",
            "status_since",
            "status_reason",
            "verification_url"
        ]
    );
    assert_eq!(rows.len(), 4);
    let valid = &rows[0];
    assert_eq!(
        valid[..11],
        [
            CODE,
            "valid",
            "Valide",
            "Éditeur Alpha",
            "DPI Alpha",
            "v2.4.1",
            "v2.5.0",
            "Général",
            "2026-02-05",
            s.valid.as_str(),
            "2026-02-05"
        ]
    );
    assert_eq!(valid[11], "");
    assert_eq!(valid[12], format!("{}/verification/{}", app.url, s.valid));
    assert_eq!(rows[1][1], "suspended");
    assert_eq!(rows[1][10], "2026-03-10");
    assert_eq!(
        rows[1][11],
        "Audit de conformité : écarts majeurs à corriger"
    );
    assert_eq!(rows[2][2], "Retiré");
    assert_eq!(rows[2][11], "Retrait à la demande de l’éditeur");
    let under = &rows[3];
    assert_eq!(
        under[..5],
        [
            CODE,
            "under-instruction",
            "En cours d’instruction",
            SECRET_EDITOR,
            SECRET_SOLUTION_NAME
        ]
    );
    assert!(under[5..].iter().all(String::is_empty), "{under:?}");

    let (status, ct, cd, body) = download(&app, "/registre/HOP-DPI-Va2/donnees.json").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"));
    assert_eq!(cd, r#"attachment; filename="registre-HOP-DPI-Va2.json""#);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["programme"], CODE);
    assert_eq!(doc["entries"].as_array().unwrap().len(), 4);
    let mut keys: Vec<&String> = doc["entries"][0].as_object().unwrap().keys().collect();
    keys.sort();
    let mut columns = header.clone();
    columns.sort();
    assert_eq!(keys, columns.iter().collect::<Vec<_>>());
    // An empty registry: the header alone.
    let (status, _, cd, body) = download(&app, "/registre/BIO-SGL-Va1/donnees.csv").await;
    assert_eq!(status, 200);
    assert_eq!(cd, r#"attachment; filename="registre-BIO-SGL-Va1.csv""#);
    let (header2, rows) = read_csv(&body);
    assert_eq!(header2, header);
    assert!(rows.is_empty());

    // The dictionary names every column.
    let (status, dict) = app.get_text("/registre/dictionnaire").await;
    assert_eq!(status, 200);
    for c in &header {
        assert!(dict.contains(&format!("<code>{c}</code>")), "{c}");
    }
    assert!(dict.contains("UTF-8 sans BOM"));
    assert!(dict.contains(r#"<th scope="col">Renseignée pour</th>"#));
    app.stop().await;
}
both!(registry_open_data, open_data);

async fn verification(backend: Backend) {
    let (app, s) = start(backend).await;

    // Valid: success, logo rights.
    let (status, page) = app.get_text(&format!("/verification/{}", s.valid)).await;
    assert_eq!(status, 200);
    assert!(page.contains("fr-alert--success"));
    assert!(page.contains("Référencement valide"));
    assert!(page.contains("Éditeur Alpha") && page.contains("DPI Alpha"));
    assert!(page.contains("v2.4.1") && page.contains("v2.5.0"));
    assert!(page.contains("HOP-DPI-Va2") && page.contains("Général"));
    assert!(page.contains("5 février 2026"));
    assert!(page.contains("Droit d’usage du logo « Référencé Ségur »"));
    assert!(
        page.contains(r#"<td id="droit-logo">oui, tant que la convention est en vigueur</td>"#)
    );
    let (status, v) = app
        .get_json(&format!("/api/v1/verification/{}", s.valid))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({
            "number": s.valid, "status": "valid", "status_label": "Valide", "since": "2026-02-05",
            "reason": null, "programme": CODE,
            "programme_title": "Dossier patient informatisé (DPI) des établissements de santé — vague 2",
            "editor": "Éditeur Alpha", "solution": "DPI Alpha", "technical_version": "v2.4.1",
            "compatible_versions": ["v2.5.0"], "profiles": ["Général"], "referenced_on": "2026-02-05",
            "logo_rights": true
        })
    );

    // Suspended: a warning with its date and reason; no logo.
    let (status, page) = app
        .get_text(&format!("/verification/{}", s.suspended))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("fr-alert--warning"));
    assert!(page.contains("Référencement suspendu"));
    assert!(page.contains(
        "suspendu depuis le 10 mars 2026. Motif : Audit de conformité : écarts majeurs à corriger"
    ));
    assert!(page.contains(r#"<td id="droit-logo">non</td>"#));
    let (_, v) = app
        .get_json(&format!("/api/v1/verification/{}", s.suspended))
        .await;
    assert_eq!(v["status"], "suspended");
    assert_eq!(v["since"], "2026-03-10");
    assert_eq!(v["logo_rights"], false);

    // Withdrawn: an error with its date and reason; no logo.
    let (status, page) = app
        .get_text(&format!("/verification/{}", s.withdrawn))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("fr-alert--error"));
    assert!(page.contains("retiré le 1er avril 2026. Motif : Retrait à la demande de l’éditeur"));
    assert!(page.contains(r#"<td id="droit-logo">non</td>"#));
    let (_, v) = app
        .get_json(&format!("/api/v1/verification/{}", s.withdrawn))
        .await;
    assert_eq!(v["status"], "withdrawn");
    assert_eq!(v["reason"], "Retrait à la demande de l’éditeur");
    assert_eq!(v["logo_rights"], false);

    // One digit changed: altered, 422.
    let altered = s.valid.replace("-0001-", "-0007-");
    let (status, page) = app.get_text(&format!("/verification/{altered}")).await;
    assert_eq!(status, 422);
    assert!(page.contains("fr-alert--error") && page.contains("Numéro erroné ou altéré"));
    assert!(page.contains("le numéro est erroné ou a été altéré"));
    assert!(!page.contains("Éditeur Alpha"));
    let (status, problem) = app
        .get_json(&format!("/api/v1/verification/{altered}"))
        .await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"].as_str().unwrap().contains(
            "la clé de contrôle ne correspond pas : le numéro est erroné ou a été altéré"
        ),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["field"], "number");

    // Well-formed with right check digits but never issued: 404.
    let forged = issue(CODE, 2026, 4242);
    let (status, page) = app.get_text(&format!("/verification/{forged}")).await;
    assert_eq!(status, 404);
    assert!(page.contains("Numéro inconnu") && page.contains("fr-alert--error"));
    let (status, problem) = app
        .get_json(&format!("/api/v1/verification/{forged}"))
        .await;
    assert_eq!(status, 404);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("aucun référencement")
    );
    // Another programme's number, never issued: 404 too.
    let (status, _) = app
        .get_json(&format!(
            "/api/v1/verification/{}",
            issue("XYZ-Va1", 2026, 1)
        ))
        .await;
    assert_eq!(status, 404);

    // Malformed and hostile inputs: 422, nothing echoed unescaped.
    for raw in ["abc", "HOP-DPI-Va2-2026-1-00", "%3Cscript%3E"] {
        let (status, page) = app.get_text(&format!("/verification/{raw}")).await;
        assert_eq!(status, 422, "{raw}");
        assert!(page.contains("Ce n’est pas un numéro de référencement"));
        assert!(!page.contains("<script>"));
        let (status, _) = app.get_json(&format!("/api/v1/verification/{raw}")).await;
        assert_eq!(status, 422, "{raw}");
    }

    // The form, and the query form of the same checks.
    let (status, form) = app.get_text("/verification").await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"<label class="fr-label" for="numero">Numéro de référencement"#));
    assert!(!form.contains("fr-alert"));
    let (status, page) = app
        .get_text(&format!("/verification?numero=%20{}%20", s.valid))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Référencement valide"));
    let (status, _) = app
        .get_text(&format!("/verification?numero={altered}"))
        .await;
    assert_eq!(status, 422);
    // The programme part typed in another case is the same number.
    let (status, v) = app
        .get_json(&format!("/api/v1/verification/{}", s.valid.to_lowercase()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["number"], s.valid.as_str());
    app.stop().await;
}
both!(registry_verification, verification);

async fn unknown_programme_and_routes(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (status, page) = app.get_text("/registre/NOPE-Va1").await;
    assert_eq!(status, 404);
    assert!(page.contains("Aucun dispositif « NOPE-Va1 »."));
    assert!(page.contains("Erreur 404"));
    for path in [
        "/registre/NOPE-Va1/donnees.csv",
        "/registre/NOPE-Va1/donnees.json",
    ] {
        let (status, _) = app.get_text(path).await;
        assert_eq!(status, 404, "{path}");
    }
    let r = app.get("/api/v1/registry/NOPE-Va1").await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    // The registry's API routes are not shadowed by the API's fallback, which still answers
    // elsewhere.
    let (status, list) = app.get_json("/api/v1/registry").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    let (status, doc) = app.get_json("/api/v1/registry/BIO-SGL-Va1").await;
    assert_eq!(status, 200);
    assert_eq!(doc["total"], 0);
    assert_eq!(doc["summary"], "0 solution référencée sur 0 candidature");
    let (status, problem) = app.get_json("/api/v1/registry-nope").await;
    assert_eq!(status, 404);
    assert_eq!(problem["status"], 404);
    // An empty registry's page.
    let (status, page) = app.get_text("/registre/BIO-SGL-Va1").await;
    assert_eq!(status, 200);
    assert!(page.contains("Aucune solution n’est encore référencée pour ce dispositif."));
    // The OpenAPI document describes the routes.
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    for p in ["/registry", "/registry/{code}", "/verification/{number}"] {
        assert!(doc["paths"][p]["get"].is_object(), "{p}");
    }
    assert!(doc["components"]["schemas"]["Verification"].is_object());
    assert!(doc["components"]["schemas"]["RegistryLine"].is_object());
    app.stop().await;
}
both!(
    registry_unknown_programme_and_routes,
    unknown_programme_and_routes
);
