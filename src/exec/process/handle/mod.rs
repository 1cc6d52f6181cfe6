//! imgpar's handle on one worker process: start it (with its limits, tied to imgpar's
//! life), send it messages, receive its answers with a time limit, and reap it with its
//! resource usage and the reason it ended.

use std::io::{self, BufReader, Read};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::protocol::{FromWorker, ToWorker, receive, send};
use crate::config::{Spec, WorkerLimits};
use crate::failure::{ErrorKind, Failure};

/// How long a worker that closed its output has to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How much of a worker's stderr is kept to explain its death.
const STDERR_TAIL: usize = 4096;

/// A running worker process.
pub struct WorkerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<FromWorker>,
    /// Ends with the worker, handing over the end of what it wrote on stderr.
    stderr: Option<JoinHandle<Vec<u8>>>,
    /// Its memory cap, if any, to explain an allocation failure.
    memory: Option<u64>,
    /// What ties the worker to imgpar's life and holds its limits, where that is an object
    /// of its own (Windows' Job Object); dropped after the worker is reaped.
    _tie: platform::Tie,
    /// When it was started.
    pub spawned: Instant,
}

/// What [`WorkerProcess::receive`] saw.
pub enum Received {
    Message(FromWorker),
    /// Nothing within the time given.
    Nothing,
    /// The worker closed its end: it exited, died, or sent something unreadable.
    Closed,
}

/// How a worker process ended, from the kernel's account of it.
#[derive(Debug, Clone)]
pub struct WorkerExit {
    /// `None` for a normal exit (code 0); else what happened, for the user:
    /// "worker killed by signal 9 (SIGKILL)", "worker exited with code 101", with the last
    /// thing it wrote on stderr.
    pub cause: Option<Failure>,
    /// User plus system CPU seconds.
    pub cpu_s: f64,
    /// Peak resident memory in MiB.
    pub peak_rss_mib: f64,
}

