//! What the user typed: clap definitions, and their translation into a validated
//! [`RunConfig`] and [`Spec`]. Usage errors surface here, before anything is touched.

use std::path::PathBuf;

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{
    AsyncSettings, ExistingOutput, Filter, Fit, FormatChoice, Mode, OutputFormat, RunConfig, Spec,
    WorkerLimits,
};
use crate::fetch::FetchPolicy;

/// Converts every image under the INPUT folders (and every INPUT file) to grayscale,
/// resizes it and writes it under OUTPUT at the same relative path.
#[derive(Debug, Parser)]
#[command(
    name = "imgpar",
    version,
    about,
    max_term_width = 100,
    override_usage = "imgpar [OPTIONS] <INPUT>... <OUTPUT>\n       imgpar [OPTIONS] --urls <FILE> <OUTPUT>",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The INPUTs, then OUTPUT. An INPUT is a folder of images (walked recursively;
    /// images are recognised by extension or content), an image file, a file listing
    /// http(s) URLs one per line, or `-` for a URL list on stdin; a folder named `worker`
    /// is written `./worker`. OUTPUT is the folder to write to (created if missing; not
    /// inside an INPUT folder).
    #[arg(required = true, value_name = "INPUT... OUTPUT")]
    pub paths: Vec<PathBuf>,

    /// How the batch runs.
    #[arg(long, value_enum, default_value_t = ModeArg::Threaded)]
    pub mode: ModeArg,

    /// Number of workers [default: number of cores].
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,

    /// Target box, WIDTHxHEIGHT [default: 256x256].
    #[arg(long, value_name = "WxH", value_parser = parse_size, conflicts_with_all = ["width", "height"])]
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

    /// Leave existing outputs alone and report their images as skipped.
    #[arg(long, conflicts_with = "overwrite")]
    pub skip_existing: bool,

    /// Replace existing outputs (without this or --skip-existing, an existing output is an
    /// error for that image).
    #[arg(long)]
    pub overwrite: bool,

    /// Images with more pixels than this fail before decoding; 0 lifts the limit.
    #[arg(long, default_value_t = 100_000_000, value_name = "PIXELS")]
    pub max_pixels: u64,

    /// No progress bar and no summary; failures are still printed.
    #[arg(short, long)]
    pub quiet: bool,

    /// Write the run summary and one record per image as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// Read FILE as a list of URLs (one per line; blank lines and # comments skipped),
    /// whatever it looks like. May be repeated.
    #[arg(long = "urls", value_name = "FILE")]
    pub url_lists: Vec<PathBuf>,

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
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_bytes)]
    pub max_download: u64,

    /// Longest time for one download attempt, from the request to the last byte.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub download_timeout: Duration,

    /// Longest wait for a connection to a server.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub connect_timeout: Duration,

    /// With --mode process: stop an image still running after SECS seconds (its worker is
    /// killed and replaced) and report it as timed out.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,

    /// With --mode process: cap each worker's address space (e.g. 512M, 2G), so an image
    /// that needs more fails alone instead of exhausting the machine.
    #[arg(long, value_name = "SIZE", value_parser = parse_worker_memory)]
    pub worker_memory: Option<u64>,
}

/// Subcommands besides the default (converting images).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The child side of `--mode process`: reads jobs on stdin, answers on stdout. Started
    /// by imgpar itself, never by a user.
    #[command(hide = true)]
    Worker,
}

