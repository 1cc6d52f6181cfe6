//! The inputs of a plan, checked once and then read as often as the planning needs: each
//! pass yields every item (job, problem, file passed over) one at a time, in plan order,
//! without holding the plan. Folders are walked, URL lists read line by line (stdin is
//! kept in a temporary file so that it can be read again), bucket prefixes listed.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::guard::{FileId, refuse_output_inside};
use super::item::{Item, ListLine};
use super::kinds::{InputKind, input_kind, is_link_to_nothing, kind_by_extension};
use super::{job_for, key_of, objects, urls};
use crate::config::FormatChoice;
use crate::fetch::FetchPolicy;
use crate::job::Input;
use crate::store::{Location, ObjectUrl};

enum Source {
    Prefix(ObjectUrl),
    Folder(PathBuf),
    List(PathBuf),
    Named {
        path: PathBuf,
        name: PathBuf,
        kind: InputKind,
    },
}

/// The inputs of a run, checked: each exists and can be read, no output folder lies
/// inside an input folder, no output prefix overlaps an input prefix.
pub(super) struct Inputs {
    sources: Vec<Source>,
    /// `--root`, made absolute: files and folders named below it keep their path below it.
    root: Option<PathBuf>,
    output: Location,
    format: FormatChoice,
    policy: FetchPolicy,
    /// The URL list read from stdin, kept for the later passes.
    _stdin: Option<tempfile::NamedTempFile>,
    /// Inputs given more than once (or a file given beside a folder that holds it), each
    /// read once: what to tell the user.
    pub notes: Vec<String>,
}

/// Drops the files named directly that a folder given too holds: the walk reads them, under
/// their path in the folder (one conversion, one name).
fn drop_files_inside_folders(sources: &mut Vec<Source>, notes: &mut Vec<String>) {
    let folders: Vec<(PathBuf, PathBuf)> = sources
        .iter()
        .filter_map(|s| match s {
            Source::Folder(path) => Some((path.clone(), path.canonicalize().ok()?)),
            _ => None,
        })
        .collect();
    if folders.is_empty() {
        return;
    }
    sources.retain(|source| {
        let Source::Named { path, .. } = source else {
            return true;
        };
        let Ok(real) = path.canonicalize() else {
            return true;
        };
        match folders.iter().find(|(_, folder)| real.starts_with(folder)) {
            Some((folder, _)) => {
                notes.push(format!(
                    "{} is inside the input folder {} given too: converted once, from the \
                     folder",
                    path.display(),
                    folder.display()
                ));
                false
            }
            None => true,
        }
    });
}

/// Refuses `imgpar photo.jpg thumb.jpg` when `thumb.jpg` does not exist: imgpar writes
/// into a folder, and a folder named like an image is not what was meant.
fn refuse_a_file_name_as_output(sources: &[Source], output: &Location) -> Result<(), String> {
    let ([Source::Named { path, .. }], Some(output)) = (sources, output.local()) else {
        return Ok(());
    };
    if output.exists() || kind_by_extension(output).is_none() {
        return Ok(());
    }
    let folder = output.with_extension("");
    Err(format!(
        "OUTPUT {} is named like an image, but imgpar writes its outputs into a folder (it \
         would make a folder of that name); give a folder, such as `imgpar {} {}`, and the \
         thumbnail is written inside it",
        output.display(),
        path.display(),
        folder.display()
    ))
}

