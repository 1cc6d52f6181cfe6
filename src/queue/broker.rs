//! The broker a queue lives on, behind one set of operations: what `enqueue`, `work` and
//! `queue-status` ask of Redis and of NATS alike.

use std::any::Any;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::messages::QueueSettings;

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
    /// What the broker that delivered it needs to renew, finish or release it (a Redis
    /// stream entry's id, a JetStream message), known only to that broker.
    pub handle: Box<dyn Any + Send + Sync>,
}

impl Delivery {
    /// The broker's handle on this delivery, if it is a `T` (a broker asks for its own).
    pub fn handle_as<T: 'static>(&self) -> Option<&T> {
        self.handle.downcast_ref()
    }
}

/// An image that ended, with what to record of it.
pub struct FinishedImage<'a> {
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

/// A queue on a broker: what `enqueue`, `work` and `queue-status` ask of it, whichever
/// broker it is. A new broker is one module implementing this, a [`super::BrokerKind`]
/// and a line in `queue::connect`; the queue tests run on every broker.
#[async_trait(?Send)]
pub trait Broker: Send + Sync {
    /// The plan's settings as the broker holds them, `None` when no plan was enqueued.
    async fn settings_text(&self) -> Result<Option<String>, String>;

    /// The plan's settings, `None` when no plan was enqueued.
    async fn settings(&self) -> Result<Option<QueueSettings>, String> {
        let text = self.settings_text().await?;
        text.map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| format!("the queue's settings are not imgpar's: {e}"))
        })
        .transpose()
    }

    /// Writes the plan's settings (and makes what the queue needs on the broker).
    async fn put_settings(&self, settings: &QueueSettings) -> Result<(), String>;

    /// Readies this worker, whose leases last `lease`.
    async fn prepare_worker(&self, lease: Duration) -> Result<(), String>;

    /// Publishes each `(id, message)` that is not pending, leased or done (converted or
    /// skipped); returns how many were published.
    async fn publish(&self, batch: &[(String, String)]) -> Result<usize, String>;

    /// Takes up to `count` images (those whose lease ran out first), waiting up to `wait`.
    async fn take(
        &self,
        count: usize,
        lease: Duration,
        wait: Duration,
    ) -> Result<Vec<Delivery>, String>;

    /// Records that this worker is starting to convert each of `started`.
    async fn started(&self, started: &[&Delivery]) -> Result<(), String>;

    /// Renews the leases of `held`.
    async fn renew(&self, held: &[&Delivery]) -> Result<(), String>;

    /// Records each image's outcome, then takes it off the queue.
    async fn finish(&self, ended: &[FinishedImage<'_>]) -> Result<(), String>;

    /// Gives an image back untried.
    async fn release(&self, delivery: &Delivery) -> Result<(), String>;

    /// Images pending or leased.
    async fn outstanding(&self) -> Result<u64, String>;

    /// Pending, leased, done and failed.
    async fn counts(&self) -> Result<QueueCounts, String>;

    /// Every record of an image done, to `each` (in no particular order).
    async fn records(&self, each: &mut dyn for<'r> FnMut(&'r str)) -> Result<(), String>;

    /// Records an input that failed before it became an image, under `id`.
    async fn record_problem(&self, id: &str, record: &str) -> Result<(), String>;
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

/// This machine's name (Unix's `gethostname`, Windows' `COMPUTERNAME`).
fn host_name() -> Option<String> {
    #[cfg(unix)]
    {
        let mut name = [0u8; 256];
        // SAFETY: the buffer is writable for its length.
        if unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } != 0 {
            return None;
        }
        let end = name.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&name[..end]).into_owned()).filter(|h| !h.is_empty())
    }
    #[cfg(windows)]
    {
        std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty())
    }
}

/// A name for this worker among the queue's consumers: host, process and a random part.
pub fn consumer_name() -> String {
    let host = host_name().unwrap_or_else(|| "host".into());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}
