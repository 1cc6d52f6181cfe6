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
        Rules::Parsed(robot) if robot.allowed(url.as_str()) => Ok(robot
            .delay
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(|d| Duration::from_secs_f32(d.min(60.0)))),
        Rules::Parsed(_) => Err(format!(
            "{robots_url} disallows {} for {AGENT}; not fetched (--robots)",
            url.path()
        )),
    }
}

/// What `robots_url` says, read by this process or, with a shared folder, by whichever
/// process of the run needed it first.
async fn read_once_a_run(
    client: &Client,
    url: &Url,
    robots_url: &str,
    policy: &FetchPolicy,
) -> Rules {
    let Some(folder) = &policy.robots_shared else {
        return read(client, url, robots_url, policy).await;
    };
    let stem = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(robots_url.as_bytes()));
    let answer = folder.join(format!("{stem}.answer"));
    let claimed = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(folder.join(format!("{stem}.claim")))
        .is_ok();
    if claimed {
        let (rules, text) = answered(read_answer(client, url, robots_url, policy).await);
        // Written whole under a temporary name, then renamed: a reader sees all or none.
        let temporary = folder.join(format!("{stem}.{}.tmp", std::process::id()));
        if std::fs::write(&temporary, text).is_ok() {
            let _ = std::fs::rename(&temporary, &answer);
        }
        return rules;
    }
    // Another worker is reading it: wait for its answer, as long as it may take.
    let deadline = tokio::time::Instant::now() + ROBOTS_TIMEOUT + policy.connect_timeout;
    while tokio::time::Instant::now() < deadline {
        if let Ok(text) = std::fs::read(&answer) {
            return rules_of(&text);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    read(client, url, robots_url, policy).await
}

/// What a robots.txt request came to: its body, none (4xx), or why it could not be read.
type Answer = Result<Option<Vec<u8>>, String>;

async fn read(client: &Client, url: &Url, robots_url: &str, policy: &FetchPolicy) -> Rules {
    answered(read_answer(client, url, robots_url, policy).await).0
}

/// The rules of `answer`, and the answer as the text other workers read back.
fn answered(answer: Answer) -> (Rules, Vec<u8>) {
    let text = match &answer {
        Err(reason) => format!("nothing {reason}").into_bytes(),
        Ok(None) => b"all".to_vec(),
        Ok(Some(body)) => [&b"body "[..], body].concat(),
    };
    (rules_of(&text), text)
}

/// The rules an answer's text says (see [`answered`]).
fn rules_of(text: &[u8]) -> Rules {
    if let Some(reason) = text.strip_prefix(b"nothing ") {
        return Rules::Nothing(String::from_utf8_lossy(reason).into_owned());
    }
    match text.strip_prefix(b"body ") {
        Some(body) => match Robot::new(AGENT, body) {
            Ok(robot) => Rules::Parsed(Box::new(robot)),
            // Not robots.txt at all: no rules in it.
            Err(_) => Rules::All,
        },
        None => Rules::All,
    }
}

/// Requests `robots_url` in its turn at the host of `url`, and books the host's next turn
/// after it (the pace, or the Crawl-delay it sets).
async fn read_answer(client: &Client, url: &Url, robots_url: &str, policy: &FetchPolicy) -> Answer {
    let host = HostKey::of(url);
    let turns = host_pace::Turns {
        slot: policy.pace_slot,
        slots: policy.pace_shared_by,
    };
    host_pace::wait_turn(&host, policy.per_host_interval, turns).await;
    let answer = fetch_robots(client, robots_url).await;
    if let Ok(Some(body)) = &answer
        && let Ok(robot) = Robot::new(AGENT, body)
        && let Some(delay) = robot.delay.filter(|d| d.is_finite() && *d > 0.0)
    {
        let delay = Duration::from_secs_f32(delay.min(60.0));
        host_pace::pause(&host, delay.saturating_mul(policy.pace_shared_by));
    }
    answer
}

async fn fetch_robots(client: &Client, robots_url: &str) -> Answer {
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
