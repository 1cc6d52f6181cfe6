//! `imgpar bench` and the run's trace and timeline, on the real binary: the files hold one
//! row per mode and worker count with consistent numbers, the plot is well-formed SVG with
//! a series per mode, and a trace has one span per image with its stages inside.

use crate::common;

use std::collections::HashMap;

use common::*;

#[test]
fn bench_writes_a_consistent_table_csv_json_and_plot() {
    let out = tempfile::tempdir().unwrap();
    let assert = imgpar()
        .args(["bench"])
        .arg(fixtures("images"))
        .args(["--repeat", "2", "--warmup", "0", "-j", "1,2", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let table = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(table.contains("17 images"), "{table}");
    assert!(table.contains("Amdahl"), "{table}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("bench.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let points: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["mode"].as_str().unwrap().to_string(),
                r["workers"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = [
        ("sequential", 1),
        ("threaded", 1),
        ("threaded", 2),
        ("process", 1),
        ("process", 2),
        ("async", 1),
        ("async", 2),
    ]
    .iter()
    .map(|(m, w)| (m.to_string(), *w))
    .collect();
    assert_eq!(points, expected);
    for row in rows {
        let speedup = row["speedup"].as_f64().unwrap();
        let workers = row["workers"].as_f64().unwrap();
        assert!((row["efficiency"].as_f64().unwrap() - speedup / workers).abs() < 1e-12);
        assert_eq!(row["walls_s"].as_array().unwrap().len(), 2);
        let (min, median, max) = (
            row["wall_min_s"].as_f64().unwrap(),
            row["wall_median_s"].as_f64().unwrap(),
            row["wall_max_s"].as_f64().unwrap(),
        );
        assert!(min > 0.0 && min <= median && median <= max);
        assert!(row["cpu_s"].as_f64().unwrap() > 0.0);
        assert!(row["peak_mib"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(rows[0]["speedup"], 1.0, "sequential is the baseline");
    assert_eq!(
        json["fits"].as_array().unwrap().len(),
        3,
        "one fit per swept mode"
    );

    let csv = std::fs::read_to_string(out.path().join("bench.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + expected.len());
    assert!(lines[0].starts_with("mode,workers,"));
    assert!(lines[1].starts_with("sequential,1,false,"));

    // The plot: well-formed SVG, a legend entry and a line per mode.
    let svg = std::fs::read_to_string(out.path().join("speedup.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("speedup.svg is XML");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    for mode in [
        "sequential",
        "threaded",
        "process",
        "async",
        "ideal",
        "workers",
        "speedup",
    ] {
        assert!(
            texts.iter().any(|t| t == mode),
            "no {mode} label in {texts:?}"
        );
    }
    // Mode lines are 2 px wide: per colour, the series itself and its legend sample.
    let mut by_colour: HashMap<String, Vec<usize>> = HashMap::new();
    for line in doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("2"))
    {
        let points = line.attribute("points").unwrap().split_whitespace().count();
        by_colour
            .entry(line.attribute("stroke").unwrap().to_string())
            .or_default()
            .push(points);
    }
    assert_eq!(by_colour.len(), 4, "{by_colour:?}");
    let mut series: Vec<usize> = by_colour
        .values()
        .map(|lines| *lines.iter().max().unwrap())
        .collect();
    series.sort_unstable();
    assert_eq!(
        series,
        vec![2, 2, 2, 2],
        "three 2-point lines, sequential's legend sample"
    );
}

#[test]
fn a_trace_has_one_span_per_image_with_its_stages_inside() {
    let out = tempfile::tempdir().unwrap();
    let trace = out.path().join("trace.json");
    let timeline = out.path().join("timeline.svg");
    for mode in parallel_modes() {
        imgpar()
            .arg(fixtures("images"))
            .arg(out.path().join(mode))
            .args(["--mode", mode, "-j", "2", "--trace"])
            .arg(&trace)
            .arg("--timeline")
            .arg(&timeline)
            .assert()
            .success();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
        let events = json["traceEvents"].as_array().unwrap();
        let span = |e: &serde_json::Value| {
            let ts = e["ts"].as_f64().unwrap();
            (
                e["tid"].as_u64().unwrap(),
                ts,
                ts + e["dur"].as_f64().unwrap(),
            )
        };
        let images: Vec<(u64, f64, f64)> = events
            .iter()
            .filter(|e| e["cat"] == "image" && e["ph"] == "X")
            .map(span)
            .collect();
        assert_eq!(images.len(), 17, "{mode}: one span per image");
        let mut names: Vec<&str> = events
            .iter()
            .filter(|e| e["cat"] == "image")
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 17, "{mode}: each image once");
        let stages: Vec<&serde_json::Value> =
            events.iter().filter(|e| e["cat"] == "stage").collect();
        assert!(
            stages.len() >= 17 * 3,
            "{mode}: decode, resize, encode at least"
        );
        for stage in stages {
            let (tid, start, end) = span(stage);
            assert!(
                images
                    .iter()
                    .any(|&(t, s, e)| t == tid && s <= start && end <= e + 1e-3),
                "{mode}: stage {stage} is outside every image on its track"
            );
        }
        let svg = std::fs::read_to_string(&timeline).unwrap();
        let doc = roxmltree::Document::parse(&svg).expect("the timeline is XML");
        let labels: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(str::trim))
            .collect();
        assert!(
            labels.contains(&"worker 0") && labels.contains(&"worker 1"),
            "{labels:?}"
        );
    }
}

#[test]
fn bench_warns_when_other_processes_hold_the_cores() {
    // Two threads of this test process spin on both cores while the sweep runs: the
    // runs' own CPU time does not explain how busy the machine was.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let out = tempfile::tempdir().unwrap();
    let assert = imgpar()
        .args(["bench"])
        .arg(fixtures("images"))
        .args([
            "--modes",
            "sequential,threaded",
            "--repeat",
            "2",
            "--warmup",
            "0",
            "-j",
            "2",
        ])
        .arg("--out")
        .arg(out.path())
        .assert();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for spinner in spinners {
        spinner.join().unwrap();
    }
    let output = assert.success().get_output().clone();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("warning: other processes competed for the"),
        "{table}"
    );
    assert!(
        table.contains("spread") && table.contains("others"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("bench.json")).unwrap()).unwrap();
    let busiest = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["other_cores"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(busiest > 0.5, "other work measured as {busiest} cores");
    for row in json["rows"].as_array().unwrap() {
        let spread = row["spread"].as_f64().unwrap();
        let (min, median, max) = (
            row["wall_min_s"].as_f64().unwrap(),
            row["wall_median_s"].as_f64().unwrap(),
            row["wall_max_s"].as_f64().unwrap(),
        );
        assert!((spread - (max - min) / median).abs() < 1e-9);
    }
}

#[test]
fn bench_checks_its_out_folder_first_and_keeps_what_it_measured_when_interrupted() {
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("bench.txt");
    std::fs::write(&file, "mine").unwrap();
    let clock = std::time::Instant::now();
    imgpar()
        .args(["bench"])
        .arg(fixtures("images"))
        .arg("--out")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--out takes a folder"));
    assert!(
        clock.elapsed() < std::time::Duration::from_secs(5),
        "checked after the sweep"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"mine");

    // Interrupted after the first point: its figures are written.
    let out = scratch.path().join("bench");
    let mut bench = std::process::Command::new(assert_cmd::cargo::cargo_bin("imgpar"))
        .args(["bench"])
        .arg(fixtures("images"))
        .args(["--repeat", "3", "--warmup", "0", "-j", "1,2", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = bench.id();
    let mut reader = std::io::BufReader::new(bench.stderr.take().unwrap());
    let mut line = String::new();
    // The first point's line, then Ctrl-C.
    while std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0 {
        if line.contains("bench: sequential with 1 worker") {
            break;
        }
        line.clear();
    }
    signal(pid, libc::SIGINT);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = bench.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("bench: interrupted; the"), "{rest}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("bench.json")).unwrap()).unwrap();
    assert!(!json["rows"].as_array().unwrap().is_empty());
}
