//! What a pass over a plan's inputs yields, one at a time: a job, an input that fails
//! before it can be one, or a file passed over.

use std::path::PathBuf;

use crate::job::Job;

/// Which line of which URL list a job comes from (lists numbered from 0 in plan order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ListLine {
    pub list: u32,
    pub line: usize,
}

/// One item of the plan, as a pass yields it.
pub(super) enum Item {
    /// An image to convert, with its natural output (before the plan-wide naming) and
    /// its plan key (`Job::key`), and its list line for a URL.
    Job {
        job: Job,
        list: Option<ListLine>,
        /// Its input file's path may go through a symbolic link (it is one, or lies in a
        /// linked folder, or was named directly), so that where it really is can differ
        /// from its path.
        linked: bool,
    },
    /// An input that fails before it can be a job.
    Problem {
        path: PathBuf,
        reason: String,
        key: Vec<u8>,
    },
    /// A file that is not an image, and why.
    PassedOver { path: PathBuf, reason: &'static str },
}
