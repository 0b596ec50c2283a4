//! Model selection inside the graph-classification protocol (as Errica et al. 2020 do): a small
//! grid of settings, each trained on a fold's training part, the one with the best validation
//! figures (accuracy, then the lower loss, then the earlier setting) chosen for that fold, and only
//! the chosen model measured on the fold's test part, once. The candidates are trained by
//! [`train_fold_in`], which returns validation figures and no test figure: nothing of the test
//! part can reach the choice.
//!
//! A grid is JSON: either an object whose values are lists (every combination is a setting),
//! `{"dim": [32, 64], "lr": [0.001, 0.003]}`, or a list of objects (each a setting),
//! `[{"readout": "cls"}, {"readout": "cls-sum", "dim": 32}]`. A key is a field of
//! [`GraphSettings`] (`steps` and `step_size` for the descent); what a file leaves out is the run's
//! setting. Each model is selected over the settings that differ for it: GIN and the MLP ignore the
//! ET's heads, memories, descent and read-out, so those never train them twice.

use std::path::Path;

use burn::tensor::Device;
use serde_json::{Map, Value};

use super::graph_cv::FoldResult;
use super::{relay, Observer, Progress, RunId};
use crate::error::{invalid, Result};
use crate::tasks::graph::classify::{evaluate, train_fold_in, ClassifyEpoch, FoldParts, GraphData};
use crate::tasks::graph::{GraphModel, GraphSettings, ModelKind};
use crate::trainer::Trainer;

/// The most settings a grid may hold: selection multiplies the protocol's time by their number.
pub const MAX_CANDIDATES: usize = 64;

/// Keys a grid may not vary: the data are prepared once per run with them, and every setting is
/// drawn from the run's seed. (The random-walk encodings may vary: the data are prepared once per
/// value the grid names.)
const FIXED: [(&str, &str); 3] = [
    ("encodings", "the Laplacian encodings are computed once per run: compare them in separate runs"),
    ("edge_weights", "the edge labels are prepared once per run: compare them in separate runs"),
    ("seed", "every setting is drawn from the run's seed, so that the choice compares settings, not draws"),
];

/// Whether `a` and `b` agree on every [`FIXED`] key: a grid's setting must agree with its run's.
pub(crate) fn same_fixed(a: &GraphSettings, b: &GraphSettings) -> bool {
    let fixed = |s: &GraphSettings| (s.encodings, s.edge_weights, s.seed);
    fixed(a) == fixed(b)
}

/// The keys only the ET reads: GIN and the MLP are the same model whatever their values (the
/// fields [`as_model_sees`] takes from the reference).
const ET_ONLY: [&str; 9] =
    ["heads", "head_dim", "memories", "steps", "step_size", "readout", "self_loops", "head_betas", "head_mixing"];

/// One setting of a grid: its name in the reports and the settings it gives.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    /// The keys the grid sets, e.g. `dim=32 lr=0.003` (`defaults` when it sets none).
    pub label: String,
    /// The run's settings with the grid's values.
    pub settings: GraphSettings,
    /// The keys the grid sets, with their values as the label shows them.
    pub keys: Vec<(String, String)>,
}

impl Candidate {
    /// The label of the keys that `kind` reads (`defaults` when none).
    pub fn label_for(&self, kind: ModelKind) -> String {
        let keys: Vec<String> = self
            .keys
            .iter()
            .filter(|(k, _)| kind == ModelKind::Et || !ET_ONLY.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if keys.is_empty() {
            "defaults".into()
        } else {
            keys.join(" ")
        }
    }
}

/// The settings to select among on each fold.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SelectionGrid {
    /// In the file's order (an object's combinations: its keys sorted, the last varying fastest).
    pub candidates: Vec<Candidate>,
}

/// A value as a label shows it: strings without quotes.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

