//! The default worker count: the CPU share the process was given (its CPU affinity here;
//! a cgroup quota is read the same way), or `IMGPAR_JOBS`; `--jobs` above both. The report
//! says which decided.

use std::os::unix::process::CommandExt as _;
use std::process::Command;

use crate::common;

/// Runs imgpar on the fixtures with `IMGPAR_JOBS` set to `variable` (or unset) and `args`;
/// returns the report (`None` when the run did not start) and what it printed.
fn run_with(
    variable: Option<&str>,
    args: &[&str],
    first_core_only: bool,
) -> (Option<serde_json::Value>, String) {
    let scratch = tempfile::tempdir().unwrap();
    let report = scratch.path().join("report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_imgpar"));
    command
        .arg(common::fixtures("images"))
        .arg(scratch.path().join("out"))
        .args(args)
        .arg("--report")
        .arg(&report)
        .env_remove("IMGPAR_JOBS");
    if let Some(value) = variable {
        command.env("IMGPAR_JOBS", value);
    }
    if first_core_only {
        // SAFETY: between fork and exec only sched_setaffinity runs, on a set built here.
        unsafe {
            command.pre_exec(|| {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(0, &mut set);
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let done = command.output().expect("imgpar runs");
    let said = String::from_utf8_lossy(&done.stderr).into_owned();
    let report = report.exists().then(|| common::report_at(&report));
    (report, said)
}

#[test]
fn imgpar_jobs_sets_the_default_and_the_report_says_so() {
    let (report, said) = run_with(Some("3"), &[], false);
    let report = report.expect("a report");
    assert_eq!(report["workers"], 3);
    assert_eq!(report["workers_from"], "variable");
    assert!(
        said.contains("(threaded mode, 3 workers: IMGPAR_JOBS)"),
        "{said}"
    );

    let (report, _) = run_with(Some("3"), &["--jobs", "2"], false);
    let report = report.expect("a report");
    assert_eq!(report["workers"], 2);
    assert_eq!(report["workers_from"], "flag");
}

#[test]
fn an_imgpar_jobs_that_is_not_a_count_stops_the_run_before_it_starts() {
    for wrong in ["0", "two", "-4"] {
        let (report, said) = run_with(Some(wrong), &[], false);
        assert!(report.is_none(), "IMGPAR_JOBS={wrong} ran");
        assert!(
            said.contains("IMGPAR_JOBS") && said.contains("not a worker count"),
            "{said}"
        );
    }
}

#[test]
fn the_default_follows_the_cpu_affinity_the_process_was_given() {
    let cores = std::thread::available_parallelism().unwrap().get();
    assert!(cores >= 2, "this test needs a machine of two cores or more");
    let (report, said) = run_with(None, &[], true);
    let report = report.expect("a report");
    assert_eq!(report["workers"], 1);
    assert_eq!(report["workers_from"], "cpu_affinity");
    assert!(said.contains("1 worker: the CPU affinity"), "{said}");

    let (report, _) = run_with(None, &[], false);
    assert_eq!(report.expect("a report")["workers"], cores);
}
