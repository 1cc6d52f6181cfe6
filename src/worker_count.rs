//! How many workers a run takes when it is not told: the CPU share this process was given
//! (its CPU affinity and its cgroup's CPU quota, as the standard library reads them), or
//! the `IMGPAR_JOBS` variable; and what decided it, for the report.

use serde::Serialize;

/// The variable that sets the default worker count (a number from 1 to 4096).
pub const JOBS_VARIABLE: &str = "IMGPAR_JOBS";

/// What decided a run's worker count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkersFrom {
    /// Every core of the machine.
    #[default]
    Cores,
    /// The cores this process's CPU affinity allows (`taskset`, a scheduler's binding).
    CpuAffinity,
    /// The CPU quota of this process's cgroup (a container's or a job's CPU limit).
    CpuQuota,
    /// The `IMGPAR_JOBS` variable.
    Variable,
    /// `--jobs` (or `jobs=` in Python).
    Flag,
    /// An engine's task: the CPUs the task was allotted (one unless said).
    TaskAllotment,
}

impl WorkersFrom {
    /// What decided the count, for a summary; `None` when the user said it (`--jobs`) or
    /// nothing limited it (every core).
    pub fn said(self) -> Option<&'static str> {
        match self {
            WorkersFrom::Cores | WorkersFrom::Flag => None,
            WorkersFrom::CpuAffinity => Some("the CPU affinity"),
            WorkersFrom::CpuQuota => Some("the CPU quota"),
            WorkersFrom::Variable => Some(JOBS_VARIABLE),
            WorkersFrom::TaskAllotment => Some("the task's CPUs"),
        }
    }
}

/// A worker count and what decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerCount {
    /// Workers.
    pub count: usize,
    /// What decided it.
    pub from: WorkersFrom,
}

impl WorkerCount {
    /// `flag` when given; else `IMGPAR_JOBS` when set; else the CPU share. `Err` when
    /// `IMGPAR_JOBS` is set to something that is not a count from 1 to 4096.
    pub fn chosen(flag: Option<u32>) -> Result<WorkerCount, String> {
        if let Some(n) = flag {
            return Ok(WorkerCount {
                count: n as usize,
                from: WorkersFrom::Flag,
            });
        }
        match std::env::var_os(JOBS_VARIABLE) {
            Some(value) => variable(&value.to_string_lossy()),
            None => Ok(cpu_share()),
        }
    }

    /// As [`WorkerCount::chosen`] without a flag, an `IMGPAR_JOBS` that does not read
    /// passed over: what the library takes when it is not told.
    pub fn by_default() -> WorkerCount {
        WorkerCount::chosen(None).unwrap_or_else(|_| cpu_share())
    }
}

fn variable(value: &str) -> Result<WorkerCount, String> {
    match value.trim().parse::<usize>() {
        Ok(count @ 1..=4096) => Ok(WorkerCount {
            count,
            from: WorkersFrom::Variable,
        }),
        _ => Err(format!(
            "{JOBS_VARIABLE}={value:?} is not a worker count (a number from 1 to 4096)"
        )),
    }
}

/// The number of cores this process may use (its affinity and cgroup quota counted; 1 if
/// the system does not say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The cores this process may use, and what limits them.
fn cpu_share() -> WorkerCount {
    let count = cores();
    let affinity = affinity_cores();
    let from = match affinity {
        Some(allowed) if count < allowed => WorkersFrom::CpuQuota,
        Some(allowed) if allowed < online_cores() => WorkersFrom::CpuAffinity,
        _ => WorkersFrom::Cores,
    };
    WorkerCount { count, from }
}

/// The cores this process's affinity mask allows.
#[cfg(target_os = "linux")]
fn affinity_cores() -> Option<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it for
    // this thread, and CPU_COUNT reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        usize::try_from(libc::CPU_COUNT(&set)).ok()
    }
}

#[cfg(not(target_os = "linux"))]
fn affinity_cores() -> Option<usize> {
    None
}

/// The machine's cores online.
#[cfg(unix)]
fn online_cores() -> usize {
    // SAFETY: sysconf reads a system value.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

#[cfg(not(unix))]
fn online_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_is_read_as_a_count_and_refused_otherwise() {
        assert_eq!(variable(" 3 ").unwrap().count, 3);
        assert_eq!(variable("3").unwrap().from, WorkersFrom::Variable);
        for wrong in ["0", "-1", "two", "", "5000"] {
            let message = variable(wrong).unwrap_err();
            assert!(message.contains(JOBS_VARIABLE), "{message}");
        }
    }

    #[test]
    fn the_cpu_share_is_at_most_the_affinity() {
        let share = cpu_share();
        assert!(share.count >= 1);
        if let Some(allowed) = affinity_cores() {
            assert!(share.count <= allowed);
        }
    }
}
