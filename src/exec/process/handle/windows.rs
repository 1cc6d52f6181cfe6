//! A worker process on Windows: put in a Job Object of its own that kills it when imgpar's
//! handle on the job closes (imgpar exits or dies: `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`)
//! and caps its memory (`JOB_OBJECT_LIMIT_PROCESS_MEMORY`, `--worker-memory`); started in
//! a process group of its own so the console's Ctrl-C does not reach it (imgpar tells it
//! when to stop); its end told from its exit code (an NTSTATUS for a crash), its usage from
//! `GetProcessTimes` and `GetProcessMemoryInfo`.

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::os::windows::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOB_OBJECT_LIMIT_PROCESS_MEMORY,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject,
};
use windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP;

use super::Ended;

/// The worker's Job Object: closing it (dropping this) kills the worker if it still runs.
pub(super) struct Tie(#[allow(dead_code)] OwnedHandle);

/// Starts the worker in a process group of its own (no console Ctrl-C reaches it).
pub(super) fn before_spawn(command: &mut Command, _memory: Option<u64>) {
    command.creation_flags(CREATE_NEW_PROCESS_GROUP);
}

/// Puts the started worker in a Job Object of its own that kills it when imgpar's handle
/// on the job closes, capped at `memory` bytes of committed memory. The worker waits for
/// its spec before anything else, so nothing it does escapes the job.
pub(super) fn after_spawn(child: &Child, memory: Option<u64>) -> io::Result<Tie> {
    // SAFETY: no name, default security; the result is owned below.
    let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
    if job.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle nothing else owns.
    let job = unsafe { OwnedHandle::from_raw_handle(job as _) };
    let limits = job_limits(memory);
    let size = std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32;
    // SAFETY: an open job handle and a live struct of `size` bytes.
    let set = unsafe {
        SetInformationJobObject(
            job.as_raw_handle() as HANDLE,
            JobObjectExtendedLimitInformation,
            std::ptr::from_ref(&limits).cast(),
            size,
        )
    };
    if set == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both handles are open.
    let assigned = unsafe {
        AssignProcessToJobObject(
            job.as_raw_handle() as HANDLE,
            child.as_raw_handle() as HANDLE,
        )
    };
    if assigned == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Tie(job))
}

/// The limits of a worker's job: the worker ends when imgpar's handle on the job closes, an
/// unhandled exception ends it (no error dialog waiting for a click), and under `memory`
/// its committed memory is capped at that many bytes.
fn job_limits(memory: Option<u64>) -> JOBOBJECT_EXTENDED_LIMIT_INFORMATION {
    // SAFETY: a plain C struct; all-zero is a valid value.
    let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
    if let Some(bytes) = memory {
        limits.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_PROCESS_MEMORY;
        limits.ProcessMemoryLimit = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    limits
}

/// Waits up to `grace` for `child` to end on its own, then kills it, and waits for it;
/// its usage is read while its handle is still open.
pub(super) fn wait(child: &mut Child, grace: Duration) -> Ended {
    let until = Instant::now() + grace;
    let mut status = None;
    while Instant::now() < until {
        match child.try_wait() {
            Ok(Some(ended)) => {
                status = Some(ended);
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break,
        }
    }
    if status.is_none() {
        // Already gone is the only way this fails, and the wait then says so.
        let _ = child.kill();
        status = child.wait().ok();
    }
    let (cpu_s, peak_rss_mib) = crate::windows::process_usage(child.as_raw_handle() as HANDLE);
    Ended {
        how: status.map(|s| exit_cause(s.code().unwrap_or(-1))),
        cpu_s,
        peak_rss_mib,
    }
}

/// What an exit code says of a worker's end; `None` for exit 0. A crash ends a process
/// with an NTSTATUS (0xC...), named where it is a usual one; `TerminateProcess`, which
/// kills a worker, leaves code 1.
pub(super) fn exit_cause(code: i32) -> Option<String> {
    let status = code as u32;
    let name = match status {
        0 => return None,
        0xC000_0005 => "access violation",
        0xC000_0017 | 0xC000_012D => "out of memory",
        0xC000_001D => "illegal instruction",
        0xC000_0094 => "integer division by zero",
        0xC000_00FD => "stack overflow",
        0xC000_0409 => "aborted (fail fast)",
        0xC000_013A => "interrupted (Ctrl-C)",
        _ if status >= 0xC000_0000 => "crashed",
        _ => return Some(format!("worker exited with code {code}")),
    };
    Some(format!("worker {name} (exit status 0x{status:08X})"))
}

#[cfg(test)]
mod tests {
    use std::os::windows::io::AsRawHandle;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use windows_sys::Win32::System::JobObjects::{
        IsProcessInJob, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOB_OBJECT_LIMIT_PROCESS_MEMORY,
    };

    use super::{HANDLE, after_spawn, job_limits};

    /// `--worker-memory` is the job's process memory limit, in bytes; without it the
    /// job has none. (Wine keeps a job's limits without enforcing or reporting them, so
    /// the limits are checked as they are handed to Windows.)
    #[test]
    fn worker_memory_is_the_jobs_process_memory_limit() {
        let capped = job_limits(Some(64 << 20));
        let flags = capped.BasicLimitInformation.LimitFlags;
        assert_ne!(flags & JOB_OBJECT_LIMIT_PROCESS_MEMORY, 0);
        assert_ne!(flags & JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, 0);
        assert_eq!(capped.ProcessMemoryLimit, 64 << 20);
        let free = job_limits(None).BasicLimitInformation.LimitFlags;
        assert_eq!(free & JOB_OBJECT_LIMIT_PROCESS_MEMORY, 0);
        assert_ne!(free & JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, 0);
    }

    /// A worker runs in a job of its own and does not outlive imgpar's handle on it: no
    /// orphan when imgpar ends or dies.
    #[test]
    fn a_worker_is_in_a_job_of_its_own_and_ends_with_imgpars_handle_on_it() {
        // A child that waits for a line on its input, which never comes.
        let mut child = Command::new("cmd")
            .args(["/c", "set /p line="])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let tie = after_spawn(&child, Some(64 << 20)).unwrap();
        let job = tie.0.as_raw_handle() as HANDLE;
        let mut in_job = 0;
        // SAFETY: both handles are open; `in_job` outlives the call.
        let asked = unsafe { IsProcessInJob(child.as_raw_handle() as HANDLE, job, &mut in_job) };
        assert!(asked != 0 && in_job != 0, "the worker is in its job");
        assert!(
            child.try_wait().unwrap().is_none(),
            "still waiting for input"
        );
        drop(tie);
        let until = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < until, "the worker outlived its job");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
