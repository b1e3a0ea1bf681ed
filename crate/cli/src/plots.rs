//! SVG line plots of evaluation summaries, as search-and-learn's blog draws them: accuracy
//! against the budget N (log2 axis) per strategy and selection, and per MATH level.

use plotters::prelude::*;
use std::path::Path;
use ttsearch::{Error, Result};

/// One line: its label and its (n, accuracy) points.
pub struct Series {
    /// The legend's text.
    pub label: String,
    /// Points in n order.
    pub points: Vec<(usize, f64)>,
}

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::Io(format!("plot: {e}"))
}

/// Draws `series` as accuracy (%) against N on a log2 axis into the SVG file `path`.
pub fn accuracy_plot(path: &Path, title: &str, series: &[Series]) -> Result<()> {
    let ns: Vec<usize> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let (Some(&lo), Some(&hi)) = (ns.iter().min(), ns.iter().max()) else {
        return Err(Error::InvalidArgument("nothing to plot".into()));
    };
    let log = |n: usize| (n.max(1) as f64).log2();
    let (x0, x1) = (log(lo) - 0.25, log(hi) + 0.25);
    let root = SVGBackend::new(path, (720, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, 0f64..100f64)
        .map_err(plot_error)?;
    let mut ticks: Vec<usize> = ns.clone();
    ticks.sort_unstable();
    ticks.dedup();
    chart
        .configure_mesh()
        .x_desc("N (log2)")
        .y_desc("accuracy (%)")
        .x_labels(ticks.len().max(2))
        .x_label_formatter(&|x| format!("{}", x.exp2().round()))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(plot_error)?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(f64, f64)> = s.points.iter().map(|&(n, a)| (log(n), 100.0 * a)).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(plot_error)?
            .label(s.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)
}
