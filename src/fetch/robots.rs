//! `--robots`: each host's /robots.txt read once per process (at most [`MAX_ROBOTS`]
//! bytes, within [`ROBOTS_TIMEOUT`]) and honoured for the agent `imgpar` (else `*`):
//! a URL it disallows is never requested, and its `Crawl-delay` paces the host. A
//! robots.txt that is missing (4xx) allows everything; one that cannot be read (5xx, no
//! connection) allows nothing for now, as search engines read it. The rules are parsed
//! by `texting_robots`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Client, Url};
use texting_robots::Robot;
use tokio::sync::OnceCell;

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
pub async fn check(client: &Client, url: &Url) -> Result<Option<Duration>, String> {
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
    let rules = cell.get_or_init(|| read(client, &robots_url)).await;
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

async fn read(client: &Client, robots_url: &str) -> Rules {
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
    match fetched {
        Err(_) => Rules::Nothing(format!("no answer within {} s", ROBOTS_TIMEOUT.as_secs())),
        Ok(Err(reason)) => Rules::Nothing(reason),
        Ok(Ok(None)) => Rules::All,
        Ok(Ok(Some(body))) => match Robot::new(AGENT, &body) {
            Ok(robot) => Rules::Parsed(Box::new(robot)),
            // Not robots.txt at all: no rules in it.
            Err(_) => Rules::All,
        },
    }
}
