//! URL lists against real HTTP servers on 127.0.0.1 started here: wiremock for the usual
//! answers, and a small hand-written server for bodies that must stall or never end. Each
//! failing URL fails alone, with its reason, within its limits; every mode writes the same
//! files from the same list.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use predicates::prelude::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixtures("images").join(name)).unwrap()
}

/// A wiremock server (it runs on its own thread) with the answers the list below expects.
fn mock_server(runtime: &tokio::runtime::Runtime) -> MockServer {
    let png = || ResponseTemplate::new(200).set_body_bytes(fixture_bytes("red.png"));
    let jpeg = || ResponseTemplate::new(200).set_body_bytes(fixture_bytes("baseline_420.jpg"));
    let redirect = |to: &str| ResponseTemplate::new(302).insert_header("Location", to);
    // Answered once, before the route's usual answer.
    let first: Vec<(&str, ResponseTemplate)> = vec![
        ("/flaky.png", ResponseTemplate::new(500)),
        (
            "/busy.png",
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        ),
    ];
    let usual: Vec<(&str, ResponseTemplate)> = vec![
        ("/red.png", png()),
        ("/photo.jpg", jpeg()),
        ("/a/image.png", png()),
        ("/b/image.png", jpeg()),
        ("/flaky.png", png()),
        ("/busy.png", png()),
        ("/missing.png", ResponseTemplate::new(404)),
        ("/slow.png", png().set_delay(Duration::from_secs(5))),
        (
            "/huge.png",
            ResponseTemplate::new(200).set_body_bytes(vec![0u8; 2 << 20]),
        ),
        ("/loop.png", redirect("/loop.png")),
        ("/to-ftp.png", redirect("ftp://127.0.0.1/x.png")),
        ("/to-file.png", redirect("file:///etc/passwd")),
        (
            "/page.png",
            ResponseTemplate::new(200).set_body_raw(
                "<html><body>Not found, but nicely</body></html>",
                "text/html; charset=utf-8",
            ),
        ),
        ("/empty.png", ResponseTemplate::new(200)),
    ];
    runtime.block_on(async {
        let server = MockServer::start().await;
        for (route, response) in first {
            Mock::given(method("GET"))
                .and(path(route))
                .respond_with(response)
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&server)
                .await;
        }
        for (route, response) in usual {
            Mock::given(method("GET"))
                .and(path(route))
                // Every request says who is asking.
                .and(header(
                    "User-Agent",
                    concat!("imgpar/", env!("CARGO_PKG_VERSION")),
                ))
                .respond_with(response)
                .mount(&server)
                .await;
        }
        server
    })
}

/// A server for what wiremock cannot do: `/stall.png` announces 1000 bytes, sends 100 and
/// goes silent; `/silent.png` never answers at all; `/trickle.png` sends its body a byte a
/// second; `/endless.png` sends a body without a length that never ends.
fn misbehaving_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || misbehave(stream));
        }
    });
    format!("http://{address}")
}

fn misbehave(mut stream: TcpStream) {
    let mut request_line = String::new();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Read the rest of the head.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    if request_line.contains("/stall.png") {
        let png = fixture_bytes("red.png");
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
            png.len() + 1000
        );
        let _ = stream.write_all(&png);
        std::thread::sleep(Duration::from_secs(60));
    } else if request_line.contains("/silent.png") {
        std::thread::sleep(Duration::from_secs(60));
    } else if request_line.contains("/trickle.png") {
        let png = fixture_bytes("red.png");
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
            png.len()
        );
        for byte in png {
            if stream.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    } else {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n"
        );
        let chunk = vec![0u8; 64 * 1024];
        while stream.write_all(&chunk).is_ok() {}
    }
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The list, and for each failing line the reason it must fail with.
fn url_list(mock: &str, odd: &str) -> (String, Vec<(String, String)>) {
    let ok = [
        "/red.png",
        "/photo.jpg",
        "/a/image.png",
        "/b/image.png",
        "/flaky.png",
        "/busy.png",
    ];
    let failing = vec![
        (
            format!("{mock}/missing.png"),
            "HTTP 404 Not Found".to_string(),
        ),
        (
            format!("{mock}/slow.png"),
            "no complete response within 1 s (--download-timeout)".into(),
        ),
        (
            format!("{odd}/stall.png"),
            "no complete response within 1 s (--download-timeout)".into(),
        ),
        (
            format!("{mock}/huge.png"),
            "larger than --max-download 1 MiB (the server announced 2 MiB)".into(),
        ),
        (
            format!("{odd}/silent.png"),
            "no complete response within 1 s (--download-timeout)".into(),
        ),
        (
            format!("{odd}/trickle.png"),
            "no complete response within 1 s (--download-timeout)".into(),
        ),
        (
            format!("{odd}/endless.png"),
            "larger than --max-download 1 MiB (cut off as it arrived)".into(),
        ),
        (
            format!("{mock}/loop.png"),
            "redirect refused: more than 10 redirects".into(),
        ),
        (
            format!("{mock}/to-ftp.png"),
            "redirect refused: redirect to a ftp: URL refused".into(),
        ),
        (
            format!("{mock}/page.png"),
            "not an image: the server sent text/html".into(),
        ),
        (
            format!("{mock}/empty.png"),
            "the server sent an empty body (HTTP 200 OK)".into(),
        ),
        (
            format!("http://127.0.0.1:{}/refused.png", closed_port()),
            "cannot connect: Connection refused".into(),
        ),
        (
            format!("{mock}/to-file.png"),
            "redirect refused: redirect to a file: URL refused".into(),
        ),
        (
            "ftp://127.0.0.1/file.png".into(),
            "unsupported URL scheme ftp:".into(),
        ),
        (
            "file:///etc/hostname".into(),
            "unsupported URL scheme file:".into(),
        ),
        (
            "http://no-such-host.invalid/nowhere.jpg".into(),
            "cannot resolve host no-such-host.invalid".into(),
        ),
    ];
    let mut list = String::from("# images for the test\n\n");
    for route in ok {
        list.push_str(&format!("{mock}{route}\n"));
    }
    // The same URL twice: each line gets its own file.
    list.push_str(&format!("{mock}/red.png\n"));
    for (url, _) in &failing {
        list.push_str(&format!("  {url}  \n"));
    }
    (list, failing)
}

