//! Hopfield layers (Ramsauer et al. 2020, "Hopfield Networks is All You Need") as burn modules
//! usable inside any model: [`Hopfield`], [`HopfieldPooling`] and [`HopfieldLayer`].
//!
//! State patterns R (one per row, [B, S, d_R]) attend to stored patterns Y ([B, M, d_Y]) through
//! learned projections into an association space of dimension d_K:
//!
//! The operations (the crate's notation table, [`crate`], has the symbols):
//!
//! | formula | code |
//! |---|---|
//! | ξ = R W_Q | [`Hopfield::state`] |
//! | X = Y W_K | [`Keys`] ([`Hopfield::keys`]) |
//! | ξ ← Xᵀ softmax(β X ξ) | [`Keys::update`] |
//! | E(ξ) = −β⁻¹ log Σ_μ exp(β x_μ·ξ) + ½ ξ·ξ + β⁻¹ log M + ½ max_μ ‖x_μ‖² | [`Keys::energy`] |
//! | Z = softmax(β ξ Xᵀ) Y W_V | [`Hopfield::forward`] |
//!
//! The update is the concave–convex procedure on E, so it never raises the energy, and E ≥ 0
//! (Ramsauer et al., Theorem 1 and Lemma A1). By default the layer makes one update — the output is
//! attention, softmax(β R W_Q (Y W_K)ᵀ) Y W_V — and with [`Update::Converge`] it first iterates ξ in
//! the association space until no entry moves by more than the tolerance, then reads the fixed point
//! out through W_V. Sets of different sizes go in one padded batch with `lengths`: padding never
//! enters a softmax, a count or a maximum, and a set with no instances is an error.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use hopfield::layers::{HopfieldConfig, Update};
//!
//! let dev = Device::flex();
//! // Pool bags of 16-dimensional instances into one 8-dimensional vector each: one learned query,
//! // an association space of 4, β = 1/√4.
//! let pool = HopfieldConfig::new(16, 16, 4, 8).init_pooling(1, 0, &dev)?;
//! let bags = Tensor::<3>::ones([3, 5, 16], &dev); // 3 bags padded to 5 instances
//! let pooled = pool.forward(bags.clone(), Some(&[5, 2, 4]))?; // [3, 1, 8]
//! assert_eq!(pooled.dims(), [3, 1, 8]);
//! // Its energy, and the error for a bag with no instances.
//! assert_eq!(pool.energy(bags.clone(), None)?.dims(), [3, 1]);
//! assert!(pool.forward(bags, Some(&[5, 0, 4])).unwrap_err().to_string().contains("0 (bag 1)"));
//!
//! // Iterate the state to a fixed point before the read-out.
//! let layer = HopfieldConfig::new(16, 16, 4, 8)
//!     .with_update(Update::Converge { tolerance: 1e-5, max_steps: 50 })
//!     .init_layer(32, 1, &dev)?; // 32 learned stored patterns
//! assert_eq!(layer.forward(Tensor::<3>::zeros([2, 7, 16], &dev))?.dims(), [2, 7, 8]);
//! # Ok::<(), hopfield::Error>(())
//! ```

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, positive, shape, Result};
use crate::init::normal;
use crate::lagrangian::{masked_log_sum_exp, Lagrangian};

/// How many updates the state makes before the read-out.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Update {
    /// One update: the output is softmax(β ξ Xᵀ) V of the projected state itself (attention).
    Once,
    /// Iterate ξ ← Xᵀ softmax(β X ξ) until max |Δξ| ≤ `tolerance` or `max_steps` updates, then read out.
    Converge {
        /// Largest change of any entry of ξ at which the iteration stops.
        tolerance: f64,
        /// Most updates before the read-out.
        max_steps: usize,
    },
}

/// Sizes and constants of a [`Hopfield`] association, with defaults from [`HopfieldConfig::new`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HopfieldConfig {
    /// d_R, the dimension of the state patterns R.
    pub state_dim: usize,
    /// d_Y, the dimension of the stored patterns Y.
    pub stored_dim: usize,
    /// d_K, the association space of W_Q, W_K.
    pub assoc_dim: usize,
    /// d_V, the output dimension of W_V.
    pub output_dim: usize,
    /// β; `None` means 1/√d_K.
    pub beta: Option<f64>,
    /// One update or iterate to a tolerance.
    pub update: Update,
    /// Standard deviation of the initial projections; `None` means 1/√(fan-in) for each.
    pub init_std: Option<f64>,
}

