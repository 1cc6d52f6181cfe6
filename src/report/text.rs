//! The human summary printed at the end of a run.

use std::fmt::Write as _;

use super::{RunReport, count};

impl RunReport {
    /// How many files the walk passed over and why, counted by reason, most common first
    /// (then alphabetically):
    /// `  passed over 3 files that are not images: 2 text, 1 a ZIP archive`.
    fn passed_over_line(&self, listed: bool) -> Option<String> {
        if self.passed_over == 0 {
            return None;
        }
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for file in &self.passed_over_files {
            match reasons
                .iter_mut()
                .find(|(reason, _)| *reason == file.reason)
            {
                Some((_, n)) => *n += 1,
                None => reasons.push((&file.reason, 1)),
            }
        }
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let why: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        Some(format!(
            "  passed over {} {}: {} ({})",
            count(self.passed_over, "file"),
            if self.passed_over == 1 {
                "that is not an image"
            } else {
                "that are not images"
            },
            why.join(", "),
            if listed {
                "listed below"
            } else {
                "--verbose lists them"
            }
        ))
    }

    /// Every file passed over as `input: reason`, in walk order.
    pub fn passed_over_list(&self) -> impl Iterator<Item = String> + '_ {
        self.passed_over_files
            .iter()
            .map(|file| format!("{}: {}", file.input, file.reason))
    }

    /// The human summary printed at the end of a run (without the failure list).
    pub fn summary_text(&self) -> String {
        self.summary_text_for(false)
    }

    /// [`RunReport::summary_text`], for a reader who is also shown the files passed over
    /// (`listed`: `--verbose`), so the summary does not point at a flag already given.
    pub fn summary_text_for(&self, listed: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "imgpar: {} ok, {} failed, {} skipped of {} in {:.2} s ({} mode, {} worker{}{})",
            self.ok,
            self.failed,
            self.skipped,
            count(self.planned, "image"),
            self.wall_s,
            self.mode,
            self.workers,
            if self.workers == 1 { "" } else { "s" },
            match self.workers_from.said() {
                Some(said) if self.mode != "sequential" => format!(": {said}"),
                _ => String::new(),
            }
        );
        if self.skipped_unverified > 0 {
            let _ = writeln!(
                s,
                "  skipped     {} whose output carries no provenance (made by an older imgpar \
                 or another tool) trusted as {}",
                count(self.skipped_unverified, "image"),
                if self.skipped_unverified == 1 {
                    "its own"
                } else {
                    "their own"
                }
            );
        }
        if self.from_thumbnails > 0 {
            let _ = writeln!(
                s,
                "  thumbnails  {} made from the thumbnail its HEIC stores, not the picture \
                 (--no-embedded-thumbnails decodes the pictures)",
                count(self.from_thumbnails, "image"),
            );
        }
        if self.from_previews > 0 {
            let _ = writeln!(
                s,
                "  previews    {} made from the JPEG preview its camera RAW stores",
                count(self.from_previews, "image"),
            );
        }
        if let Some(shard) = &self.shard {
            let _ = writeln!(
                s,
                "  shard       {}/{} of a plan of {} ({} in this shard), chosen by {}",
                shard.index,
                shard.count,
                count(shard.plan_images, "image"),
                shard.shard_images,
                shard.source
            );
        }
        if self.interrupted {
            let _ = writeln!(
                s,
                "  interrupted: {} not started; re-run with --skip-existing to finish",
                count(self.not_started, "image")
            );
        }
        if let Some(line) = self.passed_over_line(listed) {
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(
            s,
            "  throughput  {:.1} images/s, {:.1} MP/s decoded ({:.1} MB read, {:.1} MB written)",
            self.images_per_s,
            self.megapixels_per_s,
            self.bytes_in as f64 / 1e6,
            self.bytes_out as f64 / 1e6
        );
        if self.ok + self.failed == 0 {
            // Nothing was worked on: an efficiency would measure only the checks.
            let _ = writeln!(s, "  busy        {:.2} s summed over workers", self.busy_s);
        } else {
            let _ = writeln!(
                s,
                "  busy        {:.2} s summed over workers; parallel efficiency {:.0}% (busy / ({} x {:.2} s wall))",
                self.busy_s,
                self.parallel_efficiency * 100.0,
                self.workers,
                self.wall_s
            );
        }
        if self.network_s > 0.0 {
            let _ = writeln!(
                s,
                "  network     {:.2} s with downloads (or async reads) in flight, {:.2} s with images in work, {:.2} s both at once ({:.1} MB downloaded)",
                self.network_s,
                self.processing_s,
                self.overlap_s,
                self.bytes_downloaded as f64 / 1e6
            );
        }
        if self.worker_processes.is_empty() {
            let _ = writeln!(
                s,
                "  cpu         {:.2} s user+system of this process; peak memory {:.0} MiB",
                self.cpu_s, self.peak_rss_mib
            );
        } else {
            self.write_process_lines(&mut s);
        }
        s
    }

    /// The summary lines of `--mode process`: what the parent and each worker cost.
    fn write_process_lines(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "  cpu         {:.2} s user+system: {:.2} s in imgpar, {:.2} s in worker processes",
            self.cpu_s,
            self.cpu_s - self.workers_cpu_s,
            self.workers_cpu_s
        );
        let _ = writeln!(
            s,
            "  memory      peak {:.0} MiB in imgpar, {:.0} MiB summed over worker slots",
            self.peak_rss_mib, self.workers_peak_rss_mib
        );
        let startups: Vec<f64> = self
            .worker_processes
            .iter()
            .filter_map(|w| w.startup_ms)
            .collect();
        if !startups.is_empty() {
            let _ = writeln!(
                s,
                "  start-up    {}, {:.1} ms each on average from start to ready",
                count(self.worker_processes.len(), "worker process"),
                startups.iter().sum::<f64>() / startups.len() as f64
            );
        }
        for w in &self.worker_processes {
            let _ = writeln!(
                s,
                "  worker {:<4} pid {:<8} {:>5} images  busy {:>7.2} s  cpu {:>7.2} s  peak {:>5.0} MiB  {}",
                w.worker, w.pid, w.jobs, w.busy_s, w.cpu_s, w.peak_rss_mib, w.ended
            );
        }
    }
}
