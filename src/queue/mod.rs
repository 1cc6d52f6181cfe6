//! Queues: a plan published to a broker users already run (Redis Streams, NATS JetStream)
//! and workers that come and go, each taking the next image, converting it and
//! acknowledging it. Delivery is at least once; the effect is once: outputs are written
//! create-only, and an output that stands already with the bytes its image converts to
//! counts as converted. A worker that stops (killed, pre-empted) stops renewing its
//! leases, and its images go to the next worker that asks once the lease runs out; one
//! whose workers stop again and again is recorded failed after `--max-deliveries`.
//! Completion is proven against the plan: a record for every image planned, none pending
//! or leased.

mod address;
mod broker;
mod enqueue;
mod messages;
mod nats_queue;
mod redis_queue;
mod status;
mod work;

use std::time::Duration;

use broker::Broker;
use nats_queue::NatsQueue;
use redis_queue::RedisQueue;

pub use address::{BrokerKind, QueueAddress};
pub use broker::QueueCounts;
pub use enqueue::{Enqueued, enqueue};
pub use status::{QueueStatus, status};
pub use work::{WorkSettings, work};

/// Connects to the queue's broker, trying again with backoff for up to `patience`.
async fn connect(address: &QueueAddress, patience: Duration) -> Result<Box<dyn Broker>, String> {
    let (server, name) = (&address.server, &address.name);
    let connected = broker::retrying(patience, || async {
        let broker: Box<dyn Broker> = match address.kind {
            BrokerKind::Redis => Box::new(RedisQueue::connect(server, name).await?),
            BrokerKind::Nats => Box::new(NatsQueue::connect(server, name).await?),
        };
        Ok(broker)
    })
    .await;
    connected.map_err(|e| format!("cannot reach the broker of {address}: {e}"))
}

/// The runtime the broker clients run on: one thread of its own, so that the workers'
/// threads and the async mode's runtime never wait on it.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("imgpar-broker")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the broker's runtime: {e}"))
}
