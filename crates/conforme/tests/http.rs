//! The server over HTTP, on SQLite and PostgreSQL: catalogue API, pages, clock, errors.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Utc};
use common::{BUNDLED_REM, Backend, spawn_app};
use conforme::ClockOptions;
use conforme_domain::rem::Rem;
use conforme_domain::text::fold_for_search;
use serde_json::Value;

const REM: &str = "/api/v1/programmes/HOP-DPI-Va2/rem/prepublication-2023";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn one_minute_before_date_2bis() -> ClockOptions {
    ClockOptions {
        now: Some(at("2026-03-31T11:59:00+02:00")),
        control: false,
    }
}

/// The bundled REM read straight from its workbook: the oracle the API is checked against.
fn bundled() -> Rem {
    conforme_rem::import_xlsx(BUNDLED_REM, "bundled.xlsx")
        .unwrap()
        .rem
}

async fn catalogue_api(backend: Backend) {
    let app = spawn_app(backend, one_minute_before_date_2bis()).await;

    let (status, health) = app.get_json("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    let (status, list) = app.get_json("/api/v1/programmes").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    let codes: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["HOP-DPI-Va2", "BIO-SGL-Va1", "MS2-DUI-PDE-Va1-SF"]);

    let (status, hop) = app.get_json("/api/v1/programmes/HOP-DPI-Va2").await;
    assert_eq!(status, 200);
    assert_eq!(hop["calendar"].as_array().unwrap().len(), 8);
    let date_2bis = &hop["calendar"][3];
    assert_eq!(date_2bis["label"], "Date 2bis");
    assert_eq!(date_2bis["at"], "2026-03-31T10:00:00Z");
    assert_eq!(hop["phase"]["next"]["key"], "date-2bis");
    let remaining = hop["phase"]["remaining_seconds"].as_i64().unwrap();
    assert!((50..=60).contains(&remaining), "{remaining}");
    assert_eq!(hop["profiles"][0]["name"], "Général");
    assert_eq!(hop["profiles"][0]["mandatory"], true);
    assert_eq!(hop["rem_versions"][0]["requirement_count"], 146);

    let (_, bio) = app.get_json("/api/v1/programmes/BIO-SGL-Va1").await;
    assert_eq!(
        bio["at_least_one_of"][0],
        serde_json::json!(["Référentiel d'identités", "Esclave de l'identité"])
    );
    assert_eq!(bio["lift_reservations_weeks"], 4);
    assert_eq!(bio["phase"]["current"], "Dispositif clos");
    let (_, pde) = app.get_json("/api/v1/programmes/MS2-DUI-PDE-Va1-SF").await;
    assert_eq!(pde["phase"]["permanent"], true);
    assert_eq!(pde["financing"], false);

    let (status, versions) = app.get_json("/api/v1/programmes/HOP-DPI-Va2/rem").await;
    assert_eq!(status, 200);
    assert_eq!(versions["total"], 1);
    assert_eq!(versions["items"][0]["label"], "prepublication-2023");
    let (_, none) = app.get_json("/api/v1/programmes/BIO-SGL-Va1/rem").await;
    assert_eq!(none, serde_json::json!({"items": [], "total": 0}));

    app.stop().await;
}
both!(catalogue, catalogue_api);

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

async fn requirement_list(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let oracle = bundled();

    let (status, all) = app
        .get_json(&format!("{REM}/requirements?per_page=100"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 146);
    assert_eq!(all["per_page"], 100);
    let (_, page2) = app
        .get_json(&format!("{REM}/requirements?per_page=100&page=2"))
        .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 46);
    let mut listed = ids(&all);
    listed.extend(ids(&page2));
    let expected: Vec<String> = oracle
        .requirements
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(listed, expected, "every requirement, in REM order");

    // Filters agree with the workbook.
    for (param, value, count) in [
        (
            "perimetre",
            "Vague 1",
            oracle
                .requirements
                .iter()
                .filter(|r| r.perimetre == "Vague 1")
                .count(),
        ),
        (
            "profil",
            "IAM",
            oracle
                .requirements
                .iter()
                .filter(|r| r.profil == "IAM")
                .count(),
        ),
        (
            "chapitre",
            "Gestion de l'INS",
            oracle
                .requirements
                .iter()
                .filter(|r| r.chapitre == "Gestion de l'INS")
                .count(),
        ),
        (
            "nature",
            "preconisation",
            oracle
                .requirements
                .iter()
                .filter(|r| r.kind().as_str() == "preconisation")
                .count(),
        ),
    ] {
        let q = format!(
            "{REM}/requirements?{param}={}&per_page=100",
            urlencode(value)
        );
        let (status, v) = app.get_json(&q).await;
        assert_eq!(status, 200, "{q}");
        assert!(count > 0, "{param}={value} selects something");
        assert_eq!(
            v["total"].as_u64().unwrap() as usize,
            count,
            "{param}={value}"
        );
    }

    // Search: accent- and case-insensitive, every word required, over scenarios and proofs too.
    let matching = |words: &[&str]| {
        oracle
            .requirements
            .iter()
            .filter(|r| {
                let text = r.search_text();
                words.iter().all(|w| text.contains(&fold_for_search(w)))
            })
            .count()
    };
    let identite = matching(&["identité"]);
    assert!(identite > 0 && identite < 146);
    for q in ["identité", "IDENTITE", "Identite", "  identité  "] {
        let (_, v) = app
            .get_json(&format!("{REM}/requirements?q={}", urlencode(q)))
            .await;
        assert_eq!(v["total"].as_u64().unwrap() as usize, identite, "q={q}");
    }
    let both_words = matching(&["identité", "qualifiée"]);
    let (_, v) = app
        .get_json(&format!(
            "{REM}/requirements?q={}",
            urlencode("qualifiee IDENTITÉ")
        ))
        .await;
    assert_eq!(v["total"].as_u64().unwrap() as usize, both_words);
    assert!(both_words < identite);
    // A word found only in a proof text.
    let (_, v) = app.get_json(&format!("{REM}/requirements?q=gazelle")).await;
    assert_eq!(
        v["total"].as_u64().unwrap() as usize,
        matching(&["gazelle"])
    );
    assert!(v["total"].as_u64().unwrap() > 0);
    // LIKE wildcards are searched literally.
    let (_, v) = app.get_json(&format!("{REM}/requirements?q=%25")).await;
    assert_eq!(v["total"].as_u64().unwrap() as usize, matching(&["%"]));
    assert!(matching(&["%"]) < 146);
    let (_, v) = app
        .get_json(&format!("{REM}/requirements?q=%25zz%25"))
        .await;
    assert_eq!(v["total"], 0);
    let (_, v) = app.get_json(&format!("{REM}/requirements?q=_")).await;
    assert_eq!(v["total"].as_u64().unwrap() as usize, matching(&["_"]));

    // Combined filter and search.
    let combined = oracle
        .requirements
        .iter()
        .filter(|r| r.perimetre == "Vague 2" && r.search_text().contains("dmp"))
        .count();
    let (_, v) = app
        .get_json(&format!("{REM}/requirements?perimetre=Vague%202&q=DMP"))
        .await;
    assert_eq!(v["total"].as_u64().unwrap() as usize, combined);

    app.stop().await;
}
both!(requirements, requirement_list);

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn requirement_detail_and_errors(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let oracle = bundled();

    let (status, r) = app
        .get_json(&format!("{REM}/requirements/SC.CDA/DD.05"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(r["id"], "SC.CDA/DD.05");
    let expected = oracle
        .requirements
        .iter()
        .find(|r| r.id.as_str() == "SC.CDA/DD.05")
        .unwrap();
    assert_eq!(
        r["scenarios"].as_array().unwrap().len(),
        expected.scenarios().len()
    );
    assert_eq!(r["exigence"], expected.exigence.as_str());
    // The slash may also come percent-encoded.
    let (status, r2) = app
        .get_json(&format!("{REM}/requirements/SC.CDA%2FDD.05"))
        .await;
    assert_eq!((status, &r2["id"]), (200, &r["id"]));
    // A requirement without any scenario still answers.
    if let Some(bare) = oracle
        .requirements
        .iter()
        .find(|r| r.scenarios().is_empty())
    {
        let (status, v) = app
            .get_json(&format!("{REM}/requirements/{}", bare.id))
            .await;
        assert_eq!(status, 200);
        assert_eq!(v["scenarios"], serde_json::json!([]));
    }

    for (path, status, field) in [
        (format!("{REM}/requirements/SC.NOPE.01"), 404, None),
        ("/api/v1/programmes/NOPE".to_string(), 404, None),
        (
            "/api/v1/programmes/HOP-DPI-Va2/rem/v9/requirements".to_string(),
            404,
            None,
        ),
        ("/api/v1/nothing-here".to_string(), 404, None),
        (
            format!("{REM}/requirements?per_page=0"),
            400,
            Some("per_page"),
        ),
        (
            format!("{REM}/requirements?per_page=101"),
            400,
            Some("per_page"),
        ),
        (format!("{REM}/requirements?page=-1"), 400, Some("page")),
        (format!("{REM}/requirements?page=abc"), 400, Some("page")),
        (
            format!("{REM}/requirements?nature=autre"),
            400,
            Some("nature"),
        ),
        (
            format!("{REM}/requirements?q={}", "a".repeat(201)),
            400,
            Some("q"),
        ),
        (format!("{REM}/requirements?q=a%00b"), 400, Some("q")),
    ] {
        let resp = app.get(&path).await;
        assert_eq!(resp.status().as_u16(), status, "{path}");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{path}"
        );
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["status"], status);
        assert!(!problem["detail"].as_str().unwrap().is_empty());
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{path}");
        }
    }
    // A page past the end is empty, with the total.
    let (status, v) = app.get_json(&format!("{REM}/requirements?page=99")).await;
    assert_eq!(
        (
            status,
            v["total"].as_i64(),
            v["items"].as_array().map(Vec::len)
        ),
        (200, Some(146), Some(0))
    );

    app.stop().await;
}
both!(requirement_detail, requirement_detail_and_errors);

