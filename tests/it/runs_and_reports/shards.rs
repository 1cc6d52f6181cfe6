//! Shards on one machine: N runs with `--shard I/N` (or an array engine's variables)
//! write exactly what one unsharded run writes, names included; `--dry-run` writes
//! nothing; `merge-reports` says whether the shards add up to the plan.

use crate::common;

use std::path::Path;

use common::{all_bytes, imgpar_unsharded};

/// A folder of small images whose names collide once converted (`a.tiff`, `a.png` and
/// `a.bmp` all want `a.png`), in sub-folders.
pub(super) fn colliding_folder(dir: &Path) {
    for i in 0..24u32 {
        let sub = dir.join(format!("d{}", i % 3));
        std::fs::create_dir_all(&sub).unwrap();
        let picture =
            image::GrayImage::from_fn(20 + i, 16, |x, y| image::Luma([(x * 7 + y * i) as u8]));
        let format = ["png", "tiff", "bmp"][i as usize % 3];
        picture
            .save(sub.join(format!("p{}.{format}", i / 3)))
            .unwrap();
    }
    for format in ["png", "tiff", "bmp"] {
        image::GrayImage::from_pixel(9, 9, image::Luma([50]))
            .save(dir.join(format!("a.{format}")))
            .unwrap();
    }
}

#[test]
fn shards_write_exactly_what_one_run_writes() {
    let input = tempfile::tempdir().unwrap();
    colliding_folder(input.path());
    let whole = tempfile::tempdir().unwrap();
    imgpar_unsharded()
        .arg(input.path())
        .arg(whole.path())
        .assert()
        .success();
    let sharded = tempfile::tempdir().unwrap();
    let reports = tempfile::tempdir().unwrap();
    let mut sizes = Vec::new();
    for i in 0..4 {
        let report = reports.path().join(format!("{i}.json"));
        imgpar_unsharded()
            .arg(input.path())
            .arg(sharded.path())
            .arg(format!("--shard={i}/4"))
            .arg("--report")
            .arg(&report)
            .assert()
            .success();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert_eq!(json["shard"]["index"], i);
        assert_eq!(json["shard"]["plan_images"], 27);
        sizes.push(json["planned"].as_u64().unwrap());
    }
    assert_eq!(sizes.iter().sum::<u64>(), 27, "{sizes:?}");
    assert_eq!(all_bytes(sharded.path()), all_bytes(whole.path()));

    // A second pass of every shard finds everything written and writes nothing.
    for i in 0..4 {
        imgpar_unsharded()
            .arg(input.path())
            .arg(sharded.path())
            .arg(format!("--shard={i}/4"))
            .arg("--skip-existing")
            .assert()
            .success()
            .stderr(predicates::str::contains(" 0 ok, 0 failed"));
    }

    let merged = reports.path().join("all.json");
    let names: Vec<_> = (0..4)
        .map(|i| reports.path().join(format!("{i}.json")))
        .collect();
    imgpar_unsharded()
        .arg("merge-reports")
        .args(&names)
        .arg("-o")
        .arg(&merged)
        .assert()
        .code(0)
        .stderr(predicates::str::contains("complete"));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(json["complete"], true);
    assert_eq!(json["ok"], 27);
    imgpar_unsharded()
        .arg("merge-reports")
        .args(&names[..3])
        .assert()
        .code(4)
        .stderr(predicates::str::contains("missing shards: 3"));
    imgpar_unsharded()
        .arg("merge-reports")
        .args([&names[0], &names[1], &names[2], &names[3], &names[2]])
        .assert()
        .code(4)
        .stderr(predicates::str::contains("shards reported twice: 2"));
}

/// The plan lines `--dry-run` prints for a shard chosen by `vars`.
fn dry_run_lines(input: &Path, vars: &[(&str, &str)]) -> Vec<String> {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = imgpar_unsharded();
    cmd.arg(input).arg(out.path().join("o")).arg("--dry-run");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let assert = cmd.assert().success();
    assert!(!out.path().join("o").exists(), "a dry run creates nothing");
    String::from_utf8(assert.get_output().stdout.clone())
        .unwrap()
        .lines()
        .map(|line| line.replace(&out.path().display().to_string(), ""))
        .collect()
}

