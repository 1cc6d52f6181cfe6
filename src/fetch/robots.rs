//! `--robots`: each host's /robots.txt read once a run (at most [`MAX_ROBOTS`] bytes,
//! within [`ROBOTS_TIMEOUT`]) and honoured for the agent `imgpar` (else `*`): a URL it
//! disallows is never requested, and its `Crawl-delay` paces the host. A robots.txt that
//! is missing (4xx) allows everything; one that cannot be read (5xx, no connection)
//! allows nothing for now, as search engines read it. The rules are parsed by
//! `texting_robots`. Its request is one of the host's requests: it waits its turn in the
//! host's pace, and the first image waits the pace (or the Crawl-delay) after it.
//! Process mode's workers share what each host's robots.txt says through a folder (see
//! [`FetchPolicy::robots_shared`]): the first worker to need it reads it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Client, Url};
use texting_robots::Robot;
use tokio::sync::OnceCell;

use super::dead_hosts::HostKey;
use super::host_pace;
use crate::fetch::FetchPolicy;

/// The most of a robots.txt that is read (Google reads 500 KiB).
pub const MAX_ROBOTS: usize = 512 << 10;

/// The longest a robots.txt is waited for.
pub const ROBOTS_TIMEOUT: Duration = Duration::from_secs(10);

/// Hosts whose rules are kept at once; past that the cache starts again (a host seen
/// again has its robots.txt read again).
const KEPT: usize = 4096;

/// The agent robots.txt rules are looked up for.
const AGENT: &str = "imgpar";

/// What a host's robots.txt says.
enum Rules {
    /// No robots.txt (4xx): everything may be fetched.
    All,
    /// It could not be read: nothing is fetched, for this reason.
    Nothing(String),
    /// Its rules.
    Parsed(Box<Robot>),
}

type Cache = Mutex<HashMap<String, Arc<OnceCell<Rules>>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Whether `url` may be fetched: `Ok` with the host's crawl delay (if it sets one), or
/// `Err` with why not.
pub async fn check(
    client: &Client,
    url: &Url,
    policy: &FetchPolicy,
) -> Result<Option<Duration>, String> {
    let Ok(robots_url) = texting_robots::get_robots_url(url.as_str()) else {
        return Ok(None);
    };
    let cell = {
        let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= KEPT && !cache.contains_key(&robots_url) {
            // Memory follows the workers, not the hosts of the list: start again.
            cache.clear();
        }
        Arc::clone(cache.entry(robots_url.clone()).or_default())
    };
    let rules = cell
        .get_or_init(|| read_once_a_run(client, url, &robots_url, policy))
        .await;
    match rules {
        Rules::All => Ok(None),
        Rules::Nothing(reason) => Err(format!(
            "{robots_url} could not be read ({reason}), so nothing on the host is fetched \
             (--robots)"
        )),
        Rules::Parsed(robot) if robot.allowed(url.as_str()) => Ok(crawl_delay(robot)),
        Rules::Parsed(_) => Err(format!(
            "{robots_url} disallows {} for {AGENT}; not fetched (--robots)",
            url.path()
        )),
    }
}

/// What `robots_url` says, read by this process or, with a shared folder, by whichever
/// process of the run needed it first; either way the host's next request waits the pace
/// (or the Crawl-delay) after the robots.txt request.
async fn read_once_a_run(
    client: &Client,
    url: &Url,
    robots_url: &str,
    policy: &FetchPolicy,
) -> Rules {
    let text = match &policy.robots_shared {
        None => answer_text(read_answer(client, url, robots_url, policy).await),
        Some(folder) => shared_answer(folder, client, url, robots_url, policy).await,
    };
    let (rules, asked_at) = rules_of(&text);
    let slots = policy.pace_shared_by.max(1);
    let rate = policy.per_host_interval.map(|interval| interval / slots);
    let delay = match &rules {
        Rules::Parsed(robot) => crawl_delay(robot),
        _ => None,
    };
    if let Some(gap) = rate.max(delay) {
        host_pace::not_before(&HostKey::of(url), asked_at + gap.as_nanos());
    }
    rules
}

