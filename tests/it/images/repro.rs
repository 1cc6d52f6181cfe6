//! Real-world files imgpar once read as the wrong picture while reporting "ok", read in
//! place from `../shared/corpora/repro` (its README says what each expects). Each test
//! checks the picture against an independent reading of the same file.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use image::{DynamicImage, GenericImageView, GrayAlphaImage, GrayImage};
use predicates::prelude::*;

fn repro(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/repro")
        .join(name)
}

/// Converts the repro files `names` to PNG at their own size (no resize) and returns the
/// folder.
fn convert_at_full_size(names: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut command = imgpar();
    for name in names {
        command.arg(repro(name));
    }
    command
        .arg(out.path())
        .args(["--size", "1000x1000", "--format", "png"])
        .assert()
        .code(0);
    out
}

fn gray(path: &Path) -> GrayImage {
    open(path).to_luma8()
}

/// BT.601 luma of 8-bit RGB, rounded, as imgpar defines gray.
fn luma(r: f64, g: f64, b: f64) -> f64 {
    (0.299 * r + 0.587 * g + 0.114 * b).round()
}

#[test]
fn webp_exif_with_the_jpeg_style_header_still_turns_the_picture_upright() {
    let out = convert_at_full_size(&[
        "hopper_orientation_3.webp",
        "hopper_orientation_6.webp",
        "hopper_orientation_6_noprefix.webp",
    ]);
    let upright = gray(&out.path().join("hopper_orientation_6_noprefix.png"));
    for turned in ["hopper_orientation_3.png", "hopper_orientation_6.png"] {
        let difference = mean_difference(&gray(&out.path().join(turned)), &upright);
        // The same photo, lossily encoded twice (about 2 levels apart); turned the wrong
        // way it differs by about 70.
        assert!(difference < 5.0, "{turned}: {difference}");
    }
}

#[test]
fn tiff_with_associated_alpha_is_not_darkened_by_its_alpha() {
    for name in ["hpredict.tiff", "tiff_16bit_RGBa.tiff"] {
        let out = convert_at_full_size(&[name]);
        let output = open(&out.path().join(name.replace(".tiff", ".png"))).to_luma_alpha8();
        // The `image` crate reads the samples as stored (premultiplied); divide them here.
        let stored = image::open(repro(name)).unwrap().to_rgba16();
        let mut compared = 0;
        let mut total = 0.0;
        for (x, y, p) in stored.enumerate_pixels() {
            let [r, g, b, a] = p.0.map(f64::from);
            if a < 65535.0 * 0.25 {
                continue; // too transparent for the division to be exact
            }
            let plain = |v: f64| (v / a * 255.0).min(255.0);
            let expected = luma(plain(r), plain(g), plain(b));
            total += (expected - f64::from(output.get_pixel(x, y).0[0])).abs();
            compared += 1;
        }
        assert!(compared > 100, "{name}: {compared} pixels compared");
        let mean = total / f64::from(compared);
        assert!(mean < 1.5, "{name}: mean difference {mean}");
    }
}

#[test]
fn tiff_with_bits_in_reverse_order_gives_the_picture_not_garbage() {
    let out = convert_at_full_size(&["16bit.r.tif"]);
    let output = gray(&out.path().join("16bit.r.png"));
    // Uncompressed, one strip at byte 8, little-endian 16-bit samples whose bytes hold
    // their bits lowest first (FillOrder 2).
    let file = std::fs::read(repro("16bit.r.tif")).unwrap();
    assert_eq!(&file[..2], b"II");
    let (w, h) = output.dimensions();
    for (i, pixel) in output.pixels().enumerate() {
        let at = 8 + 2 * i;
        let value = u16::from_le_bytes([file[at].reverse_bits(), file[at + 1].reverse_bits()]);
        let expected = (f64::from(value) / 257.0).round() as u8;
        assert_eq!(pixel.0[0], expected, "pixel {i} of {w}x{h}");
    }
}

