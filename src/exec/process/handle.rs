//! imgpar's handle on one worker process: start it (with its limits, tied to imgpar's
//! life), send it messages, receive its answers with a time limit, and reap it with its
//! resource usage and the reason it ended.

use std::io::{self, BufReader, Read};
use std::os::unix::process::CommandExt;
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
    /// Its address-space cap, if any, to explain an allocation failure.
    memory: Option<u64>,
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
        let parent = std::process::id() as libc::pid_t;
        let memory = limits.memory;
        // SAFETY: the closure runs in the child between fork and exec and only makes
        // async-signal-safe system calls; it allocates nothing.
        unsafe {
            command.pre_exec(move || limit_child(parent, memory));
        }
        let spawned = Instant::now();
        let mut child = command.spawn()?;
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
        let pid = self.child.id() as libc::pid_t;
        let mut status = 0;
        // SAFETY: rusage is plain data the kernel fills in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY (both calls): waits for our own child, writing into the two locals.
        let mut wait = |flags| unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        // A worker that closed its output is on its way out; give it a moment to exit on
        // its own (so its exit code or signal is what is reported), then make sure.
        let grace = Instant::now() + EXIT_GRACE;
        let mut reaped = false;
        while Instant::now() < grace {
            match wait(libc::WNOHANG) {
                0 => std::thread::sleep(Duration::from_millis(2)),
                -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
                r => {
                    reaped = r == pid;
                    break;
                }
            }
        }
        if !reaped {
            // Already gone is the only way this fails, and the wait then says so.
            let _ = self.child.kill();
            reaped = loop {
                let r = wait(0);
                if r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                break r == pid;
            };
        }
        // The worker is gone, so its stderr is at its end and the reader returns.
        let stderr = self
            .stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        let cause = if !reaped {
            Some(Failure::new(
                ErrorKind::WorkerDied,
                "worker vanished (it could not be waited for)",
            ))
        } else {
            death_cause(status, &stderr).map(|cause| explain_memory(cause, self.memory))
        };
        WorkerExit {
            cause,
            cpu_s: crate::resource_usage::cpu_seconds(&usage),
            // Linux reports ru_maxrss in KiB.
            peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
        }
    }
}

/// Runs in the child after fork, before exec: ties the worker's life to imgpar's, makes it
/// ignore Ctrl-C, and caps its address space.
fn limit_child(parent: libc::pid_t, memory: Option<u64>) -> io::Result<()> {
    // SAFETY (whole function): plain system calls on this process, no allocation.
    unsafe {
        #[cfg(target_os = "linux")]
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
            return Err(io::Error::last_os_error());
        }
        // imgpar died before the line above took effect: nothing would kill us later.
        if libc::getppid() != parent {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        if let Some(bytes) = memory {
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
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

/// Why a worker ended, from its wait status and the end of its stderr; `None` for exit 0.
fn death_cause(status: libc::c_int, stderr: &[u8]) -> Option<String> {
    let what = if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        match signal_name(signal) {
            Some(name) => format!("worker killed by signal {signal} ({name})"),
            None => format!("worker killed by signal {signal}"),
        }
    } else if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => return None,
            code => format!("worker exited with code {code}"),
        }
    } else {
        format!("worker ended with wait status {status}")
    };
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

fn signal_name(signal: libc::c_int) -> Option<&'static str> {
    Some(match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGPIPE => "SIGPIPE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
