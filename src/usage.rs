//! Resource usage of this process, from the kernel's own accounting.

/// CPU time (user plus system, seconds) and peak resident memory (MiB) of this process so
/// far. Zero where the platform does not say.
pub fn self_usage() -> (f64, f64) {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes into the struct we hand it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
            // Linux reports ru_maxrss in KiB.
            return (cpu, usage.ru_maxrss as f64 / 1024.0);
        }
    }
    (0.0, 0.0)
}
