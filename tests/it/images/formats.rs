//! The formats the `image` crate reads in pure Rust (PNM, TGA, ICO and CUR, QOI, HDR,
//! OpenEXR, farbfeld, APNG's first frame), PFM (read by imgpar) and JPEG XL (jxl-oxide): each written here from one drawn
//! picture, converted by imgpar at full size and compared with the same picture converted
//! from PNG.

use crate::common;

use common::*;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use predicates::prelude::*;

/// A small picture with smooth gradients and hard edges.
fn picture() -> RgbImage {
    RgbImage::from_fn(120, 80, |x, y| {
        let edge = if (x / 20 + y / 20) % 2 == 0 { 40 } else { 0 };
        Rgb([
            (x * 2 + edge) as u8,
            (y * 3) as u8,
            ((255 - x * 2) / 2 + edge) as u8,
        ])
    })
}

/// An icon file holding one PNG entry: RGBA, as the ICO format asks of PNG entries.
fn icon_of(rgb: &RgbImage) -> Vec<u8> {
    let rgba = DynamicImage::ImageRgb8(rgb.clone()).to_rgba8();
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        rgba.as_raw(),
        rgba.width(),
        rgba.height(),
        image::ExtendedColorType::Rgba8,
    )
    .unwrap();
    let mut icon = vec![0, 0, 1, 0, 1, 0];
    icon.extend([rgba.width() as u8, rgba.height() as u8, 0, 0, 1, 0, 32, 0]);
    icon.extend((png.len() as u32).to_le_bytes());
    icon.extend(22u32.to_le_bytes());
    icon.extend(png);
    icon
}

/// A lossless JPEG XL of the picture, from `zune-jpegxl` (an encoder independent of the
/// decoder imgpar uses).
fn jxl_of(rgb: &RgbImage) -> Vec<u8> {
    use zune_core::bit_depth::BitDepth;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::EncoderOptions;
    let options = EncoderOptions::new(
        rgb.width() as usize,
        rgb.height() as usize,
        ColorSpace::RGB,
        BitDepth::Eight,
    );
    let mut jxl = Vec::new();
    zune_jpegxl::JxlSimpleEncoder::new(rgb.as_raw(), options)
        .encode(&mut jxl)
        .unwrap();
    jxl
}

/// sRGB 8-bit to linear light, the inverse of imgpar's rule for float inputs.
fn linear(v: u8) -> f32 {
    let v = f32::from(v) / 255.0;
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

#[test]
fn every_pure_rust_format_converts_to_the_same_gray_as_png() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let rgb = picture();
    let save = |name: &str, image: DynamicImage, format: ImageFormat| {
        image
            .save_with_format(input.join(name), format)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    };
    save(
        "reference.png",
        DynamicImage::ImageRgb8(rgb.clone()),
        ImageFormat::Png,
    );
    save(
        "photo.ppm",
        DynamicImage::ImageRgb8(rgb.clone()),
        ImageFormat::Pnm,
    );
    save(
        "photo.tga",
        DynamicImage::ImageRgb8(rgb.clone()),
        ImageFormat::Tga,
    );
    std::fs::write(input.join("photo.ico"), icon_of(&rgb)).unwrap();
    // A cursor is an icon of type 2 whose planes and depth fields hold the hotspot.
    let mut cursor = icon_of(&rgb);
    cursor[2] = 2;
    cursor[10..14].copy_from_slice(&[7, 0, 9, 0]);
    std::fs::write(input.join("photo.cur"), cursor).unwrap();
    save(
        "photo.qoi",
        DynamicImage::ImageRgb8(rgb.clone()),
        ImageFormat::Qoi,
    );
    save(
        "photo.ff",
        DynamicImage::ImageRgb8(rgb.clone()).to_rgba16().into(),
        ImageFormat::Farbfeld,
    );
    let float = image::Rgb32FImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let p = rgb.get_pixel(x, y).0;
        Rgb([linear(p[0]), linear(p[1]), linear(p[2])])
    });
    // PFM: little-endian (negative scale), bottom row first.
    let mut pfm = format!("PF\n{} {}\n-1.0\n", rgb.width(), rgb.height()).into_bytes();
    for row in float.rows().rev() {
        for pixel in row {
            pfm.extend(pixel.0.iter().flat_map(|v| v.to_le_bytes()));
        }
    }
    std::fs::write(input.join("photo.pfm"), pfm).unwrap();
    save(
        "photo.hdr",
        DynamicImage::ImageRgb32F(float.clone()),
        ImageFormat::Hdr,
    );
    save(
        "photo.exr",
        DynamicImage::ImageRgb32F(float),
        ImageFormat::OpenExr,
    );
    std::fs::copy(input.join("reference.png"), input.join("photo.apng")).unwrap();
    std::fs::write(input.join("photo.jxl"), jxl_of(&rgb)).unwrap();
    // A TGA has no signature: without its extension it is not taken for an image.
    std::fs::copy(input.join("photo.tga"), input.join("photo-tga-unnamed")).unwrap();

    let out = scratch.path().join("out");
    let json = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(&out)
        .args(["--size", "1000x1000", "--report"])
        .arg(&json)
        .assert()
        .code(0);
    let reference = open(&out.join("reference.png")).to_luma8();
    // Lossless 8-bit formats give the same pixels; float formats round-trip through
    // linear light (RGBE keeps 8 bits of mantissa) within a level on average.
    for (name, tolerance) in [
        ("photo.ppm.png", 0.0),
        ("photo.tga.png", 0.0),
        ("photo.ico.png", 0.0),
        ("photo.cur.png", 0.0),
        ("photo.pfm.png", 1.0),
        ("photo.qoi.png", 0.0),
        ("photo.ff.png", 0.0),
        ("photo.apng.png", 0.0),
        ("photo.jxl.png", 0.0),
        ("photo.hdr.png", 1.0),
        ("photo.exr.png", 1.0),
    ] {
        let gray = open(&out.join(name)).to_luma8();
        let difference = mean_difference(&gray, &reference);
        assert!(difference <= tolerance, "{name}: {difference}");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["ok"], 12, "{report}");
    assert_eq!(report["passed_over"], 1);
}

