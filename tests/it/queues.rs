//! Queues on real brokers (Redis and NATS JetStream, started here on 127.0.0.1): workers
//! that die and join late still write exactly the unsharded outputs, an image delivered
//! twice counts once, a slow image keeps its lease, an image that kills its workers is
//! failed after `--max-deliveries`, a broker that crashes mid-run loses no image, and
//! `queue-status` proves completion against the plan.

use crate::common;
use crate::common::brokers;
use crate::common::stores;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use brokers::{BrokerServer, Kind};
use common::{all_bytes, fixtures, imgpar, imgpar_unsharded, outputs_so_far, wait_until};

/// `copies` copies of the fixture images, each in a folder of its own.
fn corpus(copies: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for copy in 0..copies {
        for entry in walkdir::WalkDir::new(fixtures("images")) {
            let entry = entry.unwrap();
            let rel = entry.path().strip_prefix(fixtures("images")).unwrap();
            let to = dir.path().join(format!("c{copy}")).join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&to).unwrap();
            } else {
                std::fs::copy(entry.path(), &to).unwrap();
            }
        }
    }
    dir
}

/// The outputs of an ordinary run of `inputs`, for comparison.
fn unsharded(inputs: &[&Path]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let code = imgpar_unsharded()
        .args(inputs)
        .arg(out.path())
        .output()
        .unwrap()
        .status;
    assert!(
        code.code().unwrap() <= 1,
        "the reference run ended with {code}"
    );
    out
}

/// The outputs under `out`, without the temporary files a killed writer may leave.
fn outputs(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    all_bytes(out)
        .into_iter()
        .filter(|(rel, _)| {
            !rel.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".imgpar-")
        })
        .collect()
}

fn enqueue(queue: &str, args: &[&Path]) -> std::process::Output {
    imgpar()
        .arg("enqueue")
        .arg(queue)
        .args(args)
        .output()
        .unwrap()
}

/// A worker started in the background.
fn worker(queue: &str, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
        .args(["work", queue, "-q"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a worker and returns its exit code and what it printed.
fn ended(child: Child) -> (i32, String) {
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), text)
}

/// `queue-status` with its report: the exit code, what it printed, the report.
fn status(queue: &str) -> (i32, String, serde_json::Value) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let output = imgpar()
        .args(["queue-status", queue, "--report"])
        .arg(report.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = std::fs::read(report.path()).unwrap();
    let json = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("queue-status wrote no JSON report ({e}): {text}"));
    (output.status.code().unwrap(), text, json)
}

fn records(report: &serde_json::Value) -> &Vec<serde_json::Value> {
    report["images"].as_array().expect("records")
}

fn record_for<'a>(report: &'a serde_json::Value, output_suffix: &str) -> &'a serde_json::Value {
    records(report)
        .iter()
        .find(|r| {
            r["output"]
                .as_str()
                .is_some_and(|o| o.ends_with(output_suffix))
        })
        .unwrap_or_else(|| panic!("no record for {output_suffix}"))
}

