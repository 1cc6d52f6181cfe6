//! Hosts that cannot be reached, cut short: after [`CUT_OFF_AFTER`] connection failures
//! in a row to a host (refused, unreachable, TLS, a name that does not resolve), its
//! other URLs fail at once with the reason instead of each running its own ladder of
//! retries; any answer from the host (whatever its status) clears the count, and after
//! [`RETRY_AFTER`] one more attempt is let through, which reopens the host if it answers.
//! Kept per process: in process mode each worker process keeps its own.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::Url;

/// Connection failures in a row that cut a host off.
pub const CUT_OFF_AFTER: u32 = 5;

/// How long a cut-off host is left alone before one attempt is let through.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// A host as downloads tell them apart: its name (an IP literal is its address) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey(String);

impl HostKey {
    /// The host of `url`.
    pub fn of(url: &Url) -> HostKey {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        HostKey(match url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }
}

struct Record {
    in_a_row: u32,
    last: String,
    at: Instant,
}

/// Hosts a per-host table keeps before it forgets those that no longer matter.
const KEPT: usize = 4096;

/// A per-host table of this process, locked: past [`KEPT`] hosts, only those for which
/// `matters` holds are kept, so that it follows the hosts in play, not the list's.
pub(super) fn per_host<T>(
    table: &'static OnceLock<Mutex<HashMap<HostKey, T>>>,
    matters: impl FnMut(&HostKey, &mut T) -> bool,
) -> std::sync::MutexGuard<'static, HashMap<HostKey, T>> {
    let mut hosts = table
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if hosts.len() > KEPT {
        hosts.retain(matters);
    }
    hosts
}

fn hosts() -> std::sync::MutexGuard<'static, HashMap<HostKey, Record>> {
    static HOSTS: OnceLock<Mutex<HashMap<HostKey, Record>>> = OnceLock::new();
    // A host that last failed RETRY_AFTER ago is let through anyway.
    per_host(&HOSTS, |_, record| record.at.elapsed() < RETRY_AFTER)
}

/// Why `host` is not to be tried now, if it is cut off.
pub fn cut_off(host: &HostKey) -> Option<String> {
    let mut hosts = hosts();
    let record = hosts.get_mut(host)?;
    if record.in_a_row < CUT_OFF_AFTER {
        return None;
    }
    if record.at.elapsed() >= RETRY_AFTER {
        // One attempt through; the next ones wait for what it finds.
        record.at = Instant::now();
        return None;
    }
    Some(format!(
        "host {} failed {} connections in a row (the last: {}); not tried",
        host.0, record.in_a_row, record.last
    ))
}

/// A connection to `host` failed for `reason`.
pub fn failed(host: &HostKey, reason: &str) {
    let mut hosts = hosts();
    let record = hosts.entry(host.clone()).or_insert(Record {
        in_a_row: 0,
        last: String::new(),
        at: Instant::now(),
    });
    record.in_a_row += 1;
    record.last = reason.to_string();
    record.at = Instant::now();
}

/// `host` answered: it is reachable again.
pub fn answered(host: &HostKey) {
    hosts().remove(host);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_per_host_table_past_its_size_keeps_only_the_hosts_that_matter() {
        static TABLE: OnceLock<Mutex<HashMap<HostKey, usize>>> = OnceLock::new();
        let key = |i: usize| HostKey(format!("host{i}:80"));
        per_host(&TABLE, |_, _| true).extend((0..KEPT + 10).map(|i| (key(i), i)));
        let kept = per_host(&TABLE, |_, i| *i % 100 == 0);
        assert_eq!(kept.len(), (KEPT + 10).div_ceil(100));
        drop(kept);
        // Under the size, nothing is forgotten.
        assert_eq!(
            per_host(&TABLE, |_, _| false).len(),
            (KEPT + 10).div_ceil(100)
        );
    }

    #[test]
    fn a_host_is_cut_off_after_failures_in_a_row_and_reopened_by_an_answer() {
        let host = HostKey::of(&Url::parse("http://127.0.0.9:1/a.png").unwrap());
        assert_eq!(
            host,
            HostKey::of(&Url::parse("http://127.0.0.9:1/b.png").unwrap())
        );
        for _ in 0..CUT_OFF_AFTER - 1 {
            failed(&host, "cannot connect: refused");
            assert!(cut_off(&host).is_none());
        }
        failed(&host, "cannot connect: refused");
        let why = cut_off(&host).expect("cut off");
        assert!(
            why.contains("127.0.0.9:1 failed 5 connections in a row"),
            "{why}"
        );
        assert!(why.contains("cannot connect: refused"), "{why}");
        answered(&host);
        assert!(cut_off(&host).is_none());
        let other = HostKey::of(&Url::parse("http://127.0.0.9:2/a.png").unwrap());
        assert!(cut_off(&other).is_none(), "another port is another host");
    }
}
