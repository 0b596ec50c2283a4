//! The graph tasks' pictures: graphs drawn with each node coloured by the attention the CLS token
//! pays it, the anomaly scores of normal and anomalous test nodes, and beside each the energy over
//! the descent.

use std::path::Path;

use burn::tensor::{Device, Tensor};
use hopfield::et::{GraphEnergyTransformer, GraphOutput, Observe};
use hopfield::linalg::argmax;
use plotters::prelude::*;

use super::{register_font, save_rgb, write_err};
use crate::error::Result;
use crate::tasks::graph::anomaly::{AnomalyData, AnomalyOutcome, EgoSettings, NodeSplit};
use crate::tasks::graph::classify::GraphData;
use crate::tasks::graph::outlier::{centre_errors, UnlabelledGraph};
use crate::tasks::graph::{make_batch, rows, GraphModel, GraphSettings, PreparedGraph};
use crate::trainer::values;

/// A trained graph model with the data as it saw it and the graphs it was tested on: what the
/// attention picture draws.
pub struct FoldModel {
    /// The chosen model (plain device).
    pub model: GraphModel,
    /// The data standardised as for its training.
    pub data: GraphData,
    /// The graphs of its test part.
    pub test: Vec<usize>,
}

/// A node anomaly run's chosen model, its data and split: what the scores picture draws.
pub struct SeedModel {
    /// The run's outcome (its test scores among them).
    pub outcome: AnomalyOutcome,
    /// The graph standardised as for its training.
    pub data: AnomalyData,
    /// Its training, validation and test nodes.
    pub split: NodeSplit,
}

/// The ET's forward pass with its energy trace on `graphs` (no sign flips), or `None` for the MLP.
fn observe<'m>(
    model: &'m GraphModel,
    graphs: &[&PreparedGraph],
    (width, k, edge_labels): (usize, usize, usize),
    settings: &GraphSettings,
    device: &Device,
) -> Result<Option<(&'m GraphEnergyTransformer, GraphOutput)>> {
    let GraphModel::Et(et) = model else { return Ok(None) };
    let b = make_batch(graphs, width, k, edge_labels, None, device)?;
    Ok(Some((et, et.forward(b, &settings.descent, Observe::Energy)?)))
}

/// E(g(x_t)) of every graph of a batch, per step: `[t][graph]`.
fn energies(out: &GraphOutput) -> Result<Vec<Vec<f64>>> {
    out.energy.iter().map(|e: &Tensor<1>| values(e.clone(), "energies")).collect()
}

/// `attention.png` of `graph classify`: four test graphs of a fold (two of each of the first two
/// classes where there are), each node coloured by the attention the CLS token pays it after the
/// descent, titled with the true and the predicted class, and their energies over the steps.
/// Nothing is drawn for the MLP; returns whether a picture was written.
///
/// # Errors
/// Shapes that disagree with the model; the file cannot be written.
pub fn write_fold_attention(
    fold: &FoldModel,
    class_values: &[i64],
    settings: &GraphSettings,
    title: &str,
    path: &Path,
    device: &Device,
) -> Result<bool> {
    let FoldModel { model, data, test } = fold;
    let mut pick: Vec<usize> = Vec::new();
    for c in 0..2 {
        pick.extend(test.iter().copied().filter(|&g| data.labels[g] == c).take(2));
    }
    let graphs: Vec<&PreparedGraph> = pick.iter().map(|&g| &data.graphs[g]).collect();
    let sizes = (data.width, data.k, data.edge_labels);
    let Some((et, out)) = observe(model, &graphs, sizes, settings, device)?.filter(|_| !pick.is_empty()) else {
        return Ok(false);
    };
    let n = out.tokens.dims()[1] - 1;
    let attention = values(et.cls_attention(&out), "CLS attention")?;
    let (logits, energy) = (rows(out.logits.clone())?, energies(&out)?);
    let mut panels = Vec::new();
    let mut traces = Vec::new();
    for (i, &g) in pick.iter().enumerate() {
        let (truth, predicted) = (class_values[data.labels[g]], class_values[argmax(&logits[i])]);
        panels.push(GraphPanel {
            title: format!("graph {g} (class {truth}, predicted {predicted})"),
            nodes: graphs[i].nodes,
            edges: graphs[i].edges.clone(),
            values: attention[i * n..i * n + graphs[i].nodes].to_vec(),
        });
        traces.push((format!("graph {g}"), energy.iter().map(|e| e[i]).collect()));
    }
    write_graph_attention(&panels, &traces, title, path)?;
    Ok(true)
}

