//! What a server's answer says, in imgpar's terms: why an attempt failed and whether
//! another may help, an image opted out (`X-Robots-Tag`), how long to wait (Retry-After),
//! a redirect not followed, and a request error in the words that say what happened.

use std::time::Duration;

use reqwest::Url;

use super::resolve;

/// Longest wait a server's Retry-After is honoured for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why one attempt failed, and whether another may help.
pub(super) enum Problem {
    Transient {
        reason: String,
        /// What the server asked for (Retry-After), if anything.
        wait: Option<Duration>,
        /// The server said it is overloaded (429, 503): the whole host is to slow down.
        slow_down: bool,
    },
    Final(String),
    /// The server opted the image out (X-Robots-Tag).
    OptedOut(String),
    /// No connection could be made (refused, unreachable, TLS, a resolver that did not
    /// answer): another attempt may help, and the host's run of such failures grows.
    Unreachable(String),
    /// The host's name does not exist: final, and the host's run of failures grows.
    NoSuchHost(String),
}

/// The `X-Robots-Tag` directive that opts an image out of imgpar's use, if any: `noai` or
/// `noimageai`, for every agent or for `imgpar`. Each header value is a comma-separated
/// list; an item `agent: directive` makes it and the items after it that agent's
/// (`otherbot: noindex, nofollow`), as search engines read it.
pub(super) fn opted_out(headers: &reqwest::header::HeaderMap) -> Option<String> {
    const WITH_VALUE: [&str; 4] = [
        "unavailable_after",
        "max-snippet",
        "max-image-preview",
        "max-video-preview",
    ];
    for value in headers.get_all("x-robots-tag") {
        let Ok(value) = value.to_str() else { continue };
        let mut agent: Option<&str> = None;
        for item in value.split(',').map(str::trim) {
            let directive = match item.split_once(':') {
                Some((name, rest))
                    if !WITH_VALUE.contains(&name.trim().to_ascii_lowercase().as_str()) =>
                {
                    agent = Some(name.trim());
                    rest.trim()
                }
                _ => item,
            };
            let ours = agent.is_none_or(|a| a.eq_ignore_ascii_case("imgpar"));
            let opts_out = directive.eq_ignore_ascii_case("noai")
                || directive.eq_ignore_ascii_case("noimageai");
            if ours && opts_out {
                return Some(match agent {
                    Some(agent) => format!("{agent}: {directive}"),
                    None => directive.to_string(),
                });
            }
        }
    }
    None
}

/// Why a redirect that reached us was not followed, naming the scheme when it is not http(s).
pub(super) fn unfollowed_redirect(response: &reqwest::Response) -> String {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match Url::parse(location).map(|url| url.scheme().to_string()) {
        Ok(scheme) if !matches!(scheme.as_str(), "http" | "https") => {
            format!("redirect refused: redirect to a {scheme}: URL refused")
        }
        _ => format!(
            "redirect not followed: HTTP {} to {location:?}",
            response.status()
        ),
    }
}

pub(super) fn request_problem(error: reqwest::Error) -> Problem {
    let detail = innermost(&error);
    if let Some(unresolved) = find_cause::<resolve::Unresolved>(&error) {
        let reason = unresolved.to_string();
        return if unresolved.permanent {
            Problem::NoSuchHost(reason)
        } else {
            Problem::Unreachable(reason)
        };
    }
    if error.is_redirect() {
        Problem::Final(format!("redirect refused: {detail}"))
    } else if error.is_connect() {
        Problem::Unreachable(format!("cannot connect: {detail}"))
    } else if error.is_timeout() {
        Problem::Final(format!("timed out: {detail}"))
    } else {
        Problem::Transient {
            reason: format!("request failed: {detail}"),
            wait: None,
            slow_down: false,
        }
    }
}

/// The deepest cause of an error, which is the one that says what happened
/// ("Connection refused (os error 111)", "dns error: ...").
pub(super) fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The first cause of type `T` in `error`'s chain.
fn find_cause<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        cause = current.source();
    }
    None
}

/// Retry-After in seconds, capped; HTTP dates fall back to the usual backoff.
pub(super) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_outs_are_read_for_every_agent_and_for_imgpar_only() {
        let headers = |values: &[&str]| {
            let mut map = reqwest::header::HeaderMap::new();
            for value in values {
                map.append("x-robots-tag", value.parse().unwrap());
            }
            map
        };
        assert_eq!(opted_out(&headers(&["noai"])).as_deref(), Some("noai"));
        assert_eq!(
            opted_out(&headers(&["noindex, NoImageAI"])).as_deref(),
            Some("NoImageAI")
        );
        assert_eq!(
            opted_out(&headers(&["googlebot: noindex", "imgpar: noai"])).as_deref(),
            Some("imgpar: noai")
        );
        assert_eq!(opted_out(&headers(&["otherbot: noai, noimageai"])), None);
        assert_eq!(opted_out(&headers(&["noindex, nofollow"])), None);
        assert_eq!(
            opted_out(&headers(&["max-image-preview: large, noai"])).as_deref(),
            Some("noai")
        );
        assert_eq!(opted_out(&headers(&["otherbot: noindex, noai"])), None);
        assert_eq!(
            opted_out(&headers(&["otherbot: noindex, imgpar: noai"])).as_deref(),
            Some("imgpar: noai")
        );
        assert_eq!(opted_out(&headers(&[])), None);
    }
}
