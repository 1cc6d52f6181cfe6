//! What a sharded run promises, checked against the mistakes users make and the stores they
//! use: `merge-reports` refuses reports of another plan (other files, names, output or
//! settings), naming the odd one against the majority; it takes a folder or a bucket
//! prefix of reports; a report, trace or timeline at an object address that cannot be
//! written stops the run before any image; a store that ignores create-only writes
//! (s3rver) is found out before any image; GCS is reached through the documented
//! variables (fake-gcs-server: reads and listings; its refusal of uploads stops the run
//! before any image).

use crate::common;
use crate::common::stores;

use std::path::{Path, PathBuf};

use common::{all_bytes, files_under, fixtures, imgpar, imgpar_unsharded};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use stores::{StoreServer, folder_as_objects};

fn imgpar_on(server: &StoreServer) -> assert_cmd::Command {
    let mut cmd = imgpar_unsharded();
    server.point(&mut cmd);
    cmd
}

/// Twelve small pictures in two folders.
fn pictures(dir: &Path) {
    for i in 0..12u32 {
        let sub = dir.join(format!("d{}", i % 2));
        std::fs::create_dir_all(&sub).unwrap();
        image::GrayImage::from_fn(30 + i, 20, |x, y| image::Luma([(x * 5 + y * i) as u8]))
            .save(sub.join(format!("p{i}.png")))
            .unwrap();
    }
}

/// Shard `i` of 3 of `input` into `output` (existing outputs skipped) with `extra` flags,
/// its report at `report`.
fn shard(input: &Path, output: &Path, i: u32, report: &Path, extra: &[&str]) {
    imgpar_unsharded()
        .arg(input)
        .arg(output)
        .arg(format!("--shard={i}/3"))
        .arg("--skip-existing")
        .args(extra)
        .arg("--report")
        .arg(report)
        .assert()
        .success();
}

/// Twelve pictures converted as shards 0, 1 and 2 of 3 into one output, each shard's
/// report `{prefix}{i}.json` in a folder of reports: the scratch folder, the input, the
/// output and the reports' folder.
fn three_shards_reported(prefix: &str) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    pictures(&input);
    let out = scratch.path().join("out");
    let reports = scratch.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    for i in 0..3 {
        shard(
            &input,
            &out,
            i,
            &reports.join(format!("{prefix}{i}.json")),
            &[],
        );
    }
    (scratch, input, out, reports)
}

