//! imgpar as a library: a batch through [`imgpar::Run`], built from defaults, returns its
//! report without printing, and an observer sees every image start and end.

use crate::common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use imgpar::{Event, Mode, Observer, Run};

#[derive(Default)]
struct Counting {
    planned: AtomicUsize,
    started: AtomicUsize,
    finished: Mutex<Vec<(String, usize, usize)>>,
}

impl Observer for Counting {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Planned { images } => self.planned.store(images, Ordering::Relaxed),
            Event::Started { .. } => {
                self.started.fetch_add(1, Ordering::Relaxed);
            }
            Event::Finished {
                record,
                done,
                total,
                ..
            } => self
                .finished
                .lock()
                .unwrap()
                .push((record.status.to_string(), done, total)),
            _ => {}
        }
    }
}

#[test]
fn a_run_built_from_defaults_converts_a_folder_and_reports_it() {
    let out = tempfile::tempdir().unwrap();
    let report = Run::new([fixtures("images")], out.path())
        .mode(Mode::Sequential)
        .execute()
        .unwrap();
    let written = files_under(out.path()).len();
    assert!(written > 10, "{written} files");
    assert_eq!(report.ok, written);
    assert_eq!(report.failed, 0);
    assert_eq!(report.passed_over, 1, "notes.txt is not an image");
}

#[test]
fn an_observer_sees_every_image_start_and_end() {
    let out = tempfile::tempdir().unwrap();
    let observer = Counting::default();
    let report = Run::new([fixtures("images")], out.path())
        .mode(Mode::Threaded)
        .jobs(2)
        .execute_with(&observer)
        .unwrap();
    let planned = observer.planned.load(Ordering::Relaxed);
    assert_eq!(planned, report.planned);
    assert_eq!(observer.started.load(Ordering::Relaxed), report.planned);
    let finished = observer.finished.lock().unwrap();
    assert_eq!(finished.len(), report.planned);
    let mut done: Vec<usize> = finished.iter().map(|f| f.1).collect();
    done.sort_unstable();
    assert_eq!(done, (1..=planned).collect::<Vec<_>>());
    assert!(finished.iter().all(|f| f.0 == "ok" && f.2 == planned));
}

#[test]
fn a_run_that_cannot_start_is_an_error_and_writes_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    let error = Run::new([scratch.path().join("missing")], &out)
        .execute()
        .unwrap_err();
    assert!(matches!(error, imgpar::Error::Input(_)), "{error:?}");
    assert!(error.to_string().contains("cannot read input"));
    assert!(!out.exists());
}

/// `examples/batch.rs`, built beside this test (CI also builds both without default
/// features).
fn batch_example() -> std::path::PathBuf {
    let deps = std::env::current_exe().unwrap();
    deps.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/batch")
}

#[test]
fn a_host_program_converts_an_image_and_a_folder_in_process_mode_and_prints_nothing_of_ours() {
    let out = tempfile::tempdir().unwrap();
    let ended = std::process::Command::new(batch_example())
        .arg(fixtures("images/red.png"))
        .arg(fixtures("images"))
        .arg(out.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the batch example is built with the tests");
    let stdout = String::from_utf8_lossy(&ended.stdout);
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert!(ended.status.success(), "{stdout}{stderr}");
    assert_eq!(stderr, "", "the library printed");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("0 failed, 2 worker processes"), "{stdout}");
    let single = open(&out.path().join("single.png"));
    assert!(single.width() <= 64 && single.height() <= 64);
    let batch = files_under(&out.path().join("batch"));
    assert!(batch.len() > 10, "{batch:?}");
}

#[test]
fn settings_that_cannot_run_together_are_refused_before_anything_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    for run in [
        // Only a worker process can be capped.
        Run::new([fixtures("images")], &out).worker_memory(512 << 20),
        // Below 64 MiB a worker cannot even start.
        Run::new([fixtures("images")], &out)
            .mode(Mode::Process)
            .worker_memory(1 << 20),
    ] {
        let error = run.execute().unwrap_err();
        assert!(matches!(error, imgpar::Error::Settings(_)), "{error:?}");
    }
    assert!(!out.exists());
}