/// `scores.png` of `graph anomaly`: the test scores of a run, normal against anomalous, and the
/// ET's mean energy over the steps on 16 normal and 16 anomalous test ego-graphs.
///
/// # Errors
/// Shapes that disagree with the model; the file cannot be written.
pub fn write_anomaly_scores(
    seed: &SeedModel,
    ego: EgoSettings,
    settings: &GraphSettings,
    title: &str,
    path: &Path,
    device: &Device,
) -> Result<()> {
    let SeedModel { outcome: run, data, split } = seed;
    let of_class = |want: bool| {
        let scored = split.test.iter().zip(&run.test_scores);
        scored.filter(|(&c, _)| data.labels[c as usize] == want).map(|(_, &s)| s).collect::<Vec<f64>>()
    };
    let mut traces = Vec::new();
    for (name, want) in [("normal test nodes (mean)", false), ("anomalous test nodes (mean)", true)] {
        let centres = split.test.iter().copied().filter(|&c| data.labels[c as usize] == want).take(16);
        let graphs: Vec<PreparedGraph> =
            centres.map(|c| data.fixed(c, ego, settings.encodings, settings.seed)).collect();
        let refs: Vec<&PreparedGraph> = graphs.iter().collect();
        let sizes = (data.dim, settings.encodings, settings.edge_weights as usize);
        if let Some((_, out)) = observe(&run.model, &refs, sizes, settings, device)? {
            let mean = energies(&out)?.iter().map(|e| e.iter().sum::<f64>() / e.len().max(1) as f64).collect();
            traces.push((name.to_string(), mean));
        }
    }
    let (normal, anomalous) = (of_class(false), of_class(true));
    write_score_histogram((&normal, &anomalous), &ScoreAxis::probability(), (&traces, None), title, path)
}

/// The ET detector of an unsupervised run with the graph it scored: what its picture draws.
pub struct OutlierPicture {
    /// The reconstruction model (plain device).
    pub model: GraphEnergyTransformer,
    /// The graph as it saw it.
    pub graph: UnlabelledGraph,
    /// Its ego-graphs.
    pub ego: EgoSettings,
    /// Its settings (seed, descent, encodings).
    pub settings: GraphSettings,
}

/// `scores.png` of the unsupervised `graph anomaly`: histograms of log₁₀ of the ET's
/// reconstruction error of every node, normal against anomalous (`labels`, read only here), and
/// the energy per token over the descent of four nodes of each kind (the first by index).
///
/// # Errors
/// Shapes that disagree with the model; the file cannot be written.
pub fn write_outlier_scores(
    p: &OutlierPicture,
    errors: &[f64],
    labels: &[bool],
    title: &str,
    path: &Path,
    device: &Device,
) -> Result<()> {
    let logs: Vec<f64> = errors.iter().map(|e| e.max(1e-12).log10()).collect();
    let of = |want: bool| logs.iter().zip(labels).filter(|(_, &l)| l == want).map(|(&v, _)| v).collect::<Vec<f64>>();
    let (normal, anomalous) = (of(false), of(true));
    let (lo, hi) = logs.iter().fold((f64::MAX, f64::MIN), |a, &v| (a.0.min(v), a.1.max(v)));
    let (lo, hi) = if lo < hi { (lo, hi + 1e-9) } else { (lo - 0.5, lo + 0.5) };
    let mut pick: Vec<u32> = Vec::new();
    let mut classes = Vec::new();
    for want in [false, true] {
        let nodes = (0..labels.len() as u32).filter(|&i| labels[i as usize] == want).take(4);
        for n in nodes {
            pick.push(n);
            classes.push(want as usize);
        }
    }
    let (_, energy) = centre_errors(&p.model, &p.graph, &pick, p.ego, &p.settings, device)?;
    let traces: Vec<(String, Vec<f64>)> = classes
        .iter()
        .zip(energy)
        .map(|(&c, e)| (format!("{} nodes (4 shown; E per token)", if c == 1 { "anomalous" } else { "normal" }), e))
        .collect();
    let axis = ScoreAxis {
        lo,
        hi,
        label: "log10 reconstruction error (node masked, from its ego-graph)".into(),
        caption: "ET anomaly scores of all nodes".into(),
    };
    write_score_histogram((&normal, &anomalous), &axis, (&traces, Some(&classes)), title, path)
}

/// One graph to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphPanel {
    /// Caption.
    pub title: String,
    /// Nodes.
    pub nodes: usize,
    /// Edges (either direction).
    pub edges: Vec<(u32, u32)>,
    /// A value per node for its colour (the CLS attention).
    pub values: Vec<f64>,
}

