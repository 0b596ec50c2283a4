//! Multiple-instance learning on bags of digits, the use of [`HopfieldPooling`] that Ramsauer et al.
//! (2020) propose: a bag of 5–15 random images is positive when it holds the target digit (9). An MLP
//! embeds every instance, a pooling turns the bag into one vector — [`HopfieldPooling`]'s learned query,
//! or the mean of the instances as the baseline — and a linear read-out gives the bag's logit, trained
//! with the binary cross-entropy by Adam. Both poolings see the same bags, the same initial encoder and
//! read-out, and the same batch order.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::init::normal;
use hopfield::layers::{check_lengths, HopfieldConfig, HopfieldPooling};
use hopfield_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub mod bags;

pub use bags::{batch, make_bags, BagSpec, Bags};

use crate::error::{invalid, positive, Result};
use crate::experiments::resume::{train_run, ProtocolCheckpoint};
use crate::metrics::auc;
use crate::trainer::{
    Best, EpochFigures, EpochSummary, Event, Iteration, Optimizer, Plan, Schedule, StepResult, Task, Trainer,
};

/// Which pooling turns a bag of embeddings into one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Pooling {
    /// [`HopfieldPooling`] with one learned query.
    Hopfield,
    /// The mean of the bag's embeddings.
    Mean,
}

impl std::fmt::Display for Pooling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Pooling::Hopfield => "hopfield",
            Pooling::Mean => "mean",
        })
    }
}

/// Settings of a MIL run, with the defaults of [`MilConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MilConfig {
    /// Width of the encoder's hidden layer.
    pub hidden: usize,
    /// Dimension of the instance embeddings (and of the pooled vector).
    pub embed: usize,
    /// d_K, the association space of the Hopfield pooling.
    pub assoc: usize,
    /// β of the Hopfield pooling; `None` means 1/√d_K.
    pub beta: Option<f64>,
    /// Passes over the training bags.
    pub epochs: usize,
    /// Bags per Adam step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the initial weights and the batch order (the bags have their own seeds).
    pub seed: u64,
}

impl Default for MilConfig {
    fn default() -> Self {
        MilConfig { hidden: 128, embed: 64, assoc: 32, beta: None, epochs: 20, batch_size: 16, lr: 1e-3, seed: 0 }
    }
}

impl MilConfig {
    /// Checks every size and constant.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("hidden", self.hidden),
            ("embed", self.embed),
            ("assoc", self.assoc),
            ("epochs", self.epochs),
            ("batch size", self.batch_size),
        ] {
            if v == 0 {
                return Err(invalid(name, 0, "must be at least 1"));
            }
        }
        positive("lr", self.lr)?;
        self.beta.map_or(Ok(()), |b| positive("beta", b))
    }
}

/// Instance encoder, pooling and read-out.
#[derive(Module, Debug)]
pub struct MilModel {
    /// First encoder layer, [P, hidden] and [hidden].
    pub w1: Param<Tensor<2>>,
    /// Its bias.
    pub b1: Param<Tensor<1>>,
    /// Second encoder layer, [hidden, embed].
    pub w2: Param<Tensor<2>>,
    /// Its bias.
    pub b2: Param<Tensor<1>>,
    /// The Hopfield pooling, or `None` for the mean.
    pub pool: Option<HopfieldPooling>,
    /// Read-out, [embed, 1].
    pub head: Param<Tensor<2>>,
    /// Its bias.
    pub head_bias: Param<Tensor<1>>,
}

