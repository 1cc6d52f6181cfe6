//! Atomic writes: the bytes go to a temporary file beside the destination, then a rename
//! puts them under the final name, so no partial file ever stands under that name.

use std::io::Write;
use std::path::Path;

/// Prefix of the temporary files imgpar writes beside its outputs; a leftover one (from a
/// killed machine) is never mistaken for an output.
pub const TEMP_PREFIX: &str = ".imgpar-";

/// Why a write failed: the message for the user, and whether the cause is one that every
/// later write would meet too (a full disk, a read-only or forbidden folder, a quota or a
/// file size limit), so that going on would only fail image after image.
#[derive(Debug)]
pub struct WriteFailure {
    pub message: String,
    pub output_unusable: bool,
}

impl WriteFailure {
    fn new(message: String, error: &std::io::Error) -> WriteFailure {
        WriteFailure {
            message,
            output_unusable: affects_every_write(error),
        }
    }
}

/// Whether `error` says the storage itself refuses writes, rather than this one file.
pub fn affects_every_write(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::StorageFull
            | ErrorKind::QuotaExceeded
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::FileTooLarge
            | ErrorKind::PermissionDenied
    )
}

/// Writes `bytes` to `path`, creating its parent folders. The file appears whole or not at
/// all. With `replace` false an existing file is left untouched and the write fails.
pub fn write_atomic(path: &Path, bytes: &[u8], replace: bool) -> Result<(), WriteFailure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        WriteFailure::new(format!("cannot create folder {}: {e}", dir.display()), &e)
    })?;
    let mut temp = builder()
        .tempfile_in(dir)
        .map_err(|e| WriteFailure::new(format!("cannot write in {}: {e}", dir.display()), &e))?;
    // Through the plain file, so the error reads as the system gives it, without the
    // temporary file's name.
    temp.as_file_mut()
        .write_all(bytes)
        .map_err(|e| WriteFailure::new(format!("cannot write {}: {e}", path.display()), &e))?;
    let persisted = if replace {
        temp.persist(path)
    } else {
        temp.persist_noclobber(path)
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            WriteFailure {
                message: format!(
                    "output {} already exists (use --overwrite or --skip-existing)",
                    path.display()
                ),
                output_unusable: false,
            }
        } else {
            WriteFailure::new(
                format!("cannot write {}: {}", path.display(), e.error),
                &e.error,
            )
        }
    })?;
    Ok(())
}

/// Removes the temporary files a killed run left under `output` (imgpar's own prefix and
/// suffix only) and returns how many it removed. Two runs must not write into the same
/// folder at once: the other run's files in flight would go too.
pub fn remove_leftover_temp_files(output: &Path) -> usize {
    walkdir::WalkDir::new(output)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && is_temp_name(entry.file_name()))
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Suffix of imgpar's temporary files.
const TEMP_SUFFIX: &str = ".tmp";

/// The settings of imgpar's temporary files: its prefix and suffix, and the usual
/// permissions of a new file.
pub fn builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Outputs get the usual permissions (0666 less the umask), not a temp file's 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
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
        assert!(err.message.contains("already exists"), "{err:?}");
        assert!(!err.output_unusable);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        write_atomic(&target, b"new", true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
