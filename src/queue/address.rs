//! Where a queue is: `redis://HOST:PORT/NAME` or `nats://HOST:PORT/NAME`.

use std::fmt;
use std::str::FromStr;

/// The broker a queue lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// Redis (or Valkey) 6.2 or later: a stream with a consumer group.
    Redis,
    /// NATS 2.10 or later with JetStream: a work-queue stream with a durable consumer.
    Nats,
}

/// A queue's address as the user gave it: the broker, the server to reach it on and the
/// queue's name there (letters, digits, `-` and `_`; several queues share a broker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAddress {
    /// Which broker.
    pub kind: BrokerKind,
    /// `HOST:PORT`, with `USER:PASSWORD@` in front if given.
    pub server: String,
    /// The queue's name.
    pub name: String,
}

impl QueueAddress {
    /// The address without credentials, for messages.
    pub fn shown(&self) -> String {
        let server = self.server.rsplit('@').next().unwrap_or(&self.server);
        let scheme = match self.kind {
            BrokerKind::Redis => "redis",
            BrokerKind::Nats => "nats",
        };
        format!("{scheme}://{server}/{}", self.name)
    }
}

impl fmt::Display for QueueAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl FromStr for QueueAddress {
    type Err = String;

    fn from_str(text: &str) -> Result<QueueAddress, String> {
        let (kind, rest) = if let Some(rest) = text.strip_prefix("redis://") {
            (BrokerKind::Redis, rest)
        } else if let Some(rest) = text.strip_prefix("nats://") {
            (BrokerKind::Nats, rest)
        } else {
            return Err(format!(
                "{text} is not a queue: write redis://HOST:PORT/NAME or nats://HOST:PORT/NAME \
                 (to convert a folder named like a command, such as work, write it ./work)"
            ));
        };
        let Some((server, name)) = rest.split_once('/') else {
            return Err(format!("{text} names no queue: add /NAME after the server"));
        };
        if server.is_empty() {
            return Err(format!("{text} names no server before /{name}"));
        }
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(format!(
                "{text}: a queue's name is 1 to 64 letters, digits, - or _ (not {name:?})"
            ));
        }
        Ok(QueueAddress {
            kind,
            server: server.to_string(),
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_broker_server_and_queue() {
        let redis: QueueAddress = "redis://u:secret@127.0.0.1:6379/photos-1".parse().unwrap();
        assert_eq!(redis.kind, BrokerKind::Redis);
        assert_eq!(redis.server, "u:secret@127.0.0.1:6379");
        assert_eq!(redis.name, "photos-1");
        assert_eq!(redis.to_string(), "redis://127.0.0.1:6379/photos-1");
        let nats: QueueAddress = "nats://localhost:4222/q_2".parse().unwrap();
        assert_eq!(nats.kind, BrokerKind::Nats);
        for bad in [
            "http://host/q",
            "redis://host:1",
            "redis:///q",
            "nats://host/",
            "nats://host/a.b",
            "redis://host/a/b",
        ] {
            assert!(bad.parse::<QueueAddress>().is_err(), "{bad} was taken");
        }
    }
}
