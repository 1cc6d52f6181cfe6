//! Object storage in and out, against real servers on 127.0.0.1, the same suite on S3
//! (moto) and Azure Blob Storage (Azurite): a bucket prefix converts exactly like its
//! local copy in every mode, existing objects are handled like existing files, racing
//! runs write each object once, overlapping prefixes are refused, the eight tasks of an
//! array job write exactly what one unsharded run writes, however often re-run, and so do
//! the tasks of a prefix planned as shard files.

use crate::common;
use crate::common::stores;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{ENGINE_VARIABLES, all_bytes, fixtures, imgpar, imgpar_unsharded};
use stores::{StoreServer, folder_as_objects};

/// imgpar pointed at the server `moto`, with no engine variables of its own.
fn imgpar_on(moto: &StoreServer) -> assert_cmd::Command {
    let mut cmd = imgpar_unsharded();
    moto.point(&mut cmd);
    cmd
}

/// imgpar as a plain process (to run several at once, or kill one), pointed at `moto`,
/// with no engine variables of its own.
fn imgpar_process(moto: &StoreServer) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("imgpar"));
    for variable in ENGINE_VARIABLES {
        cmd.env_remove(variable);
    }
    cmd.envs(moto.env());
    cmd
}

/// The suite, once a server: every test below runs on S3 and on Azure.
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {
        mod s3 {
            $(#[test] fn $test() { super::$test(&super::StoreServer::moto()); })*
        }
        mod azure {
            $(#[test] fn $test() { super::$test(&super::StoreServer::azurite()); })*
        }
    };
}

on_every_store!(
    a_bucket_prefix_converts_like_its_local_copy_in_every_mode,
    existing_objects_are_failures_skips_or_replaced_as_asked,
    two_runs_racing_on_the_same_outputs_write_each_object_once,
    overlapping_prefixes_are_refused_before_anything_is_written,
    eight_array_tasks_write_exactly_what_one_run_writes_however_often_rerun,
    a_listing_of_several_pages_is_planned_whole_and_in_key_order,
    a_report_bigger_than_an_upload_part_is_put_whole,
    a_prefix_planned_as_shard_files_converts_like_one_run,
);

fn a_bucket_prefix_converts_like_its_local_copy_in_every_mode(moto: &StoreServer) {
    moto.bucket("photos");
    moto.put_all("photos", folder_as_objects(&fixtures("images"), "in"));
    let local = common::convert(&fixtures("images"), &[]);
    let expected = all_bytes(local.path());
    for mode in common::modes() {
        imgpar_on(moto)
            .args([
                moto.url("photos", "in"),
                moto.url("photos", &format!("out-{mode}")),
            ])
            .args(["--mode", mode])
            .arg("--report")
            .arg(moto.url("photos", &format!("reports/{mode}.json")))
            .assert()
            .success();
        assert_eq!(
            moto.objects("photos", &format!("out-{mode}")),
            expected,
            "{mode} mode"
        );
        let report: serde_json::Value =
            serde_json::from_slice(&moto.get("photos", &format!("reports/{mode}.json"))).unwrap();
        assert_eq!(report["ok"], expected.len(), "{mode}");
        assert_eq!(report["passed_over"], 1, "notes.txt is not an image");
        // Uploads that outlast a worker's part are not counted as its busy time.
        let efficiency = report["parallel_efficiency"].as_f64().unwrap();
        assert!(efficiency <= 1.0, "{mode}: efficiency {efficiency}");
        let text = report.to_string();
        assert!(
            !text.contains("testing-secret"),
            "no credentials in the report"
        );
    }
}

fn existing_objects_are_failures_skips_or_replaced_as_asked(moto: &StoreServer) {
    moto.bucket("photos");
    moto.put_all("photos", folder_as_objects(&fixtures("orientation"), "in"));
    let run = |extra: &[&str]| {
        imgpar_on(moto)
            .args([moto.url("photos", "in"), moto.url("photos", "out")])
            .args(extra)
            .assert()
    };
    run(&[]).success();
    let written = moto.objects("photos", "out");
    assert_eq!(written.len(), 8);
    let first = format!("out/{}", written[0].0.display());
    moto.put_all("photos", vec![(first.clone(), b"kept".to_vec())]);

    run(&[])
        .code(1)
        .stderr(predicates::str::contains("already exists"));
    assert_eq!(moto.get("photos", &first), b"kept");
    run(&["--skip-existing"])
        .success()
        .stderr(predicates::str::contains("0 ok, 0 failed, 8 skipped"))
        .stderr(predicates::str::contains(
            "1 image whose output carries no provenance",
        ));
    assert_eq!(moto.get("photos", &first), b"kept");
    run(&["--overwrite", "--mode", "async"]).success();
    assert_eq!(moto.objects("photos", "out"), written);
    // Outputs of other settings are never skipped as done, in a bucket as in a folder:
    // each object's provenance is read back (its first and last bytes).
    for mode in ["threaded", "async"] {
        run(&["--size", "64x64", "--skip-existing", "--mode", mode])
            .code(1)
            .stderr(predicates::str::contains("0 ok, 8 failed"))
            .stderr(predicates::str::contains(
                "with other settings (size 64x64 (then 256x256))",
            ));
    }
    assert_eq!(moto.objects("photos", "out"), written);

    // Object reads are capped like downloads.
    imgpar_on(moto)
        .args([moto.url("photos", "in"), moto.url("photos", "capped")])
        .args(["--max-download", "1K"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "larger than --max-download 1 KiB",
        ));
    assert!(moto.keys("photos", "capped").is_empty());
}

fn two_runs_racing_on_the_same_outputs_write_each_object_once(moto: &StoreServer) {
    let pictures = with_pictures(moto, "photos");
    let reports = tempfile::tempdir().unwrap();
    // Both list the empty output prefix first, so both try every image: the create-only
    // writes decide, key by key.
    let racers: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            imgpar_process(moto)
                .args([moto.url("photos", "in"), moto.url("photos", "out")])
                .args(["--skip-existing", "-q"])
                .args(["--mode", "async", "--report"])
                .arg(reports.path().join(format!("{name}.json")))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut racer in racers {
        assert!(racer.wait().unwrap().success());
    }
    let a = read_json(&reports.path().join("a.json"));
    let b = read_json(&reports.path().join("b.json"));
    let (ok_a, ok_b) = (report_outputs(&a, "ok"), report_outputs(&b, "ok"));
    assert!(
        ok_a.is_disjoint(&ok_b),
        "an object was written by both runs"
    );
    assert_eq!(ok_a.len() + ok_b.len(), 440);
    assert_eq!(report_outputs(&a, "skipped"), ok_b);
    assert_eq!(report_outputs(&b, "skipped"), ok_a);
    // Every object is whole: the same bytes a lone run writes.
    let alone = common::convert(pictures.path(), &[]);
    assert_eq!(moto.objects("photos", "out"), all_bytes(alone.path()));
}

fn overlapping_prefixes_are_refused_before_anything_is_written(moto: &StoreServer) {
    moto.bucket("photos");
    moto.put_all("photos", folder_as_objects(&fixtures("orientation"), "in"));
    for output in ["in/out", "", "in"] {
        imgpar_on(moto)
            .args([moto.url("photos", "in"), moto.url("photos", output)])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("overlaps"));
    }
    assert_eq!(moto.objects("photos", "in").len(), 8);
    // A bucket that is not there stops the run before any image, naming it.
    let missing = moto.url("no-such-bucket", "out");
    imgpar_on(moto)
        .args([moto.url("photos", "in"), missing.clone()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "{missing} cannot be used"
        )));
    // A neighbour whose name merely starts the same is not inside.
    imgpar_on(moto)
        .args([moto.url("photos", "in"), moto.url("photos", "input-thumbs")])
        .assert()
        .success();
}

