//! Listings of bucket prefixes (all pages) and the first bytes of objects, for the plan.

use futures_util::StreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};

use super::client::{CONCURRENT_REQUESTS, SNIFF_BYTES, block, describe, key, on_runtime, store};
use super::url::ObjectUrl;
use crate::fetch::FetchPolicy;

/// An object under a listed prefix: its key relative to the prefix.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The key below the prefix, folders separated by `/`.
    pub rel: String,
}

/// Every object under the prefix `url`, all pages, on the store runtime.
pub(super) async fn list(url: &ObjectUrl, policy: &FetchPolicy) -> Result<Vec<ObjectMeta>, String> {
    let store = store(url, policy)?;
    let prefix = if url.key.is_empty() {
        None
    } else {
        Some(key(url)?)
    };
    let listed = on_runtime(async move {
        let mut stream = store.list(prefix.as_ref());
        let mut found = Vec::new();
        while let Some(meta) = stream.next().await {
            found.push(meta?);
        }
        Ok::<_, object_store::Error>(found)
    })
    .await?;
    listed.map_err(|e| format!("cannot list {url}: {}", describe(&e)))
}

/// Every object under the prefix `url` (all pages), in no particular order.
pub fn list_blocking(url: &ObjectUrl, policy: &FetchPolicy) -> Result<Vec<Listed>, String> {
    let listed = {
        let (url, policy) = (url.clone(), policy.clone());
        block(async move { list(&url, &policy).await })??
    };
    let strip = if url.key.is_empty() {
        0
    } else {
        url.key.len() + 1
    };
    Ok(listed
        .into_iter()
        .filter_map(|meta| {
            let rel = meta.location.as_ref().get(strip..)?.to_string();
            (!rel.is_empty()).then_some(Listed { rel })
        })
        .collect())
}

/// The first bytes of each object of `urls` (empty when it cannot be read), fetched
/// several at a time, in the order of `urls`.
pub fn heads_blocking(urls: Vec<ObjectUrl>, policy: &FetchPolicy) -> Vec<Vec<u8>> {
    let count = urls.len();
    let mut reads = Vec::with_capacity(count);
    for url in urls {
        let store = store(&url, policy).ok();
        let key = key(&url).ok();
        reads.push(async move {
            let (Some(store), Some(key)) = (store, key) else {
                return Vec::new();
            };
            match store.get_range(&key, 0..SNIFF_BYTES).await {
                Ok(bytes) => bytes.to_vec(),
                // Shorter than the range asked for: read it whole.
                Err(_) => match store.get(&key).await {
                    Ok(result) if result.meta.size <= SNIFF_BYTES => {
                        result.bytes().await.map(|b| b.to_vec()).unwrap_or_default()
                    }
                    _ => Vec::new(),
                },
            }
        });
    }
    block(async move {
        futures_util::stream::iter(reads)
            .buffered(CONCURRENT_REQUESTS)
            .collect::<Vec<_>>()
            .await
    })
    .unwrap_or_else(|_| vec![Vec::new(); count])
}
