//! `--color`: thumbnails in colour, in sRGB, from every kind of input: untagged pictures
//! as they are, ICC-tagged ones (Display P3 as phones write them, Adobe RGB as cameras do,
//! CMYK print files with and without a profile) brought to sRGB; gray pictures stay gray;
//! alpha is kept. Each output is compared with Pillow's rendering (LittleCMS through
//! ImageCms), an implementation independent of imgpar's (moxcms). Gray thumbnails of
//! wide-gamut pictures are the luma of their sRGB rendering.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::python::colour_reference;
use common::*;

/// A picture's scores: PSNR against the managed rendering, against the unmanaged one,
/// the output's size and mode.
#[derive(Debug)]
struct Score {
    psnr: f64,
    unmanaged: f64,
    mode: String,
}

/// Writes the colour variants into `dir` (see colour_reference.py), with profiles moxcms
/// writes for Display P3 and Adobe RGB and Ghostscript's CMYK profile.
fn make_variants(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let p3 = dir.with_extension("p3.icc");
    let adobe = dir.with_extension("adobe.icc");
    std::fs::write(
        &p3,
        moxcms::ColorProfile::new_display_p3().encode().unwrap(),
    )
    .unwrap();
    std::fs::write(
        &adobe,
        moxcms::ColorProfile::new_adobe_rgb().encode().unwrap(),
    )
    .unwrap();
    let cmyk = common::debian::cmyk_profile();
    colour_reference(&[
        "make".as_ref(),
        dir.as_os_str(),
        p3.as_os_str(),
        adobe.as_os_str(),
        cmyk.as_os_str(),
    ]);
}

fn scores(input: &Path, out: &Path, gray: bool) -> BTreeMap<String, Score> {
    let mut args = vec!["compare".as_ref(), input.as_os_str(), out.as_os_str()];
    if gray {
        args.push("--gray".as_ref());
    }
    let json: serde_json::Value = serde_json::from_str(&colour_reference(&args)).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .map(|(name, score)| {
            let score = Score {
                psnr: score["psnr"].as_f64().unwrap(),
                unmanaged: score["unmanaged"].as_f64().unwrap(),
                mode: score["mode"].as_str().unwrap().to_string(),
            };
            (name.clone(), score)
        })
        .collect()
}

/// The variants, converted with `flags`, in `out`; every one converts.
fn convert(input: &Path, out: &Path, flags: &[&str]) {
    let report = run_reported(input, out, flags);
    assert_eq!(report["failed"], 0, "{report}");
}

#[test]
fn every_format_converts_in_colour_within_45_db_of_its_managed_srgb_rendering() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    make_variants(&input);
    let out = scratch.path().join("out");
    convert(&input, &out, &["--color", "--format", "png"]);
    let scores = scores(&input, &out, false);
    assert_eq!(scores.len(), 20, "{scores:?}");
    for (name, score) in &scores {
        let expected_mode = match name.as_str() {
            "gray.png" => "L",
            "alpha.png" | "alpha_webp.webp" => "RGBA",
            _ => "RGB",
        };
        assert_eq!(score.mode, expected_mode, "{name}: {score:?}");
        assert!(score.psnr >= 45.0, "{name}: {score:?}");
        // A tagged picture read as if it were sRGB is far off: the profile was applied.
        let tagged = ["p3", "adobe", "cmyk_profile"]
            .iter()
            .any(|tag| name.starts_with(tag));
        if tagged {
            assert!(score.unmanaged + 10.0 < score.psnr, "{name}: {score:?}");
        }
    }
}

#[test]
fn gray_of_a_tagged_picture_is_the_luma_of_its_srgb_rendering() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    make_variants(&input);
    let out = scratch.path().join("out");
    convert(&input, &out, &["--format", "png"]);
    let scores = scores(&input, &out, true);
    assert_eq!(scores.len(), 20, "{scores:?}");
    for (name, score) in &scores {
        let alpha = name.starts_with("alpha");
        assert_eq!(score.mode, if alpha { "LA" } else { "L" }, "{name}");
        assert!(score.psnr >= 45.0, "{name}: {score:?}");
    }
    // Display P3's gray differs from the luma of the same numbers read as sRGB.
    let p3 = &scores["p3.jpg"];
    assert!(p3.unmanaged + 5.0 < p3.psnr, "{p3:?}");
}

#[test]
fn colour_thumbnails_in_every_output_format_read_back_as_their_picture() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    make_variants(&input);
    for format in ["jpeg", "webp", "avif", "webp-lossless"] {
        let out = scratch.path().join(format);
        convert(&input, &out, &["--color", "--format", format]);
        // Pillow decodes each output; it is compared as a PNG of the same pixels.
        let decoded = scratch.path().join(format!("{format}-decoded"));
        colour_reference(&["decode".as_ref(), out.as_os_str(), decoded.as_os_str()]);
        let scores = scores(&input, &decoded, false);
        assert_eq!(scores.len(), 20, "{format}: {scores:?}");
        for (name, score) in &scores {
            if format == "jpeg" && name.starts_with("alpha") {
                // Laid on the background: `--background`'s own test compares those.
                assert_eq!(score.mode, "RGB", "{name}");
                continue;
            }
            let floor = if format == "webp-lossless" {
                45.0
            } else {
                30.0
            };
            assert!(score.psnr >= floor, "{format} {name}: {score:?}");
            if !name.starts_with("gray") {
                assert_ne!(score.mode, "L", "{format} {name}: colour kept");
            }
        }
    }
}

#[test]
fn colour_outputs_are_byte_identical_in_every_mode() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    make_variants(&input);
    let mut outputs = Vec::new();
    for (mode, workers) in [("sequential", "1"), ("threaded", "2"), ("process", "2")] {
        let out = scratch.path().join(mode);
        convert(&input, &out, &["--color", "--mode", mode, "-j", workers]);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(path).unwrap())
            })
            .collect();
        files.sort();
        assert_eq!(files.len(), 20, "{mode}");
        outputs.push(files);
    }
    assert!(outputs.windows(2).all(|pair| pair[0] == pair[1]));
}

#[test]
fn a_lab_tiff_read_in_gray_only_is_refused_in_colour_by_name() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // A CIE L*a*b* TIFF (Pillow writes it), which imgpar reads itself, in gray.
    let tiff = input.join("lab.tif");
    colour_reference(&["lab-tiff".as_ref(), tiff.as_os_str()]);
    let out = scratch.path().join("out");
    imgpar().arg(&input).arg(&out).assert().success();
    imgpar()
        .arg(&input)
        .arg(scratch.path().join("colour"))
        .arg("--color")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("lab.tif"))
        .stderr(predicates::str::contains("CIE L*a*b*"))
        .stderr(predicates::str::contains("--color cannot keep its colour"));
}

#[test]
fn pngsuite_converts_in_colour_within_45_db_of_pillow() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    // The broken files of the suite fail (exit 1); every other one converts.
    imgpar()
        .arg(pngsuite())
        .arg(&out)
        .args(["--color", "--format", "png", "--quiet"])
        .assert()
        .code(1);
    let scores = scores(&pngsuite(), &out, false);
    assert!(scores.len() >= 150, "{} compared", scores.len());
    for (name, score) in &scores {
        assert!(score.psnr >= 45.0, "{name}: {score:?}");
        // Gray files stay gray; colour ones keep their colour.
        let gray = name
            .as_bytes()
            .get(4..6)
            .is_some_and(|kind| kind == b"0g" || kind == b"4a");
        assert_eq!(score.mode.starts_with('L'), gray, "{name}: {score:?}");
    }
}