#[test]
fn merge_refuses_reports_of_another_plan_and_names_what_differs() {
    let (scratch, input, out, reports) = three_shards_reported("s");
    imgpar()
        .arg("merge-reports")
        .arg(&reports)
        .assert()
        .code(0)
        .stderr(contains("3 reports of 3 shards"))
        .stderr(contains("complete: the shards add up to exactly the plan"));

    // Shard 0 again, each time of a plan that would not write the same union: a copy of
    // the folder with one file renamed (the same count, still shard 0 of 3), another
    // output, other settings. The odd report is the first one, by name and by shard: the
    // majority decides which is odd.
    let renamed = scratch.path().join("renamed");
    pictures(&renamed);
    std::fs::rename(renamed.join("d0/p0.png"), renamed.join("d0/q0.png")).unwrap();
    let cases: [(&str, &Path, &Path, &[&str], &str); 3] = [
        (
            "renamed",
            &renamed,
            &out,
            &[],
            "other files or have other names",
        ),
        (
            "elsewhere",
            &input,
            &scratch.path().join("out2"),
            &[],
            "out2, the others to",
        ),
        (
            // Into a folder of its own: outputs of other settings are not this plan's
            // (--skip-existing refuses to count them as done).
            "smaller",
            &input,
            &scratch.path().join("out-small"),
            &["--size", "64x64"],
            "width 64 (the others 256)",
        ),
    ];
    for (name, input, output, extra, said) in cases {
        let odd = scratch.path().join(format!("odd-{name}"));
        std::fs::create_dir_all(&odd).unwrap();
        for i in [1, 2] {
            std::fs::copy(
                reports.join(format!("s{i}.json")),
                odd.join(format!("s{i}.json")),
            )
            .unwrap();
        }
        shard(input, output, 0, &odd.join("r0.json"), extra);
        imgpar()
            .arg("merge-reports")
            .arg(&odd)
            .assert()
            .code(4)
            .stderr(contains("r0.json is of another plan than the others"))
            .stderr(contains(said));
    }
    // Something that is not an imgpar report: exit 2, naming it.
    let foreign = scratch.path().join("foreign.json");
    std::fs::write(&foreign, b"{\"images\": 3}").unwrap();
    imgpar()
        .arg("merge-reports")
        .arg(reports.join("s0.json"))
        .arg(&foreign)
        .assert()
        .code(2)
        .stderr(contains("foreign.json is not an imgpar report"));
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_any_image() {
    let azurite = StoreServer::azurite();
    azurite.bucket("photos");
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    for (flag, target) in [
        ("--report", azurite.url("nosuch", "r.json")),
        ("--trace", azurite.url("nosuch", "t.json")),
        ("--timeline", azurite.url("nosuch", "t.svg")),
    ] {
        imgpar_on(&azurite)
            .arg(fixtures("images"))
            .arg(&out)
            .args([flag, &target])
            .assert()
            .code(2)
            .stderr(contains(format!("at {target}")));
        // Refused at the start: not even the output folder is left behind.
        assert!(!out.exists(), "{flag}: images were converted first");
    }
    // Credentials that cannot sign: the same, before any image.
    imgpar_unsharded()
        .envs(azurite.env())
        .env("AZURE_STORAGE_ACCOUNT_KEY", "bm90IHRoZSBrZXk=")
        .arg(fixtures("images"))
        .arg(&out)
        .args(["--report", &azurite.url("photos", "r.json")])
        .assert()
        .code(2);
    assert!(!out.exists());
    // And a report that can be written is, at the end.
    imgpar_on(&azurite)
        .arg(fixtures("images"))
        .arg(&out)
        .args(["--report", &azurite.url("photos", "r.json")])
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&azurite.get("photos", "r.json")).unwrap();
    assert_eq!(report["ok"], files_under(&out).len());
    assert!(
        azurite
            .keys("photos", "")
            .iter()
            .all(|k| !k.to_string_lossy().contains("imgpar-probe")),
        "the probe objects are removed"
    );
}

#[test]
fn a_store_that_ignores_create_only_writes_is_found_out_before_any_image() {
    let s3rver = StoreServer::s3rver(&["photos"]);
    let output = s3rver.url("photos", "out");
    imgpar_on(&s3rver)
        .arg(fixtures("images"))
        .arg(&output)
        .assert()
        .code(2)
        .stderr(contains("ignores create-only writes"))
        .stderr(contains("--unconditional-store listing"));
    assert!(s3rver.keys("photos", "out").is_empty(), "nothing written");
    // Going on, as asked: a warning on stderr and in the report.
    let report = tempfile::tempdir().unwrap();
    let report = report.path().join("r.json");
    imgpar_on(&s3rver)
        .arg(fixtures("images"))
        .arg(&output)
        .args(["--unconditional-store", "listing", "--report"])
        .arg(&report)
        .assert()
        .success()
        .stderr(contains("warning: the store of"));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(
        json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("ignores create-only"),
        "{json}"
    );
    assert_eq!(
        s3rver.keys("photos", "out").len(),
        json["ok"].as_u64().unwrap() as usize
    );
    assert!(json["ok"].as_u64().unwrap() > 5);
    // --overwrite needs no create-only writes: no refusal, no warning.
    imgpar_on(&s3rver)
        .arg(fixtures("images"))
        .arg(&output)
        .arg("--overwrite")
        .assert()
        .success()
        .stderr(contains("warning").not());
}

