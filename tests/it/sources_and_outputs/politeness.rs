//! Manners on the open web, against servers started here on 127.0.0.1: images whose
//! server opts them out (`X-Robots-Tag: noai` / `noimageai`) are not written in any mode,
//! unless asked; the User-Agent says who is asking, or what the user chose.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server answering every route with the red fixture, some with an X-Robots-Tag, only
/// to requests that carry `agent` as their User-Agent.
fn opt_out_server(runtime: &tokio::runtime::Runtime, agent: &str) -> MockServer {
    let png = std::fs::read(fixtures("images").join("red.png")).unwrap();
    let routes: [(&str, Option<&str>); 5] = [
        ("/plain.png", None),
        ("/noai.png", Some("noai")),
        ("/mine.png", Some("noindex, imgpar: noimageai")),
        ("/theirs.png", Some("otherbot: noai")),
        ("/unrelated.png", Some("noindex, nofollow")),
    ];
    runtime.block_on(async {
        let server = MockServer::start().await;
        for (route, tag) in routes {
            let mut response = ResponseTemplate::new(200).set_body_bytes(png.clone());
            if let Some(tag) = tag {
                response = response.insert_header("X-Robots-Tag", tag);
            }
            Mock::given(method("GET"))
                .and(path(route))
                .and(header("User-Agent", agent))
                .respond_with(response)
                .mount(&server)
                .await;
        }
        server
    })
}

fn list_of(server: &MockServer, dir: &std::path::Path) -> std::path::PathBuf {
    let list = dir.join("urls.txt");
    let names = ["plain", "noai", "mine", "theirs", "unrelated"];
    let lines: Vec<String> = names
        .iter()
        .map(|name| format!("{}/{name}.png", server.uri()))
        .collect();
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    list
}

/// The opt-out server answering imgpar's own User-Agent, and a list of its URLs in a
/// scratch folder (the runtime and server live as long as the caller keeps them).
fn served_to_imgpar() -> (
    tokio::runtime::Runtime,
    MockServer,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = opt_out_server(&runtime, concat!("imgpar/", env!("CARGO_PKG_VERSION")));
    let scratch = tempfile::tempdir().unwrap();
    let list = list_of(&server, scratch.path());
    (runtime, server, scratch, list)
}

#[test]
fn opted_out_images_are_not_written_in_any_mode_and_say_why() {
    let (_runtime, _server, scratch, list) = served_to_imgpar();
    for mode in modes() {
        let out = scratch.path().join(format!("out-{mode}"));
        let report = scratch.path().join(format!("{mode}.json"));
        imgpar()
            .args(["--mode", mode, "--urls"])
            .arg(&list)
            .arg(&out)
            .arg("--report")
            .arg(&report)
            .assert()
            .code(1);
        let written: Vec<String> = files_under(&out)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            written,
            ["plain.png", "theirs.png", "unrelated.png"],
            "{mode}"
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        for (name, directive) in [("noai", "noai"), ("mine", "imgpar: noimageai")] {
            let record = record_of(&report, &format!("/{name}.png"));
            assert_eq!(record["status"], "failed", "{mode} {name}");
            assert_eq!(record["error_kind"], "opted_out", "{mode} {name}");
            let why = record["error"].as_str().unwrap();
            assert!(
                why.contains(&format!("X-Robots-Tag: {directive}")),
                "{mode}: {why}"
            );
        }
    }
}

#[test]
fn no_respect_opt_out_writes_them_and_the_user_agent_is_the_users() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let agent = "research-crawler/2.0 (+mailto:someone@example.org)";
    let server = opt_out_server(&runtime, agent);
    let scratch = tempfile::tempdir().unwrap();
    let list = list_of(&server, scratch.path());
    for mode in modes() {
        let out = scratch.path().join(format!("out-{mode}"));
        imgpar()
            .args([
                "--mode",
                mode,
                "--no-respect-opt-out",
                "--user-agent",
                agent,
            ])
            .arg("--urls")
            .arg(&list)
            .arg(&out)
            .assert()
            .success();
        assert_eq!(files_under(&out).len(), 5, "{mode}");
    }
}

#[test]
fn urls_on_a_host_that_refuses_connections_are_cut_short_in_every_mode() {
    // A port nothing listens on: every connection is refused.
    let port = free_port();
    let scratch = tempfile::tempdir().unwrap();
    let list = scratch.path().join("urls.txt");
    let lines: Vec<String> = (0..200)
        .map(|i| format!("http://127.0.0.1:{port}/{i}.png"))
        .collect();
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    for mode in modes() {
        let report = scratch.path().join(format!("{mode}.json"));
        imgpar()
            .args(["--mode", mode, "-j", "2", "--urls"])
            .arg(&list)
            .arg(scratch.path().join(format!("out-{mode}")))
            .arg("--report")
            .arg(&report)
            .assert()
            .code(1);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let records = report["images"].as_array().unwrap();
        assert_eq!(records.len(), 200);
        let cut: Vec<&serde_json::Value> = records
            .iter()
            .filter(|r| r["error"].as_str().unwrap().contains("in a row"))
            .collect();
        // Each process keeps its own count: two worker processes try 5 each.
        assert!(cut.len() >= 150, "{mode}: only {} cut short", cut.len());
        let why = cut[0]["error"].as_str().unwrap();
        assert!(
            why.contains(&format!("host 127.0.0.1:{port} failed "))
                && why.contains("connections in a row")
                && why.contains("Connection refused")
                && why.contains("not tried"),
            "{mode}: {why}"
        );
        let attempts: u64 = records
            .iter()
            .map(|r| r["attempts"].as_u64().unwrap_or(0))
            .sum();
        assert!(
            attempts < 100,
            "{mode}: {attempts} connection attempts for 200 URLs"
        );
    }
}