impl HopfieldConfig {
    /// d_R, d_Y, d_K, d_V with β = 1/√d_K, one update, initial weights N(0, 1/fan-in).
    pub fn new(state_dim: usize, stored_dim: usize, assoc_dim: usize, output_dim: usize) -> Self {
        HopfieldConfig {
            state_dim,
            stored_dim,
            assoc_dim,
            output_dim,
            beta: None,
            update: Update::Once,
            init_std: None,
        }
    }

    /// The same with β set.
    pub fn with_beta(mut self, beta: f64) -> Self {
        self.beta = Some(beta);
        self
    }

    /// The same with the update rule set.
    pub fn with_update(mut self, update: Update) -> Self {
        self.update = update;
        self
    }

    /// β in use.
    pub fn beta(&self) -> f64 {
        self.beta.unwrap_or(1.0 / (self.assoc_dim as f64).sqrt())
    }

    /// Checks every size and constant.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("state_dim", self.state_dim),
            ("stored_dim", self.stored_dim),
            ("assoc_dim", self.assoc_dim),
            ("output_dim", self.output_dim),
        ] {
            if v == 0 {
                return Err(invalid(name, 0, "must be at least 1"));
            }
        }
        positive("beta", self.beta())?;
        if let Some(s) = self.init_std {
            positive("init_std", s)?;
        }
        check_update(self.update)
    }

    /// A [`Hopfield`] with projections drawn by a ChaCha8 generator seeded with `seed`.
    pub fn init(&self, seed: u64, device: &Device) -> Result<Hopfield> {
        self.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let std = |fan_in: usize| self.init_std.unwrap_or(1.0 / (fan_in as f64).sqrt());
        let w_q = normal(&mut rng, [self.state_dim, self.assoc_dim], std(self.state_dim), device);
        let w_k = normal(&mut rng, [self.stored_dim, self.assoc_dim], std(self.stored_dim), device);
        let w_v = normal(&mut rng, [self.stored_dim, self.output_dim], std(self.stored_dim), device);
        Hopfield::from_weights(w_q, w_k, w_v, self.beta(), self.update)
    }

    /// A [`HopfieldPooling`] with `queries` learned state patterns (N(0, 1) entries), from `seed`.
    pub fn init_pooling(&self, queries: usize, seed: u64, device: &Device) -> Result<HopfieldPooling> {
        if queries == 0 {
            return Err(invalid("queries", 0, "pooling needs at least one query"));
        }
        let hopfield = self.init(seed, device)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9);
        let query = normal(&mut rng, [queries, self.state_dim], 1.0, device);
        Ok(HopfieldPooling { query: Param::from_tensor(query), hopfield })
    }

    /// A [`HopfieldLayer`] with `stored` learned stored patterns (N(0, 1) entries), from `seed`.
    pub fn init_layer(&self, stored: usize, seed: u64, device: &Device) -> Result<HopfieldLayer> {
        if stored == 0 {
            return Err(invalid("stored patterns", 0, "the lookup needs at least one stored pattern"));
        }
        let hopfield = self.init(seed, device)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7f4a_7c15);
        let patterns = normal(&mut rng, [stored, self.stored_dim], 1.0, device);
        Ok(HopfieldLayer { stored: Param::from_tensor(patterns), hopfield })
    }
}

fn check_update(update: Update) -> Result<()> {
    if let Update::Converge { tolerance, max_steps } = update {
        if !(tolerance >= 0.0 && tolerance.is_finite()) {
            return Err(invalid("tolerance", tolerance, "must be zero or positive and finite"));
        }
        if max_steps == 0 {
            return Err(invalid("max_steps", 0, "iterating to a tolerance needs at least one update"));
        }
    }
    Ok(())
}

/// Checks the lengths of `sets` sets padded to `rows` rows: one per set, each in 1..=rows.
///
/// # Errors
/// A count of lengths other than `sets`, a set with no instances (naming the bag), a length above `rows`.
pub fn check_lengths(lengths: &[usize], sets: usize, rows: usize) -> Result<()> {
    if lengths.len() != sets {
        return Err(shape("lengths", format!("one per set, {sets}"), lengths.len()));
    }
    if let Some(i) = lengths.iter().position(|&n| n == 0) {
        return Err(invalid("bag size", format!("0 (bag {i})"), "every bag needs at least one instance"));
    }
    if let Some(i) = lengths.iter().position(|&n| n > rows) {
        return Err(shape("bag size", format!("at most the {rows} padded rows"), format!("{} (bag {i})", lengths[i])));
    }
    Ok(())
}

