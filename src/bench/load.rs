//! Whether other work competed for the cores while the sweep ran: the machine's busy CPU
//! time (from `/proc/stat`) over a run, less the run's own CPU time, is what other
//! processes took. A speedup measured on a busy machine understates what the program can
//! do, so the table says so instead of printing it as a finding.

/// Other work, in cores busy on average, above which a point's figures are suspect.
pub const BUSY_CORES: f64 = 0.25;

/// The machine's CPU seconds spent busy so far, all cores (Linux; `None` elsewhere).
pub fn machine_busy_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy.
    let busy: f64 = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| !matches!(i, 3 | 4))
        .take(6)
        .map(|(_, v)| v)
        .sum();
    Some(busy / ticks_per_s())
}

fn ticks_per_s() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if ticks > 0 { ticks as f64 } else { 100.0 }
    }
    #[cfg(not(unix))]
    100.0
}

/// The one-minute load average (Linux; `None` elsewhere).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Cores kept busy by other processes during a run of `wall_s` seconds in which the
/// machine was busy for `machine_s` CPU seconds and the run itself used `own_s`.
pub fn other_cores(machine_s: f64, own_s: f64, wall_s: f64) -> f64 {
    if wall_s <= 0.0 {
        return 0.0;
    }
    ((machine_s - own_s) / wall_s).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_work_is_what_the_machine_did_beyond_the_run() {
        assert_eq!(other_cores(3.0, 2.0, 1.0), 1.0);
        // Tick rounding can make the run look busier than the machine: never negative.
        assert_eq!(other_cores(1.9, 2.0, 1.0), 0.0);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn busy_time_only_grows() {
        let (Some(before), Some(_)) = (machine_busy_s(), load_average()) else {
            panic!("/proc/stat and /proc/loadavg are readable on Linux");
        };
        let spin = std::time::Instant::now();
        while spin.elapsed().as_millis() < 50 {}
        assert!(machine_busy_s().unwrap() > before);
    }
}