#[test]
fn tiled_planar_tiffs_and_bigtiff_convert() {
    let out = convert_at_full_size(&[
        "tiff_tiled_planar_raw.tif",
        "tiff_tiled_planar_lzw.tiff",
        "tiff_tiled_planar_16bit_RGB.tiff",
        "hopper_bigtiff.tif",
        "hopper_orientation_6_noprefix.webp",
    ]);
    // One picture stored raw and LZW-compressed.
    let raw = gray(&out.path().join("tiff_tiled_planar_raw.png"));
    let lzw = gray(&out.path().join("tiff_tiled_planar_lzw.png"));
    assert_eq!(raw.dimensions(), (278, 374));
    assert_eq!(raw, lzw);
    // The picture is not noise: neighbouring pixels are mostly alike.
    let rough: f64 = raw
        .rows()
        .flat_map(|row| {
            let row: Vec<f64> = row.map(|p| f64::from(p.0[0])).collect();
            row.windows(2)
                .map(|w| (w[0] - w[1]).abs())
                .collect::<Vec<_>>()
        })
        .sum::<f64>()
        / f64::from(277 * 374);
    assert!(rough < 20.0, "{rough}");
    let planar16 = open(&out.path().join("tiff_tiled_planar_16bit_RGB.png"));
    assert_eq!(planar16.dimensions(), (100, 40));
    // BigTIFF holds the same photo as the (lossy) WebP.
    let big = gray(&out.path().join("hopper_bigtiff.png"));
    let webp = gray(&out.path().join("hopper_orientation_6_noprefix.png"));
    let difference = mean_difference(&big, &webp);
    assert!(difference < 5.0, "{difference}");
}

#[test]
fn one_bit_png_with_a_transparent_colour_keeps_its_transparency() {
    let out = convert_at_full_size(&["1_trns.png"]);
    let output: GrayAlphaImage = match open(&out.path().join("1_trns.png")) {
        DynamicImage::ImageLumaA8(image) => image,
        other => panic!("no alpha in the output: {:?}", other.color()),
    };
    // The tRNS colour is white (written as 255, on the 8-bit scale): exactly the white
    // pixels are transparent, and the black ones stay black and opaque. The `image` crate
    // reads the pixels alone (it drops this tRNS).
    let source = image::open(repro("1_trns.png")).unwrap().to_luma8();
    let mut transparent = 0;
    for (pixel, stored) in output.pixels().zip(source.pixels()) {
        if stored.0[0] == 255 {
            assert_eq!(pixel.0[1], 0);
            transparent += 1;
        } else {
            assert_eq!(pixel.0, [0, 255]);
        }
    }
    assert!(transparent > 0 && transparent < 64 * 64);
}

#[test]
fn bmp_whose_pixel_offset_points_into_its_palette_fails_with_the_reason() {
    let out = tempfile::tempdir().unwrap();
    run(&repro("mmap_error.bmp"), out.path(), &[])
        .code(1)
        .stderr(predicate::str::contains(
            "pixel data offset (54) points inside its header and colour table",
        ));
    assert!(files_under(out.path()).is_empty());
}

#[test]
fn gif_first_frame_larger_than_the_screen_is_kept_whole() {
    let out = convert_at_full_size(&["oob.gif", "issue_1455_oversized.gif"]);
    assert_eq!(open(&out.path().join("oob.png")).dimensions(), (40, 40));
    let oversized = open(&out.path().join("issue_1455_oversized.png"));
    assert_eq!(oversized.dimensions(), (16, 16));
    // The frame's own pixels, read by the `gif` crate, are all there.
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options
        .read_info(std::fs::File::open(repro("oob.gif")).unwrap())
        .unwrap();
    let frame = decoder.read_next_frame().unwrap().unwrap().clone();
    let output = open(&out.path().join("oob.png")).to_luma_alpha8();
    for (i, rgba) in frame.buffer.chunks_exact(4).enumerate() {
        let x = u32::from(frame.left) + i as u32 % u32::from(frame.width);
        let y = u32::from(frame.top) + i as u32 / u32::from(frame.width);
        let [r, g, b, a] = [rgba[0], rgba[1], rgba[2], rgba[3]].map(f64::from);
        let pixel = output.get_pixel(x, y).0;
        assert_eq!(f64::from(pixel[1]), a, "alpha at {x},{y}");
        if a > 0.0 {
            assert_eq!(f64::from(pixel[0]), luma(r, g, b), "gray at {x},{y}");
        }
    }
}

#[test]
fn decoder_errors_are_sentences_without_debug_text() {
    let out = tempfile::tempdir().unwrap();
    run(&pngsuite().join("xcsn0g01.png"), out.path(), &[])
        .code(1)
        .stderr(predicate::str::contains("the IDAT chunk is damaged"))
        .stderr(predicate::str::contains("ChunkType").not());
}
