//! Inputs to jobs: the folder walk, single files and URL lists, which files are images,
//! and the output path of each, decided once so that every mode writes the same names.

mod urls;

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

use crate::config::{FormatChoice, OutputFormat};
use crate::job::{Input, Job};

/// What the walk found: the jobs in a stable order (sorted by path), the entries that could
/// not be read, and how many files were passed over as not images.
#[derive(Debug, Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    /// Inputs that failed before becoming jobs, with the reason.
    pub problems: Vec<(PathBuf, String)>,
    /// Files that are neither named nor shaped like an image.
    pub ignored: usize,
}

/// File extensions taken as images without looking inside (lower case).
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "gif", "webp", "bmp", "dib", "tif", "tiff",
];

/// Puts the biggest input files first, so that no big image starts last and finishes
/// alone while the other workers sit idle. Pipes and devices (no size to go by) go first,
/// URLs keep their order after the files, and equal sizes keep plan order. Jobs keep their
/// plan index, so outcomes are still reported in plan order.
pub fn largest_first(jobs: &mut [Job]) {
    jobs.sort_by_cached_key(|job| {
        std::cmp::Reverse(match &job.input {
            Input::File(path) => match std::fs::metadata(path) {
                Ok(meta) if meta.is_file() => meta.len(),
                _ => u64::MAX,
            },
            Input::Url(_) => 0,
        })
    });
}

/// Extensions of image formats imgpar cannot read but a user would expect it to: files
/// with these are planned like images, so each fails with a reason instead of being
/// passed over in silence.
const UNSUPPORTED_IMAGE_EXTENSIONS: &[&str] = &["psd", "psb", "svg", "heic", "heif", "avif", "jxl"];

/// Plans the work for `inputs` (folders, walked recursively; image files; files that are
/// lists of http(s) URLs; `-` for a URL list on stdin) and `url_lists` (read as URL lists
/// whatever they look like), in the order given, with outputs under `output`. A folder's
/// images keep their path relative to it; a file named explicitly is planned even when it
/// is not a regular file (a pipe, say), and is then not read here; a URL's image is named
/// after its last path segment. Fails, with a message for the user, when the run cannot
/// start: a missing input, an unreadable list, or an output folder inside an input folder.
pub fn plan(
    inputs: &[PathBuf],
    url_lists: &[PathBuf],
    output: &Path,
    format: FormatChoice,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    for input in inputs {
        if input.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the URL list on stdin: {e}"))?;
            plan_url_list(&text, output, format, &mut plan);
            continue;
        }
        let meta = std::fs::metadata(input)
            .map_err(|e| format!("cannot read input {}: {e}", input.display()))?;
        if meta.is_dir() {
            refuse_output_inside(input, output)?;
            walk(input, output, format, &mut plan);
        } else if meta.is_file()
            && kind_by_extension(input).is_none()
            && urls::looks_like_url_list(input)
        {
            plan_url_list(&read_list(input)?, output, format, &mut plan);
        } else {
            let name = input.file_name().map(PathBuf::from).unwrap_or_default();
            let kind = if meta.is_file() {
                input_kind(input, true)
            } else {
                kind_by_extension(input)
            };
            let kind = kind.unwrap_or(InputKind::Other);
            plan.jobs.push(job_for(input, &name, kind, output, format));
        }
    }
    for list in url_lists {
        plan_url_list(&read_list(list)?, output, format, &mut plan);
    }
    resolve_collisions(&mut plan.jobs);
    for (index, job) in plan.jobs.iter_mut().enumerate() {
        job.index = index;
    }
    Ok(plan)
}

