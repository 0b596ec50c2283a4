//! Training the DAM classifier with the recipe of Krotov & Hopfield's public code: mini-batches,
//! momentum on the gradient, each memory's step scaled so that its largest entry moves by exactly
//! the learning rate (the paper's Eq. 13), memories clipped to [−1, 1], the learning rate decayed
//! per epoch.

use hopfield::dam::{argmax, DamClassifier};
use hopfield_data::Dataset;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, positive, Result};

/// Settings, with the paper's defaults in [`DamTrainConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DamTrainConfig {
    /// K.
    pub memories: usize,
    /// n, the degree of F.
    pub n: u32,
    /// m, the loss power 2m.
    pub m: u32,
    /// T (β = 1/T^n); with `temperature_final`, the temperature of the first epoch.
    pub temperature: f64,
    /// The public code's temperature ramp (Temp_in → Temp_f): T moves linearly from `temperature`
    /// at epoch 1 to this at epoch `temperature_ramp + 1` and stays there. None: T is constant.
    #[serde(default)]
    pub temperature_final: Option<f64>,
    /// Length of the ramp in epochs (the public code's thresh_pret, 200).
    #[serde(default = "default_ramp")]
    pub temperature_ramp: usize,
    /// Inputs per update.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Learning rate factor per epoch.
    pub lr_decay: f64,
    /// Momentum on the gradient.
    pub momentum: f64,
    /// Mean and standard deviation of the initial memories (then clipped to [−1, 1]).
    pub init_mean: f64,
    /// See `init_mean`.
    pub init_std: f64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Seed of the initial memories and the shuffling.
    pub seed: u64,
}

fn default_ramp() -> usize {
    200
}

impl Default for DamTrainConfig {
    /// K = 100, n = 20, m = 30, T = 540 (no ramp), batch 1000, lr 0.04 × 0.998 per epoch,
    /// momentum 0.6, memories N(−0.3, 0.3), 300 epochs.
    fn default() -> Self {
        DamTrainConfig {
            memories: 100,
            n: 20,
            m: 30,
            temperature: 540.0,
            temperature_final: None,
            temperature_ramp: default_ramp(),
            batch_size: 1000,
            lr: 0.04,
            lr_decay: 0.998,
            momentum: 0.6,
            init_mean: -0.3,
            init_std: 0.3,
            epochs: 300,
            seed: 0,
        }
    }
}

impl DamTrainConfig {
    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        if self.memories == 0 {
            return Err(invalid("memories", 0, "K must be at least 1"));
        }
        if self.n < 1 {
            return Err(invalid("n", self.n, "the degree of F must be at least 1"));
        }
        if self.m < 1 {
            return Err(invalid("m", self.m, "the loss power 2m needs m ≥ 1"));
        }
        positive("temperature", self.temperature)?;
        if let Some(t) = self.temperature_final {
            positive("temperature-final", t)?;
        }
        if self.temperature_ramp == 0 {
            return Err(invalid("temperature-ramp", 0, "a ramp of at least 1 epoch"));
        }
        if self.batch_size == 0 || self.epochs == 0 {
            return Err(invalid("batch-size/epochs", format!("{}/{}", self.batch_size, self.epochs), "both ≥ 1"));
        }
        for (name, v) in [("lr", self.lr), ("lr-decay", self.lr_decay), ("init-std", self.init_std)] {
            positive(name, v)?;
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(invalid("momentum", self.momentum, "in [0, 1)"));
        }
        Ok(())
    }

    /// T in epoch `epoch` (1-based): the public code's ramp, T_in + (T_f − T_in) · (epoch − 1) / ramp
    /// until epoch ramp + 1, then T_f.
    pub fn temperature_at(&self, epoch: usize) -> f64 {
        let Some(end) = self.temperature_final else { return self.temperature };
        let done = (epoch.saturating_sub(1) as f64 / self.temperature_ramp as f64).min(1.0);
        self.temperature + (end - self.temperature) * done
    }
}

