//! The progressive reader against libjpeg on the same bytes: whenever the reader gives a
//! picture, libjpeg gives the same one (byte for byte), in gray and in colour, on clean
//! files of every kind of progression and sampling and on files cut short or with bits
//! flipped, at each scale the reader serves (1/8, 2/8, 4/8). Where it is unsure it gives
//! none, and the file goes to libjpeg.

use super::*;

use std::io::Cursor;

const WIDTH: u32 = 203;
const HEIGHT: u32 = 157;

/// Stripes, gradients and colour, so that every coefficient matters.
fn picture() -> image::RgbImage {
    image::RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let stripe = if (x / 7 + y / 5) % 2 == 0 { 60 } else { 0 };
        image::Rgb([
            (x * 3) as u8 ^ stripe,
            (y * 2) as u8,
            ((x * y) / 31 % 256) as u8,
        ])
    })
}

/// A progressive JPEG by libjpeg (mozjpeg): successive approximation, scans optimised or
/// the standard script, with `sampling` for chroma (pixels a sample) or gray.
fn mozjpeg(gray: bool, sampling: (u8, u8), optimised: bool) -> Vec<u8> {
    let rgb = picture();
    let (space, pixels) = if gray {
        let luma = image::DynamicImage::ImageRgb8(rgb).into_luma8();
        (mozjpeg::ColorSpace::JCS_GRAYSCALE, luma.into_raw())
    } else {
        (mozjpeg::ColorSpace::JCS_RGB, rgb.into_raw())
    };
    let mut compress = mozjpeg::Compress::new(space);
    if !optimised {
        compress.set_fastest_defaults();
    }
    compress.set_progressive_mode();
    compress.set_size(WIDTH as usize, HEIGHT as usize);
    compress.set_quality(92.0);
    if !gray {
        compress.set_chroma_sampling_pixel_sizes(sampling, sampling);
    }
    let mut started = compress.start_compress(Vec::new()).unwrap();
    started.write_scanlines(&pixels).unwrap();
    started.finish().unwrap()
}

/// A progressive JPEG by jpeg-encoder: spectral selection only, with a restart marker
/// every `restarts` MCUs (0: none).
fn spectral_only(restarts: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.set_progressive(true);
    encoder.set_restart_interval(restarts);
    if restarts > 0 {
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    }
    encoder
        .encode(
            picture().as_raw(),
            WIDTH as u16,
            HEIGHT as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    if restarts > 0 {
        assert!(
            out.windows(2).any(|w| w == [0xff, 0xdd]),
            "a restart interval"
        );
    }
    out
}

fn spec(side: u32) -> Conversion {
    Conversion {
        width: Some(side),
        height: Some(side),
        ..Conversion::default()
    }
}

/// The reader's answer and libjpeg's for the same bytes.
type Answers = (
    Result<Option<Decoded>, Failure>,
    Result<Option<Decoded>, Failure>,
);

/// The reader's answer and libjpeg's, in gray (the luma kept) or colour (every component).
fn both(bytes: &[u8], spec: &Conversion, kept: Kept) -> Answers {
    let ours = progressive_shrunk(&mut Cursor::new(bytes), spec, None, kept);
    let theirs = match kept {
        Kept::Luma => libjpeg_luma(Cursor::new(bytes), spec, None),
        Kept::Every => color::decode(Cursor::new(bytes), spec, None, None),
    };
    (ours, theirs)
}

/// Whether the reader gave a picture; fails the test if libjpeg gives another or none.
fn agrees(what: &str, (ours, theirs): Answers) -> bool {
    match (ours, theirs) {
        (Ok(Some(a)), Ok(Some(b))) => {
            let size = |d: &Decoded| (d.image.width(), d.image.height());
            assert_eq!(size(&a), size(&b), "{what}");
            assert!(
                a.image.as_bytes() == b.image.as_bytes(),
                "{what}: pixels differ"
            );
            true
        }
        (Ok(Some(_)), theirs) => panic!("{what}: the reader gave a picture, libjpeg {theirs:?}"),
        (Err(a), Err(b)) => {
            assert_eq!(a.kind, b.kind, "{what}");
            false
        }
        (Err(a), theirs) => panic!("{what}: the reader failed ({a:?}), libjpeg {theirs:?}"),
        (Ok(None), _) => false,
    }
}

#[test]
fn the_progressive_reader_gives_libjpegs_pixels_or_none_even_on_damaged_files() {
    let files = [
        ("mozjpeg 4:2:0", mozjpeg(false, (2, 2), false)),
        (
            "mozjpeg 4:2:0, optimised scans",
            mozjpeg(false, (2, 2), true),
        ),
        ("mozjpeg 4:4:4", mozjpeg(false, (1, 1), false)),
        ("mozjpeg 4:2:2", mozjpeg(false, (2, 1), false)),
        ("mozjpeg gray", mozjpeg(true, (1, 1), false)),
        ("jpeg-encoder spectral selection", spectral_only(0)),
        ("jpeg-encoder 4:2:0, restart markers", spectral_only(5)),
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = move |below: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % below
    };
    let (mut damaged, mut pictures) = (0, 0);
    let scales = [(12, 1), (25, 2), (50, 4)];
    let tones = [(Kept::Luma, "gray"), (Kept::Every, "colour")];
    let runs = files.iter().flat_map(|file| {
        let per_scale = move |scale| tones.map(|tone| (file, scale, tone));
        scales.into_iter().flat_map(per_scale)
    });
    for ((name, bytes), (side, eighths), (kept, tone)) in runs {
        let spec = spec(side);
        let reduction = resize::reduction_allowed((WIDTH, HEIGHT), &spec);
        assert_eq!(8u32.div_ceil(reduction.min(8)), eighths, "{name} at {side}");
        let what = format!("{name} at {eighths}/8 in {tone}");
        assert!(
            agrees(&what, both(bytes, &spec, kept)),
            "{what}: the reader must decode the clean file"
        );
        let len = bytes.len();
        for trial in 0..90 {
            let mut bad = bytes.clone();
            match trial % 6 {
                // A cut anywhere.
                0 => bad.truncate(random(len)),
                // A byte made a marker's lead.
                1 => bad[random(len)] = 0xff,
                // Bits flipped, mostly in the scans' data.
                _ => {
                    let at = len / 8 + random(len - len / 8);
                    bad[at] ^= 1 << random(8);
                }
            }
            damaged += 1;
            let answers = both(&bad, &spec, kept);
            pictures += usize::from(agrees(&format!("{what}, trial {trial}"), answers));
        }
    }
    // Most flips land in coefficients and still decode: the comparison has pictures to
    // compare, not only refusals.
    assert!(pictures * 4 > damaged, "{pictures} pictures of {damaged}");
}