fn read_list(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read the URL list {}: {e}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One job per URL of the list, named after the URL; names shared by several lines get
/// the line number in front.
fn plan_url_list(text: &str, output: &Path, format: FormatChoice, plan: &mut Plan) {
    let listed = urls::parse_list(text);
    let mut jobs: Vec<Job> = listed
        .iter()
        .map(|entry| {
            let name = PathBuf::from(urls::name_for_url(&entry.url));
            let kind = kind_by_extension(&name).unwrap_or(InputKind::Other);
            let mut job = job_for(&name, &name, kind, output, format);
            job.input = Input::Url(entry.url.clone());
            job
        })
        .collect();
    let mut outputs: Vec<PathBuf> = jobs.iter().map(|j| j.output.clone()).collect();
    let lines: Vec<usize> = listed.iter().map(|l| l.line).collect();
    urls::number_shared_names(&mut outputs, &lines);
    for (job, output) in jobs.iter_mut().zip(outputs) {
        job.output = output;
    }
    plan.jobs.extend(jobs);
}

fn walk(input: &Path, output: &Path, format: FormatChoice, plan: &mut Plan) {
    let walker = WalkDir::new(input).follow_links(true).sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(input).to_path_buf();
                let reason = match e.io_error() {
                    Some(io) => format!("cannot read: {io}"),
                    None => e.to_string(),
                };
                plan.problems.push((path, reason));
                continue;
            }
        };
        // Pipes, sockets and devices are never images; with links followed, a link to a
        // regular file counts as one.
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        match input_kind(path, false) {
            Some(kind) => {
                let rel = path.strip_prefix(input).unwrap_or(path);
                plan.jobs.push(job_for(path, rel, kind, output, format));
            }
            None => plan.ignored += 1,
        }
    }
}

/// The input's format family, as far as choosing the output format goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputKind {
    Jpeg,
    Png,
    Other,
}

/// Decides whether `path` is an image: by its extension, or else by its first bytes.
/// `None` means it is not an image (for an explicitly named file, `force` plans it anyway so
/// the user hears why it failed).
fn input_kind(path: &Path, force: bool) -> Option<InputKind> {
    if let Some(kind) = kind_by_extension(path) {
        return Some(kind);
    }
    let sniffed = sniff_file(path);
    match sniffed {
        Some(image::ImageFormat::Jpeg) => Some(InputKind::Jpeg),
        Some(image::ImageFormat::Png) => Some(InputKind::Png),
        Some(_) => Some(InputKind::Other),
        None if force => Some(InputKind::Other),
        None => None,
    }
}

/// The input's format family going by its extension alone; `None` for names that do not
/// say they are images.
fn kind_by_extension(path: &Path) -> Option<InputKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if !IMAGE_EXTENSIONS.contains(&ext.as_str())
        && !UNSUPPORTED_IMAGE_EXTENSIONS.contains(&ext.as_str())
    {
        return None;
    }
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "jpe" | "jfif" => InputKind::Jpeg,
        "png" => InputKind::Png,
        _ => InputKind::Other,
    })
}

fn sniff_file(path: &Path) -> Option<image::ImageFormat> {
    let mut head = Vec::with_capacity(32);
    std::fs::File::open(path)
        .ok()?
        .take(32)
        .read_to_end(&mut head)
        .ok()?;
    image::guess_format(&head)
        .ok()
        .filter(|f| f.reading_enabled())
}

fn job_for(input: &Path, rel: &Path, kind: InputKind, output: &Path, format: FormatChoice) -> Job {
    let format = match (format, kind) {
        (FormatChoice::Fixed(f), _) => f,
        (FormatChoice::Same, InputKind::Jpeg) => OutputFormat::Jpeg,
        (FormatChoice::Same, _) => OutputFormat::Png,
    };
    Job {
        index: 0,
        input: Input::File(input.to_path_buf()),
        output: output.join(output_name(rel, format)),
        format,
    }
}

/// `rel` with an extension that fits `format`: kept when it already does (`.JPG` stays
/// `.JPG`), replaced otherwise (`photo.gif` becomes `photo.png`).
fn output_name(rel: &Path, format: OutputFormat) -> PathBuf {
    let ext = rel
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let fits = match format {
        OutputFormat::Png => ext.as_deref() == Some("png"),
        OutputFormat::Jpeg => matches!(ext.as_deref(), Some("jpg" | "jpeg" | "jpe" | "jfif")),
    };
    if fits {
        rel.to_path_buf()
    } else {
        rel.with_extension(format.extension())
    }
}

