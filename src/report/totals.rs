//! The run's totals as running sums over the records, added as each image ends: counts,
//! bytes, pixels, busy time, and the time covered by downloads, by processing and by both
//! at once. Nothing is kept per image: the spans of finished images are merged, and the
//! part of the timeline no image still running can reach (before the `horizon`, the
//! earliest start of any image in flight) is folded into the sums and forgotten.

use super::Record;
use super::spans::{covered, merged, overlap};
use crate::image::DecodedFrom;
use crate::outcome::Outcome;

/// Spans kept before the settled part of the timeline is folded in.
const FOLD_AT: usize = 512;

/// Running sums over the records of a run.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Records added.
    pub records: usize,
    /// Images converted.
    pub ok: usize,
    /// Images that failed.
    pub failed: usize,
    /// Images skipped.
    pub skipped: usize,
    /// Of those, images skipped on an output that carries no provenance (trusted).
    pub skipped_unverified: usize,
    /// Images converted from the thumbnail their HEIF file stores, not from the picture.
    pub from_thumbnails: usize,
    /// Images converted from the JPEG preview their camera RAW stores.
    pub from_previews: usize,
    /// Worker time over the records, in ms.
    pub busy_ms: f64,
    /// Bytes read or downloaded.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Bytes received from servers.
    pub bytes_downloaded: u64,
    /// Pixels decoded (as stored in the inputs).
    pub pixels: u64,
    timeline: Timeline,
    /// Spans held at which to fold next (doubles while a long image holds the horizon).
    next_fold: usize,
}

impl Totals {
    /// Adds one record.
    pub fn add(&mut self, record: &Record) {
        self.records += 1;
        match record.status {
            Outcome::Ok => {
                self.ok += 1;
                match record.decoded_from {
                    Some(DecodedFrom::EmbeddedThumbnail) => self.from_thumbnails += 1,
                    Some(DecodedFrom::EmbeddedPreview) => self.from_previews += 1,
                    Some(DecodedFrom::Picture) | None => {}
                }
            }
            Outcome::Failed => self.failed += 1,
            Outcome::Skipped => {
                self.skipped += 1;
                if record.error.as_deref() == Some(crate::job::SKIPPED_UNVERIFIED) {
                    self.skipped_unverified += 1;
                }
            }
        }
        self.busy_ms += record.end_ms - record.start_ms;
        self.bytes_in += record.bytes_in;
        self.bytes_out += record.bytes_out;
        if record.http_status.is_some() {
            self.bytes_downloaded += record.bytes_in;
        }
        self.pixels += record.pixels_in();
        self.timeline.network.extend(record.fetch_span());
        self.timeline.work.extend(record.work_span());
    }

    /// Whether enough spans are held that the settled part should be folded in.
    pub fn wants_fold(&self) -> bool {
        self.held_spans() > self.next_fold.max(FOLD_AT)
    }

    fn held_spans(&self) -> usize {
        self.timeline.network.len() + self.timeline.work.len()
    }

    /// Folds in the part of the timeline before `horizon` ms: no span of a record still
    /// to come starts before it.
    pub fn fold(&mut self, horizon: f64) {
        self.timeline.fold(horizon);
        self.next_fold = self.held_spans() * 2;
    }

    /// Milliseconds during which a download (or async read) was in flight, a worker was
    /// processing an image, and both at once.
    pub fn covered_ms(&self) -> (f64, f64, f64) {
        let t = &self.timeline;
        (
            t.network_ms + covered(&t.network),
            t.work_ms + covered(&t.work),
            t.overlap_ms + overlap(&t.network, &t.work),
        )
    }
}

/// The spans not folded in yet, and the sums of those that were.
#[derive(Debug, Clone, Default)]
struct Timeline {
    network: Vec<(f64, f64)>,
    work: Vec<(f64, f64)>,
    network_ms: f64,
    work_ms: f64,
    overlap_ms: f64,
}

impl Timeline {
    fn fold(&mut self, horizon: f64) {
        let before = |spans: &[(f64, f64)]| -> Vec<(f64, f64)> {
            spans
                .iter()
                .filter(|s| s.0 < horizon)
                .map(|&(a, b)| (a, b.min(horizon)))
                .collect()
        };
        let after = |spans: &mut Vec<(f64, f64)>| {
            spans.retain(|s| s.1 > horizon);
            for span in spans.iter_mut() {
                span.0 = span.0.max(horizon);
            }
        };
        let (network, work) = (before(&self.network), before(&self.work));
        self.network_ms += covered(&network);
        self.work_ms += covered(&work);
        self.overlap_ms += overlap(&network, &work);
        after(&mut self.network);
        after(&mut self.work);
        // Merged, so that the spans that go on past the horizon stay few.
        self.network = merged(&self.network);
        self.work = merged(&self.work);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_at_any_horizon_gives_the_same_sums() {
        let network = [(0.0, 10.0), (5.0, 12.0), (20.0, 30.0), (31.0, 40.0)];
        let work = [(10.0, 25.0), (11.0, 13.0), (35.0, 50.0)];
        let whole = (covered(&network), covered(&work), overlap(&network, &work));
        for horizon in [0.0, 4.0, 11.0, 12.5, 22.0, 31.0, 100.0] {
            let mut t = Timeline {
                network: network.to_vec(),
                work: work.to_vec(),
                ..Timeline::default()
            };
            t.fold(horizon);
            let sums = (
                t.network_ms + covered(&t.network),
                t.work_ms + covered(&t.work),
                t.overlap_ms + overlap(&t.network, &t.work),
            );
            assert_eq!(sums, whole, "horizon {horizon}");
        }
    }
}
