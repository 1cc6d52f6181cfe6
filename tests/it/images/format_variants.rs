//! Variants of formats imgpar reads that real-world files use and imgpar once got wrong
//! or refused: AVIF rotation and mirroring, TGA attribute bits and 16-bit pixels, DDS
//! block formats, DX10 headers, masks and palettes, lenient BMPs (planes, OS/2 2.x
//! headers, RLE running past a line, top-down RLE, skipped pixels, headerless DIBs), and
//! icons, cursors and QOI files whose headers disagree with their data. Each file is
//! written here (by hand, or by Pillow as an independent encoder), converted at full size,
//! and compared with the same picture converted from PNG.

use crate::common;

use common::*;
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};

/// A small picture with smooth gradients and hard edges, not square, so that a turn or a
/// mirror shows.
fn picture() -> RgbImage {
    RgbImage::from_fn(96, 64, |x, y| {
        let edge = if (x / 16 + y / 16) % 2 == 0 { 50 } else { 0 };
        Rgb([
            (x * 2 + edge) as u8,
            (y * 3) as u8,
            ((255 - x * 2) / 2) as u8,
        ])
    })
}

/// Converts the files in `input` to PNG at full size into `scratch/out`, expecting `code`.
fn full_size(input: &std::path::Path, scratch: &std::path::Path, code: i32) -> std::path::PathBuf {
    let out = scratch.join("out");
    imgpar()
        .arg(input)
        .arg(&out)
        .args(["--size", "1000x1000", "--format", "png"])
        .assert()
        .code(code);
    out
}

/// The gray of an output, and its alpha (255 where it has none).
fn gray_and_alpha(path: &std::path::Path) -> (image::GrayImage, image::GrayImage) {
    let image = open(path).to_luma_alpha8();
    let channel = |c: usize| {
        image::GrayImage::from_fn(image.width(), image.height(), |x, y| {
            image::Luma([image.get_pixel(x, y).0[c]])
        })
    };
    (channel(0), channel(1))
}

fn assert_same_picture(out: &std::path::Path, name: &str, twin: &str, tolerance: f64) {
    let (gray, alpha) = gray_and_alpha(&out.join(name));
    let (twin_gray, twin_alpha) = gray_and_alpha(&out.join(twin));
    assert_eq!(gray.dimensions(), twin_gray.dimensions(), "{name}");
    let difference = mean_difference(&gray, &twin_gray);
    assert!(
        difference <= tolerance,
        "{name}: gray differs by {difference}"
    );
    let difference = mean_difference(&alpha, &twin_alpha);
    assert!(
        difference <= tolerance,
        "{name}: alpha differs by {difference}"
    );
}

#[test]
fn avif_rotation_and_mirroring_are_applied_as_the_item_properties_say() {
    let (scratch, input) = scratch_with_input();
    picture().save(input.join("source.png")).unwrap();
    // Pillow (libavif) turns an EXIF orientation into `irot` and `imir` properties when it
    // writes AVIF; the twin is the picture as that orientation shows it.
    common::python::run_pillow(
        "import sys\nfrom PIL import Image, ImageOps\nd = sys.argv[1]\n\
         source = Image.open(d + '/source.png')\n\
         for o in range(1, 9):\n\
         \x20   exif = Image.Exif()\n\
         \x20   exif[0x0112] = o\n\
         \x20   source.save(d + f'/turned{o}.avif', exif=exif, quality=100)\n\
         \x20   shown = source.copy()\n\
         \x20   shown.getexif()[0x0112] = o\n\
         \x20   ImageOps.exif_transpose(shown).save(d + f'/turned{o}-twin.png')\n\
         xmp = b'<?xpacket begin=\"\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
         xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
         xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" tiff:Orientation=\"3\"/></rdf:RDF>\
         </x:xmpmeta><?xpacket end=\"r\"?>'\n\
         source.save(d + '/xmp-turned.avif', xmp=xmp, quality=100)\n\
         source.rotate(180).save(d + '/xmp-turned-twin.png')\n",
        &[&input],
    );
    let out = full_size(&input, scratch.path(), 0);
    for o in 1..=8 {
        assert_same_picture(
            &out,
            &format!("turned{o}.png"),
            &format!("turned{o}-twin.png"),
            1.5,
        );
    }
    assert_same_picture(&out, "xmp-turned.png", "xmp-turned-twin.png", 1.5);
}