impl Inputs {
    /// Checks `inputs` and `url_lists` (see [`super::Planner::new`]).
    pub fn resolve(
        inputs: &[PathBuf],
        url_lists: &[PathBuf],
        root: Option<&Path>,
        output: &Location,
        format: FormatChoice,
        policy: &FetchPolicy,
    ) -> Result<Inputs, String> {
        let root = root
            .map(|root| {
                std::path::absolute(root)
                    .map_err(|e| format!("cannot resolve --root {}: {e}", root.display()))
            })
            .transpose()?;
        let output_object = output.object();
        let mut sources = Vec::new();
        let mut stdin = None;
        let mut notes = Vec::new();
        let mut seen: Vec<(FileId, &Path)> = Vec::new();
        for input in inputs {
            if let Location::Object(prefix, _) = Location::parse(input)? {
                if let Some(out) = output_object.filter(|out| out.overlaps(&prefix)) {
                    return Err(format!(
                        "output {out} overlaps input {prefix}: a re-run would take its own \
                         outputs as inputs; choose a prefix outside it"
                    ));
                }
                sources.push(Source::Prefix(prefix));
                continue;
            }
            if input.as_os_str() == "-" {
                let spooled = spool_stdin()?;
                sources.push(Source::List(spooled.path().to_path_buf()));
                stdin = Some(spooled);
                continue;
            }
            let meta = std::fs::metadata(input)
                .map_err(|e| format!("cannot read input {}: {e}", input.display()))?;
            if let Some(id) = FileId::of(input) {
                if let Some((_, first)) = seen.iter().find(|(seen_id, _)| *seen_id == id) {
                    notes.push(format!(
                        "{} is given twice (as {}): converted once",
                        input.display(),
                        first.display()
                    ));
                    continue;
                }
                seen.push((id, input));
            }
            if meta.is_dir() {
                if let Some(output) = output.local() {
                    refuse_output_inside(input, output)?;
                }
                below_root(root.as_deref(), input)?;
                sources.push(Source::Folder(input.clone()));
            } else if meta.is_file()
                && kind_by_extension(input).is_none()
                && urls::looks_like_url_list(input)
            {
                check_list(input)?;
                sources.push(Source::List(input.clone()));
            } else {
                let name = match below_root(root.as_deref(), input)? {
                    Some(rel) if rel.as_os_str().is_empty() => {
                        return Err(format!(
                            "--root {} is the file itself: give the folder it is in",
                            input.display()
                        ));
                    }
                    Some(rel) => rel,
                    None => input.file_name().map(PathBuf::from).unwrap_or_default(),
                };
                let kind = if meta.is_file() {
                    input_kind(input, true).ok()
                } else {
                    kind_by_extension(input)
                };
                sources.push(Source::Named {
                    path: input.clone(),
                    name,
                    kind: kind.unwrap_or(InputKind::OTHER),
                });
            }
        }
        for list in url_lists {
            check_list(list)?;
            sources.push(Source::List(list.clone()));
        }
        drop_files_inside_folders(&mut sources, &mut notes);
        refuse_a_file_name_as_output(&sources, output)?;
        Ok(Inputs {
            sources,
            root,
            output: output.clone(),
            format,
            policy: policy.clone(),
            _stdin: stdin,
            notes,
        })
    }

    /// Whether any input is a URL list.
    pub fn has_lists(&self) -> bool {
        self.sources.iter().any(|s| matches!(s, Source::List(_)))
    }

    /// The local files and folders read as inputs: named files, URL lists, walked folders.
    pub fn local_roots(&self) -> impl Iterator<Item = &Path> {
        self.sources.iter().filter_map(|s| match s {
            Source::Folder(p) | Source::List(p) | Source::Named { path: p, .. } => {
                Some(p.as_path())
            }
            Source::Prefix(_) => None,
        })
    }

    /// The URL lists' files.
    pub fn lists(&self) -> impl Iterator<Item = &Path> {
        self.sources.iter().filter_map(|s| match s {
            Source::List(p) => Some(p.as_path()),
            _ => None,
        })
    }

    /// One pass over the plan: `f` gets every item in plan order. With `lists_only`, only
    /// the URL lists are read (their naming needs a pass of its own). Fails when an input
    /// that could be read before cannot be now.
    pub fn visit(&self, lists_only: bool, f: &mut dyn FnMut(Item)) -> Result<(), String> {
        let mut list_number = 0u32;
        for source in &self.sources {
            match source {
                Source::List(path) => {
                    self.visit_list(path, list_number, f)?;
                    list_number += 1;
                }
                _ if lists_only => {}
                Source::Prefix(prefix) => {
                    objects::visit_prefix(prefix, self.output.path(), self.format, &self.policy, f)?
                }
                Source::Folder(path) => self.visit_folder(path, f),
                Source::Named { path, name, kind } => f(Item::Job {
                    job: job_for(path, name, *kind, self.output.path(), self.format),
                    list: None,
                    linked: true,
                }),
            }
        }
        Ok(())
    }

