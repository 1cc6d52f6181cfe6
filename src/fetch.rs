//! Downloads: the policy (plain data, always built) and, with the `http` feature, the one
//! client every mode uses.

#[cfg(feature = "http")]
mod answer;
#[cfg(feature = "http")]
mod client;
#[cfg(feature = "http")]
mod dead_hosts;
#[cfg(feature = "http")]
mod host_pace;
mod policy;
#[cfg(feature = "http")]
mod resolve;
#[cfg(feature = "http")]
mod robots;

#[cfg(feature = "cloud")]
pub use client::size_text;
#[cfg(feature = "http")]
pub use client::{FetchFailure, Fetched, client, fetch, fetch_blocking};
#[cfg(feature = "cloud")]
pub use policy::{BACKOFF_CAP, BACKOFF_START};
pub use policy::{FetchInfo, FetchPolicy};
