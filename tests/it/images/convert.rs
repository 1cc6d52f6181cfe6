//! What a user sees when converting good images: every format read, gray out, the box and
//! the aspect respected, orientation applied, and the same bytes whatever the mode.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use image::{ColorType, GenericImageView};

fn expected_outputs() -> Vec<PathBuf> {
    [
        "alpha.png",
        "baseline_420.jpg",
        "baseline_444.jpg",
        "cmyk.jpg",
        "gray.jpg",
        "nested/deeper/portrait.jpg",
        "no_extension.jpg",
        "palette.png",
        "picture.bmp.png",
        "picture.gif.png",
        "picture.tiff.png",
        "picture.webp",
        "progressive.jpg",
        "red.png",
        "rgb16.png",
        "rgb8.png",
        "small.png",
    ]
    .iter()
    .map(PathBuf::from)
    .collect()
}

#[test]
fn every_format_becomes_a_gray_thumbnail_at_the_same_relative_path() {
    let out = convert(&fixtures("images"), &[]);
    assert_eq!(files_under(out.path()), expected_outputs());
    for rel in expected_outputs() {
        let image = open(&out.path().join(&rel));
        assert!(is_gray(&image), "{} is not gray", rel.display());
        let (w, h) = image.dimensions();
        let expected = match rel.to_str().unwrap() {
            "small.png" => (100, 50),
            "red.png" => (64, 64),
            "palette.png" => (200, 100),
            "nested/deeper/portrait.jpg" => (192, 256),
            _ => (256, 192),
        };
        assert_eq!((w, h), expected, "{}", rel.display());
    }
    assert_no_temp_files(out.path());
}

/// Whether an output holds gray: one channel, or (WebP, which has no gray mode) red, green
/// and blue equal, or within one level where lossy WebP's YUV to RGB rounding parts them.
fn is_gray(image: &image::DynamicImage) -> bool {
    match image.color() {
        ColorType::L8 | ColorType::La8 => true,
        ColorType::Rgb8 | ColorType::Rgba8 => image.to_rgba8().pixels().all(|p| {
            let [r, g, b, _] = p.0.map(i16::from);
            (r - g).abs() <= 1 && (g - b).abs() <= 1 && (r - b).abs() <= 1
        }),
        _ => false,
    }
}

#[test]
fn red_becomes_bt601_luma_like_pillow() {
    let out = convert(&fixtures("images/red.png"), &[]);
    let gray = open(&out.path().join("red.png")).to_luma8();
    assert!(
        gray.pixels().all(|p| p.0 == [76]),
        "BT.601 luma of pure red is 76"
    );
}

#[test]
fn jpeg_cmyk_and_16_bit_inputs_agree_with_the_8_bit_png() {
    // The same picture through different decoders must give nearly the same gray.
    let out = convert(&fixtures("images"), &["--format", "png"]);
    let reference = open(&out.path().join("rgb8.png")).to_luma8();
    for name in [
        "rgb16.png",
        "baseline_444.png",
        "progressive.png",
        "cmyk.png",
        "gray.png",
        "picture.webp.png",
    ] {
        let other = open(&out.path().join(name)).to_luma8();
        assert_eq!(other.dimensions(), reference.dimensions(), "{name}");
        let diff: f64 = other
            .pixels()
            .zip(reference.pixels())
            .map(|(a, b)| (f64::from(a.0[0]) - f64::from(b.0[0])).abs())
            .sum::<f64>()
            / f64::from(reference.width() * reference.height());
        assert!(
            diff < 2.5,
            "{name} differs from the PNG by {diff:.2} on average"
        );
    }
}