    /// One job per URL of the list, named after the URL (the plan-wide naming numbers
    /// the names several lines share).
    fn visit_list(&self, path: &Path, list: u32, f: &mut dyn FnMut(Item)) -> Result<(), String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read the URL list {}: {e}", path.display()))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut bytes = Vec::new();
        let mut line = 0usize;
        loop {
            bytes.clear();
            let read = reader
                .read_until(b'\n', &mut bytes)
                .map_err(|e| format!("cannot read the URL list {}: {e}", path.display()))?;
            if read == 0 {
                return Ok(());
            }
            line += 1;
            let text = String::from_utf8_lossy(&bytes);
            let Some(url) = urls::listed_url(&text) else {
                continue;
            };
            let name = PathBuf::from(urls::name_for_url(url));
            let kind = kind_by_extension(&name).unwrap_or(InputKind::OTHER);
            let mut job = job_for(&name, &name, kind, self.output.path(), self.format);
            let url = url.to_string();
            job.key = url.as_bytes().to_vec();
            job.input = Input::Url(url);
            f(Item::Job {
                job,
                list: Some(ListLine { list, line }),
                linked: false,
            });
        }
    }

    fn visit_folder(&self, input: &Path, f: &mut dyn FnMut(Item)) {
        // Below --root, the folder's own path below it comes first (checked at the start).
        let above = below_root(self.root.as_deref(), input)
            .ok()
            .flatten()
            .unwrap_or_default();
        // Links are followed, so a link inside the input could lead into the output folder:
        // the walk never enters it, or each run would take the last run's outputs as inputs.
        let output_id = FileId::of(self.output.path());
        let walker = WalkDir::new(input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| {
                !(entry.file_type().is_dir()
                    && output_id.is_some()
                    && FileId::of(entry.path()) == output_id)
            });
        // The linked folders the walk is inside of, innermost last.
        let mut linked_folders: Vec<PathBuf> = Vec::new();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    f(walk_error(input, &e));
                    continue;
                }
            };
            while linked_folders
                .last()
                .is_some_and(|folder| !entry.path().starts_with(folder))
            {
                linked_folders.pop();
            }
            if entry.path_is_symlink() && entry.file_type().is_dir() {
                linked_folders.push(entry.path().to_path_buf());
            }
            // Pipes, sockets and devices are never images; with links followed, a link to
            // a regular file counts as one.
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path();
            match input_kind(path, false) {
                Ok(kind) => {
                    let rel = above.join(path.strip_prefix(input).unwrap_or(path));
                    f(Item::Job {
                        job: job_for(path, &rel, kind, self.output.path(), self.format),
                        list: None,
                        linked: entry.path_is_symlink() || !linked_folders.is_empty(),
                    });
                }
                Err(reason) => f(Item::PassedOver {
                    path: path.to_path_buf(),
                    reason,
                }),
            }
        }
    }
}

/// `input`'s path below `root` (`None` without a root; empty for the root itself); `Err`
/// when it is not below it. Paths are compared as written (made absolute, links not
/// followed); a path that climbs out with `..` is not below.
fn below_root(root: Option<&Path>, input: &Path) -> Result<Option<PathBuf>, String> {
    let Some(root) = root else {
        return Ok(None);
    };
    let not_below = || {
        format!(
            "input {} is not below --root {}: its path below the root names its output",
            input.display(),
            root.display()
        )
    };
    let absolute = std::path::absolute(input).map_err(|_| not_below())?;
    let rel = absolute.strip_prefix(root).map_err(|_| not_below())?;
    if !rel
        .components()
        .all(|part| matches!(part, std::path::Component::Normal(_)))
    {
        return Err(not_below());
    }
    Ok(Some(rel.to_path_buf()))
}

/// Whether `error` says links lead to each other (Unix's ELOOP; Windows' "the name cannot
/// be resolved by the system", ERROR_CANT_RESOLVE_FILENAME).
fn is_link_loop(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    let code = libc::ELOOP;
    #[cfg(windows)]
    let code = windows_sys::Win32::Foundation::ERROR_CANT_RESOLVE_FILENAME as i32;
    error.raw_os_error() == Some(code)
}

/// What the walk makes of an entry it could not read.
fn walk_error(input: &Path, e: &walkdir::Error) -> Item {
    let path = e.path().unwrap_or(input).to_path_buf();
    let loops = std::fs::metadata(&path).is_err_and(|e| is_link_loop(&e));
    if loops {
        // Links that lead to each other: no target at all, not a missing one.
        if kind_by_extension(&path).is_none() {
            return Item::PassedOver {
                path,
                reason: "a link loop",
            };
        }
        let key = key_of(path.strip_prefix(input).unwrap_or(&path));
        return Item::Problem {
            path,
            reason: "link loop: it leads back to itself through links".into(),
            key,
        };
    }
    if is_link_to_nothing(&path) && kind_by_extension(&path).is_none() {
        // A broken link the walk would pass over anyway, had it a target.
        return Item::PassedOver {
            path,
            reason: "a broken link",
        };
    }
    if e.loop_ancestor().is_some() {
        // A link to a folder above it: its images are walked already.
        return Item::PassedOver {
            path,
            reason: "a link loop",
        };
    }
    let reason = match e.io_error() {
        Some(io) if is_link_to_nothing(&path) => {
            format!("broken link: its target cannot be read ({io})")
        }
        Some(io) => format!("cannot read: {io}"),
        None => e.to_string(),
    };
    let key = key_of(path.strip_prefix(input).unwrap_or(&path));
    Item::Problem { path, reason, key }
}

fn check_list(path: &Path) -> Result<(), String> {
    std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut [0u8; 1]))
        .map(drop)
        .map_err(|e| format!("cannot read the URL list {}: {e}", path.display()))
}

/// Copies stdin to a temporary file, so that the plan's passes can each read it.
fn spool_stdin() -> Result<tempfile::NamedTempFile, String> {
    let failed = |e: std::io::Error| format!("cannot read the URL list on stdin: {e}");
    let mut spooled = tempfile::NamedTempFile::new().map_err(failed)?;
    std::io::copy(&mut std::io::stdin().lock(), &mut spooled).map_err(failed)?;
    spooled.flush().map_err(failed)?;
    Ok(spooled)
}
