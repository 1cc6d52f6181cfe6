//! Runs and what they report: failures and their messages, shards and merged reports, the
//! report written as a stream.

mod failures;
mod merge_reports;
mod messages;
mod shard_files;
mod shards;
mod streaming;
