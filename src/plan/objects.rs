//! Bucket prefixes as inputs: listed (every page) and planned exactly like a folder, with
//! the same image recognition, the same relative names and the same order, so that
//! `s3://b/in` and a local copy of it give the same outputs under the same names.

use std::path::{Path, PathBuf};

use super::job_for;
use super::kinds::{kind_by_content, kind_by_extension};
use super::source::Item;
use crate::config::FormatChoice;
use crate::fetch::FetchPolicy;
use crate::image::unsupported;
use crate::job::Input;
use crate::store::{self, ObjectUrl};

/// Plans every image under `prefix`: objects named like images, and the others whose
/// first bytes are an image's. An address that names one object (nothing under it as a
/// folder) is planned as a file named directly.
pub(super) fn visit_prefix(
    prefix: &ObjectUrl,
    output: &Path,
    format: FormatChoice,
    policy: &FetchPolicy,
    f: &mut dyn FnMut(Item),
) -> Result<(), String> {
    let mut listed = store::list_blocking(prefix, policy)?;
    if listed.is_empty() && !prefix.key.is_empty() && store::exists_blocking(prefix, policy)? {
        let name = PathBuf::from(prefix.name());
        let kind = kind_by_extension(&name).unwrap_or(super::InputKind::Other);
        let mut job = job_for(&name, &name, kind, output, format);
        job.input = Input::Object(prefix.clone());
        f(Item::Job {
            job,
            key: super::key_of(&name),
            list: None,
        });
        return Ok(());
    }
    // The folder walk's order: names compared folder by folder.
    listed.sort_by(|a, b| Path::new(&a.rel).cmp(Path::new(&b.rel)));
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
            key: object.rel.as_bytes().to_vec(),
            list: None,
        });
    }
    Ok(())
}
