//! The DAM classifier's pictures: its memories as images, and its errors per epoch.

use hopfield::dam::DamClassifier;

use crate::error::Result;
use crate::tasks::dam_classifier::DamEpoch;

/// A grid of the memories' visible parts as images (−1 black, +1 white), `per_row` to a row.
pub fn write_dam_memories(
    dam: &DamClassifier<f32>,
    image: (usize, usize, usize),
    count: usize,
    per_row: usize,
    path: &std::path::Path,
) -> Result<()> {
    let (c, h, w) = image;
    let width = dam.visible + dam.classes;
    let pics: Vec<super::Picture> = dam
        .memories
        .chunks(width)
        .take(count.max(1))
        .map(|row| super::Picture {
            channels: c,
            height: h,
            width: w,
            values: row[..dam.visible].iter().map(|x| (x + 1.0) / 2.0).collect(),
        })
        .collect();
    let rows: Vec<Vec<super::Picture>> = pics.chunks(per_row.max(1)).map(|r| r.to_vec()).collect();
    super::write_grid(path, &rows, &[], 40)
}

/// The running train error and the test error per epoch, in percent on a log axis.
pub fn write_dam_errors(history: &[DamEpoch], title: &str, path: &std::path::Path) -> Result<()> {
    use super::{Corner, LinePlot, Mark, Series};
    let series = |name: &str, color, f: fn(&DamEpoch) -> f64| Series {
        name: name.into(),
        points: history.iter().map(|e| (e.epoch as f64, 100.0 * f(e))).collect(),
        color,
        mark: Mark::Line,
    };
    LinePlot {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: "error (%)".into(),
        log_x: false,
        log_y: true,
        series: vec![series("train (running)", 0, |e| e.train_error), series("test", 1, |e| e.test_error)],
        vlines: vec![],
        legend: Corner::UpperRight,
    }
    .write(path, (720, 480))
}