impl MilModel {
    /// A model for instances of `inputs` values; encoder and read-out depend only on `cfg.seed`, so
    /// both poolings start from the same ones.
    pub fn new(inputs: usize, pooling: Pooling, cfg: &MilConfig, device: &Device) -> Result<Self> {
        cfg.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let std = |fan_in: usize| (2.0 / fan_in as f64).sqrt();
        let w1 = normal(&mut rng, [inputs, cfg.hidden], std(inputs), device);
        let w2 = normal(&mut rng, [cfg.hidden, cfg.embed], std(cfg.hidden), device);
        let head = normal(&mut rng, [cfg.embed, 1], (1.0 / cfg.embed as f64).sqrt(), device);
        let pool = match pooling {
            Pooling::Mean => None,
            Pooling::Hopfield => {
                let mut h = HopfieldConfig::new(cfg.embed, cfg.embed, cfg.assoc, cfg.embed);
                h.beta = cfg.beta;
                Some(h.init_pooling(1, cfg.seed ^ 0x5eed, device)?)
            }
        };
        Ok(MilModel {
            w1: Param::from_tensor(w1),
            b1: Param::from_tensor(Tensor::zeros([cfg.hidden], device)),
            w2: Param::from_tensor(w2),
            b2: Param::from_tensor(Tensor::zeros([cfg.embed], device)),
            pool,
            head: Param::from_tensor(head),
            head_bias: Param::from_tensor(Tensor::zeros([1], device)),
        })
    }

    /// Instance embeddings of a padded batch: [B, M, P] → [B, M, embed].
    pub fn embed(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, m, p] = x.dims();
        let flat = x.reshape([b * m, p]);
        let h = relu(flat.matmul(self.w1.val()) + self.b1.val().unsqueeze_dim(0));
        let e = relu(h.matmul(self.w2.val()) + self.b2.val().unsqueeze_dim(0));
        let d = e.dims()[1];
        e.reshape([b, m, d])
    }

    /// The weight each instance gets in its bag's pooled vector: [B, M] (0 at padding) — the
    /// Hopfield pooling's attention, or 1/length for the mean.
    pub fn instance_weights(&self, x: Tensor<3>, lengths: &[usize]) -> Result<Tensor<2>> {
        self.weights_of(self.embed(x), lengths)
    }

    /// [`MilModel::instance_weights`] from the embeddings [B, M, embed].
    fn weights_of(&self, e: Tensor<3>, lengths: &[usize]) -> Result<Tensor<2>> {
        let [b, m, _] = e.dims();
        match &self.pool {
            Some(pool) => Ok(pool.attention(e, Some(lengths))?.reshape([b, m])),
            None => Ok(mean_weights(lengths, b, m, &e.device())?.reshape([b, m])),
        }
    }

    /// Logits of a padded batch: instances [B, M, P] with `lengths[b]` valid rows → [B].
    pub fn forward(&self, x: Tensor<3>, lengths: &[usize]) -> Result<Tensor<1>> {
        let [b, m, _] = x.dims();
        let e = self.embed(x);
        let pooled = match &self.pool {
            Some(pool) => pool.forward(e, Some(lengths))?,
            None => mean_weights(lengths, b, m, &e.device())?.matmul(e),
        };
        let d = pooled.dims()[2];
        Ok((pooled.reshape([b, d]).matmul(self.head.val()) + self.head_bias.val().unsqueeze_dim(0)).reshape([b]))
    }
}

/// The weights of the mean over each bag's valid rows, [B, 1, M]: 1/length, 0 at padding.
fn mean_weights(lengths: &[usize], b: usize, m: usize, device: &Device) -> Result<Tensor<3>> {
    check_lengths(lengths, b, m)?;
    let w: Vec<f32> =
        lengths.iter().flat_map(|&n| (0..m).map(move |j| if j < n { 1.0 / n as f32 } else { 0.0 })).collect();
    Ok(Tensor::from_data(TensorData::new(w, [lengths.len(), 1, m]), device))
}

/// Mean binary cross-entropy of logits z for labels y: softplus(z) − y z, computed stably.
fn bce(z: Tensor<1>, y: Tensor<1>) -> Tensor<1> {
    let softplus = relu(z.clone()) + (-z.clone().abs()).exp().add_scalar(1.0).log();
    (softplus - z * y).mean()
}

pub use crate::trainer::values;

