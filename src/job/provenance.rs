//! What an output carries about what it was made from: a hash of its input's plan key and
//! the settings that decide its bytes, as one line of text inside the file (see
//! `image/encode/tag.rs` for where each format keeps it). A re-run reads it back from an
//! output that stands at a job's name, so that an output is counted as this input's only
//! when it is: never another input's picture, never one of other settings.
//!
//! The input is named by a hash, not by its name: thumbnails are often published, and the
//! names of the photos they came from are the user's business. The settings are in clear,
//! so that a mismatch can be said in words.

use std::io::{Read, Seek, SeekFrom};

use super::Job;
use crate::config::{Conversion, OutputFormat};

/// The start of the line, and its version.
const MARK: &str = "imgpar-provenance/1 ";

/// `output` (a file a run wrote) without its provenance: the bytes
/// [`crate::thumbnail`] gives for the same picture and settings, which have no input to
/// name. A file without one is given back as it is.
pub fn without_provenance(output: &[u8]) -> Vec<u8> {
    crate::image::encode::tag::remove(output, MARK.as_bytes())
}

/// The bytes read from each end of a standing output (a file, or an object in one or two
/// ranged requests) to find its line: PNG and JPEG keep it in their first hundred bytes,
/// WebP and AVIF at their end.
pub(crate) const SCANNED: u64 = 16 * 1024;

/// What one output was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// 128-bit hash of the input's plan key, in hex.
    pub source: String,
    /// The settings that decide the output's bytes, as `name=value` pairs joined by `,`.
    pub settings: String,
}

/// How an output that stands relates to the job that would write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Made from this input with these settings.
    Same,
    /// It carries no provenance: made by an older imgpar or another tool.
    Unknown,
    /// Made from another input.
    OtherInput,
    /// Made from this input with other settings: each difference as `name now (then)`.
    OtherSettings(Vec<String>),
}

impl Provenance {
    /// How the input of plan key `key` is named in a provenance.
    pub fn source_of(key: &[u8]) -> String {
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(key))
    }

    /// The provenance of `job`'s output under `spec`.
    pub fn of(job: &Job, spec: &Conversion) -> Provenance {
        Provenance {
            source: Provenance::source_of(&job.key),
            settings: settings_text(spec, job.format),
        }
    }

    /// The line written into the output.
    pub fn line(&self) -> String {
        format!("{MARK}source={} settings={};", self.source, self.settings)
    }

    /// The provenance in `bytes` (a part of an output file), if a line is there.
    pub fn find(bytes: &[u8]) -> Option<Provenance> {
        let at = bytes
            .windows(MARK.len())
            .position(|w| w == MARK.as_bytes())?;
        let rest = &bytes[at + MARK.len()..];
        let end = rest.iter().take(1024).position(|&b| b == b';')?;
        let line = std::str::from_utf8(&rest[..end]).ok()?;
        let (source, settings) = line.split_once(' ')?;
        Some(Provenance {
            source: source.strip_prefix("source=")?.to_string(),
            settings: settings.strip_prefix("settings=")?.to_string(),
        })
    }

    /// How an output carrying `found` (or none) stands to this one.
    pub fn compare<'a>(&'a self, found: Option<&'a Provenance>) -> Standing {
        let Some(found) = found else {
            return Standing::Unknown;
        };
        if found.source != self.source {
            return Standing::OtherInput;
        }
        if found.settings == self.settings {
            return Standing::Same;
        }
        let pairs = |text: &'a str| -> Vec<(&'a str, &'a str)> {
            text.split(',')
                .filter_map(|pair| pair.split_once('='))
                .collect()
        };
        let (now, then) = (pairs(&self.settings), pairs(&found.settings));
        let value = |list: &[(&str, &'a str)], name: &str| {
            list.iter()
                .find(|(k, _)| *k == name)
                .map_or("none", |(_, v)| *v)
        };
        // Each setting named once: this run's first, then any only the output has.
        let names = now
            .iter()
            .chain(then.iter().filter(|(k, _)| value(&now, k) == "none"));
        let differences = names
            .map(|(name, _)| (name, value(&now, name), value(&then, name)))
            .filter(|(_, a, b)| a != b)
            .map(|(name, a, b)| format!("{name} {a} (then {b})"))
            .collect();
        Standing::OtherSettings(differences)
    }
}

