//! The identity of a plan: what every report of a sharded run carries so that reports of
//! different plans are never merged as one. Two tasks share it exactly when they would
//! write the same union of outputs: the same images under the same names (every plan key
//! and its output name), into the same output, with the same conversion settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A plan's identity, as reports carry it (`"plan"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanIdentity {
    /// A digest of all the rest: equal identities are equal plans.
    pub id: String,
    /// Images in the whole plan (all shards).
    pub images: usize,
    /// A digest of the whole plan's images: each plan key with its output name.
    pub images_digest: String,
    /// Where the outputs go: a bucket prefix, or the output folder as an absolute path.
    pub output: String,
    /// The conversion settings that decide the outputs' bytes (size, fit, filter, quality,
    /// format, ...), each as text.
    pub settings: BTreeMap<String, String>,
}

impl PlanIdentity {
    /// The identity of a plan of `images` whose images digest to `images_digest`, written
    /// to `output` with `settings`.
    pub fn new(
        images: usize,
        images_digest: u128,
        output: String,
        settings: BTreeMap<String, String>,
    ) -> PlanIdentity {
        let images_digest = format!("{images_digest:032x}");
        let mut all = xxhash_rust::xxh3::Xxh3::new();
        all.update(&(images as u64).to_le_bytes());
        all.update(images_digest.as_bytes());
        all.update(&[0]);
        all.update(output.as_bytes());
        for (name, value) in &settings {
            for field in [name, value] {
                all.update(&[0]);
                all.update(field.as_bytes());
            }
        }
        PlanIdentity {
            id: format!("{:032x}", all.digest128()),
            images,
            images_digest,
            output,
            settings,
        }
    }

    /// The settings of `conversion` and `format` that decide what an output holds: every
    /// field of the [`crate::config::Conversion`] (a field added to it is part of the
    /// identity; the run's policies, which re-runs may change, are not in it).
    pub fn settings_of(
        conversion: &crate::config::Conversion,
        format: crate::config::FormatChoice,
    ) -> BTreeMap<String, String> {
        let mut settings = BTreeMap::new();
        let fields = serde_json::to_value(conversion).unwrap_or(Value::Null);
        for (name, value) in fields.as_object().into_iter().flatten() {
            let value = match value {
                Value::String(text) => text.clone(),
                Value::Null => "none".into(),
                other => other.to_string(),
            };
            settings.insert(name.clone(), value);
        }
        let format = match format {
            crate::config::FormatChoice::Same => "same".to_string(),
            crate::config::FormatChoice::Fixed(format) => format.extension().to_string(),
        };
        settings.insert("format".into(), format);
        settings
    }

    /// How `self` differs from `reference`, in words, one item a difference (empty when
    /// the two are one plan).
    pub fn differences(&self, reference: &PlanIdentity) -> Vec<String> {
        let mut differences = Vec::new();
        if self.images != reference.images {
            differences.push(format!(
                "its plan has {} images, the others {}",
                self.images, reference.images
            ));
        } else if self.images_digest != reference.images_digest {
            differences.push(format!(
                "its plan's images are other files or have other names (the same count, {})",
                self.images
            ));
        }
        if self.output != reference.output {
            differences.push(format!(
                "it wrote to {}, the others to {}",
                self.output, reference.output
            ));
        }
        let names: std::collections::BTreeSet<&String> = self
            .settings
            .keys()
            .chain(reference.settings.keys())
            .collect();
        let none = String::from("none");
        let changed: Vec<String> = names
            .into_iter()
            .filter_map(|name| {
                let (mine, theirs) = (
                    self.settings.get(name).unwrap_or(&none),
                    reference.settings.get(name).unwrap_or(&none),
                );
                (mine != theirs).then(|| format!("{name} {mine} (the others {theirs})"))
            })
            .collect();
        if !changed.is_empty() {
            differences.push(format!("other settings: {}", changed.join(", ")));
        }
        if differences.is_empty() && self.id != reference.id {
            differences.push("its plan identity differs".into());
        }
        differences
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(images: usize, digest: u128, output: &str, width: &str) -> PlanIdentity {
        let settings = BTreeMap::from([("width".to_string(), width.to_string())]);
        PlanIdentity::new(images, digest, output.into(), settings)
    }

    #[test]
    fn any_difference_changes_the_identity_and_is_named() {
        let reference = identity(8, 1, "/out", "256");
        assert_eq!(identity(8, 1, "/out", "256"), reference);
        for (other, said) in [
            (identity(9, 1, "/out", "256"), "9 images, the others 8"),
            (
                identity(8, 2, "/out", "256"),
                "other files or have other names",
            ),
            (
                identity(8, 1, "/elsewhere", "256"),
                "wrote to /elsewhere, the others to /out",
            ),
            (identity(8, 1, "/out", "64"), "width 64 (the others 256)"),
        ] {
            assert_ne!(other.id, reference.id);
            let differences = other.differences(&reference).join("; ");
            assert!(differences.contains(said), "{differences}");
        }
    }

    #[test]
    fn every_setting_that_decides_the_bytes_is_in_the_identity_and_no_policy_is() {
        use crate::config::{Conversion, ExistingOutput, FormatChoice, Spec};
        let spec = Spec::default();
        let settings = PlanIdentity::settings_of(&spec, FormatChoice::Same);
        for name in [
            "width",
            "fit",
            "quality",
            "max_pixels",
            "embedded_thumbnails",
            "format",
        ] {
            assert!(settings.contains_key(name), "{name}: {settings:?}");
        }
        assert!(!settings.contains_key("existing") && !settings.contains_key("fetch"));
        let full_pictures = Conversion {
            embedded_thumbnails: false,
            ..Conversion::default()
        };
        assert_ne!(
            PlanIdentity::settings_of(&full_pictures, FormatChoice::Same),
            settings
        );
        let skipping = Spec {
            existing: ExistingOutput::Skip,
            ..Spec::default()
        };
        assert_eq!(
            PlanIdentity::settings_of(&skipping, FormatChoice::Same),
            settings
        );
    }
}
