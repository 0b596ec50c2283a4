//! Pictures: image grids and line plots as PNG files.
//!
//! Text is drawn with the DejaVu Sans font carried in the repository (through plotters' pure-Rust
//! `ab_glyph` path), so pictures never depend on the system's fonts. Files are written to a
//! temporary name and renamed, so a picture on disk is always complete.

pub mod dam;
pub mod et;
pub mod graph;
pub mod mil;

use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Result, TrainError};

static FONT: &[u8] = include_bytes!("../../../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

pub(crate) fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and known to parse; a failure would only mean no text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

pub(crate) fn write_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::write(path, e.to_string())
}

/// Saves an RGB buffer as PNG, atomically.
pub fn save_rgb(path: &Path, width: u32, height: u32, rgb: Vec<u8>) -> Result<()> {
    let img = image::RgbImage::from_raw(width, height, rgb).ok_or_else(|| write_err(path, "buffer size mismatch"))?;
    if path.is_dir() {
        return Err(write_err(path, "it is a folder; give a file name ending in .png"));
    }
    hopfield_data::outputs::claim(path)?;
    let tmp = path.with_extension("png.tmp");
    let written = img
        .save_with_format(&tmp, image::ImageFormat::Png)
        .map_err(|e| write_err(path, e))
        .and_then(|_| std::fs::rename(&tmp, path).map_err(|e| write_err(path, e)));
    if written.is_err() {
        // Never leave the temporary file behind.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// An image to show: channels-first values in [0, 1] (1 channel grey, 3 RGB).
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// 1 or 3.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// channels × height × width values, clamped to [0, 1] when drawn.
    pub values: Vec<f32>,
}

impl Picture {
    /// RGB of pixel (y, x).
    fn rgb(&self, y: usize, x: usize) -> [u8; 3] {
        let hw = self.height * self.width;
        let px = |c: usize| (self.values[c * hw + y * self.width + x].clamp(0.0, 1.0) * 255.0).round() as u8;
        if self.channels == 1 {
            let v = px(0);
            [v, v, v]
        } else {
            [px(0), px(1), px(2)]
        }
    }
}

/// Writes a grid of pictures (`rows[r][c]`), each scaled by an integer factor so the cells are
/// about `cell` pixels wide, with column titles on top.
pub fn write_grid(path: &Path, rows: &[Vec<Picture>], titles: &[&str], cell: usize) -> Result<()> {
    register_font();
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let first = rows.first().and_then(|r| r.first()).ok_or_else(|| write_err(path, "no pictures to draw"))?;
    let scale = (cell / first.width.max(first.height)).max(1);
    let (cw, ch) = (first.width * scale, first.height * scale);
    let (pad, header) = (4usize, if titles.is_empty() { 0 } else { 24usize });
    let width = cols * (cw + pad) + pad;
    let height = header + rows.len() * (ch + pad) + pad;
    let mut buf = vec![255u8; width * height * 3];
    for (r, row) in rows.iter().enumerate() {
        for (c, pic) in row.iter().enumerate() {
            let (x0, y0) = (pad + c * (cw + pad), header + pad + r * (ch + pad));
            for y in 0..pic.height * scale {
                for x in 0..pic.width * scale {
                    let p = pic.rgb(y / scale, x / scale);
                    let o = ((y0 + y) * width + x0 + x) * 3;
                    buf[o..o + 3].copy_from_slice(&p);
                }
            }
        }
    }
    if !titles.is_empty() {
        let root = BitMapBackend::with_buffer(&mut buf, (width as u32, height as u32)).into_drawing_area();
        let style = ("sans-serif", 16).into_font().color(&BLACK);
        for (c, t) in titles.iter().enumerate().take(cols) {
            let x = (pad + c * (cw + pad) + cw / 2) as i32 - (t.len() as i32 * 4);
            root.draw_text(t, &style, (x.max(0), 4)).map_err(|e| write_err(path, e))?;
        }
        root.present().map_err(|e| write_err(path, e))?;
    }
    save_rgb(path, width as u32, height as u32, buf)
}

/// The running train error and the test error of (epoch, train, test) shares, in percent on a log
/// axis: the classifiers' error curves.
pub fn write_errors(epochs: impl Iterator<Item = (usize, f64, f64)>, title: &str, path: &Path) -> Result<()> {
    let rows: Vec<(usize, f64, f64)> = epochs.collect();
    let series = |name: &str, color, f: fn(&(usize, f64, f64)) -> f64| Series {
        name: name.into(),
        points: rows.iter().map(|e| (e.0 as f64, 100.0 * f(e))).collect(),
        color,
        mark: Mark::Line,
    };
    LinePlot {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: "error (%)".into(),
        log_x: false,
        log_y: true,
        series: vec![series("train (running)", 0, |e| e.1), series("test", 1, |e| e.2)],
        vlines: vec![],
        legend: Corner::UpperRight,
    }
    .write(path, (720, 480))
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A line through the points.
    Line,
    /// A dashed-looking line: thin.
    Thin,
    /// Markers only.
    Points,
    /// Line and markers.
    LinePoints,
}

/// One series of a [`LinePlot`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Colour index into the palette.
    pub color: usize,
    /// How to draw it.
    pub mark: Mark,
}

