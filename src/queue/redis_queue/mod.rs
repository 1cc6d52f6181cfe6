//! A queue on Redis: a stream of image messages read through one consumer group, with
//! the sets and hashes that make enqueueing idempotent and completion countable. Leases
//! are the group's pending entries: an entry idle longer than the lease is claimed by the
//! next worker that asks (XAUTOCLAIM), and a worker renews its own by claiming them
//! again (XCLAIM ... JUSTID), which resets their idle time.
//!
//! Keys, all under `imgpar:NAME:`: `settings` (JSON), `images` (the stream; group
//! `workers`), `queued` (set: ids pending or leased), `outcomes` (hash: id -> ok, failed
//! or skipped), `records` (hash: id -> report record), `failed` (set), `starts` (hash:
//! id -> times a worker started it and did not end it).

mod streams;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::{Value, cmd, pipe};

use async_trait::async_trait;

use super::broker::{Broker, Delivery, FinishedImage, QueueCounts};
use super::messages::QueueSettings;

const GROUP: &str = "workers";

/// Adds an image unless it is pending, leased or done (ok or skipped): 1 if added.
const PUBLISH: &str = r"
local done = redis.call('HGET', KEYS[3], ARGV[1])
if done == 'ok' or done == 'skipped' then return 0 end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'job', ARGV[2])
return 1
";

/// A queue on a Redis server.
pub struct RedisQueue {
    connection: ConnectionManager,
    prefix: String,
    consumer: String,
    /// When leases that ran out were last looked for.
    reclaimed: std::sync::Mutex<Option<std::time::Instant>>,
}

/// How often a worker that keeps finding new images looks for leases that ran out.
const RECLAIM_EVERY: Duration = Duration::from_secs(1);

fn failed(e: redis::RedisError) -> String {
    e.to_string()
}

impl RedisQueue {
    /// Connects to `server` (`HOST:PORT`, maybe with credentials) for the queue `name`.
    pub async fn connect(server: &str, name: &str) -> Result<RedisQueue, String> {
        let client = redis::Client::open(format!("redis://{server}/")).map_err(failed)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(20)))
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(failed)?;
        Ok(RedisQueue {
            connection,
            prefix: format!("imgpar:{name}:"),
            consumer: super::broker::consumer_name(),
            reclaimed: std::sync::Mutex::new(None),
        })
    }
}

#[async_trait(?Send)]
impl Broker for RedisQueue {
    /// The settings, if a plan was enqueued.
    async fn settings_text(&self) -> Result<Option<String>, String> {
        let mut c = self.connection.clone();
        cmd("GET")
            .arg(self.key("settings"))
            .query_async(&mut c)
            .await
            .map_err(failed)
    }

    /// Writes the settings and makes the stream and its group.
    async fn put_settings(&self, settings: &QueueSettings) -> Result<(), String> {
        let mut c = self.connection.clone();
        let json = serde_json::to_string(settings).map_err(|e| e.to_string())?;
        cmd("SET")
            .arg(self.key("settings"))
            .arg(json)
            .query_async::<()>(&mut c)
            .await
            .map_err(failed)?;
        self.make_group().await
    }

    /// Readies a worker: the group exists (a worker may start before the enqueue ends).
    async fn prepare_worker(&self, _lease: Duration) -> Result<(), String> {
        self.make_group().await
    }

    /// Publishes each `(id, message)` not pending, leased or done; returns how many.
    async fn publish(&self, batch: &[(String, String)]) -> Result<usize, String> {
        if batch.is_empty() {
            return Ok(0);
        }
        let mut c = self.connection.clone();
        let mut p = pipe();
        for (id, message) in batch {
            p.cmd("EVAL")
                .arg(PUBLISH)
                .arg(3)
                .arg(self.key("queued"))
                .arg(self.key("images"))
                .arg(self.key("outcomes"))
                .arg(id)
                .arg(message);
        }
        let added: Vec<i64> = p.query_async(&mut c).await.map_err(failed)?;
        Ok(added.iter().filter(|&&n| n == 1).count())
    }

