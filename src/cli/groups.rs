//! Flag groups shared by the default command and `bench`: what to do to each image, how to
//! download, and the limits on worker processes. Each turns into its part of the settings,
//! and back into flags (`to_args`) so that `bench` can hand the same settings to the runs
//! it starts.

use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};

use super::parse::{self, Bytes, Seconds};
use crate::config::{
    AsyncSettings, Background, Filter, Fit, FormatChoice, OutputFormat, Spec, WorkerLimits,
};
use crate::fetch::FetchPolicy;

/// What to do to each image. Every default is the library's own (`Spec::default()`).
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
    #[arg(long, value_enum, default_value_t = Spec::default().fit)]
    pub fit: Fit,

    /// Allow outputs larger than their inputs.
    #[arg(long)]
    pub upscale: bool,

    /// Resampling filter.
    #[arg(long, value_enum, default_value_t = Spec::default().filter)]
    pub filter: Filter,

    /// Output format; `same` keeps JPEG, PNG and WebP (lossy) and writes PNG for everything
    /// else; `webp` is lossy at --quality, `webp-lossless` keeps every gray level, `avif` is
    /// lossy at --quality and --speed.
    #[arg(long, value_enum, default_value_t = FormatArg::Same)]
    pub format: FormatArg,

    /// JPEG, lossy WebP and AVIF quality.
    #[arg(long, default_value_t = Spec::default().quality, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,

    /// AVIF encoder speed: 1 (slowest, smallest files) to 10 (fastest).
    #[arg(long, default_value_t = Spec::default().avif_speed, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub speed: u8,

    /// Images with more pixels than this fail before decoding; 0 lifts the limit.
    #[arg(long, default_value_t = Spec::default().max_pixels, value_name = "PIXELS")]
    pub max_pixels: u64,

    /// What transparent pixels are laid on in a JPEG, which has no alpha: white, black,
    /// gray, #rgb or #rrggbb.
    #[arg(long, value_name = "COLOR", default_value = "white", value_parser = Background::parse)]
    pub background: Background,

    /// Thumbnails in colour, in sRGB: an embedded ICC profile (Display P3, Adobe RGB, a
    /// CMYK print profile) is applied; an untagged image is taken as sRGB. Without it
    /// thumbnails are gray.
    #[arg(long)]
    pub color: bool,

    /// Write each picture's EXIF (camera, lens, date, artist, copyright), XMP and IPTC
    /// into its output, the orientation reset to 1 and without the embedded thumbnail or
    /// the GPS position (JPEG: all three; PNG and WebP: EXIF and XMP; AVIF: EXIF).
    #[arg(long)]
    pub keep_metadata: bool,

    /// Decode a HEIC's full picture even when the file stores a thumbnail as large as the
    /// output (by default that thumbnail is used, as libvips does, and the report says so).
    #[arg(long)]
    pub no_embedded_thumbnails: bool,
}

/// How downloads (and the async mode's reads) are made. Every default is the library's own
/// (`FetchPolicy::default()`, `AsyncSettings::default()`).
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// With --mode async: downloads (or file reads) in flight at once [default: adapts,
    /// from 32, to what the network and the CPU pool take].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000).map(|n| n as usize))]
    pub concurrency: Option<usize>,

    /// With --mode async: downloads in flight at once from one host [default: 8].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000).map(|n| n as usize))]
    pub per_host: Option<usize>,

    /// Download attempts after the first, on connection errors, 5xx and 429 (with
    /// exponential backoff and jitter; Retry-After is honoured).
    #[arg(long, default_value_t = FetchPolicy::default().retries, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,

    /// Largest download accepted (e.g. 64M); a larger body is cut off as it arrives.
    #[arg(long, value_name = "SIZE", default_value_t = Bytes(FetchPolicy::default().max_bytes), value_parser = parse::bytes)]
    pub max_download: Bytes,

    /// Longest time for one download attempt, from the request to the last byte.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(FetchPolicy::default().attempt_timeout), value_parser = parse::seconds)]
    pub download_timeout: Seconds,

    /// Longest wait for a connection to a server.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(FetchPolicy::default().connect_timeout), value_parser = parse::seconds)]
    pub connect_timeout: Seconds,

    /// At most N requests a second to any one host (spaced evenly; e.g. 2, or 0.5 for one
    /// every 2 s). A 429 or 503 slows that host down for every URL on it either way.
    #[arg(long, value_name = "N", value_parser = parse::rate)]
    pub per_host_rate: Option<f64>,

    /// Read each host's robots.txt (once) and honour it for the agent imgpar (else *):
    /// disallowed URLs are never requested, and Crawl-delay paces the host.
    #[arg(long)]
    pub robots: bool,

    /// The User-Agent header sent with every download [default: imgpar/VERSION].
    #[arg(long, value_name = "TEXT")]
    pub user_agent: Option<String>,

    /// Write images whose server says `X-Robots-Tag: noai` or `noimageai` (for every agent
    /// or for imgpar) too; by default they are not written, and their record says why.
    #[arg(long)]
    pub no_respect_opt_out: bool,
}

