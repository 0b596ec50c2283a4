//! The classic two-layer HAM classifier (Krotov 2021; hamux's MNIST example), built with
//! [`hopfield::ham`]: three neuron layers — the image (identity Lagrangian, clamped), a hidden layer
//! (ReLU: ½ max(x, 0)², or softmax with β) and the label (softmax) — and two dense synapses,
//! E = −g_hᵀ W₁ g_v − g_lᵀ W₂ g_h. The hidden and label states start at 0 and follow T Euler steps of
//! τ dx/dt = −∂E/∂g; the label layer's state after the last step are the logits, trained with the
//! cross-entropy by Adam through the unrolled steps (the synapses' explicit gradients, so burn's
//! first-order autodiff reaches W₁ and W₂).

use burn::module::{Module, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use hopfield::ham::{DenseSynapse, GradientPath, Ham};
use hopfield::init::normal;
use hopfield::lagrangian::Lagrangian;
use hopfield_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, positive, Result};
use crate::trainer::{
    EpochFigures, EpochSummary, Event, Iteration, Optimizer, Plan, Schedule, StepResult, Task, Trainer,
};

/// The HAM classifier's settings, with the command line's defaults in [`HamConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HamConfig {
    /// Hidden neurons.
    pub hidden: usize,
    /// `None`: ReLU hidden neurons; `Some(β)`: softmax with this β.
    pub hidden_softmax: Option<f64>,
    /// T, Euler steps of the dynamics.
    pub steps: usize,
    /// α, the Euler step (dt/τ).
    pub step_size: f64,
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per Adam step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the initial weights and the shuffling.
    pub seed: u64,
}

impl Default for HamConfig {
    /// 400 ReLU hidden neurons, T = 5 steps of α = 0.5, 10 epochs of batches of 100, Adam 10⁻³, seed 0.
    fn default() -> Self {
        HamConfig {
            hidden: 400,
            hidden_softmax: None,
            steps: 5,
            step_size: 0.5,
            epochs: 10,
            batch_size: 100,
            lr: 1e-3,
            seed: 0,
        }
    }
}

impl HamConfig {
    /// Checks every setting.
    ///
    /// # Errors
    /// The setting and its value.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in
            [("hidden", self.hidden), ("steps", self.steps), ("epochs", self.epochs), ("batch size", self.batch_size)]
        {
            if v == 0 {
                return Err(invalid(name, 0, "must be at least 1"));
            }
        }
        if !(self.step_size > 0.0 && self.step_size <= 1.0) {
            return Err(invalid(
                "step size",
                self.step_size,
                "α = dt/τ in (0, 1] (beyond 1 the Euler step overshoots)",
            ));
        }
        positive("lr", self.lr)?;
        if let Some(beta) = self.hidden_softmax {
            Lagrangian::LogSumExp { beta }.validate()?;
        }
        Ok(())
    }
}

/// W₁ (hidden × pixels) and W₂ (classes × hidden), and the dynamics' settings.
#[derive(Module, Debug)]
pub struct HamClassifier {
    /// W₁.
    pub w1: Param<Tensor<2>>,
    /// W₂.
    pub w2: Param<Tensor<2>>,
    /// `None`: ReLU hidden neurons; `Some(β)`: softmax.
    pub hidden_softmax: Option<f64>,
    /// T.
    pub steps: usize,
    /// α.
    pub step_size: f64,
}

impl HamClassifier {
    /// Weights N(0, 1/fan-in) from `seed`.
    pub fn new(pixels: usize, classes: usize, cfg: &HamConfig, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let w1 = normal(&mut rng, [cfg.hidden, pixels], 1.0 / (pixels as f64).sqrt(), device);
        let w2 = normal(&mut rng, [classes, cfg.hidden], 1.0 / (cfg.hidden as f64).sqrt(), device);
        HamClassifier {
            w1: Param::from_tensor(w1),
            w2: Param::from_tensor(w2),
            hidden_softmax: cfg.hidden_softmax,
            steps: cfg.steps,
            step_size: cfg.step_size,
        }
    }

    /// The HAM: image [1, P] (identity), hidden [1, H], label [1, C] (softmax), two dense synapses.
    ///
    /// # Errors
    /// Never for weights made by [`HamClassifier::new`]; the builder's checks otherwise.
    pub fn ham(&self) -> Result<Ham> {
        let [h, p] = self.w1.dims();
        let [c, _] = self.w2.dims();
        let hidden = match self.hidden_softmax {
            None => Lagrangian::Relu2,
            Some(beta) => Lagrangian::LogSumExp { beta },
        };
        Ok(Ham::builder()
            .neuron("image", [1, p], Lagrangian::Identity)
            .neuron("hidden", [1, h], hidden)
            .neuron("label", [1, c], Lagrangian::LogSumExp { beta: 1.0 })
            .synapse(DenseSynapse::new(self.w1.val(), [1, h], [1, p])?, &["hidden", "image"])
            .synapse(DenseSynapse::new(self.w2.val(), [1, c], [1, h])?, &["label", "hidden"])
            .build()?)
    }

