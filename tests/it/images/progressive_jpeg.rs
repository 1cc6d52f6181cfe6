//! Progressive JPEGs decode to exactly the thumbnails of their baseline twins (the same
//! coefficients, other scans), at every scale, although imgpar leaves out the scans a gray
//! thumbnail does not need and decodes 1/8, 2/8 and 4/8 scales from the luma's scans
//! alone, without libjpeg; and a damaged progressive file still fails where its damage
//! lies, also when it lies in a scan that is left out.

use crate::common;

use common::*;

/// A detailed picture: stripes, gradients and colour, so that every coefficient matters.
fn picture(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        let stripe = if (x / 7 + y / 11) % 2 == 0 { 50 } else { 0 };
        image::Rgb([
            (x / 5) as u8 ^ stripe,
            (y / 3) as u8,
            ((x * y) / 97 % 256) as u8,
        ])
    })
}

/// The sizes asked for, with the DCT scale each makes libjpeg decode a 2400x1800 picture
/// at (the reduction never goes below twice the output): 1/8 (DC only), 2/8, 4/8, 8/8.
const SIZES: [&str; 4] = ["64x64", "256x256", "600x600", "4000x4000"];

/// The twins: the same picture, baseline and progressive, by jpeg-encoder (spectral
/// selection only) and by Pillow (libjpeg: spectral selection and successive
/// approximation, DC and AC refinement scans), 4:2:0, 4:4:4, 4:2:2 with restarts, and gray.
/// Returns their stems (`{stem}-baseline.jpg`, `{stem}-progressive.jpg`).
fn write_twins(input: &std::path::Path) -> [&'static str; 5] {
    let rgb = picture(2400, 1800);
    rgb.save(input.join("source.png")).unwrap();
    for (name, progressive) in [("je-baseline.jpg", false), ("je-progressive.jpg", true)] {
        let mut encoder = jpeg_encoder::Encoder::new_file(input.join(name), 90).unwrap();
        encoder.set_progressive(progressive);
        encoder
            .encode(rgb.as_raw(), 2400, 1800, jpeg_encoder::ColorType::Rgb)
            .unwrap();
    }
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         source = Image.open(d + '/source.png')\n\
         for name, image, options in [('420', source, {}), ('444', source, {'subsampling': 0}), \
         ('422r', source, {'subsampling': 1, 'restart_marker_blocks': 7}), \
         ('gray', source.convert('L'), {})]:\n\
         \x20   for progressive in (False, True):\n\
         \x20       kind = 'progressive' if progressive else 'baseline'\n\
         \x20       image.save(f'{d}/pil{name}-{kind}.jpg', quality=90, progressive=progressive, **options)\n",
        &[input],
    );
    std::fs::remove_file(input.join("source.png")).unwrap();
    ["je", "pil420", "pil444", "pil422r", "pilgray"]
}

#[test]
fn progressive_twins_give_byte_identical_thumbnails_at_every_scale() {
    let (_scratch, input) = scratch_with_input();
    let twins = write_twins(&input);
    for size in SIZES {
        let out = convert(&input, &["--size", size]);
        for twin in twins {
            // Twins are two inputs: their outputs' provenance names each its own.
            let read = |name: String| {
                imgpar::without_provenance(&std::fs::read(out.path().join(name)).unwrap())
            };
            let baseline = read(format!("{twin}-baseline.jpg"));
            let progressive = read(format!("{twin}-progressive.jpg"));
            assert!(
                baseline == progressive,
                "{twin} at {size}: the thumbnails differ"
            );
        }
    }
}

#[test]
fn progressive_twins_in_colour_give_libjpegs_thumbnails_at_every_reduced_scale() {
    // In colour, imgpar's own reader decodes every component's scans at 1/8, 2/8 and 4/8
    // (libjpeg would hold every coefficient of every component), chroma at twice the
    // scale where libjpeg takes it so (4:2:0); a sampling libjpeg would upsample
    // smoothly (4:2:2 at 2/8 and 4/8) goes to libjpeg. So at 2/8 and 4/8 a progressive
    // file's colour thumbnail is its baseline twin's, byte for byte; at 1/8 it is made
    // from the DC scans alone (flat chroma blocks, where a baseline file's chroma has its
    // AC coefficients too), and is as close to Pillow's thumbnail (the whole picture
    // decoded, then Lanczos) as the baseline twin's.
    let (_scratch, input) = scratch_with_input();
    let twins = write_twins(&input);
    for size in &SIZES[..3] {
        let out = convert(&input, &["--size", size, "--color", "--format", "png"]);
        let json = common::python::colour_reference(&[
            "compare".as_ref(),
            input.as_os_str(),
            out.path().as_os_str(),
        ]);
        let scores: serde_json::Value = serde_json::from_str(&json).unwrap();
        for twin in twins {
            let score = |kind: &str| {
                let name = format!("{twin}-{kind}.jpg");
                let expected = if twin == "pilgray" { "L" } else { "RGB" };
                assert_eq!(scores[&name]["mode"], expected, "{name} at {size}");
                scores[&name]["psnr"].as_f64().unwrap()
            };
            let (baseline, progressive) = (score("baseline"), score("progressive"));
            assert!(
                progressive >= baseline - 0.5 && progressive >= 30.0,
                "{twin} at {size}: progressive {progressive:.1} dB, baseline {baseline:.1} dB"
            );
            let read = |kind: &str| {
                imgpar::without_provenance(
                    &std::fs::read(out.path().join(format!("{twin}-{kind}.png"))).unwrap(),
                )
            };
            let dc_only_chroma = *size == SIZES[0] && matches!(twin, "pil420" | "pil422r");
            assert!(
                dc_only_chroma || read("baseline") == read("progressive"),
                "{twin} at {size}: the colour thumbnails differ"
            );
        }
    }
}

