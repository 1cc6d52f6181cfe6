//! Output names that are one-to-one over the whole plan: no two jobs write the same file,
//! and no job's file stands where another job needs a folder, whatever the input names
//! (including names that already look like the suffixes given here), also on a
//! filesystem that ignores case. The rules, in order:
//!
//! 1. URL lines of one list that would share an output get their line number in front
//!    (`0007-image.png`).
//! 2. Files whose name was changed to fit the output format and that share their output
//!    keep their full input name (`a.gif` and `a.png` give `a.gif.png` and `a.png`).
//!    Except that a name once given stays with its input: when the shared output already
//!    stands, made from one of the jobs that share it (its provenance says which), that
//!    job keeps it and the others take their full input name (`a.gif` converted alone
//!    wrote `a.png`; once `a.png` is added, it is `a.png.png`).
//! 3. The first job to claim a path (compared without case) keeps it, jobs that keep
//!    their input's own name first, then plan order; every later one gets `-2`, `-3`, ...
//!    after its stem, skipping any path another job asked for or that must be a folder.
//!    Here too a name once given stays with its input: a contested job whose output
//!    already stands, made from its input, under its name or one of the suffixed names
//!    its group can reach, keeps that name, before the others are placed.
//!
//! The plan is never held: streaming passes over it gather 64-bit hashes of the names
//! (8 bytes a job for each rule while it is decided, see [`crate::hashes`]), keep only the
//! names that are shared, and settle those few exactly, in memory. A hash that two names
//! happen to share (odds about n²/2⁶⁵ for n jobs: one in 10⁶ for 5 million) can only
//! give a name a suffix it did not need; names stay one-to-one, and every shard of a
//! plan decides them alike.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::item::ListLine;
use crate::hashes::{HashCounts, HashLog};
use crate::job::provenance::Provenance;
use crate::job::{Input, Job};
use crate::paths::path_bytes;

/// One pass over the plan: with `true`, the URL lists' jobs only; each job (with its
/// natural output and its list line) goes to the visitor, in plan order.
pub(super) type Pass<'a> =
    dyn FnMut(bool, &mut dyn FnMut(&mut Job, Option<ListLine>)) -> Result<(), String> + 'a;

/// What the naming passes decided: the few names that are not a job's natural one.
#[derive(Debug, Default)]
pub(super) struct Naming {
    /// Hashes of (list, name) shared by several lines of one list (rule 1).
    listed_shared: HashSet<u64>,
    /// Hashes of outputs shared by several jobs after rule 1 (rule 2).
    outputs_shared: HashSet<u64>,
    /// Hashes of the outputs rule 3 settled (after rules 1 and 2, compared without case).
    contested: HashSet<u64>,
    /// The outputs rule 3 changed, by the job's [`Claimant`].
    resolved: HashMap<Claimant, PathBuf>,
    /// Shared outputs (rule 2) that already stand, made from one of the jobs sharing
    /// them: the hash of the output, and the provenance source of that job.
    kept: HashMap<u64, String>,
}

/// The provenance source of the output standing at a job's name, if one stands there
/// and carries one.
pub(super) type StandingSource<'a> = dyn Fn(&Job) -> Option<String> + 'a;

/// Which job claims a contested output: a hash of its input and of that output, and how
/// many jobs with the same hash came before it in the plan. It names the job whatever
/// else the plan holds, so a file added to a folder between two passes cannot move a
/// settled name onto another job.
pub(super) type Claimant = (u64, usize);

/// The jobs with a contested output met so far in a pass, for their [`Claimant`]s.
#[derive(Debug, Default)]
pub(super) struct Claimants(HashMap<u64, usize>);

impl Claimants {
    fn of(&mut self, job: &Job) -> Claimant {
        let mut hash = xxhash_rust::xxh3::Xxh3::new();
        hash.update(job.input.to_string().as_bytes());
        hash.update(&[0]);
        hash.update(&path_bytes(job.output_rel()));
        let hash = hash.digest();
        let seen = self.0.entry(hash).or_insert(0);
        *seen += 1;
        (hash, *seen - 1)
    }
}

