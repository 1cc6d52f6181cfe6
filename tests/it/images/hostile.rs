//! Hostile input: hundreds of damaged copies of the fixtures (a phone's HEIC and a camera's
//! RAW among them), size bombs in every format,
//! files that are not what their names say. Every image ends in exactly one outcome, the
//! same in every mode; nothing panics, nothing hangs, nothing is written for a failure, and
//! no output is lost.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use predicates::prelude::*;

/// Longest a run over the damaged files may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(240);

/// The fixture images damaged in every way the test knows, named `<stem>.<damage>.<ext>`.
fn damaged_variants() -> Vec<(String, Vec<u8>)> {
    let mut sources: Vec<_> = files_under(&fixtures("images"))
        .into_iter()
        .filter(|rel| rel.parent() == Some(Path::new("")) && rel.extension().is_some())
        .filter(|rel| rel.extension().unwrap() != "txt")
        .map(|rel| fixtures("images").join(rel))
        .collect();
    sources.push(fixtures("orientation/orientation_6.jpg"));
    sources.push(fixtures("photos/phone.heic"));
    sources.push(fixtures("photos/camera.nef"));
    let mut variants = Vec::new();
    for (seed, source) in sources.iter().enumerate() {
        let bytes = std::fs::read(source).unwrap();
        let stem = source.file_stem().unwrap().to_string_lossy().into_owned();
        let ext = source.extension().unwrap().to_string_lossy().into_owned();
        let mut add = |damage: String, damaged: Vec<u8>| {
            variants.push((format!("{stem}.{damage}.{ext}"), damaged));
        };
        let len = bytes.len();
        // Truncations: inside the signature, the header, and at tenths of the file.
        let mut cuts: Vec<usize> = [1, 2, 4, 8, 12, 16, 24, 33, 50, 64, 100, 200, 400]
            .into_iter()
            .chain((1..10).map(|k| len * k / 10))
            .chain([len - 2, len - 1])
            .filter(|&cut| cut < len)
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            add(format!("cut{cut}"), bytes[..cut].to_vec());
        }
        // Single bit flips, mostly in the headers where they change the most.
        let mut random = Lcg(seed as u64 + 1);
        for flip in 0..12 {
            let span = if flip < 8 { len.min(300) } else { len };
            let mut damaged = bytes.clone();
            damaged[random.below(span)] ^= 1 << random.below(8);
            add(format!("flip{flip}"), damaged);
        }
        // Bursts of damage all over the file.
        for burst in 0..3 {
            let mut damaged = bytes.clone();
            for _ in 0..24 {
                let at = random.below(len);
                damaged[at] = random.below(256) as u8;
            }
            add(format!("burst{burst}"), damaged);
        }
        // Zeroed headers: all of it, and all but the signature.
        for (from, to) in [(0, 64), (8, 72), (2, 40)] {
            let mut damaged = bytes.clone();
            damaged[from..to.min(len)].fill(0);
            add(format!("zero{from}"), damaged);
        }
        // Chunks or segments out of order.
        let parts = segments(&bytes);
        if parts.len() >= 3 {
            let mut swapped = parts.clone();
            swapped.swap(1, 2);
            add("swap12".into(), swapped.concat());
            let mut reversed = parts.clone();
            reversed[1..].reverse();
            add("reversed".into(), reversed.concat());
            let mut doubled = parts.clone();
            doubled.insert(1, parts[1].clone());
            add("doubled".into(), doubled.concat());
        }
        // Junk after the end, and a file that stops after its header repeated.
        let mut trailing = bytes.clone();
        trailing.extend(std::iter::repeat_n(0xAB, 1000));
        add("trailing".into(), trailing);
        let mut repeated = bytes[..len.min(256)].to_vec();
        repeated.extend_from_slice(&bytes[..len.min(256)]);
        add("repeated".into(), repeated);
    }
    variants
}

/// The file cut at its structure: PNG chunks or JPEG marker segments (up to the scan),
/// the signature first and the rest last; other formats in four equal pieces.
fn segments(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut cuts = vec![0];
    if bytes.starts_with(b"\x89PNG") {
        let mut at = 8;
        while at + 12 <= bytes.len() {
            cuts.push(at);
            let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            at += 12 + length;
        }
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut at = 2;
        while at + 4 <= bytes.len() && bytes[at] == 0xFF && bytes[at + 1] != 0xDA {
            cuts.push(at);
            at += 2 + u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        }
        cuts.push(at.min(bytes.len()));
    } else {
        cuts.extend((1..4).map(|k| bytes.len() * k / 4));
    }
    cuts.push(bytes.len());
    cuts.dedup();
    cuts.windows(2)
        .map(|w| bytes[w[0]..w[1].max(w[0])].to_vec())
        .collect()
}

