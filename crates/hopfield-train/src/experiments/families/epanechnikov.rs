//! The log-sum-ReLU (Epanechnikov) memory (Hoover et al. 2025): which stored patterns stay exact
//! minima and how many emergent minima appear, against the load K and the kernel width r.
//!
//! Patterns are uniform in [0, 1]^d (as in the paper's LMIN experiment); every minimum is found
//! exactly by [`LogSumRelu::local_minima`] (no sampling). The 2-D landscape shows the energy, each
//! minimum's basin under the memory's own update, the stored patterns and the emergent minima.

use std::path::{Path, PathBuf};

use hopfield::memory::LogSumRelu;
use plotters::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{mean_std, write_file};
use crate::error::{invalid, Result};
use crate::pictures::{register_font, save_rgb, write_err, Corner, LinePlot, Mark, Series};

/// The sweep's settings, with the command line's defaults in [`EpanechnikovConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EpanechnikovConfig {
    /// d, the patterns' dimension.
    pub dim: usize,
    /// The loads K.
    pub loads: Vec<usize>,
    /// The kernel widths r (β = 2/r²).
    pub widths: Vec<f64>,
    /// Pattern sets per (K, r).
    pub seeds: usize,
    /// Patterns of the 2-D landscape.
    pub landscape_patterns: usize,
    /// Kernel width of the 2-D landscape.
    pub landscape_width: f64,
    /// Seed of everything random.
    pub seed: u64,
}

impl Default for EpanechnikovConfig {
    /// d = 8; K = 5, 10, 15, 20; r = 0.1 to 1.6 in steps of 0.1; 5 pattern sets each; a 2-D landscape
    /// of 12 patterns at r = 0.15; seed 0.
    fn default() -> Self {
        EpanechnikovConfig {
            dim: 8,
            loads: vec![5, 10, 15, 20],
            widths: (1..=16).map(|i| 0.1 * i as f64).collect(),
            seeds: 5,
            landscape_patterns: 12,
            landscape_width: 0.15,
            seed: 0,
        }
    }
}

/// Loads above this take too long to enumerate at the wide widths.
pub const MAX_LOAD: usize = 24;

impl EpanechnikovConfig {
    /// Checks every setting.
    ///
    /// # Errors
    /// The setting and its value.
    pub fn validate(&self) -> Result<()> {
        if self.dim == 0 {
            return Err(invalid("dim", 0, "the patterns need at least one dimension"));
        }
        if let Some(r) = self.widths.iter().chain([&self.landscape_width]).find(|r| !(**r > 0.0 && r.is_finite())) {
            return Err(invalid("width", r, "a kernel width must be positive and finite"));
        }
        if let Some(k) = self.loads.iter().find(|&&k| k == 0 || k > MAX_LOAD) {
            return Err(invalid("load", k, format!("between 1 and {MAX_LOAD} patterns (the minima are enumerated)")));
        }
        if self.loads.is_empty() || self.widths.is_empty() {
            return Err(invalid("loads/widths", "none", "give at least one load and one width"));
        }
        if self.seeds == 0 {
            return Err(invalid("seeds", 0, "at least one pattern set"));
        }
        if !(1..=MAX_LOAD).contains(&self.landscape_patterns) {
            return Err(invalid("landscape patterns", self.landscape_patterns, format!("between 1 and {MAX_LOAD}")));
        }
        Ok(())
    }
}

/// The minima of one pattern set at one width.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MinimaCount {
    /// K.
    pub load: usize,
    /// r.
    pub width: f64,
    /// Which pattern set.
    pub seed: u64,
    /// Stored patterns that are minima (exactly retrieved from themselves).
    pub stored: usize,
    /// Minima that are centroids of two or more patterns.
    pub emergent: usize,
}

/// The 2-D example: patterns, minima and a grid of (energy, basin).
#[derive(Debug, Clone, PartialEq)]
pub struct Landscape {
    /// The patterns, (x, y).
    pub patterns: Vec<(f64, f64)>,
    /// The minima (point, stored?).
    pub minima: Vec<((f64, f64), bool)>,
    /// r.
    pub width: f64,
    /// Per grid cell (row-major, y from the top): kernel sum f and the index of its basin's minimum.
    pub cells: Vec<(f64, Option<usize>)>,
    /// Cells a side.
    pub side: usize,
}

/// What [`run`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EpanechnikovReport {
    /// Every (K, r, set).
    pub counts: Vec<MinimaCount>,
    /// The 2-D example.
    pub landscape: Landscape,
    /// The settings.
    pub config: EpanechnikovConfig,
}

fn uniform_patterns(k: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..k * d).map(|_| rng.random::<f64>()).collect()
}

/// Grid cells a side of the landscape.
const SIDE: usize = 240;

