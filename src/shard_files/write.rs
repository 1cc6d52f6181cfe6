//! `imgpar plan`: the whole plan read once, each row appended to the file of the shard
//! its plan key hashes to (the same shard `--shard I/N` would take it in).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::lines::{End, FORMAT, Header, JobRow, Line, ProblemRow, Text};
use crate::plan::Planned;
use crate::report::PlanIdentity;
use crate::run::Run;
use crate::shard::shard_of;
use crate::store::Location;

/// Bytes of rows a shard keeps in memory before they are appended to its file (no file is
/// held open: a thousand shards need no more file handles than one).
const BUFFERED: usize = 16 * 1024;

/// Bytes of rows all shards keep at most: past it every shard's are appended, so that
/// memory stays bounded however many shards there are.
const BUFFERED_IN_ALL: usize = 32 << 20;

/// What `imgpar plan` wrote.
#[derive(Debug, Clone)]
pub struct ShardFilesWritten {
    /// The whole plan's identity.
    pub plan: PlanIdentity,
    /// Images planned (inputs that failed before becoming images included).
    pub planned: usize,
    /// Inputs that failed before becoming images.
    pub problems: usize,
    /// The shard files, in shard order.
    pub files: Vec<PathBuf>,
}

/// The name of shard `index` of `count`: numbered so that the files sort in shard order
/// and a file of another split is never taken for one of this.
pub fn file_name(index: u64, count: u64) -> String {
    let width = count.to_string().len().max(5);
    format!("shard-{index:0width$}-of-{count:0width$}.jsonl")
}

/// Plans `run` once (its inputs, output and settings; a shard it was given is ignored:
/// the files hold the whole plan) and writes its rows into `count` shard files in `dir`
/// (created if missing). The files appear only once complete, and never replace a file:
/// when one of their names is taken already, nothing is written.
pub fn write(run: &Run, count: u64, dir: &Path) -> Result<ShardFilesWritten, String> {
    if count == 0 {
        return Err("--shards must be 1 or more".into());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let names: Vec<PathBuf> = (0..count).map(|i| dir.join(file_name(i, count))).collect();
    if let Some(taken) = names.iter().find(|name| name.exists()) {
        return Err(format!(
            "{} exists already: shard files are never replaced (remove the old plan, or \
             write this one to another folder)",
            taken.display()
        ));
    }
    let partial = |i: usize| {
        dir.join(format!(
            ".{}.partial-{}",
            file_name(i as u64, count),
            std::process::id()
        ))
    };
    let mut shards: Vec<Shard> = (0..count as usize)
        .map(|i| Shard {
            path: partial(i),
            pending: Vec::new(),
            jobs: 0,
            problems: 0,
        })
        .collect();
    let written = fill(run, count, &mut shards);
    let mut linked = 0;
    let result = written.and_then(|(plan, planned, problems)| {
        for (i, shard) in shards.iter_mut().enumerate() {
            let end = End {
                plan: plan.clone(),
                plan_images: planned,
                jobs: shard.jobs,
                problems: shard.problems,
            };
            shard.push(&Line::End(end))?;
            shard.flush()?;
            // Create-only: a name taken meanwhile is never replaced.
            std::fs::hard_link(&shard.path, &names[i])
                .map_err(|e| format!("cannot write {}: {e}", names[i].display()))?;
            linked += 1;
        }
        Ok(ShardFilesWritten {
            plan,
            planned,
            problems,
            files: names.clone(),
        })
    });
    for shard in &shards {
        let _ = std::fs::remove_file(&shard.path);
    }
    // All or none: the files this call put in place go again when one could not be.
    if result.is_err() {
        for name in &names[..linked] {
            let _ = std::fs::remove_file(name);
        }
    }
    result
}

/// Streams the plan into the shards' files (their headers first); returns the plan's
/// identity, the images planned and the problems among them.
fn fill(
    run: &Run,
    count: u64,
    shards: &mut [Shard],
) -> Result<(PlanIdentity, usize, usize), String> {
    let header = header_of(run)?;
    for (i, shard) in shards.iter_mut().enumerate() {
        let header = Header {
            index: i as u64,
            count,
            ..header.clone()
        };
        // Truncates what a crashed plan of the same process id left.
        std::fs::write(&shard.path, b"")
            .map_err(|e| format!("cannot write {}: {e}", shard.path.display()))?;
        shard.push(&Line::Header(header))?;
    }
    let mut failure: Option<String> = None;
    let mut problems = 0;
    // Bytes pending in all shards.
    let mut held: usize = shards.iter().map(|shard| shard.pending.len()).sum();
    let (plan, planned) = run
        .plan_each(&mut |item| {
            if failure.is_some() {
                return;
            }
            let (key, line) = match item {
                Planned::Job(job) => (job.key.clone(), Line::Job(JobRow::of(&job))),
                Planned::Problem(path, error, key) => {
                    problems += 1;
                    let input = Text::of_path(&path);
                    (key, Line::Problem(ProblemRow { input, error }))
                }
                Planned::PassedOver(..) => return,
            };
            let shard = &mut shards[shard_of(&key, count) as usize];
            match &line {
                Line::Job(_) => shard.jobs += 1,
                _ => shard.problems += 1,
            }
            let before = shard.pending.len();
            if let Err(e) = shard.push(&line) {
                failure = Some(e);
            }
            held = held - before + shard.pending.len();
            if held > BUFFERED_IN_ALL {
                held = 0;
                if let Some(e) = shards.iter_mut().find_map(|shard| shard.flush().err()) {
                    failure = Some(e);
                }
            }
        })
        .map_err(|e| e.to_string())?;
    match failure {
        Some(e) => Err(e),
        None => Ok((plan, planned, problems)),
    }
}

/// The header of `run`'s plan, as shard 0 of 1: its output a folder made absolute (the
/// tasks may run elsewhere), or a bucket prefix as it is.
pub(super) fn header_of(run: &Run) -> Result<Header, String> {
    let given = &run.config().output;
    let output = match Location::parse(given)? {
        Location::Local(path) => std::path::absolute(&path)
            .map_err(|e| format!("cannot resolve {}: {e}", path.display()))?,
        Location::Object(..) => given.clone(),
    };
    Ok(Header {
        format: FORMAT.into(),
        index: 0,
        count: 1,
        output: Text::of_path(&output),
        spec: run.spec_used().clone(),
        unconditional_store: run.config().unconditional_store,
    })
}

/// One shard's file while it is written: its rows not yet appended, and its counts.
struct Shard {
    path: PathBuf,
    pending: Vec<u8>,
    jobs: usize,
    problems: usize,
}

impl Shard {
    /// Adds `line`, appending what is pending to the file once it is [`BUFFERED`] bytes.
    fn push(&mut self, line: &Line) -> Result<(), String> {
        serde_json::to_writer(&mut self.pending, line).expect("a shard file's line serialises");
        self.pending.push(b'\n');
        if self.pending.len() >= BUFFERED {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends what is pending to the file (nothing pending: the file is not touched).
    fn flush(&mut self) -> Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .and_then(|mut file| file.write_all(&self.pending));
        appended.map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        // Freed, not kept: a hundred thousand shards' emptied buffers would add up.
        self.pending = Vec::new();
        Ok(())
    }
}
