//! Listings of bucket prefixes (all pages) and the first bytes of objects, for the plan.

use futures_util::StreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};

use super::connection::{CONCURRENT_REQUESTS, SNIFF_BYTES, block, describe, key, store};
use super::url::ObjectUrl;
use crate::fetch::FetchPolicy;

/// An object under a listed prefix: its key relative to the prefix.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The key below the prefix, folders separated by `/`.
    pub rel: String,
}

/// Calls `f` with every object under the prefix `url`, page by page as the store lists
/// them (by key, the stores' order), never holding the listing: a few pages are read
/// ahead while `f` works.
pub fn list_each(
    url: &ObjectUrl,
    policy: &FetchPolicy,
    f: &mut dyn FnMut(Listed),
) -> Result<(), String> {
    let store = store(url, policy)?;
    let prefix = if url.key.is_empty() {
        None
    } else {
        Some(key(url)?)
    };
    let strip = if url.key.is_empty() {
        0
    } else {
        url.key.len() + 1
    };
    let shown = url.to_string();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<String, String>>(4096);
    super::connection::runtime()?.spawn(async move {
        let mut stream = store.list(prefix.as_ref());
        while let Some(meta) = stream.next().await {
            let item = meta
                .map(|meta| meta.location.to_string())
                .map_err(|e| format!("cannot list {shown}: {}", describe(&e)));
            let failed = item.is_err();
            // Waiting for room lets the other requests of the runtime go on meanwhile.
            let sent = tokio::task::block_in_place(|| sender.send(item));
            if sent.is_err() || failed {
                break;
            }
        }
    });
    for item in receiver {
        let location = item?;
        if let Some(rel) = location.get(strip..).filter(|rel| !rel.is_empty()) {
            f(Listed {
                rel: rel.to_string(),
            });
        }
    }
    Ok(())
}

/// The listing of every object under the prefix `url`, all pages, as a stream.
pub(super) fn stream(
    url: &ObjectUrl,
    policy: &FetchPolicy,
) -> Result<futures_util::stream::BoxStream<'static, object_store::Result<ObjectMeta>>, String> {
    let store = store(url, policy)?;
    let prefix = if url.key.is_empty() {
        None
    } else {
        Some(key(url)?)
    };
    Ok(store.list(prefix.as_ref()))
}

/// Every object under the prefix `url` (all pages), held: for listings that stay small
/// (a folder of reports).
#[cfg(feature = "cli")]
pub fn list_blocking(url: &ObjectUrl, policy: &FetchPolicy) -> Result<Vec<Listed>, String> {
    let mut listed = Vec::new();
    list_each(url, policy, &mut |object| listed.push(object))?;
    Ok(listed)
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