const FETCH_FLAGS: &[&str] = &[
    "--download-timeout",
    "1",
    "--max-download",
    "1M",
    "--retries",
    "1",
];

#[test]
fn every_mode_downloads_the_same_images_and_each_bad_url_fails_alone() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let odd = misbehaving_server();
    let scratch = tempfile::tempdir().unwrap();

    let expected_names: Vec<std::path::PathBuf> = [
        "0003-red.png",
        "0005-image.png",
        "0006-image.png",
        "0009-red.png",
        "busy.png",
        "flaky.png",
        "photo.jpg",
    ]
    .iter()
    .map(std::path::PathBuf::from)
    .collect();

    let mut reference = None;
    for mode in modes() {
        // A fresh server per run: its 500 and 429 answer once each.
        let mock = mock_server(&runtime);
        let (list, failing) = url_list(&mock.uri(), &odd);
        let list_file = scratch.path().join(format!("{mode}.txt"));
        std::fs::write(&list_file, list).unwrap();
        let out = scratch.path().join(mode);
        let report_file = scratch.path().join(format!("{mode}.json"));
        let mut assert = imgpar()
            .arg(&list_file)
            .arg(&out)
            .args(["--mode", mode, "-j", "3", "--report"])
            .arg(&report_file)
            .args(FETCH_FLAGS)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "7 ok, {} failed",
                failing.len()
            )));
        for (url, reason) in &failing {
            assert = assert.stderr(predicate::str::contains(format!("{url}: {reason}")));
        }
        assert_eq!(files_under(&out), expected_names, "{mode}");
        // Each mode fetches from a server of its own: the URLs, and so the outputs'
        // provenance, differ by the port.
        let bytes = all_pictures(&out);
        match &reference {
            None => reference = Some(bytes),
            Some(reference) => assert!(*reference == bytes, "{mode} wrote different files"),
        }
        assert_no_temp_files(&out);

        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
        let record = |suffix: &str| {
            report["images"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["input"].as_str().unwrap().ends_with(suffix))
                .unwrap()
                .clone()
        };
        let flaky = record("/flaky.png");
        assert_eq!(
            (flaky["http_status"].as_u64(), flaky["attempts"].as_u64()),
            (Some(200), Some(2))
        );
        let busy = record("/busy.png");
        assert_eq!(busy["attempts"], 2);
        assert!(
            busy["fetch_ms"].as_f64().unwrap() >= 1000.0,
            "{mode}: Retry-After not honoured"
        );
        assert_eq!(record("/missing.png")["http_status"], 404);
        // A server that never answers or trickles is cut by the 1 s limit, not retried.
        for stuck in ["/silent.png", "/trickle.png", "/stall.png"] {
            let ms = record(stuck)["fetch_ms"].as_f64().unwrap();
            assert!(
                (1000.0..2500.0).contains(&ms),
                "{mode}: {stuck} took {ms} ms"
            );
        }
        assert!(report["bytes_downloaded"].as_u64().unwrap() > 0);
        assert!(report["network_s"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn a_url_list_on_stdin_and_by_flag() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = mock_server(&runtime);
    let scratch = tempfile::tempdir().unwrap();
    let from_stdin = scratch.path().join("stdin");
    imgpar()
        .arg("-")
        .arg(&from_stdin)
        .write_stdin(format!("{}/red.png\n", mock.uri()))
        .assert()
        .success();
    assert_eq!(
        files_under(&from_stdin),
        vec![std::path::PathBuf::from("red.png")]
    );

    // --urls reads a list whatever its name or first line.
    let list = scratch.path().join("photos.png");
    std::fs::write(
        &list,
        format!("# first a comment\n{}/photo.jpg\n", mock.uri()),
    )
    .unwrap();
    let by_flag = scratch.path().join("flag");
    imgpar()
        .args(["--urls"])
        .arg(&list)
        .arg(&by_flag)
        .args(["--mode", "async"])
        .assert()
        .success();
    assert_eq!(
        files_under(&by_flag),
        vec![std::path::PathBuf::from("photo.jpg")]
    );
    assert_eq!(open(&by_flag.join("photo.jpg")).width(), 256);
}