/// The names of a 500-name plan's folder part: 440 small pictures in 5 folders, a third
/// of them BMP with a PNG of the same stem beside it, so that names collide on output.
fn many_pictures(dir: &Path) {
    for i in 0..440u32 {
        let folder = dir.join(format!("d{}", i % 5));
        std::fs::create_dir_all(&folder).unwrap();
        let format = if i % 3 == 0 { "bmp" } else { "png" };
        let picture = image::RgbImage::from_fn(12 + i % 9, 10, |x, y| {
            image::Rgb([(x * 20) as u8, (y * 25) as u8, (i % 251) as u8])
        });
        picture
            .save(folder.join(format!("p{}.{format}", i / 3)))
            .unwrap();
    }
}

/// `bucket`, made on `server`, holding the 440 pictures of [`many_pictures`] under `in/`;
/// returns a local copy of them.
fn with_pictures(server: &StoreServer, bucket: &str) -> tempfile::TempDir {
    server.bucket(bucket);
    let pictures = tempfile::tempdir().unwrap();
    many_pictures(pictures.path());
    server.put_all(bucket, folder_as_objects(pictures.path(), "in"));
    pictures
}

/// A URL list of 60 lines on `server`, several of them sharing a name (so that lines get
/// their number in front).
fn url_lines(server: &str) -> String {
    (0..60)
        .map(|i| format!("{server}/u{}/shot{}.png\n", i % 4, i % 45))
        .collect()
}

