//! HEIC/HEIF as phones and cameras write them: grids of tiles, turned and mirrored by
//! `irot`/`imir`, 10 and 12 bits, gray, alpha, 4:4:4, the stored thumbnail; each output
//! compared with libheif's picture (through pillow-heif, which also encodes the files with
//! x265). Damaged files fail alone, naming the format; the pixel limit is checked from the
//! container; a grid of 126 MP converts in a worker capped at 128 MiB.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::python::{photo_reference, photo_scores};
use common::*;
use predicates::prelude::*;

/// The HEIC variants libheif writes, in `dir`.
fn make_variants(dir: &Path) {
    photo_reference(&["heic-make".as_ref(), dir.as_os_str()]);
}

/// The PSNR and size of each output in `out` against libheif's decode of its input in `input`
/// (of its thumbnail, with `thumbnail`).
fn scores(input: &Path, out: &Path, thumbnail: bool) -> BTreeMap<String, (f64, (u64, u64))> {
    let mut args = vec!["heic-compare".as_ref(), input.as_os_str(), out.as_os_str()];
    if thumbnail {
        args.push("--thumbnail".as_ref());
    }
    photo_scores(&args)
}

#[test]
fn heic_files_of_every_kind_convert_within_35_db_of_libheif() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    make_variants(&input);
    let out = scratch.path().join("out");
    let report = scratch.path().join("report.json");
    // No --format: what the format registry says HEIC inputs become (PNG).
    imgpar()
        .arg(&input)
        .arg(&out)
        .args(["--no-embedded-thumbnails", "--report"])
        .arg(&report)
        .assert()
        .success();
    let report = report_at(&report);
    assert_eq!(report["ok"], 9, "{report}");
    for record in report["images"].as_array().unwrap() {
        assert!(
            record["output"].as_str().unwrap().ends_with(".png"),
            "{record}"
        );
        assert!(
            record.get("decoded_from").is_none(),
            "the picture itself: {record}"
        );
    }
    let scores = scores(&input, &out, false);
    assert_eq!(scores.len(), 9, "{scores:?}");
    for (name, (psnr, size)) in &scores {
        assert!(*psnr >= 35.0, "{name}: {psnr:.1} dB from libheif's picture");
        // Turned by a quarter (EXIF 6 and 5 became irot): portrait, as libheif shows it.
        let expected = if name.starts_with("phone_grid") || name.starts_with("transposed") {
            (192, 256)
        } else {
            (256, 192)
        };
        assert_eq!(*size, expected, "{name}");
    }
    // 4032x3024-like 1200x900 stored turned: the record gives the size as stored.
    let phone = record_of(&report, "phone_grid.heic");
    assert_eq!(
        (phone["width_in"].as_u64(), phone["height_in"].as_u64()),
        (Some(1200), Some(900))
    );
    let gray_with_alpha = open(&out.join("alpha.png"));
    assert!(gray_with_alpha.color().has_alpha(), "alpha is kept");
}

#[test]
fn a_stored_thumbnail_as_large_as_the_output_is_used_and_said() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    make_variants(&input);
    let only = scratch.path().join("one");
    std::fs::create_dir(&only).unwrap();
    std::fs::copy(input.join("phone_grid.heic"), only.join("phone_grid.heic")).unwrap();

    // 256 px fits in the 320 px thumbnail: it is used, and the record says so.
    let out = scratch.path().join("out");
    let report_path = scratch.path().join("report.json");
    imgpar()
        .arg(&only)
        .arg(&out)
        .arg("--report")
        .arg(&report_path)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "thumbnails  1 image made from the thumbnail its HEIC stores",
        ));
    let report = report_at(&report_path);
    let record = record_of(&report, "phone_grid.heic");
    assert_eq!(record["decoded_from"], "embedded_thumbnail", "{record}");
    assert_eq!(
        (record["width_in"].as_u64(), record["height_in"].as_u64()),
        (Some(240), Some(320))
    );
    assert_eq!(report["from_thumbnails"], 1);
    let (psnr, size) = scores(&only, &out, true)["phone_grid.heic"];
    assert_eq!(size, (192, 256));
    assert!(
        psnr >= 35.0,
        "{psnr:.1} dB from libheif's decode of the thumbnail"
    );

    // A larger output than the thumbnail holds, or the flag: the picture.
    for args in [
        &["--size", "400x400"][..],
        &["--no-embedded-thumbnails"][..],
    ] {
        let out = scratch.path().join(format!("out{}", args.len()));
        let report_path = scratch.path().join(format!("report{}.json", args.len()));
        imgpar()
            .arg(&only)
            .arg(&out)
            .args(args)
            .arg("--report")
            .arg(&report_path)
            .assert()
            .success()
            .stderr(predicate::str::contains("thumbnail").not());
        let report = report_at(&report_path);
        let record = record_of(&report, "phone_grid.heic");
        assert!(record.get("decoded_from").is_none(), "{args:?}: {record}");
        assert_eq!(
            (record["width_in"].as_u64(), record["height_in"].as_u64()),
            (Some(1200), Some(900))
        );
    }
}

