//! Writes the test fixtures under `fixtures/` (run from the repository root):
//!
//!     cargo run --example make_fixtures -- fixtures
//!
//! Every image is drawn here from code, so the repository ships only images it made itself.
//! The output is deterministic: running it again reproduces the committed files byte for
//! byte (a test holds this).

use std::path::{Path, PathBuf};

use image::metadata::Orientation;
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use imgpar::internals::gray::luma601;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fixtures".into()));
    write_all(&root);
    println!("fixtures written under {}", root.display());
}

/// Writes every fixture under `root`.
pub fn write_all(root: &Path) {
    write_images(&root.join("images"));
    write_orientation(&root.join("orientation"));
    write_broken(&root.join("broken"));
    write_photos(&root.join("photos"));
}

/// A deterministic "photo": colour gradients, a disc and a bright block in the top-left
/// corner, so orientation mistakes and channel mix-ups show.
fn scene(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let (dx, dy) = (fx - 0.6, fy - 0.55);
        let disc = dx * dx + dy * dy < 0.04;
        if x < width / 5 && y < height / 5 {
            Rgb([250, 250, 240])
        } else if disc {
            Rgb([30, 160, 60])
        } else {
            Rgb([
                (fx * 230.0) as u8 + 10,
                (fy * 200.0) as u8 + 20,
                ((1.0 - fx) * 180.0) as u8 + 40,
            ])
        }
    })
}

fn jpeg(
    image: &RgbImage,
    sampling: SamplingFactor,
    progressive: bool,
    exif: Option<u16>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 90);
    encoder.set_sampling_factor(sampling);
    encoder.set_progressive(progressive);
    if let Some(orientation) = exif {
        encoder
            .add_exif_metadata(&exif_orientation(orientation))
            .unwrap();
    }
    let (w, h) = (image.width() as u16, image.height() as u16);
    encoder
        .encode(image.as_raw(), w, h, ColorType::Rgb)
        .unwrap();
    out
}

/// A minimal little-endian TIFF/EXIF block holding one Orientation tag.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0];
    exif.extend_from_slice(&0x0112u16.to_le_bytes()); // tag: Orientation
    exif.extend_from_slice(&3u16.to_le_bytes()); // type: SHORT
    exif.extend_from_slice(&1u32.to_le_bytes()); // count
    exif.extend_from_slice(&value.to_le_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // padding, next IFD: none
    exif
}