impl Naming {
    /// Runs the passes the plan needs: the URL lists alone (when there are any), every
    /// job once, and again only when some names are shared.
    pub fn build(
        has_lists: bool,
        standing_source: &StandingSource<'_>,
        pass: &mut Pass<'_>,
    ) -> Result<Naming, String> {
        let mut naming = Naming::default();
        if has_lists {
            let mut listed = HashLog::default();
            pass(true, &mut |job, list| {
                if let Some(list) = list {
                    listed.push(listed_hash(list, job));
                }
            })?;
            naming.listed_shared = listed.seal().repeated();
        }
        let (mut exact, mut wanted, mut folders) =
            (HashLog::default(), HashLog::default(), HashLog::default());
        let mut last_parent: Option<PathBuf> = None;
        pass(false, &mut |job, list| {
            naming.number_listed(job, list);
            exact.push(xxh3_64(&path_bytes(job.output_rel())));
            wanted.push(folded_hash(job.output_rel()));
            push_folders(job.output_rel(), &mut last_parent, &mut folders);
        })?;
        naming.outputs_shared = exact.seal().repeated();
        let mut claims = Claims {
            wanted: wanted.seal(),
            folders: folders.seal(),
            ..Claims::default()
        };
        if !naming.outputs_shared.is_empty() {
            naming.kept = kept_names(&naming, standing_source, pass)?;
            pass(false, &mut |job, list| {
                naming.number_listed(job, list);
                let before = folded_hash(job.output_rel());
                if naming.keep_full_name(job) {
                    claims.dropped.push(before);
                    claims.added.push(folded_hash(job.output_rel()));
                }
            })?;
        }
        let contested = claims.contested();
        if !contested.is_empty() {
            let mut held: Vec<(Claimant, Job)> = Vec::new();
            let mut claimants = Claimants::default();
            pass(false, &mut |job, list| {
                naming.number_listed(job, list);
                naming.keep_full_name(job);
                if contested.contains(&folded_hash(job.output_rel())) {
                    held.push((claimants.of(job), job.clone()));
                }
            })?;
            naming.resolved = claims.settle(held, standing_source);
        }
        naming.contested = contested;
        Ok(naming)
    }

    /// Gives `job` (with its natural output) its output name in the whole plan; a pass
    /// names its jobs in plan order, with one `claimants` for the pass.
    pub fn name(&self, claimants: &mut Claimants, job: &mut Job, list: Option<ListLine>) {
        self.number_listed(job, list);
        self.keep_full_name(job);
        if self.contested.is_empty() || !self.contested.contains(&folded_hash(job.output_rel())) {
            return;
        }
        if let Some(output) = self.resolved.get(&claimants.of(job)) {
            job.output = output.clone();
        }
    }

    /// Rule 1.
    fn number_listed(&self, job: &mut Job, list: Option<ListLine>) {
        let Some(list) = list else {
            return;
        };
        if self.listed_shared.contains(&listed_hash(list, job)) {
            let mut name = OsString::from(format!("{:04}-", list.line));
            name.push(job.output.file_name().unwrap_or_default());
            job.output.set_file_name(fit_name(name));
        }
    }

    /// Rule 2, for a job past rule 1: whether it changed the name.
    fn keep_full_name(&self, job: &mut Job) -> bool {
        let output = xxh3_64(&path_bytes(job.output_rel()));
        if !self.outputs_shared.contains(&output) {
            return false;
        }
        let Some(mut full) = input_name(job) else {
            return false;
        };
        match self.kept.get(&output) {
            Some(owner) if *owner == Provenance::source_of(&job.key) => return false,
            Some(_) => {}
            None if Some(full.as_os_str()) == job.output.file_name() => return false,
            None => {}
        }
        full.push(".");
        full.push(job.format.extension());
        job.output.set_file_name(fit_name(full));
        true
    }
}

/// The longest file name most filesystems take, in bytes.
pub(super) const NAME_MAX: usize = 255;

/// `name` as it fits a file name: itself when it is short enough, else its stem cut and
/// a hash of the whole name put before its extension (`aaa…aaa-0123456789abcdef.png`),
/// so that two long names stay two names.
pub(super) fn fit_name(name: std::ffi::OsString) -> std::ffi::OsString {
    let bytes = name.as_encoded_bytes();
    if bytes.len() <= NAME_MAX {
        return name;
    }
    let hash = format!("-{:016x}", xxh3_64(bytes));
    let (stem, extension) = match bytes.iter().rposition(|&b| b == b'.') {
        Some(dot) if bytes.len() - dot <= 16 => (&bytes[..dot], &bytes[dot..]),
        _ => (bytes, &b""[..]),
    };
    let mut keep = NAME_MAX - hash.len() - extension.len();
    // Cut between characters when the name is text.
    if let Ok(text) = std::str::from_utf8(stem) {
        while !text.is_char_boundary(keep) {
            keep -= 1;
        }
    }
    let mut fitted = stem[..keep].to_vec();
    fitted.extend_from_slice(hash.as_bytes());
    fitted.extend_from_slice(extension);
    crate::paths::bytes_name(fitted)
}