/// Images as visible states in [−1, 1]: 2 · pixel − 1, [B, N].
pub fn visible_states(ds: &Dataset, idx: &[usize]) -> Vec<f32> {
    idx.iter().flat_map(|&i| ds.image(i).into_iter().map(|p| 2.0 * p - 1.0)).collect()
}

/// The fraction of `ds` the classifier gets wrong.
pub fn error_rate(dam: &DamClassifier<f32>, ds: &Dataset) -> Result<f64> {
    let idx: Vec<usize> = (0..ds.len()).collect();
    let mut wrong = 0usize;
    for chunk in idx.chunks(2000) {
        let pred = dam.predict(&visible_states(ds, chunk))?;
        wrong += chunk.iter().zip(pred).filter(|(&i, p)| ds.labels()[i] as usize != *p).count();
    }
    Ok(wrong as f64 / ds.len().max(1) as f64)
}

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DamEpoch {
    /// 1-based.
    pub epoch: usize,
    /// Mean loss per training input.
    pub train_loss: f64,
    /// The fraction of training inputs classified wrong by the memories they met (each input's
    /// outputs come from the same pass as its gradient, before that batch's update), as the public
    /// code's running train error.
    pub train_error: f64,
    /// Test error after the epoch.
    pub test_error: f64,
    /// The epoch's learning rate.
    pub lr: f64,
    /// The epoch's temperature.
    pub temperature: f64,
    /// Seconds the epoch's updates took.
    pub seconds: f64,
}

/// Trains from N(init_mean, init_std) memories; calls `on_epoch` after each epoch.
pub fn train_dam(
    train: &Dataset,
    test: &Dataset,
    cfg: &DamTrainConfig,
    mut on_epoch: impl FnMut(&DamEpoch, &DamClassifier<f32>),
) -> Result<(DamClassifier<f32>, Vec<DamEpoch>)> {
    cfg.validate()?;
    let classes = train.class_names().len().max(2);
    let nv = train.image_len();
    if test.image_len() != nv {
        return Err(invalid("data", test.name(), format!("test images of {nv} values, as the training images")));
    }
    if train.is_empty() || test.is_empty() {
        return Err(invalid("data", train.name(), "a data set with images in both splits"));
    }
    let w = nv + classes;
    let k = cfg.memories;
    let init: Vec<f32> = crate::et_bench::normal_values(cfg.seed, k * w)
        .into_iter()
        .map(|z| (cfg.init_mean as f32 + cfg.init_std as f32 * z).clamp(-1.0, 1.0))
        .collect();
    let mut dam = DamClassifier::new(nv, classes, init, cfg.n, cfg.temperature_at(1))?;
    let mut velocity = vec![0f64; k * w];
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xda3);
    let mut history = Vec::new();
    let mut lr = cfg.lr;
    for epoch in 1..=cfg.epochs {
        let start = std::time::Instant::now();
        dam.temperature = cfg.temperature_at(epoch);
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let mut loss = 0.0;
        let mut wrong = 0usize;
        for chunk in order.chunks(cfg.batch_size) {
            let v = visible_states(train, chunk);
            let labels: Vec<usize> = chunk.iter().map(|&i| train.labels()[i] as usize).collect();
            let r = dam.loss_and_grad(&v, &labels, cfg.m)?;
            if !r.loss.is_finite() {
                return Err(invalid("loss", r.loss, format!("a finite loss; it diverged in epoch {epoch}")));
            }
            loss += r.loss;
            wrong += r.outputs.chunks(classes).zip(&labels).filter(|(row, &l)| argmax(row) != l).count();
            for (vel, g) in velocity.iter_mut().zip(&r.grad) {
                *vel = cfg.momentum * *vel - g;
            }
            // Eq. 13: each memory moves so that its largest entry changes by exactly lr.
            for (row, vel) in dam.memories.chunks_mut(w).zip(velocity.chunks(w)) {
                let peak = vel.iter().fold(0f64, |a, v| a.max(v.abs()));
                if peak > 0.0 {
                    for (x, v) in row.iter_mut().zip(vel) {
                        *x = (*x as f64 + lr * v / peak).clamp(-1.0, 1.0) as f32;
                    }
                }
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let e = DamEpoch {
            epoch,
            train_loss: loss / train.len() as f64,
            train_error: wrong as f64 / train.len() as f64,
            test_error: error_rate(&dam, test)?,
            lr,
            temperature: dam.temperature,
            seconds,
        };
        on_epoch(&e, &dam);
        history.push(e);
        lr *= cfg.lr_decay;
    }
    Ok((dam, history))
}

/// The format tag of a DAM checkpoint's `config.json`.
pub const DAM_FORMAT: &str = "hopfield-dam/1";

/// A DAM checkpoint's `config.json`; the memories are `memories.npy` ([K, N + C], f32) beside it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DamMeta {
    /// Always [`DAM_FORMAT`].
    pub format: String,
    /// The training settings.
    pub train: DamTrainConfig,
    /// C, H, W of the images (N = C·H·W visible neurons).
    pub image: (usize, usize, usize),
    /// Class neurons.
    pub classes: usize,
    /// Epochs trained.
    pub epoch: usize,
    /// Test error after the last epoch.
    pub test_error: f64,
    /// The data set trained on.
    pub data: String,
}

