//! Atomic writes: the bytes go to a temporary file beside the destination, then a rename
//! puts them under the final name, so no partial file ever stands under that name.

use std::io::Write;
use std::path::Path;

/// Prefix of the temporary files imgpar writes beside its outputs; a leftover one (from a
/// killed machine) is never mistaken for an output.
pub const TEMP_PREFIX: &str = ".imgpar-";

/// Writes `bytes` to `path`, creating its parent folders. The file appears whole or not at
/// all. With `replace` false an existing file is left untouched and the write fails.
pub fn write_atomic(path: &Path, bytes: &[u8], replace: bool) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create folder {}: {e}", dir.display()))?;
    let mut temp = tempfile_in(dir)?;
    temp.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let persisted = if replace {
        temp.persist(path)
    } else {
        temp.persist_noclobber(path)
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "output {} already exists (use --overwrite or --skip-existing)",
                path.display()
            )
        } else {
            format!("cannot write {}: {}", path.display(), e.error)
        }
    })?;
    Ok(())
}

fn tempfile_in(dir: &Path) -> Result<tempfile::NamedTempFile, String> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Outputs get the usual permissions (0666 less the umask), not a temp file's 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/out.png");
        write_atomic(&target, b"hello", false).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hello");
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["out.png"]);
    }

    #[test]
    fn refuses_to_clobber_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.png");
        std::fs::write(&target, b"old").unwrap();
        let err = write_atomic(&target, b"new", false).unwrap_err();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        write_atomic(&target, b"new", true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