/// An HTTP server on `address` (127.0.0.x) answering every path with the red fixture and
/// logging when each request came; a path starting `/busy` is answered 429 with
/// `Retry-After: 2` the first time (when that answer was sent is kept); `/robots.txt` is
/// `robots`, or 404 without.
struct Recorder {
    base: String,
    log: Arc<Mutex<Vec<(String, Instant)>>>,
    said_429: Arc<Mutex<Option<Instant>>>,
}

impl Recorder {
    fn start(address: &str) -> Recorder {
        Recorder::with_robots(address, None)
    }

    fn with_robots(address: &str, robots: Option<&'static str>) -> Recorder {
        let listener = TcpListener::bind((address, 0)).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let logged = Arc::clone(&log);
        let said_429: Arc<Mutex<Option<Instant>>> = Arc::default();
        let said = Arc::clone(&said_429);
        let png = std::fs::read(fixtures("images").join("red.png")).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (log, png, said) = (Arc::clone(&logged), png.clone(), Arc::clone(&said));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut header = String::new();
                    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                        header.clear();
                    }
                    let first = {
                        let mut log = log.lock().unwrap();
                        let first = !log.iter().any(|(p, _)| *p == path);
                        log.push((path.clone(), Instant::now()));
                        first
                    };
                    if path == "/robots.txt" {
                        let answer = match robots {
                            Some(text) => format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                                 Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
                                text.len()
                            ),
                            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\
                                     Connection: close\r\n\r\n"
                                .to_string(),
                        };
                        let _ = stream.write_all(answer.as_bytes());
                        return;
                    }
                    let head = if path.starts_with("/busy") && first {
                        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\n\
                         Connection: close\r\n\r\n"
                            .to_string()
                    } else {
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\
                             Connection: close\r\n\r\n",
                            png.len()
                        )
                    };
                    let _ = stream.write_all(head.as_bytes());
                    if head.starts_with("HTTP/1.1 200") {
                        let _ = stream.write_all(&png);
                    } else if head.starts_with("HTTP/1.1 429") {
                        *said.lock().unwrap() = Some(Instant::now());
                    }
                });
            }
        });
        Recorder {
            base,
            log,
            said_429,
        }
    }

    fn urls(&self, names: &[&str]) -> Vec<String> {
        names.iter().map(|n| format!("{}/{n}", self.base)).collect()
    }

    fn times(&self) -> Vec<(String, Instant)> {
        self.log.lock().unwrap().clone()
    }
}

fn write_list(dir: &std::path::Path, urls: &[String]) -> std::path::PathBuf {
    let list = dir.join("urls.txt");
    std::fs::write(&list, urls.join("\n") + "\n").unwrap();
    list
}

