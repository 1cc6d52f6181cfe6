//! Memory that follows the output, not the picture: a 100-megapixel PNG, a 100-megapixel
//! baseline JPEG and the same JPEG progressive convert in a worker process whose address
//! space is capped at 128 MiB (the PNG's pixels alone are 300 MB, the progressive JPEG's
//! coefficients, which libjpeg would hold, 300 MB), and the thumbnails are the picture;
//! in colour too (the progressive JPEG's every component from its DC scans alone).

use crate::common;

use std::io::{BufWriter, Write};
use std::path::Path;

use common::*;

const SIDE: u32 = 10_000;

/// Diagonal colour stripes with fine detail: row `y` is the base row shifted by `y / 4`
/// pixels, so rows are made by slicing, not computed pixel by pixel.
struct Picture {
    base: Vec<u8>,
}

impl Picture {
    const PERIOD: u32 = 512;

    fn new() -> Picture {
        let base = (0..SIDE + Picture::PERIOD)
            .flat_map(|x| {
                let detail = if x % 2 == 0 { 30 } else { 0 };
                [
                    ((x / 8) % 200) as u8 + detail,
                    ((x / 3) % 160) as u8,
                    (255 - (x / 5) % 256) as u8,
                ]
            })
            .collect();
        Picture { base }
    }

    fn row(&self, y: u32) -> &[u8] {
        let start = 3 * ((y / 4) % Picture::PERIOD) as usize;
        &self.base[start..start + 3 * SIDE as usize]
    }

    /// The picture's mean BT.601 luma, from every 7th pixel of every 13th row.
    fn mean_luma(&self) -> f64 {
        let (mut total, mut count) = (0.0, 0.0);
        for y in (0..SIDE).step_by(13) {
            for p in self.row(y).chunks_exact(3).step_by(7) {
                total +=
                    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
                count += 1.0;
            }
        }
        total / count
    }

    fn write_png(&self, path: &Path) {
        let file = BufWriter::new(std::fs::File::create(path).unwrap());
        let mut encoder = png::Encoder::new(file, SIDE, SIDE);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        for y in 0..SIDE {
            stream.write_all(self.row(y)).unwrap();
        }
        stream.finish().unwrap();
    }

    fn write_jpeg(&self, path: &Path, progressive: bool) {
        let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        compress.set_fastest_defaults();
        if progressive {
            compress.set_progressive_mode();
        }
        compress.set_size(SIDE as usize, SIDE as usize);
        compress.set_quality(90.0);
        let file = BufWriter::new(std::fs::File::create(path).unwrap());
        let mut started = compress.start_compress(file).unwrap();
        for y in 0..SIDE {
            started.write_scanlines(self.row(y)).unwrap();
        }
        started.finish().unwrap();
    }
}

fn mean(image: &image::GrayImage) -> f64 {
    image.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / image.pixels().len() as f64
}

#[test]
fn hundred_megapixel_png_and_jpegs_convert_in_a_worker_capped_at_128_mib() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let picture = Picture::new();
    picture.write_png(&input.join("scan-png.png"));
    picture.write_jpeg(&input.join("scan-jpeg.jpg"), false);
    picture.write_jpeg(&input.join("scan-progressive.jpg"), true);
    let progressive = std::fs::read(input.join("scan-progressive.jpg")).unwrap();
    assert!(
        progressive.windows(2).any(|w| w == [0xFF, 0xC2]),
        "the JPEG is progressive"
    );
    drop(progressive);
    let jpeg = std::fs::read(input.join("scan-jpeg.jpg")).unwrap();
    assert!(
        jpeg.windows(2).any(|w| w == [0xFF, 0xC0]) && !jpeg.windows(2).any(|w| w == [0xFF, 0xC2]),
        "the JPEG is not baseline"
    );
    drop(jpeg);

    let out = scratch.path().join("out");
    let report = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(&out)
        .args([
            "--mode",
            "process",
            "-j",
            "1",
            "--worker-memory",
            "128M",
            "--format",
            "png",
        ])
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["ok"], 3, "{json}");

    let expected = picture.mean_luma();
    let from_png = open(&out.join("scan-png.png")).to_luma8();
    let from_jpeg = open(&out.join("scan-jpeg.png")).to_luma8();
    let from_progressive = open(&out.join("scan-progressive.png")).to_luma8();
    for (name, thumbnail) in [
        ("png", &from_png),
        ("jpeg", &from_jpeg),
        ("progressive", &from_progressive),
    ] {
        assert_eq!(thumbnail.dimensions(), (256, 256), "{name}");
        let mean = mean(thumbnail);
        assert!(
            (mean - expected).abs() < 2.0,
            "{name}: mean {mean:.1}, picture {expected:.1}"
        );
    }
    // The same picture through both decoders: the thumbnails agree up to the JPEG's loss.
    let difference = from_png
        .pixels()
        .zip(from_jpeg.pixels())
        .map(|(a, b)| f64::from(a.0[0].abs_diff(b.0[0])))
        .sum::<f64>()
        / f64::from(256 * 256);
    assert!(
        difference < 3.0,
        "PNG and JPEG thumbnails differ by {difference:.2}"
    );
    // The same coefficients, baseline or progressive: the same thumbnail, byte for byte.
    assert_eq!(
        from_jpeg, from_progressive,
        "baseline and progressive thumbnails differ"
    );

    // In colour, all three within the same cap.
    let colour_input = scratch.path().join("colour-in");
    std::fs::create_dir(&colour_input).unwrap();
    for name in ["scan-png.png", "scan-jpeg.jpg", "scan-progressive.jpg"] {
        std::fs::hard_link(input.join(name), colour_input.join(name)).unwrap();
    }
    let colour_out = scratch.path().join("colour-out");
    imgpar()
        .arg(&colour_input)
        .arg(&colour_out)
        .args(["--mode", "process", "-j", "1", "--worker-memory", "128M"])
        .args(["--format", "png", "--color"])
        .assert()
        .success();
    for name in ["scan-png.png", "scan-jpeg.png", "scan-progressive.png"] {
        let thumbnail = open(&colour_out.join(name)).to_rgb8();
        assert_eq!(thumbnail.dimensions(), (256, 256), "{name}");
        // BT.601 luma, as the picture's mean is (the `image` crate's own gray is BT.709).
        let mean = thumbnail
            .pixels()
            .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
            .sum::<f64>()
            / f64::from(256 * 256);
        assert!(
            (mean - expected).abs() < 3.0,
            "{name} in colour: mean {mean:.1}, picture {expected:.1}"
        );
    }
}