/// The stored patterns projected into the association space, X = Y W_K ([B, M, d_K]), with their
/// padding: the energy landscape a state moves on.
#[derive(Debug, Clone)]
pub struct Keys {
    /// X, [B, M, d_K] (padded rows included).
    pub x: Tensor<3>,
    /// β.
    pub beta: f64,
    /// [B, 1, M], 1 for a stored pattern and 0 at padding; `None` when every set is full.
    valid: Option<Tensor<3>>,
    /// β⁻¹ log M_b for each set, [B, 1].
    log_count: Tensor<2>,
}

impl Keys {
    /// Keys X [B, M, d_K] at inverse temperature β; `lengths[b]` ≤ M valid rows in set b (all M when `None`).
    ///
    /// # Errors
    /// β not positive, a length of 0 (a set with no instances) or above M, or a count of lengths ≠ B.
    pub fn new(x: Tensor<3>, beta: f64, lengths: Option<&[usize]>) -> Result<Self> {
        positive("beta", beta)?;
        let [b, m, _] = x.dims();
        let device = x.device();
        let counts: Vec<usize> = match lengths {
            None => vec![m; b],
            Some(l) => {
                check_lengths(l, b, m)?;
                l.to_vec()
            }
        };
        if b == 0 || m == 0 {
            return Err(shape("stored patterns", "[B ≥ 1, M ≥ 1, d_K]", format!("{:?}", x.dims())));
        }
        let valid = if counts.iter().all(|&n| n == m) {
            None
        } else {
            let v: Vec<f32> = counts.iter().flat_map(|&n| (0..m).map(move |j| if j < n { 1.0 } else { 0.0 })).collect();
            Some(Tensor::<3>::from_data(TensorData::new(v, [b, 1, m]), &device))
        };
        let logs: Vec<f32> = counts.iter().map(|&n| ((n as f64).ln() / beta) as f32).collect();
        let log_count = Tensor::from_data(TensorData::new(logs, [b, 1]), &device);
        Ok(Keys { x, beta, valid, log_count })
    }

    /// softmax(β ξ Xᵀ) over the valid stored patterns and its log-sum-exp:
    /// [B, S, d_K] → ([B, S, M], [B, S, 1]).
    fn softmax_and_lse(&self, q: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let logits = q.matmul(self.x.clone().swap_dims(1, 2)) * self.beta;
        let dims = logits.dims();
        masked_log_sum_exp(logits, self.valid.clone().map(|v| v.expand(dims)))
    }

    /// softmax(β ξ Xᵀ) over the valid stored patterns: [B, S, d_K] → [B, S, M].
    pub fn attention(&self, q: Tensor<3>) -> Tensor<3> {
        self.softmax_and_lse(q).0
    }

    /// One update ξ ← Xᵀ softmax(β X ξ) of every state: [B, S, d_K] → [B, S, d_K].
    pub fn update(&self, q: Tensor<3>) -> Tensor<3> {
        self.attention(q).matmul(self.x.clone())
    }

    /// E(ξ) = −β⁻¹ log Σ_μ exp(β x_μ·ξ) + ½ ξ·ξ + β⁻¹ log M + ½ max_μ ‖x_μ‖² of every state:
    /// [B, S, d_K] → [B, S]. Never negative; one [`Keys::update`] never raises it.
    pub fn energy(&self, q: Tensor<3>) -> Tensor<2> {
        let [b, s, _] = q.dims();
        // −L_lse(ξ Xᵀ) + L_identity(ξ), the padded patterns excluded from the log-sum-exp.
        let lse = self.softmax_and_lse(q.clone()).1.reshape([b, s]);
        let half_norm = Lagrangian::Identity.lagrangian(q).reshape([b, s]);
        let [_, m, _] = self.x.dims();
        let mut norms = self.x.clone().square().sum_dim(2).reshape([b, 1, m]);
        if let Some(v) = &self.valid {
            norms = norms.mask_fill(v.clone().equal_elem(0.0), 0.0);
        }
        let max_norm = norms.max_dim(2).reshape([b, 1]) * 0.5;
        half_norm - lse / self.beta + self.log_count.clone() + max_norm
    }
}