#[test]
fn alpha_is_kept_in_png_and_laid_on_the_background_in_jpeg_white_unless_told() {
    let picture = fixtures("images/alpha.png");
    let png = convert(&picture, &[]);
    let image = open(&png.path().join("alpha.png"));
    assert_eq!(image.color(), ColorType::La8);
    let centre = image.to_luma_alpha8().get_pixel(128, 96).0;
    assert_eq!(centre[1], 0, "the transparent hole stays transparent");
    // The hole, as a JPEG (no alpha): the background's gray, compared with Pillow laying
    // the picture on the same colour.
    for (args, colour, hole) in [
        (&[][..], "#ffffff", 255),
        (&["--background", "black"][..], "#000000", 0),
        (&["--background", "#4080c0"][..], "#4080c0", 117),
    ] {
        let jpeg = convert(
            &picture,
            &[&["--format", "jpeg", "--quality", "95"][..], args].concat(),
        );
        let output = jpeg.path().join("alpha.jpg");
        let written = open(&output);
        assert_eq!(written.color(), ColorType::L8);
        let at = written.to_luma8().get_pixel(128, 96).0[0];
        assert!(
            at.abs_diff(hole) <= 3,
            "{args:?}: the hole is {at}, not {hole}"
        );
        let printed = common::python::photo_reference(&[
            "flatten-compare".as_ref(),
            picture.as_os_str(),
            output.as_os_str(),
            colour.as_ref(),
        ]);
        let psnr: f64 = printed.trim().parse().unwrap();
        assert!(
            psnr >= 35.0,
            "{args:?}: {psnr:.1} dB from Pillow's picture on {colour}"
        );
    }
    imgpar()
        .arg(&picture)
        .arg(png.path().join("refused"))
        .args(["--background", "#12"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("expected a colour"));
}

#[test]
fn webp_outputs_round_trip_lossless_exactly_and_lossy_closely() {
    let png = convert(&fixtures("images"), &["--format", "png"]);
    let lossless = convert(&fixtures("images"), &["--format", "webp-lossless"]);
    let lossy = convert(
        &fixtures("images"),
        &["--format", "webp", "--quality", "90"],
    );
    let names = files_under(png.path());
    assert_eq!(names.len(), expected_outputs().len());
    for rel in names {
        // `picture.webp` keeps its name as WebP; it became `picture.webp.png` as PNG.
        let webp = if rel.to_string_lossy().ends_with(".webp.png") {
            rel.with_extension("")
        } else {
            rel.with_extension("webp")
        };
        let reference = open(&png.path().join(&rel)).to_luma_alpha8();
        for (out, tolerance) in [(&lossless, 0.0), (&lossy, 1.0)] {
            let path = out.path().join(&webp);
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP",
                "{}",
                path.display()
            );
            let image = open(&path);
            assert!(is_gray(&image), "{} is not gray", path.display());
            let decoded = image.to_luma_alpha8();
            assert_eq!(decoded.dimensions(), reference.dimensions());
            // Gray as seen: premultiplied by alpha (lossy WebP may change what is invisible).
            let seen = |i: &image::GrayAlphaImage| {
                image::GrayImage::from_fn(i.width(), i.height(), |x, y| {
                    let [v, a] = i.get_pixel(x, y).0.map(u32::from);
                    image::Luma([((v * a + 127) / 255) as u8])
                })
            };
            let difference = mean_difference(&seen(&decoded), &seen(&reference));
            assert!(difference <= tolerance, "{}: {difference}", path.display());
            if tolerance == 0.0 {
                assert_eq!(decoded, reference, "{}: alpha", path.display());
            }
        }
    }
}

#[test]
fn format_jpeg_writes_gray_jpegs_with_jpg_names() {
    let out = convert(
        &fixtures("images"),
        &["--format", "jpeg", "--quality", "70"],
    );
    let files = files_under(out.path());
    assert_eq!(files.len(), expected_outputs().len());
    for rel in files {
        let bytes = std::fs::read(out.path().join(&rel)).unwrap();
        assert_eq!(
            &bytes[..2],
            &[0xFF, 0xD8],
            "{} is not a JPEG",
            rel.display()
        );
        assert_eq!(rel.extension().unwrap(), "jpg");
        assert_eq!(open(&out.path().join(&rel)).color(), ColorType::L8);
    }
}

