//! Training the DAM classifier with the recipe of Krotov & Hopfield's public code: mini-batches,
//! momentum on the gradient, each memory's step scaled so that its largest entry moves by exactly
//! the learning rate (the paper's Eq. 13), memories clipped to [−1, 1], the learning rate decayed
//! per epoch.

use hopfield::dam::DamClassifier;
use hopfield::linalg::argmax;
use hopfield_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::checkpoint::{checkpoint_error, read_config, resolve, save_folder, write_json};
use crate::error::{invalid, positive, Result};
use crate::trainer::{EpochFigures, EpochSummary, Event, Iteration, Plan, StepResult, Task, Trainer};

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
        if self.n < 1 || self.n > hopfield::memory::MAX_DEGREE {
            return Err(invalid(
                "n",
                self.n,
                "the degree of F must be between 1 and 1000 (beyond it every output under- or overflows f64)",
            ));
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
        if self.lr > 2.0 {
            return Err(invalid(
                "lr",
                self.lr,
                "at most 2: a memory's largest entry moves by exactly lr and every entry lies in [−1, 1]",
            ));
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
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
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

/// The memories and the update rule's state while training: the momentum, the learning rate of
/// the current epoch and the shuffling stream (one stream over the whole run, as the public code).
#[derive(Debug, Clone)]
pub struct DamState {
    /// The classifier (its temperature is the current epoch's).
    pub dam: DamClassifier<f32>,
    /// The momentum of every memory entry, [K, N + C].
    pub velocity: Vec<f64>,
    /// The learning rate of the next epoch.
    pub lr: f64,
    /// The shuffling generator, carried from epoch to epoch.
    pub rng: ChaCha8Rng,
}

/// The DAM classifier's training on a data set's train and test splits.
pub struct DamClassifierTask<'a> {
    train: &'a Dataset,
    test: &'a Dataset,
    cfg: DamTrainConfig,
    classes: usize,
    data: String,
}

impl<'a> DamClassifierTask<'a> {
    /// The task on `train` and `test`, named `data` in checkpoints.
    ///
    /// # Errors
    /// Invalid settings; empty splits; test images of another size than the training images.
    pub fn new(train: &'a Dataset, test: &'a Dataset, cfg: &DamTrainConfig, data: &str) -> Result<Self> {
        cfg.validate()?;
        let nv = train.image_len();
        if test.image_len() != nv {
            return Err(invalid("data", test.name(), format!("test images of {nv} values, as the training images")));
        }
        if train.is_empty() || test.is_empty() {
            return Err(invalid("data", train.name(), "a data set with images in both splits"));
        }
        let classes = train.class_names().len().max(2);
        use crate::budget::product;
        let (k, w, b) = (cfg.memories as u128, (nv + classes) as u128, cfg.batch_size.min(train.len()) as u128);
        // Memories (f32), momentum and gradient (f64), and the batch's K-wide f64 intermediates.
        let need = product(&[k, w, 20]).and_then(|a| a.checked_add(product(&[b, k, 8, 6])?));
        crate::budget::check(
            &format!("the DAM classifier with K = {} memories of {} neurons", cfg.memories, nv + classes),
            need,
        )?;
        Ok(DamClassifierTask { train, test, cfg: cfg.clone(), classes, data: data.into() })
    }

    /// The state before the first epoch: N(init_mean, init_std) memories clipped to [−1, 1].
    pub fn initial_state(&self) -> Result<DamState> {
        let (k, w) = (self.cfg.memories, self.train.image_len() + self.classes);
        let init: Vec<f32> = hopfield::init::normal_values(self.cfg.seed, k * w)
            .into_iter()
            .map(|z| (self.cfg.init_mean as f32 + self.cfg.init_std as f32 * z).clamp(-1.0, 1.0))
            .collect();
        let dam =
            DamClassifier::new(self.train.image_len(), self.classes, init, self.cfg.n, self.cfg.temperature_at(1))?;
        Ok(DamState {
            dam,
            velocity: vec![0f64; k * w],
            lr: self.cfg.lr,
            rng: ChaCha8Rng::seed_from_u64(self.cfg.seed ^ 0xda3),
        })
    }
}

impl Task for DamClassifierTask<'_> {
    type State = DamState;
    type Epoch = DamEpoch;

    fn plan(&self) -> Plan {
        Plan { examples: self.train.len(), batch_size: self.cfg.batch_size, epochs: self.cfg.epochs }
    }
    fn epoch_rng(&self, state: &DamState, _: usize) -> ChaCha8Rng {
        state.rng.clone()
    }

    fn step(
        &self,
        mut s: DamState,
        batch: &[usize],
        _: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(DamState, StepResult)> {
        s.dam.temperature = self.cfg.temperature_at(at.epoch);
        let w = s.dam.visible + s.dam.classes;
        let v = visible_states(self.train, batch);
        let labels: Vec<usize> = batch.iter().map(|&i| self.train.labels()[i] as usize).collect();
        let r = s.dam.loss_and_grad(&v, &labels, self.cfg.m)?;
        let wrong = r.outputs.chunks(self.classes).zip(&labels).filter(|(row, &l)| argmax(row) != l).count();
        if !r.loss.is_finite() {
            return Ok((s, StepResult { loss: r.loss, wrong }));
        }
        for (vel, g) in s.velocity.iter_mut().zip(&r.grad) {
            *vel = self.cfg.momentum * *vel - g;
        }
        // Eq. 13: each memory moves so that its largest entry changes by exactly lr.
        for (row, vel) in s.dam.memories.chunks_mut(w).zip(s.velocity.chunks(w)) {
            let peak = vel.iter().fold(0f64, |a, v| a.max(v.abs()));
            if peak > 0.0 {
                for (x, v) in row.iter_mut().zip(vel) {
                    *x = (*x as f64 + s.lr * v / peak).clamp(-1.0, 1.0) as f32;
                }
            }
        }
        Ok((s, StepResult { loss: r.loss, wrong }))
    }

    fn finish_epoch(&self, s: &mut DamState, sum: EpochSummary, rng: ChaCha8Rng) -> Result<DamEpoch> {
        s.rng = rng;
        s.dam.temperature = self.cfg.temperature_at(sum.epoch);
        let e = DamEpoch {
            epoch: sum.epoch,
            train_loss: sum.loss_sum / sum.examples as f64,
            train_error: sum.wrong as f64 / sum.examples as f64,
            test_error: error_rate(&s.dam, self.test)?,
            lr: s.lr,
            temperature: s.dam.temperature,
            seconds: sum.seconds,
        };
        s.lr *= self.cfg.lr_decay;
        Ok(e)
    }

    fn save(&self, s: &DamState, e: &DamEpoch, dir: &std::path::Path) -> Result<()> {
        let meta = DamMeta {
            format: DAM_FORMAT.into(),
            train: self.cfg.clone(),
            image: (self.train.channels(), self.train.height(), self.train.width()),
            classes: self.classes,
            epoch: e.epoch,
            test_error: e.test_error,
            data: self.data.clone(),
            resume: Some(DamResumeState { lr: s.lr, rng_word_pos: s.rng.get_word_pos().to_string() }),
        };
        save_dam(dir, &s.dam, &meta, Some(&s.velocity))
    }

    fn describe(&self) -> String {
        " of the DAM classifier".into()
    }
}

/// Trains from N(init_mean, init_std) memories — or continues `resume` (a state after
/// `epochs_done` epochs) — with `trainer`'s checkpoint and metrics; calls `on_epoch` after each
/// epoch. A resumed run gives bit for bit the memories of an uninterrupted one.
pub fn train_dam(
    train: &Dataset,
    test: &Dataset,
    cfg: &DamTrainConfig,
    data: &str,
    resume: Option<(DamState, usize)>,
    trainer: &Trainer,
    mut on_epoch: impl FnMut(&DamEpoch),
) -> Result<(DamClassifier<f32>, Vec<DamEpoch>)> {
    let task = DamClassifierTask::new(train, test, cfg, data)?;
    let (state, done) = match resume {
        Some(r) => r,
        None => (task.initial_state()?, 0),
    };
    let (state, history) = trainer.run(&task, state, done, |e| {
        if let Event::Epoch(e) = e {
            on_epoch(e)
        }
    })?;
    Ok((state.dam, history))
}

impl DamEpoch {
    /// An epoch's figures from its `metrics.csv` line ([`EpochFigures::csv_row`]); `None` for
    /// another line.
    pub fn from_csv_row(line: &str) -> Option<Self> {
        let f: Vec<&str> = line.split(',').collect();
        let x = |i: usize| f.get(i)?.parse::<f64>().ok();
        Some(DamEpoch {
            epoch: f.first()?.parse().ok()?,
            train_loss: x(1)?,
            train_error: x(2)?,
            test_error: x(3)?,
            lr: x(4)?,
            temperature: x(5)?,
            seconds: x(6)?,
        })
    }
}

impl EpochFigures for DamEpoch {
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn csv_header() -> &'static str {
        "epoch,train_loss,train_error,test_error,lr,temperature,seconds"
    }
    fn csv_row(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.4},{:.3}",
            self.epoch, self.train_loss, self.train_error, self.test_error, self.lr, self.temperature, self.seconds
        )
    }
}

