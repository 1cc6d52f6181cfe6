//! The plan as data: `imgpar plan --shards N --to DIR` plans once and writes N shard
//! files; `imgpar run --plan FILE`, run by tasks in any folder, converts each file's
//! images into exactly what one run writes (names decided over the whole plan: sub-folders
//! kept, colliding names told apart, a broken file failed alone), and their reports add up
//! in `merge-reports` to the plan, like the reports of `--shard I/N` runs, with which they
//! mix; a task run again fails nothing it finished; a report may not replace the shard
//! file. A file cut short, or not a shard file, is refused before anything is written;
//! shard files are never replaced.

use crate::common;

use std::path::{Path, PathBuf};

use common::{all_bytes, imgpar_unsharded};

use super::shards::colliding_folder;

/// The shard files `imgpar plan` wrote into `dir`, in shard order.
fn shard_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

fn report_of(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn shard_files_convert_to_exactly_what_one_run_writes_and_add_up_to_the_plan() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    colliding_folder(&input);
    std::fs::write(
        input.join("d1").join("broken.png"),
        b"\x89PNG\r\n\x1a\nnot a png",
    )
    .unwrap();
    let whole = scratch.path().join("whole");
    imgpar_unsharded().arg(&input).arg(&whole).assert().code(1);

    // Planned with relative paths from the scratch folder; the tasks run elsewhere.
    let plans = scratch.path().join("plans");
    imgpar_unsharded()
        .current_dir(scratch.path())
        .args(["plan", "in", "out", "--shards", "4", "--to", "plans"])
        .assert()
        .success()
        .stderr(predicates::str::contains("28 images planned"));
    let files = shard_files(&plans);
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "shard-00000-of-00004.jsonl",
            "shard-00001-of-00004.jsonl",
            "shard-00002-of-00004.jsonl",
            "shard-00003-of-00004.jsonl"
        ],
        "only the four files, none partial"
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let reports = scratch.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let mut failed = 0;
    for (i, file) in files.iter().enumerate() {
        let report = reports.join(format!("{i}.json"));
        let ran = imgpar_unsharded()
            .current_dir(elsewhere.path())
            .args(["run", "--plan"])
            .arg(file)
            .arg("--report")
            .arg(&report)
            .output()
            .unwrap();
        let json = report_of(&report);
        assert_eq!(json["shard"]["index"], i, "{json}");
        assert_eq!(json["shard"]["count"], 4);
        assert_eq!(json["shard"]["plan_images"], 28);
        failed += json["failed"].as_u64().unwrap();
        let expected = if json["failed"] == 0 { 0 } else { 1 };
        assert_eq!(ran.status.code(), Some(expected), "{json}");
    }
    assert_eq!(failed, 1, "the broken file fails, once");
    assert_eq!(all_bytes(&scratch.path().join("out")), all_bytes(&whole));

    // Every task run again (retried, or run twice by an engine) finds its outputs holding
    // what its images convert to: converted again, nothing written, nothing failed anew.
    for (i, file) in files.iter().enumerate() {
        let first = report_of(&reports.join(format!("{i}.json")));
        let retried = reports.join(format!("retried-{i}.json"));
        imgpar_unsharded()
            .args(["run", "-q", "--plan"])
            .arg(file)
            .arg("--report")
            .arg(&retried)
            .output()
            .unwrap();
        let json = report_of(&retried);
        assert_eq!(json["ok"], first["ok"], "{json}");
        assert_eq!(json["failed"], first["failed"], "{json}");
    }
    assert_eq!(all_bytes(&scratch.path().join("out")), all_bytes(&whole));

    // The reports add up to the plan, and one of them may come from a --shard run of the
    // same plan: the same identity, the same shard.
    let mut names: Vec<PathBuf> = (0..4).map(|i| reports.join(format!("{i}.json"))).collect();
    imgpar_unsharded()
        .arg("merge-reports")
        .args(&names)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "the shards add up to exactly the plan",
        ));
    let sharded_out = scratch.path().join("sharded");
    let by_shard = reports.join("by-shard.json");
    imgpar_unsharded()
        .arg(&input)
        .arg(&sharded_out)
        .args(["--shard", "2/4", "--report"])
        .arg(&by_shard)
        .output()
        .unwrap();
    let plan_id = report_of(&names[2])["plan"]["id"].clone();
    let mut by_shard_report = report_of(&by_shard);
    assert_ne!(
        by_shard_report["plan"]["id"], plan_id,
        "another output folder, another plan"
    );
    // The same plan again, into the same output as the plan files: the same identity.
    imgpar_unsharded()
        .current_dir(scratch.path())
        .args(["in", "out", "--shard", "2/4", "--skip-existing", "--report"])
        .arg(&by_shard)
        .output()
        .unwrap();
    by_shard_report = report_of(&by_shard);
    assert_eq!(by_shard_report["plan"]["id"], plan_id);
    assert_eq!(by_shard_report["ok"], 0, "{by_shard_report}");
    names[2] = by_shard;
    imgpar_unsharded()
        .arg("merge-reports")
        .args(&names)
        .assert()
        .stderr(predicates::str::contains(
            "the shards add up to exactly the plan",
        ));

    // Planned again with --skip-existing, the tasks find everything written.
    let again = scratch.path().join("again");
    imgpar_unsharded()
        .current_dir(scratch.path())
        .args([
            "plan",
            "in",
            "out",
            "--skip-existing",
            "--shards",
            "2",
            "--to",
            "again",
            "-q",
        ])
        .assert()
        .success();
    let mut skipped = 0;
    for file in shard_files(&again) {
        let report = reports.join("again.json");
        imgpar_unsharded()
            .args(["run", "-q", "--plan"])
            .arg(&file)
            .arg("--report")
            .arg(&report)
            .output()
            .unwrap();
        let json = report_of(&report);
        assert_eq!(json["ok"], 0, "{json}");
        skipped += json["skipped"].as_u64().unwrap();
    }
    assert_eq!(
        skipped, 27,
        "every converted image skipped, the broken one failed again"
    );
}