#[test]
fn image_formats_imgpar_does_not_read_fail_by_name_never_in_silence() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("layers.psd"), b"8BPS\0\x01").unwrap();
    std::fs::write(
        input.join("logo.svg"),
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    )
    .unwrap();
    std::fs::write(input.join("notes.txt"), b"not an image").unwrap();
    run(&input, &scratch.path().join("out"), &[])
        .code(1)
        .stderr(predicate::str::contains(
            "layers.psd: Photoshop (PSD) files are not supported",
        ))
        .stderr(predicate::str::contains(
            "logo.svg: SVG (vector image) files are not supported",
        ))
        .stderr(predicate::str::contains("0 ok, 2 failed"));
}

#[test]
fn size_bombs_in_the_new_formats_are_refused_from_the_header() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("bomb.pgm"), b"P5\n60000 60000\n255\n").unwrap();
    let mut qoi = b"qoif".to_vec();
    qoi.extend(60000u32.to_be_bytes());
    qoi.extend(60000u32.to_be_bytes());
    qoi.extend([3, 0]);
    std::fs::write(input.join("bomb.qoi"), qoi).unwrap();
    let mut farbfeld = b"farbfeld".to_vec();
    farbfeld.extend(60000u32.to_be_bytes());
    farbfeld.extend(60000u32.to_be_bytes());
    std::fs::write(input.join("bomb.ff"), farbfeld).unwrap();
    std::fs::write(input.join("bomb.pfm"), b"Pf\n60000 60000\n-1.0\n").unwrap();
    let json = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .args(["--mode", "process", "--worker-memory", "128M", "--report"])
        .arg(&json)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("4 failed"));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for record in report["images"].as_array().unwrap() {
        assert_eq!(record["error_kind"], "too_many_pixels", "{record}");
        assert!(
            record["error"].as_str().unwrap().contains("3600 MP"),
            "{record}"
        );
    }
}

#[test]
fn damaged_jpeg_xl_files_each_fail_alone_without_a_crash() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let whole = jxl_of(&picture());
    let mut count = 0;
    for cut in [
        2,
        8,
        16,
        40,
        whole.len() / 3,
        whole.len() / 2,
        whole.len() - 1,
    ] {
        std::fs::write(input.join(format!("cut{cut}.jxl")), &whole[..cut]).unwrap();
        count += 1;
    }
    for at in [3, 10, 25, whole.len() / 2] {
        let mut flipped = whole.clone();
        flipped[at] ^= 0x5A;
        std::fs::write(input.join(format!("flip{at}.jxl")), flipped).unwrap();
        count += 1;
    }
    assert_each_ends_cleanly(&input, scratch.path(), count);
}