impl SelectionGrid {
    /// Reads a grid file (see the module's text) over the run's settings `base`.
    ///
    /// # Errors
    /// A file that cannot be read; what [`SelectionGrid::parse`] refuses, naming the file.
    pub fn read(path: &Path, base: &GraphSettings) -> Result<SelectionGrid> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| invalid("grid file", path.display(), format!("a readable JSON file: {e}")))?;
        SelectionGrid::parse(&text, base)
            .map_err(|e| invalid("grid file", path.display(), format!("a grid of graph settings: {e}")))
    }

    /// A grid from its JSON text over the run's settings `base`.
    ///
    /// # Errors
    /// Text that is not JSON, or neither an object of non-empty lists nor a non-empty list of
    /// objects; a key that is no setting or may not vary ([`FIXED`]); a value of the wrong type or
    /// that the settings refuse (naming the setting); more than [`MAX_CANDIDATES`] settings; two
    /// settings that are the same.
    pub fn parse(text: &str, base: &GraphSettings) -> Result<SelectionGrid> {
        let json: Value = serde_json::from_str(text).map_err(|e| invalid("grid", "not JSON", e.to_string()))?;
        let combos: Vec<Vec<(String, Value)>> = match json {
            Value::Object(map) => {
                let mut combos = vec![Vec::new()];
                for (key, values) in map {
                    let values = match values {
                        Value::Array(v) if !v.is_empty() => v,
                        v => {
                            return Err(invalid(
                                "grid",
                                format!("{key}: {v}"),
                                "a non-empty list of values for each key of an object",
                            ))
                        }
                    };
                    combos = combos
                        .into_iter()
                        .flat_map(|c| {
                            let key = &key;
                            values.iter().map(move |v| {
                                let mut c = c.clone();
                                c.push((key.clone(), v.clone()));
                                c
                            })
                        })
                        .collect();
                    if combos.len() > MAX_CANDIDATES {
                        break;
                    }
                }
                combos
            }
            Value::Array(list) if !list.is_empty() => list
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(map.into_iter().collect()),
                    v => Err(invalid("grid", v, "a list of objects, each a setting")),
                })
                .collect::<Result<_>>()?,
            v => return Err(invalid("grid", v, "an object of lists or a non-empty list of objects")),
        };
        if combos.len() > MAX_CANDIDATES {
            return Err(invalid(
                "grid",
                format!("more than {MAX_CANDIDATES} settings"),
                "a small grid: each setting trains every fold once more",
            ));
        }
        let candidates = combos.into_iter().map(|c| candidate(&c, base)).collect::<Result<Vec<_>>>()?;
        for (i, c) in candidates.iter().enumerate() {
            if let Some(j) = candidates[..i].iter().position(|d| d.settings == c.settings) {
                return Err(invalid(
                    "grid",
                    format!("settings {} ({}) and {} ({})", j + 1, candidates[j].label, i + 1, c.label),
                    "different settings: these two are the same",
                ));
            }
        }
        Ok(SelectionGrid { candidates })
    }

    /// The settings `kind` is selected among: the candidates that differ for it (for GIN and the
    /// MLP, the ET's heads, memories, descent and read-out do not count), each the first of its kind.
    /// Each keeps its settings and is labelled by the keys the model reads.
    pub fn for_model(&self, kind: ModelKind) -> Vec<Candidate> {
        let mut seen: Vec<GraphSettings> = Vec::new();
        let mut out = Vec::new();
        for c in &self.candidates {
            let seen_as = as_model_sees(&c.settings, kind, &self.candidates[0].settings);
            if !seen.contains(&seen_as) {
                seen.push(seen_as);
                out.push(Candidate { label: c.label_for(kind), ..c.clone() });
            }
        }
        out
    }

    /// One line for the log: the settings per model and the training runs they cost over `folds`.
    pub fn describe(&self, models: &[ModelKind], folds: usize) -> String {
        let per: Vec<(ModelKind, usize)> = models.iter().map(|&m| (m, self.for_model(m).len())).collect();
        let runs: usize = per.iter().map(|p| p.1).sum::<usize>() * folds;
        format!(
            "selection on each fold's validation part among {} ({}): {runs} training runs over {folds} folds, {:.1}× \
             the run without a grid",
            per.iter().map(|(m, k)| format!("{k} for {m}")).collect::<Vec<_>>().join(", "),
            self.candidates.iter().map(|c| c.label.as_str()).collect::<Vec<_>>().join(" | "),
            runs as f64 / (models.len() * folds).max(1) as f64
        )
    }
}

/// `s` as model `kind` sees it: for GIN and the MLP, the ET-only settings ([`ET_ONLY`]) taken from
/// `reference`.
fn as_model_sees(s: &GraphSettings, kind: ModelKind, reference: &GraphSettings) -> GraphSettings {
    match kind {
        ModelKind::Et => s.clone(),
        ModelKind::Gin | ModelKind::Mlp => GraphSettings {
            heads: reference.heads,
            head_dim: reference.head_dim,
            memories: reference.memories,
            descent: reference.descent,
            readout: reference.readout,
            self_loops: reference.self_loops,
            head_betas: reference.head_betas,
            head_mixing: reference.head_mixing,
            ..s.clone()
        },
    }
}