#[test]
fn damaged_progressive_files_fail_where_the_damage_lies_even_in_a_scan_left_out() {
    let (scratch, input) = scratch_with_input();
    picture(800, 600).save(input.join("source.png")).unwrap();
    common::python::run_pillow(
        "import sys\nfrom PIL import Image\nd = sys.argv[1]\n\
         Image.open(d + '/source.png').save(d + '/whole.jpg', quality=90, progressive=True)\n",
        &[&input],
    );
    std::fs::remove_file(input.join("source.png")).unwrap();
    let whole = std::fs::read(input.join("whole.jpg")).unwrap();
    std::fs::remove_file(input.join("whole.jpg")).unwrap();
    let len = whole.len();
    let mut count = 0;
    // Cuts at every tenth of the file: the later ones fall in AC scans a 32-pixel
    // thumbnail never decodes (it reads the DC scans alone), and must fail all the same
    // (no end of image).
    for tenth in 1..10 {
        let cut = len * tenth / 10;
        std::fs::write(input.join(format!("cut{tenth}.jpg")), &whole[..cut]).unwrap();
        count += 1;
    }
    std::fs::write(input.join("no-eoi.jpg"), &whole[..len - 2]).unwrap();
    count += 1;
    // A DC refinement scan that claims to refine a bit the first scan never left (its
    // successive approximation byte 0x10 made 0x21): libjpeg calls the progression bogus
    // and imgpar fails the image; its own reader must not make a picture of it.
    let mut bogus = whole.clone();
    let refinement = (0..len - 12)
        .find(|&at| {
            bogus[at] == 0xFF && bogus[at + 1] == 0xDA && {
                let n = usize::from(bogus[at + 4]);
                bogus[at + 5 + 2 * n] == 0 && bogus[at + 7 + 2 * n] == 0x10
            }
        })
        .expect("a DC refinement scan");
    let n = usize::from(bogus[refinement + 4]);
    bogus[refinement + 7 + 2 * n] = 0x21;
    std::fs::write(input.join("bogus-progression.jpg"), bogus).unwrap();
    count += 1;
    // A frame header claiming 60000 x 60000 pixels: refused from the header, before the
    // progressive reader (or libjpeg) allocates anything for it.
    let sof = whole
        .windows(2)
        .position(|w| w == [0xFF, 0xC2])
        .expect("a progressive frame");
    let mut bomb = whole.clone();
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    std::fs::write(input.join("bomb.jpg"), bomb).unwrap();
    count += 1;
    let mut random = Lcg(41);
    for flip in 0..30 {
        let mut damaged = whole.clone();
        damaged[random.below(len)] ^= 1 << random.below(8);
        std::fs::write(input.join(format!("flip{flip}.jpg")), damaged).unwrap();
        count += 1;
    }
    // 32x32 is decoded from the DC scans alone, 100x100 (2/8) and 200x200 (4/8) from the
    // luma's scans (in colour, every component's), all three without libjpeg; 300x300
    // (8/8) by libjpeg, chroma AC left out in gray.
    let sizes = ["32x32", "100x100", "200x200", "300x300"];
    let runs = sizes.map(|size| (size, false)).into_iter();
    for (size, colour) in runs.chain(sizes[..3].iter().map(|&size| (size, true))) {
        let scratch = tempfile::tempdir().unwrap();
        let json = scratch.path().join("report.json");
        imgpar()
            .arg(&input)
            .arg(scratch.path().join("out"))
            .args(["--size", size, "--mode", "process", "--report"])
            .arg(&json)
            .args(colour.then_some("--color"))
            .assert()
            .code(1);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(report["images"].as_array().unwrap().len(), count);
        for name in (1..10)
            .map(|t| format!("cut{t}.jpg"))
            .chain(["no-eoi.jpg".to_string()])
        {
            let record = record_of(&report, &name);
            assert_eq!(record["status"], "failed", "{size}: {record}");
            assert_eq!(record["error_kind"], "corrupt", "{size}: {record}");
        }
        assert_eq!(
            record_of(&report, "bomb.jpg")["error_kind"],
            "too_many_pixels"
        );
        let bogus = record_of(&report, "bogus-progression.jpg");
        assert_eq!(bogus["status"], "failed", "{size}: {bogus}");
        for record in report["images"].as_array().unwrap() {
            let kind = record["error_kind"].as_str().unwrap_or("none");
            assert!(
                !matches!(kind, "worker_died" | "timeout" | "internal"),
                "{record}"
            );
        }
    }
    drop(scratch);
}