#[test]
fn every_file_named_or_shaped_like_an_image_gets_one_record_and_the_rest_are_counted_by_reason() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let tiff = std::fs::read(fixtures("images/picture.tiff")).unwrap();
    // (file, bytes, the reason it fails with)
    let named: [(&str, Vec<u8>, &str); 7] = [
        // A camera RAW file is TIFF inside: read for the JPEG preview it stores, never as
        // the TIFF's own (small) image; this one stores none.
        (
            "holiday.nef",
            tiff.clone(),
            "camera RAW without an embedded JPEG preview imgpar can read",
        ),
        (
            "scan.dng",
            tiff,
            "camera RAW without an embedded JPEG preview",
        ),
        // A JPEG 2000 file that stops after its first boxes fails as damaged.
        (
            "map.jp2",
            b"\0\0\0\x0CjP  \r\n\x87\n\0\0\0\x14ftypjp2 ".to_vec(),
            "corrupt or unsupported JPEG 2000",
        ),
        (
            "pages.jpm",
            b"\0\0\0\x0CjP  \r\n\x87\n\0\0\0\x14ftypjpm ".to_vec(),
            "JPEG 2000 compound (JPM) files are not supported",
        ),
        (
            "old.pcx",
            vec![0x0A, 5, 1, 8, 0, 0, 0, 0],
            "PCX files are not supported",
        ),
        (
            "layers.xcf",
            b"gimp xcf v011\0".to_vec(),
            "GIMP (XCF) files are not supported",
        ),
        // No extension: known by its first bytes (a HEIC's file type box and nothing more).
        (
            "still",
            {
                let mut heic = vec![0, 0, 0, 0x18];
                heic.extend(b"ftypheic\0\0\0\0mif1heic");
                heic
            },
            "corrupt or truncated HEIF",
        ),
    ];
    for (name, bytes, _) in &named {
        std::fs::write(input.join(name), bytes).unwrap();
    }
    // Every extension imgpar reads or names, on bytes that are no image: each still gets
    // exactly one record (a failure that says what is wrong), never silence.
    let every = [
        "jpg", "jpeg", "jpe", "jfif", "apng", "gif", "webp", "bmp", "dib", "tif", "tiff", "pbm",
        "pgm", "ppm", "pnm", "pam", "pfm", "tga", "ico", "cur", "qoi", "dds", "hdr", "exr", "ff",
        "jxl", "jp2", "j2k", "j2c", "jpf", "jpx", "jpm", "avif", "heic", "heif", "psd", "svg",
        "pdf", "jxr", "pcx", "sgi", "xpm", "xbm", "icns", "xcf", "kra", "ora", "cr2", "cr3", "arw",
        "raf", "orf", "rw2",
    ];
    for ext in every {
        std::fs::write(input.join(format!("any.{ext}")), b"\x01\x02 no picture").unwrap();
    }
    std::fs::copy(fixtures("images/rgb8.png"), input.join("photo.png")).unwrap();
    std::fs::write(input.join("notes.txt"), b"shopping list\n").unwrap();
    std::fs::write(input.join("README"), b"# read me\n").unwrap();
    std::fs::write(input.join("photos.zip"), b"PK\x03\x04\x14\0\0\0").unwrap();
    std::fs::write(input.join("blob.bin"), [0u8, 159, 146, 150, 0, 1]).unwrap();

    let out = scratch.path().join("out");
    let json = scratch.path().join("report.json");
    let assert = imgpar()
        .arg(&input)
        .arg(&out)
        .arg("--verbose")
        .arg("--report")
        .arg(&json)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "passed over 4 files that are not images: 2 text, 1 a ZIP archive, 1 no image signature (listed below)",
        ));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    for (file, reason) in [
        ("notes.txt", "text"),
        ("README", "text"),
        ("photos.zip", "a ZIP archive"),
        ("blob.bin", "no image signature"),
    ] {
        let line = format!("{}: {reason}", input.join(file).display());
        assert!(stderr.contains(&line), "{line} not listed:\n{stderr}");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let records = report["images"].as_array().unwrap();
    assert_eq!(records.len(), named.len() + every.len() + 1, "{report}");
    for ext in every {
        let record = record_of(&report, &format!("/any.{ext}"));
        assert_eq!(record["status"], "failed", "{record}");
    }
    for (name, _, reason) in &named {
        let of_file: Vec<_> = records
            .iter()
            .filter(|r| r["input"].as_str().unwrap().ends_with(&format!("/{name}")))
            .collect();
        assert_eq!(of_file.len(), 1, "{name}");
        assert_eq!(of_file[0]["status"], "failed", "{name}");
        let error = of_file[0]["error"].as_str().unwrap();
        assert!(error.starts_with(reason), "{name}: {error}");
    }
    assert_eq!(report["ok"], 1);
    assert_eq!(report["passed_over"], 4);
    assert_eq!(report["passed_over_files"].as_array().unwrap().len(), 4);
    assert_eq!(files_under(&out).len(), 1, "only the PNG is written");
}