#[test]
fn a_per_host_rate_is_kept_in_every_mode() {
    let names: Vec<String> = (0..12).map(|i| format!("{i}.png")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for mode in parallel_modes() {
        let server = Recorder::start("127.0.0.1");
        let scratch = tempfile::tempdir().unwrap();
        let list = write_list(scratch.path(), &server.urls(&names));
        imgpar()
            .args(["--mode", mode, "-j", "2", "--per-host-rate", "3", "--urls"])
            .arg(&list)
            .arg(scratch.path().join("out"))
            .assert()
            .success();
        let mut times: Vec<Instant> = server.times().into_iter().map(|(_, t)| t).collect();
        times.sort();
        assert_eq!(times.len(), 12, "{mode}");
        // No second holds more than 3 requests: any 4 in a row span a second or more
        // (process mode's two workers take turns, 3 not being a multiple of 2).
        for window in times.windows(4) {
            let span = window[3] - window[0];
            assert!(
                span >= Duration::from_millis(950),
                "{mode}: 5 requests in {span:?}"
            );
        }
    }
}

#[test]
fn a_host_that_answers_429_is_left_alone_and_the_others_are_not() {
    let busy = Recorder::start("127.0.0.1");
    let calm = Recorder::start("127.0.0.2");
    let scratch = tempfile::tempdir().unwrap();
    let mut urls = busy.urls(&["busy.png", "a1.png", "a2.png", "a3.png", "a4.png"]);
    urls.extend(calm.urls(&["b1.png", "b2.png", "b3.png", "b4.png"]));
    let list = write_list(scratch.path(), &urls);
    let start = Instant::now();
    imgpar()
        .args(["--mode", "async", "--per-host", "2", "--urls"])
        .arg(&list)
        .arg(scratch.path().join("out"))
        .assert()
        .success();
    let told = busy
        .said_429
        .lock()
        .unwrap()
        .expect("the busy host said 429");
    // With two requests a host, one other may be in flight while the 429 travels back;
    // every later request to the busy host waits out its Retry-After.
    let early: Vec<Duration> = busy
        .times()
        .into_iter()
        .filter(|&(_, at)| at > told && at < told + Duration::from_millis(1900))
        .map(|(_, at)| at - told)
        .collect();
    assert!(
        early.len() <= 1,
        "requests to the busy host {early:?} after it said 429"
    );
    for (path, at) in calm.times() {
        assert!(
            at - start < Duration::from_millis(1500),
            "{path} on the other host waited {:?}",
            at - start
        );
    }
}

#[test]
fn robots_txt_is_read_once_and_a_disallowed_url_is_never_requested() {
    let robots = "User-agent: *\nDisallow: /\n\nUser-agent: imgpar\nDisallow: /nope/\n\
                  Allow: /nope/ok.png\nCrawl-delay: 1\n";
    for mode in parallel_modes() {
        let strict = Recorder::with_robots("127.0.0.1", Some(robots));
        let open = Recorder::start("127.0.0.2");
        let scratch = tempfile::tempdir().unwrap();
        let mut urls = strict.urls(&["a.png", "nope/x.png", "nope/ok.png", "b.png"]);
        urls.extend(open.urls(&["c.png", "d.png"]));
        let list = write_list(scratch.path(), &urls);
        let report = scratch.path().join("report.json");
        imgpar()
            .args(["--mode", mode, "-j", "2", "--robots", "--urls"])
            .arg(&list)
            .arg(scratch.path().join("out"))
            .arg("--report")
            .arg(&report)
            .assert()
            .code(1);
        let asked = strict.times();
        let paths: Vec<&str> = asked.iter().map(|(p, _)| p.as_str()).collect();
        assert!(!paths.contains(&"/nope/x.png"), "{mode}: {paths:?}");
        let reads = paths.iter().filter(|p| **p == "/robots.txt").count();
        // Once a run, whatever the mode (process mode's workers share it).
        assert_eq!(reads, 1, "{mode}: robots.txt read {reads} times");
        let robots_at = asked.iter().find(|(p, _)| p == "/robots.txt").unwrap().1;
        let mut images: Vec<Instant> = asked
            .iter()
            .filter(|(p, _)| p != "/robots.txt")
            .map(|(_, t)| *t)
            .collect();
        images.sort();
        assert_eq!(images.len(), 3, "{mode}: {paths:?}");
        // Crawl-delay: 1 (process mode's two workers take turns: 2 s each, 1 s apart),
        // robots.txt's own request included.
        let after_robots = images[0] - robots_at;
        assert!(
            after_robots >= Duration::from_millis(950),
            "{mode}: the first image came {after_robots:?} after robots.txt"
        );
        for pair in images.windows(2) {
            let span = pair[1] - pair[0];
            assert!(span >= Duration::from_millis(950), "{mode}: {span:?}");
        }
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let refused = record_of(&report, "/nope/x.png");
        assert_eq!(refused["error_kind"], "opted_out", "{mode}");
        let why = refused["error"].as_str().unwrap();
        assert!(
            why.contains("robots.txt disallows /nope/x.png for imgpar"),
            "{mode}: {why}"
        );
        assert_eq!(
            open.times().len(),
            3,
            "{mode}: the other host's robots.txt is a 404"
        );
    }
}

#[test]
fn the_async_download_limit_adapts_unless_pinned_and_the_report_shows_it() {
    let (_runtime, _server, scratch, list) = served_to_imgpar();
    for (flags, first) in [(vec![], 32), (vec!["--concurrency", "3"], 3)] {
        let report = scratch.path().join("report.json");
        let out = scratch.path().join(format!("out-{first}"));
        imgpar()
            .args(["--mode", "async", "--urls"])
            .arg(&list)
            .arg(&out)
            .args(&flags)
            .arg("--report")
            .arg(&report)
            .arg("--trace")
            .arg(scratch.path().join("trace.json"))
            .arg("--timeline")
            .arg(scratch.path().join("timeline.svg"))
            .assert()
            .code(1);
        let timeline = std::fs::read_to_string(scratch.path().join("timeline.svg")).unwrap();
        assert!(
            timeline.contains(&format!("downloads allowed in flight (up to {first}")),
            "the timeline draws the limit"
        );
        let trace = std::fs::read(scratch.path().join("trace.json")).unwrap();
        let trace: serde_json::Value = serde_json::from_slice(&trace).unwrap();
        let counters: Vec<&serde_json::Value> = trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "C")
            .collect();
        assert_eq!(
            counters[0]["args"]["limit"], first,
            "the trace's counter track"
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let limits = report["concurrency"]
            .as_array()
            .expect("the limit over the run");
        assert_eq!(limits[0][1], first, "{flags:?}");
        assert!(limits[0][0].as_f64().unwrap() < 1000.0, "set at the start");
        if !flags.is_empty() {
            assert_eq!(limits.len(), 1, "a pinned limit never moves");
        }
    }
}