/// State patterns attend to stored patterns through learned projections W_Q, W_K, W_V.
#[derive(Module, Debug)]
pub struct Hopfield {
    /// W_Q, [d_R, d_K].
    pub w_q: Param<Tensor<2>>,
    /// W_K, [d_Y, d_K].
    pub w_k: Param<Tensor<2>>,
    /// W_V, [d_Y, d_V].
    pub w_v: Param<Tensor<2>>,
    /// β.
    pub beta: f64,
    /// Updates before the read-out: 0 for [`Update::Once`], else the most of [`Update::Converge`].
    pub max_steps: usize,
    /// The tolerance of [`Update::Converge`].
    pub tolerance: f64,
}

impl Hopfield {
    /// A layer from given projections (identity matrices give the plain modern Hopfield network).
    ///
    /// # Errors
    /// Projections whose sizes disagree, β not positive, a bad tolerance.
    pub fn from_weights(w_q: Tensor<2>, w_k: Tensor<2>, w_v: Tensor<2>, beta: f64, update: Update) -> Result<Self> {
        let ([_, kq], [dy, kk], [dv, _]) = (w_q.dims(), w_k.dims(), w_v.dims());
        if kq != kk {
            return Err(shape("W_K", format!("[d_Y, d_K = {kq}] (W_Q's columns)"), format!("{:?}", w_k.dims())));
        }
        if dv != dy {
            return Err(shape("W_V", format!("[d_Y = {dy}, d_V] (W_K's rows)"), format!("{:?}", w_v.dims())));
        }
        positive("beta", beta)?;
        check_update(update)?;
        let (max_steps, tolerance) = match update {
            Update::Once => (0, 0.0),
            Update::Converge { tolerance, max_steps } => (max_steps, tolerance),
        };
        Ok(Hopfield {
            w_q: Param::from_tensor(w_q),
            w_k: Param::from_tensor(w_k),
            w_v: Param::from_tensor(w_v),
            beta,
            max_steps,
            tolerance,
        })
    }

    /// The update rule.
    pub fn update_rule(&self) -> Update {
        match self.max_steps {
            0 => Update::Once,
            max_steps => Update::Converge { tolerance: self.tolerance, max_steps },
        }
    }

    /// d_R, d_Y, d_K, d_V.
    pub fn dims(&self) -> [usize; 4] {
        let ([dr, dk], [dy, _], [_, dv]) = (self.w_q.dims(), self.w_k.dims(), self.w_v.dims());
        [dr, dy, dk, dv]
    }

    fn check(&self, what: &'static str, t: &Tensor<3>, dim: usize) -> Result<()> {
        let d = t.dims();
        if d[2] != dim || d[0] == 0 || d[1] == 0 {
            return Err(shape(what, format!("[B ≥ 1, rows ≥ 1, {dim}]"), format!("{d:?}")));
        }
        Ok(())
    }

    /// ξ = R W_Q: [B, S, d_R] → [B, S, d_K].
    pub fn state(&self, r: Tensor<3>) -> Result<Tensor<3>> {
        self.check("state patterns R", &r, self.dims()[0])?;
        Ok(r.matmul(self.w_q.val().unsqueeze_dim(0)))
    }

    /// X = Y W_K with its padding: [B, M, d_Y] → [`Keys`].
    pub fn keys(&self, y: Tensor<3>, lengths: Option<&[usize]>) -> Result<Keys> {
        self.check("stored patterns Y", &y, self.dims()[1])?;
        Keys::new(y.matmul(self.w_k.val().unsqueeze_dim(0)), self.beta, lengths)
    }

    /// The state after the configured updates (none for [`Update::Once`]) and how many were made.
    pub fn retrieve(&self, q: Tensor<3>, keys: &Keys) -> (Tensor<3>, usize) {
        let mut q = q;
        for step in 1..=self.max_steps {
            let next = keys.update(q.clone());
            let moved = (next.clone() - q).abs().max().detach().into_data();
            let moved = moved.try_into_vec_as::<f64>().map(|v| v[0]).unwrap_or(f64::NAN);
            q = next;
            if moved <= self.tolerance || moved.is_nan() {
                return (q, step);
            }
        }
        (q, self.max_steps)
    }

