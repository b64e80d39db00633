//! Attachments over HTTP, on SQLite and PostgreSQL: a dossier piece uploaded through the
//! dossier page and through the API, streamed to the file store with its SHA-256; refused
//! files (too large, empty, wrong type, no CSRF token, cut off midway) leaving nothing behind;
//! downloads reserved to the organisation and the agency; real pieces making the dossier
//! complete.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Backend, Browser, TestApp, controlled, drafted, editor, spawn_app, token, version};
use conforme_domain::account::Role;
use conforme_domain::candidature::CandidatureState;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The size limit of a dossier piece (`conforme_web::attachments::MAX_PIECE_BYTES`).
const LIMIT: u64 = 50 * 1024 * 1024;
const PDF: &[u8] =
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n";
/// The first 64 bytes of an x86-64 executable (its ELF header).
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0\
\x40\x10\x40\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40\0\x38\0\
\x01\0\x40\0\0\0\0\0";

/// Every file under the store's root (the harness keeps it next to the mail folder).
fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = vec![];
    walk(&app.mail_dir.parent().unwrap().join("files"), &mut out);
    out.sort();
    out
}

/// How many journal entries there are (an attachment record always writes one).
async fn journal_len(app: &TestApp) -> u64 {
    app.store.verify_journal().await.unwrap().0
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Posts the upload form of the pages: `csrf` (when given), `field`, then `file`.
async fn upload(
    b: &Browser,
    id: &str,
    csrf: Option<&str>,
    field: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, String, Option<String>) {
    let mut form = reqwest::multipart::Form::new();
    if let Some(csrf) = csrf {
        form = form.text("csrf", csrf.to_string());
    }
    form = form.text("field", field.to_string()).part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("application/octet-stream")
            .unwrap(),
    );
    send_form(b, id, form).await
}

