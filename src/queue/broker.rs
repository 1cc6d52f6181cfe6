//! The broker a queue lives on, behind one set of operations: what `enqueue`, `work` and
//! `queue-status` ask of Redis and of NATS alike.

use std::time::{Duration, Instant};

use super::address::{BrokerKind, QueueAddress};
use super::messages::QueueSettings;
use super::nats_queue::NatsQueue;
use super::redis_queue::RedisQueue;

/// An image taken from the queue and leased to this worker.
pub struct Delivery {
    /// The image's id.
    pub id: String,
    /// Its message (JSON of an [`super::messages::ImageMessage`]).
    pub message: String,
    /// How many times a worker started converting it before this delivery (and stopped
    /// before it ended: killed, out of memory, crashed). Images taken but never started
    /// (held ready by a worker that died) do not count.
    pub starts: u64,
    /// What the broker needs to renew, finish or release it.
    pub handle: Handle,
}

/// A delivery's handle on its broker.
pub enum Handle {
    /// The stream entry's id.
    Redis(String),
    /// The JetStream message (acknowledged through it).
    Nats(Box<async_nats::jetstream::Message>),
}

impl Handle {
    /// The stream entry's id, on Redis.
    pub fn redis_entry(&self) -> Option<&str> {
        match self {
            Handle::Redis(entry) => Some(entry),
            Handle::Nats(_) => None,
        }
    }
}

/// An image that ended, with what to record of it.
pub struct Ended<'a> {
    /// Its delivery.
    pub delivery: &'a Delivery,
    /// Its report record, as JSON.
    pub record: String,
    /// `ok`, `failed` or `skipped`.
    pub status: String,
}

/// How far a queue is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueCounts {
    /// Images waiting for a worker.
    pub pending: u64,
    /// Images a worker holds now (or held, until its lease runs out).
    pub leased: u64,
    /// Images with a record: converted, failed or skipped.
    pub done: u64,
    /// Of those, the failed.
    pub failed: u64,
}

/// A connected queue.
pub enum Broker {
    /// On Redis.
    Redis(RedisQueue),
    /// On NATS JetStream.
    Nats(Box<NatsQueue>),
}

macro_rules! each_broker {
    ($self:ident, $queue:ident => $call:expr) => {
        match $self {
            Broker::Redis($queue) => $call.await,
            Broker::Nats($queue) => $call.await,
        }
    };
}

impl Broker {
    /// Connects to the queue's broker, trying again with backoff for up to `patience`.
    pub async fn connect(address: &QueueAddress, patience: Duration) -> Result<Broker, String> {
        let (server, name) = (&address.server, &address.name);
        let connected = retrying(patience, || async {
            match address.kind {
                BrokerKind::Redis => RedisQueue::connect(server, name).await.map(Broker::Redis),
                BrokerKind::Nats => NatsQueue::connect(server, name)
                    .await
                    .map(|queue| Broker::Nats(Box::new(queue))),
            }
        })
        .await;
        connected.map_err(|e| format!("cannot reach the broker of {address}: {e}"))
    }

    /// The plan's settings, `None` when no plan was enqueued.
    pub async fn settings(&self) -> Result<Option<QueueSettings>, String> {
        let text = each_broker!(self, q => q.settings())?;
        text.map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| format!("the queue's settings are not imgpar's: {e}"))
        })
        .transpose()
    }

    /// Writes the plan's settings (and makes what the queue needs on the broker).
    pub async fn put_settings(&self, settings: &QueueSettings) -> Result<(), String> {
        each_broker!(self, q => q.put_settings(settings))
    }

    /// Readies this worker, whose leases last `lease`.
    pub async fn prepare_worker(&self, lease: Duration) -> Result<(), String> {
        each_broker!(self, q => q.prepare_worker(lease))
    }

    /// Publishes each `(id, message)` that is not pending, leased or done (converted or
    /// skipped); returns how many were published.
    pub async fn publish(&self, batch: &[(String, String)]) -> Result<usize, String> {
        each_broker!(self, q => q.publish(batch))
    }

    /// Takes up to `count` images (those whose lease ran out first), waiting up to `wait`.
    pub async fn take(
        &self,
        count: usize,
        lease: Duration,
        wait: Duration,
    ) -> Result<Vec<Delivery>, String> {
        each_broker!(self, q => q.take(count, lease, wait))
    }

    /// Records that this worker is starting to convert each of `started`.
    pub async fn started(&self, started: &[&Delivery]) -> Result<(), String> {
        each_broker!(self, q => q.started(started))
    }

    /// Renews the leases of `held`.
    pub async fn renew(&self, held: &[&Delivery]) -> Result<(), String> {
        each_broker!(self, q => q.renew(held))
    }

    /// Records each image's outcome, then takes it off the queue.
    pub async fn finish(&self, ended: &[Ended<'_>]) -> Result<(), String> {
        each_broker!(self, q => q.finish(ended))
    }

    /// Gives an image back untried.
    pub async fn release(&self, delivery: &Delivery) -> Result<(), String> {
        each_broker!(self, q => q.release(delivery))
    }

    /// Images pending or leased.
    pub async fn outstanding(&self) -> Result<u64, String> {
        each_broker!(self, q => q.outstanding())
    }

    /// Pending, leased, done and failed.
    pub async fn counts(&self) -> Result<QueueCounts, String> {
        each_broker!(self, q => q.counts())
    }

    /// Every record of an image done, to `each` (in no particular order).
    pub async fn records(&self, each: &mut dyn FnMut(&str)) -> Result<(), String> {
        each_broker!(self, q => q.records(each))
    }

    /// Records an input that failed before it became an image, under `id`.
    pub async fn record_problem(&self, id: &str, record: &str) -> Result<(), String> {
        each_broker!(self, q => q.record_problem(id, record))
    }
}

/// The longest one request to the broker is waited for (or the patience, if shorter, but
/// at least 5 s).
const ATTEMPT_LIMIT: Duration = Duration::from_secs(30);

/// Runs `op` until it succeeds, trying again after 0.2 s, 0.4 s, ... (at most 5 s apart)
/// while less than `patience` has passed since the first failure; then its last error.
pub async fn retrying<T, F, Fut>(patience: Duration, mut op: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let first_failure = Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        // A request to a broker that went away mid-request may never be answered.
        let limit = ATTEMPT_LIMIT.min(patience.max(Duration::from_secs(5)));
        let attempt = tokio::time::timeout(limit, op()).await;
        let attempt =
            attempt.unwrap_or_else(|_| Err(format!("no answer within {} s", limit.as_secs())));
        match attempt {
            Ok(value) => return Ok(value),
            Err(e) if first_failure.elapsed() + pause > patience => {
                return Err(format!(
                    "{e} (still failing after {:.0} s)",
                    first_failure.elapsed().as_secs_f64()
                ));
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// A name for this worker among the queue's consumers: host, process and a random part.
pub fn consumer_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}