#[test]
fn a_file_thumbnail_is_the_same_as_the_thumbnail_of_its_bytes() {
    // Read as it decodes (JPEG, PNG) or whole (the rest): the same bytes either way.
    let spec = imgpar::Spec::converting(imgpar::Conversion {
        width: Some(40),
        height: Some(40),
        ..imgpar::Conversion::default()
    });
    for name in [
        "baseline_420.jpg",
        "progressive.jpg",
        "cmyk.jpg",
        "alpha.png",
        "rgb16.png",
        "picture.webp",
    ] {
        let path = fixtures("images").join(name);
        let bytes = std::fs::read(&path).unwrap();
        let from_bytes = imgpar::thumbnail(&bytes, &spec, imgpar::OutputFormat::Png).unwrap();
        let from_file = imgpar::thumbnail_file(&path, &spec, imgpar::OutputFormat::Png).unwrap();
        assert_eq!(from_file, from_bytes, "{name}");
        assert!(from_file.size.0 <= 40 && from_file.size.1 <= 40, "{name}");
    }
    let missing = imgpar::thumbnail_file(
        &fixtures("images").join("no such file.png"),
        &spec,
        imgpar::OutputFormat::Png,
    );
    let Err(imgpar::Error::Image(failure)) = missing else {
        panic!("a missing file converted: {missing:?}")
    };
    assert_eq!(failure.kind, imgpar::ErrorKind::Read);
}

#[test]
fn images_named_through_a_pipe_convert_in_every_format() {
    // A pipe cannot go back to its start, so what is not read as it decodes is read whole
    // first: a WebP and a GIF convert as a JPEG and a PNG do.
    let scratch = tempfile::tempdir().unwrap();
    for name in [
        "picture.webp",
        "picture.gif",
        "baseline_420.jpg",
        "rgb8.png",
    ] {
        let pipe = scratch.path().join(format!("pipe-{name}"));
        named_pipe(&pipe);
        let source = fixtures("images").join(name);
        let writer = {
            let pipe = pipe.clone();
            std::thread::spawn(move || std::fs::write(&pipe, std::fs::read(source).unwrap()))
        };
        // A folder named like an image is refused as an output (it looks like a file).
        let out = scratch
            .path()
            .join(format!("out-{}", name.replace('.', "-")));
        let report = Run::new([&pipe], &out).execute().unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(
            report.ok,
            1,
            "{name}: {:?}",
            report.failures().collect::<Vec<_>>()
        );
    }
}

/// Every fixture, a TGA (a format without a signature, known by its name) and a camera
/// RAW name (a TIFF inside, refused by name), each with the thumbnail the batch writes.
fn parity_inputs(scratch: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut inputs: Vec<std::path::PathBuf> = walkdir::WalkDir::new(fixtures(""))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| entry.into_path())
        .collect();
    // A 3x2 true-colour TGA, bottom-up, blue-green-red bytes.
    let mut tga = vec![0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 2, 0, 24, 0];
    for pixel in [
        [255u8, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [9, 99, 199],
        [0, 0, 0],
        [255; 3],
    ] {
        tga.extend(pixel);
    }
    let tga_path = scratch.join("picture.tga");
    std::fs::write(&tga_path, tga).unwrap();
    let dng = scratch.join("camera.dng");
    std::fs::copy(fixtures("images").join("picture.tiff"), &dng).unwrap();
    inputs.extend([tga_path, dng]);
    inputs
}

