//! Resource usage of this process, from the kernel's own accounting.

/// CPU time (user plus system, seconds) and peak resident memory (MiB) of this process so
/// far. Zero if the kernel does not say.
#[cfg(windows)]
pub fn self_usage() -> (f64, f64) {
    crate::windows::self_usage()
}

/// CPU time (user plus system, seconds) and peak resident memory (MiB) of this process so
/// far. Zero if the kernel does not say.
#[cfg(unix)]
pub fn self_usage() -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
        let cpu = cpu_seconds(&usage);
        // Linux's ru_maxrss also counts the memory of the process that started this one,
        // as it was when it forked, so the kernel's per-process high-water mark is
        // preferred where there is one.
        let peak_kib = own_peak_kib().unwrap_or(peak_rss_mib(&usage) * 1024.0);
        return (cpu, peak_kib / 1024.0);
    }
    (0.0, 0.0)
}

/// The peak resident memory in `usage`, in MiB: the kernel counts `ru_maxrss` in KiB on
/// Linux and the BSDs, in bytes on macOS.
#[cfg(unix)]
pub fn peak_rss_mib(usage: &libc::rusage) -> f64 {
    let unit = if cfg!(target_vendor = "apple") {
        1.0
    } else {
        1024.0
    };
    usage.ru_maxrss as f64 * unit / (1024.0 * 1024.0)
}

/// User plus system CPU seconds in `usage`.
#[cfg(unix)]
pub fn cpu_seconds(usage: &libc::rusage) -> f64 {
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// The high-water mark of this process's own resident memory (VmHWM), in KiB, on Linux.
#[cfg(unix)]
fn own_peak_kib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
