//! The one HTTP policy, used by every mode: a connect timeout, a time limit per attempt,
//! retries with exponential backoff and jitter on connection errors, 5xx and 429 (honouring
//! Retry-After), a size cap enforced while the body streams in, a redirect limit that also
//! refuses non-HTTP targets, and a `User-Agent: imgpar/<version>` header, over rustls.
//!
//! [`fetch`] is the implementation; [`fetch_blocking`] runs it on a small runtime of the
//! calling thread, for the modes whose workers block. (Built with the `http` feature.)

use std::cell::RefCell;

use reqwest::{Client, StatusCode, Url};

use super::answer::{
    Problem, innermost, opted_out, request_problem, retry_after, unfollowed_redirect,
};
use super::dead_hosts::{self, HostKey};
use super::policy::{FetchInfo, FetchPolicy, backoff};
use super::resolve;
use super::{host_pace, robots};

/// A downloaded body.
#[derive(Debug)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub info: FetchInfo,
}

/// A download that failed for good: why, what kind of failure, and what it cost.
#[derive(Debug)]
pub struct FetchFailure {
    pub reason: String,
    pub kind: crate::failure::ErrorKind,
    pub info: FetchInfo,
}

impl FetchFailure {
    fn download(reason: String, info: FetchInfo) -> FetchFailure {
        FetchFailure {
            reason,
            kind: crate::failure::ErrorKind::Download,
            info,
        }
    }
}

/// A byte count for messages: `64 MiB`, `900 KiB`, `12 bytes`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// A client carrying the policy's connection settings, shared by the downloads of a worker
/// or a runtime. Fails only if the TLS set-up fails.
pub fn client(policy: &FetchPolicy) -> Result<Client, String> {
    // Installing twice is harmless: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let max = policy.max_redirects;
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        let scheme = attempt.url().scheme().to_string();
        if !matches!(scheme.as_str(), "http" | "https") {
            attempt.error(format!("redirect to a {scheme}: URL refused"))
        } else if attempt.previous().len() > max {
            attempt.error(format!("more than {max} redirects"))
        } else {
            attempt.follow()
        }
    });
    Client::builder()
        .user_agent(
            policy
                .user_agent
                .clone()
                .unwrap_or_else(super::policy::default_user_agent),
        )
        .connect_timeout(policy.connect_timeout)
        .dns_resolver(resolve::SystemResolver)
        .redirect(redirects)
        .build()
        .map_err(|e| format!("cannot set up downloads: {}", innermost(&e)))
}

/// Downloads `url` under `policy`. Never panics and never waits longer than the policy
/// allows: every failure comes back as a [`FetchFailure`] with a reason for the user.
pub async fn fetch(
    client: &Client,
    url: &str,
    policy: &FetchPolicy,
) -> Result<Fetched, FetchFailure> {
    let mut info = FetchInfo::default();
    let parsed = match checked_url(url) {
        Ok(parsed) => parsed,
        Err(reason) => return Err(FetchFailure::download(reason, info)),
    };
    let host = HostKey::of(&parsed);
    let mut interval = policy.per_host_interval;
    if policy.robots {
        match robots::check(client, &parsed, policy).await {
            Ok(delay) => {
                let delay = delay.map(|d| d.saturating_mul(policy.pace_shared_by));
                interval = interval.max(delay);
            }
            Err(reason) => {
                return Err(FetchFailure {
                    reason,
                    kind: crate::failure::ErrorKind::OptedOut,
                    info,
                });
            }
        }
    }
    loop {
        if let Some(reason) = dead_hosts::cut_off(&host) {
            return Err(FetchFailure::download(reason, info));
        }
        let turns = host_pace::Turns {
            slot: policy.pace_slot,
            slots: policy.pace_shared_by,
        };
        host_pace::wait_turn(&host, interval, turns).await;
        info.attempts += 1;
        let attempt = attempt(client, parsed.clone(), policy, &mut info);
        let result = match tokio::time::timeout(policy.attempt_timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(Problem::Final(format!(
                "no complete response within {} s (--download-timeout)",
                policy.attempt_timeout.as_secs_f64()
            ))),
        };
        match &result {
            Err(Problem::Unreachable(reason) | Problem::NoSuchHost(reason)) => {
                dead_hosts::failed(&host, reason)
            }
            _ if info.status.is_some() => dead_hosts::answered(&host),
            _ => {}
        }
        match result {
            Ok(bytes) => return Ok(Fetched { bytes, info }),
            Err(Problem::Final(reason) | Problem::NoSuchHost(reason)) => {
                return Err(FetchFailure::download(reason, info));
            }
            Err(Problem::OptedOut(reason)) => {
                return Err(FetchFailure {
                    reason,
                    kind: crate::failure::ErrorKind::OptedOut,
                    info,
                });
            }
            Err(Problem::Unreachable(reason)) if info.attempts > policy.retries => {
                let reason = match info.attempts {
                    1 => reason,
                    n => format!("{reason} (gave up after {n} attempts)"),
                };
                return Err(FetchFailure::download(reason, info));
            }
            Err(Problem::Unreachable(_)) => tokio::time::sleep(backoff(info.attempts)).await,
            Err(Problem::Transient {
                wait,
                slow_down: true,
                ..
            }) if info.attempts <= policy.retries => {
                // The host said it is overloaded: every URL on it waits, not only this one
                // (this one's next attempt waits for its turn).
                host_pace::pause(&host, wait.unwrap_or_else(|| backoff(info.attempts)));
            }
            Err(Problem::Transient { reason, wait, .. }) => {
                if info.attempts > policy.retries {
                    let reason = match info.attempts {
                        1 => reason,
                        n => format!("{reason} (gave up after {n} attempts)"),
                    };
                    return Err(FetchFailure::download(reason, info));
                }
                tokio::time::sleep(wait.unwrap_or_else(|| backoff(info.attempts))).await;
            }
        }
    }
}