async fn send_form(
    b: &Browser,
    id: &str,
    form: reqwest::multipart::Form,
) -> (u16, String, Option<String>) {
    let r = b
        .client
        .post(format!("{}/candidatures/{id}/pieces", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, r.text().await.unwrap(), location)
}

/// A second session of a user, for requests written by hand: (cookie token, CSRF token).
async fn raw_session(app: &TestApp, user_id: &str) -> (String, String) {
    let now = Utc::now();
    let token = conforme_web::secrets::random_token().unwrap();
    let csrf = conforme_web::secrets::random_token().unwrap();
    let hash = conforme_web::secrets::sha256_hex(&token);
    app.store
        .create_session(
            &hash,
            user_id,
            &csrf,
            now,
            now + chrono::Duration::hours(12),
        )
        .await
        .unwrap();
    app.store.mark_second_factor(&hash, now).await.unwrap();
    (token, csrf)
}

/// A request written on a bare connection, so that its body can be generated as it goes (no
/// 50 MiB buffer), declared longer than sent, or cut off.
struct Raw {
    /// Request line and headers, without the `Content-Length`, `Host` and `Connection` ones.
    head: String,
    /// Before the file's bytes.
    before: Vec<u8>,
    /// The file: `file_head`, then padding up to `file_len` bytes.
    file_head: Vec<u8>,
    file_len: u64,
    /// After the file's bytes.
    after: Vec<u8>,
    /// Stop after this many bytes of the file and close the connection.
    cut_after: Option<u64>,
    /// How long to keep the connection open before cutting it.
    hold: Duration,
    /// Send the headers only (the server is expected to answer before the body).
    headers_only: bool,
    /// Send the body in chunks, its length undeclared.
    chunked: bool,
}

impl Raw {
    /// The upload form of the pages, as a browser sends it.
    fn form(
        id: &str,
        cookie: &str,
        csrf: &str,
        field: &str,
        file_head: &[u8],
        file_len: u64,
    ) -> Raw {
        let b = "----conforme-test-boundary";
        Raw {
            head: format!(
                "POST /candidatures/{id}/pieces HTTP/1.1\r\nCookie: conforme_session={cookie}\r\n\
                 Content-Type: multipart/form-data; boundary={b}\r\n"
            ),
            before: format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --{b}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\n{field}\r\n\
                 --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"preuve.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n"
            )
            .into_bytes(),
            file_head: file_head.to_vec(),
            file_len,
            after: format!("\r\n--{b}--\r\n").into_bytes(),
            cut_after: None,
            hold: Duration::ZERO,
            headers_only: false,
            chunked: false,
        }
    }

    /// Sends it; the status and body of the answer, if one came.
    fn send(
        self,
        base: &str,
    ) -> impl std::future::Future<Output = Option<(u16, String)>> + 'static {
        let addr = base.trim_start_matches("http://").to_string();
        async move {
            tokio::task::spawn_blocking(move || self.send_blocking(&addr))
                .await
                .unwrap()
        }
    }

    fn send_blocking(self, addr: &str) -> Option<(u16, String)> {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let total = self.before.len() as u64 + self.file_len + self.after.len() as u64;
        let length = if self.chunked {
            "Transfer-Encoding: chunked".to_string()
        } else {
            format!("Content-Length: {total}")
        };
        let head = format!(
            "{}Host: {addr}\r\n{length}\r\nConnection: close\r\n\r\n",
            self.head
        );
        let chunked = self.chunked;
        let put = |s: &mut std::net::TcpStream, data: &[u8]| -> std::io::Result<()> {
            if data.is_empty() {
                return Ok(());
            }
            if chunked {
                s.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
                s.write_all(data)?;
                s.write_all(b"\r\n")
            } else {
                s.write_all(data)
            }
        };
        // Write errors are the server having answered early: its answer is read below.
        let _ = (|| -> std::io::Result<()> {
            s.write_all(head.as_bytes())?;
            if self.headers_only {
                return Ok(());
            }
            put(&mut s, &self.before)?;
            let until = self.cut_after.unwrap_or(self.file_len);
            let mut chunk = vec![b'a'; 64 * 1024];
            let mut sent: u64 = 0;
            while sent < until {
                let n = (until - sent).min(chunk.len() as u64) as usize;
                if sent == 0 {
                    chunk[..self.file_head.len()].copy_from_slice(&self.file_head);
                } else if sent as usize == chunk.len() {
                    chunk[..self.file_head.len()].fill(b'a');
                }
                put(&mut s, &chunk[..n])?;
                sent += n as u64;
            }
            if self.cut_after.is_none() {
                put(&mut s, &self.after)?;
                if chunked {
                    s.write_all(b"0\r\n\r\n")?;
                }
            }
            Ok(())
        })();
        if self.cut_after.is_some() {
            std::thread::sleep(self.hold);
            s.flush().ok();
            s.shutdown(std::net::Shutdown::Both).ok();
            return None;
        }
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).to_string();
        let status = answer.split(' ').nth(1)?.parse().ok()?;
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Some((status, body))
    }
}

/// Waits until the store holds no file (an interrupted upload is cleaned up asynchronously),
/// then makes sure it stays so.
async fn assert_store_empty(app: &TestApp) {
    for _ in 0..100 {
        if stored_files(app).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored_files(app), Vec::<PathBuf>::new());
}

// ---------------------------------------------------------------------------------------------

