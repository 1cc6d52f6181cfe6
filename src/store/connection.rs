//! The connection to object stores through the `object_store` crate: one runtime of this
//! process, reachable from any thread (a worker thread, a worker process, the async mode's
//! own runtime), one client a bucket, and what their errors mean in words.
//!
//! Credentials and endpoints come from each cloud's usual environment variables (see the
//! docs/guide.md); they never appear in a message. Retries follow the run's download policy:
//! the same number of retries, backoff and time limits as URL downloads.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use object_store::path::Path as Key;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};

use super::url::{ObjectUrl, Scheme};
use crate::fetch::FetchPolicy;

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

#[cfg(test)]
mod tests;
