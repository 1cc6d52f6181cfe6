//! The lines of a shard file (see the module's documentation), and the rows' conversion
//! from and to jobs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{OutputFormat, Spec, UnconditionalStore};
use crate::job::{Input, Job};
use crate::paths::{bytes_path, path_bytes};
use crate::report::PlanIdentity;
use crate::store::ObjectUrl;

/// The format name a shard file's header carries; a reader refuses another.
pub const FORMAT: &str = "imgpar-shard-1";

/// One line of a shard file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Line {
    Header(Header),
    Job(JobRow),
    Problem(ProblemRow),
    End(End),
}

/// A path or key as JSON: a string when it is UTF-8, else its bytes (an array of
/// numbers), so that every name travels intact and most read as themselves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum Text {
    Utf8(String),
    Bytes(Vec<u8>),
}

impl Text {
    pub fn of(bytes: &[u8]) -> Text {
        match std::str::from_utf8(bytes) {
            Ok(text) => Text::Utf8(text.to_owned()),
            Err(_) => Text::Bytes(bytes.to_vec()),
        }
    }

    pub fn of_path(path: &Path) -> Text {
        Text::of(&path_bytes(path))
    }

    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Text::Utf8(text) => text.into_bytes(),
            Text::Bytes(bytes) => bytes,
        }
    }

    pub fn into_path(self) -> PathBuf {
        bytes_path(self.into_bytes())
    }
}

/// What a shard file says first: how to convert its rows, and which shard it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Header {
    /// [`FORMAT`].
    pub format: String,
    /// This shard, 0-based.
    pub index: u64,
    /// Shards in all.
    pub count: u64,
    /// The output folder (absolute) or bucket prefix.
    pub output: Text,
    /// What to do to every image, and with an existing output.
    pub spec: Spec,
    /// What to do when the output's store ignores create-only writes.
    pub unconditional_store: UnconditionalStore,
}

/// Where an image comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum InputRow {
    /// A file, by its absolute path.
    File(Text),
    /// An http(s) URL, as the list wrote it.
    Url(String),
    /// An object (`s3://`, `gs://`, `az://`).
    Object(String),
}

/// One image: its input, its output (below the header's output), format and plan key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct JobRow {
    pub input: InputRow,
    pub output: Text,
    pub format: OutputFormat,
    pub key: Text,
}

impl JobRow {
    /// The row of `job`, planned into the output `root`.
    pub fn of(job: &Job) -> JobRow {
        JobRow {
            input: match &job.input {
                Input::File(path) => InputRow::File(Text::of_path(path)),
                Input::Url(url) => InputRow::Url(url.clone()),
                Input::Object(url) => InputRow::Object(url.to_string()),
            },
            output: Text::of_path(job.output_rel()),
            format: job.format,
            key: Text::of(&job.key),
        }
    }

    /// The job of this row, numbered `index`, writing below `root`; `Err` for an object
    /// URL that does not read, or an output that would leave `root`.
    pub fn into_job(self, index: usize, root: &Path) -> Result<Job, String> {
        let input = match self.input {
            InputRow::File(path) => Input::File(path.into_path()),
            InputRow::Url(url) => Input::Url(url),
            InputRow::Object(text) => match ObjectUrl::parse(&text) {
                Some(Ok(url)) => Input::Object(url),
                Some(Err(e)) => return Err(e),
                None => return Err(format!("{text} is not an object URL")),
            },
        };
        let rel = self.output.into_path();
        let inside = rel
            .components()
            .all(|part| matches!(part, std::path::Component::Normal(_)));
        if !inside || rel.as_os_str().is_empty() {
            return Err(format!(
                "the output {} leaves the output folder",
                rel.display()
            ));
        }
        Ok(Job {
            index,
            input,
            output: root.join(rel),
            output_root: root.to_path_buf(),
            format: self.format,
            key: self.key.into_bytes(),
        })
    }
}

/// An input that failed before it could be an image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ProblemRow {
    /// Its path (or URL, or object).
    pub input: Text,
    /// Why it failed.
    pub error: String,
}

/// What a shard file says last: the whole plan, and this shard's counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct End {
    /// The whole plan's identity (images, names, output, conversion settings).
    pub plan: PlanIdentity,
    /// Images in the whole plan (all shards; inputs that failed included).
    pub plan_images: usize,
    /// Jobs in this file.
    pub jobs: usize,
    /// Problems in this file.
    pub problems: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names that are not UTF-8 are a Unix matter (on Windows such a name is read as
    /// U+FFFD: see `paths`).
    #[test]
    #[cfg(unix)]
    fn a_row_gives_back_its_job_names_that_are_not_utf8_included() {
        use std::os::unix::ffi::OsStrExt;
        let root = PathBuf::from("/data/out");
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9/photo.png");
        let job = Job {
            index: 7,
            input: Input::File(Path::new("/data/in").join(name)),
            output: root.join(name),
            output_root: root.clone(),
            format: OutputFormat::Png,
            key: name.as_bytes().to_vec(),
        };
        let line = serde_json::to_string(&Line::Job(JobRow::of(&job))).unwrap();
        assert!(
            line.contains("[99,97,102,233,47"),
            "the bytes, as bytes: {line}"
        );
        let Line::Job(row) = serde_json::from_str(&line).unwrap() else {
            panic!("a job row: {line}");
        };
        assert_eq!(row.into_job(7, &root).unwrap(), job);

        let url = Job {
            input: Input::Url("https://example.org/a.jpg".into()),
            output: root.join("a.jpg"),
            key: b"https://example.org/a.jpg".to_vec(),
            ..job.clone()
        };
        let line = serde_json::to_string(&Line::Job(JobRow::of(&url))).unwrap();
        assert_eq!(
            line,
            r#"{"job":{"input":{"url":"https://example.org/a.jpg"},"output":"a.jpg","format":"png","key":"https://example.org/a.jpg"}}"#
        );
    }

    #[test]
    fn a_row_whose_output_leaves_the_output_folder_is_refused() {
        for output in ["../escape.png", "/etc/passwd", "a/../../b.png", ""] {
            let row = JobRow {
                input: InputRow::Url("https://example.org/a.jpg".into()),
                output: Text::Utf8(output.into()),
                format: OutputFormat::Png,
                key: Text::Utf8("k".into()),
            };
            assert!(row.into_job(0, Path::new("/out")).is_err(), "{output}");
        }
    }
}
