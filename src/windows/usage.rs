//! A process's CPU time and peak memory (Unix's `getrusage` and `wait4`'s usage).

use windows_sys::Win32::Foundation::{FILETIME, HANDLE};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessTimes};

/// CPU time (user plus kernel, seconds) and peak working set (MiB) of the process behind
/// `process` (a handle with query rights, alive or ended); zeros where Windows does not
/// say.
pub(crate) fn process_usage(process: HANDLE) -> (f64, f64) {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: four writable FILETIMEs and a handle the caller keeps open.
    let timed =
        unsafe { GetProcessTimes(process, &mut created, &mut exited, &mut kernel, &mut user) };
    // FILETIMEs count 100 ns.
    let seconds =
        |t: FILETIME| (u64::from(t.dwHighDateTime) << 32 | u64::from(t.dwLowDateTime)) as f64 / 1e7;
    let cpu = if timed != 0 {
        seconds(kernel) + seconds(user)
    } else {
        0.0
    };
    // SAFETY: a plain C struct the call fills in; all-zero is a valid value.
    let mut memory: PROCESS_MEMORY_COUNTERS = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
    // SAFETY: `memory` is writable and `size` bytes long.
    let peak = if unsafe { K32GetProcessMemoryInfo(process, &mut memory, size) } != 0 {
        memory.PeakWorkingSetSize as f64 / (1024.0 * 1024.0)
    } else {
        0.0
    };
    (cpu, peak)
}

/// [`process_usage`] of this process.
pub(crate) fn self_usage() -> (f64, f64) {
    // SAFETY: the pseudo-handle of the current process needs no closing.
    process_usage(unsafe { GetCurrentProcess() })
}