    /// Takes up to `count` images: first those whose lease ran out, then new ones,
    /// waiting up to `wait` for one.
    async fn take(
        &self,
        count: usize,
        lease: Duration,
        wait: Duration,
    ) -> Result<Vec<Delivery>, String> {
        let mut c = self.connection.clone();
        let stream = self.key("images");
        let mut entries = Vec::new();
        // Leases that ran out are looked for when this worker waits for images anyway,
        // or once a second: not on every take.
        if !wait.is_zero() || self.reclaim_due() {
            entries = self.reclaim(count, lease).await?;
        }
        if entries.len() < count {
            let mut read = cmd("XREADGROUP");
            read.arg("GROUP")
                .arg(GROUP)
                .arg(&self.consumer)
                .arg("COUNT")
                .arg(count - entries.len());
            if !wait.is_zero() {
                read.arg("BLOCK").arg(wait.as_millis().max(1) as u64);
            }
            let read: Option<StreamReadReply> = read
                .arg("STREAMS")
                .arg(&stream)
                .arg(">")
                .query_async(&mut c)
                .await
                .map_err(failed)?;
            entries.extend(read.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids));
        }
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let fields: Vec<(String, String, String)> = entries.iter().map(entry_fields).collect();
        let mut p = pipe();
        for (_, id, _) in &fields {
            p.cmd("HGET").arg(self.key("starts")).arg(id);
        }
        let counts: Vec<Option<u64>> = p.query_async(&mut c).await.map_err(failed)?;
        Ok(fields
            .into_iter()
            .zip(counts)
            .map(|((entry, id, message), starts)| Delivery {
                id,
                message,
                starts: starts.unwrap_or(0),
                handle: Box::new(entry),
            })
            .collect())
    }

    /// Counts a start of each of `started`, in one request.
    async fn started(&self, started: &[&Delivery]) -> Result<(), String> {
        let mut c = self.connection.clone();
        let mut p = pipe();
        for delivery in started {
            p.cmd("HINCRBY")
                .arg(self.key("starts"))
                .arg(&delivery.id)
                .arg(1)
                .ignore();
        }
        p.query_async::<()>(&mut c).await.map_err(failed)
    }

    /// Renews the leases of `held`.
    async fn renew(&self, held: &[&Delivery]) -> Result<(), String> {
        let entries: Vec<&str> = held
            .iter()
            .filter_map(|d| d.handle_as::<String>().map(String::as_str))
            .collect();
        self.claim_again(&entries, 0).await
    }

    /// Records each image's outcome (its record, and ok, failed or skipped) and removes it
    /// from the queue, all in one transaction.
    async fn finish(&self, ended: &[FinishedImage<'_>]) -> Result<(), String> {
        let mut c = self.connection.clone();
        let mut p = pipe();
        p.atomic();
        for ended in ended {
            let id = &ended.delivery.id;
            self.add_record(&mut p, id, &ended.record, &ended.status)
                .cmd("SREM")
                .arg(self.key("queued"))
                .arg(id)
                .ignore()
                .cmd("HDEL")
                .arg(self.key("starts"))
                .arg(id)
                .ignore();
            if let Some(entry) = ended.delivery.handle_as::<String>() {
                p.cmd("XACK")
                    .arg(self.key("images"))
                    .arg(GROUP)
                    .arg(entry)
                    .ignore()
                    .cmd("XDEL")
                    .arg(self.key("images"))
                    .arg(entry)
                    .ignore();
            }
        }
        p.query_async::<()>(&mut c).await.map_err(failed)
    }

    /// Gives `delivery` back untried: its lease is made to look run out, so that the next
    /// worker that asks takes it.
    async fn release(&self, delivery: &Delivery) -> Result<(), String> {
        let entries: Vec<&str> = delivery
            .handle_as::<String>()
            .map(String::as_str)
            .into_iter()
            .collect();
        self.claim_again(&entries, u32::MAX).await
    }

    /// Images pending or leased.
    async fn outstanding(&self) -> Result<u64, String> {
        let mut c = self.connection.clone();
        cmd("SCARD")
            .arg(self.key("queued"))
            .query_async(&mut c)
            .await
            .map_err(failed)
    }

    /// The counts of the queue.
    async fn counts(&self) -> Result<QueueCounts, String> {
        let mut c = self.connection.clone();
        let outstanding = self.outstanding().await?;
        let pending: Value = cmd("XPENDING")
            .arg(self.key("images"))
            .arg(GROUP)
            .query_async(&mut c)
            .await
            .or_else(|e| match e.code() {
                // No stream or group yet: nothing leased.
                Some("NOGROUP") => Ok(Value::Nil),
                _ => Err(e),
            })
            .map_err(failed)?;
        let leased = match pending {
            Value::Array(items) => items
                .first()
                .and_then(|n| redis::from_redis_value_ref::<u64>(n).ok())
                .unwrap_or(0),
            _ => 0,
        };
        let (done, failed_count): (u64, u64) = pipe()
            .cmd("HLEN")
            .arg(self.key("outcomes"))
            .cmd("SCARD")
            .arg(self.key("failed"))
            .query_async(&mut c)
            .await
            .map_err(failed)?;
        Ok(QueueCounts {
            pending: outstanding.saturating_sub(leased),
            leased,
            done,
            failed: failed_count,
        })
    }

    /// Hands every record to `each`, a page at a time.
    async fn records(&self, each: &mut dyn for<'r> FnMut(&'r str)) -> Result<(), String> {
        let mut c = self.connection.clone();
        let mut cursor: u64 = 0;
        loop {
            let (next, page): (u64, Vec<String>) = cmd("HSCAN")
                .arg(self.key("records"))
                .arg(cursor)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut c)
                .await
                .map_err(failed)?;
            // HSCAN gives field, value, field, value, ...
            for record in page.iter().skip(1).step_by(2) {
                each(record);
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Records the outcome of an input that failed before it became an image.
    async fn record_problem(&self, id: &str, record: &str) -> Result<(), String> {
        let mut c = self.connection.clone();
        self.add_record(pipe().atomic(), id, record, "failed")
            .query_async::<()>(&mut c)
            .await
            .map_err(failed)
    }
}

/// An entry's stream id, image id and message.
fn entry_fields(entry: &StreamId) -> (String, String, String) {
    let text = |name: &str| {
        entry
            .map
            .get(name)
            .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
            .unwrap_or_default()
    };
    (entry.id.clone(), text("id"), text("job"))
}
