//! Feeds arbitrary bytes through the per-image work of `convert_job` (decode, colour or
//! gray, profile, resize, metadata, encode), without its panic guard, so that a panic in
//! any stage is a find.
#![no_main]

use imgpar::{Conversion, OutputFormat};
use imgpar::internals::{decode, encode, profile, resize};

/// The names a file's extension may give it: none, and those that change how its bytes are
/// read (a TIFF named as a camera RAW is read for its preview; TGA has no signature; a
/// `.dib` may lack its file header). The last byte chooses, so seeds keep their meaning;
/// its value past the hints chooses colour with metadata kept (seeds made for gray, whose
/// last bytes are below 5 or picture data, run both).
const HINTS: [Option<&str>; 5] = [None, Some("nef"), Some("dng"), Some("tga"), Some("dib")];
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let last = usize::from(bytes.last().copied().unwrap_or(0));
    let colour = (last / HINTS.len()) % 2 == 1;
    let spec = Conversion {
        // Lower than the default so that a claimed size stays inside libFuzzer's 2 GB.
        max_pixels: 16_000_000,
        width: Some(64),
        height: Some(64),
        color: colour,
        keep_metadata: colour,
        ..Conversion::default()
    };
    let hint = HINTS[last % HINTS.len()];
    let Ok(decoded) = decode::decode_hinted(bytes, &spec, hint) else {
        return;
    };
    let image = match &decoded.icc {
        Some(icc) => profile::to_srgb(decoded.image, icc),
        None => decoded.image,
    };
    let Ok(resized) = resize::resize(image, decoded.full_size, &spec) else {
        return;
    };
    let metadata = decoded.metadata.for_output();
    for format in [OutputFormat::Png, OutputFormat::Jpeg, OutputFormat::Webp] {
        let _ = encode::encode_with(&resized, format, &spec, &metadata);
    }
});
