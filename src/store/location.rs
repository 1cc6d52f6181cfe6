//! Where the user pointed imgpar (an output, a result file, an input): a path on this
//! machine or an object address, told apart once, where it is given. The one place that
//! asks "is this a bucket?".

use std::path::{Path, PathBuf};

use super::url::ObjectUrl;

/// A place, parsed: on this machine, or in a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file or folder on this machine (a leading `file://` taken off).
    Local(PathBuf),
    /// An object, or a prefix of objects, and the address as it was given (outputs are
    /// named by joining to it).
    Object(ObjectUrl, PathBuf),
}

impl Location {
    /// Reads `given`: an `s3://`, `gs://` or `az://` address is an object (an error when it
    /// names no bucket), anything else a local path.
    pub fn parse(given: &Path) -> Result<Location, String> {
        match ObjectUrl::from_path(given) {
            Some(url) => url.map(|url| Location::Object(url, given.to_path_buf())),
            None => Ok(Location::Local(super::local_path(given))),
        }
    }

    /// The local path, for a place on this machine.
    pub fn local(&self) -> Option<&Path> {
        match self {
            Location::Local(path) => Some(path),
            Location::Object(..) => None,
        }
    }

    /// The object address, for a place in a bucket.
    pub fn object(&self) -> Option<&ObjectUrl> {
        match self {
            Location::Local(_) => None,
            Location::Object(url, _) => Some(url),
        }
    }

    /// The local path, or the address as given: what output names are joined to.
    pub fn path(&self) -> &Path {
        match self {
            Location::Local(path) | Location::Object(_, path) => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_objects_and_the_rest_local_paths() {
        let object = Location::parse(Path::new("s3://bucket/out")).unwrap();
        assert_eq!(object.object().map(|u| u.key.as_str()), Some("out"));
        assert_eq!(object.path(), Path::new("s3://bucket/out"));
        let local = Location::parse(Path::new("file:///tmp/out")).unwrap();
        assert_eq!(local.local(), Some(Path::new("/tmp/out")));
        assert_eq!(
            Location::parse(Path::new("out/s3:")).unwrap().local(),
            Some(Path::new("out/s3:"))
        );
        assert!(Location::parse(Path::new("gs://")).is_err());
    }
}
