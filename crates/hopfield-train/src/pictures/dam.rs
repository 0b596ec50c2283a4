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
    super::write_errors(history.iter().map(|e| (e.epoch, e.train_error, e.test_error)), title, path)
}
