//! Each host's pace: the earliest moment this process may send it the next request. A
//! `--per-host-rate` spaces requests to a host evenly (so that no second sees more than the
//! rate), and a host that answers 429 or 503 is left alone for as long as it asked
//! (Retry-After) or for the backoff, for every URL on it, not only the one that was told.
//! Process mode's k workers share a pace: each keeps k times the interval, on a grid of
//! turns of its own (the wall clock's multiples of k intervals, shifted by its slot), so
//! that their requests never fall closer than the interval.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use super::dead_hosts::{HostKey, per_host};

/// Nanoseconds of the wall clock (shared by the processes of one machine).
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn hosts() -> std::sync::MutexGuard<'static, HashMap<HostKey, u128>> {
    static HOSTS: OnceLock<Mutex<HashMap<HostKey, u128>>> = OnceLock::new();
    // A host whose turn has come imposes nothing.
    let now = now_ns();
    per_host(&HOSTS, |_, next| *next > now)
}

/// The turns of one of several processes sharing a pace: `slot` of `slots`.
#[derive(Debug, Clone, Copy)]
pub struct Turns {
    /// This process's place among them.
    pub slot: u32,
    /// How many share the pace.
    pub slots: u32,
}

/// Waits for this request's turn at `host`, and, with an `interval` (this process's: the
/// pace's times `turns.slots`), books the next turn that long after it.
pub async fn wait_turn(host: &HostKey, interval: Option<Duration>, turns: Turns) {
    let wait = {
        let mut hosts = hosts();
        let now = now_ns();
        let mut turn = hosts.get(host).map_or(now, |next| (*next).max(now));
        match interval {
            Some(interval) => {
                let period = interval.as_nanos().max(1);
                if turns.slots > 1 {
                    let offset = period / u128::from(turns.slots) * u128::from(turns.slot);
                    let phase = (turn + period - offset % period) % period;
                    if phase != 0 {
                        turn += period - phase;
                    }
                }
                hosts.insert(host.clone(), turn + period);
            }
            None if turn == now => {
                hosts.remove(host);
            }
            None => {}
        }
        turn.saturating_sub(now)
    };
    if wait > 0 {
        tokio::time::sleep(Duration::from_nanos(wait.min(u128::from(u64::MAX)) as u64)).await;
    }
}

/// `host` asked to be left alone for `wait` (429 or 503): no request to it from this
/// process before then.
pub fn pause(host: &HostKey, wait: Duration) {
    let mut hosts = hosts();
    let until = now_ns() + wait.as_nanos();
    let next = hosts.entry(host.clone()).or_insert(until);
    *next = (*next).max(until);
}

/// No request to `host` from this process before `at_ns` (the wall clock's nanoseconds):
/// a request another process sent (robots.txt) counts in the pace too.
pub fn not_before(host: &HostKey, at_ns: u128) {
    let mut hosts = hosts();
    let next = hosts.entry(host.clone()).or_insert(at_ns);
    *next = (*next).max(at_ns);
}
