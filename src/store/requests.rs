//! Requests on single objects: reads (whole or their two ends), existence checks, create-only
//! or replacing writes, and deletes, each retried as the run's download policy says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use futures_util::StreamExt;
use xxhash_rust::xxh3::xxh3_128;

use super::PutFailure;
use super::url::ObjectUrl;
use crate::failure::{ErrorKind, Failure};
use crate::fetch::{FetchPolicy, size_text};
use crate::hashes::{HashCounts, HashLog};

use super::connection::{block, describe, key, on_runtime, store};

/// Reads the object at `url`, refusing one larger than the policy's `max_bytes`.
pub async fn get(url: &ObjectUrl, policy: &FetchPolicy) -> Result<Vec<u8>, Failure> {
    let (store, key) = (
        store(url, policy).map_err(download)?,
        key(url).map_err(download)?,
    );
    let cap = policy.max_bytes;
    let work = async move {
        let result = store.get(&key).await.map_err(|e| describe(&e))?;
        if result.meta.size > cap {
            return Err(format!(
                "larger than --max-download {} (the object is {})",
                size_text(cap),
                size_text(result.meta.size)
            ));
        }
        let bytes = result.bytes().await.map_err(|e| describe(&e))?;
        Ok(bytes.to_vec())
    };
    on_runtime(work)
        .await
        .and_then(|read| read)
        .map_err(|reason| download(format!("cannot read {url}: {reason}")))
}

/// The first `n` bytes of the object at `url` and, when it is longer, its last `n`: where
/// a file keeps a short line of its own (see `job/provenance.rs`), read in one or two
/// requests whatever the object's size.
pub async fn get_ends(url: &ObjectUrl, policy: &FetchPolicy, n: u64) -> Result<Vec<u8>, Failure> {
    use object_store::{GetOptions, GetRange};
    let (store, key) = (
        store(url, policy).map_err(download)?,
        key(url).map_err(download)?,
    );
    let work = async move {
        let ranged = |range: GetRange| GetOptions {
            range: Some(range),
            ..GetOptions::default()
        };
        let head = store
            .get_opts(&key, ranged(GetRange::Bounded(0..n)))
            .await
            .map_err(|e| describe(&e))?;
        let size = head.meta.size;
        let mut bytes = head.bytes().await.map_err(|e| describe(&e))?.to_vec();
        if size > n {
            let tail = store
                .get_opts(&key, ranged(GetRange::Suffix(n.min(size - n))))
                .await
                .map_err(|e| describe(&e))?;
            bytes.extend_from_slice(&tail.bytes().await.map_err(|e| describe(&e))?);
        }
        Ok(bytes)
    };
    on_runtime(work)
        .await
        .and_then(|read| read)
        .map_err(|reason| download(format!("cannot read {url}: {reason}")))
}

/// [`get_ends`] from a thread that may block.
pub fn get_ends_blocking(
    url: &ObjectUrl,
    policy: &FetchPolicy,
    n: u64,
) -> Result<Vec<u8>, Failure> {
    let (url, policy) = (url.clone(), policy.clone());
    block(async move { get_ends(&url, &policy, n).await })
        .map_err(download)
        .and_then(|read| read)
}

/// [`get`] from a thread that may block.
pub fn get_blocking(url: &ObjectUrl, policy: &FetchPolicy) -> Result<Vec<u8>, Failure> {
    let (url, policy) = (url.clone(), policy.clone());
    block(async move { get(&url, &policy).await })
        .map_err(download)
        .and_then(|read| read)
}

fn download(reason: String) -> Failure {
    Failure::new(ErrorKind::Download, reason)
}

