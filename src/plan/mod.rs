//! Inputs to jobs: the folder walk, single files and URL lists, which files are images,
//! and the output path of each, decided once so that every mode writes the same names.

mod guard;
mod kinds;
mod names;
mod objects;
mod urls;

use std::io::Read;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::config::{FormatChoice, OutputFormat};
use crate::fetch::FetchPolicy;
use crate::job::{Input, Job};
use crate::shard::Shard;
use crate::store::ObjectUrl;
use guard::{FileId, refuse_output_inside, refuse_replacing_inputs};
use kinds::{InputKind, input_kind, is_link_to_nothing, kind_by_extension};

/// What the walk found: the jobs in a stable order (sorted by path), the entries that could
/// not be read, and how many files were passed over as not images.
#[derive(Debug, Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    /// Inputs that failed before becoming jobs, with the reason.
    pub problems: Vec<(PathBuf, String)>,
    /// Files that are neither named nor shaped like an image, each with why it is not one
    /// ("text", "a ZIP archive", ...).
    pub passed_over: Vec<(PathBuf, &'static str)>,
    /// Jobs and problems of the whole plan, before a shard was taken.
    pub whole: usize,
    /// A digest of the whole plan (every plan key with its output name, before a shard
    /// was taken): two runs agree on it only when they would write the same outputs from
    /// the same inputs. See [`crate::report::PlanIdentity`].
    pub digest: u128,
    /// The plan key of each job (see [`crate::shard`]), in job order.
    keys: Vec<Vec<u8>>,
    /// The plan key of each problem, in problem order.
    problem_keys: Vec<Vec<u8>>,
}

impl Plan {
    fn push_job(&mut self, job: Job, key: Vec<u8>) {
        self.jobs.push(job);
        self.keys.push(key);
    }

    fn push_problem(&mut self, path: PathBuf, reason: String, key: Vec<u8>) {
        self.problems.push((path, reason));
        self.problem_keys.push(key);
    }

    /// XXH3-128 over each job's plan key and output name (relative to the output), then
    /// each problem's key, in plan order, every field ended by a zero byte.
    fn digest_of_whole(&self) -> u128 {
        let mut digest = xxhash_rust::xxh3::Xxh3::new();
        for (job, key) in self.jobs.iter().zip(&self.keys) {
            let name = job
                .output
                .strip_prefix(&job.output_root)
                .unwrap_or(&job.output);
            for field in [&key[..], &key_of(name)[..]] {
                digest.update(field);
                digest.update(&[0]);
            }
        }
        digest.update(&[0xff]);
        for key in &self.problem_keys {
            digest.update(key);
            digest.update(&[0]);
        }
        digest.digest128()
    }

    /// Keeps only the jobs and problems whose plan key falls in `shard`; names stay what
    /// the whole plan gave them.
    fn take_shard(&mut self, shard: Shard) {
        self.jobs = in_shard(std::mem::take(&mut self.jobs), &self.keys, shard);
        self.problems = in_shard(
            std::mem::take(&mut self.problems),
            &self.problem_keys,
            shard,
        );
    }
}

/// The items whose key (same position in `keys`) falls in `shard`.
fn in_shard<T>(items: Vec<T>, keys: &[Vec<u8>], shard: Shard) -> Vec<T> {
    items
        .into_iter()
        .zip(keys)
        .filter(|(_, key)| shard.takes(key))
        .map(|(item, _)| item)
        .collect()
}

/// A path's bytes, as its plan key.
fn key_of(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().replace('\\', "/").into_bytes()
    }
}

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
            Input::Url(_) | Input::Object(_) => 0,
        })
    });
}