/// An HTTP server on 127.0.0.1 that answers every path with the same PNG, after `delay`.
fn picture_server(runtime: &tokio::runtime::Runtime, delay: Duration) -> wiremock::MockServer {
    let png = std::fs::read(fixtures("images").join("rgb8.png")).unwrap();
    runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .respond_with(
                wiremock::ResponseTemplate::new(200)
                    .set_body_bytes(png)
                    .set_delay(delay),
            )
            .mount(&server)
            .await;
        server
    })
}

/// The outputs a task's report says it wrote (or skipped), by status.
fn report_outputs(report: &serde_json::Value, status: &str) -> BTreeSet<String> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| r["output"].as_str().unwrap().to_string())
        .collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs the 8 tasks of an array at once, each with `vars(i)`, and returns their reports.
fn run_array(
    moto: &StoreServer,
    args: &[String],
    reports: &Path,
    vars: impl Fn(usize) -> Vec<(&'static str, String)>,
) -> Vec<serde_json::Value> {
    let children: Vec<_> = (0..8)
        .map(|i| {
            imgpar_process(moto)
                .envs(vars(i))
                .args(args)
                .arg("--report")
                .arg(reports.join(format!("{i}.json")))
                .arg("-q")
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    (0..8)
        .map(|i| read_json(&reports.join(format!("{i}.json"))))
        .collect()
}

fn eight_array_tasks_write_exactly_what_one_run_writes_however_often_rerun(moto: &StoreServer) {
    let _pictures = with_pictures(moto, "batch");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Each download takes a moment, so that a task can be caught in the middle of its run.
    let server = picture_server(&runtime, Duration::from_millis(150));
    let lists = tempfile::tempdir().unwrap();
    let list = lists.path().join("urls.txt");
    std::fs::write(&list, url_lines(&server.uri())).unwrap();
    let plan = |output: &str| -> Vec<String> {
        vec![
            moto.url("batch", "in"),
            "--urls".into(),
            list.display().to_string(),
            output.into(),
            "--mode".into(),
            "async".into(),
            "-j".into(),
            "1".into(),
        ]
    };

    // The whole plan in one run: what the shards must add up to.
    let whole_report = lists.path().join("whole.json");
    imgpar_on(moto)
        .args(plan(&moto.url("batch", "whole")))
        .arg("--report")
        .arg(&whole_report)
        .assert()
        .success();
    let whole = moto.objects("batch", "whole");
    assert_eq!(whole.len(), 500);

    // Eight Slurm array tasks (--array=0-7) at once.
    let slurm_reports = tempfile::tempdir().unwrap();
    let slurm = |i: usize| {
        vec![
            ("SLURM_ARRAY_TASK_ID", i.to_string()),
            ("SLURM_ARRAY_TASK_COUNT", "8".to_string()),
            ("SLURM_ARRAY_TASK_MIN", "0".to_string()),
            ("SLURM_ARRAY_TASK_STEP", "1".to_string()),
        ]
    };
    let reports = run_array(
        moto,
        &plan(&moto.url("batch", "sharded")),
        slurm_reports.path(),
        slurm,
    );
    let rename = |set: BTreeSet<String>| -> BTreeSet<String> {
        set.into_iter()
            .map(|o| o.replace(&moto.url("batch", "sharded/"), ""))
            .collect()
    };
    let shards: Vec<BTreeSet<String>> = reports
        .iter()
        .map(|r| rename(report_outputs(r, "ok")))
        .collect();
    let mut union = BTreeSet::new();
    for (i, (shard, report)) in shards.iter().zip(&reports).enumerate() {
        assert_eq!(report["shard"]["index"], i);
        assert_eq!(report["shard"]["plan_images"], 500);
        assert_eq!(shard.len() as u64, report["planned"].as_u64().unwrap());
        // Balance: every shard within half of its fair share (62.5) either way.
        assert!(
            (32..=94).contains(&shard.len()),
            "shard {i} has {} images",
            shard.len()
        );
        for output in shard {
            assert!(union.insert(output.clone()), "{output} written twice");
        }
    }
    assert_eq!(union.len(), 500);
    assert_eq!(moto.objects("batch", "sharded"), whole);

    // The same tasks again as a Kubernetes Indexed Job and as an AWS Batch array: the
    // same split, and nothing written.
    let kubernetes = |i: usize| {
        vec![
            ("JOB_COMPLETION_INDEX", i.to_string()),
            ("IMGPAR_SHARD_COUNT", "8".to_string()),
        ]
    };
    let aws = |i: usize| {
        vec![
            ("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string()),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "8".to_string()),
        ]
    };
    let mut rerun = plan(&moto.url("batch", "sharded"));
    rerun.push("--skip-existing".into());
    for vars in [&kubernetes as &dyn Fn(usize) -> _, &aws] {
        let again = tempfile::tempdir().unwrap();
        let reports = run_array(moto, &rerun, again.path(), vars);
        for (i, report) in reports.iter().enumerate() {
            assert_eq!(report["ok"], 0, "shard {i} wrote again");
            assert_eq!(rename(report_outputs(report, "skipped")), shards[i]);
        }
    }
    assert_eq!(moto.objects("batch", "sharded"), whole);

    // A shard dies halfway (its outputs gone, then killed mid-run) and is run again: the
    // one with the most downloads, which are slow enough to catch it in the middle.
    let downloads = |report: &serde_json::Value| {
        report["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["input"].as_str().unwrap().starts_with("http"))
            .count()
    };
    let victim = (0..8).max_by_key(|&i| downloads(&reports[i])).unwrap();
    let victim_outputs: Vec<String> = shards[victim].iter().cloned().collect();
    moto.delete_all(
        "batch",
        victim_outputs
            .iter()
            .map(|o| format!("sharded/{o}"))
            .collect(),
    );
    let victim_report = slurm_reports.path().join(format!("{victim}.json"));
    let mut sequential = plan(&moto.url("batch", "sharded"));
    sequential.splice(4..6, ["--mode".to_string(), "sequential".to_string()]);
    let mut child = imgpar_process(moto)
        .args(&sequential)
        .args(["--shard", &format!("{victim}/8"), "-q"])
        .spawn()
        .unwrap();
    let present = || {
        let now = moto.keys("batch", "sharded");
        victim_outputs
            .iter()
            .filter(|o| now.contains(Path::new(o.as_str())))
            .count()
    };
    let clock = Instant::now();
    while present() == 0 {
        assert!(
            clock.elapsed() < Duration::from_secs(60),
            "the shard wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let after_kill = present();
    assert!(
        after_kill < victim_outputs.len(),
        "the shard finished before it could be killed"
    );
    // Whatever it left is whole: every object there is the unsharded run's.
    let whole_map: BTreeMap<PathBuf, Vec<u8>> = whole.iter().cloned().collect();
    for (rel, bytes) in moto.objects("batch", "sharded") {
        assert_eq!(whole_map.get(&rel), Some(&bytes), "{} torn", rel.display());
    }
    imgpar_on(moto)
        .args(&rerun)
        .args(["--shard", &format!("{victim}/8")])
        .arg("--report")
        .arg(&victim_report)
        .assert()
        .success();
    let redone = read_json(&victim_report);
    assert_eq!(redone["skipped"], after_kill);
    assert_eq!(moto.objects("batch", "sharded"), whole);

    let names: Vec<PathBuf> = (0..8)
        .map(|i| slurm_reports.path().join(format!("{i}.json")))
        .collect();
    imgpar()
        .arg("merge-reports")
        .args(&names)
        .assert()
        .code(0)
        .stderr(predicates::str::contains(
            "complete: the shards add up to exactly the plan",
        ));
}

/// More objects than a listing page (1,000 on S3 and Azure) and than a batch of first
/// bytes read together: every image planned once, in key order, the unnamed ones known
/// by their first bytes, the text passed over, whichever page or batch they fall in.
fn a_listing_of_several_pages_is_planned_whole_and_in_key_order(moto: &StoreServer) {
    moto.bucket("many");
    let png = std::fs::read(fixtures("images").join("small.png")).unwrap();
    let mut objects = Vec::new();
    let mut expected = Vec::new();
    for i in 0..2300 {
        let (key, bytes) = match i % 10 {
            3 => (format!("in/p{i:05}"), png.clone()),
            7 => (format!("in/p{i:05}.txt"), b"not a picture".to_vec()),
            _ => (format!("in/p{i:05}.png"), png.clone()),
        };
        if i % 10 != 7 {
            expected.push(moto.url("many", &key));
        }
        objects.push((key, bytes));
    }
    moto.put_all("many", objects);
    let planned = imgpar_on(moto)
        .args([moto.url("many", "in"), moto.url("many", "out")])
        .arg("--dry-run")
        .assert()
        .success();
    let stdout = String::from_utf8(planned.get_output().stdout.clone()).unwrap();
    let inputs: Vec<&str> = stdout
        .lines()
        .map(|l| l.split(" -> ").next().unwrap())
        .collect();
    assert_eq!(inputs, expected);
    let stderr = String::from_utf8_lossy(&planned.get_output().stderr);
    assert!(stderr.contains("2070 images planned"), "{stderr}");
}

/// A report of 20,000 records (about 10 MB, more than one 8 MiB upload part) written to an
/// object address: put as a multipart upload read from its temporary copy, whole.
fn a_report_bigger_than_an_upload_part_is_put_whole(moto: &StoreServer) {
    moto.bucket("reports");
    let input = tempfile::tempdir().unwrap();
    for i in 0..20_000 {
        let name = format!("a-long-name-so-that-the-report-grows-{i:05}.png");
        std::fs::write(input.path().join(name), b"").unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    imgpar_on(moto)
        .arg(input.path())
        .arg(out.path())
        .args(["--quiet", "--report"])
        .arg(moto.url("reports", "big.json"))
        .assert()
        .code(1);
    let bytes = moto.get("reports", "big.json");
    assert!(bytes.len() > 8 << 20, "{} bytes", bytes.len());
    let report: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(report["failed"], 20_000);
    assert_eq!(report["images"].as_array().unwrap().len(), 20_000);
}

fn a_prefix_planned_as_shard_files_converts_like_one_run(moto: &StoreServer) {
    // `imgpar plan` from a prefix to a prefix, its shard files written under a prefix too
    // (tasks without a shared file system read them there); each shard file's task writes
    // its objects: together, exactly what one run writes from the local copy.
    moto.bucket("photos");
    moto.put_all("photos", folder_as_objects(&fixtures("images"), "in"));
    let local = common::convert(&fixtures("images"), &[]);
    let plan = |expect_ok: bool| {
        let done = imgpar_on(moto)
            .arg("plan")
            .args([moto.url("photos", "in"), moto.url("photos", "out")])
            .args(["--shards", "3", "--to", &moto.url("photos", "plan")])
            .assert();
        if expect_ok {
            done.success()
        } else {
            done.code(2)
        }
    };
    plan(true);
    let files = moto.keys("photos", "plan");
    assert_eq!(files.len(), 3, "{files:?}");
    let written = moto.objects("photos", "plan");
    // A second plan under the same prefix replaces nothing.
    let refused = plan(false);
    let said = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(said.contains("exists already"), "{said}");
    assert_eq!(moto.objects("photos", "plan"), written);
    for file in &files {
        imgpar_on(moto)
            .args(["run", "-q", "--plan"])
            .arg(moto.url("photos", &format!("plan/{}", file.display())))
            .assert()
            .success();
    }
    assert_eq!(moto.objects("photos", "out"), all_bytes(local.path()));
}
