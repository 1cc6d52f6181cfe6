//! speedup.svg: speedup against workers, a line per mode, and the ideal line. Drawn with
//! plotters' SVG backend, whose text is plain SVG text: no font library is needed to make
//! or to view it.

use plotters::prelude::*;

use super::BenchResult;

/// Colours of the modes' lines, in the order modes appear.
const PALETTE: [RGBColor; 5] = [
    RGBColor(90, 90, 90),
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// The plot as an SVG document.
pub fn speedup_svg(result: &BenchResult) -> Result<String, String> {
    let mut svg = String::new();
    draw(result, &mut svg).map_err(|e| format!("cannot draw the speedup plot: {e}"))?;
    Ok(svg)
}

fn draw(result: &BenchResult, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let max_workers = result
        .rows
        .iter()
        .map(|r| r.workers)
        .max()
        .unwrap_or(1)
        .max(2);
    let max_speedup = result
        .rows
        .iter()
        .map(|r| r.speedup)
        .fold(max_workers as f64, f64::max);
    let root = SVGBackend::with_string(svg, (720, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "imgpar speedup over sequential ({} images, {} cores)",
                result.images, result.cores
            ),
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d(1.0..max_workers as f64, 0.0..max_speedup * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .y_desc("speedup")
        .x_labels(max_workers.min(16))
        .x_label_formatter(&|x| whole_number(*x))
        .draw()?;

    let ideal = [(1.0, 1.0), (max_workers as f64, max_workers as f64)];
    chart
        .draw_series(LineSeries::new(ideal, BLACK.mix(0.35).stroke_width(1)))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.35)));

    let mut modes: Vec<&str> = Vec::new();
    for row in &result.rows {
        if !modes.contains(&row.mode) {
            modes.push(row.mode);
        }
    }
    for (i, mode) in modes.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = result
            .rows
            .iter()
            .filter(|r| r.mode == *mode)
            .map(|r| (r.workers as f64, r.speedup))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(*mode)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    root.present()?;
    Ok(())
}

/// `x` as a label when it is a whole number of workers; nothing between them.
fn whole_number(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else {
        String::new()
    }
}