/// Runs `test` once on each broker.
macro_rules! on_both_brokers {
    ($($name:ident),* $(,)?) => {
        mod redis {
            $(#[test] fn $name() { super::$name(super::Kind::Redis) })*
        }
        mod nats {
            $(#[test] fn $name() { super::$name(super::Kind::Nats) })*
        }
    };
}

on_both_brokers!(
    every_mode_works_a_queue,
    workers_that_die_and_join_late_write_exactly_the_unsharded_outputs,
    an_output_committed_before_its_ack_counts_once,
    enqueueing_again_makes_no_duplicates_and_another_plan_is_refused,
    a_slow_image_keeps_its_lease,
    an_image_that_kills_its_workers_is_failed_after_max_deliveries,
    a_broker_that_crashes_mid_run_loses_no_image,
);

fn every_mode_works_a_queue(kind: Kind) {
    let broker = BrokerServer::of(kind);
    let input = corpus(2);
    let reference = unsharded(&[input.path()]);
    for mode in common::modes() {
        let queue = broker.queue(mode);
        let out = tempfile::tempdir().unwrap();
        assert!(
            enqueue(&queue, &[input.path(), out.path()])
                .status
                .success()
        );
        let (code, text) = ended(worker(&queue, &["--mode", mode, "-j", "2"]));
        assert_eq!(code, 0, "{mode}: {text}");
        assert_eq!(outputs(out.path()), all_bytes(reference.path()), "{mode}");
        let (code, text, _) = status(&queue);
        assert_eq!(code, 0, "{mode}: {text}");
    }
}

fn workers_that_die_and_join_late_write_exactly_the_unsharded_outputs(kind: Kind) {
    let broker = BrokerServer::of(kind);
    let queue = broker.queue("photos");
    let input = corpus(8);
    let reference = unsharded(&[input.path()]);
    let out = tempfile::tempdir().unwrap();
    let enqueued = enqueue(&queue, &[input.path(), out.path()]);
    assert!(enqueued.status.success(), "{enqueued:?}");
    let planned = all_bytes(reference.path()).len();

    let args = ["-j", "1", "--lease", "2"];
    let mut doomed = worker(&queue, &args);
    let steady = worker(&queue, &args);
    wait_until("a fifth of the images are written", || {
        outputs_so_far(out.path()) >= planned / 5
    });
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    wait_until("half the images are written", || {
        outputs_so_far(out.path()) >= planned / 2
    });
    let late = worker(&queue, &args);
    for (who, child) in [("steady", steady), ("late", late)] {
        let (code, text) = ended(child);
        assert_eq!(code, 0, "the {who} worker: {text}");
    }

    assert_eq!(outputs(out.path()), all_bytes(reference.path()));
    let (code, text, report) = status(&queue);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("complete"), "{text}");
    assert_eq!(report["complete"], true);
    assert_eq!(report["planned"].as_u64().unwrap() as usize, planned);
    let records = records(&report);
    assert_eq!(records.len(), planned);
    assert!(records.iter().all(|r| r["status"] == "ok"), "{records:?}");
    let mut names: Vec<&str> = records
        .iter()
        .map(|r| r["output"].as_str().unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), planned, "an output has two records");
}

