//! A local file put as an object without holding it: small files in one request, larger
//! ones as a multipart upload read from the file a part at a time. For result files (a
//! run's report, written as the run goes into a temporary file), which replace what is
//! there.

use std::io::Read;

use object_store::{ObjectStoreExt, WriteMultipart};

use super::connection::{block, describe, key, store};
use super::url::ObjectUrl;
use crate::fetch::FetchPolicy;

/// Files up to this size go in one request; larger ones in parts of this size.
pub const PART_BYTES: usize = 8 << 20;

/// Parts in flight at once.
const PARTS_AT_ONCE: usize = 2;

/// Puts the contents of `file` (read from its current position to its end) at `url`,
/// replacing any object there; at most [`PARTS_AT_ONCE`] parts of [`PART_BYTES`] are
/// held at a time. From a thread that may block.
pub fn put_file_blocking(
    url: &ObjectUrl,
    mut file: std::fs::File,
    policy: &FetchPolicy,
) -> Result<(), String> {
    let mut first = Vec::with_capacity(PART_BYTES);
    (&mut file)
        .take(PART_BYTES as u64 + 1)
        .read_to_end(&mut first)
        .map_err(|e| format!("cannot read back its temporary copy: {e}"))?;
    if first.len() <= PART_BYTES {
        return super::replace_object(url, first, policy);
    }
    let (store, key, shown) = (store(url, policy)?, key(url)?, url.to_string());
    block(async move {
        let failed = |e: object_store::Error| format!("cannot write {shown}: {}", describe(&e));
        let upload = store.put_multipart(&key).await.map_err(failed)?;
        let mut parts = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut chunk = first;
        loop {
            parts
                .wait_for_capacity(PARTS_AT_ONCE)
                .await
                .map_err(failed)?;
            parts.write(&chunk);
            chunk.clear();
            // A local file, read on the store's runtime: a part at a time, quickly.
            let read = tokio::task::block_in_place(|| {
                (&mut file).take(PART_BYTES as u64).read_to_end(&mut chunk)
            })
            .map_err(|e| format!("cannot read back its temporary copy: {e}"))?;
            if read == 0 {
                break;
            }
        }
        parts.finish().await.map(drop).map_err(failed)
    })?
}