/// Bag scores (probabilities) of a model on the plain device.
pub fn scores(model: &MilModel, ds: &Dataset, bags: &Bags, device: &Device) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(bags.len());
    let all: Vec<usize> = (0..bags.len()).collect();
    for chunk in all.chunks(100) {
        let (x, lengths) = batch(ds, bags, chunk, device);
        let z = values(model.forward(x, &lengths)?, "bag logits")?;
        out.extend(z.iter().map(|z| 1.0 / (1.0 + (-z).exp())));
    }
    Ok(out)
}

/// Figures of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MilEpoch {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Test accuracy at the threshold ½.
    pub test_accuracy: f64,
    /// Test area under the ROC curve.
    pub test_auc: f64,
    /// Seconds the epoch's training took.
    pub seconds: f64,
}

/// The model and Adam's state while training.
pub struct MilState {
    /// The model, on the autodiff device.
    pub model: MilModel,
    /// Adam at the constant learning rate.
    pub optim: Optimizer,
}

/// Multiple-instance learning on bags of images with one pooling.
pub struct MilTask<'a> {
    train: (&'a Dataset, &'a Bags),
    test: (&'a Dataset, &'a Bags),
    pooling: Pooling,
    cfg: MilConfig,
    device: Device,
    autodiff: Device,
    checkpoint: Option<(&'a ProtocolCheckpoint, usize)>,
}

impl<'a> MilTask<'a> {
    /// The task: training bags of `train`, test bags of `test`, computed on `device`.
    ///
    /// # Errors
    /// Invalid settings, test images of another shape than the training images.
    pub fn new(
        train: (&'a Dataset, &'a Bags),
        test: (&'a Dataset, &'a Bags),
        pooling: Pooling,
        cfg: &MilConfig,
        device: &Device,
    ) -> Result<Self> {
        cfg.validate()?;
        use crate::budget::product;
        let (p, hid, emb, assoc) =
            (train.0.image_len() as u128, cfg.hidden as u128, cfg.embed as u128, cfg.assoc as u128);
        let most = train.1.instances.iter().map(Vec::len).max().unwrap_or(1) as u128;
        let params = product(&[p, hid]).and_then(|a| {
            a.checked_add(product(&[hid, emb])?)?
                .checked_add(product(&[emb, assoc, 2])?)?
                .checked_add(product(&[emb, emb])?)
        });
        let rows = product(&[cfg.batch_size as u128, most]);
        let need = params.and_then(|w| {
            product(&[w, 16])?.checked_add(product(&[rows?, p.checked_add(hid)?.checked_add(emb)?, 4, 3])?)
        });
        crate::budget::check(
            &format!("MIL with a {} → {} → {} encoder in batches of {} bags", p, cfg.hidden, cfg.embed, cfg.batch_size),
            need,
        )?;
        let shape = |ds: &Dataset| (ds.channels(), ds.height(), ds.width());
        if shape(test.0) != shape(train.0) {
            let (c, h, w) = shape(train.0);
            let (tc, th, tw) = shape(test.0);
            return Err(invalid(
                "test data",
                format!("{} ({tc}×{th}×{tw} images)", test.0.name()),
                format!("images of {c}×{h}×{w}, as the training data"),
            ));
        }
        Ok(MilTask {
            train,
            test,
            pooling,
            cfg: cfg.clone(),
            device: device.clone(),
            autodiff: device.clone().autodiff(),
            checkpoint: None,
        })
    }
}