/// Whether an output object stands at `url`, going by one listing of `root` (the run's
/// output prefix) made at the first question in this process, instead of one request per
/// image: an object listed then exists; one that appeared since is caught by the
/// create-only write.
pub async fn output_exists(
    root: &ObjectUrl,
    url: &ObjectUrl,
    policy: &FetchPolicy,
) -> Result<bool, String> {
    type Listing = Arc<tokio::sync::OnceCell<Result<HashCounts<u128>, String>>>;
    static LISTINGS: OnceLock<Mutex<HashMap<ObjectUrl, Listing>>> = OnceLock::new();
    let listing = Arc::clone(
        LISTINGS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(root.clone())
            .or_default(),
    );
    let (root, policy) = (root.clone(), policy.clone());
    let key = xxh3_128(url.key.as_bytes());
    on_runtime(async move {
        let keys = listing
            .get_or_init(|| async {
                // 16 bytes a listed object (a 128-bit hash of its key): a false match
                // is a chance of about one in 10^19 for ten million objects.
                let mut keys = HashLog::default();
                let mut stream_of = super::listing::stream(&root, &policy)?;
                while let Some(meta) = stream_of.next().await {
                    let meta = meta.map_err(|e| format!("cannot list {root}: {}", describe(&e)))?;
                    keys.push(xxh3_128(meta.location.as_ref().as_bytes()));
                }
                Ok(keys.seal())
            })
            .await;
        keys.as_ref()
            .map(|keys| keys.contains(key))
            .map_err(Clone::clone)
    })
    .await?
}

/// [`output_exists`] from a thread that may block.
pub fn output_exists_blocking(
    root: &ObjectUrl,
    url: &ObjectUrl,
    policy: &FetchPolicy,
) -> Result<bool, String> {
    let (root, url, policy) = (root.clone(), url.clone(), policy.clone());
    block(async move { output_exists(&root, &url, &policy).await }).and_then(|found| found)
}

/// Whether an object stands at `url` (one request), from a thread that may block.
pub fn exists_blocking(url: &ObjectUrl, policy: &FetchPolicy) -> Result<bool, String> {
    let (store, key) = (store(url, policy)?, key(url)?);
    match block(async move { store.head(&key).await })? {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(format!("cannot look for {url}: {}", describe(&e))),
    }
}

/// Writes `bytes` as the object at `url` in one request: it appears whole or not at all.
/// With `replace` false the write is create-only (`If-None-Match: *`): an object already
/// there is left alone, even one that a racing task wrote a moment ago.
pub async fn put(
    url: &ObjectUrl,
    bytes: Vec<u8>,
    replace: bool,
    policy: &FetchPolicy,
) -> Result<(), PutFailure> {
    let failed = |message: String, every_write: bool| PutFailure::Failed {
        message,
        every_write,
    };
    let store = store(url, policy).map_err(|m| failed(m, true))?;
    let key = key(url).map_err(|m| failed(m, false))?;
    let mode = if replace {
        PutMode::Overwrite
    } else {
        PutMode::Create
    };
    let options = PutOptions {
        mode,
        ..PutOptions::default()
    };
    let put =
        on_runtime(async move { store.put_opts(&key, PutPayload::from(bytes), options).await })
            .await
            .map_err(|m| failed(m, false))?;
    match put {
        Ok(_) => Ok(()),
        Err(
            object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. },
        ) => Err(PutFailure::Exists),
        Err(e) => {
            let every_write = matches!(
                e,
                object_store::Error::NotFound { .. }
                    | object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
            );
            Err(failed(
                format!("cannot write {url}: {}", describe(&e)),
                every_write,
            ))
        }
    }
}

/// [`put`] from a thread that may block.
pub fn put_blocking(
    url: &ObjectUrl,
    bytes: Vec<u8>,
    replace: bool,
    policy: &FetchPolicy,
) -> Result<(), PutFailure> {
    let (url, policy) = (url.clone(), policy.clone());
    block(async move { put(&url, bytes, replace, &policy).await })
        .map_err(|message| PutFailure::Failed {
            message,
            every_write: false,
        })
        .and_then(|put| put)
}

/// Removes the object at `url` (one that is not there counts as removed), from a thread
/// that may block.
pub fn delete_blocking(url: &ObjectUrl, policy: &FetchPolicy) -> Result<(), String> {
    let (store, key) = (store(url, policy)?, key(url)?);
    match block(async move { store.delete(&key).await })? {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(format!("cannot remove {url}: {}", describe(&e))),
    }
}