/// The format tag of a DAM checkpoint's `config.json`.
pub const DAM_FORMAT: &str = "hopfield-dam/1";

/// What a DAM run needs besides the memories to continue exactly where it stopped.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DamResumeState {
    /// The learning rate of the next epoch.
    pub lr: f64,
    /// The shuffling stream's position (ChaCha8 word position, a decimal u128).
    pub rng_word_pos: String,
}

/// A DAM checkpoint's `config.json`; the memories are `memories.npy` ([K, N + C], f32) beside it,
/// and, in checkpoints written by training, the momentum `velocity.npy` ([K, N + C], f64).
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
    /// The state a resumed run needs (absent in checkpoints written before runs could resume).
    #[serde(default)]
    pub resume: Option<DamResumeState>,
}

fn bad_dam(path: &std::path::Path, problem: impl std::fmt::Display) -> crate::error::TrainError {
    checkpoint_error(path, format!("{problem} (a hopfield DAM checkpoint folder is expected)"), None)
}

/// Writes `memories.npy`, `config.json` and, when given, the momentum `velocity.npy` into `dir`;
/// a kill at any instant leaves the old or the new checkpoint.
pub fn save_dam(
    dir: &std::path::Path,
    dam: &DamClassifier<f32>,
    meta: &DamMeta,
    velocity: Option<&[f64]>,
) -> Result<()> {
    save_folder(dir, |tmp| write_dam_files(tmp, dam, meta, velocity))
}