/// An 18-byte TGA header: true colour (`kind` 2 raw, 10 run-length), `depth` bits a pixel,
/// `descriptor` (attribute bits, and bit 5 for rows top first).
fn tga_header(kind: u8, width: u16, height: u16, depth: u8, descriptor: u8) -> Vec<u8> {
    let mut header = vec![0, 0, kind, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    header.extend(width.to_le_bytes());
    header.extend(height.to_le_bytes());
    header.extend([depth, descriptor]);
    header
}

#[test]
fn tga_fourth_bytes_that_are_not_alpha_and_16_bit_pixels_give_the_picture() {
    let (scratch, input) = scratch_with_input();
    let rgb = picture();
    let (w, h) = (rgb.width() as u16, rgb.height() as u16);
    rgb.save(input.join("photo.png")).unwrap();
    // 32-bit run-length, rows top first, no attribute bits: the fourth byte (here 0 and
    // 77 in turn) is not alpha. Each row: a raw packet of 48 pixels, then 48 run packets
    // of one pixel each.
    let mut tga = tga_header(10, w, h, 32, 0x20);
    for (y, row) in rgb.rows().enumerate() {
        let fourth = if y % 2 == 0 { 0 } else { 77 };
        for (x, p) in row.enumerate() {
            match x {
                0 => tga.push(47),
                48.. => tga.push(0x80),
                _ => {}
            }
            tga.extend([p.0[2], p.0[1], p.0[0], fourth]);
        }
    }
    std::fs::write(input.join("no-alpha32.tga"), tga).unwrap();
    // 16-bit 5-5-5: raw, rows bottom first; and run-length with one attribute bit (alpha:
    // set is opaque), the left half transparent.
    let five = |v: u8| u16::from(v) * 31 / 255;
    let widened = |v: u8| (u32::from(five(v)) * 255 / 31) as u8;
    let packed = |p: &Rgb<u8>, opaque: bool| {
        (u16::from(opaque) << 15) | five(p.0[0]) << 10 | five(p.0[1]) << 5 | five(p.0[2])
    };
    let mut raw16 = tga_header(2, w, h, 16, 0);
    for row in rgb.rows().rev() {
        for p in row {
            raw16.extend(packed(p, false).to_le_bytes());
        }
    }
    std::fs::write(input.join("raw16.tga"), raw16).unwrap();
    let mut rle16 = tga_header(10, w, h, 16, 0x21);
    for row in rgb.rows() {
        for (x, p) in row.enumerate() {
            // A run of one pixel repeated once, to use both packet kinds.
            rle16.push(0x80);
            rle16.extend(packed(p, x >= 48).to_le_bytes());
        }
    }
    std::fs::write(input.join("alpha16.tga"), rle16).unwrap();
    RgbImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let p = rgb.get_pixel(x, y).0;
        Rgb([widened(p[0]), widened(p[1]), widened(p[2])])
    })
    .save(input.join("photo16.png"))
    .unwrap();
    RgbaImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let p = rgb.get_pixel(x, y).0;
        let a = if x >= 48 { 255 } else { 0 };
        Rgba([widened(p[0]), widened(p[1]), widened(p[2]), a])
    })
    .save(input.join("alpha16-twin.png"))
    .unwrap();
    let out = full_size(&input, scratch.path(), 0);
    assert_eq!(
        open(&out.join("no-alpha32.png")).color(),
        image::ColorType::L8,
        "opaque"
    );
    assert_same_picture(&out, "no-alpha32.png", "photo.png", 0.0);
    assert_same_picture(&out, "raw16.png", "photo16.png", 0.0);
    // Gray under fully transparent pixels is kept as it is, so it compares too.
    assert_same_picture(&out, "alpha16.png", "alpha16-twin.png", 0.0);
}

