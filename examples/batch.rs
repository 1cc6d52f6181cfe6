//! A program that embeds imgpar with nothing but its public API: one image through
//! `thumbnail`, then a folder through `Run` in process mode (whose workers are this very
//! program, started again, hence `maybe_serve` first). It prints one line of its own and
//! nothing else: the library never prints.
//!
//! `cargo run --example batch -- IMAGE FOLDER OUTPUT`

use imgpar::{Conversion, Mode, OutputFormat, Run, Spec, thumbnail};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    imgpar::worker::maybe_serve();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [image, folder, output] = args.as_slice() else {
        return Err("usage: batch IMAGE FOLDER OUTPUT".into());
    };
    let spec = Spec::converting(Conversion {
        width: Some(64),
        height: Some(64),
        ..Conversion::default()
    });
    let small = thumbnail(&std::fs::read(image)?, &spec, OutputFormat::Png)?;
    std::fs::create_dir_all(output)?;
    std::fs::write(
        std::path::Path::new(output).join("single.png"),
        &small.bytes,
    )?;
    let report = Run::new([folder], std::path::Path::new(output).join("batch"))
        .spec(spec)
        .mode(Mode::Process)
        .jobs(2)
        .execute()?;
    println!(
        "thumbnail {}x{}; batch {} ok, {} failed, {} worker processes",
        small.size.0,
        small.size.1,
        report.ok,
        report.failed,
        report.worker_processes.len()
    );
    Ok(())
}