impl WorkerProcess {
    /// Starts `program worker` with `limits` applied and hands it `spec`. The worker is
    /// killed by the kernel if imgpar dies, ignores Ctrl-C (imgpar tells it when to stop),
    /// and cannot map more than `limits.memory` bytes.
    pub fn spawn(
        program: &super::own_command::OwnCommand,
        spec: &Spec,
        limits: &WorkerLimits,
    ) -> io::Result<Self> {
        let mut command = program.command();
        command
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let memory = limits.memory;
        platform::before_spawn(&mut command, memory);
        let spawned = Instant::now();
        let mut child = command.spawn()?;
        let tie = match platform::after_spawn(&child, memory) {
            Ok(tie) => tie,
            Err(e) => {
                // Not tied to imgpar's life: not to be left running.
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let mut stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr_pipe = child.stderr.take();
        let (sender, messages) = channel();
        if let Some(stdout) = stdout {
            spawn_reader("imgpar-worker-out", move || {
                let mut reader = BufReader::new(stdout);
                while let Ok(Some(message)) = receive::<FromWorker>(&mut reader) {
                    if sender.send(message).is_err() {
                        break;
                    }
                }
            })?;
        }
        let stderr = match stderr_pipe {
            Some(mut pipe) => Some(spawn_reader("imgpar-worker-err", move || {
                let mut tail = Vec::new();
                let mut chunk = [0u8; 1024];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    tail.extend_from_slice(&chunk[..n]);
                    let excess = tail.len().saturating_sub(STDERR_TAIL);
                    tail.drain(..excess);
                }
                tail
            })?),
            None => None,
        };
        if let Some(pipe) = stdin.as_mut() {
            // A worker that exited at once has closed its input: that is a death, read
            // from its stdout and stderr like any other, not a failure to start it.
            let _ = send(pipe, &ToWorker::Spec(spec.clone()));
        }
        Ok(WorkerProcess {
            child,
            stdin,
            messages,
            stderr,
            memory,
            _tie: tie,
            spawned,
        })
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one message. An error means the worker is gone (its answers say how).
    pub fn send(&mut self, message: &ToWorker) -> io::Result<()> {
        match self.stdin.as_mut() {
            Some(pipe) => send(pipe, message),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// The next message from the worker, waiting at most `wait`.
    pub fn receive(&self, wait: Duration) -> Received {
        match self.messages.recv_timeout(wait) {
            Ok(message) => Received::Message(message),
            Err(RecvTimeoutError::Timeout) => Received::Nothing,
            Err(RecvTimeoutError::Disconnected) => Received::Closed,
        }
    }

    /// Closes the worker's input (it finishes what it was sent, then exits) and waits for it.
    pub fn finish(mut self) -> WorkerExit {
        self.stdin = None;
        self.reap()
    }

    /// Kills the worker at once and waits for it.
    pub fn kill(mut self) -> WorkerExit {
        // It can only fail if the process is already gone, which reaping then shows.
        let _ = self.child.kill();
        self.stdin = None;
        self.reap()
    }

    /// Waits for the worker to end (it has closed its output, or was told to end) and
    /// collects its resource usage, so no zombie is left.
    fn reap(mut self) -> WorkerExit {
        // A worker that closed its output is on its way out; give it a moment to exit on
        // its own (so its exit code or signal is what is reported), then make sure.
        let ended = platform::wait(&mut self.child, EXIT_GRACE);
        // The worker is gone, so its stderr is at its end and the reader returns.
        let stderr = self
            .stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        let cause = match ended.how {
            None => Some(Failure::new(
                ErrorKind::WorkerDied,
                "worker vanished (it could not be waited for)",
            )),
            Some(how) => with_last_words(how, &stderr).map(|c| explain_memory(c, self.memory)),
        };
        WorkerExit {
            cause,
            cpu_s: ended.cpu_s,
            peak_rss_mib: ended.peak_rss_mib,
        }
    }
}

fn spawn_reader<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(256 * 1024)
        .spawn(body)
}

/// The failure of a worker's image: out of memory when it died for want of memory under
/// `--worker-memory` (Rust's allocation failure message on its stderr), else a death.
fn explain_memory(cause: String, limit: Option<u64>) -> Failure {
    match limit {
        Some(bytes) if cause.contains("memory allocation of") => Failure::new(
            ErrorKind::OutOfMemory,
            format!(
                "out of memory under --worker-memory {} MiB ({cause})",
                bytes >> 20
            ),
        ),
        _ => Failure::new(ErrorKind::WorkerDied, cause),
    }
}

/// Why a worker ended, from what the system said of its end (`None`: a normal exit) and
/// the end of its stderr.
fn with_last_words(how: Option<String>, stderr: &[u8]) -> Option<String> {
    let what = how?;
    Some(match last_words(stderr) {
        Some(words) => format!("{what}: {words}"),
        None => what,
    })
}

/// The most telling line a worker wrote on stderr before it died: an allocation failure,
/// else a panic's message, else the last line that is not part of a backtrace or a hint.
fn last_words(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if let Some(line) = lines
        .iter()
        .rfind(|l| l.starts_with("memory allocation of"))
    {
        return Some(line.to_string());
    }
    if let Some(at) = lines.iter().rposition(|l| l.contains("panicked at"))
        && let Some(message) = lines.get(at + 1).filter(|l| !l.is_empty())
    {
        return Some(message.to_string());
    }
    lines
        .iter()
        .rfind(|l| {
            !l.is_empty()
                && !l.starts_with("note:")
                && !l.starts_with("stack backtrace:")
                && !l.starts_with("at ")
                && !l.starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|l| l.to_string())
}

#[cfg(unix)]
#[path = "unix.rs"]
mod platform;
#[cfg(windows)]
#[path = "windows.rs"]
mod platform;

/// How a worker process ended, as its platform tells it.
struct Ended {
    /// `None` when it could not be waited for; `Some(None)` for a normal exit (code 0);
    /// else what happened ("worker killed by signal 9 (SIGKILL)", "worker exited with
    /// code 101").
    how: Option<Option<String>>,
    cpu_s: f64,
    peak_rss_mib: f64,
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// What the platform said of an end, with the stderr it left.
    fn death_cause(status: i32, stderr: &[u8]) -> Option<String> {
        with_last_words(platform::exit_cause(status), stderr)
    }

    #[test]
    fn death_causes_read_like_the_user_expects() {
        // Wait statuses as the kernel encodes them: signal in the low bits, exit code above.
        assert_eq!(
            death_cause(9, b""),
            Some("worker killed by signal 9 (SIGKILL)".into())
        );
        assert_eq!(
            death_cause(101 << 8, b""),
            Some("worker exited with code 101".into())
        );
        assert_eq!(death_cause(0, b"noise"), None);
        let panic =
            b"thread 'main' panicked at src/x.rs:1:1:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            death_cause(101 << 8, panic),
            Some("worker exited with code 101: boom".into())
        );
        let backtrace = b"memory allocation of 400000000 bytes failed\nstack backtrace:\n   0: x\n             at y.rs:1\n";
        assert_eq!(
            death_cause(6, backtrace),
            Some(
                "worker killed by signal 6 (SIGABRT): memory allocation of 400000000 bytes failed"
                    .into()
            )
        );
        assert_eq!(
            explain_memory(death_cause(6, backtrace).unwrap(), Some(64 << 20)).message,
            "out of memory under --worker-memory 64 MiB (worker killed by signal 6 (SIGABRT): \
             memory allocation of 400000000 bytes failed)"
        );
    }
}