thread_local! {
    /// Each blocking worker's own runtime and client, made on its first download.
    static BLOCKING: RefCell<Option<(FetchPolicy, tokio::runtime::Runtime, Client)>> =
        const { RefCell::new(None) };
}

/// [`fetch`] for a thread that blocks: runs it on a single-threaded runtime kept by this
/// thread (made on first use, so modes without URLs never start one).
pub fn fetch_blocking(url: &str, policy: &FetchPolicy) -> Result<Fetched, FetchFailure> {
    BLOCKING.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(p, _, _)| p != policy) {
            let failure = |reason: String| FetchFailure::download(reason, FetchInfo::default());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| failure(format!("cannot start downloads: {e}")))?;
            let client = client(policy).map_err(failure)?;
            *slot = Some((policy.clone(), runtime, client));
        }
        let (_, runtime, client) = slot.as_ref().expect("just made");
        runtime.block_on(fetch(client, url, policy))
    })
}

async fn attempt(
    client: &Client,
    url: Url,
    policy: &FetchPolicy,
    info: &mut FetchInfo,
) -> Result<Vec<u8>, Problem> {
    info.status = None;
    info.bytes = 0;
    let mut response = client.get(url).send().await.map_err(request_problem)?;
    let status = response.status();
    info.status = Some(status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(Problem::Transient {
            reason: format!("HTTP {status}"),
            wait: retry_after(&response),
            slow_down: matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ),
        });
    }
    if status.is_redirection() {
        // Left unfollowed by the client: a target it does not handle, such as file:.
        return Err(Problem::Final(unfollowed_redirect(&response)));
    }
    if !status.is_success() {
        return Err(Problem::Final(format!("HTTP {status}")));
    }
    if policy.respect_opt_out
        && let Some(directive) = opted_out(response.headers())
    {
        return Err(Problem::OptedOut(format!(
            "the server opted it out (X-Robots-Tag: {directive}); not written \
             (--no-respect-opt-out to fetch it anyway)"
        )));
    }
    let cap = policy.max_bytes;
    let too_big = || format!("larger than --max-download {}", size_text(cap));
    if response.content_length().is_some_and(|n| n > cap) {
        return Err(Problem::Final(format!(
            "{} (the server announced {})",
            too_big(),
            size_text(response.content_length().unwrap_or(0))
        )));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0).min(cap) as usize);
    while let Some(chunk) = response.chunk().await.map_err(|e| Problem::Transient {
        reason: format!("the connection broke during the body: {}", innermost(&e)),
        wait: None,
        slow_down: false,
    })? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(Problem::Final(format!(
                "{} (cut off as it arrived)",
                too_big()
            )));
        }
        body.extend_from_slice(&chunk);
        info.bytes = body.len() as u64;
    }
    if body.is_empty() {
        return Err(Problem::Final(format!(
            "the server sent an empty body (HTTP {status})"
        )));
    }
    // Any format the table knows by its first bytes, read or named to be refused.
    let sniffed_image = crate::image::formats::by_content(&body).is_some();
    if !sniffed_image && (content_type.starts_with("text/") || content_type.contains("html")) {
        let kind = content_type.split(';').next().unwrap_or("").trim();
        return Err(Problem::Final(format!(
            "not an image: the server sent {kind}"
        )));
    }
    Ok(body)
}

/// Parses `url` and accepts only http and https.
fn checked_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(format!(
            "unsupported URL scheme {other}: only http and https are downloaded"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_are_fetched() {
        assert!(checked_url("https://example.org/a.jpg").is_ok());
        assert!(
            checked_url("ftp://example.org/a.jpg")
                .unwrap_err()
                .contains("scheme ftp:")
        );
        assert!(
            checked_url("file:///etc/passwd")
                .unwrap_err()
                .contains("scheme file:")
        );
        assert!(
            checked_url("not a url")
                .unwrap_err()
                .contains("not a valid URL")
        );
    }
}
