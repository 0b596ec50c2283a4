//! Energy attention (Hoover et al. 2023, Eq. for E^ATT), with a [`TokenMask`] (real tokens and
//! allowed pairs) and the switch for the B ≠ C exclusion.
//!
//! K_hB = W^K_h g_B, Q_hC = W^Q_h g_C (W: H×Y×D);
//! E = −(1/β) Σ_h Σ_{C real} log Σ_{B allowed for C} w_hCB exp(β K_hB·Q_hC),
//! where w_hCB is the pair weight (1 = allowed, 0 = not; graph adjacency weights also work) and a
//! padded token is neither key nor query. A query that may see no key contributes nothing. With the softmax weights S_hCB over the allowed keys:
//! ∂E/∂g_A = −Σ_h [ W^Qᵀ_h Σ_B S_hAB K_hB + W^Kᵀ_h Σ_C S_hCA Q_hC ].
//!
//! Two optional learned parts, as the public graph ET has them (both off by default, and both the
//! plain energy at initialisation):
//! - per-head inverse temperatures β_h = β·e^{u_h} (u [H], from 0): head h's logits are
//!   β_h K_hB·Q_hC and its term is weighed 1/β_h;
//! - a mixing of heads M [H, H] (from the identity), "talking heads": the logits of head h' are
//!   Σ_h M_hh' β_h K_hB·Q_hC, and E = −Σ_h' (1/β_h') Σ_C log Σ_B w_h'CB exp(mixed logits).
//!
//! With them the gradient keeps its form, with S replaced by P_h = β_h Σ_h' M_hh' S_h' / β_h'
//! (P = S without mixing, whatever the β_h).

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use super::TokenMask;
use crate::lagrangian::masked_log_sum_exp;

/// The attention energy's weights W^Q, W^K (H×Y×D) and inverse temperature β.
#[derive(Module, Debug)]
pub struct EnergyAttention {
    /// W^Q, shape [H, Y, D].
    pub wq: Param<Tensor<3>>,
    /// W^K, shape [H, Y, D].
    pub wk: Param<Tensor<3>>,
    /// β (the paper's default 1/√Y).
    pub beta: f64,
    /// Exclude B = C (a token never attends to itself): the paper's equation. The official
    /// weights were trained with self-attention allowed (false).
    pub exclude_self: bool,
    /// Per-head inverse temperatures as u [H], β_h = β·e^{u_h} (`None`: β in every head).
    pub head_betas: Option<Param<Tensor<1>>>,
    /// The mixing of heads M [H, H] (`None`: none, i.e. the identity).
    pub head_mixing: Option<Param<Tensor<2>>>,
}

/// Intermediate results shared by the energy and its gradient.
pub(in crate::et) struct Scores {
    /// Q: [B, H, N, Y].
    pub q: Tensor<4>,
    /// K: [B, H, N, Y].
    pub k: Tensor<4>,
    /// Softmax weights over allowed keys: [B, H, N(query), N(key)] (of the mixed heads, with
    /// a mixing).
    pub weights: Tensor<4>,
    /// Per-query log Σ w exp(β K·Q), 0 for queries that see nothing: [B, H, N, 1].
    pub lse: Tensor<4>,
}

impl EnergyAttention {
    /// Builds the module from its weights.
    pub fn new(wq: Tensor<3>, wk: Tensor<3>, beta: f64, exclude_self: bool) -> Self {
        EnergyAttention {
            wq: Param::from_tensor(wq),
            wk: Param::from_tensor(wk),
            beta,
            exclude_self,
            head_betas: None,
            head_mixing: None,
        }
    }

    /// The same energy with learned per-head inverse temperatures (when `betas`) and a learned
    /// mixing of heads (when `mixing`), each starting where it changes nothing: u = 0, M = I.
    pub fn with_head_parts(mut self, betas: bool, mixing: bool) -> Self {
        let (h, _, _) = self.heads();
        let device = self.wq.val().device();
        self.head_betas = betas.then(|| Param::from_tensor(Tensor::zeros([h], &device)));
        self.head_mixing = mixing.then(|| Param::from_tensor(Tensor::eye(h, &device)));
        self
    }

    /// Whether the energy is the plain one: one β, no mixing (the fused descent's energy).
    pub fn is_plain(&self) -> bool {
        self.head_betas.is_none() && self.head_mixing.is_none()
    }

    /// β_h per head, [1, H, 1, 1], where they are learned.
    fn head_beta_column(&self) -> Option<Tensor<4>> {
        let (h, _, _) = self.heads();
        self.head_betas.as_ref().map(|u| (u.val().exp() * self.beta).reshape([1, h, 1, 1]))
    }

    /// t [B, H, C, K] mixed over its heads: out[:, h'] = Σ_h t[:, h] m[h, h'].
    fn mix(t: Tensor<4>, m: Tensor<2>) -> Tensor<4> {
        let [b, h, c, k] = t.dims();
        t.swap_dims(1, 3).reshape([b * k * c, h]).matmul(m).reshape([b, k, c, h]).swap_dims(1, 3)
    }