/// `base` with the grid's `values` set.
fn candidate(values: &[(String, Value)], base: &GraphSettings) -> Result<Candidate> {
    let mut json = serde_json::to_value(base).map_err(|e| invalid("settings", "unserialisable", e.to_string()))?;
    let fields: &mut Map<String, Value> = json.as_object_mut().expect("settings serialise as an object");
    let known: Vec<String> =
        fields.keys().filter(|k| *k != "descent").cloned().chain(["steps".into(), "step_size".into()]).collect();
    for (key, value) in values {
        if let Some((_, why)) = FIXED.iter().find(|(k, _)| k == key) {
            return Err(invalid("grid key", key, why));
        }
        let slot = match key.as_str() {
            "steps" | "step_size" => &mut fields["descent"][key.as_str()],
            k if known.iter().any(|n| n == k) => &mut fields[k],
            _ => return Err(invalid("grid key", key, format!("one of the graph settings: {}", known.join(", ")))),
        };
        *slot = value.clone();
    }
    let keys: Vec<(String, String)> = values.iter().map(|(k, v)| (k.clone(), show(v))).collect();
    let label = Candidate { label: String::new(), settings: base.clone(), keys: keys.clone() }.label_for(ModelKind::Et);
    let settings: GraphSettings = serde_json::from_value(json)
        .map_err(|e| invalid("grid setting", label.clone(), format!("values of the settings' types: {e}")))?;
    settings.validate().map_err(|e| invalid("grid setting", label.clone(), e.to_string()))?;
    Ok(Candidate { label, settings, keys })
}

/// One candidate's figures on one fold: validation only.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CandidateResult {
    /// 1-based fold.
    pub fold: usize,
    /// The model.
    pub model: ModelKind,
    /// The setting's label.
    pub label: String,
    /// The epoch its validation figures chose.
    pub best_epoch: usize,
    /// Its validation accuracy.
    pub val_accuracy: f64,
    /// Its validation loss.
    pub val_loss: f64,
    /// Seconds of training.
    pub seconds: f64,
    /// Whether the fold chose it.
    pub chosen: bool,
}

/// What selection on one fold gives for one model.
pub(crate) struct Selected {
    /// The chosen model's result, test accuracy measured once.
    pub result: FoldResult,
    /// Every candidate's validation figures.
    pub candidates: Vec<CandidateResult>,
    /// The chosen model and its data (for the picture).
    pub model: GraphModel,
    /// Its standardised data.
    pub data: GraphData,
    /// Its settings.
    pub settings: GraphSettings,
}

/// The run's data prepared once for each number of random-walk steps its grid names.
pub(crate) struct PreparedSets(pub Vec<(usize, GraphData)>);

impl PreparedSets {
    /// The data for `settings`' random-walk steps.
    fn of(&self, settings: &GraphSettings) -> Result<&GraphData> {
        self.0.iter().find(|(k, _)| *k == settings.random_walk).map(|(_, d)| d).ok_or_else(|| {
            invalid("random walk", settings.random_walk, "a number of steps the run prepared its data for")
        })
    }
}

/// Trains every candidate for `model` on `parts.fit`, chooses by validation on `parts.val`, and
/// measures the chosen one on `parts.test`. `id` names the fold and model; each candidate runs as
/// `<model> <i>/<n>`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn select_fold(
    sets: &PreparedSets,
    parts: &FoldParts<'_>,
    model: ModelKind,
    candidates: &[Candidate],
    id: &RunId,
    device: &Device,
    trainer: &Trainer,
    observer: &mut impl Observer<ClassifyEpoch, FoldResult>,
) -> Result<Selected> {
    let started = std::time::Instant::now();
    let mut trained = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let run = RunId { model: format!("{model} {}/{}", i + 1, candidates.len()), ..id.clone() };
        observer.on(Progress::Started(&run));
        let data = sets.of(&c.settings)?;
        let t = train_fold_in(data, parts, model, (&c.settings, device), trainer, None, relay(&run, observer))?;
        trained.push(t);
    }
    // (accuracy, −loss) compared in order; ties keep the earlier setting.
    let best = (0..trained.len())
        .reduce(|b, i| {
            let (x, y) = (&trained[i], &trained[b]);
            if (x.val_accuracy, -x.val_loss) > (y.val_accuracy, -y.val_loss) {
                i
            } else {
                b
            }
        })
        .ok_or_else(|| invalid("grid", "no settings", "at least one setting"))?;
    let figures: Vec<CandidateResult> = trained
        .iter()
        .zip(candidates)
        .enumerate()
        .map(|(i, (t, c))| CandidateResult {
            fold: id.index,
            model,
            label: c.label.clone(),
            best_epoch: t.best_epoch,
            val_accuracy: t.val_accuracy,
            val_loss: t.val_loss,
            seconds: t.seconds,
            chosen: i == best,
        })
        .collect();
    let chosen = trained.swap_remove(best);
    let settings = &candidates[best].settings;
    let (test_accuracy, _) = evaluate(&chosen.model, &chosen.data, parts.test, settings, device)?;
    let result = FoldResult {
        fold: id.index,
        model,
        train_graphs: parts.fit.len(),
        val_graphs: parts.val.len(),
        test_graphs: parts.test.len(),
        best_epoch: chosen.best_epoch,
        val_accuracy: chosen.val_accuracy,
        test_accuracy,
        seconds: started.elapsed().as_secs_f64(),
        history: chosen.history,
        selected: Some(candidates[best].label.clone()),
    };
    observer.on(Progress::Finished(id, &result));
    Ok(Selected { result, candidates: figures, model: chosen.model, data: chosen.data, settings: settings.clone() })
}
