//! Getting an input's content: a file opened to be read as it decodes, a download, an
//! object; with what getting it cost.

use std::path::Path;
use std::time::Instant;

use super::{Input, lap};
use crate::config::Spec;
use crate::failure::{ErrorKind, Failure};
use crate::fetch::FetchInfo;
use crate::pipeline::Content;
use crate::store;

/// An input's content, or why it could not be had, with what getting it cost.
pub struct Obtained {
    pub body: Result<Content<'static>, Failure>,
    /// For a URL: status, attempts, bytes.
    pub fetch: Option<FetchInfo>,
    /// Milliseconds spent reading or downloading.
    pub ms: f64,
}

impl Input {
    /// Reads the file (opened, to be read as it decodes), downloads the URL or gets the
    /// object, on this thread; never panics, and says what went wrong in the body.
    #[cfg_attr(not(feature = "http"), allow(unused_variables))]
    pub fn obtain_blocking(&self, spec: &Spec) -> Obtained {
        let clock = Instant::now();
        match self {
            Input::File(path) => Obtained::read(open(path), clock),
            Input::Object(url) => {
                Obtained::from_store(store::get_blocking(url, &spec.fetch), clock)
            }
            #[cfg(feature = "http")]
            Input::Url(url) => {
                Obtained::fetched(crate::fetch::fetch_blocking(url, &spec.fetch), clock)
            }
            #[cfg(not(feature = "http"))]
            Input::Url(_) => Obtained {
                body: Err(Failure::new(
                    ErrorKind::Unsupported,
                    "URL inputs need imgpar built with the `http` feature",
                )),
                fetch: None,
                ms: lap(clock),
            },
        }
    }

    /// [`Input::obtain_blocking`] without blocking the calling task (async mode),
    /// downloads sharing `client`.
    #[cfg(feature = "http")]
    pub async fn obtain(&self, spec: &Spec, client: &reqwest::Client) -> Obtained {
        let clock = Instant::now();
        match self {
            Input::File(path) => {
                let opened = match tokio::fs::File::open(path).await {
                    Ok(file) => with_length(file.into_std().await),
                    Err(error) => Err(error),
                };
                Obtained::read(opened, clock)
            }
            Input::Object(url) => Obtained::from_store(store::get(url, &spec.fetch).await, clock),
            Input::Url(url) => {
                Obtained::fetched(crate::fetch::fetch(client, url, &spec.fetch).await, clock)
            }
        }
    }

    /// The extension of its name (a file's, an object's, or a URL path's last segment's),
    /// which names formats that carry no signature or that imgpar does not read.
    pub fn extension(&self) -> Option<&str> {
        let name = match self {
            Input::File(path) => path.file_name()?.to_str()?,
            Input::Url(url) => url.split(['?', '#']).next()?.rsplit('/').next()?,
            Input::Object(url) => url.name(),
        };
        Some(name.rsplit_once('.')?.1)
    }
}

/// Opens a file to be read as it decodes.
pub(crate) fn open(path: &Path) -> std::io::Result<Content<'static>> {
    with_length(std::fs::File::open(path)?)
}

fn with_length(file: std::fs::File) -> std::io::Result<Content<'static>> {
    let len = file.metadata()?.len();
    Ok(Content::File { file, len })
}

impl Obtained {
    /// A file opened at `clock`.
    fn read(result: std::io::Result<Content<'static>>, clock: Instant) -> Obtained {
        Obtained {
            body: result.map_err(|e| Failure::new(ErrorKind::Read, format!("cannot read: {e}"))),
            fetch: None,
            ms: lap(clock),
        }
    }

    /// An object read that began at `clock`.
    fn from_store(result: Result<Vec<u8>, Failure>, clock: Instant) -> Obtained {
        Obtained {
            body: result.map(|bytes| Content::Bytes(bytes.into())),
            fetch: None,
            ms: lap(clock),
        }
    }

    /// A download that began at `clock`.
    #[cfg(feature = "http")]
    fn fetched(
        result: Result<crate::fetch::Fetched, crate::fetch::FetchFailure>,
        clock: Instant,
    ) -> Obtained {
        let (body, info) = match result {
            Ok(fetched) => (Ok(Content::Bytes(fetched.bytes.into())), fetched.info),
            Err(failure) => (
                Err(Failure::new(failure.kind, failure.reason)),
                failure.info,
            ),
        };
        Obtained {
            body,
            fetch: Some(info),
            ms: lap(clock),
        }
    }
}