async fn clock_control(backend: Backend) {
    // Without the flag the clock cannot be moved.
    let app = spawn_app(backend, one_minute_before_date_2bis()).await;
    let resp = app
        .client
        .put(format!("{}/api/v1/_clock", app.url))
        .json(&serde_json::json!({"now": "2026-07-01T00:00:00+02:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    app.stop().await;

    let app = spawn_app(
        backend,
        ClockOptions {
            now: Some(at("2026-03-31T11:59:00+02:00")),
            control: true,
        },
    )
    .await;
    let put = |body: Value| {
        let req = app
            .client
            .put(format!("{}/api/v1/_clock", app.url))
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let resp = put(serde_json::json!({"now": "2026-03-31T12:00:00+02:00"})).await;
    assert_eq!(resp.status().as_u16(), 200);
    let (_, hop) = app.get_json("/api/v1/programmes/HOP-DPI-Va2").await;
    assert_eq!(hop["phase"]["since"]["key"], "date-2bis");
    assert_eq!(hop["phase"]["next"]["key"], "date-3");
    assert_eq!(
        hop["phase"]["current"],
        "Instruction et échanges sur les dossiers de preuves"
    );
    for bad in [
        serde_json::json!({"now": "31/03/2026"}),
        serde_json::json!({"then": 1}),
    ] {
        let resp = put(bad).await;
        assert_eq!(resp.status().as_u16(), 400);
    }
    // The clock did not move on bad input.
    let (_, hop) = app.get_json("/api/v1/programmes/HOP-DPI-Va2").await;
    assert_eq!(hop["phase"]["since"]["key"], "date-2bis");
    app.stop().await;
}
both!(clock, clock_control);

async fn pages(backend: Backend) {
    let app = spawn_app(backend, one_minute_before_date_2bis()).await;
    let (status, home) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("HOP-DPI-Va2")
            && home.contains("BIO-SGL-Va1")
            && home.contains("MS2-DUI-PDE-Va1-SF")
    );
    assert!(home.contains("/static/dsfr/dsfr.min.css"));
    let (status, list) = app.get_text("/dispositifs").await;
    assert_eq!(status, 200);
    assert!(list.contains("Ouvert en permanence"));

    let (status, hop) = app.get_text("/dispositifs/HOP-DPI-Va2").await;
    assert_eq!(status, 200);
    assert!(hop.contains("Date 2bis"));
    assert!(hop.contains("mardi 31 mars 2026 à\u{a0}12\u{a0}h\u{a0}00"));
    assert!(hop.contains("data-countdown-to=\"2026-03-31T10:00:00+00:00\""));
    assert!(
        hop.contains("Dernière période de dépôt d&#x27;un dossier complet de preuves")
            || hop.contains("Dernière période de dépôt d&#39;un dossier complet de preuves")
    );

    let (status, rem) = app
        .get_text("/dispositifs/HOP-DPI-Va2/rem/prepublication-2023")
        .await;
    assert_eq!(status, 200);
    assert!(rem.contains("<span id=\"resultats-total\">146</span>"));
    assert_eq!(rem.matches("data-exigence=").count(), 20);
    let (_, filtered) = app
        .get_text("/dispositifs/HOP-DPI-Va2/rem/prepublication-2023?profil=IAM&q=ACCES")
        .await;
    let api_total = app
        .get_json(&format!("{REM}/requirements?profil=IAM&q=ACCES"))
        .await
        .1["total"]
        .as_i64()
        .unwrap();
    assert!(filtered.contains(&format!("<span id=\"resultats-total\">{api_total}</span>")));
    // A bad parameter is explained, and the form keeps what was typed.
    let (status, bad) = app
        .get_text("/dispositifs/HOP-DPI-Va2/rem/prepublication-2023?q=dmp&per_page=5000")
        .await;
    assert_eq!(status, 400);
    assert!(bad.contains("fr-alert--error") && bad.contains("per_page"));
    assert!(bad.contains("value=\"dmp\""));
    // Hostile input is escaped.
    let (_, hostile) = app.get_text("/dispositifs/HOP-DPI-Va2/rem/prepublication-2023?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!hostile.contains("<script>alert(1)</script>"));

    let (status, req) = app
        .get_text("/dispositifs/HOP-DPI-Va2/rem/prepublication-2023/exigences/SC.CDA/DD.05")
        .await;
    assert_eq!(status, 200);
    assert!(req.contains("<h1>SC.CDA/DD.05</h1>"));

    for missing in [
        "/dispositifs/NOPE",
        "/dispositifs/HOP-DPI-Va2/rem/v9",
        "/nothing",
        "/dispositifs/HOP-DPI-Va2/rem/prepublication-2023/exigences/X.1",
    ] {
        let (status, body) = app.get_text(missing).await;
        assert_eq!(status, 404, "{missing}");
        assert!(body.contains("Ressource introuvable"), "{missing}");
    }

    let css = app.get("/static/dsfr/dsfr.min.css").await;
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );

    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/programmes/{code}/rem/{version}/requirements"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    app.stop().await;
}
both!(html_pages, pages);

async fn export_round_trip(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let resp = app
        .get("/dispositifs/HOP-DPI-Va2/rem/prepublication-2023/export.xlsx")
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap();
    let exported = conforme_rem::import_xlsx(&bytes, "export.xlsx")
        .unwrap()
        .rem;
    assert_eq!(
        exported,
        bundled(),
        "the stored version exports to the identical model"
    );
    app.stop().await;
}
both!(export, export_round_trip);

async fn journal_records_the_bundle(backend: Backend) {
    let app = spawn_app(backend, ClockOptions::default()).await;
    let (count, problems) = app.store.verify_journal().await.unwrap();
    // Three programmes loaded and one REM version imported.
    assert_eq!(count, 4);
    assert!(problems.is_empty());
    let version = app
        .store
        .rem_version("HOP-DPI-Va2", "prepublication-2023")
        .await
        .unwrap()
        .unwrap();
    let entries = app
        .store
        .journal_for("rem_version", &version.id)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "rem.imported");
    app.stop().await;
}
both!(journal, journal_records_the_bundle);
