//! A real S3-compatible server on 127.0.0.1 for the object storage tests: moto's server
//! (PyPI `moto`, its S3 part and the server's Flask), installed on first use into a virtual environment under
//! `target/`, started per test on a free port and stopped when dropped. A test that cannot
//! install or start it fails; it never passes without the server.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// The moto release the tests were written against, with only what its S3 server needs
/// (`moto[server]` would pull in every service's dependencies: four times the install time).
const MOTO: &[&str] = &["moto[s3]==5.2.5", "flask==3.1.3", "flask-cors==6.0.5"];

/// The Python holding moto's S3 server.
fn moto_python() -> PathBuf {
    crate::common::python::python_with("moto-venv", MOTO, "import moto.server, boto3")
}

/// A moto S3 server on 127.0.0.1, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    runtime: tokio::runtime::Runtime,
}

impl Moto {
    /// Installs moto if needed and starts a server on a free port; panics (failing the
    /// test) if it does not answer within a minute.
    pub fn start() -> Moto {
        // The clients below use rustls with ring, as imgpar does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let python = moto_python();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server starts");
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        };
        let clock = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto's server exited at start: {status}");
            }
            assert!(
                clock.elapsed() < Duration::from_secs(60),
                "moto's server did not answer on port {port} within a minute"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The variables that point imgpar (and any S3 client) at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Applies [`Moto::env`] to a command.
    pub fn point(&self, cmd: &mut assert_cmd::Command) {
        for (name, value) in self.env() {
            cmd.env(name, value);
        }
    }

    /// Creates a bucket.
    pub fn bucket(&self, name: &str) {
        let url = format!("{}/{name}", self.endpoint);
        let status = self.runtime.block_on(async {
            reqwest::Client::new()
                .put(url)
                .send()
                .await
                .expect("moto answers")
                .status()
        });
        assert!(status.is_success(), "creating bucket {name}: {status}");
    }

    fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_region("us-east-1")
                .with_access_key_id("testing")
                .with_secret_access_key("testing-secret")
                .with_bucket_name(bucket)
                .build()
                .unwrap(),
        )
    }

    /// Puts every `(key, bytes)` into `bucket`, several at a time.
    pub fn put_all(&self, bucket: &str, objects: Vec<(String, Vec<u8>)>) {
        use futures_util::StreamExt;
        let store = self.store(bucket);
        self.runtime.block_on(async {
            futures_util::stream::iter(objects)
                .map(|(key, bytes)| {
                    let store = Arc::clone(&store);
                    async move {
                        store
                            .put(&Key::parse(&key).unwrap(), PutPayload::from(bytes))
                            .await
                            .unwrap_or_else(|e| panic!("put {key}: {e}"));
                    }
                })
                .buffer_unordered(16)
                .collect::<Vec<()>>()
                .await
        });
    }

    /// Every object under `prefix` of `bucket`: its key below the prefix and its bytes,
    /// sorted by key.
    pub fn objects(&self, bucket: &str, prefix: &str) -> Vec<(PathBuf, Vec<u8>)> {
        use futures_util::{StreamExt, TryStreamExt};
        let store = self.store(bucket);
        let mut found: Vec<(PathBuf, Vec<u8>)> = self.runtime.block_on(async {
            let listed: Vec<_> = store
                .list(Some(&Key::parse(prefix).unwrap()))
                .try_collect()
                .await
                .unwrap();
            futures_util::stream::iter(listed)
                .map(|meta| {
                    let store = Arc::clone(&store);
                    async move {
                        let bytes = store.get(&meta.location).await.unwrap().bytes().await;
                        let rel = meta.location.as_ref()[prefix.len() + 1..].to_string();
                        (PathBuf::from(rel), bytes.unwrap().to_vec())
                    }
                })
                .buffer_unordered(16)
                .collect()
                .await
        });
        found.sort();
        found
    }

    /// The keys under `prefix` of `bucket`, below the prefix.
    pub fn keys(&self, bucket: &str, prefix: &str) -> std::collections::BTreeSet<PathBuf> {
        use futures_util::TryStreamExt;
        let store = self.store(bucket);
        self.runtime.block_on(async {
            let listed: Vec<_> = store
                .list(Some(&Key::parse(prefix).unwrap()))
                .try_collect()
                .await
                .unwrap();
            listed
                .into_iter()
                .map(|meta| PathBuf::from(&meta.location.as_ref()[prefix.len() + 1..]))
                .collect()
        })
    }

    /// Deletes the objects `keys` of `bucket`.
    pub fn delete_all(&self, bucket: &str, keys: Vec<String>) {
        let store = self.store(bucket);
        self.runtime.block_on(async {
            for key in keys {
                store.delete(&Key::parse(&key).unwrap()).await.unwrap();
            }
        });
    }

    /// The bytes of one object.
    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        let store = self.store(bucket);
        self.runtime.block_on(async {
            let got = store.get(&Key::parse(key).unwrap()).await.unwrap();
            got.bytes().await.unwrap().to_vec()
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir` as `(prefix/relative path, bytes)`, ready for [`Moto::put_all`].
pub fn folder_as_objects(dir: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    crate::common::all_bytes(dir)
        .into_iter()
        .map(|(rel, bytes)| (format!("{prefix}/{}", rel.display()), bytes))
        .collect()
}
