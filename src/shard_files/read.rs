//! A shard file, checked whole before anything converts: its header first, its end last.
//! The same rows held in memory (a batch of a plan an engine's task was handed) read as a
//! shard file does.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::lines::{End, FORMAT, Header, Line};
use crate::fetch::FetchPolicy;
use crate::job::Job;
use crate::store::{Location, ObjectUrl};

/// The end line is read from at most this much of the file's end.
const TAIL: u64 = 1 << 20;

/// One row of a shard file.
#[derive(Debug)]
pub enum Row {
    /// An image to convert, numbered from 0 within the file.
    Job(Job),
    /// An input that failed before it could be an image, and why.
    Problem(PathBuf, String),
}

/// A shard file written by `imgpar plan`, its header and end read: its rows come from
/// [`ShardFile::rows`].
#[derive(Debug)]
pub struct ShardFile {
    /// The file, or the name given to rows held in memory (for messages).
    path: PathBuf,
    /// The rows, when they are held in memory rather than read from `path`.
    held: Option<Vec<String>>,
    /// What chose the shard, as its report says.
    source: &'static str,
    pub(super) header: Header,
    pub(super) end: End,
}

impl ShardFile {
    /// Opens the shard file at `path` (a file, or an object: `s3://...`, read whole): its
    /// first line must be a header of this format and its last line its end (a file cut
    /// short has none, and is refused).
    pub fn open(path: &Path) -> Result<ShardFile, String> {
        if let Location::Object(url, _) = Location::parse(path)? {
            return ShardFile::of_object(path, &url);
        }
        let at = |e: String| format!("{}: {e}", path.display());
        let mut file = std::fs::File::open(path).map_err(|e| at(format!("cannot read: {e}")))?;
        let mut first = String::new();
        BufReader::new(&mut file)
            .read_line(&mut first)
            .map_err(|e| at(format!("cannot read: {e}")))?;
        let header = match serde_json::from_str::<Line>(&first) {
            Ok(Line::Header(header)) if header.format == FORMAT => header,
            Ok(Line::Header(header)) => {
                return Err(at(format!(
                    "a shard file of another imgpar ({}; this one reads {FORMAT})",
                    header.format
                )));
            }
            _ => return Err(at("not a shard file written by imgpar plan".into())),
        };
        let end = last_line(&mut file)
            .map_err(|e| at(format!("cannot read: {e}")))?
            .and_then(|line| match serde_json::from_slice::<Line>(&line) {
                Ok(Line::End(end)) => Some(end),
                _ => None,
            })
            .ok_or_else(|| at("cut short: its last line is not the end of the plan".into()))?;
        Ok(ShardFile {
            path: path.to_path_buf(),
            held: None,
            source: "--plan",
            header,
            end,
        })
    }

    /// The shard file at the object `url` (named `path` on the command line), read whole:
    /// a shard's rows are what its task converts, a small share of the plan.
    fn of_object(path: &Path, url: &ObjectUrl) -> Result<ShardFile, String> {
        let at = |e: &str| format!("{url}: {e}");
        let bytes = crate::store::get_blocking(url, &FetchPolicy::default())
            .map_err(|failure| at(&format!("cannot read: {}", failure.message)))?;
        let text = String::from_utf8(bytes).map_err(|_| at("not a shard file (not UTF-8)"))?;
        let Some(body) = text.strip_suffix('\n') else {
            return Err(at("cut short: its last line is not the end of the plan"));
        };
        let mut lines = body.split('\n');
        let first = lines.next().unwrap_or_default();
        let header = match serde_json::from_str::<Line>(first) {
            Ok(Line::Header(header)) if header.format == FORMAT => header,
            Ok(Line::Header(header)) => {
                return Err(at(&format!(
                    "a shard file of another imgpar ({}; this one reads {FORMAT})",
                    header.format
                )));
            }
            _ => return Err(at("not a shard file written by imgpar plan")),
        };
        let mut rows: Vec<String> = lines.map(str::to_owned).collect();
        let end = rows
            .pop()
            .and_then(|last| match serde_json::from_str::<Line>(&last) {
                Ok(Line::End(end)) => Some(end),
                _ => None,
            })
            .ok_or_else(|| at("cut short: its last line is not the end of the plan"))?;
        Ok(ShardFile {
            path: path.to_path_buf(),
            held: Some(rows),
            source: "--plan",
            header,
            end,
        })
    }

