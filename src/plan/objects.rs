//! Bucket prefixes as inputs: listed page by page and planned like a folder, with the
//! same image recognition and the same relative names, so that `s3://b/in` and a local
//! copy of it give the same outputs under the same names. The plan takes the objects in
//! the store's order (by key), which differs from a walk's folder-by-folder order only
//! between a folder and a sibling whose name continues with a character before `/`
//! (`a/x.png` and `a-b.png`): never between two outputs that could share a name (for
//! names whose case folds to the same length, all ASCII names among them), so the names
//! are those of the local copy.

use std::path::{Path, PathBuf};

use super::item::Item;
use super::job_for;
use super::kinds::{kind_by_content, kind_by_extension};
use crate::config::FormatChoice;
use crate::fetch::FetchPolicy;
use crate::image::unsupported;
use crate::job::Input;
use crate::store::{self, ObjectUrl};

/// Plans every image under `prefix`: objects named like images, and the others whose
/// first bytes are an image's, page by page as the store lists them (by key; the first
/// bytes of unnamed objects are read [`HEADS_AT_ONCE`] objects at a time). An address that
/// names one object (nothing under it as a folder) is planned as a file named directly.
pub(super) fn visit_prefix(
    prefix: &ObjectUrl,
    output: &Path,
    format: FormatChoice,
    policy: &FetchPolicy,
    f: &mut dyn FnMut(Item),
) -> Result<(), String> {
    let mut listed_any = false;
    let mut batch: Vec<store::Listed> = Vec::with_capacity(HEADS_AT_ONCE);
    let mut planned = |batch: &mut Vec<store::Listed>| {
        plan_batch(prefix, std::mem::take(batch), output, format, policy, f)
    };
    store::list_each(prefix, policy, &mut |object| {
        listed_any = true;
        batch.push(object);
        if batch.len() == HEADS_AT_ONCE {
            planned(&mut batch);
        }
    })?;
    planned(&mut batch);
    if !listed_any && !prefix.key.is_empty() && store::exists_blocking(prefix, policy)? {
        let name = PathBuf::from(prefix.name());
        let kind = kind_by_extension(&name).unwrap_or(super::InputKind::OTHER);
        let mut job = job_for(&name, &name, kind, output, format);
        job.input = Input::Object(prefix.clone());
        f(Item::Job {
            job,
            list: None,
            linked: false,
        });
    }
    Ok(())
}

/// Listed objects planned together: the first bytes of those whose names do not say
/// what they are are read together, in parallel.
pub const HEADS_AT_ONCE: usize = 256;

/// Plans one batch of listed objects, in listing order.
fn plan_batch(
    prefix: &ObjectUrl,
    listed: Vec<store::Listed>,
    output: &Path,
    format: FormatChoice,
    policy: &FetchPolicy,
    f: &mut dyn FnMut(Item),
) {
    let unnamed: Vec<ObjectUrl> = listed
        .iter()
        .filter(|object| kind_by_extension(Path::new(&object.rel)).is_none())
        .map(|object| prefix.join(&object.rel))
        .collect();
    let mut heads = store::heads_blocking(unnamed, policy).into_iter();
    for object in &listed {
        let rel = Path::new(&object.rel);
        let url = prefix.join(&object.rel);
        let kind = match kind_by_extension(rel) {
            Some(kind) => Ok(kind),
            None => {
                let head = heads.next().unwrap_or_default();
                kind_by_content(&head, false).ok_or_else(|| unsupported::not_an_image(&head))
            }
        };
        let kind = match kind {
            Ok(kind) => kind,
            Err(reason) => {
                f(Item::PassedOver {
                    path: PathBuf::from(url.to_string()),
                    reason,
                });
                continue;
            }
        };
        let mut job = job_for(Path::new(&url.to_string()), rel, kind, output, format);
        job.input = Input::Object(url);
        f(Item::Job {
            job,
            list: None,
            linked: false,
        });
    }
}
