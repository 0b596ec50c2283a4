//! Energy attention (Hoover et al. 2023, Eq. for E^ATT), with a [`TokenMask`] (real tokens and
//! allowed pairs) and the switch for the B ≠ C exclusion.
//!
//! K_hB = W^K_h g_B, Q_hC = W^Q_h g_C (W: H×Y×D);
//! E = −(1/β) Σ_h Σ_{C real} log Σ_{B allowed for C} w_hCB exp(β K_hB·Q_hC),
//! where w_hCB is the pair weight (1 = allowed, 0 = not; graph adjacency weights also work) and a
//! padded token is neither key nor query. A query that may see no key contributes nothing. With the softmax weights S_hCB over the allowed keys:
//! ∂E/∂g_A = −Σ_h [ W^Qᵀ_h Σ_B S_hAB K_hB + W^Kᵀ_h Σ_C S_hCA Q_hC ].

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
}

/// Intermediate results shared by the energy and its gradient.
pub(in crate::et) struct Scores {
    /// Q: [B, H, N, Y].
    pub q: Tensor<4>,
    /// K: [B, H, N, Y].
    pub k: Tensor<4>,
    /// Softmax weights over allowed keys: [B, H, N(query), N(key)].
    pub weights: Tensor<4>,
    /// Per-query log Σ w exp(β K·Q), 0 for queries that see nothing: [B, H, N, 1].
    pub lse: Tensor<4>,
}

impl EnergyAttention {
    /// Builds the module from its weights.
    pub fn new(wq: Tensor<3>, wk: Tensor<3>, beta: f64, exclude_self: bool) -> Self {
        EnergyAttention { wq: Param::from_tensor(wq), wk: Param::from_tensor(wk), beta, exclude_self }
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

    fn scores(&self, g: Tensor<3>, mask: &TokenMask) -> Scores {
        let q = Self::project(g.clone(), self.wq.val());
        let k = Self::project(g, self.wk.val());
        let logits = q.clone().matmul(k.clone().swap_dims(2, 3)) * self.beta; // [B, H, C, B']
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
        let [b, _, _] = g.dims();
        let s = self.scores(g, mask);
        s.lse.sum_dims(&[1, 2, 3]).reshape([b]) * (-1.0 / self.beta)
    }

    /// The softmax weights S_hCB over allowed keys: [B, H, N(query), N(key)].
    pub fn weights(&self, g: Tensor<3>, mask: &TokenMask) -> Tensor<4> {
        self.scores(g, mask).weights
    }

    /// E^ATT and ∂E^ATT/∂g together: g [B, N, D] → ([B], [B, N, D]).
    pub fn energy_and_grad(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>) {
        let [b, _, _] = g.dims();
        let s = self.scores(g, mask);
        let energy = s.lse.sum_dims(&[1, 2, 3]).reshape([b]) * (-1.0 / self.beta);
        (energy, -self.back_project(s.weights, s.q, s.k, 1.0, 1.0))
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
