//! `imgpar merge-reports`: the reports of a sharded run's tasks, given as files, folders or
//! bucket prefixes, merged into one; the exit code says whether the shards add up.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::console::usage_error;
use crate::exit::ExitCode;
use crate::plan::Place;
use crate::render::LineFile;
use crate::report::ReportInput;
use crate::store::{self, Location};
use crate::{fetch::FetchPolicy, report};

/// Reads the reports (each a report file or object, or a folder or prefix holding them:
/// every `*.json` under it), prints the summary on stderr, writes the merged JSON to `out`
/// if given, and says by its exit code whether the shards add up: 0, 1 or 4 as
/// [`ExitCode::of_merged`] decides, 2 when a report cannot be read or is not an imgpar
/// report (nothing is merged then).
pub fn merge_reports(reports: &[PathBuf], out: Option<&Path>) -> ExitCode {
    let mut inputs = Vec::new();
    for given in reports {
        if let Some(out) = out
            && same_place(given, out)
        {
            return usage_error(&format!(
                "-o {} is one of the reports to merge: it would be replaced; write the merged \
                 report elsewhere",
                out.display()
            ));
        }
        let listed = is_listing(given);
        match reports_under(given, out) {
            Ok(paths) => inputs.extend(paths.into_iter().map(|path| report_input(path, listed))),
            Err(message) => return usage_error(&message),
        }
    }
    // Renamed into place only once the merge succeeded: a failed merge leaves every file
    // as it was.
    let merged_file =
        out.map(|out| LineFile::whole_or_nothing(out, r#"{"format":"imgpar-merged-2","images":["#));
    let merged = report::merge(&inputs, &mut |record| {
        if let Some(file) = &merged_file {
            file.item(record);
        }
    });
    let merged = match merged {
        Ok(merged) => merged,
        Err(message) => return usage_error(&message),
    };
    eprint!("{}", merged.summary_text());
    if let Some(file) = &merged_file {
        let rest = serde_json::to_string(&merged).expect("a merged report serialises");
        let rest = rest.strip_prefix('{').unwrap_or(&rest);
        if let Err(message) = file.finish(&format!("],{rest}")) {
            return usage_error(&format!("cannot write the merged report: {message}"));
        }
    }
    ExitCode::of_merged(&merged)
}

/// How to read the report at `path` (a file, read as a stream, or an object, fetched).
fn report_input(path: PathBuf, listed: bool) -> ReportInput {
    let name = path.display().to_string();
    let shown = name.clone();
    let open = move || -> Result<Box<dyn BufRead>, String> {
        let failed = |e: String| format!("cannot read the report {shown}: {e}");
        let Ok(Location::Local(local)) = Location::parse(&path) else {
            let bytes = store::read_result_file(&path).map_err(failed)?;
            return Ok(Box::new(std::io::Cursor::new(bytes)));
        };
        let file = std::fs::File::open(local).map_err(|e| failed(e.to_string()))?;
        Ok(Box::new(std::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    };
    ReportInput {
        name,
        open: Box::new(open),
        listed,
    }
}

/// Whether `given` is a folder or prefix of reports (each is then found, not named).
fn is_listing(given: &Path) -> bool {
    match Location::parse(given) {
        Ok(Location::Object(url, _)) => !url.key.to_ascii_lowercase().ends_with(".json"),
        Ok(Location::Local(local)) => local.is_dir(),
        Err(_) => false,
    }
}

/// Whether the report at `path` is a merged report (an earlier merge's output), by its
/// first bytes.
fn is_merged_report(path: &Path) -> bool {
    let head = report::MERGED_HEAD.as_bytes();
    let Ok(Location::Local(local)) = Location::parse(path) else {
        return store::read_result_file(path).is_ok_and(|bytes| bytes.starts_with(head));
    };
    let mut first = vec![0; head.len()];
    std::fs::File::open(local)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut first))
        .is_ok_and(|()| first == head)
}

/// Whether `a` and `b` name the same file or object.
fn same_place(a: &Path, b: &Path) -> bool {
    match (Place::of(a), Place::of(b)) {
        (Ok(a), Ok(b)) => a.same(&b),
        _ => false,
    }
}

/// The reports `given` names: itself when it is a file or an object named `*.json`, else
/// every `*.json` in the folder (not below it) or under the prefix, sorted by name, but
/// the merge's own output `out`.
fn reports_under(given: &Path, out: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    let mut refused = None;
    let mut not_out = |path: &Path| {
        let Some(out) = out.filter(|out| same_place(path, out)) else {
            return true;
        };
        // The merge's own output, found where it reads: an earlier merge's output is
        // passed over (and replaced on success); a task's report is never replaced.
        if !is_merged_report(path) {
            refused = Some(format!(
                "-o {} is one of the reports in {}: it would be replaced; write the merged \
                 report elsewhere",
                out.display(),
                given.display()
            ));
        }
        false
    };
    let is_json = |name: &str| name.to_ascii_lowercase().ends_with(".json");
    let location = Location::parse(given)?;
    if let Location::Object(url, _) = &location {
        if is_json(&url.key) {
            return Ok(vec![given.to_path_buf()]);
        }
        let mut found: Vec<String> = store::list_blocking(url, &FetchPolicy::default())?
            .into_iter()
            .map(|listed| listed.rel)
            .filter(|rel| is_json(rel) && !rel.contains('/'))
            .collect();
        found.sort();
        let found: Vec<PathBuf> = found
            .into_iter()
            .map(|rel| PathBuf::from(url.join(&rel).to_string()))
            .filter(|path| not_out(path))
            .collect();
        if let Some(refused) = refused {
            return Err(refused);
        }
        if found.is_empty() {
            return Err(format!("no reports (*.json) under {url}"));
        }
        return Ok(found);
    }
    let local = location.path();
    if !local.is_dir() {
        return Ok(vec![given.to_path_buf()]);
    }
    let entries = std::fs::read_dir(local)
        .map_err(|e| format!("cannot read the folder of reports {}: {e}", local.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.to_str().is_some_and(is_json) && not_out(path))
        .collect();
    if let Some(refused) = refused {
        return Err(refused);
    }
    found.sort();
    if found.is_empty() {
        return Err(format!("no reports (*.json) in {}", local.display()));
    }
    Ok(found)
}
