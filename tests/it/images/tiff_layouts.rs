//! TIFF's many sample layouts, each written here by hand from one drawn picture (palette,
//! 2-, 4- and 12-bit gray, signed and floating-point samples, YCbCr in JPEG strips, CIE
//! L*a*b*, CCITT G4, several pages), converted by imgpar and compared with the same picture
//! converted from PNG; and the compressions imgpar cannot decode, failing by name.

use crate::common;

use common::tiff::{Page, Value, deflate, lzw, pack, packbits, tiff};
use common::*;
use image::{GrayImage, Luma, Rgb, RgbImage};

const W: u32 = 96;
const H: u32 = 64;

/// Gradients and hard edges in gray.
fn gray_picture() -> GrayImage {
    GrayImage::from_fn(W, H, |x, y| {
        let edge = if (x / 16 + y / 16) % 2 == 0 { 50 } else { 0 };
        Luma([(x * 2 + y + edge).min(255) as u8])
    })
}

/// sRGB 8-bit to linear light.
fn linear(v: u8) -> f64 {
    let v = f64::from(v) / 255.0;
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn page(tags: Vec<(u16, Value)>, strip: Vec<u8>) -> Page {
    Page {
        width: W,
        height: H,
        rows_per_strip: H,
        tags,
        strips: vec![strip],
    }
}

fn short(tag: u16, value: u16) -> (u16, Value) {
    (tag, Value::Short(vec![value]))
}

/// Tags of a one-sample image: bits, compression, photometric, sample format.
fn one_sample(bits: u16, compression: u16, photometric: u16, format: u16) -> Vec<(u16, Value)> {
    vec![
        short(258, bits),
        short(259, compression),
        short(262, photometric),
        short(277, 1),
        short(339, format),
    ]
}

/// Each value of `gray` scaled to `bits` bits, rounded.
fn scaled(gray: &GrayImage, bits: u32) -> Vec<u32> {
    let max = (1u64 << bits) - 1;
    gray.pixels()
        .map(|p| ((u64::from(p.0[0]) * max + 127) / 255) as u32)
        .collect()
}

/// A palette picture (index per pixel) and its colours.
fn palette_picture(colours: usize) -> (Vec<u32>, Vec<[u8; 3]>, RgbImage) {
    let palette: Vec<[u8; 3]> = (0..colours)
        .map(|i| {
            let i = (i * 255 / (colours - 1)) as u8;
            [i, 255 - i, i.wrapping_mul(7)]
        })
        .collect();
    let index = |x: u32, y: u32| ((x / 6 + y / 4) as usize % colours) as u32;
    let indices = (0..H)
        .flat_map(|y| (0..W).map(move |x| index(x, y)))
        .collect();
    let rgb = RgbImage::from_fn(W, H, |x, y| Rgb(palette[index(x, y) as usize]));
    (indices, palette, rgb)
}

/// The TIFF ColorMap of `palette`, padded to 2^bits entries; 16-bit entries made as
/// `v * 257` or `v << 8` (writers do both).
fn colour_map(palette: &[[u8; 3]], bits: u32, times_257: bool) -> Value {
    let entries = 1usize << bits;
    let widen = |v: u8| {
        if times_257 {
            u16::from(v) * 257
        } else {
            u16::from(v) << 8
        }
    };
    let mut map = vec![0u16; 3 * entries];
    for (i, colour) in palette.iter().enumerate() {
        for channel in 0..3 {
            map[channel * entries + i] = widen(colour[channel]);
        }
    }
    Value::Short(map)
}

#[test]
fn tiff_variants_convert_to_the_same_gray_as_png() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let gray = gray_picture();
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(input.join(name), bytes).unwrap();
    gray.save(input.join("gray.png")).unwrap();

    // Palette, 8-bit (LZW) and 4-bit (PackBits).
    let (indices, palette, rgb) = palette_picture(200);
    rgb.save(input.join("palette8-twin.png")).unwrap();
    let mut tags = one_sample(8, 5, 3, 1);
    tags.push((320, colour_map(&palette, 8, true)));
    let bytes: Vec<u8> = indices.iter().map(|&i| i as u8).collect();
    write("palette8.tif", tiff(&[page(tags, lzw(&bytes))]));
    let (indices, palette, rgb) = palette_picture(16);
    rgb.save(input.join("palette4-twin.png")).unwrap();
    let mut tags = one_sample(4, 32773, 3, 1);
    tags.push((320, colour_map(&palette, 4, false)));
    write(
        "palette4.tif",
        tiff(&[page(tags, packbits(&pack(&indices, W as usize, 4)))]),
    );

    // Gray of 2, 4 and 12 bits: each compared with the PNG of the same levels.
    for (bits, photometric) in [(2u32, 1u16), (4, 0), (12, 1)] {
        let levels = scaled(&gray, bits);
        let max = (1u32 << bits) - 1;
        let shown = GrayImage::from_fn(W, H, |x, y| {
            // White is zero: stored `max - v` shows as `v`.
            let v = levels[(y * W + x) as usize];
            Luma([((u64::from(v) * 255 + u64::from(max) / 2) / u64::from(max)) as u8])
        });
        shown
            .save(input.join(format!("gray{bits}-twin.png")))
            .unwrap();
        let stored: Vec<u32> = levels
            .iter()
            .map(|&v| if photometric == 0 { max - v } else { v })
            .collect();
        let packed = pack(&stored, W as usize, bits as usize);
        let tags = one_sample(bits as u16, 8, photometric, 1);
        write(
            &format!("gray{bits}.tif"),
            tiff(&[page(tags, deflate(&packed))]),
        );
    }

    // Signed 16-bit (Deflate, horizontal predictor): 0..32767 is black to white, and
    // negative samples are black.
    let signed: Vec<i16> = gray
        .enumerate_pixels()
        .map(|(x, _, p)| {
            if x < 8 {
                -1000
            } else {
                ((i32::from(p.0[0]) * 32767 + 127) / 255) as i16
            }
        })
        .collect();
    let mut shown = gray.clone();
    for (x, _, p) in shown.enumerate_pixels_mut() {
        if x < 8 {
            p.0[0] = 0;
        }
    }
    shown.save(input.join("signed16-twin.png")).unwrap();
    let mut predicted = Vec::new();
    for row in signed.chunks(W as usize) {
        let mut previous = 0i16;
        for &v in row {
            predicted.extend(v.wrapping_sub(previous).to_le_bytes());
            previous = v;
        }
    }
    let mut tags = one_sample(16, 8, 1, 2);
    tags.push(short(317, 2));
    write("signed16.tif", tiff(&[page(tags, deflate(&predicted))]));

    // 32-bit float, linear light.
    let float: Vec<u8> = gray
        .pixels()
        .flat_map(|p| (linear(p.0[0]) as f32).to_le_bytes())
        .collect();
    std::fs::copy(input.join("gray.png"), input.join("float32-twin.png")).unwrap();
    write("float32.tif", tiff(&[page(one_sample(32, 1, 1, 3), float)]));

    // CIE L*a*b*, 8-bit: L* of each gray, a* = b* = 0.
    let lab: Vec<u8> = gray
        .pixels()
        .flat_map(|p| {
            let y = linear(p.0[0]);
            let f = if y > 216.0 / 24389.0 {
                y.cbrt()
            } else {
                (24389.0 / 27.0 * y + 16.0) / 116.0
            };
            let lightness = 116.0 * f - 16.0;
            [(lightness * 255.0 / 100.0).round() as u8, 0, 0]
        })
        .collect();
    std::fs::copy(input.join("gray.png"), input.join("lab8-twin.png")).unwrap();
    let lab_tags = vec![
        (258, Value::Short(vec![8, 8, 8])),
        short(259, 1),
        short(262, 8),
        short(277, 3),
    ];
    write("lab8.tif", tiff(&[page(lab_tags, lab)]));

    // YCbCr in a JPEG strip (4:2:0), against the same JPEG as a file.
    let rgb = palette_picture(256).2;
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 90);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder
        .encode(
            rgb.as_raw(),
            W as u16,
            H as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    std::fs::write(input.join("ycbcr-twin.jpg"), &jpeg).unwrap();
    let ycbcr_tags = vec![
        (258, Value::Short(vec![8, 8, 8])),
        short(259, 7),
        short(262, 6),
        short(277, 3),
        (530, Value::Short(vec![2, 2])),
    ];
    write("ycbcr.tif", tiff(&[page(ycbcr_tags, jpeg)]));

    // CCITT G4, white is zero, as fax and scanners write it.
    let bilevel = GrayImage::from_fn(W, H, |x, y| {
        Luma([if gray.get_pixel(x, y).0[0] > 120 {
            255
        } else {
            0
        }])
    });
    bilevel.save(input.join("g4-twin.png")).unwrap();
    let mut fax = fax::encoder::Encoder::new(fax::VecWriter::new());
    for row in bilevel.rows() {
        let pels = row.map(|p| {
            if p.0[0] == 0 {
                fax::Color::Black
            } else {
                fax::Color::White
            }
        });
        fax.encode_line(pels, W as u16).unwrap();
    }
    let g4 = fax.finish().unwrap().finish();
    write("g4.tif", tiff(&[page(one_sample(1, 4, 0, 1), g4)]));
    // CCITT G3 (one-dimensional), black is zero, as libtiff writes it (through Pillow).
    bilevel.save(input.join("g3-twin.png")).unwrap();
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         Image.open(d + '/g3-twin.png').convert('1').save(d + '/g3.tif', compression='group3')\n",
        &[&input],
    );

    // RGB in a WebP strip (lossless), as GDAL writes it.
    let rgb = palette_picture(256).2;
    rgb.save(input.join("webp-twin.png")).unwrap();
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .encode(rgb.as_raw(), W, H, image::ExtendedColorType::Rgb8)
        .unwrap();
    let webp_tags = vec![
        (258, Value::Short(vec![8, 8, 8])),
        short(259, 50001),
        short(262, 2),
        short(277, 3),
    ];
    write("webp.tif", tiff(&[page(webp_tags, webp)]));

    // Two pages: the first is converted.
    let second = GrayImage::from_pixel(W, H, Luma([9]));
    write(
        "pages.tif",
        tiff(&[
            page(one_sample(8, 1, 1, 1), gray.as_raw().clone()),
            page(one_sample(8, 1, 1, 1), second.as_raw().clone()),
        ]),
    );
    std::fs::copy(input.join("gray.png"), input.join("pages-twin.png")).unwrap();

    let out = scratch.path().join("out");
    let json = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(&out)
        .args(["--size", "1000x1000", "--format", "png", "--report"])
        .arg(&json)
        .assert()
        .code(0);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    // (TIFF, mean difference allowed from its twin)
    for (name, tolerance) in [
        ("palette8", 0.0),
        ("palette4", 0.0),
        ("gray2", 0.0),
        ("gray4", 0.0),
        ("gray12", 0.0),
        ("signed16", 0.1),
        ("float32", 0.1),
        // L* in 8 bits is about a third of a unit: a gray level or less.
        ("lab8", 0.25),
        // Two JPEG decoders (zune-jpeg in the TIFF reader, libjpeg for the file).
        ("ycbcr", 0.5),
        ("g4", 0.0),
        ("g3", 0.0),
        ("webp", 0.0),
        ("pages", 0.0),
    ] {
        let converted = open(&out.join(format!("{name}.png"))).to_luma8();
        let expected = open(&out.join(format!("{name}-twin.png"))).to_luma8();
        let difference = mean_difference(&converted, &expected);
        assert!(difference <= tolerance, "{name}: {difference}\n{report}");
    }
}

