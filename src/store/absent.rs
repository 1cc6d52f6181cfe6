//! Object storage requests in a build without the `cloud` feature: each fails and says so.

use super::PutFailure;
use super::url::ObjectUrl;
use crate::failure::{ErrorKind, Failure};
use crate::fetch::FetchPolicy;

const NEEDS_CLOUD: &str = "object storage needs imgpar built with the `cloud` feature";

/// Fails: this build has no object storage.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub async fn get(url: &ObjectUrl, policy: &FetchPolicy) -> Result<Vec<u8>, Failure> {
    get_blocking(url, policy)
}

/// Fails: this build has no object storage.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub async fn get_ends(url: &ObjectUrl, policy: &FetchPolicy, _: u64) -> Result<Vec<u8>, Failure> {
    get_blocking(url, policy)
}

/// Fails: this build has no object storage.
pub fn get_ends_blocking(
    url: &ObjectUrl,
    policy: &FetchPolicy,
    _: u64,
) -> Result<Vec<u8>, Failure> {
    get_blocking(url, policy)
}

/// Fails: this build has no object storage.
pub fn get_blocking(url: &ObjectUrl, _: &FetchPolicy) -> Result<Vec<u8>, Failure> {
    Err(Failure::new(
        ErrorKind::Unsupported,
        format!("cannot read {url}: {NEEDS_CLOUD}"),
    ))
}

/// Fails: this build has no object storage.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub async fn output_exists(
    _: &ObjectUrl,
    url: &ObjectUrl,
    policy: &FetchPolicy,
) -> Result<bool, String> {
    exists_blocking(url, policy)
}

/// Fails: this build has no object storage.
pub fn output_exists_blocking(
    _: &ObjectUrl,
    url: &ObjectUrl,
    policy: &FetchPolicy,
) -> Result<bool, String> {
    exists_blocking(url, policy)
}

/// Fails: this build has no object storage.
pub fn exists_blocking(url: &ObjectUrl, _: &FetchPolicy) -> Result<bool, String> {
    Err(format!("cannot look for {url}: {NEEDS_CLOUD}"))
}

/// Fails: this build has no object storage.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub async fn put(
    url: &ObjectUrl,
    bytes: Vec<u8>,
    replace: bool,
    policy: &FetchPolicy,
) -> Result<(), PutFailure> {
    put_blocking(url, bytes, replace, policy)
}

/// Fails: this build has no object storage.
pub fn put_blocking(
    url: &ObjectUrl,
    _: Vec<u8>,
    _: bool,
    _: &FetchPolicy,
) -> Result<(), PutFailure> {
    Err(PutFailure::Failed {
        message: format!("cannot write {url}: {NEEDS_CLOUD}"),
        every_write: true,
    })
}

/// Fails: this build has no object storage.
pub fn delete_blocking(url: &ObjectUrl, _: &FetchPolicy) -> Result<(), String> {
    Err(format!("cannot remove {url}: {NEEDS_CLOUD}"))
}

/// An object under a listed prefix.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The key below the prefix.
    pub rel: String,
}

/// Fails: this build has no object storage.
#[cfg(feature = "cli")]
pub fn list_blocking(url: &ObjectUrl, _: &FetchPolicy) -> Result<Vec<Listed>, String> {
    Err(format!("cannot list {url}: {NEEDS_CLOUD}"))
}

/// Fails: this build has no object storage.
pub fn list_each(
    url: &ObjectUrl,
    _: &FetchPolicy,
    _: &mut dyn FnMut(Listed),
) -> Result<(), String> {
    Err(format!("cannot list {url}: {NEEDS_CLOUD}"))
}

/// Nothing can be read: every head is empty.
pub fn heads_blocking(urls: Vec<ObjectUrl>, _: &FetchPolicy) -> Vec<Vec<u8>> {
    vec![Vec::new(); urls.len()]
}
