//! The checks that keep a run from destroying what it reads: no output folder inside an
//! input folder, no output that is (or leads through links to) one of the run's inputs.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::job::{Input, Job};
use crate::store::{Location, ObjectUrl};

/// Visits every job of the whole plan, named, in plan order, with whether its input's
/// path may go through a link.
pub(crate) type EachJob<'a> = dyn FnMut(&mut dyn FnMut(&Job, bool)) -> Result<(), String> + 'a;

/// Refuses a plan in which an output path is (or leads through links to) one of the
/// run's own input files or URL lists: writing it would destroy the original. Only an
/// input that really lies inside the output folder can be replaced: one under an input
/// folder or named file inside it, or one whose path goes through a link into it
/// (`linked_inputs`: the plan has inputs whose path may go through a link). So the plan
/// is read again (twice: the inputs, then the outputs) only when the output folder exists
/// and some input may be inside it. `local_roots` are the input folders, files and URL
/// lists on this machine; `lists` the URL lists among them.
pub(crate) fn refuse_replacing_inputs<'a>(
    local_roots: impl Iterator<Item = &'a Path>,
    lists: impl Iterator<Item = &'a Path>,
    output: &Location,
    linked_inputs: bool,
    each_job: &mut EachJob<'_>,
) -> Result<(), String> {
    let Some(output) = output.local() else {
        return Ok(());
    };
    let Ok(output_abs) = output.canonicalize() else {
        return Ok(()); // an output folder yet to be made holds no input
    };
    let is_inside = |path: &Path| {
        path.canonicalize()
            .is_ok_and(|c| c.starts_with(&output_abs))
    };
    let inside: Vec<&Path> = local_roots.filter(|root| is_inside(root)).collect();
    if inside.is_empty() && !linked_inputs {
        return Ok(());
    }
    let mut ids: HashMap<FileId, PathBuf> = HashMap::new();
    for list in lists.filter(|list| is_inside(list)) {
        if let Some(id) = FileId::of(list) {
            ids.insert(id, list.to_path_buf());
        }
    }
    each_job(&mut |job, linked| {
        if let Input::File(path) = &job.input
            && (inside.iter().any(|root| path.starts_with(root)) || linked && is_inside(path))
            && let Some(id) = FileId::of(path)
        {
            ids.insert(id, path.clone());
        }
    })?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut replaced = None;
    each_job(&mut |job, _| {
        if replaced.is_none()
            && let Some(input) = FileId::of(&job.output).and_then(|id| ids.get(&id))
        {
            replaced = Some(format!(
                "output {} would replace the input {}; choose an output folder that holds \
                 no input",
                job.output.display(),
                input.display()
            ));
        }
    })?;
    replaced.map_or(Ok(()), Err)
}

/// What makes a file the same file whatever the path to it, links followed: its device
/// and inode (Unix), its volume's serial number and its file index (Windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileId(u64, u64);

impl FileId {
    /// The identity of the file at `path`, if something is there.
    #[cfg(unix)]
    pub(crate) fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileId(meta.dev(), meta.ino()))
    }

    /// The identity of the file at `path`, if something is there.
    #[cfg(windows)]
    pub(crate) fn of(path: &Path) -> Option<FileId> {
        let (volume, index) = crate::windows::file_identity(path).ok()?;
        Some(FileId(volume, index))
    }
}

/// Refuses an output folder that is the input folder or lies inside it: the walk would
/// find its own outputs.
pub(super) fn refuse_output_inside(input: &Path, output: &Path) -> Result<(), String> {
    let input_abs = input
        .canonicalize()
        .map_err(|e| format!("cannot read input {}: {e}", input.display()))?;
    let output_abs = resolve_existing_prefix(output);
    if output_abs.starts_with(&input_abs) {
        return Err(format!(
            "output folder {} is inside the input folder {}; choose an output folder outside it",
            output.display(),
            input.display()
        ));
    }
    Ok(())
}

/// The absolute form of `path`, with links resolved as far as the path exists.
pub(crate) fn resolve_existing_prefix(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    // What does not exist yet cannot be a link, so `..` there can be folded lexically.
    for name in rest.into_iter().rev() {
        match Path::new(&name).components().next() {
            Some(Component::ParentDir) => {
                resolved.pop();
            }
            Some(Component::CurDir) | None => {}
            Some(_) => resolved.push(name),
        }
    }
    resolved
}

/// Where a file or folder is, compared as the same place whatever the path to it.
pub(crate) enum Place {
    /// A local path, resolved as far as it exists.
    Local(PathBuf),
    /// An object, or a prefix of objects.
    Object(ObjectUrl),
}

impl Place {
    /// Where `path` (a local path or an object address) is.
    pub(crate) fn of(path: &Path) -> Result<Place, String> {
        Ok(Place::at(&Location::parse(path)?))
    }

    /// Where `location` is, a local path resolved as far as it exists.
    pub(crate) fn at(location: &Location) -> Place {
        match location {
            Location::Object(url, _) => Place::Object(url.clone()),
            Location::Local(path) => Place::Local(resolve_existing_prefix(path)),
        }
    }

    /// Whether `self` is `other` or lies inside it.
    pub(crate) fn within(&self, other: &Place) -> bool {
        match (self, other) {
            (Place::Local(a), Place::Local(b)) => a.starts_with(b),
            (Place::Object(a), Place::Object(b)) => {
                let outer = b.key.trim_end_matches('/');
                a.scheme == b.scheme
                    && a.bucket == b.bucket
                    && (outer.is_empty()
                        || a.key == outer
                        || a.key.starts_with(&format!("{outer}/")))
            }
            _ => false,
        }
    }

    /// Whether `self` and `other` are the same file or object: the same address, or the
    /// same file (the same resolved path, or the same device and inode).
    pub(crate) fn same(&self, other: &Place) -> bool {
        match (self, other) {
            (Place::Local(a), Place::Local(b)) => {
                a == b || FileId::of(a).is_some_and(|id| FileId::of(b) == Some(id))
            }
            (Place::Object(a), Place::Object(b)) => a == b,
            _ => false,
        }
    }
}