/// The files of a DAM checkpoint, written into the folder `tmp`; returns their paths.
pub fn write_dam_files(
    tmp: &std::path::Path,
    dam: &DamClassifier<f32>,
    meta: &DamMeta,
    velocity: Option<&[f64]>,
) -> Result<Vec<std::path::PathBuf>> {
    let shape = [dam.count(), dam.visible + dam.classes];
    let mem = tmp.join("memories.npy");
    hopfield_data::npy::write_npy(&mem, &shape, &dam.memories)?;
    let cfg = tmp.join("config.json");
    write_json(&cfg, meta)?;
    let mut files = vec![mem, cfg];
    if let Some(v) = velocity {
        let path = tmp.join(VELOCITY);
        hopfield_data::npy::write_npy_f64(&path, &shape, v)?;
        files.push(path);
    }
    Ok(files)
}

/// The momentum's file name inside a DAM checkpoint folder.
pub const VELOCITY: &str = "velocity.npy";

/// Reads a DAM checkpoint folder; every problem is an error naming the file.
pub fn load_dam(dir: &std::path::Path) -> Result<(DamClassifier<f32>, DamMeta)> {
    let (folder, meta): (_, DamMeta) = read_config(dir, "DAM configuration")?;
    let cfg = folder.join("config.json");
    if meta.format != DAM_FORMAT {
        return Err(bad_dam(&cfg, format!("format '{}', expected '{DAM_FORMAT}'", meta.format)));
    }
    let mem = folder.join("memories.npy");
    let a = hopfield_data::npy::read_npy(&mem).map_err(|e| bad_dam(&mem, e))?;
    let (c, h, w) = meta.image;
    let width = c * h * w + meta.classes;
    if a.shape != [meta.train.memories, width] {
        return Err(bad_dam(&mem, format!("shape {:?}, config.json says [{}, {width}]", a.shape, meta.train.memories)));
    }
    if let Some((i, v)) = a.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(bad_dam(&mem, format!("entry {i} is {v}; the memories must be finite")));
    }
    meta.train.validate().map_err(|e| bad_dam(&cfg, format!("an invalid configuration: {e}")))?;
    let t = meta.train.temperature_at(meta.epoch.max(1));
    let dam = DamClassifier::new(c * h * w, meta.classes, a.data, meta.train.n, t)?;
    Ok((dam, meta))
}

/// Reads a DAM checkpoint folder to continue its run: the state after its last epoch and the
/// metadata.
pub fn load_dam_for_resume(dir: &std::path::Path) -> Result<(DamState, DamMeta)> {
    let (dam, meta) = load_dam(dir)?;
    let folder = resolve(dir);
    let (Some(r), true) = (&meta.resume, folder.join(VELOCITY).is_file()) else {
        return Err(bad_dam(
            &folder.join(VELOCITY),
            "no momentum or learning-rate state here (checkpoints written before runs could resume), so the run cannot be resumed",
        ));
    };
    let path = folder.join(VELOCITY);
    let (shape, velocity) = hopfield_data::npy::read_npy_f64(&path).map_err(|e| bad_dam(&path, e))?;
    if let Some((i, v)) = velocity.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(bad_dam(&path, format!("entry {i} is {v}; the momentum must be finite")));
    }
    if shape != [dam.count(), dam.visible + dam.classes] {
        return Err(bad_dam(
            &path,
            format!("shape {shape:?}, the memories are [{}, {}]", dam.count(), dam.visible + dam.classes),
        ));
    }
    let pos: u128 = r.rng_word_pos.parse().map_err(|_| {
        bad_dam(&folder.join("config.json"), format!("rng_word_pos '{}' is not a number", r.rng_word_pos))
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(meta.train.seed ^ 0xda3);
    rng.set_word_pos(pos);
    positive("lr", r.lr)?;
    Ok((DamState { dam, velocity, lr: r.lr, rng }, meta))
}
