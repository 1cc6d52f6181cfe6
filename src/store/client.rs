//! Reads, writes and listings of object stores through the `object_store` crate, on one
//! runtime of this process, reachable from any thread (a worker thread, a worker process,
//! the async mode's own runtime).
//!
//! Credentials and endpoints come from each cloud's usual environment variables (see the
//! docs/guide.md); they never appear in a message. Retries follow the run's download policy:
//! the same number of retries, backoff and time limits as URL downloads.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    RetryConfig,
};

use futures_util::StreamExt;
use xxhash_rust::xxh3::xxh3_128;

use super::PutFailure;
use super::url::{ObjectUrl, Scheme};
use crate::failure::{ErrorKind, Failure};
use crate::fetch::{FetchPolicy, size_text};
use crate::hashes::{HashCounts, HashLog};

/// Listings and sniffs in flight at once.
pub(super) const CONCURRENT_REQUESTS: usize = 16;

/// Bytes read from an object whose name does not say what it is, to tell images apart.
pub(super) const SNIFF_BYTES: u64 = 32;

pub(super) fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("imgpar-store")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start object storage requests: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Runs `work` on the store runtime and waits for it, from any thread.
pub(super) fn block<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        let _ = sender.send(work.await);
    });
    receiver
        .recv()
        .map_err(|_| "object storage request abandoned".to_string())
}

/// Runs `work` on the store runtime and awaits it from another runtime's task.
pub(super) async fn on_runtime<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    runtime()?
        .spawn(work)
        .await
        .map_err(|_| "object storage request abandoned".to_string())
}

type Stores = HashMap<(Scheme, String), (FetchPolicy, Arc<dyn ObjectStore>)>;

/// The client of `url`'s bucket under `policy`, made on first use and shared after.
pub(super) fn store(url: &ObjectUrl, policy: &FetchPolicy) -> Result<Arc<dyn ObjectStore>, String> {
    static STORES: OnceLock<Mutex<Stores>> = OnceLock::new();
    let mut stores = STORES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let slot = (url.scheme, url.bucket.clone());
    if let Some((made_with, store)) = stores.get(&slot)
        && made_with == policy
    {
        return Ok(Arc::clone(store));
    }
    // Installing twice is harmless: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = build(url, policy).map_err(|e| {
        let hint = match url.scheme {
            Scheme::Azure => {
                " (set AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY, \
                 AZURE_STORAGE_SAS_KEY or AZURE_STORAGE_TOKEN; for Azurite, \
                 AZURE_STORAGE_USE_EMULATOR=true)"
            }
            Scheme::Gcs => {
                " (set GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_SERVICE_ACCOUNT or \
                 GOOGLE_SERVICE_ACCOUNT_KEY)"
            }
            Scheme::S3 => " (set AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        };
        format!("cannot set up {}: {}{hint}", bucket_of(url), describe(&e))
    })?;
    stores.insert(slot, (policy.clone(), Arc::clone(&store)));
    Ok(store)
}

fn bucket_of(url: &ObjectUrl) -> ObjectUrl {
    ObjectUrl {
        key: String::new(),
        ..url.clone()
    }
}

/// The crate's retry settings for the run's download policy: as many retries, the same
/// backoff (from [`crate::fetch::BACKOFF_START`] doubling to [`crate::fetch::BACKOFF_CAP`])
/// and the same time limits.
fn retry(policy: &FetchPolicy) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: crate::fetch::BACKOFF_START,
            max_backoff: crate::fetch::BACKOFF_CAP,
            base: 2.0,
        },
        max_retries: policy.retries as usize,
        retry_timeout: policy.attempt_timeout * (policy.retries + 1),
    }
}

fn build(url: &ObjectUrl, policy: &FetchPolicy) -> object_store::Result<Arc<dyn ObjectStore>> {
    let timeouts = [
        (ClientConfigKey::Timeout, policy.attempt_timeout),
        (ClientConfigKey::ConnectTimeout, policy.connect_timeout),
    ]
    .map(|(key, limit)| (key, format!("{}ms", limit.as_millis())));
    Ok(match url.scheme {
        Scheme::S3 => {
            let mut builder = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(&url.bucket)
                .with_retry(retry(policy));
            for (key, value) in timeouts {
                builder =
                    builder.with_config(object_store::aws::AmazonS3ConfigKey::Client(key), value);
            }
            Arc::new(builder.build()?)
        }
        Scheme::Gcs => {
            let mut builder = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(&url.bucket)
                .with_retry(retry(policy));
            for (key, value) in timeouts {
                builder =
                    builder.with_config(object_store::gcp::GoogleConfigKey::Client(key), value);
            }
            Arc::new(builder.build()?)
        }
        Scheme::Azure => {
            let mut builder = object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_container_name(&url.bucket)
                .with_retry(retry(policy));
            for (key, value) in timeouts {
                builder =
                    builder.with_config(object_store::azure::AzureConfigKey::Client(key), value);
            }
            Arc::new(builder.build()?)
        }
    })
}

/// A crate error in a sentence: the kind of problem, without request details that could
/// carry signed headers.
pub(super) fn describe(error: &object_store::Error) -> String {
    match error {
        object_store::Error::NotFound { .. } => "not found".into(),
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            "already exists".into()
        }
        object_store::Error::PermissionDenied { .. } => {
            "access denied (check the bucket's permissions for these credentials)".into()
        }
        object_store::Error::Unauthenticated { .. } => {
            "not signed in (check the credentials in the environment)".into()
        }
        object_store::Error::InvalidPath { source } => format!(
            "an object name imgpar cannot use, with a `.` or `..` folder or an empty one \
             ({source}); rename that object"
        ),
        other => {
            // One line, whatever the server or the crate put on several.
            let text = other
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(said) = server_said(&text) {
                return said;
            }
            match text.char_indices().nth(300) {
                Some((cut, _)) => format!("{}...", &text[..cut]),
                None => text,
            }
        }
    }
}

/// The error code and message of an S3-style XML error body inside `text`
/// (`NoSuchBucket: The specified bucket does not exist`), if it holds one.
fn server_said(text: &str) -> Option<String> {
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{name}>"))?;
        Some(&text[start..end])
    };
    let code = element("Code")?;
    Some(match element("Message") {
        Some(message) => format!("the server says {code}: {message}"),
        None => format!("the server says {code}"),
    })
}

pub(super) fn key(url: &ObjectUrl) -> Result<Key, String> {
    Key::parse(&url.key).map_err(|_| format!("{url}: not a valid object name"))
}

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

#[cfg(test)]
mod tests;