/// The settings that decide an output's bytes in `format`, in a fixed order.
fn settings_text(spec: &Conversion, format: OutputFormat) -> String {
    let side = |n: Option<u32>| n.map_or("any".to_string(), |n| n.to_string());
    let mut text = format!(
        "size={}x{},fit={},filter={},upscale={},format={}",
        side(spec.width),
        side(spec.height),
        spec.fit.name(),
        spec.filter.name(),
        if spec.upscale { "yes" } else { "no" },
        format.extension(),
    );
    if format != OutputFormat::Png && format != OutputFormat::WebpLossless {
        text.push_str(&format!(",quality={}", spec.quality));
    }
    if format == OutputFormat::Avif {
        text.push_str(&format!(",avif-speed={}", spec.avif_speed));
    }
    if format == OutputFormat::WebpLossless {
        text.push_str(",lossless=yes");
    }
    if !spec.embedded_thumbnails {
        text.push_str(",embedded-thumbnails=no");
    }
    if spec.color {
        text.push_str(",color=srgb");
    }
    if spec.keep_metadata {
        text.push_str(",metadata=kept");
    }
    // Said only when it is not the default, so that outputs of the default keep their line.
    if format == OutputFormat::Jpeg && spec.background != crate::config::Background::default() {
        text.push_str(&format!(",background={}", String::from(spec.background)));
    }
    text
}

/// The provenance of the file `file` (an output standing at a job's name): its first and
/// last [`SCANNED`] bytes are searched. `Err` when it cannot be read.
pub fn read_file(file: &mut std::fs::File) -> std::io::Result<Option<Provenance>> {
    let len = file.metadata()?.len();
    let mut head = Vec::new();
    file.by_ref().take(SCANNED).read_to_end(&mut head)?;
    if let Some(found) = Provenance::find(&head) {
        return Ok(Some(found));
    }
    if len <= SCANNED {
        return Ok(None);
    }
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(
        len.saturating_sub(SCANNED).max(SCANNED / 2),
    ))?;
    file.take(SCANNED).read_to_end(&mut tail)?;
    Ok(Provenance::find(&tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Input;

    fn job(key: &str, format: OutputFormat) -> Job {
        Job {
            index: 0,
            input: Input::File(key.into()),
            output: "out/x".into(),
            output_root: "out".into(),
            format,
            key: key.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_line_written_is_found_again_and_compared() {
        let spec = Conversion::default();
        let mine = Provenance::of(&job("a.gif", OutputFormat::Png), &spec);
        let mut bytes = b"\x89PNG....tEXtimgpar\0".to_vec();
        bytes.extend_from_slice(mine.line().as_bytes());
        bytes.extend_from_slice(b"\0\0\x12\x34IDAT");
        let found = Provenance::find(&bytes).unwrap();
        assert_eq!(found, mine);
        assert_eq!(mine.compare(Some(&found)), Standing::Same);
        assert_eq!(mine.compare(None), Standing::Unknown);
        let other = Provenance::of(&job("a.png", OutputFormat::Png), &spec);
        assert_eq!(other.compare(Some(&found)), Standing::OtherInput);
        let smaller = Conversion {
            width: Some(64),
            ..Conversion::default()
        };
        let resized = Provenance::of(&job("a.gif", OutputFormat::Png), &smaller);
        assert_eq!(
            resized.compare(Some(&found)),
            Standing::OtherSettings(vec!["size 64x256 (then 256x256)".into()])
        );
    }

    #[test]
    fn a_colour_or_metadata_output_is_never_taken_for_a_gray_or_bare_one() {
        let png = job("a.png", OutputFormat::Png);
        let gray = Provenance::of(&png, &Conversion::default());
        assert!(!gray.settings.contains("color") && !gray.settings.contains("metadata"));
        for (colour, metadata) in [(true, false), (false, true), (true, true)] {
            let other = Provenance::of(
                &png,
                &Conversion {
                    color: colour,
                    keep_metadata: metadata,
                    ..Conversion::default()
                },
            );
            assert!(
                matches!(other.compare(Some(&gray)), Standing::OtherSettings(_)),
                "{other:?}"
            );
            assert!(matches!(
                gray.compare(Some(&other)),
                Standing::OtherSettings(_)
            ));
        }
    }

    #[test]
    fn a_jpegs_background_is_said_only_when_it_is_not_the_default() {
        let jpeg = job("a.png", OutputFormat::Jpeg);
        let default = Provenance::of(&jpeg, &Conversion::default());
        assert!(!default.settings.contains("background"), "{default:?}");
        let black = Conversion {
            background: crate::config::Background([0, 0, 0]),
            ..Conversion::default()
        };
        let laid = Provenance::of(&jpeg, &black);
        assert!(laid.settings.ends_with(",background=#000000"), "{laid:?}");
        assert_eq!(
            laid.compare(Some(&default)),
            Standing::OtherSettings(vec!["background #000000 (then none)".into()])
        );
        // A PNG keeps its alpha: the background does not decide its bytes.
        let png = Provenance::of(&job("a.png", OutputFormat::Png), &black);
        assert!(!png.settings.contains("background"), "{png:?}");
    }
}