/// The answer's text as the first worker to need it left it in `folder` (reading it
/// first when this worker is that one).
async fn shared_answer(
    folder: &std::path::Path,
    client: &Client,
    url: &Url,
    robots_url: &str,
    policy: &FetchPolicy,
) -> Vec<u8> {
    let stem = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(robots_url.as_bytes()));
    let answer = folder.join(format!("{stem}.answer"));
    let claimed = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(folder.join(format!("{stem}.claim")))
        .is_ok();
    if claimed {
        let text = answer_text(read_answer(client, url, robots_url, policy).await);
        // Written whole under a temporary name, then renamed: a reader sees all or none.
        let temporary = folder.join(format!("{stem}.{}.tmp", std::process::id()));
        if std::fs::write(&temporary, &text).is_ok() {
            let _ = std::fs::rename(&temporary, &answer);
        }
        return text;
    }
    // Another worker is reading it: wait for its answer, as long as it may take.
    let deadline = tokio::time::Instant::now() + ROBOTS_TIMEOUT + policy.connect_timeout;
    while tokio::time::Instant::now() < deadline {
        if let Ok(text) = std::fs::read(&answer) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    answer_text(read_answer(client, url, robots_url, policy).await)
}

/// What a robots.txt request came to: its body, none (4xx), or why it could not be read;
/// and when it was sent (nanoseconds of the wall clock, which the processes of a machine
/// share).
type Answer = (Result<Option<Vec<u8>>, String>, u128);

/// An answer as the text workers leave each other: `at NS` on a line, then `all`,
/// `nothing REASON` or `body ` and the body.
fn answer_text((answer, asked_at): Answer) -> Vec<u8> {
    let what = match answer {
        Err(reason) => format!("nothing {reason}").into_bytes(),
        Ok(None) => b"all".to_vec(),
        Ok(Some(body)) => [&b"body "[..], &body].concat(),
    };
    [format!("at {asked_at}\n").as_bytes(), &what].concat()
}

/// The rules an answer's text says (see [`answer_text`]), and when it was asked for.
fn rules_of(text: &[u8]) -> (Rules, u128) {
    let (first, what) = match text.iter().position(|&b| b == b'\n') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (&b""[..], text),
    };
    let asked_at = std::str::from_utf8(first)
        .ok()
        .and_then(|line| line.strip_prefix("at "))
        .and_then(|ns| ns.parse().ok())
        .unwrap_or(0);
    let rules = if let Some(reason) = what.strip_prefix(b"nothing ") {
        Rules::Nothing(String::from_utf8_lossy(reason).into_owned())
    } else {
        match what.strip_prefix(b"body ") {
            Some(body) => match Robot::new(AGENT, body) {
                Ok(robot) => Rules::Parsed(Box::new(robot)),
                // Not robots.txt at all: no rules in it.
                Err(_) => Rules::All,
            },
            None => Rules::All,
        }
    };
    (rules, asked_at)
}

/// A robots.txt's Crawl-delay, if it sets a usable one (at most a minute).
fn crawl_delay(robot: &Robot) -> Option<Duration> {
    robot
        .delay
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| Duration::from_secs_f32(d.min(60.0)))
}

/// Requests `robots_url` in its turn at the host of `url` (a request like the others).
async fn read_answer(client: &Client, url: &Url, robots_url: &str, policy: &FetchPolicy) -> Answer {
    let turns = host_pace::Turns {
        slot: policy.pace_slot,
        slots: policy.pace_shared_by,
    };
    host_pace::wait_turn(&HostKey::of(url), policy.per_host_interval, turns).await;
    let asked_at = host_pace::now_ns();
    (fetch_robots(client, robots_url).await, asked_at)
}

async fn fetch_robots(client: &Client, robots_url: &str) -> Result<Option<Vec<u8>>, String> {
    let fetched = tokio::time::timeout(ROBOTS_TIMEOUT, async {
        let mut response = client
            .get(robots_url)
            .send()
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let status = response.status();
        if status.is_client_error() {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_ROBOTS {
                body.truncate(MAX_ROBOTS);
                break;
            }
        }
        Ok(Some(body))
    })
    .await;
    fetched.unwrap_or_else(|_| Err(format!("no answer within {} s", ROBOTS_TIMEOUT.as_secs())))
}
