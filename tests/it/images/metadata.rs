//! `--keep-metadata`: a picture's EXIF, XMP and IPTC carried into its thumbnail in every
//! output format, read back by ExifTool (independent of imgpar's reader and writer): the
//! camera, lens, date, artist and copyright kept, the orientation reset to 1 (it was
//! applied), the embedded thumbnail and the GPS position gone; without the flag nothing is
//! carried. The library's bytes are the batch's, and re-runs still know their outputs.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A 1200x800 picture, its top-left corner white (to see the turn), as JPEG, PNG and
/// lossless WebP in `dir`, tagged by ExifTool: camera, lens, dates, artist, copyright,
/// orientation 6, a GPS position, an XMP creator; the JPEG also an IPTC by-line and
/// keyword and a 160x120 embedded thumbnail.
fn tagged_pictures(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let picture = image::RgbImage::from_fn(1200, 800, |x, y| {
        if x < 200 && y < 150 {
            image::Rgb([255, 255, 255])
        } else {
            image::Rgb([(x / 5) as u8, (y / 4) as u8, 90])
        }
    });
    picture.save(dir.join("photo.jpg")).unwrap();
    picture.save(dir.join("scan.png")).unwrap();
    image::DynamicImage::ImageRgb8(picture.clone())
        .save(dir.join("web.webp"))
        .unwrap();
    let thumbnail = dir.with_extension("thumb.jpg");
    image::imageops::thumbnail(&picture, 160, 120)
        .save(&thumbnail)
        .unwrap();
    let exiftool = common::debian::exiftool();
    let tags = [
        "-Artist=Ann Example",
        "-Copyright=(c) 2026 Ann Example",
        "-Make=Canon",
        "-Model=Canon EOS R5",
        "-LensModel=RF24-70mm F2.8 L IS USM",
        "-DateTimeOriginal=2026:01:02 03:04:05",
        "-Orientation#=6",
        "-GPSLatitude=48.8584",
        "-GPSLatitudeRef=N",
        "-GPSLongitude=2.2945",
        "-GPSLongitudeRef=E",
        "-XMP-dc:Creator=Ann Example",
    ];
    for name in ["photo.jpg", "scan.png", "web.webp"] {
        let mut command = Command::new(&exiftool);
        command.args(["-q", "-overwrite_original"]).args(tags);
        if name == "photo.jpg" {
            command
                .args(["-IPTC:By-line=Ann Example", "-IPTC:Keywords=holiday"])
                .arg(format!("-ThumbnailImage<={}", thumbnail.display()));
        }
        let status = command.arg(dir.join(name)).status().unwrap();
        assert!(status.success(), "ExifTool tags {name}");
    }
}

/// What ExifTool reads from `file`: its tags by group, numbers as numbers.
fn read_back(file: &Path) -> serde_json::Map<String, serde_json::Value> {
    let out = Command::new(common::debian::exiftool())
        .args(["-j", "-G1", "-n"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "ExifTool reads {}", file.display());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json[0].as_object().unwrap().clone()
}

/// The value of a tag of any group, by its name.
fn tag<'a>(
    tags: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'a serde_json::Value> {
    tags.iter()
        .find(|(key, _)| key.rsplit(':').next() == Some(name))
        .map(|(_, value)| value)
}

