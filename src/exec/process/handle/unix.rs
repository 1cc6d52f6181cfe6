//! A worker process on Unix: limits set in the child between fork and exec (the kernel
//! kills it when imgpar dies: Linux's `PR_SET_PDEATHSIG`; elsewhere a worker whose parent
//! died sees its input pipe close and exits after the image in hand; its address space
//! capped by `RLIMIT_AS`), and its end read by `wait4` with its resource usage.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::Ended;

/// Nothing to hold on Unix: the kernel ties the worker to imgpar (see [`before_spawn`]).
pub(super) struct Tie;

/// Makes `command`'s child tie its life to imgpar's, ignore Ctrl-C (imgpar tells it when
/// to stop) and map at most `memory` bytes.
pub(super) fn before_spawn(command: &mut Command, memory: Option<u64>) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec and only makes
    // async-signal-safe system calls; it allocates nothing.
    unsafe {
        command.pre_exec(move || limit_child(parent, memory));
    }
}

/// Nothing more once started.
pub(super) fn after_spawn(_child: &Child, _memory: Option<u64>) -> io::Result<Tie> {
    Ok(Tie)
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

/// Waits up to `grace` for `child` to end on its own, then kills it, and reaps it with
/// its usage (so no zombie is left).
pub(super) fn wait(child: &mut Child, grace: Duration) -> Ended {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data the kernel fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY (both calls): waits for our own child, writing into the two locals.
    let mut wait = |flags| unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
    let until = Instant::now() + grace;
    let mut reaped = false;
    while Instant::now() < until {
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
        let _ = child.kill();
        reaped = loop {
            let r = wait(0);
            if r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break r == pid;
        };
    }
    Ended {
        how: reaped.then(|| exit_cause(status)),
        cpu_s: crate::resource_usage::cpu_seconds(&usage),
        peak_rss_mib: crate::resource_usage::peak_rss_mib(&usage),
    }
}

/// What a wait status says of a worker's end; `None` for exit 0.
pub(super) fn exit_cause(status: libc::c_int) -> Option<String> {
    Some(if libc::WIFSIGNALED(status) {
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
    })
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