/// Runs the sweep and the landscape.
///
/// # Errors
/// An invalid setting.
pub fn run(config: &EpanechnikovConfig) -> Result<EpanechnikovReport> {
    config.validate()?;
    let jobs: Vec<(usize, f64, u64)> = config
        .loads
        .iter()
        .flat_map(|&k| config.widths.iter().flat_map(move |&r| (0..config.seeds as u64).map(move |s| (k, r, s))))
        .collect();
    let counts = jobs
        .par_iter()
        .map(|&(k, r, s)| {
            let patterns = uniform_patterns(k, config.dim, config.seed.wrapping_add(1000 * k as u64 + s));
            let minima = LogSumRelu::with_width(patterns, config.dim, r, 0.0)?.local_minima()?;
            let stored = minima.iter().filter(|m| m.is_stored()).count();
            Ok(MinimaCount { load: k, width: r, seed: s, stored, emergent: minima.len() - stored })
        })
        .collect::<Result<Vec<_>>>()?;
    let landscape = landscape(config)?;
    Ok(EpanechnikovReport { counts, landscape, config: config.clone() })
}

fn landscape(config: &EpanechnikovConfig) -> Result<Landscape> {
    let k = config.landscape_patterns;
    let flat = uniform_patterns(k, 2, config.seed ^ 0x2d);
    let mem = LogSumRelu::with_width(flat.clone(), 2, config.landscape_width, 0.0)?;
    let minima = mem.local_minima()?;
    let cells = (0..SIDE * SIDE)
        .into_par_iter()
        .map(|i| {
            let (row, col) = (i / SIDE, i % SIDE);
            let p = [(col as f64 + 0.5) / SIDE as f64, 1.0 - (row as f64 + 0.5) / SIDE as f64];
            let settled = mem.retrieve(&p, 1000)?;
            let basin = minima.iter().position(|m| m.members == settled.members && !settled.members.is_empty());
            let f: f64 = (0..k)
                .map(|mu| {
                    let q = mem.pattern(mu);
                    let d2 = (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
                    (1.0 - 0.5 * mem.beta() * d2).max(0.0)
                })
                .sum();
            Ok((f, basin))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Landscape {
        patterns: flat.chunks(2).map(|p| (p[0], p[1])).collect(),
        minima: minima.iter().map(|m| ((m.point[0], m.point[1]), m.is_stored())).collect(),
        width: config.landscape_width,
        cells,
        side: SIDE,
    })
}

impl EpanechnikovReport {
    fn summary(&self, k: usize, r: f64) -> ((f64, f64), (f64, f64)) {
        let rows: Vec<&MinimaCount> = self.counts.iter().filter(|c| c.load == k && c.width == r).collect();
        let stored: Vec<f64> = rows.iter().map(|c| c.stored as f64 / k as f64).collect();
        let emergent: Vec<f64> = rows.iter().map(|c| c.emergent as f64).collect();
        (mean_std(&stored), mean_std(&emergent))
    }

    /// A row per load and width: the share of stored patterns that are minima and the emergent
    /// minima (mean ± std over the pattern sets); then the landscape's counts.
    pub fn table(&self) -> String {
        let c = &self.config;
        let mut s = format!("log-sum-ReLU, patterns uniform in [0, 1]^{}, {} sets per point\n", c.dim, c.seeds);
        s += &format!("{:>4} {:>6} {:>18} {:>22}\n", "K", "width", "stored minima", "emergent minima");
        for &k in &c.loads {
            for &r in &c.widths {
                let ((sm, ss), (em, es)) = self.summary(k, r);
                s += &format!(
                    "{k:>4} {r:>6.2} {:>18} {:>22}\n",
                    format!("{sm:.3} ± {ss:.3}"),
                    format!("{em:.1} ± {es:.1}")
                );
            }
        }
        let l = &self.landscape;
        let stored = l.minima.iter().filter(|m| m.1).count();
        s += &format!(
            "2-D landscape: {} patterns, width {}: {} stored and {} emergent minima\n",
            l.patterns.len(),
            l.width,
            stored,
            l.minima.len() - stored
        );
        s
    }

    /// `lse-relu.csv`: a line per (K, r, set).
    pub fn csv(&self) -> String {
        let mut s = String::from("load,width,seed,stored_minima,emergent_minima\n");
        for c in &self.counts {
            s += &format!("{},{},{},{},{}\n", c.load, c.width, c.seed, c.stored, c.emergent);
        }
        s
    }

    fn plot(&self, emergent: bool, path: &Path) -> Result<()> {
        let c = &self.config;
        let series = c
            .loads
            .iter()
            .enumerate()
            .map(|(i, &k)| Series {
                name: format!("K = {k}"),
                points: c
                    .widths
                    .iter()
                    .map(|&r| {
                        let (s, e) = self.summary(k, r);
                        (r, if emergent { e.0 } else { s.0 })
                    })
                    .collect(),
                color: i,
                mark: Mark::LinePoints,
            })
            .collect();
        LinePlot {
            title: format!(
                "log-sum-ReLU, d = {}: {} (mean of {} sets)",
                c.dim,
                if emergent { "emergent minima" } else { "stored patterns that are minima" },
                c.seeds
            ),
            x_label: "kernel width r = √(2/β)".into(),
            y_label: if emergent { "emergent minima (log; 0 not drawn)" } else { "share of the K patterns" }.into(),
            log_x: false,
            log_y: emergent,
            series,
            vlines: vec![],
            legend: if emergent { Corner::LowerRight } else { Corner::LowerLeft },
        }
        .write(path, (900, 560))
    }

    /// Writes `lse-relu.csv`, `lse-relu-emergent.png`, `lse-relu-stored.png` and
    /// `lse-relu-landscape.png` into `dir`.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let csv = write_file(dir, "lse-relu.csv", &self.csv())?;
        let (emergent, stored, land) =
            (dir.join("lse-relu-emergent.png"), dir.join("lse-relu-stored.png"), dir.join("lse-relu-landscape.png"));
        self.plot(true, &emergent)?;
        self.plot(false, &stored)?;
        write_landscape(&self.landscape, &land)?;
        Ok(vec![csv, emergent, stored, land])
    }
}

/// A distinct colour for basin `i`: hues a golden angle apart.
fn basin_colour(i: usize) -> RGBColor {
    let h = (i as f64 * 0.618_033_988_75).fract() * 6.0;
    let (s, v) = (0.6, 0.85);
    let c = v * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    let to = |u: f64| ((u + m) * 255.0) as u8;
    RGBColor(to(r), to(g), to(b))
}

/// The landscape: each basin in its colour, darker where the kernel sum is higher (lower energy),
/// white where no kernel reaches; kernel edges thin grey, stored patterns black dots, emergent minima
/// red crosses.
pub fn write_landscape(l: &Landscape, path: &Path) -> Result<()> {
    register_font();
    let (w, h) = (760u32, 800u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| write_err(path, e);
        root.fill(&WHITE).map_err(err)?;
        let stored = l.minima.iter().filter(|m| m.1).count();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "log-sum-ReLU in 2-D: {} patterns, width {}: {} stored + {} emergent minima",
                    l.patterns.len(),
                    l.width,
                    stored,
                    l.minima.len() - stored
                ),
                ("sans-serif", 17),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(err)?;
        chart.configure_mesh().disable_mesh().label_style(("sans-serif", 13)).draw().map_err(err)?;
        let top = l.cells.iter().map(|c| c.0).fold(0.0, f64::max).max(1e-12);
        let cell = 1.0 / l.side as f64;
        chart
            .draw_series(l.cells.iter().enumerate().map(|(i, &(f, basin))| {
                let (row, col) = (i / l.side, i % l.side);
                let (x0, y1) = (col as f64 * cell, 1.0 - row as f64 * cell);
                let colour = match basin {
                    None => RGBColor(245, 245, 245),
                    Some(b) => {
                        let base = basin_colour(b);
                        let t = 0.25 + 0.6 * (f / top).clamp(0.0, 1.0);
                        let mix = |c: u8| (255.0 * (1.0 - t) + c as f64 * t) as u8;
                        RGBColor(mix(base.0), mix(base.1), mix(base.2))
                    }
                };
                Rectangle::new([(x0, y1 - cell), (x0 + cell, y1)], colour.filled())
            }))
            .map_err(err)?;
        for &(x, y) in &l.patterns {
            let ring: Vec<(f64, f64)> = (0..=72)
                .map(|i| {
                    let a = i as f64 * std::f64::consts::TAU / 72.0;
                    (x + l.width * a.cos(), y + l.width * a.sin())
                })
                .collect();
            chart.draw_series(std::iter::once(PathElement::new(ring, BLACK.mix(0.25)))).map_err(err)?;
        }
        chart
            .draw_series(l.patterns.iter().map(|&p| Circle::new(p, 5, BLACK.filled())))
            .map_err(err)?
            .label("stored pattern")
            .legend(|(x, y)| Circle::new((x + 8, y), 5, BLACK.filled()));
        let red = RGBColor(200, 20, 20);
        chart
            .draw_series(l.minima.iter().filter(|m| !m.1).map(|m| Cross::new(m.0, 6, red.stroke_width(3))))
            .map_err(err)?
            .label("emergent minimum")
            .legend(move |(x, y)| Cross::new((x + 8, y), 6, red.stroke_width(3)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    save_rgb(path, w, h, buf)
}
