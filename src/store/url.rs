//! Object storage addresses: `s3://bucket/key`, `gs://bucket/key`, `az://container/key`.
//! Plain data, built with or without the `cloud` feature, so that a plan can name objects
//! and say clearly when this build cannot reach them.

use std::fmt;
use std::path::Path;

/// The object stores imgpar reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scheme {
    /// Amazon S3 and S3-compatible servers (`s3://`).
    S3,
    /// Google Cloud Storage (`gs://`).
    Gcs,
    /// Azure Blob Storage (`az://`).
    Azure,
}

impl Scheme {
    fn prefix(self) -> &'static str {
        match self {
            Scheme::S3 => "s3://",
            Scheme::Gcs => "gs://",
            Scheme::Azure => "az://",
        }
    }
}

/// An object, or a prefix of objects: the store, the bucket (or container) and the key,
/// without leading or trailing `/` (empty for the whole bucket).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ObjectUrl {
    /// Which store.
    pub scheme: Scheme,
    /// The bucket, or Azure container.
    pub bucket: String,
    /// The key or prefix inside it.
    pub key: String,
}

impl ObjectUrl {
    /// Reads `s3://`, `gs://` or `az://` addresses; `None` for anything else (a local
    /// path). An address with no bucket is an error.
    pub fn parse(text: &str) -> Option<Result<ObjectUrl, String>> {
        let lower = text.get(..5)?.to_ascii_lowercase();
        let scheme = [Scheme::S3, Scheme::Gcs, Scheme::Azure]
            .into_iter()
            .find(|s| lower == s.prefix())?;
        let rest = &text[5..];
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(format!(
                "{text}: no bucket named (write {}BUCKET/PREFIX)",
                scheme.prefix()
            )));
        }
        Some(Ok(ObjectUrl {
            scheme,
            bucket: bucket.to_string(),
            key: key.trim_matches('/').to_string(),
        }))
    }

    /// [`ObjectUrl::parse`] of a path given on the command line or to the library; read
    /// through [`super::Location::parse`], the one place that asks.
    pub(super) fn from_path(path: &Path) -> Option<Result<ObjectUrl, String>> {
        ObjectUrl::parse(path.to_str()?)
    }

    /// The object `rel` (folders separated by `/`) under this prefix.
    pub fn join(&self, rel: &str) -> ObjectUrl {
        let rel = rel.trim_matches('/');
        let key = match (self.key.is_empty(), rel.is_empty()) {
            (true, _) => rel.to_string(),
            (false, true) => self.key.clone(),
            (false, false) => format!("{}/{rel}", self.key),
        };
        ObjectUrl {
            key,
            ..self.clone()
        }
    }

    /// The key's last segment: the object's own name.
    pub fn name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or("")
    }

    /// Whether one of the two prefixes holds the other (same store and bucket, and one
    /// key is the other's, or a folder of it): a run writing into one while reading the
    /// other would read its own outputs.
    pub fn overlaps(&self, other: &ObjectUrl) -> bool {
        let within = |inner: &str, outer: &str| {
            outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}/"))
        };
        self.scheme == other.scheme
            && self.bucket == other.bucket
            && (within(&self.key, &other.key) || within(&other.key, &self.key))
    }
}

impl fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.scheme.prefix(), self.bucket)?;
        if !self.key.is_empty() {
            write!(f, "/{}", self.key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_print_back() {
        let url = ObjectUrl::parse("s3://bkt/in/photos/").unwrap().unwrap();
        assert_eq!(
            (url.bucket.as_str(), url.key.as_str()),
            ("bkt", "in/photos")
        );
        assert_eq!(url.to_string(), "s3://bkt/in/photos");
        assert_eq!(
            url.join("a/b.png").to_string(),
            "s3://bkt/in/photos/a/b.png"
        );
        assert_eq!(url.join("a/b.png").name(), "b.png");
        assert_eq!(
            ObjectUrl::parse("GS://b").unwrap().unwrap().scheme,
            Scheme::Gcs
        );
        assert!(ObjectUrl::parse("s3:///key").unwrap().is_err());
        assert!(ObjectUrl::parse("photos/s3").is_none());
        assert!(ObjectUrl::parse("az").is_none());
    }

    #[test]
    fn prefixes_overlap_when_one_holds_the_other() {
        let url = |s: &str| ObjectUrl::parse(s).unwrap().unwrap();
        assert!(url("s3://b/in").overlaps(&url("s3://b/in/out")));
        assert!(url("s3://b/in/out").overlaps(&url("s3://b/in")));
        assert!(url("s3://b").overlaps(&url("s3://b/out")));
        assert!(url("s3://b/in").overlaps(&url("s3://b/in")));
        assert!(!url("s3://b/in").overlaps(&url("s3://b/input")));
        assert!(!url("s3://b/in").overlaps(&url("s3://c/in")));
        assert!(!url("s3://b/in").overlaps(&url("gs://b/in/x")));
    }
}