/// Converts the folder `input` to PNG at full size (no resize) into `scratch/out`, all ok.
fn at_full_size_as_png(input: &std::path::Path, scratch: &std::path::Path) -> std::path::PathBuf {
    let out = scratch.join("out");
    imgpar()
        .arg(input)
        .arg(&out)
        .args(["--size", "1000x1000", "--format", "png"])
        .assert()
        .code(0);
    out
}

/// Pillow (OpenJPEG inside) writes JPEG 2000 from the PNGs named in `pairs` (source,
/// target, options as Python keyword arguments).
fn jpeg2000_from_png(dir: &std::path::Path, pairs: &[(&str, &str, &str)]) {
    let mut script = String::from("import sys\nfrom PIL import Image\nd = sys.argv[1]\n");
    for (source, target, options) in pairs {
        script.push_str(&format!(
            "Image.open(d + '/{source}').save(d + '/{target}', {options})\n"
        ));
    }
    common::python::run_pillow(&script, &[dir]);
}

#[test]
fn jpeg_2000_converts_to_the_same_gray_as_png_at_full_and_reduced_size() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let rgb = picture();
    rgb.save(input.join("reference.png")).unwrap();
    DynamicImage::ImageRgb8(rgb.clone())
        .to_luma8()
        .save(input.join("gray-source.png"))
        .unwrap();
    // A large picture, which a 256-pixel thumbnail lets the decoder shrink by 2.
    let large = RgbImage::from_fn(1600, 1200, |x, y| {
        let edge = if (x / 100 + y / 100) % 2 == 0 { 60 } else { 0 };
        Rgb([(x / 8 + edge) as u8, (y / 6) as u8, ((x + y) / 16) as u8])
    });
    large.save(input.join("large.png")).unwrap();
    jpeg2000_from_png(
        &input,
        &[
            // Lossless (the reversible wavelet), in the JP2 container and as a codestream.
            ("reference.png", "photo.jp2", "irreversible=False"),
            ("reference.png", "photo.j2k", "irreversible=False"),
            ("gray-source.png", "gray.jp2", "irreversible=False"),
            (
                "large.png",
                "large.jp2",
                "irreversible=False, num_resolutions=6",
            ),
        ],
    );
    let full = scratch.path().join("full");
    imgpar()
        .arg(input.join("reference.png"))
        .arg(input.join("gray-source.png"))
        .arg(input.join("photo.jp2"))
        .arg(input.join("photo.j2k"))
        .arg(input.join("gray.jp2"))
        .arg(&full)
        .args(["--size", "1000x1000"])
        .assert()
        .code(0);
    let reference = open(&full.join("reference.png")).to_luma8();
    for (name, twin) in [
        ("photo.jp2.png", &reference),
        ("photo.j2k.png", &reference),
        ("gray.png", &open(&full.join("gray-source.png")).to_luma8()),
    ] {
        let gray = open(&full.join(name)).to_luma8();
        assert_eq!(mean_difference(&gray, twin), 0.0, "{name}");
    }
    // Shrunk while decoding (one resolution level dropped), then resized: within a level
    // of the thumbnail of the same picture from PNG.
    let small = scratch.path().join("small");
    imgpar()
        .arg(input.join("large.png"))
        .arg(input.join("large.jp2"))
        .arg(&small)
        .assert()
        .code(0);
    let from_png = open(&small.join("large.png")).to_luma8();
    let from_jp2 = open(&small.join("large.jp2.png")).to_luma8();
    assert_eq!(from_jp2.dimensions(), (256, 192));
    let difference = mean_difference(&from_jp2, &from_png);
    assert!(difference < 1.0, "{difference}");
}