/// Node positions by Fruchterman–Reingold (force-directed) from a circle, in [0, 1]²: the same
/// graph always gets the same drawing.
pub fn layout(nodes: usize, edges: &[(u32, u32)]) -> Vec<(f64, f64)> {
    use std::f64::consts::TAU;
    let mut p: Vec<(f64, f64)> =
        (0..nodes).map(|i| ((TAU * i as f64 / nodes as f64).cos(), (TAU * i as f64 / nodes as f64).sin())).collect();
    if nodes < 2 {
        return vec![(0.5, 0.5); nodes];
    }
    let k = (4.0 / nodes as f64).sqrt();
    let mut temp = 0.2;
    for _ in 0..300 {
        let mut disp = vec![(0.0, 0.0); nodes];
        for i in 0..nodes {
            for j in 0..nodes {
                if i != j {
                    let (dx, dy) = (p[i].0 - p[j].0, p[i].1 - p[j].1);
                    let d2 = (dx * dx + dy * dy).max(1e-6);
                    disp[i].0 += dx * k * k / d2;
                    disp[i].1 += dy * k * k / d2;
                }
            }
        }
        for &(u, v) in edges {
            let (u, v) = (u as usize, v as usize);
            if u == v || u >= nodes || v >= nodes {
                continue;
            }
            let (dx, dy) = (p[u].0 - p[v].0, p[u].1 - p[v].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-3);
            let f = d / k; // attraction d²/k along the unit vector, halved per direction listed
            disp[u].0 -= dx * f * 0.5;
            disp[u].1 -= dy * f * 0.5;
            disp[v].0 += dx * f * 0.5;
            disp[v].1 += dy * f * 0.5;
        }
        for i in 0..nodes {
            let len = (disp[i].0 * disp[i].0 + disp[i].1 * disp[i].1).sqrt().max(1e-9);
            let s = len.min(temp) / len;
            p[i].0 += disp[i].0 * s;
            p[i].1 += disp[i].1 * s;
        }
        temp *= 0.985;
    }
    let (x0, x1) = p.iter().fold((f64::MAX, f64::MIN), |a, q| (a.0.min(q.0), a.1.max(q.0)));
    let (y0, y1) = p.iter().fold((f64::MAX, f64::MIN), |a, q| (a.0.min(q.1), a.1.max(q.1)));
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    p.iter()
        .map(|q| {
            ((q.0 - x0) / span + (span - (x1 - x0)) / span / 2.0, (q.1 - y0) / span + (span - (y1 - y0)) / span / 2.0)
        })
        .collect()
}

/// A colour from pale yellow (0) to dark red (1).
fn heat(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(lerp(255.0, 165.0), lerp(240.0, 15.0), lerp(170.0, 21.0))
}

fn draw_graph(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    g: &GraphPanel,
    path: &Path,
) -> Result<()> {
    let err = |e| write_err(path, e);
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(g.title.clone(), (8, 6), ("sans-serif", 16))).map_err(err)?;
    let pos = layout(g.nodes, &g.edges);
    let (mx, my, top) = (24.0, 24.0, 30.0);
    let px = |q: (f64, f64)| {
        ((mx + q.0 * (w as f64 - 2.0 * mx)) as i32, (top + my / 2.0 + q.1 * (h as f64 - top - 1.5 * my)) as i32)
    };
    for &(u, v) in &g.edges {
        if (u as usize) < g.nodes && (v as usize) < g.nodes {
            area.draw(&PathElement::new(
                vec![px(pos[u as usize]), px(pos[v as usize])],
                BLACK.mix(0.35).stroke_width(2),
            ))
            .map_err(err)?;
        }
    }
    let top_value = g.values.iter().copied().fold(0.0f64, f64::max).max(1e-12);
    for (i, &q) in pos.iter().enumerate() {
        let c = heat(g.values.get(i).copied().unwrap_or(0.0) / top_value);
        area.draw(&Circle::new(px(q), 8, c.filled())).map_err(err)?;
        area.draw(&Circle::new(px(q), 8, BLACK.mix(0.6).stroke_width(1))).map_err(err)?;
    }
    Ok(())
}

