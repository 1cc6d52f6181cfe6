//! Resolved settings: [`Spec`] says what to do to each image, [`RunConfig`] how to run the
//! batch. Both are plain data, already validated; nothing here touches the file system.

use std::path::PathBuf;
use std::time::Duration;

use crate::fetch::FetchPolicy;
use crate::shard::ShardChoice;
use crate::worker_count::{WorkerCount, WorkersFrom};

/// How the resized image relates to the target box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Fit {
    /// Fit inside the box, keeping the aspect ratio.
    Contain,
    /// Fill the box, keeping the aspect ratio, then crop the overflow around the centre.
    Cover,
    /// Exactly the box, aspect ratio ignored.
    Fill,
}

impl Fit {
    /// The name the user types for it (`--fit`).
    pub fn name(self) -> &'static str {
        match self {
            Fit::Contain => "contain",
            Fit::Cover => "cover",
            Fit::Fill => "fill",
        }
    }
}

/// The resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Filter {
    /// Lanczos with 3 lobes: the sharpest.
    Lanczos3,
    /// Catmull-Rom cubic.
    CatmullRom,
    /// Bilinear (triangle).
    Bilinear,
    /// Box: the mean of the covered pixels.
    Box,
    /// Nearest neighbour: no filtering.
    Nearest,
}

impl Filter {
    /// The name the user types for it (`--filter`).
    pub fn name(self) -> &'static str {
        match self {
            Filter::Lanczos3 => "lanczos3",
            Filter::CatmullRom => "catmull-rom",
            Filter::Bilinear => "bilinear",
            Filter::Box => "box",
            Filter::Nearest => "nearest",
        }
    }
}

/// The format of the files imgpar writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// PNG: gray, or gray with alpha.
    Png,
    /// JPEG: gray, at the spec's quality; alpha is dropped.
    Jpeg,
    /// WebP, lossy at the spec's quality (libwebp's 0-100 scale): gray stored as neutral
    /// colour (WebP has no gray mode), alpha kept.
    Webp,
    /// WebP, lossless: the gray (and alpha) exactly.
    #[serde(rename = "webp-lossless")]
    WebpLossless,
    /// AVIF at the spec's quality and AVIF speed: gray in the luma plane, alpha kept.
    Avif,
}

impl OutputFormat {
    /// Every output format.
    pub const ALL: [OutputFormat; 5] = [
        OutputFormat::Png,
        OutputFormat::Jpeg,
        OutputFormat::Webp,
        OutputFormat::WebpLossless,
        OutputFormat::Avif,
    ];

    /// The file extension written for this format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Webp | OutputFormat::WebpLossless => "webp",
            OutputFormat::Avif => "avif",
        }
    }
}

/// Which output format to use: a fixed one, or the input's own where imgpar can write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    /// JPEG stays JPEG, WebP stays WebP (lossy, at the quality), everything else becomes
    /// PNG.
    Same,
    /// Always this format.
    Fixed(OutputFormat),
}

/// What to do when an output file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ExistingOutput {
    /// Report the image as failed and leave the file alone (the default).
    #[default]
    Fail,
    /// Report the image as skipped and leave the file alone.
    Skip,
    /// Replace the file.
    Overwrite,
    /// Convert the image anyway, and write it create-only: an existing output holding
    /// exactly the bytes it converts to counts as converted (nothing is written), one
    /// holding other bytes is a failure and is left alone. What a queue's worker does
    /// where a run fails, so that an image delivered twice counts once.
    Identical,
}

/// What to do to one image: every setting that decides an output's bytes, and only those.
/// The same `Conversion` gives byte-identical output in every mode; the pure image layer
/// (`image`, `pipeline`) takes nothing else, and a plan's identity is a digest of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conversion {
    /// Target box width; `None` means unbounded (only the height constrains).
    pub width: Option<u32>,
    /// Target box height; `None` means unbounded (only the width constrains).
    pub height: Option<u32>,
    /// How the output relates to the box.
    pub fit: Fit,
    /// Allow the output to be larger than the input.
    pub upscale: bool,
    /// The resampling filter.
    pub filter: Filter,
    /// JPEG, WebP and AVIF quality, 1 to 100.
    pub quality: u8,
    /// AVIF encoder speed, 1 (slowest, smallest files) to 10 (fastest).
    #[serde(default = "default_avif_speed")]
    pub avif_speed: u8,
    /// Images with more pixels than this fail before they are decoded; 0 lifts the limit.
    pub max_pixels: u64,
    /// Whether a HEIF file's stored thumbnail stands for its picture when it is at least
    /// as large as the output (the record then says so); `false` decodes the picture.
    #[serde(default = "yes")]
    pub embedded_thumbnails: bool,
    /// What transparent pixels are laid on in an output format without alpha (JPEG).
    #[serde(default)]
    pub background: Background,
    /// Thumbnails in colour, converted to sRGB (an embedded ICC profile applied); `false`
    /// makes them gray (an input whose profile is not sRGB is first rendered in sRGB).
    #[serde(default)]
    pub color: bool,
    /// Whether a picture's EXIF, XMP and IPTC are written into its output (the
    /// orientation reset, the embedded thumbnail and the GPS position left out).
    #[serde(default)]
    pub keep_metadata: bool,
}

