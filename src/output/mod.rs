//! Atomic writes: the bytes go to a temporary file beside the destination, then a rename
//! puts them under the final name, so no partial file ever stands under that name. Writes
//! stay beneath the output folder: folders below it are entered by descriptor without
//! following links (Unix `openat`; imgpar builds on Unix only).

mod dir;

use std::io::Write;

use std::path::Path;

use crate::failure::ErrorKind;

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
    /// `OutputExists` when the name was taken, else `Write`.
    pub kind: ErrorKind,
}

impl WriteFailure {
    fn new(message: String, error: &std::io::Error) -> WriteFailure {
        WriteFailure {
            message,
            output_unusable: affects_every_write(error),
            kind: ErrorKind::Write,
        }
    }

    /// A write refused for this file alone.
    fn refused(message: String) -> WriteFailure {
        WriteFailure {
            message,
            output_unusable: false,
            kind: ErrorKind::Write,
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
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub fn write_atomic(path: &Path, bytes: &[u8], replace: bool) -> Result<(), WriteFailure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        WriteFailure::new(format!("cannot create folder {}: {e}", dir.display()), &e)
    })?;
    let name = path.file_name().map(Path::new).unwrap_or(path);
    write_beneath(dir, name, bytes, replace, &|| true)
}

/// Writes `bytes` to `root/rel`, creating the folders of `rel` under `root`. The file
/// appears whole or not at all, and only inside `root`: a link inside `root` is never
/// followed (the write fails and names it), nor is a `..` in `rel`. With `replace` false
/// an existing file is left untouched and the write fails. `may_commit` is asked once the
/// bytes are written, just before the file takes its name: when it says no, the temporary
/// file is removed and nothing appears.
pub fn write_beneath(
    root: &Path,
    rel: &Path,
    bytes: &[u8],
    replace: bool,
    may_commit: &dyn Fn() -> bool,
) -> Result<(), WriteFailure> {
    let path = root.join(rel);
    let mut names: Vec<&std::ffi::OsStr> = Vec::new();
    for component in rel.components() {
        match component {
            std::path::Component::Normal(name) => names.push(name),
            std::path::Component::CurDir => {}
            _ => {
                return Err(WriteFailure::refused(format!(
                    "output name {} leaves the output folder",
                    rel.display()
                )));
            }
        }
    }
    let Some(file_name) = names.pop() else {
        return Err(WriteFailure::refused(format!(
            "output {} has no file name",
            path.display()
        )));
    };
    let mut folder = dir::Dir::open(root).map_err(|e| {
        WriteFailure::new(format!("cannot open folder {}: {e}", root.display()), &e)
    })?;
    let mut reached = root.to_path_buf();
    for name in names {
        reached.push(name);
        folder = folder.enter(name).map_err(|e| match e {
            dir::EnterError::Link => WriteFailure::refused(format!(
                "{} is a link; imgpar never writes through a link inside the output \
                     folder (it could lead outside it)",
                reached.display()
            )),
            dir::EnterError::NotAFolder => WriteFailure::refused(format!(
                "cannot create folder {}: a file of that name is in the way",
                reached.display()
            )),
            dir::EnterError::Io(e) => WriteFailure::new(
                format!("cannot create folder {}: {e}", reached.display()),
                &e,
            ),
        })?;
    }
    let (mut file, temp_name) = create_temp(&folder).map_err(|e| {
        WriteFailure::new(format!("cannot write in {}: {e}", reached.display()), &e)
    })?;
    let written = file.write_all(bytes);
    drop(file);
    let committed = match written {
        Err(e) => Err(WriteFailure::new(
            format!("cannot write {}: {e}", path.display()),
            &e,
        )),
        Ok(()) if !may_commit() => Err(WriteFailure::refused(
            "abandoned before its output was written".into(),
        )),
        Ok(()) => folder
            .rename(&temp_name, file_name, replace)
            .map_err(|e| rename_failure(&path, &e)),
    };
    if committed.is_err() {
        folder.remove(&temp_name);
    }
    committed
}

/// The failure of the final rename onto `path`.
fn rename_failure(path: &Path, error: &std::io::Error) -> WriteFailure {
    if error.kind() == std::io::ErrorKind::AlreadyExists {
        WriteFailure {
            kind: ErrorKind::OutputExists,
            ..WriteFailure::refused(format!(
                "output {} already exists (use --overwrite or --skip-existing)",
                path.display()
            ))
        }
    } else {
        WriteFailure::new(format!("cannot write {}: {error}", path.display()), error)
    }
}

/// A new temporary file in `folder` with a fresh name (`.imgpar-XXXXXXXX.tmp`).
fn create_temp(folder: &dir::Dir) -> std::io::Result<(std::fs::File, std::ffi::OsString)> {
    loop {
        let name = std::ffi::OsString::from(format!(
            "{TEMP_PREFIX}{:016x}{TEMP_SUFFIX}",
            fastrand::u64(..)
        ));
        match folder.create_new(&name) {
            Ok(file) => return Ok((file, name)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Proves that a file can be written at `path` (its folder exists and takes new files, and
/// `path` is not a folder) without touching `path` itself, so that a run finds out before
/// it starts, not after. The error names the path and says what is wrong.
pub fn check_creatable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("{}: it is a folder", path.display()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let folder = dir::Dir::open(dir).map_err(fail)?;
    let (file, name) = create_temp(&folder).map_err(fail)?;
    drop(file);
    folder.remove(&name);
    Ok(())
}

/// How long a temporary file of imgpar's must have gone untouched before a run starting
/// in the same output takes it for a killed writer's leftover and removes it. A live
/// write holds its temporary file for milliseconds (the bytes are encoded before the file
/// is created, then written and renamed at once), and other runs may be writing into the
/// same output at any time (the tasks of an array, queue workers, a second run started
/// by hand): ten minutes is far past any live write and short enough that leftovers go
/// on the next day's run. One rule for every run.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// Proves that the folder `folder` takes new files, by creating one of imgpar's temporary
/// files there and removing it.
pub fn check_folder_writable(folder: &Path) -> std::io::Result<()> {
    let folder = dir::Dir::open(folder)?;
    let (file, name) = create_temp(&folder)?;
    drop(file);
    folder.remove(&name);
    Ok(())
}

/// Removes the temporary files killed runs left under `output` (imgpar's own prefix and
/// suffix only, untouched for [`STALE_TEMP_AGE`]) and returns how many it removed. A file
/// a live run is writing is never that old, so runs sharing an output never break each
/// other.
pub fn remove_stale_temp_files(output: &Path) -> usize {
    let stale = |entry: &walkdir::DirEntry| {
        entry
            .metadata()
            .ok()
            .and_then(|meta| meta.modified().ok())
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|elapsed| elapsed >= STALE_TEMP_AGE)
    };
    walkdir::WalkDir::new(output)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && is_temp_name(entry.file_name()))
        .filter(stale)
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
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
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

/// Opens the file at `path` for reading, refusing a link there (its last name; the
/// folders before it are followed): Unix's `O_NOFOLLOW`, Windows' reparse point opened
/// as itself and refused.
pub fn open_not_following(path: &Path) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    }
    #[cfg(windows)]
    {
        crate::windows::open_not_following(path)
    }
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