#[test]
fn tiff_compressions_and_layouts_imgpar_cannot_read_fail_by_name() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let gray = gray_picture();
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(input.join(name), bytes).unwrap();
    for (name, compression) in [
        ("lzma.tif", 34925),
        ("zstd.tif", 50000),
        ("lerc.tif", 34887),
        ("old-jpeg.tif", 6),
    ] {
        write(
            name,
            tiff(&[page(one_sample(8, compression, 1, 1), vec![1, 2, 3, 4])]),
        );
    }
    // G3 with two-dimensional coding (T4Options bit 0).
    let mut g3_2d = one_sample(1, 3, 0, 1);
    g3_2d.push((292, Value::Long(vec![1])));
    write("g3-2d.tif", tiff(&[page(g3_2d, vec![0; 16])]));
    let itu_lab = vec![
        (258, Value::Short(vec![8, 8, 8])),
        short(259, 1),
        short(262, 10),
        short(277, 3),
    ];
    write(
        "itulab.tif",
        tiff(&[page(itu_lab, vec![0; (W * H * 3) as usize])]),
    );
    // A palette index beyond the colour map is damage, not a crash.
    let mut tags = one_sample(8, 1, 3, 1);
    tags.push((320, colour_map(&[[1, 2, 3], [4, 5, 6]], 1, true)));
    write("beyond.tif", tiff(&[page(tags, gray.as_raw().clone())]));
    // A truncated LZW palette strip.
    let mut tags = one_sample(8, 5, 3, 1);
    tags.push((320, colour_map(&palette_picture(256).1, 8, true)));
    let strip = lzw(gray.as_raw());
    write(
        "cut.tif",
        tiff(&[page(tags, strip[..strip.len() / 2].to_vec())]),
    );

    let json = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .arg("--report")
        .arg(&json)
        .assert()
        .code(1);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let error_of = |name: &str| {
        let record = record_of(&report, name);
        (
            record["error_kind"].as_str().unwrap().to_string(),
            record["error"].as_str().unwrap().to_string(),
        )
    };
    for (name, kind, message) in [
        (
            "lzma.tif",
            "unsupported",
            "TIFF with LZMA compression is not supported",
        ),
        (
            "zstd.tif",
            "unsupported",
            "TIFF with Zstandard compression is not supported",
        ),
        (
            "lerc.tif",
            "unsupported",
            "TIFF with LERC compression is not supported",
        ),
        (
            "old-jpeg.tif",
            "unsupported",
            "TIFF with old-style JPEG compression is not supported",
        ),
        (
            "g3-2d.tif",
            "unsupported",
            "TIFF with two-dimensional CCITT G3 compression is not supported",
        ),
        (
            "itulab.tif",
            "unsupported",
            "TIFF with 8-bit ITU L*a*b* samples (3 per pixel) is not supported",
        ),
        ("beyond.tif", "corrupt", "palette index"),
        ("cut.tif", "corrupt", "corrupt or truncated TIFF"),
    ] {
        let (actual_kind, error) = error_of(name);
        assert_eq!(actual_kind, kind, "{name}: {error}");
        assert!(error.contains(message), "{name}: {error}");
    }
}