/// Plans the work for `inputs` (folders, walked recursively; image files; files that are
/// lists of http(s) URLs; `-` for a URL list on stdin) and `url_lists` (read as URL lists
/// whatever they look like), in the order given, with outputs under `output`. A folder's
/// images keep their path relative to it; a file named explicitly is planned even when it
/// is not a regular file (a pipe, say), and is then not read here; a URL's image is named
/// after its last path segment. Fails, with a message for the user, when the run cannot
/// start: a missing input, an unreadable list, or an output folder inside an input folder.
/// With a `shard`, names are decided over the whole plan and then only the shard's jobs
/// are kept (re-numbered from 0).
pub fn plan(
    inputs: &[PathBuf],
    url_lists: &[PathBuf],
    output: &Path,
    format: FormatChoice,
    shard: Option<Shard>,
    policy: &FetchPolicy,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let output_object = ObjectUrl::from_path(output).transpose()?;
    for input in inputs {
        if let Some(prefix) = ObjectUrl::from_path(input) {
            let prefix = prefix?;
            if let Some(out) = output_object.as_ref().filter(|out| out.overlaps(&prefix)) {
                return Err(format!(
                    "output {out} overlaps input {prefix}: a re-run would take its own outputs \
                     as inputs; choose a prefix outside it"
                ));
            }
            objects::plan_prefix(&prefix, output, format, policy, &mut plan)?;
            continue;
        }
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
            if output_object.is_none() {
                refuse_output_inside(input, output)?;
            }
            walk(input, output, format, &mut plan);
        } else if meta.is_file()
            && kind_by_extension(input).is_none()
            && urls::looks_like_url_list(input)
        {
            plan_url_list(&read_list(input)?, output, format, &mut plan);
        } else {
            let name = input.file_name().map(PathBuf::from).unwrap_or_default();
            let kind = if meta.is_file() {
                input_kind(input, true).ok()
            } else {
                kind_by_extension(input)
            };
            let kind = kind.unwrap_or(InputKind::Other);
            plan.push_job(job_for(input, &name, kind, output, format), key_of(&name));
        }
    }
    for list in url_lists {
        plan_url_list(&read_list(list)?, output, format, &mut plan);
    }
    names::make_unique(&mut plan.jobs);
    refuse_replacing_inputs(&plan.jobs, url_lists)?;
    plan.whole = plan.jobs.len() + plan.problems.len();
    plan.digest = plan.digest_of_whole();
    if let Some(shard) = shard {
        plan.take_shard(shard);
    }
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
    let jobs: Vec<Job> = listed
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
    for ((mut job, output), entry) in jobs.into_iter().zip(outputs).zip(&listed) {
        job.output = output;
        plan.push_job(job, entry.url.as_bytes().to_vec());
    }
}

fn walk(input: &Path, output: &Path, format: FormatChoice, plan: &mut Plan) {
    // Links are followed, so a link inside the input could lead into the output folder:
    // the walk never enters it, or each run would take the last run's outputs as inputs.
    let output_id = FileId::of(output);
    let walker = WalkDir::new(input)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            !(entry.file_type().is_dir()
                && output_id.is_some()
                && FileId::of(entry.path()) == output_id)
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(input).to_path_buf();
                if is_link_to_nothing(&path) && kind_by_extension(&path).is_none() {
                    // A broken link the walk would pass over anyway, had it a target.
                    plan.passed_over.push((path, "a broken link"));
                    continue;
                }
                if e.loop_ancestor().is_some() {
                    // A link to a folder above it: its images are walked already.
                    plan.passed_over.push((path, "a link loop"));
                    continue;
                }
                let reason = match e.io_error() {
                    Some(io) if is_link_to_nothing(&path) => {
                        format!("broken link: its target cannot be read ({io})")
                    }
                    Some(io) => format!("cannot read: {io}"),
                    None => e.to_string(),
                };
                let key = key_of(path.strip_prefix(input).unwrap_or(&path));
                plan.push_problem(path, reason, key);
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
            Ok(kind) => {
                let rel = path.strip_prefix(input).unwrap_or(path);
                plan.push_job(job_for(path, rel, kind, output, format), key_of(rel));
            }
            Err(reason) => plan.passed_over.push((path.to_path_buf(), reason)),
        }
    }
}