    /// The label layer's state after T steps from images [B, P] (hidden and label at 0, the image
    /// clamped): the logits [B, C], and the energy of each image before each step and after the last.
    ///
    /// # Errors
    /// Images of another width than W₁'s.
    pub fn forward(&self, images: Tensor<2>) -> Result<(Tensor<2>, Vec<Tensor<1>>)> {
        let [b, p] = images.dims();
        let [h, _] = self.w1.dims();
        let [c, _] = self.w2.dims();
        let device = images.device();
        let ham = self.ham()?;
        let states = vec![
            images.reshape([b, 1, p]),
            Tensor::<3>::zeros([b, 1, h], &device),
            Tensor::<3>::zeros([b, 1, c], &device),
        ];
        let (states, energies) =
            ham.descend(states, self.steps, self.step_size, &[true, false, false], GradientPath::Explicit)?;
        Ok((states[2].clone().reshape([b, c]), energies))
    }
}

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HamEpoch {
    /// 1-based.
    pub epoch: usize,
    /// Mean cross-entropy of the epoch's steps.
    pub train_loss: f64,
    /// Share of the training images misclassified while training (the running figure).
    pub train_error: f64,
    /// Share of the test images misclassified after the epoch.
    pub test_error: f64,
    /// Seconds of the epoch's steps.
    pub seconds: f64,
}

impl EpochFigures for HamEpoch {
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn csv_header() -> &'static str {
        "epoch,train_loss,train_error,test_error,seconds"
    }
    fn csv_row(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.3}",
            self.epoch, self.train_loss, self.train_error, self.test_error, self.seconds
        )
    }
}

/// The model and Adam.
pub struct HamState {
    /// The classifier (on the autodiff device).
    pub model: HamClassifier,
    /// Adam.
    pub optim: Optimizer,
}

struct HamTask<'a> {
    train: &'a Dataset,
    test: &'a Dataset,
    cfg: HamConfig,
    device: Device,
    autodiff: Device,
}

fn images(ds: &Dataset, idx: &[usize], device: &Device) -> Tensor<2> {
    let p = ds.image_len();
    let v: Vec<f32> = idx.iter().flat_map(|&i| ds.image(i)).collect();
    Tensor::from_data(TensorData::new(v, [idx.len(), p]), device)
}

fn labels(ds: &Dataset, idx: &[usize], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = idx.iter().map(|&i| ds.labels()[i] as i64).collect();
    Tensor::from_data(TensorData::new(v, [idx.len()]), device)
}

/// The images of `idx` that `model` misclassifies.
fn wrong(logits: Tensor<2>, y: &Tensor<1, Int>) -> Result<usize> {
    let pred = logits.argmax(1).flatten::<1>(0, 1);
    let hits = pred.equal(y.clone()).int().sum().into_data();
    let hits = hits.iter::<i64>().next().unwrap_or(0) as usize;
    Ok(y.dims()[0] - hits)
}

/// The test error of `model` on `ds`, in batches of 500.
///
/// # Errors
/// Images of another width than the model's.
pub fn test_error(model: &HamClassifier, ds: &Dataset, device: &Device) -> Result<f64> {
    let mut bad = 0;
    let idx: Vec<usize> = (0..ds.len()).collect();
    for chunk in idx.chunks(500) {
        let (logits, _) = model.forward(images(ds, chunk, device))?;
        bad += wrong(logits, &labels(ds, chunk, device))?;
    }
    Ok(bad as f64 / ds.len() as f64)
}

impl Task for HamTask<'_> {
    type State = HamState;
    type Epoch = HamEpoch;

    fn plan(&self) -> Plan {
        Plan { examples: self.train.len(), batch_size: self.cfg.batch_size, epochs: self.cfg.epochs }
    }

    fn epoch_rng(&self, _: &HamState, epoch: usize) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.cfg.seed.wrapping_add(0x4a3 * epoch as u64))
    }

    fn step(
        &self,
        mut s: HamState,
        idx: &[usize],
        _: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(HamState, StepResult)> {
        let (logits, _) = s.model.forward(images(self.train, idx, &self.autodiff))?;
        let y = labels(self.train, idx, &self.autodiff);
        let bad = wrong(logits.clone().detach(), &y)?;
        let picked = log_softmax(logits, 1).gather(1, y.reshape([idx.len(), 1]));
        let loss = -picked.mean().reshape([1]);
        let value;
        (s.model, value) = s.optim.step_if_finite(s.model, loss, at);
        Ok((s, StepResult { loss: value, wrong: bad }))
    }

    fn finish_epoch(&self, s: &mut HamState, sum: EpochSummary, _: ChaCha8Rng) -> Result<HamEpoch> {
        Ok(HamEpoch {
            epoch: sum.epoch,
            train_loss: sum.loss_sum / sum.batches as f64,
            train_error: sum.wrong as f64 / sum.examples as f64,
            test_error: test_error(&s.model.valid(), self.test, &self.device)?,
            seconds: sum.seconds,
        })
    }

    fn describe(&self) -> String {
        " of the HAM classifier".into()
    }
}

