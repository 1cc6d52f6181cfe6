//! `--timeline FILE.svg`: the run as a picture. Workers down the side, time across, a bar
//! per image split into its stages by colour; failed images framed in red; in async mode,
//! lanes of downloads under the workers, so overlap between waiting and working shows.
//! Drawn with plotters' SVG backend (plain SVG text, no font library).

use plotters::prelude::*;

use super::trace::stage_spans;
use crate::report::{Record, RunReport};

const STAGES: [(&str, RGBColor); 6] = [
    ("fetch", RGBColor(160, 160, 160)),
    ("read", RGBColor(158, 202, 225)),
    ("decode", RGBColor(49, 130, 189)),
    ("resize", RGBColor(49, 163, 84)),
    ("encode", RGBColor(253, 141, 60)),
    ("write", RGBColor(117, 107, 177)),
];

/// Downloads outside any worker's bar (async mode), packed into as few lanes as possible:
/// (lane, start ms, end ms).
fn download_lanes(records: &[Record]) -> Vec<(usize, f64, f64)> {
    let mut spans: Vec<(f64, f64)> = records
        .iter()
        .filter_map(|r| match (r.fetch_start_ms, r.fetch_end_ms) {
            (Some(s), Some(e)) if s < r.start_ms || r.worker.is_none() => Some((s, e)),
            _ => None,
        })
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut lane_ends: Vec<f64> = Vec::new();
    let mut placed = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        let lane = match lane_ends.iter().position(|&free| free <= start) {
            Some(lane) => lane,
            None => {
                lane_ends.push(0.0);
                lane_ends.len() - 1
            }
        };
        lane_ends[lane] = end;
        placed.push((lane, start, end));
    }
    placed
}

/// The timeline of `report` as an SVG document, drawn from `records` (all of the run's,
/// or a sample of them).
pub fn timeline_svg(report: &RunReport, records: &[Record]) -> Result<String, String> {
    let mut svg = String::new();
    draw(report, records, &mut svg).map_err(|e| format!("cannot draw the timeline: {e}"))?;
    Ok(svg)
}

fn draw(
    report: &RunReport,
    records: &[Record],
    svg: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let downloads = download_lanes(records);
    let lanes = downloads.iter().map(|d| d.0 + 1).max().unwrap_or(0);
    let workers = report.workers.max(1);
    let rows = workers + lanes;
    let end_s = records
        .iter()
        .map(|r| r.end_ms.max(r.fetch_end_ms.unwrap_or(0.0)))
        .fold(report.wall_s * 1e3, f64::max)
        / 1e3;
    // Room under the rows for the legend.
    const LEGEND_ROWS: f64 = 4.5;
    let height = (100.0 + (rows as f64 + LEGEND_ROWS) * 26.0).min(4000.0) as u32;
    let root = SVGBackend::with_string(svg, (960, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "imgpar {} mode, {} workers: {} images in {:.2} s",
                report.mode, report.workers, report.planned, report.wall_s
            ),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..end_s.max(1e-3), -LEGEND_ROWS..rows as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("seconds from the start of the run")
        .draw()?;
    // Row names, drawn beside the rows (the axis would place its labels at round values).
    for row in 0..rows {
        let name = if row < workers {
            format!("worker {row}")
        } else {
            format!("download {}", row - workers)
        };
        let (_, y) = chart.backend_coord(&(0.0, rows as f64 - row as f64 - 0.5));
        let (x, _) = chart.backend_coord(&(0.0, 0.0));
        root.draw(&Text::new(
            name,
            (x - 84, y - 6),
            ("sans-serif", 12).into_font().color(&BLACK),
        ))?;
    }

    // Row r (0 at the top) spans y from rows - r - 0.85 to rows - r - 0.15.
    let band = |row: usize| {
        (
            rows as f64 - row as f64 - 0.85,
            rows as f64 - row as f64 - 0.15,
        )
    };
    for (stage, colour) in STAGES {
        let mut bars = Vec::new();
        for record in records {
            let Some(worker) = record.worker else {
                continue;
            };
            let (y0, y1) = band(worker);
            for (name, start, end) in stage_spans(record) {
                if name == stage && end > start {
                    bars.push(Rectangle::new(
                        [(start / 1e3, y0), (end / 1e3, y1)],
                        colour.filled(),
                    ));
                }
            }
        }
        if stage == "fetch" {
            for &(lane, start, end) in &downloads {
                let (y0, y1) = band(workers + lane);
                bars.push(Rectangle::new(
                    [(start / 1e3, y0), (end / 1e3, y1)],
                    colour.filled(),
                ));
            }
        }
        if !bars.is_empty() {
            chart.draw_series(bars)?.label(stage).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
            });
        }
    }
    let failed: Vec<Rectangle<(f64, f64)>> = records
        .iter()
        .filter(|r| r.status == crate::outcome::Outcome::Failed)
        .filter_map(|r| {
            let (y0, y1) = band(r.worker?);
            Some(Rectangle::new(
                [(r.start_ms / 1e3, y0), (r.end_ms / 1e3, y1)],
                RED.stroke_width(2),
            ))
        })
        .collect();
    if !failed.is_empty() {
        chart
            .draw_series(failed)?
            .label("failed")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], RED.stroke_width(2)));
    }
    // The async mode's download limit, as a step line under the rows (its top is the most
    // it reached).
    if let Some(most) = report.concurrency.iter().map(|c| c.1).max() {
        let (bottom, top) = (-LEGEND_ROWS + 0.4, -0.4);
        let y = |limit: usize| bottom + (top - bottom) * limit as f64 / most as f64;
        let mut steps = Vec::new();
        for (at, limit) in &report.concurrency {
            if let Some(&(_, previous)) = steps.last() {
                steps.push((at / 1e3, previous));
            }
            steps.push((at / 1e3, y(*limit)));
        }
        if let Some(&(_, last)) = steps.last() {
            steps.push((end_s, last));
        }
        chart
            .draw_series(LineSeries::new(steps, BLUE.stroke_width(2)))?
            .label(format!("downloads allowed in flight (up to {most})"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLUE.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    root.present()?;
    Ok(())
}
