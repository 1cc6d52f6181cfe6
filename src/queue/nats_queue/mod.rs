//! A queue on NATS JetStream: image messages in a work-queue stream (one subject per
//! image, at most one message a subject, so an image pending or leased is never queued
//! twice), read through one durable pull consumer whose AckWait is the lease (renewed by
//! in-progress acks); records in a stream keeping the last message of each image's
//! subject, failures likewise in a third, a message per start of an image not yet ended
//! in a fourth; the settings in a fifth.
//!
//! Streams: `IMGPAR_NAME_IMAGES` (`imgpar.NAME.images.ID`, consumer `workers`),
//! `IMGPAR_NAME_RECORDS` (`imgpar.NAME.records.ID`), `IMGPAR_NAME_FAILED`
//! (`imgpar.NAME.failed.ID`), `IMGPAR_NAME_STARTS` (`imgpar.NAME.starts.ID`),
//! `IMGPAR_NAME_PLAN` (`imgpar.NAME.plan`).

mod streams;

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind, Context};
use futures_util::StreamExt;

use async_trait::async_trait;

use super::broker::{Broker, Delivery, FinishedImage, QueueCounts};
use super::messages::QueueSettings;

const CONSUMER: &str = "workers";

/// How long a worker waits for the server to confirm an ack.
const ACK_WAIT: Duration = Duration::from_secs(5);

/// How long past its expiry a pull is waited for.
const PULL_GRACE: Duration = Duration::from_secs(3);

/// A queue on a NATS server with JetStream.
pub struct NatsQueue {
    js: Context,
    name: String,
    /// The streams made or found so far, by what they hold (one request each, once).
    streams: std::sync::Mutex<std::collections::HashMap<&'static str, stream::Stream>>,
}

fn failed(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl NatsQueue {
    /// Connects to `server` (`HOST:PORT`, maybe with credentials) for the queue `name`.
    pub async fn connect(server: &str, name: &str) -> Result<NatsQueue, String> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(Duration::from_secs(10)))
            .connect(format!("nats://{server}"))
            .await
            .map_err(failed)?;
        let js = jetstream::new(client);
        // JetStream may be off on that server: find out now, not at the first image.
        js.query_account().await.map_err(|e| {
            format!("the server does not answer for JetStream (is it started with -js?): {e}")
        })?;
        Ok(NatsQueue {
            js,
            name: name.to_string(),
            streams: Default::default(),
        })
    }
}

