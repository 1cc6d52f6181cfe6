use super::*;
use clap::ValueEnum;

/// The settings the flags describe, and the flags `bench` would hand its runs for them.
fn settings_and_relay(args: &[&str]) -> ((RunConfig, Spec), Vec<String>) {
    let parsed = Cli::try_parse_from(args).unwrap();
    let mut relay: Vec<String> = vec!["imgpar".into(), "in".into(), "out".into()];
    relay.extend([
        "--mode".into(),
        parsed.mode.to_possible_value().unwrap().get_name().into(),
    ]);
    relay.extend(parsed.plan.image.to_args());
    relay.extend(parsed.plan.fetch.to_args());
    if parsed.mode == Mode::Async {
        relay.extend(parsed.plan.fetch.async_args());
    }
    relay.extend(parsed.workers.to_args());
    let (run, spec, _) = parsed.into_config().unwrap();
    ((run, spec), relay)
}

/// Every setting survives `bench`'s trip through argv to the runs it starts: the flags
/// it relays parse back to the same `Spec` and run settings, defaults and not.
#[test]
fn bench_relays_every_setting_unchanged() {
    let every_flag = [
        "imgpar",
        "in",
        "out",
        "--mode",
        "process",
        "--size",
        "100x50",
        "--fit",
        "cover",
        "--upscale",
        "--filter",
        "catmull-rom",
        "--format",
        "jpeg",
        "--quality",
        "70",
        "--speed",
        "3",
        "--max-pixels",
        "5000",
        "--retries",
        "1",
        "--max-download",
        "3M",
        "--download-timeout",
        "2.5",
        "--connect-timeout",
        "1.5",
        "--timeout",
        "7",
        "--worker-memory",
        "128M",
    ];
    for args in [
        &["imgpar", "in", "out"][..],
        &every_flag[..],
        &["imgpar", "in", "out", "--width", "99"][..],
        &[
            "imgpar",
            "in",
            "out",
            "--mode",
            "async",
            "--concurrency",
            "5",
            "--per-host",
            "2",
        ][..],
    ] {
        let ((run, spec), relay) = settings_and_relay(args);
        let relay: Vec<&str> = relay.iter().map(String::as_str).collect();
        let ((run_again, spec_again), _) = settings_and_relay(&relay);
        assert_eq!(spec, spec_again, "{args:?} -> {relay:?}");
        assert_eq!(run.mode, run_again.mode);
        assert_eq!(run.format, run_again.format);
        assert_eq!(run.limits, run_again.limits);
        assert_eq!(run.async_settings, run_again.async_settings);
    }
}

/// With no flags, the command line means exactly the library's defaults.
#[test]
fn flag_defaults_are_the_library_defaults() {
    let ((run, spec), _) = settings_and_relay(&["imgpar", "in", "out"]);
    assert_eq!(spec, Spec::default());
    let library = RunConfig::new(vec!["in".into()], "out".into());
    assert_eq!(run.mode, library.mode);
    assert_eq!(run.format, library.format);
    assert_eq!(run.limits, library.limits);
    assert_eq!(run.async_settings, library.async_settings);
    assert_eq!(run.jobs, library.jobs);
}
