//! Flag groups shared by the default command and `bench`: what to do to each image, how to
//! download, and the limits on worker processes. Each turns into its part of the settings,
//! and back into flags (`to_args`) so that `bench` can hand the same settings to the runs
//! it starts.

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::parse;
use crate::config::{AsyncSettings, Filter, Fit, FormatChoice, OutputFormat, WorkerLimits};
use crate::fetch::FetchPolicy;

/// What to do to each image.
#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    /// Target box, WIDTHxHEIGHT [default: 256x256].
    #[arg(long, value_name = "WxH", value_parser = parse::size, conflicts_with_all = ["width", "height"])]
    pub size: Option<(u32, u32)>,

    /// Target width; alone, the height follows from the aspect ratio.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub width: Option<u32>,

    /// Target height; alone, the width follows from the aspect ratio.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub height: Option<u32>,

    /// contain: fit inside the box; cover: fill the box and crop the centre; fill: exactly
    /// the box, aspect ignored.
    #[arg(long, value_enum, default_value_t = FitArg::Contain)]
    pub fit: FitArg,

    /// Allow outputs larger than their inputs.
    #[arg(long)]
    pub upscale: bool,

    /// Resampling filter.
    #[arg(long, value_enum, default_value_t = FilterArg::Lanczos3)]
    pub filter: FilterArg,

    /// Output format; `same` keeps JPEG and PNG and writes PNG for everything else.
    #[arg(long, value_enum, default_value_t = FormatArg::Same)]
    pub format: FormatArg,

    /// JPEG quality.
    #[arg(long, default_value_t = 85, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,

    /// Images with more pixels than this fail before decoding; 0 lifts the limit.
    #[arg(long, default_value_t = 100_000_000, value_name = "PIXELS")]
    pub max_pixels: u64,
}

/// How downloads (and the async mode's reads) are made.
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// With --mode async: downloads (or file reads) in flight at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: u32,

    /// With --mode async: downloads in flight at once from one host.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub per_host: u32,

    /// Download attempts after the first, on connection errors, 5xx and 429 (with
    /// exponential backoff and jitter; Retry-After is honoured).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,

    /// Largest download accepted (e.g. 64M); a larger body is cut off as it arrives.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse::bytes)]
    pub max_download: u64,

    /// Longest time for one download attempt, from the request to the last byte.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse::seconds)]
    pub download_timeout: Duration,

    /// Longest wait for a connection to a server.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse::seconds)]
    pub connect_timeout: Duration,
}

/// Limits on each worker process of `--mode process`.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Fail an image still running after SECS seconds. --mode process kills its worker and
    /// starts a fresh one; --mode threaded cannot stop a thread, so it reports the image,
    /// leaves its thread behind and goes on. Use process mode for untrusted input.
    #[arg(long, value_name = "SECS", value_parser = parse::seconds)]
    pub timeout: Option<Duration>,

    /// With --mode process: cap each worker's address space (e.g. 512M, 2G), so an image
    /// that needs more fails alone instead of exhausting the machine.
    #[arg(long, value_name = "SIZE", value_parser = parse::worker_memory)]
    pub worker_memory: Option<u64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FitArg {
    Contain,
    Cover,
    Fill,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FilterArg {
    Lanczos3,
    CatmullRom,
    Bilinear,
    Box,
    Nearest,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Same,
    Png,
    Jpeg,
}

/// The name the user types for an enum value.
fn name(value: &impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn secs(duration: Duration) -> String {
    duration.as_secs_f64().to_string()
}

impl ImageArgs {
    /// The target box: `--size`, or the sides given alone, or 256x256.
    pub fn target(&self) -> (Option<u32>, Option<u32>) {
        match (self.size, self.width, self.height) {
            (Some((w, h)), _, _) => (Some(w), Some(h)),
            (None, None, None) => (Some(256), Some(256)),
            (None, w, h) => (w, h),
        }
    }

    pub fn fit(&self) -> Fit {
        match self.fit {
            FitArg::Contain => Fit::Contain,
            FitArg::Cover => Fit::Cover,
            FitArg::Fill => Fit::Fill,
        }
    }

    pub fn filter(&self) -> Filter {
        match self.filter {
            FilterArg::Lanczos3 => Filter::Lanczos3,
            FilterArg::CatmullRom => Filter::CatmullRom,
            FilterArg::Bilinear => Filter::Bilinear,
            FilterArg::Box => Filter::Box,
            FilterArg::Nearest => Filter::Nearest,
        }
    }

    pub fn format(&self) -> FormatChoice {
        match self.format {
            FormatArg::Same => FormatChoice::Same,
            FormatArg::Png => FormatChoice::Fixed(OutputFormat::Png),
            FormatArg::Jpeg => FormatChoice::Fixed(OutputFormat::Jpeg),
        }
    }

    /// These settings as flags.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let (width, height) = self.target();
        if let Some(w) = width {
            args.extend(["--width".into(), w.to_string()]);
        }
        if let Some(h) = height {
            args.extend(["--height".into(), h.to_string()]);
        }
        if self.upscale {
            args.push("--upscale".into());
        }
        args.extend([
            "--fit".into(),
            name(&self.fit),
            "--filter".into(),
            name(&self.filter),
            "--format".into(),
            name(&self.format),
            "--quality".into(),
            self.quality.to_string(),
            "--max-pixels".into(),
            self.max_pixels.to_string(),
        ]);
        args
    }
}

impl FetchArgs {
    pub fn policy(&self) -> FetchPolicy {
        FetchPolicy {
            connect_timeout: self.connect_timeout,
            attempt_timeout: self.download_timeout,
            retries: self.retries,
            max_bytes: self.max_download,
            ..FetchPolicy::default()
        }
    }

    pub fn async_settings(&self) -> AsyncSettings {
        AsyncSettings {
            concurrency: self.concurrency as usize,
            per_host: self.per_host as usize,
        }
    }

    /// These settings as flags.
    pub fn to_args(&self) -> Vec<String> {
        vec![
            "--concurrency".into(),
            self.concurrency.to_string(),
            "--per-host".into(),
            self.per_host.to_string(),
            "--retries".into(),
            self.retries.to_string(),
            "--max-download".into(),
            self.max_download.to_string(),
            "--download-timeout".into(),
            secs(self.download_timeout),
            "--connect-timeout".into(),
            secs(self.connect_timeout),
        ]
    }
}

impl WorkerArgs {
    pub fn limits(&self) -> WorkerLimits {
        WorkerLimits {
            timeout: self.timeout,
            memory: self.worker_memory,
        }
    }

    /// These settings as flags (for runs in process mode only: other modes refuse them).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(timeout) = self.timeout {
            args.extend(["--timeout".into(), secs(timeout)]);
        }
        if let Some(memory) = self.worker_memory {
            args.extend(["--worker-memory".into(), memory.to_string()]);
        }
        args
    }
}