#[async_trait(?Send)]
impl Broker for NatsQueue {
    /// The settings, if a plan was enqueued.
    async fn settings_text(&self) -> Result<Option<String>, String> {
        let plan = self.stream("plan").await?;
        match plan
            .get_last_raw_message_by_subject(&format!("imgpar.{}.plan", self.name))
            .await
        {
            Ok(message) => Ok(Some(String::from_utf8_lossy(&message.payload).into_owned())),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    /// Writes the settings and makes the streams and the consumer.
    async fn put_settings(&self, settings: &QueueSettings) -> Result<(), String> {
        let json = serde_json::to_vec(settings).map_err(failed)?;
        let _ = self.stream("plan").await?;
        for what in ["records", "failed", "starts"] {
            let _ = self.stream(what).await?;
        }
        self.js
            .publish(format!("imgpar.{}.plan", self.name), json.into())
            .await
            .map_err(failed)?
            .await
            .map_err(failed)?;
        let images = self.stream("images").await?;
        let config = self.consumer(Duration::from_secs(60)).await?;
        images
            .get_or_create_consumer(CONSUMER, config)
            .await
            .map(drop)
            .map_err(failed)
    }

    /// Readies a worker: the consumer's AckWait becomes `lease` (the last worker started
    /// sets it for all).
    async fn prepare_worker(&self, lease: Duration) -> Result<(), String> {
        let images = self.stream("images").await?;
        let config = self.consumer(lease).await?;
        if images.get_consumer::<pull::Config>(CONSUMER).await.is_err() {
            images.create_consumer(config).await.map_err(failed)?;
        } else {
            images.update_consumer(config).await.map_err(failed)?;
        }
        Ok(())
    }

    /// Publishes each `(id, message)` not pending, leased or done; returns how many.
    async fn publish(&self, batch: &[(String, String)]) -> Result<usize, String> {
        let mut records = self.stream("records").await?;
        let any_records = records.info().await.map_err(failed)?.state.messages > 0;
        let done = futures_util::future::join_all(batch.iter().map(|(id, _)| {
            let records = &records;
            async move {
                if !any_records {
                    return Ok(false);
                }
                match records
                    .get_last_raw_message_by_subject(&self.subject("records", id))
                    .await
                {
                    Ok(message) => Ok(matches!(
                        record_status(&message.payload).as_deref(),
                        Some("ok" | "skipped")
                    )),
                    Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => {
                        Ok(false)
                    }
                    Err(e) => Err(failed(e)),
                }
            }
        }))
        .await;
        let mut acks = Vec::new();
        for ((id, message), done) in batch.iter().zip(done) {
            if done? {
                continue;
            }
            let ack = self
                .js
                .publish(self.subject("images", id), message.clone().into())
                .await
                .map_err(failed)?;
            acks.push(ack);
        }
        let mut published = 0;
        for ack in futures_util::future::join_all(acks.into_iter().map(|a| a.into_future())).await {
            match ack {
                Ok(_) => published += 1,
                // The image's subject holds a message already: pending or leased.
                Err(e) if e.to_string().contains("maximum messages per subject") => {}
                Err(e) => return Err(failed(e)),
            }
        }
        Ok(published)
    }

    /// Takes up to `count` images, waiting up to `wait` for one (those whose AckWait ran
    /// out come back by themselves).
    async fn take(
        &self,
        count: usize,
        _lease: Duration,
        wait: Duration,
    ) -> Result<Vec<Delivery>, String> {
        let images = self.stream("images").await?;
        let consumer: async_nats::jetstream::consumer::Consumer<pull::Config> =
            images.get_consumer(CONSUMER).await.map_err(failed)?;
        // No wait: what is there now (fetch is a no-wait batch); else a batch that waits.
        let mut batch = if wait.is_zero() {
            consumer.fetch().max_messages(count).messages().await
        } else {
            consumer
                .batch()
                .max_messages(count)
                .expires(wait)
                .messages()
                .await
        }
        .map_err(failed)?;
        let mut taken = Vec::new();
        // The batch ends when the server says it expired; a server that restarted in the
        // meantime never says so: stop waiting soon after the batch should have ended.
        let ends_by = tokio::time::Instant::now() + wait + PULL_GRACE;
        loop {
            let message = match tokio::time::timeout_at(ends_by, batch.next()).await {
                Ok(Some(message)) => message.map_err(failed)?,
                Ok(None) | Err(_) => break,
            };
            let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
            let id = message
                .subject
                .as_str()
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string();
            // Only an image delivered before can have been started before.
            let starts = if delivered > 1 {
                self.starts_of(&id).await?
            } else {
                0
            };
            taken.push(Delivery {
                id,
                message: String::from_utf8_lossy(&message.payload).into_owned(),
                starts,
                handle: Box::new(message),
            });
        }
        Ok(taken)
    }

    /// Counts a start of each of `started` (a message on its starts subject).
    async fn started(&self, started: &[&Delivery]) -> Result<(), String> {
        let each = started
            .iter()
            .map(|delivery| self.publish_one(self.subject("starts", &delivery.id), String::new()));
        futures_util::future::try_join_all(each).await.map(drop)
    }

    /// Renews the leases of `held` (an in-progress ack each).
    async fn renew(&self, held: &[&Delivery]) -> Result<(), String> {
        for delivery in held {
            if let Some(message) = delivery.handle_as::<jetstream::Message>() {
                message.ack_with(AckKind::Progress).await.map_err(failed)?;
            }
        }
        Ok(())
    }

    /// Records each image's outcome, then acknowledges it (the server confirms the ack,
    /// which removes it from the work queue); the images at once.
    async fn finish(&self, ended: &[FinishedImage<'_>]) -> Result<(), String> {
        let each = ended.iter().map(|ended| self.finish_one(ended));
        futures_util::future::try_join_all(each).await.map(drop)
    }

    /// Gives `delivery` back untried (a negative ack: redelivered at once).
    async fn release(&self, delivery: &Delivery) -> Result<(), String> {
        if let Some(message) = delivery.handle_as::<jetstream::Message>() {
            message.ack_with(AckKind::Nak(None)).await.map_err(failed)?;
        }
        Ok(())
    }

    /// Images pending or leased (a work queue keeps a message until it is acknowledged).
    async fn outstanding(&self) -> Result<u64, String> {
        let mut images = self.stream("images").await?;
        Ok(images.info().await.map_err(failed)?.state.messages)
    }

    /// The counts of the queue.
    async fn counts(&self) -> Result<QueueCounts, String> {
        let outstanding = self.outstanding().await?;
        let images = self.stream("images").await?;
        let leased = match images.get_consumer::<pull::Config>(CONSUMER).await {
            Ok(mut consumer) => consumer.info().await.map_err(failed)?.num_ack_pending as u64,
            Err(_) => 0,
        };
        let mut records = self.stream("records").await?;
        let mut failures = self.stream("failed").await?;
        Ok(QueueCounts {
            pending: outstanding.saturating_sub(leased),
            leased,
            done: records.info().await.map_err(failed)?.state.messages,
            failed: failures.info().await.map_err(failed)?.state.messages,
        })
    }

    /// Hands every record to `each`, read through an ordered consumer.
    async fn records(&self, each: &mut dyn for<'r> FnMut(&'r str)) -> Result<(), String> {
        let mut records = self.stream("records").await?;
        let mut left = records.info().await.map_err(failed)?.state.messages;
        if left == 0 {
            return Ok(());
        }
        let consumer = records
            .create_consumer(pull::OrderedConfig::default())
            .await
            .map_err(failed)?;
        let mut messages = consumer.messages().await.map_err(failed)?;
        while left > 0 {
            let next = tokio::time::timeout(Duration::from_secs(30), messages.next()).await;
            let message = match next {
                Ok(Some(message)) => message.map_err(failed)?,
                Ok(None) => break,
                Err(_) => return Err("the records stopped coming (30 s)".into()),
            };
            each(&String::from_utf8_lossy(&message.payload));
            left -= 1;
        }
        Ok(())
    }

    /// Records the outcome of an input that failed before it became an image.
    async fn record_problem(&self, id: &str, record: &str) -> Result<(), String> {
        self.write_record(id, record, "failed").await
    }
}

/// The `status` field of a record's JSON.
fn record_status(record: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(record).ok()?;
    value.get("status")?.as_str().map(str::to_string)
}
