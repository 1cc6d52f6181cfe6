//! What a download may cost and what it cost: plain data, built with or without the
//! `http` feature (a `Spec` carries its policy either way).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The wait before the first retry of a download or object request; it doubles per attempt.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub const BACKOFF_START: Duration = Duration::from_millis(250);

/// The longest wait between two attempts.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// How inputs are downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchPolicy {
    /// Longest wait for a connection to be made.
    pub connect_timeout: Duration,
    /// Longest time for one attempt, from the request to the last byte of the body.
    pub attempt_timeout: Duration,
    /// Attempts after the first, on connection errors, 5xx and 429.
    pub retries: u32,
    /// Largest body accepted, in bytes; a larger one is cut off as it arrives.
    pub max_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// The `User-Agent` sent; `None` for imgpar's own (its name and version).
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Images whose response says `X-Robots-Tag: noai` or `noimageai` (for every agent or
    /// for imgpar) are not written.
    #[serde(default = "respect_opt_out")]
    pub respect_opt_out: bool,
    /// The least time between two requests to one host from this process (`--per-host-rate
    /// N` is 1/N s); `None`: no pace but what the servers ask for (Retry-After).
    #[serde(default)]
    pub per_host_interval: Option<Duration>,
    /// Read each host's robots.txt and honour it (`--robots`).
    #[serde(default)]
    pub robots: bool,
    /// Processes keeping this pace together (process mode's workers): a robots.txt
    /// Crawl-delay is kept this many times over by each.
    #[serde(default = "one")]
    pub pace_shared_by: u32,
    /// Which of those processes this is (0-based): each sends a host its requests in
    /// turns of its own, so that together they keep the pace exactly.
    #[serde(default)]
    pub pace_slot: u32,
    /// A folder the processes keeping this pace share, where the first to need a host's
    /// robots.txt reads it and leaves what it says for the others (process mode), so that
    /// a host is asked for its robots.txt once a run, not once a worker.
    #[serde(default)]
    pub robots_shared: Option<std::path::PathBuf>,
}

fn one() -> u32 {
    1
}

impl FetchPolicy {
    /// The policy for one of `processes` processes sharing this one's pace: each keeps
    /// `processes` times the interval, in turns of its own (see [`FetchPolicy::pace_slot`]),
    /// so that together they keep the rate asked for.
    pub fn shared_by(&self, processes: usize) -> FetchPolicy {
        let processes = processes.clamp(1, u32::MAX as usize) as u32;
        FetchPolicy {
            per_host_interval: self
                .per_host_interval
                .map(|interval| interval.saturating_mul(processes)),
            pace_shared_by: self.pace_shared_by.saturating_mul(processes),
            ..self.clone()
        }
    }
}

fn respect_opt_out() -> bool {
    true
}

/// The `User-Agent` imgpar sends unless told otherwise: its name and version.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub fn default_user_agent() -> String {
    concat!("imgpar/", env!("CARGO_PKG_VERSION")).to_string()
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
            retries: 3,
            max_bytes: 64 << 20,
            max_redirects: 10,
            user_agent: None,
            respect_opt_out: true,
            per_host_interval: None,
            robots: false,
            pace_shared_by: 1,
            pace_slot: 0,
            robots_shared: None,
        }
    }
}

/// What a download cost and how it went, kept in the image's record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FetchInfo {
    /// The last HTTP status received, if any response came.
    pub status: Option<u16>,
    /// Attempts made (1 when the first one settled it).
    pub attempts: u32,
    /// Bytes of body received in the last attempt.
    pub bytes: u64,
}

/// Wait before attempt `attempt + 1`: [`BACKOFF_START`] (250 ms) doubling per attempt,
/// capped at [`BACKOFF_CAP`] (10 s), times a random factor between 0.5 and 1.5 so that many
/// clients do not retry in step.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_START.saturating_mul(1 << (attempt.clamp(1, 10) - 1));
    base.min(BACKOFF_CAP).mul_f64(0.5 + fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempt in 1..=10 {
            let nominal = (250.0 * 2f64.powi(attempt as i32 - 1)).min(10_000.0);
            let wait = backoff(attempt).as_secs_f64() * 1e3;
            assert!(
                wait >= nominal * 0.5 && wait <= nominal * 1.5,
                "{attempt}: {wait}"
            );
        }
    }
}
