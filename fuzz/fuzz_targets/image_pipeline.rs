//! Feeds arbitrary bytes through the per-image work of `convert_job` (decode, gray,
//! resize, encode), without its panic guard, so that a panic in any stage is a find.
#![no_main]

use imgpar::{OutputFormat, Spec};
use imgpar::internals::{decode, encode, resize};

/// The names a file's extension may give it: none, and those that change how its bytes are
/// read (a TIFF named as a camera RAW is read for its preview; TGA has no signature; a
/// `.dib` may lack its file header). The last byte chooses, so seeds keep their meaning.
const HINTS: [Option<&str>; 5] = [None, Some("nef"), Some("dng"), Some("tga"), Some("dib")];
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let spec = Spec {
        // Lower than the default so that a claimed size stays inside libFuzzer's 2 GB.
        max_pixels: 16_000_000,
        width: Some(64),
        height: Some(64),
        ..Spec::default()
    };
    let hint = HINTS[usize::from(bytes.last().copied().unwrap_or(0)) % HINTS.len()];
    let Ok(decoded) = decode::decode_hinted(bytes, &spec, hint) else {
        return;
    };
    let Ok(resized) = resize::resize(decoded.image, decoded.full_size, &spec) else {
        return;
    };
    for format in [OutputFormat::Png, OutputFormat::Jpeg] {
        let _ = encode::encode(&resized, format, &spec);
    }
});
