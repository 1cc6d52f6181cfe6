//! The Unix way: `openat` with `O_NOFOLLOW`, `mkdirat`, `renameat2(RENAME_NOREPLACE)`
//! (Linux; `linkat` then `unlinkat` elsewhere and on filesystems without it) and
//! `unlinkat`, all on the folder's descriptor. Written by hand on `libc` because no
//! well-kept crate in the tree offers `mkdirat`, `openat` and `renameat2` together; it is
//! the few calls below and nothing more.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::EnterError;

/// An open folder.
pub struct Dir(OwnedFd);

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

impl Dir {
    /// Opens the folder at `path`, following links in `path` itself (it is the user's
    /// choice of where to write).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let path = c_name(path.as_os_str())?;
        // SAFETY: `path` is a valid C string; the returned descriptor is owned below.
        let fd = check(unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: `fd` was just opened and nothing else owns it.
        Ok(Dir(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The folder `name` inside this one, created if missing; refused when `name` is a
    /// link or not a folder.
    pub fn enter(&self, name: &OsStr) -> Result<Dir, EnterError> {
        let c = c_name(name).map_err(EnterError::Io)?;
        // SAFETY: valid descriptor and C string.
        let made = unsafe { libc::mkdirat(self.0.as_raw_fd(), c.as_ptr(), 0o777) };
        if made < 0 {
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::AlreadyExists {
                return Err(EnterError::Io(error));
            }
        }
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: valid descriptor and C string; the result is owned below.
        let fd = unsafe { libc::openat(self.0.as_raw_fd(), c.as_ptr(), flags) };
        if fd < 0 {
            let error = io::Error::last_os_error();
            return Err(match error.raw_os_error() {
                Some(libc::ELOOP | libc::ENOTDIR) if self.is_link(&c) => EnterError::Link,
                Some(libc::ELOOP | libc::ENOTDIR) => EnterError::NotAFolder,
                _ => EnterError::Io(error),
            });
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        Ok(Dir(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Whether `name` here is a symbolic link (not followed).
    fn is_link(&self, name: &CString) -> bool {
        // SAFETY: `stat` is plain data that fstatat fills in; valid descriptor and C string.
        unsafe {
            let mut stat: libc::stat = std::mem::zeroed();
            libc::fstatat(
                self.0.as_raw_fd(),
                name.as_ptr(),
                &mut stat,
                libc::AT_SYMLINK_NOFOLLOW,
            ) == 0
                && stat.st_mode & libc::S_IFMT == libc::S_IFLNK
        }
    }

    /// Creates a new file `name` here, failing if anything (a link included) already has
    /// the name. Permissions are the usual ones for a new file (0666 less the umask).
    pub fn create_new(&self, name: &OsStr) -> io::Result<File> {
        let c = c_name(name)?;
        let flags =
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: valid descriptor and C string; the result is owned below.
        let fd = check(unsafe { libc::openat(self.0.as_raw_fd(), c.as_ptr(), flags, 0o666) })?;
        // SAFETY: `fd` was just opened and nothing else owns it.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Renames `from` to `to`, both in this folder. With `replace` false an existing `to`
    /// (a link included) is left alone and the rename fails with `AlreadyExists`.
    pub fn rename(&self, from_name: &OsStr, to: &OsStr, replace: bool) -> io::Result<()> {
        let (from, to) = (c_name(from_name)?, c_name(to)?);
        let fd = self.0.as_raw_fd();
        if replace {
            // SAFETY: valid descriptor and C strings.
            check(unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) })?;
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            // SAFETY: valid descriptor and C strings.
            let renamed = unsafe {
                libc::renameat2(fd, from.as_ptr(), fd, to.as_ptr(), libc::RENAME_NOREPLACE)
            };
            match check(renamed) {
                Ok(_) => return Ok(()),
                // Filesystems without RENAME_NOREPLACE: fall back to link-then-unlink.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
                Err(e) => return Err(e),
            }
        }
        // SAFETY: valid descriptor and C strings. `linkat` never replaces `to`.
        check(unsafe { libc::linkat(fd, from.as_ptr(), fd, to.as_ptr(), 0) })?;
        self.remove(from_name);
        Ok(())
    }

    /// Removes the file `name` here, if it is there. A failure only leaves a temporary
    /// file behind, which the next run removes.
    pub fn remove(&self, name: &OsStr) {
        if let Ok(c) = c_name(name) {
            // SAFETY: valid descriptor and C string.
            unsafe {
                libc::unlinkat(self.0.as_raw_fd(), c.as_ptr(), 0);
            }
        }
    }
}