#[test]
fn gcs_reads_and_lists_through_the_documented_variables_and_a_refused_write_stops_the_run() {
    let gcs = StoreServer::fake_gcs();
    gcs.bucket("photos");
    gcs.put_all("photos", folder_as_objects(&fixtures("images"), "in"));
    let local = common::convert(&fixtures("images"), &[]);
    for mode in ["threaded", "process"] {
        let out = tempfile::tempdir().unwrap();
        imgpar_on(&gcs)
            .arg(gcs.url("photos", "in"))
            .arg(out.path().join("thumbs"))
            .args(["--mode", mode])
            .assert()
            .success();
        assert_eq!(
            all_bytes(&out.path().join("thumbs")),
            all_bytes(local.path()),
            "{mode}"
        );
    }
    // fake-gcs-server takes no XML API uploads: the probe finds it before any image.
    imgpar_on(&gcs)
        .arg(fixtures("images"))
        .arg(gcs.url("photos", "out"))
        .assert()
        .code(2)
        .stderr(contains("nothing can be written there"));
    assert!(gcs.keys("photos", "out").is_empty());
}

#[test]
fn merge_reports_takes_a_bucket_prefix_of_reports() {
    let moto = StoreServer::moto();
    moto.bucket("photos");
    let scratch = tempfile::tempdir().unwrap();
    pictures(&scratch.path().join("in"));
    for i in 0..3 {
        imgpar_on(&moto)
            .arg(scratch.path().join("in"))
            .arg(moto.url("photos", "out"))
            .arg(format!("--shard={i}/3"))
            .args([
                "--report",
                &moto.url("photos", &format!("reports/shard-{i}.json")),
            ])
            .assert()
            .success();
    }
    let merged = scratch.path().join("merged.json");
    imgpar_on(&moto)
        .args(["merge-reports", &moto.url("photos", "reports/")])
        .arg("-o")
        .arg(&merged)
        .assert()
        .code(0)
        .stderr(contains("complete: the shards add up to exactly the plan"));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(json["ok"], 12);
    // A prefix with a typo: said so, not just "no images".
    imgpar_on(&moto)
        .arg(moto.url("photos", "reprots"))
        .arg(scratch.path().join("typo-out"))
        .assert()
        .stderr(contains("the prefix holds no objects"));
    imgpar_on(&moto)
        .args(["merge-reports", &moto.url("photos", "typo/")])
        .assert()
        .code(2)
        .stderr(contains("no reports (*.json) under"));
}

#[test]
fn merge_reports_never_deletes_or_replaces_a_report() {
    let (scratch, _input, _out, reports) = three_shards_reported("r");
    let merge = |args: &[&std::path::Path]| {
        let mut command = imgpar();
        command.arg("merge-reports").args(args);
        command.assert()
    };
    // A failed merge leaves a merged report already there as it was.
    let kept = scratch.path().join("all.json");
    std::fs::write(&kept, b"an earlier merge").unwrap();
    let bogus = scratch.path().join("bogus.json");
    std::fs::write(&bogus, b"not a report").unwrap();
    merge(&[&bogus, std::path::Path::new("-o"), &kept]).code(2);
    assert_eq!(std::fs::read(&kept).unwrap(), b"an earlier merge");
    // Into the folder it reads, twice: the second passes over the first's output.
    let merged = reports.join("merged.json");
    for _ in 0..2 {
        merge(&[&reports, std::path::Path::new("-o"), &merged])
            .code(0)
            .stderr(contains("3 reports of 3 shards"))
            .stderr(contains("complete: the shards add up to exactly the plan"));
    }
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(again["complete"], true);
    // An earlier merged report under another name is passed over too, and said so.
    std::fs::copy(&merged, reports.join("old-merge.json")).unwrap();
    merge(&[&reports])
        .code(0)
        .stderr(contains("passed over"))
        .stderr(contains("old-merge.json"));
    // -o that is one of the reports read is refused before anything is read.
    let r0 = std::fs::read(reports.join("r0.json")).unwrap();
    merge(&[
        &reports.join("r0.json"),
        &reports.join("r1.json"),
        std::path::Path::new("-o"),
        &reports.join("r0.json"),
    ])
    .code(2)
    .stderr(contains("is one of the reports to merge"));
    assert_eq!(std::fs::read(reports.join("r0.json")).unwrap(), r0);
    // Read from a folder, -o r0.json is passed over as the output, and no report is lost.
    merge(&[
        &reports,
        std::path::Path::new("-o"),
        &reports.join("r0.json"),
    ])
    .code(2);
    assert_eq!(std::fs::read(reports.join("r0.json")).unwrap(), r0);
}