#[test]
fn damaged_tiff_variants_each_fail_alone_without_a_crash() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let gray = gray_picture();
    let (indices, palette, _) = palette_picture(256);
    let mut tags = one_sample(8, 5, 3, 1);
    tags.push((320, colour_map(&palette, 8, true)));
    let bytes: Vec<u8> = indices.iter().map(|&i| i as u8).collect();
    let palette_lzw = tiff(&[page(tags, lzw(&bytes))]);
    let twelve = tiff(&[page(
        one_sample(12, 32773, 1, 1),
        packbits(&pack(&scaled(&gray, 12), W as usize, 12)),
    )]);
    let float: Vec<u8> = gray
        .pixels()
        .flat_map(|p| (f32::from(p.0[0]) / 255.0).to_le_bytes())
        .collect();
    let float = tiff(&[page(one_sample(32, 8, 1, 3), deflate(&float))]);
    GrayImage::from_fn(W, H, |x, y| {
        Luma([if (x / 7 + y / 5) % 3 == 0 { 0 } else { 255 }])
    })
    .save(input.join("g3.png"))
    .unwrap();
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         Image.open(d + '/g3.png').convert('1').save(d + '/g3.tif', compression='group3')\n",
        &[&input],
    );
    let g3 = std::fs::read(input.join("g3.tif")).unwrap();
    std::fs::remove_file(input.join("g3.tif")).unwrap();
    std::fs::remove_file(input.join("g3.png")).unwrap();
    let mut count = 0;
    let mut random = Lcg(7);
    for (stem, whole) in [
        ("palette", palette_lzw),
        ("twelve", twelve),
        ("float", float),
        ("g3", g3),
    ] {
        let len = whole.len();
        for cut in [4, 8, 20, 60, len / 2, len * 3 / 4, len - 10, len - 1] {
            std::fs::write(input.join(format!("{stem}.cut{cut}.tif")), &whole[..cut]).unwrap();
            count += 1;
        }
        for flip in 0..12 {
            // The directory (at the end) most of the time, the data otherwise.
            let at = if flip < 8 {
                len - 1 - random.below(300.min(len))
            } else {
                random.below(len)
            };
            let mut damaged = whole.clone();
            damaged[at] ^= 1 << random.below(8);
            std::fs::write(input.join(format!("{stem}.flip{flip}.tif")), damaged).unwrap();
            count += 1;
        }
    }
    // A palette picture claiming 10,000 MP is refused from its header.
    let bomb = Page {
        width: 100_000,
        height: 100_000,
        rows_per_strip: 100_000,
        tags: {
            let mut tags = one_sample(8, 1, 3, 1);
            tags.push((320, colour_map(&palette, 8, true)));
            tags
        },
        strips: vec![vec![0; 64]],
    };
    std::fs::write(input.join("bomb.tif"), tiff(&[bomb])).unwrap();
    count += 1;
    let report = assert_each_ends_cleanly(&input, scratch.path(), count);
    let bomb = record_of(&report, "bomb.tif");
    assert_eq!(bomb["error_kind"], "too_many_pixels", "{bomb}");
}