/// One run's outcome per input file name: status word and error text.
fn outcomes(report: &serde_json::Value) -> BTreeMap<String, (String, String)> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let name = Path::new(r["input"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let status = r["status"].as_str().unwrap().to_string();
            let error = r["error"].as_str().unwrap_or("").to_string();
            (name, (status, error))
        })
        .collect()
}

#[test]
fn hundreds_of_damaged_files_each_end_in_one_clean_outcome_in_every_mode() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("damaged");
    std::fs::create_dir(&input).unwrap();
    let variants = damaged_variants();
    assert!(variants.len() >= 400, "only {} variants", variants.len());
    for (name, bytes) in &variants {
        std::fs::write(input.join(name), bytes).unwrap();
    }

    // Gray in every mode; colour with metadata kept (the colour decoders, profiles and
    // metadata readers on the same damage) in two.
    let runs = modes()
        .map(|mode| (mode, false))
        .chain([("sequential", true), ("process", true)]);
    let mut first: [Option<BTreeMap<String, (String, String)>>; 2] = [None, None];
    for (mode, colour) in runs {
        let tone = if colour { "colour" } else { "gray" };
        let out = scratch.path().join(format!("out-{mode}-{tone}"));
        let report_path = scratch.path().join(format!("{mode}-{tone}.json"));
        let mut args = vec!["--mode", mode, "-j", "2", "--quiet", "--report"];
        args.push(report_path.to_str().unwrap());
        if colour {
            args.extend(["--color", "--keep-metadata"]);
        }
        if matches!(mode, "threaded" | "process") {
            args.extend(["--timeout", "60"]);
        }
        let assert = imgpar()
            .arg(&input)
            .arg(&out)
            .args(&args)
            .timeout(HANG)
            .assert();
        let output = assert.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{mode}: hung, crashed or gave up: {:?}\n{stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{mode}: a panic: {stderr}");

        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
        let seen = outcomes(&report);
        assert_eq!(seen.len(), variants.len(), "{mode}: one outcome per file");
        assert_eq!(report["not_started"], 0);
        let mut written = Vec::new();
        for record in report["images"].as_array().unwrap() {
            let error = record["error"].as_str().unwrap_or("");
            assert!(!error.contains("panic"), "{mode}: {record}");
            assert!(!error.contains("--timeout"), "{mode}: hang: {record}");
            let output_path = Path::new(record["output"].as_str().unwrap());
            match record["status"].as_str().unwrap() {
                "ok" => {
                    // Not lost, and whole.
                    open(output_path);
                    written.push(output_path.strip_prefix(&out).unwrap().to_path_buf());
                }
                _ => assert!(!output_path.exists(), "{mode}: written for a failure"),
            }
        }
        written.sort();
        assert_eq!(files_under(&out), written, "{mode}: exactly the ok outputs");
        assert_no_temp_files(&out);

        match &first[usize::from(colour)] {
            None => {
                let failed = seen.values().filter(|(s, _)| s == "failed").count();
                eprintln!(
                    "{} damaged files in {tone}: {failed} failed cleanly, {} converted anyway \
                     (damage a decoder tolerates); crashes 0, hangs 0, files lost 0",
                    variants.len(),
                    variants.len() - failed
                );
                assert!(failed * 2 > variants.len(), "most damage must be noticed");
                first[usize::from(colour)] = Some(seen);
            }
            Some(sequential) => {
                assert_eq!(
                    &seen, sequential,
                    "{mode} in {tone} differs from sequential"
                )
            }
        }
    }
}

/// `len` as a 4-byte big-endian PNG chunk around `kind` and `data`, with its CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk
}