    /// Rows held in memory as one shard file's: `rows` (job and problem lines, as a shard
    /// file holds them) as shard `index` of `count` of the plan whose `header` and `end`
    /// lines are given (those of [`super::PlanLines`]). `name` stands for the file in
    /// messages. Fails when the header or end is not of this format, or the shard is out
    /// of range; the rows themselves are checked as they are read.
    pub fn of_rows(
        name: &str,
        header: &str,
        end: &str,
        rows: Vec<String>,
        (index, count): (u64, u64),
    ) -> Result<ShardFile, String> {
        let at = |e: &str| format!("{name}: {e}");
        let mut header = match serde_json::from_str::<Line>(header) {
            Ok(Line::Header(header)) if header.format == FORMAT => header,
            _ => return Err(at("its header is not that of an imgpar plan")),
        };
        let Ok(Line::End(mut end)) = serde_json::from_str::<Line>(end) else {
            return Err(at("its end is not that of an imgpar plan"));
        };
        if index >= count {
            return Err(at(&format!("shard {index} of {count} does not exist")));
        }
        (header.index, header.count) = (index, count);
        let problems = rows
            .iter()
            .filter(|row| row.starts_with(r#"{"problem""#))
            .count();
        (end.jobs, end.problems) = (rows.len() - problems, problems);
        Ok(ShardFile {
            path: PathBuf::from(name),
            held: Some(rows),
            source: "rows",
            header,
            end,
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The output folder or bucket prefix the rows write below.
    pub fn output(&self) -> PathBuf {
        self.header.output.clone().into_path()
    }

    /// This shard (0-based) and the number of shards.
    pub fn shard(&self) -> (u64, u64) {
        (self.header.index, self.header.count)
    }

    /// What chose this shard, as its report says: `--plan` for a file, `rows` for rows
    /// held in memory (a batch an engine's task was handed).
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The images of the file (inputs that failed included).
    pub fn images(&self) -> usize {
        self.end.jobs + self.end.problems
    }

    /// Yields the file's rows in order, jobs numbered from 0. Fails when a line does not
    /// read, or the rows are not as many as the end says.
    pub fn rows(&self, f: &mut dyn FnMut(Row)) -> Result<(), String> {
        let at = |e: String| format!("{}: {e}", self.path.display());
        match &self.held {
            Some(rows) => {
                self.read_rows(rows.iter().map(|row| Ok(Cow::Borrowed(row.as_bytes()))), f)
            }
            None => {
                let file =
                    std::fs::File::open(&self.path).map_err(|e| at(format!("cannot read: {e}")))?;
                let lines = BufReader::new(file)
                    .split(b'\n')
                    .map(|line| line.map(Cow::Owned));
                self.read_rows(lines, f)
            }
        }
    }

    /// Yields the rows of `lines` (a file's: header first, end last; or rows alone).
    fn read_rows<'a>(
        &self,
        lines: impl Iterator<Item = std::io::Result<Cow<'a, [u8]>>>,
        f: &mut dyn FnMut(Row),
    ) -> Result<(), String> {
        let at = |e: String| format!("{}: {e}", self.path.display());
        let root = self.output();
        let (mut jobs, mut problems) = (0, 0);
        for (number, line) in lines.enumerate() {
            let line = line.map_err(|e| at(format!("cannot read: {e}")))?;
            let line = serde_json::from_slice::<Line>(&line)
                .map_err(|e| at(format!("line {}: {e}", number + 1)))?;
            match line {
                Line::Job(row) => {
                    let job = row
                        .into_job(jobs, &root)
                        .map_err(|e| at(format!("line {}: {e}", number + 1)))?;
                    jobs += 1;
                    f(Row::Job(job));
                }
                Line::Problem(problem) => {
                    problems += 1;
                    f(Row::Problem(problem.input.into_path(), problem.error));
                }
                Line::Header(_) if number == 0 => {}
                Line::End(_) => break,
                Line::Header(_) => return Err(at(format!("line {}: a second header", number + 1))),
            }
        }
        if (jobs, problems) != (self.end.jobs, self.end.problems) {
            return Err(at(format!(
                "{jobs} images and {problems} failed inputs, where its end says {} and {}",
                self.end.jobs, self.end.problems
            )));
        }
        Ok(())
    }
}

/// The file's last line (without its newline), read from its last [`TAIL`] bytes.
fn last_line(file: &mut std::fs::File) -> std::io::Result<Option<Vec<u8>>> {
    let length = file.seek(SeekFrom::End(0))?;
    let start = length.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.take(TAIL).read_to_end(&mut tail)?;
    let Some(body) = tail.strip_suffix(b"\n") else {
        return Ok(None);
    };
    let from = body
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    Ok(Some(body[from..].to_vec()))
}