async fn pieces_through_pages(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let (b, _) = editor(&app, "paul@editeur-b.fr", "Éditeur B", "44201234500017").await;
    let instructor = app
        .browser_for("instructeur@ans.fr", Role::Instructor, None, false)
        .await;
    let id = drafted(&app, &a).await;

    // The dossier page offers an upload form per piece, its CSRF token before the file.
    let (status, page) = a.get(&format!("/candidatures/{id}/dossier")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Manquantes"), "{page}");
    let form_at = page
        .find(&format!("action=\"/candidatures/{id}/pieces\""))
        .expect("an upload form");
    let form = &page[form_at..];
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(form.find("name=\"csrf\"").unwrap() < form.find("name=\"file\"").unwrap());
    // Not inside the dossier form.
    assert!(page.find("</form>").unwrap() < form_at);

    // A PDF for the CNDA proof.
    let pdf = [PDF, &vec![b'x'; 300_000][..]].concat();
    let (status, body, location) = upload(
        &a,
        &id,
        Some(&a.csrf),
        "cnda_application_proof",
        "C:\\Mes documents\\Preuve CNDA.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(format!("/candidatures/{id}/dossier#pieces").as_str())
    );
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    let attachment_id = c.dossier.cnda_application_proof.clone().unwrap();
    let att = app.store.attachment(&attachment_id).await.unwrap().unwrap();
    assert_eq!(att.sha256, sha256_hex(&pdf));
    assert_eq!(att.size_bytes, pdf.len() as i64);
    assert_eq!(att.content_type, "application/pdf");
    assert_eq!(att.file_name, "Preuve CNDA.pdf");
    assert_eq!(att.candidature_id.as_deref(), Some(id.as_str()));
    let files = stored_files(&app);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), pdf);
    // Under a random key, not the file's name.
    assert!(!files[0].to_string_lossy().contains("Preuve"));
    assert_eq!(
        app.store
            .journal_for("attachment", &attachment_id)
            .await
            .unwrap()[0]
            .action,
        "attachment.uploaded"
    );

    // Download: the same bytes, as an attachment.
    let r = a
        .client
        .get(format!("{}/pieces/{attachment_id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["content-length"], pdf.len().to_string().as_str());
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Preuve%20CNDA.pdf"),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());

    // The pages show it: name, size, short hash, link.
    let (_, page) = a.get(&format!("/candidatures/{id}/dossier")).await;
    assert!(page.contains("Preuve CNDA.pdf"), "{page}");
    assert!(page.contains("293 Ko"), "{page}");
    assert!(page.contains(&att.sha256[..12]));
    assert!(page.contains(&format!("href=\"/pieces/{attachment_id}\"")));
    let (_, page) = a.get(&format!("/candidatures/{id}")).await;
    assert!(
        page.contains(&format!("href=\"/pieces/{attachment_id}\"")),
        "{page}"
    );
    assert!(
        page.contains("Preuve de la demande d&#x27;homologation CNDA")
            || page.contains("Preuve de la demande d&#39;homologation CNDA")
    );

    // The agency downloads it too.
    let r = instructor
        .client
        .get(format!("{}/pieces/{attachment_id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());

    // Another editor gets "not found", as for a guessed identifier; nobody may upload to
    // another organisation's candidature.
    for path in [
        format!("/pieces/{attachment_id}"),
        format!("/pieces/{}", uuid::Uuid::new_v4()),
    ] {
        let (status, body) = b.get(&path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("Preuve CNDA"));
    }
    let journal = journal_len(&app).await;
    let (status, _, _) = upload(
        &b,
        &id,
        Some(&b.csrf),
        "documentation",
        "x.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = upload(
        &instructor,
        &id,
        Some(&instructor.csrf),
        "documentation",
        "x.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(stored_files(&app).len(), 1);
    assert_eq!(journal_len(&app).await, journal);
    // Anonymous visitors are sent to the login page.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anon
        .get(format!("{}/pieces/{attachment_id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/connexion?suite=")
    );

    // The documentation, as text with a name to clean; then the dossier is complete.
    let text = "Fonctions minimales : dossier patient, prescriptions, INS.\n".repeat(50);
    let (status, body, _) = upload(
        &a,
        &id,
        Some(&a.csrf),
        "documentation",
        "../../Documentation\u{202e}fdp.txt",
        text.clone().into_bytes(),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    let doc = app
        .store
        .attachment(c.dossier.documentation.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.file_name, "Documentationfdp.txt");
    assert_eq!(doc.content_type, "text/plain");
    let (_, page) = a.get(&format!("/candidatures/{id}/dossier")).await;
    assert!(page.contains("Fournies."), "{page}");
    let r = a
        .client
        .get(format!("{}/pieces/{}", app.url, doc.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), text);

    // A new file replaces the piece; the earlier one stays on record.
    let (status, _, _) = upload(
        &a,
        &id,
        Some(&a.csrf),
        "cnda_application_proof",
        "Preuve CNDA v2.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 303);
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    assert_ne!(
        c.dossier.cnda_application_proof.as_deref(),
        Some(attachment_id.as_str())
    );
    assert!(
        app.store
            .attachment(&attachment_id)
            .await
            .unwrap()
            .is_some()
    );

    let (status, body, location) = a
        .post(
            &format!("/candidatures/{id}/depot"),
            &[("version", &version(&app, &id).await)],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(format!("/candidatures/{id}").as_str())
    );
    assert_eq!(
        app.store.candidature(&id).await.unwrap().unwrap().state,
        CandidatureState::Submitted
    );

    // Once submitted, the pieces no longer change and the form is gone.
    let (_, page) = a.get(&format!("/candidatures/{id}")).await;
    assert!(!page.contains(&format!("action=\"/candidatures/{id}/pieces\"")));
    let files = stored_files(&app).len();
    let (status, body, _) = upload(
        &a,
        &id,
        Some(&a.csrf),
        "documentation",
        "y.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("ne peut plus être modifié"), "{body}");
    assert_eq!(stored_files(&app).len(), files);
    app.stop().await;
}
both!(pieces, pieces_through_pages);

async fn refused_uploads(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let id = drafted(&app, &a).await;
    let journal = journal_len(&app).await;
    let untouched = |app: &TestApp| {
        let app_store = app.store.clone();
        let id = id.clone();
        async move {
            let c = app_store.candidature(&id).await.unwrap().unwrap();
            assert_eq!(c.dossier.cnda_application_proof, None);
            assert_eq!(c.dossier.documentation, None);
        }
    };

    // Empty, wrong type (an executable, an HTML page), no file: clear messages.
    for (name, bytes, message) in [
        ("vide.pdf", vec![], "Le fichier est vide."),
        (
            "outil.pdf",
            ELF.to_vec(),
            "(application/x-executable) n&#x27;est pas accepté",
        ),
        (
            "page.pdf",
            b"<!DOCTYPE html><html><body>x</body></html>".to_vec(),
            "(text/html)",
        ),
        ("", vec![], "Aucun fichier choisi"),
    ] {
        let (status, body, _) = upload(&a, &id, Some(&a.csrf), "documentation", name, bytes).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(
            body.contains(message) || body.contains(&message.replace("&#x27;", "&#39;")),
            "{name}: {body}"
        );
        // The dossier page again, its forms intact.
        assert!(body.contains(&format!("action=\"/candidatures/{id}/pieces\"")));
    }
    // An unknown piece.
    let (status, body, _) = upload(
        &a,
        &id,
        Some(&a.csrf),
        "commercial_name",
        "x.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("Pièce inconnue"), "{body}");
    // Without the CSRF token, with a wrong one, or with the token after the file: refused
    // before anything is stored.
    for csrf in [None, Some("0".repeat(64))] {
        let (status, _, _) = upload(
            &a,
            &id,
            csrf.as_deref(),
            "documentation",
            "x.pdf",
            PDF.to_vec(),
        )
        .await;
        assert_eq!(status, 403);
    }
    let late = reqwest::multipart::Form::new()
        .text("field", "documentation")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("x.pdf"),
        )
        .text("csrf", a.csrf.clone());
    let (status, _, _) = send_form(&a, &id, late).await;
    assert_eq!(status, 403);
    assert_store_empty(&app).await;
    assert_eq!(journal_len(&app).await, journal);
    untouched(&app).await;

    // Too large by one byte: refused when the limit is passed, nothing kept. Generated as it
    // is sent, on a bare connection.
    let (cookie, csrf) = raw_session(&app, &a.user.id).await;
    let (status, body) = Raw::form(&id, &cookie, &csrf, "documentation", PDF, LIMIT + 1)
        .send(&app.url)
        .await
        .expect("an answer");
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("dépasse la taille maximale de 50 Mo"),
        "{body}"
    );
    // Exactly the limit is accepted (the same path, as a control)…
    let (status, body) = Raw::form(&id, &cookie, &csrf, "documentation", PDF, LIMIT)
        .send(&app.url)
        .await
        .expect("an answer");
    assert_eq!(status, 303, "{body}");
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    let kept = app
        .store
        .attachment(c.dossier.documentation.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.size_bytes as u64, LIMIT);
    let files = stored_files(&app);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), LIMIT);
    let journal = journal_len(&app).await;
    // … and a body declared far too large is refused before it is read.
    let mut huge = Raw::form(
        &id,
        &cookie,
        &csrf,
        "cnda_application_proof",
        PDF,
        10 * LIMIT,
    );
    huge.headers_only = true;
    let (status, body) = huge.send(&app.url).await.expect("an answer");
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("50 Mo"), "{body}");

    // Cut off halfway, before and after the first 8 MiB part was written (that one is seen
    // in the store while the connection is held open): nothing left.
    for (sent, declared) in [(100_000, 1_000_000), (9 * 1024 * 1024, 20 * 1024 * 1024)] {
        let mut cut = Raw::form(&id, &cookie, &csrf, "cnda_application_proof", PDF, declared);
        cut.cut_after = Some(sent);
        cut.hold = Duration::from_millis(1500);
        let sending = tokio::spawn(cut.send(&app.url));
        let mut partial_seen = false;
        for _ in 0..60 {
            if stored_files(&app).len() > files.len() {
                partial_seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            partial_seen,
            sent > 8 * 1024 * 1024,
            "cut after {sent} bytes"
        );
        assert!(sending.await.unwrap().is_none());
        for _ in 0..100 {
            if stored_files(&app) == files {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(stored_files(&app), files, "cut after {sent} bytes");
    }
    assert_eq!(journal_len(&app).await, journal);
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    assert_eq!(c.dossier.cnda_application_proof, None);
    // The platform still works after that.
    let (status, body, _) = upload(
        &a,
        &id,
        Some(&a.csrf),
        "cnda_application_proof",
        "preuve.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    app.stop().await;
}
both!(refused, refused_uploads);

async fn attachments_by_api(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let (b, _) = editor(&app, "paul@editeur-b.fr", "Éditeur B", "44201234500017").await;
    let id = drafted(&app, &a).await;
    let write_only = token(&app, &a.user.id, &["candidatures:write"]).await;
    let read_only = token(&app, &a.user.id, &["candidatures:read"]).await;
    let token_b = token(
        &app,
        &b.user.id,
        &["candidatures:read", "candidatures:write"],
    )
    .await;
    let post = |path: String, tok: Option<&str>| {
        let r = app.client.post(format!("{}/api/v1{path}", app.url));
        match tok {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    };

    // Upload: the raw file as the body, its name from Content-Disposition.
    let pdf = [PDF, &vec![b'y'; 10_000][..]].concat();
    let r = post(
        format!("/candidatures/{id}/attachments?field=documentation"),
        Some(&write_only),
    )
    .header("content-type", "application/octet-stream")
    .header(
        "content-disposition",
        "attachment; filename=\"Presentation.pdf\"; filename*=UTF-8''Pr%C3%A9sentation.pdf",
    )
    .body(pdf.clone())
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["file_name"], "Présentation.pdf");
    assert_eq!(v["content_type"], "application/pdf");
    assert_eq!(v["size"], pdf.len() as u64);
    assert_eq!(v["sha256"], sha256_hex(&pdf));
    assert_eq!(v["field"], "documentation");
    let attachment_id = v["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/attachments/{attachment_id}"));
    let c = app.store.candidature(&id).await.unwrap().unwrap();
    assert_eq!(
        c.dossier.documentation.as_deref(),
        Some(attachment_id.as_str())
    );

    // Download with a read token.
    let r = app
        .client
        .get(format!("{}{location}", app.url))
        .bearer_auth(&read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        r.headers()["content-length"],
        pdf.len().to_string().as_str()
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''Pr%C3%A9sentation.pdf")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
    // Without a token, with the wrong scope, or another organisation's token.
    let r = app
        .client
        .get(format!("{}{location}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = app
        .client
        .get(format!("{}{location}", app.url))
        .bearer_auth(&write_only)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = app
        .client
        .get(format!("{}{location}", app.url))
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );

    let files = stored_files(&app);
    let journal = journal_len(&app).await;
    let refused = |status: u16, field: &'static str| {
        move |r: reqwest::Response| async move {
            assert_eq!(r.status().as_u16(), status);
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/problem+json")
            );
            let p: Value = r.json().await.unwrap();
            assert_eq!(p["status"], status);
            assert_eq!(p["errors"][0]["field"], field, "{p}");
            p
        }
    };
    // Empty, wrong type, unknown field.
    let r = post(
        format!("/candidatures/{id}/attachments?field=documentation&name=x.pdf"),
        Some(&write_only),
    )
    .body(Vec::<u8>::new())
    .send()
    .await
    .unwrap();
    let p = refused(422, "file")(r).await;
    assert!(p["detail"].as_str().unwrap().contains("vide"), "{p}");
    let r = post(
        format!("/candidatures/{id}/attachments?field=documentation&name=x.pdf"),
        Some(&write_only),
    )
    .body(ELF.to_vec())
    .send()
    .await
    .unwrap();
    let p = refused(422, "file")(r).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("application/x-executable"),
        "{p}"
    );
    let r = post(
        format!("/candidatures/{id}/attachments?field=logo"),
        Some(&write_only),
    )
    .body(PDF.to_vec())
    .send()
    .await
    .unwrap();
    refused(400, "field")(r).await;
    // Too large: refused on its declared length, before it is read.
    let mut huge = Raw {
        head: format!(
            "POST /api/v1/candidatures/{id}/attachments?field=documentation HTTP/1.1\r\n\
             Authorization: Bearer {write_only}\r\nContent-Type: application/pdf\r\n"
        ),
        before: vec![],
        file_head: PDF.to_vec(),
        file_len: LIMIT + 1,
        after: vec![],
        cut_after: None,
        hold: Duration::ZERO,
        headers_only: true,
        chunked: false,
    };
    let (status, body) = huge.send(&app.url).await.expect("an answer");
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"field\":\"file\""), "{body}");
    // And when it turns out too large while streaming (no length declared up front).
    huge = Raw {
        head: format!(
            "POST /api/v1/candidatures/{id}/attachments?field=documentation HTTP/1.1\r\n\
             Authorization: Bearer {write_only}\r\n"
        ),
        before: vec![],
        file_head: PDF.to_vec(),
        file_len: LIMIT + 1,
        after: vec![],
        cut_after: None,
        hold: Duration::ZERO,
        headers_only: false,
        chunked: true,
    };
    let (status, body) = huge.send(&app.url).await.expect("an answer");
    assert_eq!(status, 413, "{body}");
    // Without a token, with a read token, for another organisation's candidature.
    let r = post(
        format!("/candidatures/{id}/attachments?field=documentation"),
        None,
    )
    .body(PDF.to_vec())
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = post(
        format!("/candidatures/{id}/attachments?field=documentation"),
        Some(&read_only),
    )
    .body(PDF.to_vec())
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = post(
        format!("/candidatures/{id}/attachments?field=documentation"),
        Some(&token_b),
    )
    .body(PDF.to_vec())
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_store_unchanged(&app, &files).await;
    assert_eq!(journal_len(&app).await, journal);

    // The OpenAPI document describes both endpoints.
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/candidatures/{id}/attachments"]["post"].is_object());
    assert!(doc["paths"]["/attachments/{id}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["AttachmentView"].is_object());
    app.stop().await;
}
both!(api, attachments_by_api);

async fn assert_store_unchanged(app: &TestApp, files: &[PathBuf]) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stored_files(app), files);
}

async fn solidarity_mandates(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, org_a) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let (b, _) = editor(&app, "paul@editeur-b.fr", "Éditeur B", "44201234500017").await;
    let member = app
        .store
        .add_solidarity_member(
            &org_a,
            "Membre Solidaire SA",
            "13000940500023",
            None,
            Utc::now(),
            "test",
        )
        .await
        .unwrap();
    let send = |who: &Browser, bytes: Vec<u8>, csrf: String| {
        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("mandat.pdf"),
        );
        who.client
            .post(format!(
                "{}/organisation/groupement/{member}/mandat",
                app.url
            ))
            .multipart(form)
            .send()
    };
    // Another editor cannot attach a mandate to A's member, a wrong type and a forged form are
    // refused, and nothing is stored.
    assert_eq!(
        send(&b, PDF.to_vec(), b.csrf.clone())
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        send(&a, ELF.to_vec(), a.csrf.clone())
            .await
            .unwrap()
            .status()
            .as_u16(),
        422
    );
    assert_eq!(
        send(&a, PDF.to_vec(), "x".repeat(64))
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert!(stored_files(&app).is_empty());
    let r = send(&a, PDF.to_vec(), a.csrf.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let members = app.store.solidarity_members(&org_a).await.unwrap();
    let attachment_id = members[0]
        .mandate_attachment_id
        .clone()
        .expect("mandate recorded");
    let (status, page) = a.get("/organisation").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("/pieces/{attachment_id}")) && page.contains("mandat.pdf"));
    let r = a
        .client
        .get(format!("{}/pieces/{attachment_id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    let r = b
        .client
        .get(format!("{}/pieces/{attachment_id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let entries = app.store.journal_for("organisation", &org_a).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "organisation.mandate-attached")
    );
    app.stop().await;
}
both!(mandates, solidarity_mandates);

async fn documents_in_the_thread(backend: Backend) {
    let app = spawn_app(backend, controlled("2024-06-03T10:00:00+02:00")).await;
    let (a, _) = editor(&app, "marie@editeur-a.fr", "Éditeur A", "73282932000074").await;
    let (b, _) = editor(&app, "paul@editeur-b.fr", "Éditeur B", "44201234500017").await;
    let instructor = app
        .browser_for("instructeur@ans.fr", Role::Instructor, None, false)
        .await;
    let id = drafted(&app, &a).await;
    let thread = |who: &Browser, csrf: String, message: &str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .text("message", message.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("kbis.pdf"),
            );
        who.client
            .post(format!("{}/candidatures/{id}/fil", app.url))
            .multipart(form)
            .send()
    };
    // No exchange on a draft.
    assert_eq!(
        thread(&a, a.csrf.clone(), "tôt", PDF.to_vec())
            .await
            .unwrap()
            .status()
            .as_u16(),
        409
    );
    for (field, name) in [
        ("cnda_application_proof", "cnda.pdf"),
        ("documentation", "doc.pdf"),
    ] {
        let (status, _, _) = upload(&a, &id, Some(&a.csrf), field, name, PDF.to_vec()).await;
        assert_eq!(status, 303);
    }
    let (status, _, _) = a
        .post(
            &format!("/candidatures/{id}/depot"),
            &[("version", &version(&app, &id).await)],
        )
        .await;
    assert_eq!(status, 303);
    // The instructor sends a document, the editor answers with one; another editor can do neither.
    assert_eq!(
        thread(
            &instructor,
            instructor.csrf.clone(),
            "Modèle de mandat",
            PDF.to_vec()
        )
        .await
        .unwrap()
        .status()
        .as_u16(),
        303
    );
    assert_eq!(
        thread(&b, b.csrf.clone(), "intrus", PDF.to_vec())
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        thread(&a, a.csrf.clone(), "Voici le Kbis", ELF.to_vec())
            .await
            .unwrap()
            .status()
            .as_u16(),
        422
    );
    assert_eq!(
        thread(&a, a.csrf.clone(), "Voici le Kbis", PDF.to_vec())
            .await
            .unwrap()
            .status()
            .as_u16(),
        303
    );
    let messages = app.store.messages(&id).await.unwrap();
    let with_files: Vec<_> = messages
        .iter()
        .filter(|m| !m.attachment_ids.is_empty())
        .collect();
    assert_eq!(with_files.len(), 2);
    assert_eq!(with_files[1].body, "Voici le Kbis");
    let file = &with_files[1].attachment_ids[0];
    let (_, page) = a.get(&format!("/candidatures/{id}")).await;
    assert!(page.contains(&format!("/pieces/{file}")) && page.contains("Modèle de mandat"));
    let r = instructor
        .client
        .get(format!("{}/pieces/{file}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = b
        .client
        .get(format!("{}/pieces/{file}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    app.wait_email("instructeur@ans.fr", "Voici le Kbis").await;
    app.wait_email("marie@editeur-a.fr", "Modèle de mandat")
        .await;
    app.stop().await;
}
both!(thread_documents, documents_in_the_thread);