#[test]
fn non_images_are_passed_over_and_content_is_recognised() {
    let out = convert(&fixtures("images"), &[]);
    assert!(!out.path().join("notes.txt").exists());
    assert!(!out.path().join("notes.png").exists());
    let bytes = std::fs::read(out.path().join("no_extension.jpg")).unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
}

#[test]
fn outputs_are_byte_identical_in_every_mode_and_worker_count() {
    // Two folders as inputs: every fixture that converts, in one run.
    let both = |out: &Path, args: &[&str]| {
        imgpar()
            .arg(fixtures("images"))
            .arg(fixtures("orientation"))
            .arg(out)
            .args(args)
            .assert()
            .success();
        all_bytes(out)
    };
    let scratch = tempfile::tempdir().unwrap();
    let reference = both(
        &scratch.path().join("sequential"),
        &["--mode", "sequential"],
    );
    assert_eq!(reference.len(), expected_outputs().len() + 8);
    for mode in parallel_modes() {
        for jobs in ["1", "2", "4"] {
            let out = scratch.path().join(format!("{mode}-{jobs}"));
            assert!(
                both(&out, &["--mode", mode, "-j", jobs]) == reference,
                "{mode} -j {jobs} differs from sequential"
            );
        }
    }
}

#[test]
fn exif_orientation_turns_every_variant_upright() {
    let out = convert(&fixtures("orientation"), &["--format", "png"]);
    let upright = open(&out.path().join("orientation_1.png")).to_luma8();
    assert_eq!(upright.dimensions(), (256, 192));
    // The bright block sits in the top-left corner of the upright picture.
    assert!(upright.get_pixel(10, 10).0[0] > 200);
    assert!(upright.get_pixel(245, 180).0[0] < 200);
    for value in 2..=8 {
        let image = open(&out.path().join(format!("orientation_{value}.png"))).to_luma8();
        assert_eq!(image.dimensions(), (256, 192), "orientation {value}");
        let diff: f64 = image
            .pixels()
            .zip(upright.pixels())
            .map(|(a, b)| (f64::from(a.0[0]) - f64::from(b.0[0])).abs())
            .sum::<f64>()
            / (256.0 * 192.0);
        assert!(
            diff < 3.0,
            "orientation {value} is not upright (mean difference {diff:.1})"
        );
    }
}

fn size_of(out: &Path, name: &str) -> (u32, u32) {
    open(&out.join(name)).dimensions()
}

#[test]
fn size_and_fit_flags_shape_the_output() {
    let input = fixtures("images/rgb8.png"); // 400x300
    let cases: &[(&[&str], (u32, u32))] = &[
        (&["--size", "100x100", "--fit", "cover"], (100, 100)),
        (&["--size", "100x30", "--fit", "fill"], (100, 30)),
        (&["--size", "100x100"], (100, 75)),
        (&["--width", "128"], (128, 96)),
        (&["--height", "150"], (200, 150)),
        (&["--size", "800x800"], (400, 300)),
        (&["--size", "800x800", "--upscale"], (800, 600)),
        (&["--size", "64x64", "--filter", "nearest"], (64, 48)),
        (&["--size", "64x64", "--filter", "box"], (64, 48)),
    ];
    for (args, expected) in cases {
        let out = convert(&input, args);
        assert_eq!(size_of(out.path(), "rgb8.png"), *expected, "{args:?}");
    }
}

