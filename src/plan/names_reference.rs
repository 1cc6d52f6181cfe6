//! The naming rules over a plan held whole in memory, as imgpar applied them before the
//! plan was streamed: kept for tests, which check that the streaming passes of
//! [`super::names`] give every job exactly this name.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::Path;

use super::names::key;
use crate::job::{Input, Job};

/// Makes every output path unique, deterministically for a given plan. Files whose name
/// was changed to fit the output format and that share their output keep their full input
/// name (`a.gif` and `a.png` give `a.gif.png` and `a.png`). Then the first job to claim a
/// path keeps it (jobs that keep their input's name first, then plan order) and every
/// later one gets `-2`, `-3`, ... after its stem, skipping any path another job asked for
/// or that must be a folder.
pub(super) fn make_unique(jobs: &mut [Job]) {
    keep_full_names_of_renamed(jobs);
    let wanted: HashSet<String> = jobs.iter().map(|j| key(&j.output)).collect();
    let folders: HashSet<String> = jobs
        .iter()
        .flat_map(|j| {
            j.output
                .ancestors()
                .skip(1)
                .take_while(|a| a.starts_with(&j.output_root) && *a != j.output_root)
                .map(key)
                .collect::<Vec<_>>()
        })
        .collect();
    // Names that are the input's own name (or a URL's) are given out first, so that
    // `b.gif.png` keeps its name and `b.gif`, renamed to fit, is the one that moves.
    let kept: Vec<bool> = jobs.iter().map(keeps_input_name).collect();
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| !kept[i]);
    let mut given: HashSet<String> = HashSet::with_capacity(jobs.len());
    for i in order {
        let job = &mut jobs[i];
        let free = |path: &Path, given: &HashSet<String>| {
            let key = key(path);
            !given.contains(&key) && !folders.contains(&key)
        };
        if !free(&job.output, &given) {
            let stem = job.output.file_stem().unwrap_or_default().to_os_string();
            let extension = job.format.extension();
            job.output = (2u64..)
                .map(|n| {
                    let mut name = stem.clone();
                    name.push(format!("-{n}.{extension}"));
                    job.output.with_file_name(name)
                })
                .find(|candidate| !wanted.contains(&key(candidate)) && free(candidate, &given))
                .expect("an unbounded sequence of names has a free one");
        }
        given.insert(key(&job.output));
    }
}

/// Whether the job's output file name is its input's own name (always so for a URL, whose
/// name is made from the URL).
fn keeps_input_name(job: &Job) -> bool {
    match &job.input {
        Input::File(path) => path.file_name() == job.output.file_name(),
        Input::Object(url) => Some(std::ffi::OsStr::new(url.name())) == job.output.file_name(),
        Input::Url(_) => true,
    }
}

/// Files whose output name was changed from their input name (`a.gif` to `a.png`) and
/// that share their output with another job get their full input name plus the output
/// extension (`a.gif.png`).
fn keep_full_names_of_renamed(jobs: &mut [Job]) {
    let input_name = |job: &Job| match &job.input {
        Input::File(path) => path.file_name().map(OsString::from),
        Input::Object(url) => Some(OsString::from(url.name())),
        Input::Url(_) => None,
    };
    let mut by_output: HashMap<&Path, usize> = HashMap::new();
    for job in jobs.iter() {
        *by_output.entry(&job.output).or_insert(0) += 1;
    }
    let shared: Vec<bool> = jobs
        .iter()
        .map(|j| by_output[j.output.as_path()] > 1)
        .collect();
    for (job, shared) in jobs.iter_mut().zip(shared) {
        let Some(name) = input_name(job) else {
            continue;
        };
        if shared && Some(name.as_os_str()) != job.output.file_name() {
            let mut full = name;
            full.push(".");
            full.push(job.format.extension());
            job.output.set_file_name(full);
        }
    }
}

/// Gives every output path claimed by more than one URL line of one list a prefix made of
/// its line number (`0007-image.png`). `outputs[i]` belongs to `lines[i]`.
pub(super) fn number_shared_names(outputs: &mut [std::path::PathBuf], lines: &[usize]) {
    let mut claims: HashMap<std::path::PathBuf, usize> = HashMap::new();
    for output in outputs.iter() {
        *claims.entry(output.clone()).or_insert(0) += 1;
    }
    for (output, line) in outputs.iter_mut().zip(lines) {
        if claims[output.as_path()] > 1 {
            let mut name = OsString::from(format!("{line:04}-"));
            name.push(output.file_name().unwrap_or_default());
            output.set_file_name(name);
        }
    }
}
