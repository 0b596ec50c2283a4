//! Which tokens are real and which pairs may attend: one mask for every Energy Transformer task.
//!
//! - `real` [B, N], 1 for a real token and 0 for padding (a batch of graphs of different sizes,
//!   padded to the largest). A padded token contributes nothing to any energy term — it is no key,
//!   no query and not in E^HN — receives no update, and is ignored by readouts and losses; the
//!   energy of a padded batch is the sum of its items' energies.
//! - `pairs` [B, 1 or H, N(query), N(key)], non-negative weights w_hCB: 0 = C may not attend to B,
//!   1 = it may, other values weight the term (w e^{βK·Q}), one set for all heads or one per head
//!   (graph adjacency, learned edge weights).
//!
//! The B ≠ C exclusion of the paper's equation is a switch of [`super::EnergyAttention`], applied
//! on top of the mask.

use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{shape, Result};

/// Real tokens and allowed pairs; [`TokenMask::all`] (the default) allows everything.
#[derive(Debug, Clone, Default)]
pub struct TokenMask {
    /// [B, N]: 1 = real token, 0 = padding. `None`: every token is real.
    pub real: Option<Tensor<2>>,
    /// [B, 1 or H, N(query), N(key)]: non-negative pair weights. `None`: every pair is allowed.
    pub pairs: Option<Tensor<4>>,
}

impl TokenMask {
    /// Every token real, every pair allowed.
    pub fn all() -> Self {
        TokenMask::default()
    }

    /// Pair weights [B, N(query), N(key)] shared by all heads; every token real.
    pub fn pairs(pairs: Tensor<3>) -> Self {
        TokenMask { real: None, pairs: Some(pairs.unsqueeze_dim(1)) }
    }

    /// Pair weights [B, N(query), N(key)] when given, else every pair allowed (the form the
    /// energy terms took before masks had their own type).
    pub fn from_pairs(pairs: Option<Tensor<3>>) -> Self {
        pairs.map_or_else(TokenMask::all, TokenMask::pairs)
    }

    /// Items of `lengths[b]` real tokens each, padded to `n`: token j of item b is real when j < lengths[b].
    ///
    /// # Errors
    /// A length of 0 or above `n`.
    pub fn from_lengths(lengths: &[usize], n: usize, device: &Device) -> Result<Self> {
        if let Some(i) = lengths.iter().position(|&l| l == 0 || l > n) {
            return Err(shape(
                "token count",
                format!("between 1 and the {n} padded tokens"),
                format!("{} (item {i})", lengths[i]),
            ));
        }
        let v: Vec<f32> = lengths.iter().flat_map(|&l| (0..n).map(move |j| if j < l { 1.0 } else { 0.0 })).collect();
        Ok(TokenMask { real: Some(Tensor::from_data(TensorData::new(v, [lengths.len(), n]), device)), pairs: None })
    }

    /// The same with per-head pair weights [B, H, N, N] (or [B, 1, N, N] for all heads).
    pub fn with_head_pairs(mut self, pairs: Tensor<4>) -> Self {
        self.pairs = Some(pairs);
        self
    }

    /// The same with pair weights [B, N, N] shared by all heads.
    pub fn with_pairs(self, pairs: Tensor<3>) -> Self {
        self.with_head_pairs(pairs.unsqueeze_dim(1))
    }

    /// Whether the mask allows everything.
    pub fn is_all(&self) -> bool {
        self.real.is_none() && self.pairs.is_none()
    }

    /// Checks the shapes against a batch of `b` items of `n` tokens and `heads` heads.
    pub fn check(&self, b: usize, n: usize, heads: usize) -> Result<()> {
        if let Some(r) = &self.real {
            if r.dims() != [b, n] {
                return Err(shape("real-token mask", format!("[{b}, {n}] (batch, tokens)"), format!("{:?}", r.dims())));
            }
        }
        if let Some(p) = &self.pairs {
            let [pb, ph, pq, pk] = p.dims();
            if pb != b || (ph != 1 && ph != heads) || pq != n || pk != n {
                return Err(shape(
                    "mask",
                    format!("[{b}, {n}, {n}] (batch, query, key), or [{b}, 1 or {heads}, {n}, {n}] per head"),
                    // A mask shared by the heads is shown as it was given, [B, N, N].
                    if ph == 1 { format!("{:?}", [pb, pq, pk]) } else { format!("{:?}", p.dims()) },
                ));
            }
        }
        Ok(())
    }

    /// `real` as [B, N, 1], to scale per-token quantities.
    pub(crate) fn real_column(&self) -> Option<Tensor<3>> {
        self.real.clone().map(|r| r.unsqueeze_dim(2))
    }

    /// The attention's weights [B, 1 or H, N, N]: the pair weights, times real query and real key,
    /// times the off-diagonal when `exclude_self`; `None` when everything is allowed.
    pub(crate) fn attention_weights(
        &self,
        b: usize,
        n: usize,
        exclude_self: bool,
        device: &Device,
    ) -> Option<Tensor<4>> {
        let mut w = self.pairs.clone();
        if let Some(r) = &self.real {
            // real(query) · real(key): [B, N, 1] × [B, 1, N] → [B, 1, N, N]
            let both = (r.clone().unsqueeze_dim::<3>(2) * r.clone().unsqueeze_dim::<3>(1)).unsqueeze_dim::<4>(1);
            w = Some(match w {
                Some(p) => p * both,
                None => both,
            });
        }
        if exclude_self {
            let off = (Tensor::<2>::ones([n, n], device) - Tensor::<2>::eye(n, device)).unsqueeze_dims::<4>(&[0, 1]);
            w = Some(match w {
                Some(p) => p * off,
                None => off.expand([b, 1, n, n]),
            });
        }
        w
    }
}
