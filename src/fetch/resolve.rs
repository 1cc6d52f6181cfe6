//! Host name lookup for downloads: the system resolver, except that names under the
//! special-use domain `.invalid` (RFC 6761) fail at once without asking any server, and a
//! failed lookup says which host and whether trying again could help.

use std::fmt;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Looks names up with the system resolver (`getaddrinfo`, off the async threads).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

/// A host name that could not be turned into addresses.
#[derive(Debug)]
pub struct Unresolved {
    pub host: String,
    pub detail: String,
    /// The name does not exist, as opposed to a resolver that did not answer this time.
    pub permanent: bool,
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot resolve host {}: {}", self.host, self.detail)
    }
}

impl std::error::Error for Unresolved {}

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if host == "invalid" || host.ends_with(".invalid") {
                return Err(Box::new(Unresolved {
                    host,
                    detail: "names under .invalid never exist (RFC 6761)".into(),
                    permanent: true,
                }) as _);
            }
            let looked_up = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|addrs| addrs.collect::<Vec<_>>());
            match looked_up {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                Err(error) => {
                    let detail = error.to_string();
                    // glibc's words for "no such name" (EAI_NONAME, EAI_NODATA); anything
                    // else, such as a resolver that timed out, may pass.
                    let permanent = detail.contains("not known") || detail.contains("No address");
                    Err(Box::new(Unresolved {
                        host,
                        detail,
                        permanent,
                    }) as _)
                }
            }
        })
    }
}
