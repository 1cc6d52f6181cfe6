//! `imgpar plan --to s3://bucket/plan/`: the shard files written into a bucket prefix, so
//! that tasks on machines without a shared file system read their shard from there
//! (`imgpar run --plan s3://bucket/plan/shard-00007-of-01000.jsonl`).

use std::collections::HashSet;
use std::path::PathBuf;

use super::write::{ShardFilesWritten, file_name, write};
use crate::run::Run;
use crate::store::{self, ObjectUrl, PutFailure};

/// Writes `run`'s plan as `count` shard files under `prefix`, as [`write()`] writes them
/// into a folder: each made whole in a local temporary folder, then put create-only. None
/// replaces an object: when one of their names is taken (found before, or appearing
/// meanwhile), the files this call put go again and nothing is left.
pub fn write_to_prefix(
    run: &Run,
    count: u64,
    prefix: &ObjectUrl,
) -> Result<ShardFilesWritten, String> {
    let policy = &run.spec_used().fetch;
    let names: Vec<String> = (0..count).map(|i| file_name(i, count)).collect();
    let listed: HashSet<String> = store::list_blocking(prefix, policy)?
        .into_iter()
        .map(|listed| listed.rel)
        .collect();
    if let Some(taken) = names.iter().find(|name| listed.contains(*name)) {
        return Err(format!(
            "{} exists already: shard files are never replaced (remove the old plan, or \
             write this one under another prefix)",
            prefix.join(taken)
        ));
    }
    let staging = tempfile::tempdir()
        .map_err(|e| format!("cannot make a temporary folder for the shard files: {e}"))?;
    let mut written = write(run, count, staging.path())?;
    let mut put: Vec<ObjectUrl> = Vec::new();
    for (name, file) in names.iter().zip(&written.files) {
        let url = prefix.join(name);
        let stored = std::fs::read(file)
            .map_err(|e| format!("cannot read back {}: {e}", file.display()))
            .and_then(|bytes| {
                store::put_blocking(&url, bytes, false, policy).map_err(|failure| match failure {
                    PutFailure::Exists => format!(
                        "{url} appeared while the plan was written: shard files are never \
                         replaced"
                    ),
                    PutFailure::Failed { message, .. } => format!("cannot write {url}: {message}"),
                })
            });
        if let Err(message) = stored {
            for url in &put {
                let _ = store::delete_blocking(url, policy);
            }
            return Err(message);
        }
        put.push(url);
    }
    written.files = put
        .iter()
        .map(|url| PathBuf::from(url.to_string()))
        .collect();
    Ok(written)
}