fn job_for(input: &Path, rel: &Path, kind: InputKind, output: &Path, format: FormatChoice) -> Job {
    let format = match (format, kind) {
        (FormatChoice::Fixed(f), _) => f,
        (FormatChoice::Same, InputKind::Jpeg) => OutputFormat::Jpeg,
        (FormatChoice::Same, InputKind::Webp) => OutputFormat::Webp,
        (FormatChoice::Same, _) => OutputFormat::Png,
    };
    Job {
        index: 0,
        input: Input::File(input.to_path_buf()),
        output: output.join(output_name(rel, format)),
        output_root: output.to_path_buf(),
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
        OutputFormat::Webp | OutputFormat::WebpLossless => ext.as_deref() == Some("webp"),
        OutputFormat::Avif => ext.as_deref() == Some("avif"),
    };
    if fits {
        rel.to_path_buf()
    } else {
        rel.with_extension(format.extension())
    }
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
        names::make_unique(&mut jobs);
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

    mod one_to_one {
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashSet;

        /// File names chosen to collide: stems that already look like the suffixes and
        /// prefixes the naming adds, extensions that are and are not replaced.
        fn name() -> impl Strategy<Value = String> {
            let stems = prop::sample::select(vec![
                "b",
                "b.gif",
                "b-2",
                "b.gif-2",
                "b.png-2",
                "0001-x",
                "0002-x",
                "x",
                "x-2",
                "x-3",
                "0001-x-2",
                "b.gif.png",
            ]);
            let extensions = prop::sample::select(vec![
                ".png", ".gif", ".jpg", ".PNG", ".webp", ".jpeg", ".avif", "",
            ]);
            (stems, extensions).prop_map(|(s, e)| format!("{s}{e}"))
        }

        fn folder() -> impl Strategy<Value = String> {
            prop::sample::select(vec![
                "", "d/", "D/", "b.png/", "x.png/", "d/b.png/", "B.PNG/",
            ])
            .prop_map(str::to_string)
        }

        fn format() -> impl Strategy<Value = FormatChoice> {
            prop::sample::select(vec![
                FormatChoice::Same,
                FormatChoice::Fixed(OutputFormat::Png),
                FormatChoice::Fixed(OutputFormat::Jpeg),
                FormatChoice::Fixed(OutputFormat::Webp),
                FormatChoice::Fixed(OutputFormat::Avif),
            ])
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            /// Whatever the folder entries, files named directly and URL lines, no two jobs
            /// write one path and no job's file stands where another needs a folder.
            #[test]
            fn output_names_are_one_to_one(
                walked in prop::collection::vec((folder(), name()), 0..12),
                named in prop::collection::vec(name(), 0..5),
                listed in prop::collection::vec((0u8..3, name()), 0..10),
                format in format(),
            ) {
                let out = Path::new("out");
                let mut plan = Plan::default();
                let mut seen = HashSet::new();
                for (dir, file) in &walked {
                    let rel = PathBuf::from(format!("{dir}{file}"));
                    if !seen.insert(rel.clone()) {
                        continue; // a folder holds each name once
                    }
                    let kind = kind_by_extension(&rel).unwrap_or(InputKind::Other);
                    plan.jobs.push(job_for(&Path::new("in").join(&rel), &rel, kind, out, format));
                }
                for (i, file) in named.iter().enumerate() {
                    let path = PathBuf::from(format!("elsewhere{i}/{file}"));
                    let name = PathBuf::from(file);
                    let kind = kind_by_extension(&name).unwrap_or(InputKind::Other);
                    plan.jobs.push(job_for(&path, &name, kind, out, format));
                }
                let text: String = listed
                    .iter()
                    .map(|(host, file)| format!("http://h{host}/p/{file}\n"))
                    .collect();
                plan_url_list(&text, out, format, &mut plan);
                names::make_unique(&mut plan.jobs);

                // Compared without case: one file on a case-insensitive volume.
                let folded = |p: &Path| p.to_string_lossy().to_lowercase();
                let outputs: Vec<&Path> = plan.jobs.iter().map(|j| j.output.as_path()).collect();
                let unique: HashSet<String> = outputs.iter().map(|p| folded(p)).collect();
                prop_assert_eq!(unique.len(), outputs.len(), "{:?}", outputs);
                for output in &outputs {
                    prop_assert!(output.starts_with(out));
                    for ancestor in output.ancestors().skip(1) {
                        prop_assert!(!unique.contains(&folded(ancestor)), "{:?} under a file", output);
                    }
                }
            }
        }
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
