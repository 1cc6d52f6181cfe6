//! Why a run could not start or could not finish its own files: the library's error
//! type. What happened to each image is not an error of the run; it is in the report.

/// A run that could not start, or whose result files could not be written. Nothing was
/// converted when a run fails to start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The inputs cannot be planned: a missing input, an unreadable URL list, an output
    /// folder inside an input folder, an output that would replace an input.
    #[error("{0}")]
    Input(String),
    /// The output folder cannot be created or written.
    #[error("{0}")]
    Output(String),
    /// A file the caller asked to have checked (a report, a trace) cannot be written.
    #[error("{0}")]
    ResultFile(String),
    /// The settings contradict each other (a usage error).
    #[error("{0}")]
    Settings(String),
    /// The run started but could not go on: process mode's worker processes die before
    /// their first image (the worker program cannot start). Images not yet ended were
    /// not started.
    #[error("{0}")]
    Workers(String),
    /// One image could not be converted (from [`crate::thumbnail`]): what kind of failure
    /// and what is wrong with it, as the report would say.
    #[error("{0}")]
    Image(crate::failure::Failure),
}