#[test]
fn damaged_jpeg_2000_files_each_fail_alone_without_a_crash() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    picture().save(input.join("source.png")).unwrap();
    jpeg2000_from_png(
        &input,
        &[
            (
                "source.png",
                "whole.jp2",
                "irreversible=True, quality_layers=[20]",
            ),
            ("source.png", "whole.j2k", "irreversible=False"),
        ],
    );
    std::fs::remove_file(input.join("source.png")).unwrap();
    let mut count = 0;
    let mut random = Lcg(11);
    for name in ["whole.jp2", "whole.j2k"] {
        let whole = std::fs::read(input.join(name)).unwrap();
        std::fs::remove_file(input.join(name)).unwrap();
        let len = whole.len();
        for cut in [6, 12, 40, 90, len / 3, len / 2, len - 2] {
            std::fs::write(input.join(format!("cut{cut}-{name}")), &whole[..cut]).unwrap();
            count += 1;
        }
        for flip in 0..16 {
            let span = if flip < 10 { len.min(200) } else { len };
            let mut damaged = whole.clone();
            damaged[random.below(span)] ^= 1 << random.below(8);
            std::fs::write(input.join(format!("flip{flip}-{name}")), damaged).unwrap();
            count += 1;
        }
        if name.ends_with(".j2k") {
            // The codestream's size (SIZ) and tile size claim 60000 x 60000 pixels.
            let mut bomb = whole.clone();
            for at in [8, 12, 24, 28] {
                bomb[at..at + 4].copy_from_slice(&60000u32.to_be_bytes());
            }
            std::fs::write(input.join("bomb.j2k"), bomb).unwrap();
            count += 1;
        }
    }
    let report = assert_each_ends_cleanly(&input, scratch.path(), count);
    let bomb = record_of(&report, "bomb.j2k");
    assert_eq!(bomb["error_kind"], "too_many_pixels", "{bomb}");
}

#[test]
fn avif_converts_to_the_same_gray_as_png_and_avif_output_round_trips() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let rgb = picture();
    rgb.save(input.join("reference.png")).unwrap();
    std::fs::copy(fixtures("images/alpha.png"), input.join("alpha-source.png")).unwrap();
    // Pillow (libavif inside) writes YUV 4:2:0 colour, gray, and colour with alpha.
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         Image.open(d + '/reference.png').save(d + '/photo.avif', quality=95)\n\
         Image.open(d + '/reference.png').convert('L').save(d + '/gray.avif', quality=95)\n\
         Image.open(d + '/alpha-source.png').save(d + '/alpha.avif', quality=95)\n",
        &[&input],
    );
    // RGB stored as GBR planes (the identity matrix), written by ravif.
    let pixels: Vec<ravif::RGB8> = rgb
        .pixels()
        .map(|p| ravif::RGB8::new(p.0[0], p.0[1], p.0[2]))
        .collect();
    let gbr = ravif::Encoder::new()
        .with_quality(100.0)
        .with_speed(10)
        .with_internal_color_model(ravif::ColorModel::RGB)
        .encode_rgb(ravif::Img::new(
            &pixels[..],
            rgb.width() as usize,
            rgb.height() as usize,
        ))
        .unwrap();
    std::fs::write(input.join("gbr.avif"), gbr.avif_file).unwrap();
    let out = at_full_size_as_png(&input, scratch.path());
    let reference = open(&out.join("reference.png")).to_luma8();
    for (name, tolerance) in [("photo.png", 1.0), ("gray.png", 1.0), ("gbr.png", 1.0)] {
        let gray = open(&out.join(name)).to_luma8();
        let difference = mean_difference(&gray, &reference);
        assert!(difference <= tolerance, "{name}: {difference}");
    }
    let alpha = open(&out.join("alpha.png"));
    let expected = open(&out.join("alpha-source.png")).to_luma_alpha8();
    assert_eq!(alpha.color(), image::ColorType::La8, "alpha is kept");
    let alpha = alpha.to_luma_alpha8();
    let channel = |image: &image::GrayAlphaImage, c: usize| {
        image::GrayImage::from_fn(image.width(), image.height(), |x, y| {
            image::Luma([image.get_pixel(x, y).0[c]])
        })
    };
    assert!(mean_difference(&channel(&alpha, 1), &channel(&expected, 1)) < 1.0);

    // AVIF out, read back by Pillow (libavif): the same gray within the lossy margin.
    let avif_out = scratch.path().join("avif");
    imgpar()
        .arg(input.join("reference.png"))
        .arg(input.join("alpha-source.png"))
        .arg(&avif_out)
        .args([
            "--size",
            "1000x1000",
            "--format",
            "avif",
            "--quality",
            "90",
            "--speed",
            "10",
        ])
        .assert()
        .code(0);
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         Image.open(d + '/reference.avif').convert('L').save(d + '/reference.png')\n\
         Image.open(d + '/alpha-source.avif').convert('LA').save(d + '/alpha-source.png')\n",
        &[&avif_out],
    );
    let back = open(&avif_out.join("reference.png")).to_luma8();
    let difference = mean_difference(&back, &reference);
    assert!(difference <= 1.5, "AVIF output: {difference}");
    let back = open(&avif_out.join("alpha-source.png")).to_luma_alpha8();
    assert!(mean_difference(&channel(&back, 1), &channel(&expected, 1)) < 1.5);
    // The pixel limit is read from the AV1 header, before decoding.
    imgpar()
        .arg(input.join("photo.avif"))
        .arg(scratch.path().join("limited"))
        .args(["--max-pixels", "1000"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("over the 0.0 MP limit"));
}