impl Task for MilTask<'_> {
    type State = MilState;
    type Epoch = MilEpoch;

    fn plan(&self) -> Plan {
        Plan { examples: self.train.1.len(), batch_size: self.cfg.batch_size, epochs: self.cfg.epochs }
    }
    fn epoch_rng(&self, _: &MilState, epoch: usize) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.cfg.seed.wrapping_add(0x3a1 * epoch as u64))
    }

    fn step(
        &self,
        mut s: MilState,
        idx: &[usize],
        _: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(MilState, StepResult)> {
        let (ds, bags) = self.train;
        let (x, lengths) = batch(ds, bags, idx, &self.autodiff);
        let y: Vec<f32> = idx.iter().map(|&i| bags.labels[i] as u8 as f32).collect();
        let y = Tensor::<1>::from_data(TensorData::new(y, [idx.len()]), &self.autodiff);
        let loss = bce(s.model.forward(x, &lengths)?, y);
        let value;
        (s.model, value) = s.optim.step_if_finite(s.model, loss, at);
        Ok((s, StepResult { loss: value, wrong: 0 }))
    }

    fn finish_epoch(&self, s: &mut MilState, sum: EpochSummary, _: ChaCha8Rng) -> Result<MilEpoch> {
        let (te, te_bags) = self.test;
        let scores = scores(&s.model.valid(), te, te_bags, &self.device)?;
        let correct = scores.iter().zip(&te_bags.labels).filter(|(p, &l)| (**p >= 0.5) == l).count();
        Ok(MilEpoch {
            epoch: sum.epoch,
            train_loss: sum.loss_sum / sum.batches as f64,
            test_accuracy: correct as f64 / te_bags.len() as f64,
            test_auc: auc(&scores, &te_bags.labels),
            seconds: sum.seconds,
        })
    }

    fn describe(&self) -> String {
        format!(" with {} pooling", self.pooling)
    }

    fn checkpoint(&self, s: &MilState, figures: &MilEpoch) -> Result<()> {
        match self.checkpoint {
            Some((c, run)) => c.save_epoch(run, (&s.model, &s.optim.inner), None::<&Best<f64, MilModel>>, figures),
            None => Ok(()),
        }
    }
}

impl EpochFigures for MilEpoch {
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn csv_header() -> &'static str {
        "epoch,train_loss,test_accuracy,test_auc,seconds"
    }
    fn csv_row(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.3}",
            self.epoch, self.train_loss, self.test_accuracy, self.test_auc, self.seconds
        )
    }
}

/// Trains one model with `pooling` on the training bags and tests it after every epoch; `trainer`
/// holds the cancel flag, `on_event` sees every step and epoch. Returns the trained model (plain
/// device) and the epochs' figures.
///
/// # Errors
/// Invalid settings, images of another size than the model's, a loss that becomes NaN/∞, the
/// trainer's cancel flag.
pub fn train_mil(
    train: (&Dataset, &Bags),
    test: (&Dataset, &Bags),
    pooling: Pooling,
    cfg: &MilConfig,
    device: &Device,
    trainer: &Trainer,
    on_event: impl FnMut(Event<'_, MilEpoch>),
) -> Result<(MilModel, Vec<MilEpoch>)> {
    train_mil_in((train, test), pooling, (cfg, device), trainer, None, on_event)
}

/// [`train_mil`] as run `checkpoint.1` of a protocol whose checkpoint is `checkpoint.0`: saved
/// after every epoch, and continued from there when the checkpoint holds it in progress.
pub(crate) fn train_mil_in(
    (train, test): ((&Dataset, &Bags), (&Dataset, &Bags)),
    pooling: Pooling,
    (cfg, device): (&MilConfig, &Device),
    trainer: &Trainer,
    checkpoint: Option<(&ProtocolCheckpoint, usize)>,
    on_event: impl FnMut(Event<'_, MilEpoch>),
) -> Result<(MilModel, Vec<MilEpoch>)> {
    let mut task = MilTask::new(train, test, pooling, cfg, device)?;
    task.checkpoint = checkpoint;
    let fresh = |d: &Device| MilModel::new(train.0.image_len(), pooling, cfg, d);
    let (state, history) = train_run::<_, _, f64>(
        (&task, trainer),
        checkpoint,
        (fresh, device),
        Optimizer::adam(Schedule::Constant(cfg.lr)),
        |model, optim, _| MilState { model, optim },
        on_event,
    )?;
    Ok((state.model.valid(), history))
}