/// The smallest `--worker-memory` accepted: below this a worker cannot even start.
pub const MIN_WORKER_MEMORY: u64 = 64 << 20;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Sequential,
    Threaded,
    /// One worker process per core; a crash or hang costs one image, not the run.
    Process,
    /// Concurrent downloads (or file reads) feeding a pool of CPU threads.
    Async,
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

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("expected WIDTHxHEIGHT with both at least 1, like 256x256, not `{text}`");
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if w == 0 || h == 0 {
        return Err(bad());
    }
    Ok((w, h))
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, like 30 or 2.5, not `{text}`"))?;
    if !(secs > 0.0 && secs <= 1e6) {
        return Err(format!(
            "expected seconds between 0 and 1000000, not `{text}`"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a size in bytes with an optional binary suffix: `512M`, `2G`, `65536`, `800K`.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let bad = || format!("expected a size like 512M or 2G, not `{text}`");
    let t = text.trim();
    let (digits, shift) = match t.char_indices().last().ok_or_else(bad)? {
        (i, 'k' | 'K') => (&t[..i], 10),
        (i, 'm' | 'M') => (&t[..i], 20),
        (i, 'g' | 'G') => (&t[..i], 30),
        (i, 't' | 'T') => (&t[..i], 40),
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().map_err(|_| bad())?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(bad)?;
    if bytes == 0 {
        return Err(bad());
    }
    Ok(bytes)
}

fn parse_worker_memory(text: &str) -> Result<u64, String> {
    let bytes = parse_bytes(text)?;
    if bytes < MIN_WORKER_MEMORY {
        return Err(format!(
            "{text} is too small for a worker to start; give at least {}M",
            MIN_WORKER_MEMORY >> 20
        ));
    }
    Ok(bytes)
}

impl Cli {
    /// Resolves the arguments into settings, or says in one line why they cannot run.
    pub fn into_config(self) -> Result<(RunConfig, Spec), String> {
        let mode = match self.mode {
            ModeArg::Sequential => Mode::Sequential,
            ModeArg::Threaded => Mode::Threaded,
            ModeArg::Process => Mode::Process,
            ModeArg::Async => Mode::Async,
        };
        let limits = WorkerLimits {
            timeout: self.timeout,
            memory: self.worker_memory,
        };
        if mode != Mode::Process && limits != WorkerLimits::default() {
            return Err(
                "--timeout and --worker-memory need --mode process: only a worker process can \
                 be stopped or capped without stopping the run"
                    .into(),
            );
        }
        let mut inputs = self.paths;
        let output = inputs.pop().unwrap_or_default();
        if inputs.is_empty() && self.url_lists.is_empty() {
            return Err("give at least one INPUT (or --urls FILE) before OUTPUT".into());
        }
        let jobs = match self.jobs {
            Some(n) => n as usize,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let (width, height) = match (self.size, self.width, self.height) {
            (Some((w, h)), _, _) => (Some(w), Some(h)),
            (None, None, None) => (Some(256), Some(256)),
            (None, w, h) => (w, h),
        };
        let spec = Spec {
            width,
            height,
            fit: match self.fit {
                FitArg::Contain => Fit::Contain,
                FitArg::Cover => Fit::Cover,
                FitArg::Fill => Fit::Fill,
            },
            upscale: self.upscale,
            filter: match self.filter {
                FilterArg::Lanczos3 => Filter::Lanczos3,
                FilterArg::CatmullRom => Filter::CatmullRom,
                FilterArg::Bilinear => Filter::Bilinear,
                FilterArg::Box => Filter::Box,
                FilterArg::Nearest => Filter::Nearest,
            },
            quality: self.quality,
            existing: if self.skip_existing {
                ExistingOutput::Skip
            } else if self.overwrite {
                ExistingOutput::Overwrite
            } else {
                ExistingOutput::Fail
            },
            max_pixels: self.max_pixels,
            fetch: FetchPolicy {
                connect_timeout: self.connect_timeout,
                attempt_timeout: self.download_timeout,
                retries: self.retries,
                max_bytes: self.max_download,
                ..FetchPolicy::default()
            },
        };
        let run = RunConfig {
            inputs,
            url_lists: self.url_lists,
            output,
            mode,
            jobs,
            format: match self.format {
                FormatArg::Same => FormatChoice::Same,
                FormatArg::Png => FormatChoice::Fixed(OutputFormat::Png),
                FormatArg::Jpeg => FormatChoice::Fixed(OutputFormat::Jpeg),
            },
            quiet: self.quiet,
            report: self.report,
            limits,
            async_settings: AsyncSettings {
                concurrency: self.concurrency as usize,
                per_host: self.per_host as usize,
            },
        };
        Ok((run, spec))
    }
}