/// Limits on each worker process of `--mode process`.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Fail an image still running after SECS seconds. --mode process kills its worker and
    /// starts a fresh one; --mode threaded cannot stop a thread, so it reports the image,
    /// leaves its thread behind and goes on. Use process mode for untrusted input.
    #[arg(long, value_name = "SECS", value_parser = parse::seconds)]
    pub timeout: Option<Seconds>,

    /// With --mode process: cap each worker's address space (e.g. 512M, 2G), so an image
    /// that needs more fails alone instead of exhausting the machine.
    #[arg(long, value_name = "SIZE", value_parser = parse::worker_memory)]
    pub worker_memory: Option<u64>,
}

/// Output format choices on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Same,
    Png,
    Jpeg,
    Webp,
    WebpLossless,
    Avif,
}

/// The name the user types for an enum value.
fn name(value: &impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

impl ImageArgs {
    /// The target box: `--size`, or the sides given alone, or the library's default box.
    pub fn target(&self) -> (Option<u32>, Option<u32>) {
        match (self.size, self.width, self.height) {
            (Some((w, h)), _, _) => (Some(w), Some(h)),
            (None, None, None) => (Spec::default().width, Spec::default().height),
            (None, w, h) => (w, h),
        }
    }

    pub fn format(&self) -> FormatChoice {
        match self.format {
            FormatArg::Same => FormatChoice::Same,
            FormatArg::Png => FormatChoice::Fixed(OutputFormat::Png),
            FormatArg::Jpeg => FormatChoice::Fixed(OutputFormat::Jpeg),
            FormatArg::Webp => FormatChoice::Fixed(OutputFormat::Webp),
            FormatArg::WebpLossless => FormatChoice::Fixed(OutputFormat::WebpLossless),
            FormatArg::Avif => FormatChoice::Fixed(OutputFormat::Avif),
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
        if self.no_embedded_thumbnails {
            args.push("--no-embedded-thumbnails".into());
        }
        if self.color {
            args.push("--color".into());
        }
        if self.keep_metadata {
            args.push("--keep-metadata".into());
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
            "--speed".into(),
            self.speed.to_string(),
            "--max-pixels".into(),
            self.max_pixels.to_string(),
            "--background".into(),
            String::from(self.background),
        ]);
        args
    }
}

impl FetchArgs {
    pub fn policy(&self) -> FetchPolicy {
        FetchPolicy {
            connect_timeout: self.connect_timeout.0,
            attempt_timeout: self.download_timeout.0,
            retries: self.retries,
            max_bytes: self.max_download.0,
            user_agent: self.user_agent.clone(),
            respect_opt_out: !self.no_respect_opt_out,
            per_host_interval: self
                .per_host_rate
                .map(|rate| Duration::from_secs_f64(1.0 / rate)),
            robots: self.robots,
            ..FetchPolicy::default()
        }
    }

    pub fn async_settings(&self) -> AsyncSettings {
        AsyncSettings {
            concurrency: self
                .concurrency
                .unwrap_or(AsyncSettings::default().concurrency),
            per_host: self.per_host.unwrap_or(AsyncSettings::default().per_host),
            adaptive: self.concurrency.is_none(),
        }
    }

    /// The flags only `--mode async` takes, when given: `--concurrency`, `--per-host`.
    pub fn async_flags_given(&self) -> Option<&'static str> {
        match (self.concurrency, self.per_host) {
            (Some(_), _) => Some("--concurrency"),
            (None, Some(_)) => Some("--per-host"),
            (None, None) => None,
        }
    }

    /// The async mode's settings as flags (relayed to async runs only).
    pub fn async_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(concurrency) = self.concurrency {
            args.extend(["--concurrency".into(), concurrency.to_string()]);
        }
        if let Some(per_host) = self.per_host {
            args.extend(["--per-host".into(), per_host.to_string()]);
        }
        args
    }

    /// The download settings as flags (every mode takes them).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--retries".into(),
            self.retries.to_string(),
            "--max-download".into(),
            self.max_download.to_string(),
            "--download-timeout".into(),
            self.download_timeout.to_string(),
            "--connect-timeout".into(),
            self.connect_timeout.to_string(),
        ];
        if let Some(agent) = &self.user_agent {
            args.extend(["--user-agent".into(), agent.clone()]);
        }
        if let Some(rate) = self.per_host_rate {
            args.extend(["--per-host-rate".into(), rate.to_string()]);
        }
        if self.no_respect_opt_out {
            args.push("--no-respect-opt-out".into());
        }
        if self.robots {
            args.push("--robots".into());
        }
        args
    }
}

impl WorkerArgs {
    pub fn limits(&self) -> WorkerLimits {
        WorkerLimits {
            timeout: self.timeout.map(|s| s.0),
            memory: self.worker_memory,
        }
    }

    /// These settings as flags (for runs in process mode only: other modes refuse them).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(timeout) = self.timeout {
            args.extend(["--timeout".into(), timeout.to_string()]);
        }
        if let Some(memory) = self.worker_memory {
            args.extend(["--worker-memory".into(), memory.to_string()]);
        }
        args
    }
}