/// The shared outputs (rule 2) that already stand, made from one of the jobs that share
/// them: one more pass, reading the provenance of each shared output once.
fn kept_names(
    naming: &Naming,
    standing_source: &StandingSource<'_>,
    pass: &mut Pass<'_>,
) -> Result<HashMap<u64, String>, String> {
    let mut standing: HashMap<u64, Option<String>> = HashMap::new();
    let mut kept = HashMap::new();
    pass(false, &mut |job, list| {
        naming.number_listed(job, list);
        let output = xxh3_64(&path_bytes(job.output_rel()));
        if !naming.outputs_shared.contains(&output) {
            return;
        }
        let source = standing
            .entry(output)
            .or_insert_with(|| standing_source(job));
        if source.as_deref() == Some(Provenance::source_of(&job.key).as_str()) {
            kept.insert(output, Provenance::source_of(&job.key));
        }
    })?;
    Ok(kept)
}

/// Who claims which name (rule 3): every job's output after rules 1 and 2, and the
/// folders the outputs need.
#[derive(Debug, Default)]
struct Claims {
    /// Outputs after rule 1, compared without case.
    wanted: HashCounts,
    /// Outputs rule 2 moved away from, and the ones it moved to.
    dropped: Vec<u64>,
    added: Vec<u64>,
    /// Every folder an output lies in, compared without case (each at least once).
    folders: HashCounts,
}

impl Claims {
    /// How many jobs want the path of `hash` once rule 2 is applied.
    fn wanted(&self, hash: u64) -> usize {
        let count = |list: &[u64]| list.iter().filter(|&&h| h == hash).count();
        (self.wanted.count(hash) + count(&self.added)).saturating_sub(count(&self.dropped))
    }

    /// The paths several jobs want, or that must be a folder and a job wants.
    fn contested(&self) -> HashSet<u64> {
        let mut contested: HashSet<u64> = self
            .wanted
            .repeated()
            .into_iter()
            .chain(self.added.iter().copied())
            .filter(|&hash| self.wanted(hash) > 1)
            .collect();
        let mut last = None;
        self.folders.each_in_order(|hash| {
            if last != Some(hash) && self.wanted(hash) > 0 {
                contested.insert(hash);
            }
            last = Some(hash);
        });
        contested
    }

    /// Rule 3 over the jobs whose path is contested (each with its claimant, in plan
    /// order), exactly: the names it changed, by claimant.
    fn settle(
        &self,
        mut held: Vec<(Claimant, Job)>,
        standing_source: &StandingSource<'_>,
    ) -> HashMap<Claimant, PathBuf> {
        // Stable: plan order within each group.
        held.sort_by_key(|(_, job)| !keeps_input_name(job));
        let mut given: HashSet<String> = HashSet::with_capacity(held.len());
        let mut resolved = HashMap::new();
        let free = |path: &Path, given: &HashSet<String>| {
            let key = key(path);
            !given.contains(&key) && !self.folders.contains(xxh3_64(key.as_bytes()))
        };
        // A name once given stays with its input: an output that stands under one of the
        // names a job could have, made from that job's input, goes to it first.
        let kept =
            self.kept_by_their_inputs(&held, standing_source, &free, &mut given, &mut resolved);
        for (claimant, job) in held {
            if kept.contains(&claimant) {
                continue;
            }
            let mut output = job.output.clone();
            if !free(job.output_rel(), &given) {
                output = self
                    .suffixed(&job)
                    .find(|candidate| {
                        let rel = candidate
                            .strip_prefix(&job.output_root)
                            .unwrap_or(candidate);
                        self.wanted(folded_hash(rel)) == 0 && free(rel, &given)
                    })
                    .expect("an unbounded sequence of names has a free one");
                resolved.insert(claimant, output.clone());
            }
            let rel = output.strip_prefix(&job.output_root).unwrap_or(&output);
            given.insert(key(rel));
        }
        resolved
    }