/// The energy traces, each in its own colour, or (`classes`) in its class's colour with one legend
/// entry per class (the first trace of the class names it).
fn draw_energy(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    traces: &[(String, Vec<f64>)],
    classes: Option<&[usize]>,
    path: &Path,
) -> Result<()> {
    let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| write_err(path, e);
    let steps = traces.iter().map(|t| t.1.len()).max().unwrap_or(1).max(2);
    let vals = traces.iter().flat_map(|t| t.1.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = vals.fold((f64::MAX, f64::MIN), |a, v| (a.0.min(v), a.1.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(1e-6 * hi.abs().max(1.0));
    let mut chart = ChartBuilder::on(area)
        .caption("energy E over the descent", ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..(steps - 1) as f64, (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart.configure_mesh().x_desc("step t").y_desc("E").label_style(("sans-serif", 12)).draw().map_err(err)?;
    for (i, (name, t)) in traces.iter().enumerate() {
        let class = classes.map_or(i, |c| c[i]);
        let c = super::palette(class);
        let series = chart
            .draw_series(LineSeries::new(t.iter().enumerate().map(|(s, &e)| (s as f64, e)), c.stroke_width(2)))
            .map_err(err)?;
        if classes.is_none_or(|c| c[..i].iter().all(|&k| k != class)) {
            series
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        }
    }
    legend(&mut chart, path)
}

/// The series labels of a chart, in the graph pictures' style.
fn legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    path: &Path,
) -> Result<()> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(|e| write_err(path, e))
}

/// Graphs in a row, nodes coloured by their value (pale: none, dark red: the graph's largest), and
/// the energy traces beside them.
pub fn write_graph_attention(
    panels: &[GraphPanel],
    traces: &[(String, Vec<f64>)],
    title: &str,
    path: &Path,
) -> Result<()> {
    register_font();
    let (cell, (w, h)) = (300u32, (300 * panels.len().max(1) as u32 + 420, 360u32));
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| write_err(path, e))?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(|e| write_err(path, e))?;
        let (graphs, energy) = root.split_horizontally(cell * panels.len() as u32);
        let cols = graphs.split_evenly((1, panels.len().max(1)));
        for (g, a) in panels.iter().zip(&cols) {
            draw_graph(a, g, path)?;
        }
        draw_energy(&energy, traces, None, path)?;
        root.present().map_err(|e| write_err(path, e))?;
    }
    save_rgb(path, w, h, buf)
}

/// Energy traces (a name and E per step each) and, optionally, each trace's class (its colour).
pub type Traces<'a> = (&'a [(String, Vec<f64>)], Option<&'a [usize]>);

/// The x axis of a score histogram: its range and its words.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreAxis {
    /// Left end.
    pub lo: f64,
    /// Right end.
    pub hi: f64,
    /// What a score is.
    pub label: String,
    /// The panel's caption.
    pub caption: String,
}

impl ScoreAxis {
    /// Probabilities of an anomaly in [0, 1] (the supervised models' scores).
    pub fn probability() -> ScoreAxis {
        ScoreAxis {
            lo: 0.0,
            hi: 1.0,
            label: "score (probability of an anomaly)".into(),
            caption: "test anomaly scores".into(),
        }
    }
}

/// Histograms of the anomaly scores of normal and anomalous nodes (each normalised to its own
/// count, 20 bins over the axis' range) and the energy traces beside them (coloured by `classes`
/// when given: 0 normal, 1 anomalous).
pub fn write_score_histogram(
    (normal, anomalous): (&[f64], &[f64]),
    axis: &ScoreAxis,
    (traces, classes): Traces<'_>,
    title: &str,
    path: &Path,
) -> Result<()> {
    register_font();
    let (w, h) = (1020u32, 400u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| write_err(path, e))?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(|e| write_err(path, e))?;
        let (left, right) = root.split_horizontally(600);
        let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| write_err(path, e);
        let bins = 20usize;
        let (lo, hi) = (axis.lo, if axis.hi > axis.lo { axis.hi } else { axis.lo + 1.0 });
        let at = |v: f64| (v.clamp(lo, hi) - lo) / (hi - lo);
        let hist = |s: &[f64]| {
            let mut c = vec![0f64; bins];
            s.iter().for_each(|&v| c[((at(v) * bins as f64) as usize).min(bins - 1)] += 1.0);
            let n = s.len().max(1) as f64;
            c.into_iter().map(|x| x / n).collect::<Vec<_>>()
        };
        let (hn, ha) = (hist(normal), hist(anomalous));
        let top = hn.iter().chain(&ha).copied().fold(0.0, f64::max).max(1e-3) * 1.1;
        let mut chart = ChartBuilder::on(&left)
            .caption(axis.caption.as_str(), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(lo..hi, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(axis.label.as_str())
            .y_desc("share of the class's nodes")
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        for (i, (name, hgt, n)) in
            [("normal", &hn, normal.len()), ("anomalous", &ha, anomalous.len())].iter().enumerate()
        {
            let c = super::palette(i);
            let half = 0.5 * (hi - lo) / bins as f64;
            chart
                .draw_series(hgt.iter().enumerate().map(|(b, &v)| {
                    let x0 = lo + (hi - lo) * b as f64 / bins as f64 + i as f64 * half;
                    Rectangle::new([(x0, 0.0), (x0 + half, v)], c.mix(0.8).filled())
                }))
                .map_err(err)?
                .label(format!("{name} ({n})"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        }
        legend(&mut chart, path)?;
        draw_energy(&right, traces, classes, path)?;
        root.present().map_err(|e| write_err(path, e))?;
    }
    save_rgb(path, w, h, buf)
}
