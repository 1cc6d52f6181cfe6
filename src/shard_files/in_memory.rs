//! The whole plan as lines held in memory, for a program that hands rows to tasks itself
//! (the Python package's engines): the lines a shard file holds, with the plan as one
//! shard; any run of its rows converts as a shard file's do ([`ShardFile::of_rows`]).
//!
//! [`ShardFile::of_rows`]: super::ShardFile::of_rows

use super::lines::{End, JobRow, Line, ProblemRow, Text};
use super::write::header_of;
use crate::plan::Planned;
use crate::report::PlanIdentity;
use crate::run::Run;

/// A plan's lines besides its rows: its header and its end.
#[derive(Debug, Clone)]
pub struct PlanLines {
    /// The header line: output, conversion settings and existing-output policy.
    pub header: String,
    /// Rows (images) in the plan.
    pub rows: usize,
    /// The end line: the plan's identity and counts.
    pub end: String,
    /// The plan's identity.
    pub plan: PlanIdentity,
    /// Rows that are inputs which failed before becoming images.
    pub problems: usize,
}

/// Plans `run` once (its inputs, output and settings; a shard it was given is ignored),
/// handing each row's line (a job, or an input that failed before it could be an image)
/// to `row` in plan order, and returns the header and end. Nothing is held per row.
pub fn plan_lines(run: &Run, row: &mut dyn FnMut(String)) -> Result<PlanLines, String> {
    let header =
        serde_json::to_string(&Line::Header(header_of(run)?)).expect("a header line serialises");
    let mut rows = 0;
    let mut problems = 0;
    let (plan, planned) = run
        .plan_each(&mut |item| {
            let line = match item {
                Planned::Job(job) => Line::Job(JobRow::of(&job)),
                Planned::Problem(path, error, _) => {
                    problems += 1;
                    let input = Text::of_path(&path);
                    Line::Problem(ProblemRow { input, error })
                }
                Planned::PassedOver(..) => return,
            };
            rows += 1;
            row(serde_json::to_string(&line).expect("a row serialises"));
        })
        .map_err(|e| e.to_string())?;
    let end = End {
        plan: plan.clone(),
        plan_images: planned,
        jobs: rows - problems,
        problems,
    };
    Ok(PlanLines {
        header,
        rows,
        end: serde_json::to_string(&Line::End(end)).expect("an end line serialises"),
        plan,
        problems,
    })
}
