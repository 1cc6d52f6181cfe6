//! imgpar's integration tests: one binary (one link of every codec), its modules grouped by
//! what a reader looks for. Most run the real `imgpar` binary on real files, against real
//! servers on 127.0.0.1; `common` is the harness they share.
//!
//! Built without the command line (`cargo test --no-default-features --test it`), it holds
//! only `library`: imgpar as a library, with none of the binary's features.

mod common;
#[cfg(feature = "cli")]
mod docs;
#[cfg(feature = "cli")]
mod images;
mod library;
#[cfg(feature = "cli")]
mod modes;
#[cfg(feature = "cli")]
mod python;
#[cfg(feature = "cli")]
mod queues;
#[cfg(feature = "cli")]
mod runs_and_reports;
#[cfg(feature = "cli")]
mod sources_and_outputs;
// Built with Debian's cross toolchain and run under Wine: on Linux for x86-64.
#[cfg(all(feature = "cli", target_os = "linux", target_arch = "x86_64"))]
mod windows;