impl Default for Conversion {
    fn default() -> Self {
        Conversion {
            width: Some(256),
            height: Some(256),
            fit: Fit::Contain,
            upscale: false,
            filter: Filter::Lanczos3,
            quality: 85,
            avif_speed: default_avif_speed(),
            max_pixels: 100_000_000,
            embedded_thumbnails: true,
            background: Background::default(),
            color: false,
            keep_metadata: false,
        }
    }
}

/// A run's settings for its images: the [`Conversion`] (what to do to each), and the
/// run's policies, which decide nothing about an output's bytes: what to do when an
/// output exists, and how inputs given as URLs are downloaded. A `Spec` reads as its
/// conversion (`spec.width` is `spec.conversion.width`), and is given where a
/// `&Conversion` is taken.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Spec {
    /// What to do to each image.
    #[serde(flatten)]
    pub conversion: Conversion,
    /// What to do when an output file already exists.
    pub existing: ExistingOutput,
    /// How inputs given as URLs are downloaded.
    pub fetch: FetchPolicy,
}

impl std::ops::Deref for Spec {
    type Target = Conversion;

    fn deref(&self) -> &Conversion {
        &self.conversion
    }
}

impl Spec {
    /// The default policies with `conversion`.
    pub fn converting(conversion: Conversion) -> Spec {
        Spec {
            conversion,
            ..Spec::default()
        }
    }
}

fn default_avif_speed() -> u8 {
    8
}

fn yes() -> bool {
    true
}

/// A colour that transparent pixels are laid on when the output format has no alpha
/// (JPEG): white by default, as a page, a file browser or an image viewer shows
/// transparency; written `#rrggbb` in settings, reports and provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Background(pub [u8; 3]);

impl Default for Background {
    fn default() -> Self {
        Background([255, 255, 255])
    }
}

impl Background {
    /// `white`, `black`, `gray` (or `grey`), `#rgb` or `#rrggbb` (the `#` may be left out).
    pub fn parse(text: &str) -> Result<Background, String> {
        let bad =
            || format!("expected a colour (white, black, gray, #rgb or #rrggbb), not `{text}`");
        let named = match text.trim().to_ascii_lowercase().as_str() {
            "white" => Some([255, 255, 255]),
            "black" => Some([0, 0, 0]),
            "gray" | "grey" => Some([128, 128, 128]),
            _ => None,
        };
        if let Some(rgb) = named {
            return Ok(Background(rgb));
        }
        let hex = text.trim().trim_start_matches('#');
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).map_err(|_| bad());
        match hex.len() {
            3 => Ok(Background([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17])),
            6 => {
                let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
                Ok(Background([pair(0)?, pair(2)?, pair(4)?]))
            }
            _ => Err(bad()),
        }
    }

    /// The colour as BT.601 luma, as a gray output shows it.
    pub fn luma(self) -> u8 {
        crate::image::pixels::gray::luma601(self.0[0], self.0[1], self.0[2])
    }
}

impl From<Background> for String {
    fn from(background: Background) -> String {
        let [r, g, b] = background.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

impl TryFrom<String> for Background {
    type Error = String;
    fn try_from(text: String) -> Result<Background, String> {
        Background::parse(&text)
    }
}

/// What a run writing to an object store does when the store ignores create-only writes
/// (`If-None-Match: *`), as the write probe before the first image finds out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum UnconditionalStore {
    /// Refuse to start (exit 2), naming the store: two racing tasks could both write an
    /// object and both report it converted.
    #[default]
    Refuse,
    /// Go on, with a warning in the report: existing outputs are found by the listing
    /// made at the start only, so a task racing on the same outputs may replace one.
    Listing,
}

/// How the batch is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Mode {
    /// One image after another on the calling thread.
    Sequential,
    /// A pool of worker threads taking the next image as they become idle.
    #[default]
    Threaded,
    /// Downloads (or file reads) run concurrently on an async runtime and feed a pool of
    /// CPU worker threads through a bounded queue.
    Async,
    /// A pool of worker processes (this program run again with the hidden `worker`
    /// argument), each taking the next image as it becomes idle; a crash, a hang past
    /// `--timeout` or a memory cap costs one image, not the run.
    Process,
}

impl Mode {
    /// Every mode, in the order the help lists them: what tests loop over, so that a new
    /// mode is tested wherever the others are.
    pub const ALL: [Mode; 4] = [Mode::Sequential, Mode::Threaded, Mode::Async, Mode::Process];

    /// The name the user types for this mode.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sequential => "sequential",
            Mode::Threaded => "threaded",
            Mode::Process => "process",
            Mode::Async => "async",
        }
    }
}