/// Trains the HAM classifier on `train`, testing on `test` after every epoch; `trainer` holds
/// `metrics.csv` and the cancel flag. Returns the model (plain device) and the epochs' figures.
///
/// # Errors
/// Invalid settings; test images of another size; no classes; a loss that becomes NaN/∞.
pub fn train_ham(
    train: &Dataset,
    test: &Dataset,
    cfg: &HamConfig,
    device: &Device,
    trainer: &Trainer,
    on_event: impl FnMut(Event<'_, HamEpoch>),
) -> Result<(HamClassifier, Vec<HamEpoch>)> {
    cfg.validate()?;
    if test.image_len() != train.image_len() {
        return Err(invalid(
            "test data",
            format!("{} ({} values an image)", test.name(), test.image_len()),
            format!("{} values an image, as the training data", train.image_len()),
        ));
    }
    let classes = train.labels().iter().chain(test.labels()).copied().max().map_or(0, |m| m as usize + 1);
    if classes < 2 {
        return Err(invalid("classes", classes, "at least two classes among the labels"));
    }
    let autodiff = device.clone().autodiff();
    let task = HamTask { train, test, cfg: cfg.clone(), device: device.clone(), autodiff: autodiff.clone() };
    let state = HamState {
        model: HamClassifier::new(train.image_len(), classes, cfg, &autodiff),
        optim: Optimizer::adam(Schedule::Constant(cfg.lr)),
    };
    let (state, history) = trainer.run(&task, state, 0, on_event)?;
    Ok((state.model.valid(), history))
}

/// Writes `ham-memories.png` (the first 40 rows of W₁ as images, each scaled to its own range),
/// `ham-energy.png` (the energy along the T steps for 8 test images) and `ham-errors.png` (train and
/// test error per epoch) into `dir`.
///
/// # Errors
/// A picture that cannot be written; test images of another size.
pub fn write_pictures(
    model: &HamClassifier,
    history: &[HamEpoch],
    test: &Dataset,
    device: &Device,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>> {
    use crate::pictures::{write_grid, Corner, LinePlot, Mark, Picture, Series};
    std::fs::create_dir_all(dir).map_err(|e| crate::TrainError::write(dir, e))?;
    let (c, h, w) = (test.channels(), test.height(), test.width());
    let rows = crate::trainer::values(model.w1.val(), "W1")?;
    let p = c * h * w;
    let pics: Vec<Picture> = rows
        .chunks(p)
        .take(40)
        .map(|r| {
            let (lo, hi) = r.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            let span = (hi - lo).max(1e-12);
            Picture { channels: c, height: h, width: w, values: r.iter().map(|v| ((v - lo) / span) as f32).collect() }
        })
        .collect();
    let memories = dir.join("ham-memories.png");
    write_grid(&memories, &pics.chunks(10).map(<[Picture]>::to_vec).collect::<Vec<_>>(), &[], 40)?;
    let shown: Vec<usize> = (0..test.len().min(8)).collect();
    let (_, energies) = model.forward(images(test, &shown, device))?;
    let traces: Vec<Vec<f64>> =
        energies.into_iter().map(|e| crate::trainer::values(e, "energy")).collect::<Result<Vec<_>>>()?;
    let energy = dir.join("ham-energy.png");
    LinePlot {
        title: format!("HAM energy along its {} steps (α = {})", model.steps, model.step_size),
        x_label: "step".into(),
        y_label: "energy E".into(),
        log_x: false,
        log_y: false,
        series: shown
            .iter()
            .map(|&i| Series {
                name: format!("test image {i} (label {})", test.labels()[i]),
                points: traces.iter().enumerate().map(|(t, e)| (t as f64, e[i])).collect(),
                color: i,
                mark: Mark::LinePoints,
            })
            .collect(),
        vlines: vec![],
        legend: Corner::UpperRight,
    }
    .write(&energy, (900, 560))?;
    let errors = dir.join("ham-errors.png");
    let title = format!("two-layer HAM, {} hidden neurons", model.w1.dims()[0]);
    crate::pictures::write_errors(history.iter().map(|e| (e.epoch, e.train_error, e.test_error)), &title, &errors)?;
    Ok(vec![memories, energy, errors])
}