#[test]
fn damaged_heic_files_fail_alone_naming_the_format_and_the_limit_is_read_from_the_container() {
    let scratch = tempfile::tempdir().unwrap();
    let made = scratch.path().join("made");
    make_variants(&made);
    let whole = std::fs::read(made.join("phone_grid.heic")).unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(made.join("gray.heic"), input.join("good.heic")).unwrap();
    let cuts = [
        12,
        40,
        200,
        600,
        whole.len() / 3,
        whole.len() / 2,
        whole.len() - 10,
    ];
    for cut in cuts {
        std::fs::write(input.join(format!("cut{cut}.heic")), &whole[..cut]).unwrap();
    }
    let report_path = scratch.path().join("report.json");
    let out = scratch.path().join("out");
    imgpar()
        .arg(&input)
        .arg(&out)
        .args(["--no-embedded-thumbnails", "--report"])
        .arg(&report_path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("panicked").not());
    let report = report_at(&report_path);
    assert_eq!(record_of(&report, "good.heic")["status"], "ok");
    for cut in cuts {
        let record = record_of(&report, &format!("/cut{cut}.heic"));
        assert_eq!(record["status"], "failed", "{record}");
        let error = record["error"].as_str().unwrap();
        assert!(error.contains("HEIF"), "{error}");
        assert!(!out.join(format!("cut{cut}.png")).exists());
    }

    // 1.08 MP over a 1 MP limit: refused from the container's sizes, before decoding.
    let limited = scratch.path().join("limited");
    let report_path = scratch.path().join("limited.json");
    imgpar()
        .arg(made.join("phone_grid.heic"))
        .arg(&limited)
        .args(["--max-pixels", "1000000", "--report"])
        .arg(&report_path)
        .assert()
        .code(1);
    let report = report_at(&report_path);
    let record = record_of(&report, "phone_grid.heic");
    assert_eq!(record["error_kind"], "too_many_pixels", "{record}");
    assert!(
        record["error"].as_str().unwrap().contains("1200x900"),
        "{record}"
    );
}

/// The 512x512 tile the big grids repeat: stripes whose mean luma is known.
fn tile_pixels() -> Vec<u8> {
    (0..512u32 * 512)
        .flat_map(|i| {
            let (x, y) = (i % 512, i / 512);
            [
                ((x * 3) % 256) as u8,
                ((y * 5) % 256) as u8,
                (((x + y) * 2) % 256) as u8,
            ]
        })
        .collect()
}

fn mean_luma(rgb: &[u8]) -> f64 {
    let sum: f64 = rgb
        .chunks_exact(3)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .sum();
    sum / (rgb.len() / 3) as f64
}

/// What a grid file holds besides its grid.
#[derive(Clone, Copy, PartialEq)]
enum Besides {
    Nothing,
    /// The same tiles again as the grid's alpha plane.
    AlphaPlane,
    /// One tile as the primary item, declared a thumbnail of the grid (an inconsistent file).
    PrimaryThumbnail,
}

