//! The Windows way, on folder handles: `NtCreateFile` with the folder as the root of the
//! name (Win32 has no `openat`), reparse points opened as themselves and refused, renames
//! through `NtSetInformationFile` with the folder as the root of the new name
//! (`ReplaceIfExists` false: create-only, in one step, as `RENAME_NOREPLACE`; the Win32
//! `SetFileInformationByHandle` would take the new name as a path from the working
//! folder), and removals by delete-on-close disposition.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::Path;

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Storage::FileSystem::{
    FILE_CREATE, FILE_DIRECTORY_FILE, FILE_NON_DIRECTORY_FILE, FILE_OPEN, FILE_OPEN_IF,
    FILE_OPEN_REPARSE_POINT, FILE_RENAME_INFORMATION, FILE_SYNCHRONOUS_IO_NONALERT,
    FileRenameInformation, NtCreateFile, NtSetInformationFile,
};
use windows_sys::Win32::Foundation::{
    ERROR_DIRECTORY, HANDLE, OBJ_CASE_INSENSITIVE, RtlNtStatusToDosError, UNICODE_STRING,
};
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, DELETE, FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY,
    FILE_ATTRIBUTE_NORMAL, FILE_ATTRIBUTE_REPARSE_POINT, FILE_DISPOSITION_INFO,
    FILE_FLAG_BACKUP_SEMANTICS, FILE_GENERIC_WRITE, FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES,
    FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_TRAVERSE, FileDispositionInfo,
    GetFileInformationByHandle, SetFileInformationByHandle,
};
use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;

use super::EnterError;

/// Rights a held folder needs: list and enter it, add files and folders, read attributes.
const FOLDER_ACCESS: u32 = FILE_LIST_DIRECTORY
    | FILE_TRAVERSE
    | FILE_ADD_FILE
    | FILE_ADD_SUBDIRECTORY
    | FILE_READ_ATTRIBUTES
    | windows_sys::Win32::Storage::FileSystem::SYNCHRONIZE;

/// An open folder.
pub struct Dir(OwnedHandle);

/// `name` as UTF-16, as a name relative to a folder handle takes it.
fn wide(name: &OsStr) -> io::Result<Vec<u16>> {
    let units: Vec<u16> = name.encode_wide().collect();
    // A separator would reach past this folder; an empty name is this folder itself.
    if units.is_empty()
        || units
            .iter()
            .any(|&u| u == u16::from(b'\\') || u == u16::from(b'/'))
    {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    Ok(units)
}

/// An NTSTATUS as a result: its Win32 error code when it is an error.
fn nt_result(status: i32) -> io::Result<()> {
    if status < 0 {
        // SAFETY: converts a status code; no memory is touched.
        let code = unsafe { RtlNtStatusToDosError(status) };
        return Err(io::Error::from_raw_os_error(code as i32));
    }
    Ok(())
}

/// Whether the open `file` is a reparse point (a symbolic link, a junction).
fn is_reparse_point(file: &impl AsRawHandle) -> io::Result<bool> {
    // SAFETY: a plain C struct the call fills in; all-zero is a valid value.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: an open handle and a writable struct.
    if unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0)
}