fn an_output_committed_before_its_ack_counts_once(kind: Kind) {
    // A worker killed after its output's rename and before its ack: the output stands,
    // the image is delivered again. Here the output is put there first, as it would be.
    let broker = BrokerServer::of(kind);
    let queue = broker.queue("twice");
    let input = fixtures("images");
    let reference = unsharded(&[&input]);
    let out = tempfile::tempdir().unwrap();
    let committed = std::fs::read(reference.path().join("red.png")).unwrap();
    std::fs::write(out.path().join("red.png"), &committed).unwrap();
    std::fs::write(out.path().join("small.png"), b"someone else's file").unwrap();
    // A link at an output's name, to a file outside OUTPUT with the very bytes: not an
    // output of this queue, and never read through.
    let elsewhere = tempfile::tempdir().unwrap();
    let gray = std::fs::read(reference.path().join("gray.jpg")).unwrap();
    std::fs::write(elsewhere.path().join("gray.jpg"), &gray).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path().join("gray.jpg"),
        out.path().join("gray.jpg"),
    )
    .unwrap();
    assert!(enqueue(&queue, &[&input, out.path()]).status.success());

    let (code, text) = ended(worker(&queue, &["-j", "2"]));
    assert_eq!(
        code, 1,
        "the other file's and the link's images fail: {text}"
    );
    assert_eq!(
        std::fs::read(out.path().join("red.png")).unwrap(),
        committed
    );
    assert_eq!(
        std::fs::read(out.path().join("small.png")).unwrap(),
        b"someone else's file",
        "an output of other content is left alone"
    );
    let (code, text, report) = status(&queue);
    assert_eq!(code, 1, "complete, with a failure: {text}");
    assert_eq!(record_for(&report, "/red.png")["status"], "ok");
    let other = record_for(&report, "/small.png");
    assert_eq!(other["status"], "failed");
    assert!(
        other["error"].as_str().unwrap().contains("other content"),
        "{other}"
    );
    let linked = record_for(&report, "/gray.jpg");
    assert_eq!(linked["status"], "failed", "{linked}");
    assert!(
        std::fs::symlink_metadata(out.path().join("gray.jpg"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is left alone"
    );
    let ok = records(&report)
        .iter()
        .filter(|r| r["status"] == "ok")
        .count();
    assert_eq!(ok, report["planned"].as_u64().unwrap() as usize - 2);
}

fn enqueueing_again_makes_no_duplicates_and_another_plan_is_refused(kind: Kind) {
    let broker = BrokerServer::of(kind);
    let queue = broker.queue("again");
    let input = fixtures("images");
    let out = tempfile::tempdir().unwrap();
    let first = enqueue(&queue, &[&input, out.path()]);
    assert!(first.status.success(), "{first:?}");
    let planned = unsharded(&[&input]);
    let planned = all_bytes(planned.path()).len();
    let again = enqueue(&queue, &[&input, out.path()]);
    let text = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{text}");
    assert!(text.contains("0 queued now"), "{text}");
    let (code, text, _) = status(&queue);
    assert_eq!(code, 4, "nothing done yet: {text}");
    assert!(
        text.contains(&format!("{planned} pending, 0 leased, 0 done")),
        "{text}"
    );

    let other = imgpar()
        .args(["enqueue", &queue])
        .arg(&input)
        .arg(out.path())
        .args(["--size", "64x64"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(2), "{text}");
    assert!(
        text.contains("holds another plan") && text.contains("width 64"),
        "{text}"
    );

    let (code, text) = ended(worker(&queue, &["-j", "2"]));
    assert_eq!(code, 0, "{text}");
    // Done images are not queued again; a re-enqueue of a finished plan queues nothing.
    let done = enqueue(&queue, &[&input, out.path()]);
    assert!(String::from_utf8_lossy(&done.stderr).contains("0 queued now"));
    let (code, text, report) = status(&queue);
    assert_eq!(code, 0, "{text}");
    assert_eq!(records(&report).len(), planned);
}

/// An HTTP server on 127.0.0.1 serving `body` as a PNG at every path, after `delay`;
/// counts the requests and tells `told` of each one as it arrives. With `hang`, it
/// never answers.
fn image_server(
    body: Vec<u8>,
    delay: Duration,
    hang: bool,
    told: mpsc::Sender<()>,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (body, told, counted) = (body.clone(), told.clone(), Arc::clone(&counted));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = told.send(());
                if hang {
                    std::thread::sleep(Duration::from_secs(600));
                }
                std::thread::sleep(delay);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    (base, requests)
}

/// A folder holding a URL list of `urls` and copies of three fixture images.
fn urls_and_files(urls: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("list.txt"), urls.join("\n") + "\n").unwrap();
    for name in ["red.png", "small.png", "gray.jpg"] {
        std::fs::copy(fixtures("images").join(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn a_slow_image_keeps_its_lease(kind: Kind) {
    let broker = BrokerServer::of(kind);
    let queue = broker.queue("slow");
    let png = std::fs::read(fixtures("images").join("rgb8.png")).unwrap();
    let (told, heard) = mpsc::channel();
    let (base, requests) = image_server(png, Duration::from_secs(4), false, told);
    let input = urls_and_files(&[format!("{base}/slow.png")]);
    let out = tempfile::tempdir().unwrap();
    let list = input.path().join("list.txt");
    let enqueued = imgpar()
        .args(["enqueue", &queue, "--urls"])
        .arg(&list)
        .arg(input.path())
        .arg(out.path())
        .output()
        .unwrap();
    assert!(enqueued.status.success(), "{enqueued:?}");

    // The first worker takes the slow image; the second comes while it is downloading,
    // for longer than the lease of 1 s, and must not take it.
    let first = worker(&queue, &["-j", "1", "--lease", "1"]);
    heard
        .recv_timeout(Duration::from_secs(20))
        .expect("the slow image is asked for");
    let second = worker(&queue, &["-j", "1", "--lease", "1"]);
    for child in [first, second] {
        let (code, text) = ended(child);
        assert_eq!(code, 0, "{text}");
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "the slow image was taken twice"
    );
    assert!(out.path().join("slow.png").exists());
    let (code, text, _) = status(&queue);
    assert_eq!(code, 0, "{text}");
}

fn an_image_that_kills_its_workers_is_failed_after_max_deliveries(kind: Kind) {
    let broker = BrokerServer::of(kind);
    let queue = broker.queue("deadly");
    let (told, heard) = mpsc::channel();
    let (base, requests) = image_server(Vec::new(), Duration::ZERO, true, told);
    let input = urls_and_files(&[format!("{base}/deadly.png")]);
    let out = tempfile::tempdir().unwrap();
    let enqueued = imgpar()
        .args(["enqueue", &queue, "--urls"])
        .arg(input.path().join("list.txt"))
        .arg(input.path())
        .arg(out.path())
        .output()
        .unwrap();
    assert!(enqueued.status.success(), "{enqueued:?}");

    // Each worker that starts the image dies with it (killed the moment it asks).
    let args = ["-j", "1", "--lease", "1", "--max-deliveries", "2"];
    for _ in 0..2 {
        let mut victim = worker(&queue, &args);
        heard
            .recv_timeout(Duration::from_secs(30))
            .expect("the image is asked for");
        victim.kill().unwrap();
        victim.wait().unwrap();
    }
    let (code, text) = ended(worker(&queue, &args));
    assert_eq!(code, 1, "the worker that gave up on it says so: {text}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        2,
        "tried more than --max-deliveries"
    );

    let (code, text, report) = status(&queue);
    assert_eq!(code, 1, "complete, one failed: {text}");
    let deadly = record_for(&report, "/deadly.png");
    assert_eq!(deadly["status"], "failed");
    let why = deadly["error"].as_str().unwrap();
    assert!(
        why.contains("started 2 times") && why.contains("--max-deliveries 2"),
        "{why}"
    );
    // Its neighbours, held by the same dying workers, were not blamed.
    for name in ["red.png", "small.png", "gray.jpg"] {
        assert_eq!(record_for(&report, &format!("/{name}"))["status"], "ok");
    }
}

fn a_broker_that_crashes_mid_run_loses_no_image(kind: Kind) {
    let mut broker = BrokerServer::of(kind);
    let queue = broker.queue("crash");
    let input = corpus(6);
    let reference = unsharded(&[input.path()]);
    let planned = all_bytes(reference.path()).len();
    let out = tempfile::tempdir().unwrap();
    assert!(
        enqueue(&queue, &[input.path(), out.path()])
            .status
            .success()
    );

    let worker = worker(&queue, &["-j", "1", "--lease", "2", "--broker-wait", "60"]);
    wait_until("a quarter of the images are written", || {
        outputs_so_far(out.path()) >= planned / 4
    });
    broker.crash_and_restart(Duration::from_secs(2));
    let (code, text) = ended(worker);
    assert_eq!(code, 0, "the worker rode out the restart: {text}");
    assert_eq!(outputs(out.path()), all_bytes(reference.path()));
    let (code, text, report) = status(&queue);
    assert_eq!(code, 0, "{text}");
    assert_eq!(records(&report).len(), planned);
}

#[test]
fn an_unreachable_broker_is_named_and_exits_2() {
    let port = common::free_port();
    for queue in [
        format!("redis://127.0.0.1:{port}/q"),
        format!("nats://127.0.0.1:{port}/q"),
    ] {
        for args in [
            vec!["enqueue", &queue, "--broker-wait", "1", "in", "out"],
            vec!["work", &queue, "--broker-wait", "1"],
            vec!["queue-status", &queue, "--broker-wait", "1"],
        ] {
            let output = imgpar().args(&args).output().unwrap();
            let text = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
            assert!(
                text.contains("cannot reach the broker") && text.contains(&queue),
                "{args:?}: {text}"
            );
        }
    }
}

#[test]
fn a_queue_with_no_plan_and_a_bad_address_are_refused() {
    let broker = BrokerServer::redis();
    let queue = broker.queue("empty");
    let output = imgpar().args(["work", &queue]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(text.contains("holds no plan"), "{text}");
    let output = imgpar()
        .args(["work", "redis://127.0.0.1:1/a.b"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("a queue's name"));
    // The plan is read twice: a list on stdin cannot be.
    let output = imgpar()
        .args(["enqueue", &queue, "-", "out"])
        .write_stdin("http://127.0.0.1:1/a.png\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not -"));
}

#[test]
fn a_workers_report_that_would_take_an_images_name_in_the_output_is_refused_first() {
    let broker = BrokerServer::redis();
    let queue = broker.queue("report");
    let input = corpus(1);
    let out = tempfile::tempdir().unwrap();
    assert!(
        enqueue(&queue, &[input.path(), out.path()])
            .status
            .success()
    );
    // A report named like an image inside the output: a re-run would take it for one.
    let clash = out.path().join("report.png");
    let (code, text) = ended(worker(&queue, &["--report", clash.to_str().unwrap()]));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("report"), "{text}");
    assert!(
        outputs(out.path()).is_empty(),
        "images converted before the refusal"
    );
    // The same worker with its report beside the images works the queue.
    let beside = out.path().join("report.json");
    let (code, text) = ended(worker(&queue, &["--report", beside.to_str().unwrap()]));
    assert_eq!(code, 0, "{text}");
    assert!(common::report_at(&beside)["ok"].as_u64().unwrap() > 0);
}

#[test]
fn a_queue_into_a_bucket_writes_the_unsharded_objects_and_counts_a_committed_one_once() {
    let broker = BrokerServer::redis();
    let queue = broker.queue("bucket");
    let moto = stores::StoreServer::moto();
    moto.bucket("thumbs");
    let input = fixtures("images");
    let reference = unsharded(&[&input]);
    // A worker killed after its put, before its ack, left this object.
    let red = std::fs::read(reference.path().join("red.png")).unwrap();
    moto.put_all("thumbs", vec![("out/red.png".into(), red)]);
    let output = moto.url("thumbs", "out");
    let enqueued = imgpar()
        .envs(moto.env())
        .args(["enqueue", &queue])
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap();
    assert!(enqueued.status.success(), "{enqueued:?}");
    let mut worker = Command::new(assert_cmd::cargo::cargo_bin("imgpar"));
    let worker = worker
        .envs(moto.env())
        .args(["work", &queue, "-j", "2", "-q"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, text) = ended(worker);
    assert_eq!(code, 0, "{text}");
    assert_eq!(moto.objects("thumbs", "out"), all_bytes(reference.path()));
    let (code, text, report) = status(&queue);
    assert_eq!(code, 0, "{text}");
    assert_eq!(record_for(&report, "/red.png")["status"], "ok");
}

/// `redis-cli` (Debian's redis-tools, which redis-server brings) against `broker`.
fn redis_cli(broker: &BrokerServer, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-p", &broker.port.to_string(), "--raw"])
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(output.status.success(), "redis-cli {args:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_message_that_puts_its_output_outside_the_queues_output_is_refused() {
    let broker = BrokerServer::redis();
    let input = fixtures("images");
    let (out, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(
        enqueue(&broker.queue("mine"), &[&input, out.path()])
            .status
            .success()
    );
    // A message of another plan, writing elsewhere, slipped into this queue.
    assert!(
        enqueue(&broker.queue("theirs"), &[&input, elsewhere.path()])
            .status
            .success()
    );
    let entry = redis_cli(
        &broker,
        &["XRANGE", "imgpar:theirs:images", "-", "+", "COUNT", "1"],
    );
    let lines: Vec<&str> = entry.lines().collect();
    let (id, job) = (lines[2], lines[4]);
    let forged = format!("{id}f");
    redis_cli(
        &broker,
        &["XADD", "imgpar:mine:images", "*", "id", &forged, "job", job],
    );
    redis_cli(&broker, &["SADD", "imgpar:mine:queued", &forged]);

    let (code, text) = ended(worker(&broker.queue("mine"), &["-j", "2"]));
    assert_eq!(code, 1, "{text}");
    assert!(
        common::files_under(elsewhere.path()).is_empty(),
        "written outside the queue's output"
    );
    assert_eq!(
        outputs(out.path()).len(),
        all_bytes(unsharded(&[&input]).path()).len()
    );
    let (_, _, report) = status(&broker.queue("mine"));
    let refused: Vec<&serde_json::Value> = records(&report)
        .iter()
        .filter(|r| {
            r["error"]
                .as_str()
                .is_some_and(|e| e.contains("outside the queue's output"))
        })
        .collect();
    assert_eq!(refused.len(), 1, "{report}");
}
