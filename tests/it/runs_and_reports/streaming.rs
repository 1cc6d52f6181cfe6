//! The batch as a stream: planning a shard costs what the shard needs, not the whole
//! plan, and the report is written as the images end, so that a run killed at any moment
//! leaves every record written before, each whole.

use crate::common;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// Lines of the list planned under the cap.
const LINES: usize = 1_000_000;
/// The address space the planning process gets: imgpar before the plan was streamed
/// needed 658 MiB of memory for this list.
const ADDRESS_SPACE: u64 = 160 << 20;

fn write_list(path: &Path) -> Vec<String> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut urls = Vec::with_capacity(LINES);
    for i in 0..LINES {
        // One line in a hundred shares its name: those get their line number in front.
        let name = if i % 100 == 0 {
            "image.jpg".to_string()
        } else {
            format!("photo-{i}.jpg")
        };
        let url = format!("http://127.0.0.1:9/{}/{name}", i % 7);
        writeln!(out, "{url}").unwrap();
        urls.push(url);
    }
    out.flush().unwrap();
    urls
}

#[test]
fn a_million_line_list_is_planned_and_sharded_in_a_capped_address_space() {
    let scratch = tempfile::tempdir().unwrap();
    let list = scratch.path().join("urls.txt");
    let urls = write_list(&list);
    let binary = assert_cmd::cargo::cargo_bin("imgpar");
    let mut command = std::process::Command::new(binary);
    command
        .arg("--urls")
        .arg(&list)
        .arg(scratch.path().join("out"))
        .args(["--dry-run", "--shard", "3/1000"]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let ran = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(ran.status.success(), "{stderr}");
    assert!(
        stderr.contains("(shard 3/1000 of a plan of 1000000"),
        "{stderr}"
    );

    // Exactly the lines whose URL hashes to shard 3, in list order, named as in the
    // whole plan: shared names carry their line number.
    let expected: Vec<(usize, &String)> = urls
        .iter()
        .enumerate()
        .filter(|(_, url)| xxhash_rust::xxh3::xxh3_64(url.as_bytes()) % 1000 == 3)
        .collect();
    let stdout = String::from_utf8(ran.stdout).unwrap();
    let planned: Vec<&str> = stdout.lines().collect();
    assert_eq!(planned.len(), expected.len());
    assert!(expected.len() > 800, "{}", expected.len());
    for ((line, url), planned) in expected.iter().zip(&planned) {
        let (input, output) = planned.split_once(" -> ").unwrap();
        assert_eq!(input, url.as_str());
        let name = Path::new(output).file_name().unwrap().to_str().unwrap();
        if url.ends_with("/image.jpg") {
            assert_eq!(name, format!("{:04}-image.jpg", line + 1));
        } else {
            assert_eq!(name, url.rsplit('/').next().unwrap());
        }
    }
}

#[test]
fn a_report_cut_by_sigkill_holds_every_record_written_before_whole() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let source = std::fs::read(fixtures("images").join("rgb8.png")).unwrap();
    for i in 0..30 {
        std::fs::write(input.join(format!("img-{i:02}.png")), &source).unwrap();
    }
    // A pipe nobody writes to: its image never ends, so the run is still going.
    let hold = scratch.path().join("hold.png");
    named_pipe(&hold);
    let (out, json) = (scratch.path().join("out"), scratch.path().join("r.json"));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
        .arg(&input)
        .arg(&hold)
        .arg(&out)
        .args(["--mode", "threaded", "-j", "2", "--quiet", "--report"])
        .arg(&json)
        .spawn()
        .unwrap();
    let records = |text: &str| text.lines().skip(1).count();
    let started = Instant::now();
    while records(&std::fs::read_to_string(&json).unwrap_or_default()) < 30 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run stalled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let text = std::fs::read_to_string(&json).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(r#"{"format":"imgpar-report-2","images":["#)
    );
    let mut seen = 0;
    for (i, line) in lines.enumerate() {
        let record = if i == 0 {
            line
        } else {
            line.strip_prefix(',')
                .expect("records after the first start with a comma")
        };
        let record: serde_json::Value = serde_json::from_str(record).unwrap();
        assert_eq!(record["status"], "ok", "{record}");
        let output = record["output"].as_str().unwrap();
        assert!(Path::new(output).is_file(), "{output}");
        seen += 1;
    }
    assert_eq!(seen, 30);

    // A report without its totals cannot be merged; merge-reports says which and why.
    imgpar()
        .arg("merge-reports")
        .arg(&json)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "ends after 30 records, before its totals",
        ));
}

#[test]
fn past_a_thousand_failures_the_summary_says_how_many_more_and_the_report_has_them_all() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for i in 0..1005 {
        std::fs::write(input.join(format!("broken-{i:04}.png")), b"").unwrap();
    }
    let json = scratch.path().join("r.json");
    let ran = imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .arg("--report")
        .arg(&json)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&ran.get_output().stderr);
    let listed = stderr.lines().filter(|l| l.contains("broken-")).count();
    assert_eq!(listed, 1000, "{stderr}");
    assert!(
        stderr.contains("... and 5 more failures (a --report file lists every image)"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["failed"], 1005);
    assert_eq!(report["images"].as_array().unwrap().len(), 1005);
}
