//! Downloads: the policy (plain data, always built) and, with the `http` feature, the one
//! client every mode uses.

#[cfg(feature = "http")]
mod client;
mod policy;
#[cfg(feature = "http")]
mod resolve;

#[cfg(feature = "http")]
pub use client::{FetchFailure, Fetched, client, fetch, fetch_blocking};
pub use policy::{FetchInfo, FetchPolicy};