/// A `columns` x `rows` grid of one tile coded once (by heifer's encoder), as phones write
/// their photos, with what `besides` says.
fn repeated_grid(columns: u16, rows: u16, besides: Besides) -> Vec<u8> {
    use heifer::heifer_isobmff::HeifFile;
    use heifer::heifer_isobmff::writer::{ALPHA_URN, HeifWriter, ImageSpec};

    let options = heifer::EncodeOptions {
        quality: 50,
        max_threads: 1,
    };
    let coded = heifer::encode_rgb8(512, 512, &tile_pixels(), &options).unwrap();
    let file = HeifFile::parse(&coded).unwrap();
    let tile = match file.referenced_items(file.primary_id, b"dimg") {
        [first, ..] => *first,
        [] => file.primary_id,
    };
    let config = file.hevc_config(tile).unwrap().unwrap().clone();
    let data = file.item_data(tile).unwrap();
    let mut slices = Vec::new();
    let mut at = 0;
    while at + 4 <= data.len() {
        let length = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        slices.push(data[at + 4..at + 4 + length].to_vec());
        at += 4 + length;
    }
    let mut writer = HeifWriter::new();
    let tiles = |writer: &mut HeifWriter| -> Vec<_> {
        (0..usize::from(columns) * usize::from(rows))
            .map(|_| {
                writer.add_image(&ImageSpec {
                    hidden: true,
                    ..ImageSpec::new(512, 512, config.clone(), &slices)
                })
            })
            .collect()
    };
    let (width, height) = (512 * u32::from(columns), 512 * u32::from(rows));
    let picture = tiles(&mut writer);
    let grid = writer.add_grid(rows, columns, width, height, &picture, None, None);
    writer.set_primary(grid);
    match besides {
        Besides::Nothing => {}
        Besides::AlphaPlane => {
            let planes = tiles(&mut writer);
            let plane =
                writer.add_grid(rows, columns, width, height, &planes, None, Some(ALPHA_URN));
            writer.add_reference(*b"auxl", plane, &[grid]);
        }
        Besides::PrimaryThumbnail => {
            let small = writer.add_image(&ImageSpec::new(512, 512, config.clone(), &slices));
            writer.add_reference(*b"thmb", small, &[grid]);
            writer.set_primary(small);
        }
    }
    writer.finish()
}

#[test]
fn a_126_megapixel_heic_grid_converts_in_a_worker_capped_at_128_mib() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // 24 x 20 tiles: 12288 x 10240, 126 MP (500 MB as 8-bit RGBA).
    std::fs::write(
        input.join("grid.heic"),
        repeated_grid(24, 20, Besides::Nothing),
    )
    .unwrap();
    // The same with an alpha plane: decoded whole, it cannot fit, and says which limit.
    std::fs::write(
        input.join("grid-alpha.heic"),
        repeated_grid(24, 20, Besides::AlphaPlane),
    )
    .unwrap();
    let out = scratch.path().join("out");
    let report_path = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(&out)
        .args(["--mode", "process", "-j", "1", "--worker-memory", "128M"])
        .args(["--max-pixels", "0", "--report"])
        .arg(&report_path)
        .assert()
        .code(1);
    let report = report_at(&report_path);
    let record = record_of(&report, "/grid.heic");
    assert_eq!(record["status"], "ok", "{record}");
    assert_eq!(
        (record["width_in"].as_u64(), record["height_in"].as_u64()),
        (Some(12288), Some(10240))
    );
    let thumbnail = open(&out.join("grid.png")).to_luma8();
    assert_eq!(thumbnail.dimensions(), (256, 213));
    let mean = thumbnail.pixels().map(|p| f64::from(p.0[0])).sum::<f64>()
        / f64::from(thumbnail.width() * thumbnail.height());
    let expected = mean_luma(&tile_pixels());
    assert!(
        (mean - expected).abs() < 3.0,
        "mean {mean:.1}, the tile's {expected:.1}"
    );

    let record = record_of(&report, "/grid-alpha.heic");
    assert_eq!(record["status"], "failed", "{record}");
    let error = record["error"].as_str().unwrap();
    assert!(error.contains("--worker-memory 128 MiB"), "{error}");
}

#[test]
fn a_primary_item_declared_a_thumbnail_gives_the_picture_it_stands_for_as_libheif_does() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // The primary item is one 512x512 tile, declared a thumbnail of a 1024x512 grid.
    std::fs::write(
        input.join("inconsistent.heic"),
        repeated_grid(2, 1, Besides::PrimaryThumbnail),
    )
    .unwrap();
    let out = scratch.path().join("out");
    imgpar()
        .arg(&input)
        .arg(&out)
        .arg("--no-embedded-thumbnails")
        .assert()
        .success();
    let scores = scores(&input, &out, false);
    let (psnr, size) = scores["inconsistent.heic"];
    assert_eq!(size, (256, 128), "the 1024x512 grid, not the 512x512 tile");
    assert!(psnr >= 35.0, "{psnr:.1} dB from libheif's picture");
}