#[test]
fn kept_metadata_is_read_back_by_exiftool_in_every_output_format() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    tagged_pictures(&input);
    for format in ["jpeg", "png", "webp", "avif"] {
        let out = scratch.path().join(format);
        run(
            &input,
            &out,
            &["--keep-metadata", "--color", "--format", format],
        )
        .success();
        for stem in ["photo", "scan", "web"] {
            let file = out.join(format!(
                "{stem}.{}",
                if format == "jpeg" { "jpg" } else { format }
            ));
            let tags = read_back(&file);
            let shown = format!("{stem} as {format}: {tags:?}");
            for (name, value) in [
                ("Artist", "Ann Example"),
                ("Copyright", "(c) 2026 Ann Example"),
                ("Make", "Canon"),
                ("Model", "Canon EOS R5"),
                ("LensModel", "RF24-70mm F2.8 L IS USM"),
                ("DateTimeOriginal", "2026:01:02 03:04:05"),
            ] {
                assert_eq!(
                    tag(&tags, name).and_then(|v| v.as_str()),
                    Some(value),
                    "{name}: {shown}"
                );
            }
            assert_eq!(
                tag(&tags, "Orientation"),
                Some(&serde_json::json!(1)),
                "{shown}"
            );
            // The picture was turned (orientation 6): portrait, the white corner top right.
            assert_eq!(
                tag(&tags, "ImageWidth"),
                Some(&serde_json::json!(171)),
                "{shown}"
            );
            for gone in [
                "GPSLatitude",
                "GPSLongitude",
                "ThumbnailImage",
                "ThumbnailLength",
            ] {
                assert!(tag(&tags, gone).is_none(), "{gone} kept: {shown}");
            }
            if format != "avif" {
                let creator = tags.get("XMP-dc:Creator").and_then(|v| v.as_str());
                assert_eq!(creator, Some("Ann Example"), "{shown}");
            }
            if format == "jpeg" && stem == "photo" {
                assert_eq!(
                    tag(&tags, "By-line").and_then(|v| v.as_str()),
                    Some("Ann Example"),
                    "{shown}"
                );
                assert_eq!(
                    tag(&tags, "Keywords").and_then(|v| v.as_str()),
                    Some("holiday"),
                    "{shown}"
                );
            }
        }
        // A re-run knows its outputs (their provenance is read among the metadata).
        let flags = [
            "--keep-metadata",
            "--color",
            "--format",
            format,
            "--skip-existing",
        ];
        let report = run_reported(&input, &out, &flags);
        assert_eq!(report["skipped"], 3, "{format}: {report}");
    }
}

#[test]
fn without_the_flag_no_metadata_is_carried_and_the_library_gives_the_batchs_bytes() {
    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("in");
    tagged_pictures(&input);
    let out = scratch.path().join("plain");
    run(&input, &out, &["--format", "jpeg"]).success();
    let tags = read_back(&out.join("photo.jpg"));
    for gone in [
        "Artist",
        "Copyright",
        "Make",
        "GPSLatitude",
        "Creator",
        "By-line",
    ] {
        assert!(tag(&tags, gone).is_none(), "{gone}: {tags:?}");
    }
    for (format, extension) in [
        (imgpar::OutputFormat::Jpeg, "jpg"),
        (imgpar::OutputFormat::Png, "png"),
        (imgpar::OutputFormat::Webp, "webp"),
        (imgpar::OutputFormat::Avif, "avif"),
    ] {
        let out = scratch.path().join(extension);
        run(
            &input,
            &out,
            &["--keep-metadata", "--format", extension_flag(format)],
        )
        .success();
        let spec = imgpar::Spec::converting(imgpar::Conversion {
            keep_metadata: true,
            ..imgpar::Conversion::default()
        });
        for stem in ["photo", "scan", "web"] {
            let written = std::fs::read(out.join(format!("{stem}.{extension}"))).unwrap();
            let name = match stem {
                "photo" => "photo.jpg",
                "scan" => "scan.png",
                _ => "web.webp",
            };
            let called = imgpar::thumbnail_file(&input.join(name), &spec, format).unwrap();
            assert!(
                imgpar::without_provenance(&written) == called.bytes,
                "{stem} as {format:?}: the library's bytes differ from the batch's"
            );
        }
    }
}

fn extension_flag(format: imgpar::OutputFormat) -> &'static str {
    match format {
        imgpar::OutputFormat::Jpeg => "jpeg",
        imgpar::OutputFormat::Png => "png",
        imgpar::OutputFormat::Webp => "webp",
        _ => "avif",
    }
}