/// Makes every output path unique, deterministically. Two inputs that would write the same
/// file (`a.gif` and `a.png` both giving `a.png`) keep their full names where theirs was
/// changed (`a.gif.png`); anything still shared gets `-2`, `-3`, ... in plan order.
fn resolve_collisions(jobs: &mut [Job]) {
    let input_name = |job: &Job| match &job.input {
        Input::File(path) => path.file_name().map(OsString::from),
        Input::Url(_) => None,
    };
    let renamed =
        |job: &Job| input_name(job).is_some_and(|n| Some(n.as_os_str()) != job.output.file_name());
    for i in claimants(jobs) {
        if renamed(&jobs[i]) {
            let mut name: OsString = input_name(&jobs[i]).unwrap_or_default();
            name.push(".");
            name.push(jobs[i].format.extension());
            jobs[i].output.set_file_name(name);
        }
    }
    let mut seen: HashMap<PathBuf, usize> = HashMap::new();
    for job in jobs.iter_mut() {
        let count = seen.entry(job.output.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            let stem = job.output.file_stem().unwrap_or_default().to_os_string();
            let mut name = stem;
            name.push(format!("-{count}."));
            name.push(job.format.extension());
            job.output.set_file_name(name);
        }
    }
}

/// Indices of jobs whose output path is shared with another job.
fn claimants(jobs: &[Job]) -> Vec<usize> {
    let mut by_output: HashMap<&Path, Vec<usize>> = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        by_output.entry(&job.output).or_default().push(i);
    }
    let mut shared: Vec<usize> = by_output
        .into_values()
        .filter(|v| v.len() > 1)
        .flatten()
        .collect();
    shared.sort_unstable();
    shared
}

/// Refuses an output folder that is the input folder or lies inside it: the walk would
/// find its own outputs.
fn refuse_output_inside(input: &Path, output: &Path) -> Result<(), String> {
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
fn resolve_existing_prefix(path: &Path) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn biggest_files_go_first_and_urls_last_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut jobs = Vec::new();
        for (index, (name, size)) in [("small", 10), ("big", 300), ("mid", 100), ("mid2", 100)]
            .into_iter()
            .enumerate()
        {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![0u8; size]).unwrap();
            let mut job = job_for(
                &path,
                Path::new(name),
                InputKind::Png,
                dir.path(),
                FormatChoice::Same,
            );
            job.index = index;
            jobs.push(job);
        }
        for (index, url) in ["http://a/1.png", "http://a/2.png"].into_iter().enumerate() {
            let mut job = jobs[0].clone();
            job.input = Input::Url(url.into());
            job.index = 4 + index;
            jobs.insert(index, job);
        }
        largest_first(&mut jobs);
        let order: Vec<usize> = jobs.iter().map(|j| j.index).collect();
        assert_eq!(order, vec![1, 2, 3, 0, 4, 5]);
    }

    fn job(input: &str, format: OutputFormat) -> Job {
        job_for(
            Path::new(input),
            Path::new(input),
            InputKind::Other,
            Path::new("out"),
            FormatChoice::Fixed(format),
        )
    }

    #[test]
    fn names_follow_the_output_format() {
        assert_eq!(
            output_name(Path::new("a/b.JPG"), OutputFormat::Jpeg),
            Path::new("a/b.JPG")
        );
        assert_eq!(
            output_name(Path::new("a/b.gif"), OutputFormat::Png),
            Path::new("a/b.png")
        );
        assert_eq!(
            output_name(Path::new("raw"), OutputFormat::Jpeg),
            Path::new("raw.jpg")
        );
    }

    #[test]
    fn colliding_outputs_get_distinct_stable_names() {
        let mut jobs = vec![
            job("a.gif", OutputFormat::Png),
            job("a.png", OutputFormat::Png),
            job("a.webp", OutputFormat::Png),
        ];
        resolve_collisions(&mut jobs);
        let names: Vec<_> = jobs.iter().map(|j| j.output.clone()).collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("out/a.gif.png"),
                PathBuf::from("out/a.png"),
                PathBuf::from("out/a.webp.png")
            ]
        );
    }

    #[test]
    fn output_inside_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("sub/out");
        assert!(refuse_output_inside(dir.path(), &inside).is_err());
        assert!(refuse_output_inside(dir.path(), dir.path()).is_err());
        let other = tempfile::tempdir().unwrap();
        assert!(refuse_output_inside(dir.path(), &other.path().join("x")).is_ok());
    }
}