    /// `job`'s output with `-2`, `-3`, ... after its stem.
    fn suffixed<'j>(&self, job: &'j Job) -> impl Iterator<Item = PathBuf> + 'j {
        let stem = job.output.file_stem().unwrap_or_default().to_os_string();
        let extension = job.format.extension();
        (2u64..).map(move |n| {
            let mut name = stem.clone();
            name.push(format!("-{n}.{extension}"));
            job.output.with_file_name(fit_name(name))
        })
    }

    /// The contested jobs whose output already stands, made from their own input, under
    /// their natural name or one of the suffixed names their group can reach: each keeps
    /// that name (marked given, and in `resolved` when suffixed). Reads the provenance of
    /// those names (a group of k jobs: at most k + 1 names a job).
    fn kept_by_their_inputs(
        &self,
        held: &[(Claimant, Job)],
        standing_source: &StandingSource<'_>,
        free: &dyn Fn(&Path, &HashSet<String>) -> bool,
        given: &mut HashSet<String>,
        resolved: &mut HashMap<Claimant, PathBuf>,
    ) -> HashSet<Claimant> {
        let mut group_sizes: HashMap<u64, usize> = HashMap::new();
        for (_, job) in held {
            *group_sizes
                .entry(folded_hash(job.output_rel()))
                .or_default() += 1;
        }
        let mut kept = HashSet::new();
        for (claimant, job) in held {
            let source = Provenance::source_of(&job.key);
            let owns = |output: &Path| {
                let mut candidate = job.clone();
                candidate.output = output.to_path_buf();
                standing_source(&candidate).as_deref() == Some(source.as_str())
            };
            let natural = job.output_rel();
            if free(natural, given) && owns(&job.output) {
                given.insert(key(natural));
                kept.insert(*claimant);
                continue;
            }
            let reach = group_sizes[&folded_hash(natural)];
            for candidate in self.suffixed(job).take(reach) {
                let rel = candidate
                    .strip_prefix(&job.output_root)
                    .unwrap_or(&candidate)
                    .to_path_buf();
                if self.wanted(folded_hash(&rel)) == 0 && free(&rel, given) && owns(&candidate) {
                    given.insert(key(&rel));
                    resolved.insert(*claimant, candidate);
                    kept.insert(*claimant);
                    break;
                }
            }
        }
        kept
    }
}

/// Adds the folders `rel` lies in, unless the previous output lay in the same one (a walk
/// meets each folder's files together).
fn push_folders(rel: &Path, last_parent: &mut Option<PathBuf>, folders: &mut HashLog) {
    let parent = rel.parent().unwrap_or(Path::new(""));
    if last_parent.as_deref() == Some(parent) {
        return;
    }
    for folder in rel.ancestors().skip(1) {
        if folder.as_os_str().is_empty() {
            break;
        }
        folders.push(folded_hash(folder));
    }
    *last_parent = Some(parent.to_path_buf());
}

fn listed_hash(list: ListLine, job: &Job) -> u64 {
    xxh3_64_with_seed(&path_bytes(job.output_rel()), u64::from(list.list) + 1)
}

fn folded_hash(rel: &Path) -> u64 {
    xxh3_64(key(rel).as_bytes())
}

/// What makes two output paths the same file on any filesystem imgpar may write to:
/// their text compared without case, since an output folder on a case-insensitive volume
/// (exFAT, FAT, macOS, Windows shares) holds `a.PNG` and `a.png` as one file. Names that
/// are not UTF-8 keep their stray bytes (as U+FFFD plus the bytes' own key).
pub(super) fn key(path: &Path) -> String {
    match path.to_str() {
        Some(text) => text.to_lowercase(),
        None => format!(
            "{}\0{:?}",
            path.to_string_lossy().to_lowercase(),
            path.as_os_str()
        ),
    }
}

/// The input's own file name (none for a URL, whose name is made from the URL).
fn input_name(job: &Job) -> Option<OsString> {
    match &job.input {
        Input::File(path) => path.file_name().map(OsString::from),
        Input::Object(url) => Some(OsString::from(url.name())),
        Input::Url(_) => None,
    }
}

/// Whether the job's output file name is its input's own name (always so for a URL).
fn keeps_input_name(job: &Job) -> bool {
    match &job.input {
        Input::Url(_) => true,
        _ => input_name(job).as_deref() == job.output.file_name(),
    }
}
