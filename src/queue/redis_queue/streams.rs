//! The Redis stream behind a queue: its keys, the consumer group, leases that ran out
//! reclaimed, and records written beside the stream entries they end.

use super::*;

impl RedisQueue {
    pub(super) fn key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    pub(super) async fn make_group(&self) -> Result<(), String> {
        let mut c = self.connection.clone();
        let made = cmd("XGROUP")
            .arg("CREATE")
            .arg(self.key("images"))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async::<()>(&mut c)
            .await;
        match made {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other.map_err(failed),
        }
    }

    pub(super) fn reclaim_due(&self) -> bool {
        let mut last = self.reclaimed.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= RECLAIM_EVERY);
        if due {
            *last = Some(std::time::Instant::now());
        }
        due
    }

    /// Up to `count` entries whose lease (`lease`) ran out, claimed for this worker.
    pub(super) async fn reclaim(
        &self,
        count: usize,
        lease: Duration,
    ) -> Result<Vec<StreamId>, String> {
        let mut c = self.connection.clone();
        let stream = self.key("images");
        let claimed: StreamAutoClaimReply = cmd("XAUTOCLAIM")
            .arg(&stream)
            .arg(GROUP)
            .arg(&self.consumer)
            .arg(lease.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut c)
            .await
            .map_err(failed)?;
        let entries = claimed.claimed;
        if !claimed.deleted_ids.is_empty() {
            // Entries gone from the stream: nothing to take; drop their leases.
            cmd("XACK")
                .arg(&stream)
                .arg(GROUP)
                .arg(&claimed.deleted_ids)
                .query_async::<()>(&mut c)
                .await
                .map_err(failed)?;
        }
        Ok(entries)
    }

    /// Claims this worker's own `entries` again with their idle time set to `idle_ms`:
    /// 0 renews their leases, the most makes them look run out.
    pub(super) async fn claim_again(&self, entries: &[&str], idle_ms: u32) -> Result<(), String> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut c = self.connection.clone();
        cmd("XCLAIM")
            .arg(self.key("images"))
            .arg(GROUP)
            .arg(&self.consumer)
            .arg(0)
            .arg(entries)
            .arg("IDLE")
            .arg(idle_ms)
            .arg("JUSTID")
            .query_async::<Value>(&mut c)
            .await
            .map(drop)
            .map_err(failed)
    }

    /// Adds to `p` the writes that record `record` as image `id`'s outcome (`status`).
    pub(super) fn add_record<'p>(
        &self,
        p: &'p mut redis::Pipeline,
        id: &str,
        record: &str,
        status: &str,
    ) -> &'p mut redis::Pipeline {
        p.cmd("HSET")
            .arg(self.key("records"))
            .arg(id)
            .arg(record)
            .ignore()
            .cmd("HSET")
            .arg(self.key("outcomes"))
            .arg(id)
            .arg(status)
            .ignore()
            .cmd(if status == "failed" { "SADD" } else { "SREM" })
            .arg(self.key("failed"))
            .arg(id)
            .ignore()
    }
}