fn bad_dam(path: &std::path::Path, problem: impl std::fmt::Display) -> crate::error::TrainError {
    invalid("checkpoint", path.display(), format!("a hopfield DAM checkpoint folder: {problem}"))
}

/// Writes `memories.npy` and `config.json` into `dir`, atomically.
pub fn save_dam(dir: &std::path::Path, dam: &DamClassifier<f32>, meta: &DamMeta) -> Result<()> {
    crate::et_checkpoint::save_folder(dir, |tmp| {
        let mem = tmp.join("memories.npy");
        hopfield_data::npy::write_npy(&mem, &[dam.count(), dam.visible + dam.classes], &dam.memories)?;
        let cfg = tmp.join("config.json");
        crate::et_checkpoint::write_json(&cfg, meta)?;
        Ok(vec![mem, cfg])
    })
}

/// Reads a DAM checkpoint folder; every problem is an error naming the file.
pub fn load_dam(dir: &std::path::Path) -> Result<(DamClassifier<f32>, DamMeta)> {
    let (cfg, meta): (_, DamMeta) = crate::et_checkpoint::read_meta(dir, "DAM configuration", bad_dam)?;
    if meta.format != DAM_FORMAT {
        return Err(bad_dam(&cfg, format!("format '{}', expected '{DAM_FORMAT}'", meta.format)));
    }
    let mem = dir.join("memories.npy");
    let a = hopfield_data::npy::read_npy(&mem).map_err(|e| bad_dam(&mem, e))?;
    let (c, h, w) = meta.image;
    let width = c * h * w + meta.classes;
    if a.shape != [meta.train.memories, width] {
        return Err(bad_dam(&mem, format!("shape {:?}, config.json says [{}, {width}]", a.shape, meta.train.memories)));
    }
    let t = meta.train.temperature_at(meta.epoch.max(1));
    let dam = DamClassifier::new(c * h * w, meta.classes, a.data, meta.train.n, t)?;
    Ok((dam, meta))
}

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
    let pics: Vec<crate::pictures::Picture> = dam
        .memories
        .chunks(width)
        .take(count.max(1))
        .map(|row| crate::pictures::Picture {
            channels: c,
            height: h,
            width: w,
            values: row[..dam.visible].iter().map(|x| (x + 1.0) / 2.0).collect(),
        })
        .collect();
    let rows: Vec<Vec<crate::pictures::Picture>> = pics.chunks(per_row.max(1)).map(|r| r.to_vec()).collect();
    crate::pictures::write_grid(path, &rows, &[], 40)
}

/// The running train error and the test error per epoch, in percent on a log axis.
pub fn write_dam_errors(history: &[DamEpoch], title: &str, path: &std::path::Path) -> Result<()> {
    use crate::pictures::{Corner, LinePlot, Mark, Series};
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