/// A DDS header (128 bytes with the magic) for a `width` x `height` texture: `pixel_flags`
/// and `four_cc` or `bits` and `masks` describe the pixels; `mipmaps` levels.
fn dds_header(
    width: u32,
    height: u32,
    pixel_flags: u32,
    four_cc: &[u8; 4],
    bits: u32,
    masks: [u32; 4],
    mipmaps: u32,
) -> Vec<u8> {
    let mut header = [0u32; 31];
    header[0] = 124;
    header[1] = 0x1 | 0x2 | 0x4 | 0x1000 | if mipmaps > 1 { 0x20000 } else { 0 };
    header[2] = height;
    header[3] = width;
    header[6] = mipmaps;
    header[18] = 32;
    header[19] = pixel_flags;
    header[21] = bits;
    header[22..26].copy_from_slice(&masks);
    header[26] = 0x1000 | if mipmaps > 1 { 0x400008 } else { 0 };
    let mut dds = b"DDS ".to_vec();
    dds.extend(header.iter().flat_map(|v| v.to_le_bytes()));
    dds[84..88].copy_from_slice(four_cc);
    dds
}

/// A DX10 header extension: a 2D texture of `dxgi` format.
fn dx10(dxgi: u32) -> Vec<u8> {
    [dxgi, 3, 0, 1, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// A BC7 block (mode 6) of one colour of odd values: seven bits a channel plus a shared
/// low bit (1 here); every index 0, so every pixel is the first endpoint.
fn bc7_block(rgba: [u8; 4]) -> [u8; 16] {
    let mut bits = 0u128;
    let mut at = 0;
    let mut put = |value: u128, width: u32| {
        bits |= value << at;
        at += width;
    };
    put(1 << 6, 7); // mode 6
    for c in rgba {
        put(u128::from(c >> 1), 7);
        put(u128::from(c >> 1), 7);
    }
    put(1, 1);
    put(1, 1);
    bits.to_le_bytes()
}

#[test]
fn dds_block_formats_dx10_headers_masks_palettes_and_mipmaps_give_the_picture() {
    let (scratch, input) = scratch_with_input();
    let (w, h) = (64u32, 48u32);
    // One colour a 4x4 block, odd values (BC7's seven bits and a low bit of 1 keep them).
    let colour = |bx: u32, by: u32| {
        [
            (bx * 16) as u8 | 1,
            (by * 20) as u8 | 1,
            (200 - bx * 8) as u8 | 1,
        ]
    };
    let blocks = RgbImage::from_fn(w, h, |x, y| Rgb(colour(x / 4, y / 4)));
    blocks.save(input.join("blocks.png")).unwrap();
    let gray_blocks = DynamicImage::ImageRgb8(blocks.clone()).to_luma8();
    // BC7 sRGB in a DX10 header, with a second (smaller) mipmap after the first.
    let mut bc7 = dds_header(w, h, 0x4, b"DX10", 0, [0; 4], 2);
    bc7.extend(dx10(99));
    for by in 0..h / 4 {
        for bx in 0..w / 4 {
            let [r, g, b] = colour(bx, by);
            bc7.extend(bc7_block([r, g, b, 255]));
        }
    }
    bc7.extend(
        std::iter::repeat_n(
            bc7_block([255, 1, 1, 255]),
            (w as usize / 8) * (h as usize / 8),
        )
        .flatten(),
    );
    std::fs::write(input.join("bc7.dds"), bc7).unwrap();
    // BC4 (one channel): both endpoints the block's gray, every index 0.
    let mut bc4 = dds_header(w, h, 0x4, b"BC4U", 0, [0; 4], 1);
    for by in 0..h / 4 {
        for bx in 0..w / 4 {
            let v = gray_blocks.get_pixel(bx * 4, by * 4).0[0];
            bc4.extend([v, v, 0, 0, 0, 0, 0, 0]);
        }
    }
    std::fs::write(input.join("bc4.dds"), bc4).unwrap();
    image::GrayImage::from_fn(w, h, |x, y| *gray_blocks.get_pixel(x / 4 * 4, y / 4 * 4))
        .save(input.join("bc4-twin.png"))
        .unwrap();
    // 15-bit colour (X1R5G5B5 masks) and an 8-bit palette texture, by hand.
    let rgb = picture();
    let (pw, ph) = rgb.dimensions();
    let mut masked = dds_header(pw, ph, 0x40, &[0; 4], 16, [0x7c00, 0x3e0, 0x1f, 0], 1);
    let five = |v: u8| u16::from(v) >> 3;
    for p in rgb.pixels() {
        masked.extend((five(p.0[0]) << 10 | five(p.0[1]) << 5 | five(p.0[2])).to_le_bytes());
    }
    std::fs::write(input.join("rgb555.dds"), masked).unwrap();
    RgbImage::from_fn(pw, ph, |x, y| {
        let p = rgb.get_pixel(x, y).0;
        Rgb(p.map(|v| (u32::from(five(v)) * 255 / 31) as u8))
    })
    .save(input.join("rgb555-twin.png"))
    .unwrap();
    let mut palette = dds_header(pw, ph, 0x20, &[0; 4], 8, [0; 4], 1);
    let entry = |i: u32| {
        [
            (i * 7 % 256) as u8,
            (255 - i) as u8,
            (i * 3 % 256) as u8,
            255,
        ]
    };
    palette.extend((0..256).flat_map(entry));
    palette.extend((0..pw * ph).map(|i| ((i % pw) * 2 + i / pw) as u8));
    std::fs::write(input.join("palette.dds"), palette).unwrap();
    RgbImage::from_fn(pw, ph, |x, y| {
        let [r, g, b, _] = entry((x * 2 + y) % 256);
        Rgb([r, g, b])
    })
    .save(input.join("palette-twin.png"))
    .unwrap();
    // Pillow writes DXT1, BC5 and BC3 (typeless, in DX10 headers) and uncompressed
    // luminance (with its mask in the top byte), luminance+alpha and RGBA.
    rgb.save(input.join("photo.png")).unwrap();
    std::fs::copy(fixtures("images/alpha.png"), input.join("alpha.png")).unwrap();
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         blocks = Image.open(d + '/blocks.png')\n\
         blocks.save(d + '/dxt1.dds', pixel_format='DXT1')\n\
         blocks.save(d + '/bc5.dds', pixel_format='BC5')\n\
         blocks.convert('RGBA').save(d + '/bc3.dds', pixel_format='BC3')\n\
         photo = Image.open(d + '/photo.png')\n\
         photo.convert('L').save(d + '/luminance.dds')\n\
         alpha = Image.open(d + '/alpha.png')\n\
         alpha.convert('LA').save(d + '/luminance-alpha.dds')\n\
         alpha.convert('RGBA').save(d + '/rgba.dds')\n\
         Image.merge('RGB', blocks.split()[:2] + (Image.new('L', blocks.size),)).save(d + '/bc5-twin.png')\n",
        &[&input],
    );
    let out = full_size(&input, scratch.path(), 0);
    assert_same_picture(&out, "bc7.png", "blocks.png", 0.0);
    assert_same_picture(&out, "bc4.png", "bc4-twin.png", 0.0);
    assert_same_picture(&out, "rgb555.png", "rgb555-twin.png", 0.0);
    assert_same_picture(&out, "palette.png", "palette-twin.png", 0.0);
    assert_same_picture(&out, "luminance.png", "photo.png", 0.0);
    assert_same_picture(&out, "luminance-alpha.png", "alpha.png", 0.0);
    assert_same_picture(&out, "rgba.png", "alpha.png", 0.0);
    // Block compression is lossy: within a level or two of the blocks.
    assert_same_picture(&out, "dxt1.png", "blocks.png", 2.0);
    assert_same_picture(&out, "bc3.png", "blocks.png", 2.0);
    assert_same_picture(&out, "bc5.png", "bc5-twin.png", 2.0);
}

#[test]
fn dds_files_imgpar_does_not_read_or_that_are_damaged_say_so_and_bombs_fail_from_the_header() {
    let (scratch, input) = scratch_with_input();
    // An unknown FourCC, a 24-bit luminance, and a header claiming 60000 x 60000 BC7 pixels.
    std::fs::write(
        input.join("unknown.dds"),
        dds_header(8, 8, 0x4, b"ZZZ9", 0, [0; 4], 1),
    )
    .unwrap();
    let mut luminance24 = dds_header(8, 8, 0x20000, &[0; 4], 24, [0xffffff, 0, 0, 0], 1);
    luminance24.extend([0; 8 * 8 * 3]);
    std::fs::write(input.join("luminance24.dds"), luminance24).unwrap();
    let mut bomb = dds_header(60000, 60000, 0x4, b"DX10", 0, [0; 4], 1);
    bomb.extend(dx10(98));
    bomb.extend([0; 64]);
    std::fs::write(input.join("bomb.dds"), bomb).unwrap();
    let mut count = 3;
    // Cuts and flips of a BC7 texture, a mask texture and a palette texture.
    let mut random = Lcg(23);
    let mut bc7 = dds_header(16, 16, 0x4, b"DX10", 0, [0; 4], 1);
    bc7.extend(dx10(98));
    bc7.extend((0..16).flat_map(|i| bc7_block([i * 16 + 1, 101, 201 - i * 8, 255])));
    let mut masked = dds_header(16, 16, 0x41, &[0; 4], 16, [0xf00, 0xf0, 0xf, 0xf000], 1);
    masked.extend((0..256u16).flat_map(|i| (i * 97).to_le_bytes()));
    let mut palette = dds_header(16, 16, 0x20, &[0; 4], 8, [0; 4], 1);
    palette.extend((0..1024).map(|i| (i % 251) as u8));
    palette.extend((0..256).map(|i| i as u8));
    for (name, whole) in [("bc7", bc7), ("masked", masked), ("palette", palette)] {
        let len = whole.len();
        for cut in [4, 90, 130, len / 2, len - 1] {
            std::fs::write(input.join(format!("cut{cut}-{name}.dds")), &whole[..cut]).unwrap();
            count += 1;
        }
        for flip in 0..12 {
            let mut damaged = whole.clone();
            damaged[random.below(if flip < 8 { 148 } else { len })] ^= 1 << random.below(8);
            std::fs::write(input.join(format!("flip{flip}-{name}.dds")), damaged).unwrap();
            count += 1;
        }
    }
    let report = assert_each_ends_cleanly(&input, scratch.path(), count);
    let unknown = record_of(&report, "unknown.dds");
    assert_eq!(unknown["error_kind"], "unsupported", "{unknown}");
    assert!(
        unknown["error"].as_str().unwrap().contains("FourCC ZZZ9"),
        "{unknown}"
    );
    let luminance24 = record_of(&report, "luminance24.dds");
    assert_eq!(luminance24["error_kind"], "unsupported", "{luminance24}");
    assert!(
        luminance24["error"].as_str().unwrap().contains("24-bit"),
        "{luminance24}"
    );
    let bomb = record_of(&report, "bomb.dds");
    assert_eq!(bomb["error_kind"], "too_many_pixels", "{bomb}");
    for name in ["cut4-bc7.dds", "cut90-masked.dds", "cut130-palette.dds"] {
        let record = record_of(&report, name);
        assert_ne!(record["status"], "ok", "{record}");
        assert!(!record["error"].as_str().unwrap().is_empty());
    }
}

/// A BMP of a 16-colour palette picture `width` x `height`, with a
/// BITMAPINFOHEADER (40 bytes) or the OS/2 2.x header (64), `bits` 4 or 8, `compression`
/// 0, 1 (RLE8) or 2 (RLE4) over `data` (the pixel data as stored), `top_down` rows.
fn bmp(
    (width, height): (u32, u32),
    header_size: u32,
    bits: u16,
    compression: u32,
    planes: u16,
    data: &[u8],
    top_down: bool,
) -> Vec<u8> {
    let colours = 16u32;
    let offset = 14 + header_size + 4 * colours;
    let mut file = b"BM".to_vec();
    file.extend((offset + data.len() as u32).to_le_bytes());
    file.extend([0; 4]);
    file.extend(offset.to_le_bytes());
    file.extend(header_size.to_le_bytes());
    file.extend(width.to_le_bytes());
    let height = if top_down {
        -(height as i32)
    } else {
        height as i32
    };
    file.extend(height.to_le_bytes());
    file.extend(planes.to_le_bytes());
    file.extend(bits.to_le_bytes());
    file.extend(compression.to_le_bytes());
    file.extend((data.len() as u32).to_le_bytes());
    file.extend([0; 8]);
    file.extend(colours.to_le_bytes());
    file.extend(0u32.to_le_bytes());
    file.extend(std::iter::repeat_n(0u8, header_size as usize - 40));
    for i in 0..colours {
        file.extend(bmp_palette(i as u8).iter().rev().chain(&[0]));
    }
    file.extend(data);
    file
}

/// The palette of [`bmp`]: 16 colours.
fn bmp_palette(i: u8) -> [u8; 3] {
    [i * 16, 255 - i * 12, i.wrapping_mul(40)]
}

#[test]
fn lenient_bmps_give_the_picture_and_skipped_rle_pixels_are_transparent() {
    let (scratch, input) = scratch_with_input();
    let (w, h) = (20u32, 10u32);
    let index = |x: u32, y: u32| ((x / 3 + y * 2) % 16) as u8;
    let twin = RgbImage::from_fn(w, h, |x, y| Rgb(bmp_palette(index(x, y))));
    twin.save(input.join("twin.png")).unwrap();
    // Uncompressed 8-bit rows, bottom first, padded to four bytes.
    let stride = w.next_multiple_of(4);
    let rows: Vec<u8> = (0..h)
        .rev()
        .flat_map(|y| (0..stride).map(move |x| if x < w { index(x, y) } else { 0 }))
        .collect();
    std::fs::write(
        input.join("planes2.bmp"),
        bmp((w, h), 40, 8, 0, 2, &rows, false),
    )
    .unwrap();
    std::fs::write(
        input.join("os2v2.bmp"),
        bmp((w, h), 64, 8, 0, 1, &rows, false),
    )
    .unwrap();
    // The same file without its 14-byte file header, as the clipboard holds it.
    std::fs::write(
        input.join("clipboard.dib"),
        &bmp((w, h), 40, 8, 0, 1, &rows, false)[14..],
    )
    .unwrap();
    // RLE8, rows top first: each row one run a value (runs of three), then end of line.
    let mut rle8 = Vec::new();
    for y in 0..h {
        for x in (0..w).step_by(3) {
            rle8.extend([(w - x).min(3) as u8, index(x, y)]);
        }
        rle8.extend([0, 0]);
    }
    rle8.extend([0, 1]);
    std::fs::write(
        input.join("top-down-rle8.bmp"),
        bmp((w, h), 40, 8, 1, 1, &rle8, true),
    )
    .unwrap();
    // RLE4, rows bottom first, whose last run of each row claims 9 pixels past its end.
    let mut rle4 = Vec::new();
    for y in (0..h).rev() {
        for x in (0..w).step_by(3) {
            let v = index(x, y);
            let run = if x + 3 >= w { 9 + (w - x) as u8 } else { 3 };
            rle4.extend([run, v << 4 | v]);
        }
        rle4.extend([0, 0]);
    }
    rle4.extend([0, 1]);
    std::fs::write(
        input.join("past-the-line-rle4.bmp"),
        bmp((w, h), 40, 4, 2, 1, &rle4, false),
    )
    .unwrap();
    // RLE8 whose delta code skips the 4 pixels at x 6..10 of the first stored row (the
    // bottom one), and whose last stored row (the top one) ends early at x 12.
    let mut skipping = Vec::new();
    for y in (0..h).rev() {
        let stored = h - 1 - y;
        let mut x = 0;
        while x < w {
            if stored == 0 && x == 6 {
                skipping.extend([0, 2, 4, 0]);
                x += 4;
                continue;
            }
            if stored == h - 1 && x == 12 {
                break;
            }
            skipping.extend([1, index(x, y)]);
            x += 1;
        }
        skipping.extend([0, 0]);
    }
    skipping.extend([0, 1]);
    std::fs::write(
        input.join("skipping-rle8.bmp"),
        bmp((w, h), 40, 8, 1, 1, &skipping, false),
    )
    .unwrap();
    RgbaImage::from_fn(w, h, |x, y| {
        let hole = (y == h - 1 && (6..10).contains(&x)) || (y == 0 && x >= 12);
        let [r, g, b] = bmp_palette(index(x, y));
        if hole {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([r, g, b, 255])
        }
    })
    .save(input.join("skipping-twin.png"))
    .unwrap();
    // RLE data that stops before its last pixel: truncated, not a picture.
    std::fs::write(
        input.join("cut-rle8.bmp"),
        bmp((w, h), 40, 8, 1, 1, &rle8[..rle8.len() / 2], true),
    )
    .unwrap();
    let out = full_size(&input, scratch.path(), 1);
    for name in [
        "planes2.png",
        "os2v2.png",
        "clipboard.png",
        "top-down-rle8.png",
        "past-the-line-rle4.png",
    ] {
        assert_same_picture(&out, name, "twin.png", 0.0);
    }
    assert_same_picture(&out, "skipping-rle8.png", "skipping-twin.png", 0.0);
    assert!(!out.join("cut-rle8.png").exists());
}

#[test]
fn icons_cursors_and_qoi_files_whose_headers_disagree_with_their_data_convert() {
    let (scratch, input) = scratch_with_input();
    // An icon of one 32-bit bitmap entry, 8x8, with an AND mask.
    let (w, h) = (8u32, 8u32);
    let pixel = |x: u32, y: u32| {
        [
            (x * 30) as u8,
            (y * 30) as u8,
            90,
            if x < 2 { 0 } else { 255 },
        ]
    };
    let mut bitmap = Vec::new();
    for v in [40u32, w, 2 * h] {
        bitmap.extend(v.to_le_bytes());
    }
    bitmap.extend(1u16.to_le_bytes());
    bitmap.extend(32u16.to_le_bytes());
    bitmap.extend([0; 24]);
    for y in (0..h).rev() {
        for x in 0..w {
            let [r, g, b, a] = pixel(x, y);
            bitmap.extend([b, g, r, a]);
        }
    }
    bitmap.extend([0; 4 * 8]); // the AND mask, 4 bytes a row
    let directory = |width: u8, height: u8, size: u32, kind: u8| {
        let mut icon = vec![0, 0, kind, 0, 1, 0, width, height, 0, 0, 1, 0, 32, 0];
        icon.extend(size.to_le_bytes());
        icon.extend(22u32.to_le_bytes());
        icon
    };
    // The directory says 8x16 (the bitmap's doubled height), as some writers put it.
    std::fs::write(
        input.join("tall-entry.ico"),
        [directory(8, 16, bitmap.len() as u32, 1), bitmap.clone()].concat(),
    )
    .unwrap();
    // A cursor whose directory gives 8 bytes for its bitmap.
    std::fs::write(
        input.join("short-entry.cur"),
        [directory(8, 8, 8, 2), bitmap.clone()].concat(),
    )
    .unwrap();
    RgbaImage::from_fn(w, h, |x, y| Rgba(pixel(x, y)))
        .save(input.join("icon-twin.png"))
        .unwrap();
    // A QOI of two pixels that lacks its end marker (QOI_OP_RGB, then QOI_OP_INDEX 0 of
    // the initial all-zero table entry, transparent black); and one that ends early.
    let mut qoi = b"qoif".to_vec();
    qoi.extend(2u32.to_be_bytes());
    qoi.extend(1u32.to_be_bytes());
    qoi.extend([4, 0]);
    qoi.extend([0xfe, 200, 100, 50]);
    let cut = qoi.clone();
    qoi.push(0x00);
    std::fs::write(input.join("no-end-marker.qoi"), qoi).unwrap();
    std::fs::write(input.join("ends-early.qoi"), cut).unwrap();
    RgbaImage::from_raw(2, 1, vec![200, 100, 50, 255, 0, 0, 0, 0])
        .unwrap()
        .save(input.join("qoi-twin.png"))
        .unwrap();
    let out = full_size(&input, scratch.path(), 1);
    assert_same_picture(&out, "tall-entry.png", "icon-twin.png", 0.0);
    assert_same_picture(&out, "short-entry.png", "icon-twin.png", 0.0);
    assert_same_picture(&out, "no-end-marker.png", "qoi-twin.png", 0.0);
    assert!(!out.join("ends-early.png").exists());
}

#[test]
fn damaged_rle_bmps_16_bit_tgas_icons_and_qoi_files_each_fail_alone_and_bombs_from_the_header() {
    let (scratch, input) = scratch_with_input();
    let (w, h) = (24u32, 12u32);
    let mut rle8 = Vec::new();
    let mut rle4 = Vec::new();
    for y in 0..h {
        rle8.extend([5, y as u8, 0, 4, 1, 2, 3, 4]);
        rle8.extend([w as u8 - 9, 7]);
        rle4.extend([w as u8, (y as u8 % 16) << 4 | 3, 0, 0]);
        rle8.extend([0, 0]);
    }
    rle8.extend([0, 2, 3, 1, 0, 1]);
    rle4.extend([0, 1]);
    let mut tga = tga_header(10, w as u16, h as u16, 16, 0x21);
    for i in 0..w * h / 4 {
        tga.extend([0x83, (i * 7) as u8, 0x80 | (i as u8 & 0x7f)]);
    }
    let mut qoi = b"qoif".to_vec();
    qoi.extend(w.to_be_bytes());
    qoi.extend(h.to_be_bytes());
    qoi.extend([4, 0]);
    for i in 0..w * h / 2 {
        qoi.extend([0xfe, i as u8, 100, 50, 0xc0]);
    }
    let wholes = [
        ("rle8.bmp", bmp((w, h), 40, 8, 1, 1, &rle8, false)),
        ("rle4.bmp", bmp((w, h), 40, 4, 2, 1, &rle4, true)),
        ("os2.bmp", bmp((w, h), 64, 8, 1, 1, &rle8, false)),
        ("alpha16.tga", tga),
        ("no-end.qoi", qoi),
    ];
    let mut count = 0;
    let mut random = Lcg(31);
    for (name, whole) in wholes {
        let len = whole.len();
        for cut in [10, 20, 60, len / 2, len - 3] {
            std::fs::write(input.join(format!("cut{cut}-{name}")), &whole[..cut]).unwrap();
            count += 1;
        }
        for flip in 0..12 {
            let mut damaged = whole.clone();
            damaged[random.below(if flip < 8 { 120.min(len) } else { len })] ^=
                1 << random.below(8);
            std::fs::write(input.join(format!("flip{flip}-{name}")), damaged).unwrap();
            count += 1;
        }
    }
    // Headers claiming 60000 x 60000 pixels, with a few bytes of data.
    let mut bomb = bmp((60000, 60000), 40, 8, 1, 1, &[0, 1], false);
    bomb.extend([0; 16]);
    std::fs::write(input.join("bomb-rle.bmp"), bomb).unwrap();
    let mut bomb = tga_header(10, 60000, 60000, 16, 0);
    bomb.extend([0xff, 0, 0]);
    std::fs::write(input.join("bomb16.tga"), bomb).unwrap();
    count += 2;
    let report = assert_each_ends_cleanly(&input, scratch.path(), count);
    for name in ["bomb-rle.bmp", "bomb16.tga"] {
        let record = record_of(&report, name);
        assert_eq!(record["error_kind"], "too_many_pixels", "{record}");
    }
    for name in ["cut60-rle8.bmp", "cut60-alpha16.tga", "cut20-rle4.bmp"] {
        let record = record_of(&report, name);
        assert_eq!(record["status"], "failed", "{record}");
    }
}