impl Dir {
    /// Opens the folder at `path`, following links in `path` itself (it is the user's
    /// choice of where to write).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let file = OpenOptions::new()
            .access_mode(FOLDER_ACCESS)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(path)?;
        Ok(Dir(OwnedHandle::from(file)))
    }

    /// Opens or creates `name` relative to this folder with `NtCreateFile`: `access`
    /// rights, `disposition` (open, create, open or create) and `options`; a reparse
    /// point under the name is opened as itself, never followed.
    fn nt_open(
        &self,
        name: &OsStr,
        access: u32,
        disposition: u32,
        options: u32,
    ) -> io::Result<OwnedHandle> {
        let units = wide(name)?;
        let bytes = u16::try_from(units.len() * 2).map_err(|_| io::ErrorKind::InvalidFilename)?;
        let object_name = UNICODE_STRING {
            Length: bytes,
            MaximumLength: bytes,
            Buffer: units.as_ptr().cast_mut(),
        };
        let attributes = OBJECT_ATTRIBUTES {
            Length: std::mem::size_of::<OBJECT_ATTRIBUTES>() as u32,
            RootDirectory: self.0.as_raw_handle() as HANDLE,
            ObjectName: &object_name,
            Attributes: OBJ_CASE_INSENSITIVE,
            SecurityDescriptor: std::ptr::null(),
            SecurityQualityOfService: std::ptr::null(),
        };
        // SAFETY: a plain C struct the call fills in; all-zero is a valid value.
        let mut status_block: IO_STATUS_BLOCK = unsafe { std::mem::zeroed() };
        let mut handle: HANDLE = std::ptr::null_mut();
        // SAFETY: every pointer is to a live local; `units` outlives the call.
        let status = unsafe {
            NtCreateFile(
                &mut handle,
                access | windows_sys::Win32::Storage::FileSystem::SYNCHRONIZE,
                &attributes,
                &mut status_block,
                std::ptr::null(),
                FILE_ATTRIBUTE_NORMAL,
                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                disposition,
                options | FILE_OPEN_REPARSE_POINT | FILE_SYNCHRONOUS_IO_NONALERT,
                std::ptr::null(),
                0,
            )
        };
        nt_result(status)?;
        // SAFETY: the call succeeded and handed over a handle nothing else owns.
        Ok(unsafe { OwnedHandle::from_raw_handle(handle as _) })
    }

    /// The folder `name` inside this one, created if missing; refused when `name` is a
    /// link (a reparse point) or not a folder.
    pub fn enter(&self, name: &OsStr) -> Result<Dir, EnterError> {
        let opened = self.nt_open(name, FOLDER_ACCESS, FILE_OPEN_IF, FILE_DIRECTORY_FILE);
        let handle = match opened {
            Ok(handle) => handle,
            Err(e) if e.raw_os_error() == Some(ERROR_DIRECTORY as i32) => {
                // A file stands there; a link to a file is a link.
                let link = self
                    .nt_open(name, FILE_READ_ATTRIBUTES, FILE_OPEN, 0)
                    .and_then(|h| is_reparse_point(&h))
                    .unwrap_or(false);
                return Err(if link {
                    EnterError::Link
                } else {
                    EnterError::NotAFolder
                });
            }
            Err(e) => return Err(EnterError::Io(e)),
        };
        match is_reparse_point(&handle) {
            Ok(false) => Ok(Dir(handle)),
            Ok(true) => Err(EnterError::Link),
            Err(e) => Err(EnterError::Io(e)),
        }
    }

    /// Creates a new file `name` here, failing if anything (a link included) already has
    /// the name.
    pub fn create_new(&self, name: &OsStr) -> io::Result<File> {
        let handle = self.nt_open(
            name,
            FILE_GENERIC_WRITE | DELETE,
            FILE_CREATE,
            FILE_NON_DIRECTORY_FILE,
        )?;
        Ok(File::from(handle))
    }

    /// Renames `from` to `to`, both in this folder. With `replace` false an existing `to`
    /// (a link included) is left alone and the rename fails with `AlreadyExists`.
    pub fn rename(&self, from: &OsStr, to: &OsStr, replace: bool) -> io::Result<()> {
        let file = self.nt_open(from, DELETE, FILE_OPEN, FILE_NON_DIRECTORY_FILE)?;
        let target = wide(to)?;
        // FILE_RENAME_INFORMATION ends in the new name, which runs past the struct.
        let header = std::mem::offset_of!(FILE_RENAME_INFORMATION, FileName);
        let size = header + target.len() * 2;
        let mut buffer = vec![0u64; size.div_ceil(8).max(1) + 1];
        let info = buffer.as_mut_ptr().cast::<FILE_RENAME_INFORMATION>();
        // SAFETY: `buffer` is zeroed, aligned for the struct and long enough for it and
        // the name after it.
        unsafe {
            (*info).Anonymous.ReplaceIfExists = replace;
            (*info).RootDirectory = self.0.as_raw_handle() as HANDLE;
            (*info).FileNameLength = (target.len() * 2) as u32;
            let name = std::ptr::addr_of_mut!((*info).FileName).cast::<u16>();
            std::ptr::copy_nonoverlapping(target.as_ptr(), name, target.len());
        }
        // SAFETY: a plain C struct the call fills in; all-zero is a valid value.
        let mut status_block: IO_STATUS_BLOCK = unsafe { std::mem::zeroed() };
        // SAFETY: an open handle with DELETE access and the struct built above.
        let status = unsafe {
            NtSetInformationFile(
                file.as_raw_handle() as HANDLE,
                &mut status_block,
                info.cast(),
                size as u32,
                FileRenameInformation,
            )
        };
        nt_result(status)
    }

    /// Removes the file `name` here, if it is there. A failure only leaves a temporary
    /// file behind, which the next run removes.
    pub fn remove(&self, name: &OsStr) {
        let Ok(file) = self.nt_open(name, DELETE, FILE_OPEN, FILE_NON_DIRECTORY_FILE) else {
            return;
        };
        let info = FILE_DISPOSITION_INFO { DeleteFile: true };
        // SAFETY: an open handle with DELETE access and a live struct.
        unsafe {
            SetFileInformationByHandle(
                file.as_raw_handle() as HANDLE,
                FileDispositionInfo,
                std::ptr::from_ref(&info).cast(),
                std::mem::size_of::<FILE_DISPOSITION_INFO>() as u32,
            );
        }
    }
}