#[test]
fn damaged_avif_files_each_fail_alone_without_a_crash() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    picture().save(input.join("source.png")).unwrap();
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         Image.open(d + '/source.png').save(d + '/whole.avif', quality=80)\n",
        &[&input],
    );
    let whole = std::fs::read(input.join("whole.avif")).unwrap();
    std::fs::remove_file(input.join("whole.avif")).unwrap();
    std::fs::remove_file(input.join("source.png")).unwrap();
    let len = whole.len();
    let mut count = 0;
    for cut in [8, 16, 40, 120, 300, len / 2, len - 40, len - 1] {
        std::fs::write(input.join(format!("cut{cut}.avif")), &whole[..cut]).unwrap();
        count += 1;
    }
    let mut random = Lcg(5);
    for flip in 0..24 {
        let span = if flip < 12 { len.min(400) } else { len };
        let mut damaged = whole.clone();
        damaged[random.below(span)] ^= 1 << random.below(8);
        std::fs::write(input.join(format!("flip{flip}.avif")), damaged).unwrap();
        count += 1;
    }
    // The fuzzer's find: 3.5 KB whose item location box claims 4 GB, which avif-parse
    // reserved before reading.
    let find = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/avif-iloc-claims-4gb.avif");
    std::fs::copy(find, input.join("claims-4gb.avif")).unwrap();
    count += 1;
    let report = assert_each_ends_cleanly(&input, scratch.path(), count);
    let find = record_of(&report, "claims-4gb.avif");
    assert!(
        find["error"].as_str().unwrap().contains("a box runs past"),
        "{find}"
    );
}

#[test]
fn dds_converts_to_the_same_gray_as_png() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    // A DXT1 (BC1) texture of one colour per 4x4 block, and the same picture as PNG.
    let (w, h) = (64u32, 48u32);
    let colour = |bx: u32, by: u32| -> u16 {
        let (r, g, b) = ((bx * 4) % 32, (by * 9 + bx) % 64, (31 - bx * 2) % 32);
        (r << 11 | g << 5 | b) as u16
    };
    let widen = |v: u16, bits: u32| -> u8 {
        let v = u32::from(v);
        ((v << (8 - bits)) | (v >> (2 * bits - 8))) as u8
    };
    let mut dds = b"DDS ".to_vec();
    let mut header = [0u32; 31];
    header[0] = 124;
    header[1] = 0x1 | 0x2 | 0x4 | 0x1000;
    header[2] = h;
    header[3] = w;
    header[18] = 32; // the pixel format's size
    header[19] = 0x4; // a FourCC is given
    header[26] = 0x1000; // a texture
    dds.extend(header.iter().flat_map(|v| v.to_le_bytes()));
    dds[84..88].copy_from_slice(b"DXT1");
    for by in 0..h / 4 {
        for bx in 0..w / 4 {
            let c = colour(bx, by);
            dds.extend(c.to_le_bytes());
            dds.extend(c.to_le_bytes());
            dds.extend([0u8; 4]);
        }
    }
    std::fs::write(input.join("texture.dds"), dds).unwrap();
    RgbImage::from_fn(w, h, |x, y| {
        let c = colour(x / 4, y / 4);
        Rgb([widen(c >> 11, 5), widen((c >> 5) & 63, 6), widen(c & 31, 5)])
    })
    .save(input.join("texture-twin.png"))
    .unwrap();
    let out = at_full_size_as_png(&input, scratch.path());
    let dds = open(&out.join("texture.png")).to_luma8();
    let png = open(&out.join("texture-twin.png")).to_luma8();
    // 5- and 6-bit colours widened to 8 bits by bit replication here, perhaps by rounding
    // in the decoder: at most a level apart.
    let difference = mean_difference(&dds, &png);
    assert!(difference <= 1.0, "{difference}");
}
