//! The file store on a real S3-compatible server: moto's, started here on a free loopback port.
//!
//! Needs `pip install 'moto[server]'` (the test fails, saying so, without it). The Python
//! interpreter is `python3`, or the one named by `CONFORME_TEST_PYTHON`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use conforme_files::{FileError, FileStore, FileStoreConfig, UploadLimits};

const BUCKET: &str = "conforme-preuves";

/// A moto server, stopped when dropped (the test failing included).
struct Moto {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Moto {
    fn start(dir: &Path) -> Moto {
        let python = std::env::var("CONFORME_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let check = Command::new(&python)
            .args(["-c", "import moto.server, flask, flask_cors"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !matches!(check, Ok(status) if status.success()) {
            panic!(
                "the S3 test needs moto's S3 server, which {python} cannot import: \
                 install it with `pip install 'moto[server]'` \
                 (or name another interpreter in CONFORME_TEST_PYTHON)"
            );
        }
        // A free port: bound by the system, then released for moto.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = dir.join("moto.log");
        let log_file = std::fs::File::create(&log).expect("moto log");
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("start moto");
        let mut moto = Moto { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto stopped ({status}):\n{}", moto.log_text());
            }
            if matches!(moto.http("GET", "/"), Ok((200, _))) {
                return moto;
            }
            if Instant::now() > deadline {
                panic!("moto did not answer in 20 s:\n{}", moto.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One unsigned HTTP/1.1 request (moto accepts them), on loopback only.
    fn http(&self, method: &str, target: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((status, response))
    }

    /// The multipart uploads begun and neither completed nor aborted.
    fn pending_uploads(&self) -> usize {
        let (status, body) = self
            .http("GET", &format!("/{BUCKET}?uploads"))
            .expect("list multipart uploads");
        assert_eq!(status, 200, "{body}");
        body.matches("<Upload>").count()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn assert_nothing_left(store: &FileStore, moto: &Moto) {
    assert_eq!(store.list_keys().await.expect("list"), Vec::<String>::new());
    assert_eq!(moto.pending_uploads(), 0, "pending multipart uploads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_an_s3_compatible_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(dir.path());
    let (status, body) = moto.http("PUT", &format!("/{BUCKET}")).expect("bucket");
    assert_eq!(status, 200, "create bucket: {body}");

    let env = |name: &str| match name {
        "AWS_ACCESS_KEY_ID" => Some("testing".to_string()),
        "AWS_SECRET_ACCESS_KEY" => Some("testing".to_string()),
        _ => None,
    };
    let url = format!(
        "s3://{BUCKET}?endpoint={}&region=us-east-1",
        moto.endpoint()
    );
    let config = FileStoreConfig::from_url(Some(&url), Path::new("/unused"), &env).expect("url");
    let store = FileStore::open(&config).expect("open S3 store");

    let outcome = tokio::time::timeout(Duration::from_secs(60), scenario(&store, &moto)).await;
    assert!(outcome.is_ok(), "the S3 test took over 60 s");

    // A missing bucket is an internal error, not a missing file.
    let url = format!("s3://no-such-bucket?endpoint={}", moto.endpoint());
    let config = FileStoreConfig::from_url(Some(&url), Path::new("/unused"), &env).expect("url");
    let store = FileStore::open(&config).expect("open S3 store");
    let result = store
        .put_stream(chunks_of(&png(1000), 100), &UploadLimits::new(MIB))
        .await;
    assert!(
        matches!(result, Err(ref e @ FileError::Store(_)) if e.is_internal()),
        "{result:?}"
    );
}

async fn scenario(store: &FileStore, moto: &Moto) {
    let limits = UploadLimits::new(200 * MIB);

    // The check for pending uploads sees one when there is one.
    let (status, body) = moto
        .http("POST", &format!("/{BUCKET}/control?uploads"))
        .expect("create multipart upload");
    assert_eq!(status, 200, "{body}");
    assert_eq!(moto.pending_uploads(), 1);
    let upload_id = body
        .split("<UploadId>")
        .nth(1)
        .and_then(|rest| rest.split("</UploadId>").next())
        .expect("upload id");
    let (status, body) = moto
        .http("DELETE", &format!("/{BUCKET}/control?uploadId={upload_id}"))
        .expect("abort multipart upload");
    assert_eq!(status, 204, "{body}");
    assert_eq!(moto.pending_uploads(), 0);

    // A small file: one request.
    let data = png(300_000);
    let small = store
        .put_stream(chunks_of(&data, 16 * 1024), &limits)
        .await
        .expect("small upload");
    assert_eq!(
        (
            small.size,
            small.sha256.as_str(),
            small.content_type.as_str()
        ),
        (data.len() as u64, sha256_hex(&data).as_str(), "image/png")
    );
    let (size, download) = store.get_stream(&small.key).await.expect("download");
    assert_eq!(size, data.len() as u64);
    assert_eq!(
        digest_download(download).await,
        (sha256_hex(&data), data.len() as u64)
    );

    // A file of three parts.
    let total = 20 * MIB + 12_345;
    let chunk = 64 * 1024;
    let large = store
        .put_stream(Lazy::new(total, chunk), &limits)
        .await
        .expect("multipart upload");
    let expected = lazy_sha256(total, chunk);
    assert_eq!(
        (large.size, large.sha256.as_str()),
        (total, expected.as_str())
    );
    let (size, download) = store.get_stream(&large.key).await.expect("download");
    assert_eq!(size, total);
    assert_eq!(digest_download(download).await, (expected, total));
    assert_eq!(moto.pending_uploads(), 0);

    let mut keys = vec![small.key.clone(), large.key.clone()];
    keys.sort();
    assert_eq!(store.list_keys().await.expect("list"), keys);
    assert!(store.exists(&large.key).await.expect("exists"));
    for key in &keys {
        store.delete(key).await.expect("delete");
    }
    assert!(!store.exists(&large.key).await.expect("exists"));
    assert!(matches!(
        store.get_stream(&large.key).await,
        Err(FileError::NotFound)
    ));
    assert_nothing_left(store, moto).await;

    // Too large, once parts were sent: stopped at the limit, the upload aborted.
    let stream = Lazy::new(100 * MIB, chunk);
    let pulled = stream.counter();
    let result = store.put_stream(stream, &UploadLimits::new(12 * MIB)).await;
    assert!(
        matches!(result, Err(FileError::TooLarge { limit }) if limit == 12 * MIB),
        "{result:?}"
    );
    assert!(pulled.load(Ordering::SeqCst) <= 12 * MIB + chunk as u64);
    assert_nothing_left(store, moto).await;

    // Cut off in the first part, and after two parts.
    for cut in [MIB, 17 * MIB] {
        let stream = Lazy::new(50 * MIB, chunk).failing_after(cut);
        let result = store.put_stream(stream, &limits).await;
        assert!(
            matches!(result, Err(FileError::Interrupted { .. })),
            "{result:?}"
        );
        assert_nothing_left(store, moto).await;
    }

    // A type not allowed.
    let result = store
        .put_stream(
            chunks_of(&zip(100_000), 4096),
            &UploadLimits::new(MIB).allowing(["image/*", "application/pdf"]),
        )
        .await;
    assert!(
        matches!(result, Err(FileError::TypeNotAllowed { .. })),
        "{result:?}"
    );
    assert_nothing_left(store, moto).await;

    // The request dropped midway (say, by a timeout): aborted in the background.
    let stalled =
        futures_util::StreamExt::chain(Lazy::new(20 * MIB, chunk), futures_util::stream::pending());
    let upload = store.put_stream(stalled, &limits);
    let timed_out = tokio::time::timeout(Duration::from_secs(2), upload).await;
    assert!(timed_out.is_err(), "the upload should still be waiting");
    let deadline = Instant::now() + Duration::from_secs(10);
    while moto.pending_uploads() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_nothing_left(store, moto).await;
}