fn encode_with(image: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn png(
    data: &[u8],
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
) -> Vec<u8> {
    png_with(data, width, height, color, depth, |_| {})
}

fn png_with(
    data: &[u8],
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    setup: impl FnOnce(&mut png::Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    setup(&mut encoder);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn write_images(dir: &Path) {
    let photo = scene(400, 300);
    write(
        &dir.join("baseline_420.jpg"),
        &jpeg(&photo, SamplingFactor::R_4_2_0, false, None),
    );
    write(
        &dir.join("baseline_444.jpg"),
        &jpeg(&photo, SamplingFactor::R_4_4_4, false, None),
    );
    write(
        &dir.join("progressive.jpg"),
        &jpeg(&photo, SamplingFactor::R_4_2_0, true, None),
    );
    // No extension: recognised by its content.
    write(
        &dir.join("no_extension"),
        &jpeg(&photo, SamplingFactor::R_4_2_0, false, None),
    );

    // BT.601, as imgpar computes it, so this gray JPEG matches the colour ones.
    let gray: Vec<u8> = photo.pixels().map(|p| luma601(p[0], p[1], p[2])).collect();
    let mut gray_jpeg = Vec::new();
    Encoder::new(&mut gray_jpeg, 90)
        .encode(&gray, 400, 300, ColorType::Luma)
        .unwrap();
    write(&dir.join("gray.jpg"), &gray_jpeg);

    let cmyk: Vec<u8> = photo
        .pixels()
        .flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 0])
        .collect();
    let mut cmyk_jpeg = Vec::new();
    Encoder::new(&mut cmyk_jpeg, 90)
        .encode(&cmyk, 400, 300, ColorType::Cmyk)
        .unwrap();
    write(&dir.join("cmyk.jpg"), &cmyk_jpeg);

    write(
        &dir.join("rgb8.png"),
        &png(
            photo.as_raw(),
            400,
            300,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
        ),
    );
    let deep: Vec<u8> = photo
        .as_raw()
        .iter()
        .flat_map(|&v| (u16::from(v) * 257).to_be_bytes())
        .collect();
    write(
        &dir.join("rgb16.png"),
        &png(&deep, 400, 300, png::ColorType::Rgb, png::BitDepth::Sixteen),
    );

    // Palette: 4 colours, 2x2 blocks of 50 px.
    let palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
    let indices: Vec<u8> = (0..200u32 * 100)
        .map(|i| {
            let (x, y) = (i % 200, i / 200);
            ((x / 50 + y / 50) % 4) as u8
        })
        .collect();
    write(
        &dir.join("palette.png"),
        &png_with(
            &indices,
            200,
            100,
            png::ColorType::Indexed,
            png::BitDepth::Eight,
            |e| e.set_palette(palette.to_vec()),
        ),
    );

    // Alpha: the scene with a transparent hole in the middle.
    let alpha = RgbaImage::from_fn(400, 300, |x, y| {
        let p = photo.get_pixel(x, y);
        let (dx, dy) = (x as i32 - 200, y as i32 - 150);
        let a = if dx * dx + dy * dy < 60 * 60 { 0 } else { 255 };
        Rgba([p[0], p[1], p[2], a])
    });
    write(
        &dir.join("alpha.png"),
        &png(
            alpha.as_raw(),
            400,
            300,
            png::ColorType::Rgba,
            png::BitDepth::Eight,
        ),
    );

    let small = scene(100, 50);
    write(
        &dir.join("small.png"),
        &png(
            small.as_raw(),
            100,
            50,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
        ),
    );
    let red = RgbImage::from_pixel(64, 64, Rgb([255, 0, 0]));
    write(
        &dir.join("red.png"),
        &png(
            red.as_raw(),
            64,
            64,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
        ),
    );

    let dynamic = DynamicImage::ImageRgb8(photo.clone());
    write(
        &dir.join("picture.gif"),
        &encode_with(&dynamic, image::ImageFormat::Gif),
    );
    write(
        &dir.join("picture.bmp"),
        &encode_with(&dynamic, image::ImageFormat::Bmp),
    );
    write(
        &dir.join("picture.tiff"),
        &encode_with(&dynamic, image::ImageFormat::Tiff),
    );
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(photo.as_raw(), 400, 300, image::ExtendedColorType::Rgb8)
        .unwrap();
    write(&dir.join("picture.webp"), &webp);

    let portrait = scene(300, 400);
    write(
        &dir.join("nested/deeper/portrait.jpg"),
        &jpeg(&portrait, SamplingFactor::R_4_2_0, false, None),
    );
    write(
        &dir.join("notes.txt"),
        b"Not an image: imgpar passes this file over.\n",
    );
}

/// The same upright picture stored eight ways, each with the EXIF orientation that turns it
/// upright again: every output must come out the same way up.
fn write_orientation(dir: &Path) {
    let upright = DynamicImage::ImageRgb8(scene(320, 240));
    for value in 1..=8u8 {
        let orientation = Orientation::from_exif(value).unwrap();
        let mut stored = upright.clone();
        stored.apply_orientation(inverse(orientation));
        let mut check = stored.clone();
        check.apply_orientation(orientation);
        assert_eq!(check, upright, "orientation {value} does not round-trip");
        let bytes = jpeg(
            &stored.to_rgb8(),
            SamplingFactor::R_4_4_4,
            false,
            Some(u16::from(value)),
        );
        write(&dir.join(format!("orientation_{value}.jpg")), &bytes);
    }
}

fn inverse(orientation: Orientation) -> Orientation {
    match orientation {
        Orientation::Rotate90 => Orientation::Rotate270,
        Orientation::Rotate270 => Orientation::Rotate90,
        other => other,
    }
}

fn write_broken(dir: &Path) {
    let photo = scene(400, 300);
    write(
        &dir.join("good.png"),
        &png(
            photo.as_raw(),
            400,
            300,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
        ),
    );
    write(&dir.join("empty.jpg"), b"");
    let whole = jpeg(&photo, SamplingFactor::R_4_2_0, false, None);
    write(&dir.join("truncated.jpg"), &whole[..whole.len() / 2]);
    write(
        &dir.join("text.jpg"),
        b"<html><body>This is not a JPEG.</body></html>\n",
    );
    write(&dir.join("huge_header.png"), &huge_png_header());
}

/// What phones and cameras write: a HEIC as a phone stores it (512x512 tiles and a 320 px
/// thumbnail, by `heifer`'s encoder), and a camera RAW reduced to what imgpar reads of one
/// (a TIFF whose IFD0 says Orientation 6 and points at the camera's JPEG).
fn write_photos(dir: &Path) {
    let photo = scene(640, 480);
    let options = heifer::EncodeOptions {
        quality: 60,
        max_threads: 1,
    };
    let heic = heifer::encode_rgb8(640, 480, photo.as_raw(), &options).unwrap();
    write(&dir.join("phone.heic"), &heic);
    let preview = jpeg(&scene(480, 320), SamplingFactor::R_4_2_0, false, None);
    write(&dir.join("camera.nef"), &tiff_pointing_at(&preview, 6));
}

/// A little-endian TIFF whose IFD0 says it holds sensor data (PhotometricInterpretation
/// CFA) and holds Orientation and JPEGInterchangeFormat(Length), followed by `jpeg`.
fn tiff_pointing_at(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let entries: [(u16, u16, u32); 4] = [
        (0x0106, 3, 32803),
        (0x0112, 3, u32::from(orientation)),
        (0x0201, 4, 8 + 2 + 4 * 12 + 4),
        (0x0202, 4, jpeg.len() as u32),
    ];
    let mut out = b"II*\0\x08\0\0\0".to_vec();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(jpeg);
    out
}

/// A valid PNG signature and IHDR claiming 100000x100000 pixels, and nothing behind it.
fn huge_png_header() -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&100_000u32.to_be_bytes());
    chunk.extend_from_slice(&100_000u32.to_be_bytes());
    chunk.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit gray, deflate, no filter, no interlace
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&crc32fast::hash(b"IEND").to_be_bytes());
    out
}