    /// The logits of the (mixed) heads from the products K_hB·Q_hC [B, H, C, B'].
    fn head_logits(&self, products: Tensor<4>) -> Tensor<4> {
        let scaled = match self.head_beta_column() {
            Some(b) => products * b,
            None => products * self.beta,
        };
        match &self.head_mixing {
            Some(m) => Self::mix(scaled, m.val()),
            None => scaled,
        }
    }

    /// Σ_h' (1/β_h') Σ_C lse_h'C per example: [B].
    fn weighed_lse(&self, lse: Tensor<4>) -> Tensor<1> {
        let [b, _, _, _] = lse.dims();
        match self.head_beta_column() {
            Some(beta) => (lse / beta).sum_dims(&[1, 2, 3]).reshape([b]),
            None => lse.sum_dims(&[1, 2, 3]).reshape([b]) * (1.0 / self.beta),
        }
    }

    /// The weights the gradient back-projects: P_h = β_h Σ_h' M_hh' S_h' / β_h' (S itself for
    /// the plain energy and without a mixing).
    pub(in crate::et) fn gradient_weights(&self, weights: Tensor<4>) -> Tensor<4> {
        let Some(m) = &self.head_mixing else { return weights };
        match self.head_beta_column() {
            Some(beta) => Self::mix(weights / beta.clone(), m.val().transpose()) * beta,
            None => Self::mix(weights, m.val().transpose()),
        }
    }

    fn heads(&self) -> (usize, usize, usize) {
        let [h, y, d] = self.wq.dims();
        (h, y, d)
    }

    /// g [B, N, D] · W [H, Y, D] → [B, H, N, Y].
    pub(in crate::et) fn project(g: Tensor<3>, w: Tensor<3>) -> Tensor<4> {
        let [b, n, d] = g.dims();
        let [h, y, _] = w.dims();
        let w = w.reshape([h * y, d]).transpose(); // [D, HY]
        super::linear(g, w).reshape([b, n, h, y]).swap_dims(1, 2)
    }

    pub(in crate::et) fn scores(&self, g: Tensor<3>, mask: &TokenMask) -> Scores {
        let q = Self::project(g.clone(), self.wq.val());
        let k = Self::project(g, self.wk.val());
        let logits = self.head_logits(q.clone().matmul(k.clone().swap_dims(2, 3))); // [B, H, C, B']
        self.normalise(q, k, logits, mask)
    }

    /// Softmax weights and log-sum-exp of the logits β K·Q [B, H, C, B'] over the allowed keys.
    pub(in crate::et) fn normalise(&self, q: Tensor<4>, k: Tensor<4>, logits: Tensor<4>, mask: &TokenMask) -> Scores {
        let [b, _, n, _] = logits.dims();
        let weights = mask.attention_weights(b, n, self.exclude_self, &logits.device());
        let (weights, lse) = masked_log_sum_exp(logits, weights);
        Scores { q, k, weights, lse }
    }

    /// E^ATT for each example: g [B, N, D] → [B].
    pub fn energy(&self, g: Tensor<3>, mask: &TokenMask) -> Tensor<1> {
        -self.weighed_lse(self.scores(g, mask).lse)
    }

    /// The softmax weights S_hCB over allowed keys (of the mixed heads, with a mixing):
    /// [B, H, N(query), N(key)].
    pub fn weights(&self, g: Tensor<3>, mask: &TokenMask) -> Tensor<4> {
        self.scores(g, mask).weights
    }

    /// E^ATT and ∂E^ATT/∂g together: g [B, N, D] → ([B], [B, N, D]).
    pub fn energy_and_grad(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>) {
        let s = self.scores(g, mask);
        let energy = -self.weighed_lse(s.lse);
        (energy, -self.back_project(self.gradient_weights(s.weights), s.q, s.k, 1.0, 1.0))
    }

    /// Σ_h [ (c_q W^Q_h)ᵀ Σ_B S_hAB K_hB + (c_k W^K_h)ᵀ Σ_C S_hCA Q_hC ] for every token A, from
    /// the weights S [B, H, N, N] and Q, K [B, H, N, Y]: [B, N, D]. With c_q = c_k = 1 it is
    /// −∂E/∂g.
    pub(in crate::et) fn back_project(
        &self,
        weights: Tensor<4>,
        q: Tensor<4>,
        k: Tensor<4>,
        cq: f64,
        ck: f64,
    ) -> Tensor<3> {
        let [b, _, n, _] = weights.dims();
        let (h, y, d) = self.heads();
        // Σ_B S_CB K_B for each query C, and Σ_C S_CB Q_C for each key B: [B, H, N, Y].
        let sk = weights.clone().matmul(k);
        let sq = weights.swap_dims(2, 3).matmul(q);
        let flat = |t: Tensor<4>| t.swap_dims(1, 2).reshape([b, n, h * y]); // [B, N, HY]
        let wq = self.wq.val().reshape([h * y, d]) * cq; // [HY, D]
        let wk = self.wk.val().reshape([h * y, d]) * ck;
        super::linear(flat(sk), wq) + super::linear(flat(sq), wk)
    }
}