#[test]
fn array_engines_choose_the_shard_from_their_variables() {
    let input = tempfile::tempdir().unwrap();
    colliding_folder(input.path());
    let flag: Vec<Vec<String>> = (0..4)
        .map(|i| {
            let out = tempfile::tempdir().unwrap();
            let assert = imgpar_unsharded()
                .arg(input.path())
                .arg(out.path().join("o"))
                .arg("--dry-run")
                .arg(format!("--shard={i}/4"))
                .assert()
                .success();
            String::from_utf8(assert.get_output().stdout.clone())
                .unwrap()
                .lines()
                .map(|line| line.replace(&out.path().display().to_string(), ""))
                .collect()
        })
        .collect();
    assert_eq!(flag.iter().map(Vec::len).sum::<usize>(), 27);
    for (i, expected) in flag.iter().enumerate() {
        // Slurm numbers `--array=1-7:2` as 1, 3, 5, 7.
        let slurm_id = (1 + 2 * i).to_string();
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", slurm_id.as_str()),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ];
        let index = i.to_string();
        let kubernetes = [
            ("JOB_COMPLETION_INDEX", index.as_str()),
            ("IMGPAR_SHARD_COUNT", "4"),
        ];
        let aws = [
            ("AWS_BATCH_JOB_ARRAY_INDEX", index.as_str()),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "4"),
        ];
        assert_eq!(&dry_run_lines(input.path(), &slurm), expected, "Slurm {i}");
        assert_eq!(
            &dry_run_lines(input.path(), &kubernetes),
            expected,
            "k8s {i}"
        );
        assert_eq!(&dry_run_lines(input.path(), &aws), expected, "AWS {i}");
    }
}

#[test]
fn inconsistent_engine_variables_stop_the_run_before_anything_is_written() {
    let input = tempfile::tempdir().unwrap();
    colliding_folder(input.path());
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("o");
    for (vars, named) in [
        (&[("JOB_COMPLETION_INDEX", "1")][..], "IMGPAR_SHARD_COUNT"),
        (
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", "x"),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "4"),
            ][..],
            "AWS_BATCH_JOB_ARRAY_INDEX",
        ),
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "9"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_STEP", "1"),
            ][..],
            "--shard",
        ),
    ] {
        let mut cmd = imgpar_unsharded();
        cmd.arg(input.path()).arg(&target);
        for (name, value) in vars {
            cmd.env(name, value);
        }
        cmd.assert()
            .code(2)
            .stderr(predicates::str::contains(named));
        assert!(!target.exists());
    }
    // With --report, the dry run's plan is JSON, and still nothing is written.
    let plan = out.path().join("plan.json");
    imgpar_unsharded()
        .arg(input.path())
        .arg(&target)
        .args(["--dry-run", "--shard", "1/2", "--report"])
        .arg(&plan)
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(json["shard"]["plan_images"], 27);
    assert_eq!(
        json["images"].as_array().unwrap().len() as u64,
        json["shard"]["shard_images"].as_u64().unwrap()
    );
    assert!(!target.exists());
    // --shard wins over the environment, and --no-shard ignores it.
    let whole = dry_run_lines(input.path(), &[]);
    let mut cmd = imgpar_unsharded();
    let assert = cmd
        .arg(input.path())
        .arg(&target)
        .args(["--dry-run", "--no-shard"])
        .env("JOB_COMPLETION_INDEX", "1")
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&assert.get_output().stdout)
            .lines()
            .count(),
        whole.len()
    );
    imgpar_unsharded()
        .arg(input.path())
        .arg(&target)
        .args(["--dry-run", "--shard", "0/1"])
        .env("JOB_COMPLETION_INDEX", "1")
        .assert()
        .success()
        .stderr(predicates::str::contains("chosen by --shard"));
}
