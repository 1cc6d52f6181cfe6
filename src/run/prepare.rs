//! The output, made ready before any image: a folder created and proved writable, or a
//! bucket prefix listed and probed.

use crate::config::{RunConfig, Spec};
use crate::output;
use crate::store::{self, Location, ObjectUrl};

/// Creates the output folder and proves it writable before any image is touched (for a
/// bucket prefix: lists it, and puts a probe object twice, create-only, to prove that the
/// credentials can write and that the store keeps create-only writes create-only), so an
/// unusable output stops the run once instead of failing every image. Temporary files
/// killed runs left there are removed once no live run can own them (see
/// [`output::STALE_TEMP_AGE`]): other runs may be writing into the same output. Returns
/// what is worth a warning.
pub(crate) fn prepare_output(
    output: &Location,
    config: &RunConfig,
    spec: &Spec,
) -> Result<Vec<String>, String> {
    let output = match output {
        Location::Local(path) => path,
        Location::Object(root, _) => return prepare_prefix(root, config, spec),
    };
    std::fs::create_dir_all(output)
        .map_err(|e| format!("cannot create output folder {}: {e}", output.display()))?;
    if let Err(e) = output::check_folder_writable(output) {
        // A finished output checked again with --skip-existing writes nothing: a folder
        // that takes no files is an error only once an image needs writing (the first
        // such write then stops the run, as a full disk does).
        if spec.existing != crate::config::ExistingOutput::Skip {
            return Err(format!(
                "output folder {} is not writable: {e}",
                output.display()
            ));
        }
    }
    output::remove_stale_temp_files(output);
    Ok(Vec::new())
}

/// [`prepare_output`] for a bucket prefix. Objects are written whole in one request: no
/// folder, no temporary files. The prefix is listed once (what is there already is known
/// from then on), which also proves the bucket reachable.
fn prepare_prefix(
    root: &ObjectUrl,
    config: &RunConfig,
    spec: &Spec,
) -> Result<Vec<String>, String> {
    let probe = root.join(".imgpar-probe");
    store::output_exists_blocking(root, &probe, &spec.fetch)
        .map_err(|e| format!("output {root} cannot be used: {e}"))?;
    let (create_only, leftover) = store::probe_writes(root, &spec.fetch)
        .map_err(|e| format!("output {root} cannot be used: {e}"))?;
    let mut warnings: Vec<String> = leftover.into_iter().collect();
    let needs_create_only = spec.existing != crate::config::ExistingOutput::Overwrite;
    if create_only == store::CreateOnly::Ignored && needs_create_only {
        let ignored = format!(
            "the store of {root} ignores create-only writes (If-None-Match): an object \
             written by a racing task can be replaced, and both tasks report it converted"
        );
        match config.unconditional_store {
            crate::config::UnconditionalStore::Refuse => {
                return Err(format!(
                    "{ignored}. Use a store that honours conditional writes, or go on with \
                     --unconditional-store listing (existing outputs are then those the \
                     listing at the start found)"
                ));
            }
            crate::config::UnconditionalStore::Listing => warnings.push(format!(
                "{ignored}; going on as --unconditional-store listing asks: existing \
                 outputs are those the listing at the start found"
            )),
        }
    }
    Ok(warnings)
}

/// For a dry run: whether the output folder could be created and written, found without
/// creating or writing anything (the nearest folder of it that exists takes new entries).
/// A bucket prefix is not probed.
pub(crate) fn check_output_could_be_made(output: &Location) -> Result<(), String> {
    let Some(output) = output.local() else {
        return Ok(());
    };
    let mut existing = output;
    while existing.symlink_metadata().is_err() {
        match existing.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => existing = parent,
            _ => {
                existing = std::path::Path::new(".");
                break;
            }
        }
    }
    if !existing.is_dir() {
        return Err(format!(
            "cannot create output folder {}: {} is not a folder",
            output.display(),
            existing.display()
        ));
    }
    if let Err(e) = may_add_entries(existing) {
        return Err(format!(
            "output folder {} cannot be written: {}: {e}",
            output.display(),
            existing.display(),
        ));
    }
    Ok(())
}

/// Whether the folder `folder` takes new entries, asked without making one: Unix's
/// `access(W_OK | X_OK)`; on Windows, a folder marked read-only is refused (its access
/// lists are the write's to find out).
fn may_add_entries(folder: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(folder.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        // SAFETY: `path` is a valid C string; access reads it and nothing else.
        if unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(windows)]
    {
        if std::fs::metadata(folder)?.permissions().readonly() {
            return Err(std::io::ErrorKind::PermissionDenied.into());
        }
        Ok(())
    }
}