/// Small files in every supported format whose headers claim a huge image.
fn size_bombs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));

    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    jpeg.extend([1u8; 64]);
    jpeg.extend([
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0xFD, 0xE8, 0xFD, 0xE8, 0x01, 0x01, 0x11, 0x00,
    ]);
    jpeg.extend([0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01]);
    jpeg.extend([0u8; 15]);
    jpeg.push(0x00);
    jpeg.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    jpeg.extend([0u8; 32]);
    jpeg.extend([0xFF, 0xD9]);

    let mut webp = b"RIFF".to_vec();
    let mut body = b"WEBPVP8X".to_vec();
    body.extend(10u32.to_le_bytes());
    body.extend([0, 0, 0, 0]);
    body.extend([0xFF, 0x3F, 0x00, 0xFF, 0x3F, 0x00]); // 16384 x 16384
    body.extend(b"VP8L");
    body.extend(5u32.to_le_bytes());
    body.extend([0x2F, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]);
    webp.extend((body.len() as u32).to_le_bytes());
    webp.extend(body);

    let mut gif = b"GIF89a".to_vec();
    gif.extend([0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00]);
    gif.extend([0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]);
    gif.extend([0x08, 0x02, 0x00, 0x01, 0x00, 0x3B]);

    let mut bmp = b"BM".to_vec();
    bmp.extend(1078u32.to_le_bytes());
    bmp.extend([0, 0, 0, 0]);
    bmp.extend(54u32.to_le_bytes());
    bmp.extend(40u32.to_le_bytes());
    bmp.extend(100_000i32.to_le_bytes());
    bmp.extend(100_000i32.to_le_bytes());
    bmp.extend(1u16.to_le_bytes());
    bmp.extend(24u16.to_le_bytes());
    bmp.extend([0u8; 24]);
    bmp.extend([0x80u8; 1024]);

    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, 100_000),
        (257, 4, 100_000),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 200),
        (277, 3, 1),
        (278, 4, 100_000),
        (279, 4, 64),
    ];
    tiff.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(kind.to_le_bytes());
        tiff.extend(1u32.to_le_bytes());
        if kind == 3 {
            tiff.extend((value as u16).to_le_bytes());
            tiff.extend([0, 0]);
        } else {
            tiff.extend(value.to_le_bytes());
        }
    }
    tiff.extend(0u32.to_le_bytes());
    tiff.resize(264, 0x55);

    vec![
        ("bomb.png", png, "100000x100000, 10000 MP"),
        ("bomb.jpg", jpeg, "65000x65000, 4225 MP"),
        ("bomb.webp", webp, "16384x16384, 268 MP"),
        ("bomb.gif", gif, "65535x65535, 4295 MP"),
        ("bomb.bmp", bmp, "100000x100000, 10000 MP"),
        ("bomb.tiff", tiff, "100000x100000, 10000 MP"),
    ]
}

#[test]
fn size_bombs_in_every_format_are_refused_from_the_header_with_little_memory() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("bombs");
    std::fs::create_dir(&input).unwrap();
    let bombs = size_bombs();
    for (name, bytes, _) in &bombs {
        assert!(bytes.len() < 2048, "{name} is not small");
        std::fs::write(input.join(name), bytes).unwrap();
    }
    // Under a 128 MiB address-space cap, a decoder that allocated for the claimed size
    // would die of it; the header check must come first. The same holds in-process.
    for args in [
        &["--mode", "process", "--worker-memory", "128M"][..],
        &["--mode", "threaded"][..],
    ] {
        let out = scratch.path().join("out");
        let mut assert = imgpar()
            .arg(&input)
            .arg(&out)
            .args(args)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "0 ok, {} failed",
                bombs.len()
            )));
        for (name, _, size) in &bombs {
            assert = assert.stderr(predicate::str::contains(format!(
                "{name}: image is {size}, over the 100 MP limit (--max-pixels)"
            )));
        }
        assert!(files_under(&out).is_empty());
    }
}

#[test]
fn files_of_other_kinds_fail_by_name_and_misnamed_images_convert() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("mixed");
    std::fs::create_dir(&input).unwrap();
    let mut heic = vec![0, 0, 0, 0x18];
    heic.extend(b"ftypheic\0\0\0\0mif1heic");
    heic.extend([0u8; 64]);
    let mut jxr = b"II\xBC\x01".to_vec();
    jxr.extend([0u8; 64]);
    let others: [(&str, Vec<u8>, &str); 5] = [
        ("layers.psd", b"8BPS\0\x01\0\0\0\0\0\0\0\x03".to_vec(), "Photoshop (PSD) files are not supported"),
        (
            "drawing.svg",
            b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>".to_vec(),
            "SVG (vector image) files are not supported",
        ),
        ("photo.jxr", jxr, "JPEG XR files are not supported"),
        // Read now, and this one is only a header: it fails as a HEIF, by its bytes.
        ("phone.heic", heic, "corrupt or truncated HEIF"),
        ("random.jpg", (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(), "not a recognised image format"),
    ];
    for (name, bytes, _) in &others {
        std::fs::write(input.join(name), bytes).unwrap();
    }
    std::fs::copy(fixtures("images/rgb8.png"), input.join("really_png.jpg")).unwrap();
    std::fs::copy(fixtures("images/gray.jpg"), input.join("really_jpeg.png")).unwrap();
    // A PDF is named, in a folder as on the command line.
    std::fs::write(input.join("notes.pdf"), b"%PDF-1.7\n").unwrap();
    let pdf = scratch.path().join("scan.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap();

    let out = scratch.path().join("out");
    let mut assert = imgpar()
        .arg(&input)
        .arg(&pdf)
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("2 ok, 7 failed"))
        .stderr(predicate::str::contains(
            "scan.pdf: PDF files are not supported",
        ))
        .stderr(predicate::str::contains(
            "notes.pdf: PDF files are not supported",
        ));
    for (name, _, reason) in &others {
        assert = assert.stderr(predicate::str::contains(format!("{name}: {reason}")));
    }
    let written = files_under(&out);
    assert_eq!(written.len(), 2, "{written:?}");
    for file in written {
        assert_eq!(open(&out.join(file)).width(), 256);
    }
}
