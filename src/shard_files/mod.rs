//! The plan as data: `imgpar plan` plans once, over the whole of its inputs (names decided
//! as a run decides them), and writes one file of rows per shard; `imgpar run --plan
//! FILE` converts exactly one file's rows, with every guarantee of a run, and its report
//! is the report of that shard of the plan (`merge-reports` adds the shards up as for
//! `--shard`). A task of an array then costs its share of the plan, not the whole list.
//!
//! A shard file is JSON Lines, one object a line, each with one key saying what it is:
//!
//! - `{"header": {...}}` first: the format name ([`FORMAT`]), the shard (`index`,
//!   `count`), the output folder (absolute, as path bytes), the conversion settings and
//!   existing-output policy (`spec`, as a run's report and a queue's settings carry them)
//!   and the create-only policy for buckets;
//! - `{"job": {...}}` per image of the shard, in plan order: its input (a file's absolute
//!   path as bytes, a URL, an object), its output path, format and plan key;
//! - `{"problem": {"input": [...], "error": "..."}}` per input that failed before it
//!   could be an image (a run records it failed);
//! - `{"end": {...}}` last: the whole plan's identity, its image count, and this shard's
//!   counts. A file without it was cut short, and is refused before anything converts.

mod convert;
mod in_memory;
mod lines;
mod read;
#[cfg(feature = "cli")]
mod to_prefix;
mod write;

pub use convert::{ShardRunSettings, convert};
pub use in_memory::{PlanLines, plan_lines};
pub use lines::FORMAT;
pub use read::{Row, ShardFile};
#[cfg(feature = "cli")]
pub use to_prefix::write_to_prefix;
pub use write::{ShardFilesWritten, write};
