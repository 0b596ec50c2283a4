//! Energy attention (Hoover et al. 2023, Eq. for E^ATT), with an optional mask of which keys
//! each query may see and the switch for the B ≠ C exclusion.
//!
//! K_hB = W^K_h g_B, Q_hC = W^Q_h g_C (W: H×Y×D);
//! E = −(1/β) Σ_h Σ_C log Σ_{B allowed for C} w_CB exp(β K_hB·Q_hC),
//! where w_CB is the mask (1 = allowed, 0 = not; graph adjacency weights also work). A query that
//! may see no key contributes nothing. With the softmax weights S_hCB over the allowed keys:
//! ∂E/∂g_A = −Σ_h [ W^Qᵀ_h Σ_B S_hAB K_hB + W^Kᵀ_h Σ_C S_hCA Q_hC ].

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

/// A large negative logit for excluded keys (finite, so that 0 · it stays 0).
const EXCLUDED: f64 = -1e30;

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
struct Scores {
    /// Q: [B, H, N, Y].
    q: Tensor<4>,
    /// K: [B, H, N, Y].
    k: Tensor<4>,
    /// Softmax weights over allowed keys: [B, H, N(query), N(key)].
    weights: Tensor<4>,
    /// Per-query log Σ w exp(β K·Q), 0 for queries that see nothing: [B, H, N, 1].
    lse: Tensor<4>,
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
    fn project(g: Tensor<3>, w: Tensor<3>) -> Tensor<4> {
        let [b, n, d] = g.dims();
        let [h, y, _] = w.dims();
        let w = w.reshape([h * y, d]).transpose(); // [D, HY]
        super::linear(g, w).reshape([b, n, h, y]).swap_dims(1, 2)
    }

    /// The allowed-key weights [B, 1, N, N] combining the mask and the exclusion, or None when
    /// every key is allowed.
    fn allowed(&self, b: usize, n: usize, mask: Option<Tensor<3>>, device: &Device) -> Option<Tensor<4>> {
        let mut allowed = mask;
        if self.exclude_self {
            let off_diag = Tensor::<2>::ones([n, n], device) - Tensor::<2>::eye(n, device);
            let off_diag = off_diag.unsqueeze_dim::<3>(0);
            allowed = Some(match allowed {
                Some(m) => m * off_diag,
                None => off_diag.expand([b, n, n]),
            });
        }
        allowed.map(|m| m.unsqueeze_dim::<4>(1))
    }

    fn scores(&self, g: Tensor<3>, mask: Option<Tensor<3>>) -> Scores {
        let q = Self::project(g.clone(), self.wq.val());
        let k = Self::project(g, self.wk.val());
        let logits = q.clone().matmul(k.clone().swap_dims(2, 3)) * self.beta; // [B, H, C, B']
        self.normalise(q, k, logits, mask)
    }

    /// Softmax weights and log-sum-exp of the logits β K·Q [B, H, C, B'] over the allowed keys.
    fn normalise(&self, q: Tensor<4>, k: Tensor<4>, logits: Tensor<4>, mask: Option<Tensor<3>>) -> Scores {
        let [b, _, n, _] = logits.dims();
        let device = logits.device();
        let (weights, lse) = match self.allowed(b, n, mask, &device) {
            None => {
                let max = logits.clone().max_dim(3).detach();
                let e = (logits - max.clone()).exp();
                let z = e.clone().sum_dim(3);
                (e / z.clone(), max + z.log())
            }
            Some(w) => {
                let blocked = w.clone().equal_elem(0.0);
                let max = logits.clone().mask_fill(blocked.clone(), EXCLUDED).max_dim(3).detach();
                let e = (logits - max.clone()).exp().mask_fill(blocked, 0.0) * w;
                let z = e.clone().sum_dim(3);
                let seen = z.clone().greater_elem(0.0).float();
                let z_safe = z.clamp_min(f32::MIN_POSITIVE as f64);
                (e / z_safe.clone(), (max + z_safe.log()) * seen)
            }
        };
        Scores { q, k, weights, lse }
    }

    /// E^ATT for each example: g [B, N, D], mask [B, N, N] (query, key) → [B].
    pub fn energy(&self, g: Tensor<3>, mask: Option<Tensor<3>>) -> Tensor<1> {
        let [b, _, _] = g.dims();
        let s = self.scores(g, mask);
        s.lse.sum_dims(&[1, 2, 3]).reshape([b]) * (-1.0 / self.beta)
    }

    /// The softmax weights S_hCB over allowed keys: [B, H, N(query), N(key)].
    pub fn weights(&self, g: Tensor<3>, mask: Option<Tensor<3>>) -> Tensor<4> {
        self.scores(g, mask).weights
    }

    /// E^ATT and ∂E^ATT/∂g together: g [B, N, D] → ([B], [B, N, D]).
    pub fn energy_and_grad(&self, g: Tensor<3>, mask: Option<Tensor<3>>) -> (Tensor<1>, Tensor<3>) {
        let [b, _, _] = g.dims();
        let s = self.scores(g, mask);
        let energy = s.lse.sum_dims(&[1, 2, 3]).reshape([b]) * (-1.0 / self.beta);
        (energy, -self.back_project(s.weights, s.q, s.k, 1.0, 1.0))
    }

    /// The descent's step from this term, −α ∂E^ATT/∂g, with β and α folded into the small
    /// weight matrices instead of full passes over [B, H, N, N] and [B, N, D]: with Q' = βQ,
    /// −α ∂E/∂g_A = Σ_h [ (α W^Q_h)ᵀ Σ_B S_hAB K_hB + (α/β W^K_h)ᵀ Σ_C S_hCA Q'_hC ].
    pub fn descent_step(&self, g: Tensor<3>, mask: Option<Tensor<3>>, alpha: f64) -> Tensor<3> {
        let q = Self::project(g.clone(), self.wq.val() * self.beta); // Q' = βQ
        let k = Self::project(g, self.wk.val());
        let logits = q.clone().matmul(k.clone().swap_dims(2, 3));
        let s = self.normalise(q, k, logits, mask);
        self.back_project(s.weights, s.q, s.k, alpha, alpha / self.beta)
    }

    /// Σ_h [ (c_q W^Q_h)ᵀ Σ_B S_hAB K_hB + (c_k W^K_h)ᵀ Σ_C S_hCA Q_hC ] for every token A, from
    /// the weights S [B, H, N, N] and Q, K [B, H, N, Y]: [B, N, D]. With c_q = c_k = 1 it is
    /// −∂E/∂g.
    fn back_project(&self, weights: Tensor<4>, q: Tensor<4>, k: Tensor<4>, cq: f64, ck: f64) -> Tensor<3> {
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
