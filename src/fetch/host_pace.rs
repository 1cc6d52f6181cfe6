//! Each host's pace: the earliest moment this process may send it the next request. A
//! `--per-host-rate` spaces requests to a host evenly (so that no second sees more than the
//! rate), and a host that answers 429 or 503 is left alone for as long as it asked
//! (Retry-After) or for the backoff, for every URL on it, not only the one that was told.
//! Kept per process (process mode divides the rate among its workers).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use super::dead_hosts::HostKey;

fn hosts() -> std::sync::MutexGuard<'static, HashMap<HostKey, Instant>> {
    static HOSTS: OnceLock<Mutex<HashMap<HostKey, Instant>>> = OnceLock::new();
    HOSTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Waits for this request's turn at `host`, and, with an `interval`, books the next turn
/// that long after it.
pub async fn wait_turn(host: &HostKey, interval: Option<Duration>) {
    let turn = {
        let mut hosts = hosts();
        let now = Instant::now();
        let turn = hosts.get(host).map_or(now, |next| (*next).max(now));
        match interval {
            Some(interval) => {
                hosts.insert(host.clone(), turn + interval);
            }
            None if turn == now => {
                hosts.remove(host);
            }
            None => {}
        }
        turn
    };
    tokio::time::sleep_until(turn).await;
}

/// `host` asked to be left alone for `wait` (429 or 503): no request to it from this
/// process before then.
pub fn pause(host: &HostKey, wait: Duration) {
    let mut hosts = hosts();
    let until = Instant::now() + wait;
    let next = hosts.entry(host.clone()).or_insert(until);
    *next = (*next).max(until);
}
