//! Camera RAW through the JPEG the camera stored: ExifTool writes a real preview into its
//! own RAW test files (NEF, CR2, DNG, RW2, MRW, CRW; a RAF's header is pointed at one here),
//! turns some of them by their IFD0 Orientation, and extracts the preview again as the
//! reference. Files without a usable preview fail naming why; a JPEG named `.nef` is a
//! JPEG; damaged RAWs fail alone.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::python::{photo_reference, photo_scores};
use common::*;
use predicates::prelude::*;

/// The RAWs [`raws_with_a_preview`] makes, one of each container.
const WITH_A_PREVIEW: [&str; 7] = [
    "nikon.nef",
    "canon.cr2",
    "adobe.dng",
    "panasonic.rw2",
    "minolta.mrw",
    "canon_old.crw",
    "fuji.raf",
];

/// ExifTool's test file `name` (tests/data/exiftool).
fn template(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/exiftool")
        .join(name)
}

fn exiftool(args: &[&str], file: &Path) {
    let ran = Command::new(common::debian::exiftool())
        .args(["-m", "-q", "-overwrite_original"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "exiftool {args:?}: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
}

/// ExifTool's test RAF with `jpeg` in place of its 8x8 preview (ExifTool does not write RAF
/// previews): the header's JPEG length (bytes 88-91) and the offsets after it that point
/// past the JPEG (92-147) move with it.
fn raf_with(jpeg: &[u8]) -> Vec<u8> {
    let raf = std::fs::read(template("FujiFilm.raf")).unwrap();
    let word = |at: usize| u32::from_be_bytes(raf[at..at + 4].try_into().unwrap()) as usize;
    let (start, len) = (word(84), word(88));
    let mut made = raf[..start].to_vec();
    made.extend_from_slice(jpeg);
    made.extend_from_slice(&raf[start + len..]);
    made[88..92].copy_from_slice(&(jpeg.len() as u32).to_be_bytes());
    for at in (92..148).step_by(4) {
        let offset = word(at);
        if (start + len..=raf.len()).contains(&offset) {
            let moved = offset + jpeg.len() - len;
            made[at..at + 4].copy_from_slice(&(moved as u32).to_be_bytes());
        }
    }
    made
}

/// RAWs holding the 1600x1067 preview at `preview` (some turned by their Orientation), in
/// `dir`, named by what they are.
fn raws_with_a_preview(dir: &Path, preview: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let with = |name: &str, from: &str, args: &[&str]| {
        let file = dir.join(name);
        std::fs::copy(template(from), &file).unwrap();
        exiftool(args, &file);
    };
    let preview_arg = format!("-PreviewImage<={}", preview.display());
    let jpg_from_raw = format!("-JpgFromRaw<={}", preview.display());
    with(
        "nikon.nef",
        "Nikon.nef",
        &[&preview_arg, "-IFD0:Orientation#=6"],
    );
    with(
        "canon.cr2",
        "CanonRaw.cr2",
        &[&preview_arg, "-IFD0:Orientation#=3"],
    );
    with(
        "adobe.dng",
        "DNG.dng",
        &[&jpg_from_raw, "-IFD0:Orientation#=8"],
    );
    with("panasonic.rw2", "Panasonic.rw2", &[&jpg_from_raw]);
    with("minolta.mrw", "Minolta.mrw", &[&preview_arg]);
    with("canon_old.crw", "CanonRaw.crw", &[&jpg_from_raw]);
    std::fs::write(
        dir.join("fuji.raf"),
        raf_with(&std::fs::read(preview).unwrap()),
    )
    .unwrap();
}

fn make_preview(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let preview = dir.join("preview.jpg");
    photo_reference(&["raw-preview".as_ref(), preview.as_os_str()]);
    preview
}

fn scores(input: &Path, out: &Path) -> BTreeMap<String, (f64, (u64, u64))> {
    let exiftool = common::debian::exiftool();
    photo_scores(&[
        "raw-compare".as_ref(),
        exiftool.as_os_str(),
        input.as_os_str(),
        out.as_os_str(),
    ])
}

#[test]
fn raws_convert_from_their_largest_preview_turned_by_the_raws_orientation() {
    let scratch = tempfile::tempdir().unwrap();
    let preview = make_preview(scratch.path());
    let input = scratch.path().join("in");
    raws_with_a_preview(&input, &preview);
    // Content decides: a JPEG named as a RAW is a JPEG.
    std::fs::copy(&preview, input.join("really_a_jpeg.nef")).unwrap();
    // A preview whose own EXIF says 8 in a RAW that says 6: the RAW's orientation wins.
    let own = scratch.path().join("own.jpg");
    photo_reference(&["raw-preview".as_ref(), own.as_os_str(), "8".as_ref()]);
    let both = input.join("both_turned.nef");
    std::fs::copy(template("Nikon.nef"), &both).unwrap();
    exiftool(
        &[
            &format!("-PreviewImage<={}", own.display()),
            "-IFD0:Orientation#=6",
        ],
        &both,
    );
    let out = scratch.path().join("out");
    let report_path = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(&out)
        .arg("--report")
        .arg(&report_path)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "previews    8 images made from the JPEG preview its camera RAW stores",
        ));
    let report = report_at(&report_path);
    assert_eq!(report["ok"], 9, "{report}");
    for name in WITH_A_PREVIEW {
        let record = record_of(&report, &format!("/{name}"));
        assert_eq!(record["decoded_from"], "embedded_preview", "{record}");
        assert_eq!(
            (record["width_in"].as_u64(), record["height_in"].as_u64()),
            (Some(1600), Some(1067)),
            "{name}"
        );
    }
    let jpeg = record_of(&report, "/really_a_jpeg.nef");
    assert!(jpeg.get("decoded_from").is_none(), "{jpeg}");
    let scores = scores(&input, &out);
    assert_eq!(scores.len(), 9, "{scores:?}");
    for (name, (psnr, size)) in &scores {
        assert!(
            *psnr >= 35.0,
            "{name}: {psnr:.1} dB from the preview ExifTool extracts"
        );
        let turned = matches!(name.as_str(), "nikon.nef" | "adobe.dng" | "both_turned.nef");
        assert_eq!(
            *size,
            if turned { (171, 256) } else { (256, 171) },
            "{name}"
        );
    }
}