#[test]
fn a_file_thumbnail_is_the_batch_output_of_that_file_for_every_fixture_and_format_in_gray_and_colour()
 {
    use imgpar::{FormatChoice, OutputFormat};
    let scratch = tempfile::tempdir().unwrap();
    let (mut compared, mut refused) = (0, 0);
    let inputs = parity_inputs(scratch.path());
    // Gray and colour.
    for (input, color) in inputs
        .iter()
        .flat_map(|input| [(input, false), (input, true)])
    {
        let spec = imgpar::Spec::converting(imgpar::Conversion {
            width: Some(48),
            height: Some(48),
            color,
            ..imgpar::Conversion::default()
        });
        for format in [
            OutputFormat::Png,
            OutputFormat::Jpeg,
            OutputFormat::Webp,
            OutputFormat::Avif,
        ] {
            let out = scratch.path().join(format!("out-{compared}-{refused}"));
            let report = Run::new([input], &out)
                .spec(spec.clone())
                .format(FormatChoice::Fixed(format))
                .mode(Mode::Sequential)
                .execute()
                .unwrap();
            let thumbnail = imgpar::thumbnail_file(input, &spec, format);
            let written: Vec<_> = walkdir::WalkDir::new(&out)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .collect();
            let shown = format!("{} as {format:?}, colour {color}", input.display());
            match thumbnail {
                Ok(thumbnail) => {
                    assert_eq!(
                        report.ok, 1,
                        "{shown}: the batch failed where the call did not"
                    );
                    // The batch's file also says what it was made from; the call's bytes
                    // have no input to name.
                    let bytes = std::fs::read(written[0].path()).unwrap();
                    let picture = imgpar::without_provenance(&bytes);
                    assert!(
                        picture != bytes,
                        "{shown}: no provenance in the batch's file"
                    );
                    assert!(picture == thumbnail.bytes, "{shown}: other bytes");
                    compared += 1;
                }
                Err(imgpar::Error::Image(failure)) => {
                    assert_eq!(report.failed, 1, "{shown}: converted by the batch only");
                    assert!(written.is_empty(), "{shown}");
                    let said = report.failures().next().unwrap();
                    assert!(
                        said.ends_with(&failure.message),
                        "{shown}: {said} / {failure}"
                    );
                    refused += 1;
                }
                Err(other) => panic!("{shown}: {other}"),
            }
        }
    }
    // The TGA converts, the camera RAW name and the broken fixtures are refused.
    assert!(compared >= 2 * 4 * 25, "{compared} compared");
    assert!(refused >= 2 * 4 * 5, "{refused} refused");
}

#[test]
fn process_mode_whose_workers_cannot_start_stops_early_with_one_error() {
    // What a host program meets when its worker program cannot start (an interpreter
    // whose `imgpar` is importable only through the host's own search path): every
    // worker dies before its first image, some before imgpar has even sent them their
    // settings (their input is closed first). No other test runs a process-mode batch
    // in this process (the others run the imgpar binary), so the setting stays its own.
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..40 {
        std::fs::copy(
            fixtures("images/small.png"),
            input.join(format!("p{i:02}.png")),
        )
        .unwrap();
    }
    let started = scratch.path().join("started");
    let script = format!(
        "exec 0<&-; echo started >> '{}'; echo 'No module named imgpar' >&2; exit 1",
        started.display()
    );
    imgpar::worker::start_again_as(
        "/bin/sh".into(),
        vec!["-c".into(), script.into(), "sh".into()],
    );
    let out = scratch.path().join("out");
    // The run's one error, which must say `saying`; the output folder is left unmade.
    let fails_saying = |saying: &str| {
        let error = Run::new([&input], &out)
            .mode(Mode::Process)
            .jobs(2)
            .execute()
            .unwrap_err();
        assert!(matches!(error, imgpar::Error::Workers(_)), "{error:?}");
        assert!(error.to_string().contains(saying), "{error}");
        assert!(!out.exists(), "the run left the output folder it made");
    };
    fails_saying("cannot start its worker processes");
    let attempts = std::fs::read_to_string(&started).unwrap().lines().count();
    // Three deaths stop it; the other slot's workers already starting may die too (it
    // was two a image, 80, before).
    assert!(
        attempts <= 10,
        "{attempts} workers were started for 40 images"
    );

    // A worker program that is not there at all (an interpreter since removed) ends the
    // same way: one error, not one failed image per image.
    imgpar::worker::start_again_as(scratch.path().join("no-such-python"), Vec::new());
    fails_saying("cannot start a worker process");
}