    /// softmax(β ξ Xᵀ) with ξ the retrieved state: how much each state draws on each stored pattern,
    /// R [B, S, d_R], Y [B, M, d_Y] → [B, S, M] (0 at padding).
    ///
    /// # Errors
    /// Wrong sizes, a set with no instances, a length above M.
    pub fn attention(&self, r: Tensor<3>, y: Tensor<3>, lengths: Option<&[usize]>) -> Result<Tensor<3>> {
        let (q, keys) = (self.state(r)?, self.keys(y, lengths)?);
        if q.dims()[0] != keys.x.dims()[0] {
            return Err(shape("stored patterns Y", format!("batch {}", q.dims()[0]), keys.x.dims()[0]));
        }
        let (q, _) = self.retrieve(q, &keys);
        Ok(keys.attention(q))
    }

    /// Z = softmax(β ξ Xᵀ) Y W_V with ξ the retrieved state: R [B, S, d_R], Y [B, M, d_Y] → [B, S, d_V].
    ///
    /// # Errors
    /// Wrong sizes, a set with no instances, a length above M.
    pub fn forward(&self, r: Tensor<3>, y: Tensor<3>, lengths: Option<&[usize]>) -> Result<Tensor<3>> {
        let weights = self.attention(r, y.clone(), lengths)?;
        Ok(weights.matmul(y.matmul(self.w_v.val().unsqueeze_dim(0))))
    }

    /// E(ξ) of the projected states ξ = R W_Q before any update: [B, S].
    pub fn energy(&self, r: Tensor<3>, y: Tensor<3>, lengths: Option<&[usize]>) -> Result<Tensor<2>> {
        Ok(self.keys(y, lengths)?.energy(self.state(r)?))
    }
}

/// A learned static query pools a set: Z = softmax(β (Q W_Q)(Y W_K)ᵀ) Y W_V with learned Q [P, d_R].
/// Permuting the set leaves the output unchanged.
#[derive(Module, Debug)]
pub struct HopfieldPooling {
    /// Q, the learned state patterns, [P, d_R].
    pub query: Param<Tensor<2>>,
    /// The association.
    pub hopfield: Hopfield,
}

impl HopfieldPooling {
    /// The learned queries for a batch of `b` sets: [b, P, d_R].
    pub fn queries(&self, b: usize) -> Tensor<3> {
        let [p, d] = self.query.dims();
        self.query.val().unsqueeze_dim::<3>(0).expand([b, p, d])
    }

    /// Pools each set: Y [B, M, d_Y] with `lengths` valid rows per set → [B, P, d_V].
    pub fn forward(&self, y: Tensor<3>, lengths: Option<&[usize]>) -> Result<Tensor<3>> {
        let b = y.dims()[0];
        self.hopfield.forward(self.queries(b), y, lengths)
    }

    /// How much each query draws on each instance: [B, P, M] (0 at padding).
    pub fn attention(&self, y: Tensor<3>, lengths: Option<&[usize]>) -> Result<Tensor<3>> {
        let b = y.dims()[0];
        self.hopfield.attention(self.queries(b), y, lengths)
    }

    /// E of the projected queries on each set: [B, P].
    pub fn energy(&self, y: Tensor<3>, lengths: Option<&[usize]>) -> Result<Tensor<2>> {
        let b = y.dims()[0];
        self.hopfield.energy(self.queries(b), y, lengths)
    }
}

/// Learned stored patterns as a lookup: Z = softmax(β (R W_Q)(Y W_K)ᵀ) Y W_V with learned Y [M, d_Y].
#[derive(Module, Debug)]
pub struct HopfieldLayer {
    /// Y, the learned stored patterns, [M, d_Y].
    pub stored: Param<Tensor<2>>,
    /// The association.
    pub hopfield: Hopfield,
}

impl HopfieldLayer {
    /// The learned stored patterns for a batch of `b`: [b, M, d_Y].
    pub fn stored_patterns(&self, b: usize) -> Tensor<3> {
        let [m, d] = self.stored.dims();
        self.stored.val().unsqueeze_dim::<3>(0).expand([b, m, d])
    }

    /// Looks every state up: R [B, S, d_R] → [B, S, d_V].
    pub fn forward(&self, r: Tensor<3>) -> Result<Tensor<3>> {
        let b = r.dims()[0];
        self.hopfield.forward(r, self.stored_patterns(b), None)
    }

    /// E of the projected states on the learned patterns: [B, S].
    pub fn energy(&self, r: Tensor<3>) -> Result<Tensor<2>> {
        let b = r.dims()[0];
        self.hopfield.energy(r, self.stored_patterns(b), None)
    }
}