#[test]
fn raws_without_a_preview_large_enough_fail_naming_why_and_never_pass_a_stand_in() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // ExifTool's own files hold placeholders (8x8 at most) or nothing where previews go.
    for (name, from) in [
        ("placeholder.nef", "Nikon.nef"),
        ("tiny.raf", "FujiFilm.raf"),
        ("thumb_only.cr3", "CanonRaw.cr3"),
        ("phaseone.iiq", "PhaseOne.iiq"),
        ("sigma.x3f", "SigmaDP2.x3f"),
    ] {
        std::fs::copy(template(from), input.join(name)).unwrap();
    }
    let report_path = scratch.path().join("report.json");
    imgpar()
        .arg(&input)
        .arg(scratch.path().join("out"))
        .arg("--report")
        .arg(&report_path)
        .assert()
        .code(1);
    let report = report_at(&report_path);
    assert_eq!(report["failed"], 5, "{report}");
    for record in report["images"].as_array().unwrap() {
        let error = record["error"].as_str().unwrap();
        assert!(error.contains("develop it first"), "{record}");
    }
    let tiny = record_of(&report, "/tiny.raf");
    assert!(tiny["error"].as_str().unwrap().contains("8x8"), "{tiny}");

    // A real preview, but smaller than the output asked for: refused, not scaled up.
    let preview = make_preview(&scratch.path().join("made"));
    let raws = scratch.path().join("raws");
    raws_with_a_preview(&raws, &preview);
    let report_path = scratch.path().join("large.json");
    imgpar()
        .arg(raws.join("panasonic.rw2"))
        .arg(scratch.path().join("large"))
        .args(["--size", "2000x2000", "--report"])
        .arg(&report_path)
        .assert()
        .code(1);
    let report = report_at(&report_path);
    let error = record_of(&report, "/panasonic.rw2")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("1600x1067, smaller than the 2000x1334 output"),
        "{error}"
    );
}

#[test]
fn damaged_raws_fail_alone_and_nothing_panics() {
    let scratch = tempfile::tempdir().unwrap();
    let preview = make_preview(scratch.path());
    let made = scratch.path().join("made");
    raws_with_a_preview(&made, &preview);
    let input = scratch.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let mut count = 0;
    for name in WITH_A_PREVIEW {
        let bytes = std::fs::read(made.join(name)).unwrap();
        let (stem, ext) = name.split_once('.').unwrap();
        let mut random = Lcg(bytes.len() as u64);
        for k in 1..8 {
            let cut = bytes.len() * k / 8;
            std::fs::write(input.join(format!("{stem}-cut{k}.{ext}")), &bytes[..cut]).unwrap();
            let mut flipped = bytes.clone();
            for _ in 0..6 {
                // The structure: the first 4 KiB, where the IFDs and headers are.
                let at = random.below(flipped.len().min(4096));
                flipped[at] ^= 1 << random.below(8);
            }
            std::fs::write(input.join(format!("{stem}-flip{k}.{ext}")), flipped).unwrap();
            count += 2;
        }
    }
    let report = assert_each_ends_cleanly(&input, scratch.path(), count);
    assert!(report["failed"].as_u64().unwrap() > 0, "the cuts fail");
    for record in report["images"].as_array().unwrap() {
        if record["status"] == "ok" {
            assert_eq!(record["decoded_from"], "embedded_preview", "{record}");
        }
    }
}