/// Limits on each worker process of `--mode process`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerLimits {
    /// An image still running after this long is stopped with its worker and reported as
    /// timed out.
    pub timeout: Option<Duration>,
    /// Each worker's address space, in bytes (RLIMIT_AS); an image needing more fails alone.
    pub memory: Option<u64>,
}

/// How `Mode::Async` overlaps downloads with work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncSettings {
    /// Downloads (or file reads) in flight at once: where the limit starts when it adapts,
    /// the limit when it does not.
    pub concurrency: usize,
    /// Downloads in flight at once from one host.
    pub per_host: usize,
    /// Whether the limit adapts to what the network and the CPU pool take (the default;
    /// `--concurrency` pins it).
    pub adaptive: bool,
}

impl Default for AsyncSettings {
    fn default() -> Self {
        AsyncSettings {
            concurrency: 32,
            per_host: 8,
            adaptive: true,
        }
    }
}

/// Where the images come from and go to, and how the batch runs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Folders (walked recursively), image files, files listing URLs, and `-` for a URL
    /// list on stdin, in the order given; at least one.
    pub inputs: Vec<PathBuf>,
    /// Files read as URL lists whatever they look like (`--urls`).
    pub url_lists: Vec<PathBuf>,
    /// Files and folders given as inputs below this folder keep their path below it in
    /// the output (`--root`); without it a file's output is named after the file alone.
    pub root: Option<PathBuf>,
    /// The folder outputs are written under; created if missing.
    pub output: PathBuf,
    /// How the batch is scheduled.
    pub mode: Mode,
    /// Number of workers; 1 or more.
    pub jobs: usize,
    /// What decided `jobs` (the report says it).
    pub workers_from: WorkersFrom,
    /// The output format.
    pub format: FormatChoice,
    /// Limits on worker processes; only `Mode::Process` uses them.
    pub limits: WorkerLimits,
    /// Only `Mode::Async` uses these.
    pub async_settings: AsyncSettings,
    /// The share of the plan this run takes, and what chose it; `None` takes it all.
    pub shard: Option<ShardChoice>,
    /// What to do when the output store ignores create-only writes.
    pub unconditional_store: UnconditionalStore,
}

impl RunConfig {
    /// `inputs` into `output` with the defaults: threaded on the cores this process may use
    /// (or `IMGPAR_JOBS` workers, see [`WorkerCount::by_default`]), the input's own
    /// format where imgpar writes it, no worker limits.
    pub fn new(inputs: Vec<PathBuf>, output: PathBuf) -> RunConfig {
        let workers = WorkerCount::by_default();
        RunConfig {
            inputs,
            url_lists: Vec::new(),
            root: None,
            output,
            mode: Mode::default(),
            jobs: workers.count,
            workers_from: workers.from,
            format: FormatChoice::Same,
            limits: WorkerLimits::default(),
            async_settings: AsyncSettings::default(),
            shard: None,
            unconditional_store: UnconditionalStore::default(),
        }
    }

    /// Says in one line why these settings cannot run together, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode != Mode::Process && self.limits.memory.is_some() {
            return Err(
                "--worker-memory needs --mode process: only a worker process can be capped \
                 without stopping the run"
                    .into(),
            );
        }
        if !matches!(self.mode, Mode::Process | Mode::Threaded) && self.limits.timeout.is_some() {
            return Err(
                "--timeout needs --mode process (which stops the image) or --mode threaded \
                 (which reports it and leaves it behind)"
                    .into(),
            );
        }
        if self.limits.memory.is_some_and(|m| m < MIN_WORKER_MEMORY) {
            return Err(format!(
                "--worker-memory is too small for a worker to start; give at least {}M",
                MIN_WORKER_MEMORY >> 20
            ));
        }
        if cfg!(not(feature = "http")) && self.mode == Mode::Async {
            return Err("--mode async needs imgpar built with the `http` feature".into());
        }
        if self.inputs.is_empty() && self.url_lists.is_empty() {
            return Err("give at least one INPUT (or --urls FILE) before OUTPUT".into());
        }
        Ok(())
    }
}

/// The smallest worker memory cap accepted: below this a worker cannot even start.
pub const MIN_WORKER_MEMORY: u64 = 64 << 20;

#[cfg(all(test, feature = "cli"))]
mod mode_tests {
    use super::Mode;

    #[test]
    fn every_mode_the_command_line_takes_is_in_mode_all() {
        assert_eq!(<Mode as clap::ValueEnum>::value_variants(), &Mode::ALL);
    }

    #[test]
    fn fits_and_filters_are_named_as_the_command_line_names_them() {
        use clap::ValueEnum;
        for fit in super::Fit::value_variants() {
            assert_eq!(fit.to_possible_value().unwrap().get_name(), fit.name());
        }
        for filter in super::Filter::value_variants() {
            assert_eq!(
                filter.to_possible_value().unwrap().get_name(),
                filter.name()
            );
        }
    }
}
