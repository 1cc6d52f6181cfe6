//! The JetStream streams behind a queue: their names and subjects, the work-queue
//! stream and its consumer, the record and start streams, and their writes.

use super::*;

impl NatsQueue {
    pub(super) fn stream_name(&self, what: &str) -> String {
        format!("IMGPAR_{}_{what}", self.name)
    }

    pub(super) fn subject(&self, what: &str, id: &str) -> String {
        format!("imgpar.{}.{what}.{id}", self.name)
    }

    pub(super) fn keep_last(
        &self,
        what: &'static str,
        retention: RetentionPolicy,
    ) -> stream::Config {
        stream::Config {
            name: self.stream_name(&what.to_uppercase()),
            subjects: vec![self.subject(what, "*")],
            retention,
            max_messages_per_subject: 1,
            storage: StorageType::File,
            ..Default::default()
        }
    }

    /// The stream holding `what` (made if missing).
    pub(super) async fn stream(&self, what: &'static str) -> Result<stream::Stream, String> {
        let known = {
            let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
            streams.get(what).cloned()
        };
        if let Some(stream) = known {
            return Ok(stream);
        }
        let config = match what {
            "images" => stream::Config {
                discard: DiscardPolicy::New,
                discard_new_per_subject: true,
                ..self.keep_last("images", RetentionPolicy::WorkQueue)
            },
            "plan" => stream::Config {
                subjects: vec![format!("imgpar.{}.plan", self.name)],
                ..self.keep_last("plan", RetentionPolicy::Limits)
            },
            "starts" => stream::Config {
                max_messages_per_subject: 1000,
                ..self.keep_last("starts", RetentionPolicy::Limits)
            },
            other => self.keep_last(other, RetentionPolicy::Limits),
        };
        let stream = self.js.get_or_create_stream(config).await.map_err(failed)?;
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        streams.insert(what, stream.clone());
        Ok(stream)
    }

    pub(super) async fn consumer(&self, lease: Duration) -> Result<pull::Config, String> {
        let _ = self.stream("images").await?;
        Ok(pull::Config {
            durable_name: Some(CONSUMER.into()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: lease,
            max_deliver: -1,
            max_ack_pending: 1_000_000,
            ..Default::default()
        })
    }

    pub(super) async fn starts_of(&self, id: &str) -> Result<u64, String> {
        let starts = self.stream("starts").await?;
        let subject = self.subject("starts", id);
        let mut counts = starts.info_with_subjects(&subject).await.map_err(failed)?;
        let mut n = 0;
        while let Some(count) = counts.next().await {
            let (name, count) = count.map_err(failed)?;
            if name == subject {
                n += count as u64;
            }
        }
        Ok(n)
    }

    pub(super) async fn finish_one(&self, ended: &FinishedImage<'_>) -> Result<(), String> {
        let delivery = ended.delivery;
        self.write_record(&delivery.id, &ended.record, &ended.status)
            .await?;
        if let Some(message) = delivery.handle_as::<jetstream::Message>() {
            // A server restarted since the delivery may not confirm its ack: the record
            // is written, so a plain ack will do (if it is lost too, the image comes back
            // after the lease and its standing output counts it converted).
            let confirmed = tokio::time::timeout(ACK_WAIT, message.double_ack()).await;
            if !matches!(confirmed, Ok(Ok(()))) {
                message.ack().await.map_err(failed)?;
            }
        }
        Ok(())
    }

    /// Writes image `id`'s record and marks: failed or not, and no starts outstanding
    /// (the three at once).
    pub(super) async fn write_record(
        &self,
        id: &str,
        record: &str,
        status: &str,
    ) -> Result<(), String> {
        let record = self.publish_one(self.subject("records", id), record.to_string());
        let failure = async {
            if status == "failed" {
                self.publish_one(self.subject("failed", id), String::new())
                    .await
            } else {
                self.purge("failed", id).await
            }
        };
        let starts = self.purge("starts", id);
        futures_util::future::try_join3(record, failure, starts)
            .await
            .map(drop)
    }

    /// Publishes `payload` on `subject` and waits for the stream's ack.
    pub(super) async fn publish_one(&self, subject: String, payload: String) -> Result<(), String> {
        self.js
            .publish(subject, payload.into())
            .await
            .map_err(failed)?
            .await
            .map(drop)
            .map_err(failed)
    }

    pub(super) async fn purge(&self, what: &'static str, id: &str) -> Result<(), String> {
        let stream = self.stream(what).await?;
        stream
            .purge()
            .filter(self.subject(what, id))
            .await
            .map(drop)
            .map_err(failed)
    }
}