#[test]
fn cover_crops_the_centre() {
    // 400x300 into 100x100. Contain scales by 1/4: the bright 80x60 top-left block becomes
    // 20 px wide. Cover keeps the middle 300x300 at 1/3: only 30 px of the block survive,
    // 10 px wide.
    let input = fixtures("images/rgb8.png");
    let contain = convert(&input, &["--size", "100x100"]);
    let cover = convert(&input, &["--size", "100x100", "--fit", "cover"]);
    let contain = open(&contain.path().join("rgb8.png")).to_luma8();
    let cover = open(&cover.path().join("rgb8.png")).to_luma8();
    assert!(contain.get_pixel(15, 5).0[0] > 200);
    assert!(cover.get_pixel(4, 5).0[0] > 200);
    assert!(
        cover.get_pixel(15, 5).0[0] < 200,
        "the left edge was not cropped away"
    );
}

/// Mean and largest absolute difference between two gray images of the same size.
#[test]
fn large_jpegs_and_webps_shrunk_while_decoding_match_the_same_picture_as_png() {
    // A detailed 2400x1800 picture (text-like stripes and gradients) as PNG, lossless WebP,
    // and baseline and progressive JPEG. The WebP and the JPEGs are decoded already shrunk
    // (the JPEGs in the DCT domain, to 2/8 for 256x192 and to 1/8 for 128x96), the PNG at
    // full size, and all are then resized with the same filter, so the thumbnails must
    // agree up to the JPEG's own loss.
    let scratch = tempfile::tempdir().unwrap();
    let picture = image::RgbImage::from_fn(2400, 1800, |x, y| {
        let stripe = if (x / 9 + y / 13) % 2 == 0 { 40 } else { 0 };
        image::Rgb([(x / 12) as u8 + stripe, (y / 8) as u8, ((x + y) / 17) as u8])
    });
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    picture.save(input.join("big.png")).unwrap();
    let webp = std::fs::File::create(input.join("big.webp")).unwrap();
    image::codecs::webp::WebPEncoder::new_lossless(webp)
        .encode(picture.as_raw(), 2400, 1800, image::ExtendedColorType::Rgb8)
        .unwrap();
    for (name, progressive) in [("baseline.jpg", false), ("progressive.jpg", true)] {
        let mut encoder = jpeg_encoder::Encoder::new_file(input.join(name), 95).unwrap();
        encoder.set_progressive(progressive);
        encoder
            .encode(picture.as_raw(), 2400, 1800, jpeg_encoder::ColorType::Rgb)
            .unwrap();
    }
    for (args, size) in [
        (&["--format", "png"][..], (256, 192)),
        (&["--format", "png", "--size", "128x128"][..], (128, 96)),
    ] {
        // The PNG and the WebP would collide as big.png: the WebP's output keeps its name.
        let out = convert(&input, args);
        let from_png = open(&out.path().join("big.png")).to_luma8();
        assert_eq!(from_png.dimensions(), size);
        for name in ["big.webp.png", "baseline.png", "progressive.png"] {
            let thumbnail = open(&out.path().join(name)).to_luma8();
            let (mean, max) = difference(&thumbnail, &from_png);
            assert!(
                mean < 1.0 && max <= 8,
                "{name} at {size:?}: mean {mean:.2}, max {max}"
            );
        }
    }
}

#[test]
fn a_batch_smaller_than_the_pool_reports_the_workers_that_ran() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for name in ["red.png", "gray.jpg"] {
        std::fs::copy(fixtures("images").join(name), input.join(name)).unwrap();
    }
    for mode in parallel_modes() {
        let out = scratch.path().join(format!("out-{mode}"));
        let report_path = scratch.path().join(format!("{mode}.json"));
        run(
            &input,
            &out,
            &[
                "--mode",
                mode,
                "-j",
                "8",
                "--report",
                report_path.to_str().unwrap(),
            ],
        )
        .code(0);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
        // Two images keep two of the eight workers busy: the efficiency is over those two.
        assert_eq!(report["workers"], 2, "{mode}");
        let efficiency = report["parallel_efficiency"].as_f64().unwrap();
        assert!(
            efficiency > 0.0 && efficiency <= 1.0,
            "{mode}: {efficiency}"
        );
    }
}