/// A line plot with optional log axes.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    /// Caption on top.
    pub title: String,
    /// X-axis label.
    pub x_label: String,
    /// Y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The series.
    pub series: Vec<Series>,
    /// Vertical marker lines (x, legend text).
    pub vlines: Vec<(f64, String)>,
    /// Where the legend sits.
    pub legend: Corner,
}

/// A corner of the plotting area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    /// Top right.
    UpperRight,
    /// Bottom right.
    LowerRight,
    /// Top left.
    UpperLeft,
    /// Bottom left.
    LowerLeft,
}

/// A tick label with at most three significant digits: 0.25, 120, 1e-3, 2.5e4.
fn tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else {
        let s = format!("{:.*}", (2 - a.log10().floor() as i32).max(0) as usize, v);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

pub(crate) fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    C[i % C.len()]
}

fn range(vals: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (0.1, 1.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.5, hi * 1.5)
    } else {
        let span = (hi - lo).max(1e-12 * hi.abs().max(1.0));
        (lo - 0.05 * span, hi + 0.05 * span)
    }
}

impl LinePlot {
    /// Draws the plot to a PNG of `size` pixels.
    pub fn write(&self, path: &Path, size: (u32, u32)) -> Result<()> {
        register_font();
        let (w, h) = size;
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| write_err(path, e))?;
            let xs =
                self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).chain(self.vlines.iter().map(|v| v.0));
            let ys = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
            let (x0, x1) = range(xs, self.log_x);
            let (y0, y1) = range(ys, self.log_y);
            let mut builder = ChartBuilder::on(&root);
            builder.caption(&self.title, ("sans-serif", 20)).margin(12).x_label_area_size(44).y_label_area_size(70);
            // Four axis combinations, each a distinct plotters type: draw through one generic helper.
            let e = |e: plotters::drawing::DrawingAreaErrorKind<_>| write_err(path, e);
            match (self.log_x, self.log_y) {
                (false, false) => self.draw(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?, path),
                (true, false) => self.draw(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1).map_err(e)?, path),
                (false, true) => self.draw(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale()).map_err(e)?, path),
                (true, true) => {
                    self.draw(builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale()).map_err(e)?, path)
                }
            }?;
            root.present().map_err(|e| write_err(path, e))?;
        }
        save_rgb(path, w, h, buf)
    }

    fn draw<'a, X, Y>(
        &self,
        mut chart: ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
        path: &Path,
    ) -> Result<()>
    where
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| write_err(path, e);
        chart
            .configure_mesh()
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        let y_span = chart.y_range();
        for (x, name) in &self.vlines {
            let color = BLACK.mix(0.6);
            chart
                .draw_series(LineSeries::new(vec![(*x, y_span.start), (*x, y_span.end)], color.stroke_width(1)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        for s in &self.series {
            let color = palette(s.color);
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite() && (!self.log_y || p.1 > 0.0))
                .collect();
            let width = if s.mark == Mark::Thin { 1 } else { 2 };
            match s.mark {
                Mark::Line | Mark::Thin | Mark::LinePoints => {
                    chart
                        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(width)))
                        .map_err(err)?
                        .label(&s.name)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(width)));
                    if s.mark == Mark::LinePoints {
                        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?;
                    }
                }
                Mark::Points => {
                    chart
                        .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                        .map_err(err)?
                        .label(&s.name)
                        .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
                }
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 14))
            .position(match self.legend {
                Corner::UpperRight => SeriesLabelPosition::UpperRight,
                Corner::LowerRight => SeriesLabelPosition::LowerRight,
                Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
                Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
            })
            .draw()
            .map_err(err)?;
        Ok(())
    }
}