#[test]
fn cut_or_foreign_shard_files_are_refused_and_shard_files_never_replaced() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    colliding_folder(&input);
    let plans = scratch.path().join("plans");
    let out = scratch.path().join("out");
    imgpar_unsharded()
        .arg("plan")
        .arg(&input)
        .arg(&out)
        .args(["--shards", "2", "--to"])
        .arg(&plans)
        .assert()
        .success();
    let files = shard_files(&plans);
    let whole = std::fs::read(&files[0]).unwrap();

    // Its last line (the end of the plan) cut off: refused, nothing written.
    let body = whole.strip_suffix(b"\n").unwrap();
    let last = body.iter().rposition(|&b| b == b'\n').unwrap();
    let cut = scratch.path().join("cut.jsonl");
    std::fs::write(&cut, &whole[..=last]).unwrap();
    // Cut inside a row: refused too.
    let torn = scratch.path().join("torn.jsonl");
    std::fs::write(&torn, &whole[..whole.len() / 2]).unwrap();
    for file in [&cut, &torn] {
        imgpar_unsharded()
            .args(["run", "--plan"])
            .arg(file)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("cut short"));
    }
    let foreign = scratch.path().join("foreign.jsonl");
    std::fs::write(&foreign, b"{\"images\": []}\n").unwrap();
    imgpar_unsharded()
        .args(["run", "--plan"])
        .arg(&foreign)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a shard file"));
    assert!(!out.exists(), "nothing was written");

    // A second plan into the same folder replaces nothing.
    imgpar_unsharded()
        .arg("plan")
        .arg(&input)
        .arg(scratch.path().join("other"))
        .args(["--shards", "2", "--to"])
        .arg(&plans)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("exists already"));
    assert_eq!(std::fs::read(&files[0]).unwrap(), whole);
    assert_eq!(shard_files(&plans), files, "no partial file left");

    // A report that would replace the shard file, or take an image's name in the output,
    // is refused before anything is written, as a run refuses its result files.
    for (report, why) in [
        (files[0].clone(), "is an input"),
        (out.join("p0.png"), "image's name"),
    ] {
        imgpar_unsharded()
            .args(["run", "--plan"])
            .arg(&files[0])
            .arg("--report")
            .arg(&report)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(why));
    }
    assert_eq!(std::fs::read(&files[0]).unwrap(), whole);
    assert!(!out.exists(), "nothing was written");
}

#[test]
fn a_task_with_overwrite_never_replaces_an_input_its_output_path_leads_to_since_the_plan() {
    // Planned with --overwrite into an output folder of its own; then the output folder
    // is made a link to the input folder, so that the output's path is its input's (an
    // atomic commit renames over the path: the input would be gone). The task refuses
    // before writing; without --overwrite the create-only write would fail the image.
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    image::GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * 5 + y) as u8]))
        .save(input.join("x.png"))
        .unwrap();
    let original = std::fs::read(input.join("x.png")).unwrap();
    let out = scratch.path().join("out");
    let plans = scratch.path().join("plans");
    imgpar_unsharded()
        .arg("plan")
        .arg(&input)
        .arg(&out)
        .args(["--overwrite", "--shards", "1", "--to"])
        .arg(&plans)
        .assert()
        .success();
    std::os::unix::fs::symlink(&input, &out).unwrap();
    imgpar_unsharded()
        .args(["run", "--plan"])
        .arg(&shard_files(&plans)[0])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("would replace the input"));
    assert_eq!(std::fs::read(input.join("x.png")).unwrap(), original);
}
