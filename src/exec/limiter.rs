//! How many downloads the async mode keeps in flight when the user did not pin it: a
//! limit that grows while it buys throughput and the CPU pool has room for more, and
//! backs off on failures (timeouts, refused connections, 5xx) and when throughput falls.
//! Each window of downloads that ended (about half the limit, at least 200 ms) is one
//! step: throughput up by a tenth or more: grow by half; failures above a fifth: cut to
//! three quarters; throughput down by a fifth: cut by a tenth; the CPU pool full for most
//! of the window (the downloads are ahead of the work): hold. A pinned limit never moves.

use std::time::Instant;

/// The least an adaptive limit goes down to.
pub const MIN_LIMIT: usize = 8;

/// The most an adaptive limit grows to (`--per-host` still caps each host).
pub const MAX_LIMIT: usize = 512;

/// Changes of the limit kept for the report (at most one every 200 ms: hours of a run).
const CHANGES_KEPT: usize = 10_000;

/// The download limit of one async run.
pub struct Limiter {
    limit: usize,
    adaptive: bool,
    window: Window,
    previous_rate: Option<f64>,
    /// The start and each change: when, and the new limit.
    changes: Vec<(Instant, usize)>,
}

struct Window {
    started: Instant,
    ended: usize,
    failed: usize,
    cpu_full: usize,
}

impl Window {
    fn new() -> Window {
        Window {
            started: Instant::now(),
            ended: 0,
            failed: 0,
            cpu_full: 0,
        }
    }
}

impl Limiter {
    /// A limit of `start` that adapts, or stays there if not `adaptive`.
    pub fn new(start: usize, adaptive: bool) -> Limiter {
        Limiter {
            limit: start.max(1),
            adaptive,
            window: Window::new(),
            previous_rate: None,
            changes: vec![(Instant::now(), start.max(1))],
        }
    }

    /// Downloads that may be in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The limit over the run: when it was set, and to what; the first is the start.
    pub fn changes(&self) -> &[(Instant, usize)] {
        &self.changes
    }

    /// A download ended, `ok` or not, while the CPU pool's queue was full or not.
    pub fn ended(&mut self, ok: bool, cpu_full: bool) {
        if !self.adaptive {
            return;
        }
        let window = &mut self.window;
        window.ended += 1;
        window.failed += usize::from(!ok);
        window.cpu_full += usize::from(cpu_full);
        let elapsed = window.started.elapsed().as_secs_f64();
        if window.ended < (self.limit / 2).max(4) || elapsed < 0.2 {
            return;
        }
        let rate = window.ended as f64 / elapsed;
        let failed = window.failed as f64 / window.ended as f64;
        let cpu_full = window.cpu_full * 2 > window.ended;
        let next = match self.previous_rate {
            _ if failed > 0.2 => self.limit * 3 / 4,
            _ if cpu_full => self.limit,
            None => self.limit * 3 / 2,
            Some(previous) if rate > previous * 1.1 => self.limit * 3 / 2,
            Some(previous) if rate < previous * 0.8 => self.limit * 9 / 10,
            Some(_) => self.limit,
        }
        .clamp(MIN_LIMIT, MAX_LIMIT);
        self.previous_rate = Some(rate);
        self.window = Window::new();
        if next != self.limit {
            self.limit = next;
            // Bounded: past the most kept, the last change stands for the later ones.
            if self.changes.len() >= CHANGES_KEPT {
                self.changes.pop();
            }
            self.changes.push((Instant::now(), next));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One window: downloads ending after 210 ms, as many as close it.
    fn window(limiter: &mut Limiter, ok: bool, cpu_full: bool) {
        std::thread::sleep(std::time::Duration::from_millis(210));
        for _ in 0..(limiter.limit() / 2).max(4) {
            limiter.ended(ok, cpu_full);
        }
    }

    #[test]
    fn it_grows_while_the_cpu_has_room_holds_when_full_and_backs_off_on_failures() {
        let mut limiter = Limiter::new(32, true);
        window(&mut limiter, true, false);
        assert_eq!(limiter.limit(), 48, "the first window grows");
        window(&mut limiter, true, true);
        assert_eq!(limiter.limit(), 48, "the CPU pool is full: hold");
        window(&mut limiter, false, false);
        assert_eq!(limiter.limit(), 36, "failures: back off");
        for _ in 0..20 {
            window(&mut limiter, false, false);
        }
        assert_eq!(limiter.limit(), MIN_LIMIT);
        assert!(limiter.changes().len() >= 3);
    }

    #[test]
    fn a_pinned_limit_never_moves() {
        let mut limiter = Limiter::new(32, false);
        window(&mut limiter, false, false);
        assert_eq!(limiter.limit(), 32);
        assert_eq!(limiter.changes().len(), 1);
        assert_eq!(limiter.changes()[0].1, 32);
    }
}
