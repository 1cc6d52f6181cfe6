//! The per-image work on one fixture, stage by stage and whole: decode (JPEG luma at full
//! size and shrunk, PNG, WebP), resize, encode, and `convert_job` end to end.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use imgpar::internals::{Job, convert_job};
use imgpar::internals::{decode, encode, resize};
use imgpar::{Conversion, ExistingOutput, OutputFormat, Spec};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/images")
            .join(name),
    )
    .expect("fixtures are committed")
}

fn stages(c: &mut Criterion) {
    let spec = Spec::default();
    let jpeg = fixture("baseline_420.jpg");
    let png = fixture("rgb8.png");
    c.bench_function("decode jpeg 400x300 (luma)", |b| {
        b.iter(|| decode::decode(black_box(&jpeg), &spec).unwrap())
    });
    // A 24x18 thumbnail lets the decoder shrink the JPEG to 1/8 in the DCT domain.
    let tiny = Spec::converting(Conversion {
        width: Some(24),
        height: Some(24),
        ..Conversion::default()
    });
    c.bench_function("decode jpeg 400x300 at 1/8 (luma)", |b| {
        b.iter(|| decode::decode(black_box(&jpeg), &tiny).unwrap())
    });
    c.bench_function("decode png 400x300 (rgb)", |b| {
        b.iter(|| decode::decode(black_box(&png), &spec).unwrap())
    });
    let webp = fixture("picture.webp");
    c.bench_function("decode webp 400x300 (libwebp, luma)", |b| {
        b.iter(|| decode::decode(black_box(&webp), &spec).unwrap())
    });
    let decoded = decode::decode(&jpeg, &spec).unwrap().image;
    let full = (decoded.width(), decoded.height());
    c.bench_function("resize 400x300 -> 256x192 lanczos3", |b| {
        b.iter(|| resize::resize(black_box(decoded.clone()), full, &spec).unwrap())
    });
    let small = resize::resize(decoded, full, &spec).unwrap();
    c.bench_function("encode png 256x192", |b| {
        b.iter(|| encode::encode(black_box(&small), OutputFormat::Png, &Spec::default()).unwrap())
    });
    c.bench_function("encode jpeg 256x192", |b| {
        b.iter(|| encode::encode(black_box(&small), OutputFormat::Jpeg, &Spec::default()).unwrap())
    });
}

fn whole_job(c: &mut Criterion) {
    let out = tempfile::tempdir().unwrap();
    let job = Job {
        index: 0,
        input: imgpar::internals::Input::File(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images/baseline_420.jpg"),
        ),
        output: out.path().join("out.jpg"),
        output_root: out.path().to_path_buf(),
        format: OutputFormat::Jpeg,
        key: b"baseline_420.jpg".to_vec(),
    };
    let spec = Spec {
        existing: ExistingOutput::Overwrite,
        ..Spec::default()
    };
    c.bench_function("convert_job jpeg 400x300 -> 256x192", |b| {
        b.iter(|| convert_job(black_box(&job), &spec))
    });
}

criterion_group!(benches, stages, whole_job);
criterion_main!(benches);
