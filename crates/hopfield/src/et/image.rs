//! The Energy Transformer for masked image reconstruction (Hoover et al. 2023, §4; the official
//! `image_core.py`): patches → linear encoder → MASK token on the replaced patches → CLS token
//! prepended at position 0 → learned position embedding → T descent steps → drop CLS →
//! g = LN(x) → LN again inside the decoder → linear decoder → patches. Loss: mean squared error
//! over the scored (masked) patches, [`masked_patch_mse`].

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{normal, Descent, DescentResult, EnergyTransformer, EtConfig, Observe, TokenMask};
use crate::error::{invalid, positive, shape, Result};

/// Sizes of the image model, with the official defaults in [`ImageEtConfig::official`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageEtConfig {
    /// Channels, height and width of the images.
    pub image: (usize, usize, usize),
    /// Side of a square patch; height and width must be multiples of it.
    pub patch: usize,
    /// The block.
    pub et: EtConfig,
    /// Standard deviation of the initial CLS, MASK tokens and position embedding (official 0.002).
    pub embed_std: f64,
    /// Standard deviation of the initial encoder and decoder weights (official 0.1).
    pub linear_std: f64,
    /// T and α of the forward pass (official 12 and 0.1; configs written before this field
    /// existed held them in the training configuration, which still loads them).
    #[serde(default)]
    pub descent: Descent,
}

impl ImageEtConfig {
    /// A model for `image` = (C, H, W) images cut into `patch`×`patch` patches.
    pub fn new(image: (usize, usize, usize), patch: usize, et: EtConfig) -> Self {
        ImageEtConfig { image, patch, et, embed_std: 0.002, linear_std: 0.1, descent: Descent::default() }
    }

    /// The official configuration: 3×224×224, patch 16 (196 patches of 768 values), D = 768,
    /// 12 heads of 64, 3072 memories, self-attention allowed.
    pub fn official() -> Self {
        ImageEtConfig::new((3, 224, 224), 16, EtConfig::new(768, 12, 64, 3072))
    }

    /// Patches per image.
    pub fn patches(&self) -> usize {
        (self.image.1 / self.patch.max(1)) * (self.image.2 / self.patch.max(1))
    }

    /// Values per patch: C·p·p.
    pub fn patch_elements(&self) -> usize {
        self.image.0 * self.patch * self.patch
    }

    /// Every parameter of the model with this configuration's shapes: the one declaration its
    /// checkpoints and the official `.npz` importer read (names, shapes, keys).
    pub fn parameters(&self) -> Vec<ImageParam> {
        let (h, y, d, m) = (self.et.heads, self.et.head_dim, self.et.dim, self.et.memories);
        let (p, n) = (self.patch_elements(), self.patches());
        let param = |name, official, shape: &[usize], official_shape: &[usize], symbols, role| ImageParam {
            name,
            official,
            shape: shape.to_vec(),
            official_shape: official_shape.to_vec(),
            symbols,
            role,
        };
        vec![
            param("et.attention.wk", "Wk", &[h, y, d], &[h, y, d], "(H, Y, D)", "W^K, the attention's keys"),
            param("et.attention.wq", "Wq", &[h, y, d], &[h, y, d], "(H, Y, D), as Wk", "W^Q, the attention's queries"),
            param(
                "et.hopfield.xi",
                "Xi",
                &[m, d],
                &[d, m],
                "(D, M)",
                "ξ, the Hopfield memories (stored transposed there)",
            ),
            param("encoder_weight", "Wenc", &[p, d], &[p, d], "(C·p·p, D)", "the patch encoder's weight"),
            param("encoder_bias", "Benc", &[d], &[d], "(D)", "the patch encoder's bias"),
            param("decoder_weight", "Wdec", &[d, p], &[d, p], "(D, C·p·p)", "the patch decoder's weight"),
            param("decoder_bias", "Bdec", &[p], &[p], "(C·p·p)", "the patch decoder's bias"),
            param(
                "pos_embed",
                "POS_embed",
                &[n + 1, d],
                &[n + 1, d],
                "(N + 1, D)",
                "position embedding, row 0 for CLS",
            ),
            param("cls_token", "CLS_token", &[d], &[d], "(D)", "the CLS token"),
            param("mask_token", "MASK_token", &[d], &[d], "(D)", "the MASK token"),
            param("et.norm.gamma", "LNORM_gamma", &[1], &[], "a scalar", "γ, the layer norm's gain"),
            param("et.norm.delta", "LNORM_bias", &[d], &[d], "(D)", "δ, the layer norm's bias"),
        ]
    }

    /// The number of parameters (block, encoder, decoder, position embedding, CLS and MASK
    /// tokens), in checked arithmetic: `None` when it does not fit in a u128.
    pub fn parameter_count(&self) -> Option<u128> {
        // Each size fits a usize once C·p·p does; the products are taken in u128.
        self.image.0.checked_mul(self.patch)?.checked_mul(self.patch)?;
        self.parameters().iter().try_fold(0u128, |sum, p| {
            sum.checked_add(p.shape.iter().try_fold(1u128, |a, &s| a.checked_mul(s as u128))?)
        })
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<()> {
        self.et.validate()?;
        let (c, h, w) = self.image;
        if c == 0 || h == 0 || w == 0 {
            return Err(invalid("image", format!("{c}×{h}×{w}"), "channels, height and width must be positive"));
        }
        if self.patch == 0 {
            return Err(invalid("patch", 0, "the patch size must be positive"));
        }
        if h % self.patch != 0 || w % self.patch != 0 {
            return Err(shape("patch size", format!("a divisor of the image height {h} and width {w}"), self.patch));
        }
        positive("embed_std", self.embed_std)?;
        positive("linear_std", self.linear_std)?;
        self.descent.validate()
    }

    /// A model with weights drawn by a ChaCha8 generator seeded with `seed`.
    pub fn init(&self, seed: u64, device: &Device) -> Result<ImageEnergyTransformer> {
        self.validate()?;
        let et = self.et.init(seed, device)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x1a6e);
        let (p, d, n) = (self.patch_elements(), self.et.dim, self.patches());
        Ok(ImageEnergyTransformer {
            et,
            encoder_weight: Param::from_tensor(normal(&mut rng, [p, d], self.linear_std, device)),
            encoder_bias: Param::from_tensor(Tensor::zeros([d], device)),
            decoder_weight: Param::from_tensor(normal(&mut rng, [d, p], self.linear_std, device)),
            decoder_bias: Param::from_tensor(Tensor::zeros([p], device)),
            pos_embed: Param::from_tensor(normal(&mut rng, [n + 1, d], self.embed_std, device)),
            cls_token: Param::from_tensor(normal(&mut rng, [d], self.embed_std, device)),
            mask_token: Param::from_tensor(normal(&mut rng, [d], self.embed_std, device)),
            image: [self.image.0, self.image.1, self.image.2],
            patch: self.patch,
        })
    }
}

/// One parameter of the image model ([`ImageEtConfig::parameters`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageParam {
    /// Its name in checkpoints (the module path), e.g. `et.attention.wq`.
    pub name: &'static str,
    /// Its key in the official Energy Transformer's `.npz`.
    pub official: &'static str,
    /// Its shape here.
    pub shape: Vec<usize>,
    /// Its shape in the official file (ξ transposed, γ a scalar).
    pub official_shape: Vec<usize>,
    /// The official shape in symbols, for messages.
    pub symbols: &'static str,
    /// What it is.
    pub role: &'static str,
}

/// The image model. Its layer norm (`et.norm`) is the only one: used in every descent step and
/// twice before decoding, as in the official code.
#[derive(Module, Debug)]
pub struct ImageEnergyTransformer {
    /// The block (layer norm, attention, Hopfield module).
    pub et: EnergyTransformer,
    /// Encoder W: [C·p·p, D].
    pub encoder_weight: Param<Tensor<2>>,
    /// Encoder bias: [D].
    pub encoder_bias: Param<Tensor<1>>,
    /// Decoder W: [D, C·p·p].
    pub decoder_weight: Param<Tensor<2>>,
    /// Decoder bias: [C·p·p].
    pub decoder_bias: Param<Tensor<1>>,
    /// Position embedding: [N + 1, D] (row 0 is the CLS position).
    pub pos_embed: Param<Tensor<2>>,
    /// CLS token: [D].
    pub cls_token: Param<Tensor<1>>,
    /// MASK token: [D].
    pub mask_token: Param<Tensor<1>>,
    /// C, H, W.
    pub image: [usize; 3],
    /// Patch side.
    pub patch: usize,
}

/// What [`ImageEnergyTransformer::forward`] returns.
#[derive(Debug, Clone)]
pub struct Reconstruction {
    /// Decoded patches: [B, N, C·p·p].
    pub patches: Tensor<3>,
    /// The descent's energies E(g(x_t)), t = 0..=T, each [B] (empty unless recorded).
    pub energy: Vec<Tensor<1>>,
}

impl ImageEnergyTransformer {
    /// Patches per image.
    pub fn patches(&self) -> usize {
        (self.image[1] / self.patch) * (self.image[2] / self.patch)
    }

    /// A configuration with this model's sizes (image, patch, D, H, Y, M), read off its weights;
    /// its other settings are the defaults — for estimates, not to rebuild the model.
    pub fn sizes(&self) -> ImageEtConfig {
        let [h, y, d] = self.et.attention.wq.dims();
        let m = self.et.hopfield.xi.dims()[0];
        ImageEtConfig::new((self.image[0], self.image[1], self.image[2]), self.patch, EtConfig::new(d, h, y, m))
    }

    /// Cuts images into flattened patches in (c, h, w) order, patches row by row.
    ///
    /// # Shapes
    /// [B, C, H, W] → [B, N, C·p·p]
    pub fn patchify(&self, images: Tensor<4>) -> Tensor<3> {
        patchify(images, self.patch)
    }

    /// The inverse of [`patchify`](Self::patchify): [B, N, C·p·p] → [B, C, H, W].
    pub fn unpatchify(&self, patches: Tensor<3>) -> Tensor<4> {
        let [b, _, _] = patches.dims();
        let [c, h, w] = self.image;
        let p = self.patch;
        let (kh, kw) = (h / p, w / p);
        patches.reshape([b, kh, kw, c, p, p]).permute([0, 3, 1, 4, 2, 5]).reshape([b, c, h, w])
    }

    /// Tokens for the descent: encoded patches, MASK token where `replaced` is 1, CLS first,
    /// plus the position embedding. [B, N, C·p·p], [B, N] → [B, N + 1, D].
    pub fn tokens(&self, patches: Tensor<3>, replaced: Tensor<2>) -> Tensor<3> {
        let [b, n, _] = patches.dims();
        let d = self.et.dim();
        let enc =
            super::linear(patches, self.encoder_weight.val()) + self.encoder_bias.val().unsqueeze_dims::<3>(&[0, 1]);
        let r = replaced.unsqueeze_dim::<3>(2); // [B, N, 1]
        let mask = self.mask_token.val().unsqueeze_dims::<3>(&[0, 1]); // [1, 1, D]
        let x = enc * (r.clone().neg() + 1.0) + mask * r;
        let cls = self.cls_token.val().unsqueeze_dims::<3>(&[0, 1]).expand([b, 1, d]);
        Tensor::cat(vec![cls, x], 1) + self.pos_embed.val().unsqueeze_dim::<3>(0).slice([0..1, 0..n + 1, 0..d])
    }

    /// Decodes tokens (CLS already dropped): g = LN(x), then LN(g) · W + b. [B, N, D] → [B, N, C·p·p].
    pub fn decode(&self, x: Tensor<3>) -> Tensor<3> {
        let g = self.et.norm.activation(x);
        let g = self.et.norm.activation(g);
        super::linear(g, self.decoder_weight.val()) + self.decoder_bias.val().unsqueeze_dims::<3>(&[0, 1])
    }

    /// The whole pipeline: images [B, C, H, W] and the 0/1 `replaced` mask [B, N] (patches whose
    /// token is replaced by the MASK token) → reconstructed patches after the `descent`, with the
    /// energies when `observe` asks for them. T = 0 decodes the tokens without any dynamics (and
    /// records nothing).
    ///
    /// # Errors
    /// Images or mask of the wrong shape; α ≤ 0 or not finite.
    pub fn forward(
        &self,
        images: Tensor<4>,
        replaced: Tensor<2>,
        descent: &Descent,
        observe: Observe,
    ) -> Result<Reconstruction> {
        let x = self.checked_tokens(images, replaced, descent)?;
        if descent.steps == 0 {
            return Ok(Reconstruction { patches: self.decode(drop_cls(x)), energy: Vec::new() });
        }
        let observe = if observe == Observe::Trajectory { Observe::Energy } else { observe };
        let DescentResult { x, energy, .. } = self.et.descend(x, &TokenMask::all(), descent, observe)?;
        Ok(Reconstruction { patches: self.decode(drop_cls(x)), energy })
    }

    /// The tokens of [`Self::tokens`] after checking the shapes and the descent.
    fn checked_tokens(&self, images: Tensor<4>, replaced: Tensor<2>, descent: &Descent) -> Result<Tensor<3>> {
        descent.validate()?;
        let [b, c, h, w] = images.dims();
        if [c, h, w] != self.image {
            return Err(shape("images", format!("[batch, {:?}]", self.image), format!("{:?}", images.dims())));
        }
        let n = self.patches();
        if replaced.dims() != [b, n] {
            return Err(shape("mask", format!("[{b}, {n}] (batch, patches)"), format!("{:?}", replaced.dims())));
        }
        Ok(self.tokens(self.patchify(images), replaced))
    }

    /// The descent made visible: the decoded patches after each step t = 0..=T (t = 0 decodes the
    /// initial tokens) and the energy E(g(x_t)) at each, from one run of the descent.
    ///
    /// # Shapes
    /// images [B, C, H, W], replaced [B, N] → T + 1 decoded [B, N, C·p·p] and T + 1 energies [B]
    pub fn trajectory(
        &self,
        images: Tensor<4>,
        replaced: Tensor<2>,
        descent: &Descent,
    ) -> Result<(Vec<Tensor<3>>, Vec<Tensor<1>>)> {
        let x = self.checked_tokens(images, replaced, descent)?;
        let r = self.et.descend(x, &TokenMask::all(), descent, Observe::Trajectory)?;
        let decoded = r.states.into_iter().map(|x| self.decode(drop_cls(x))).collect();
        Ok((decoded, r.energy))
    }
}

/// Cuts images into flattened `patch`×`patch` patches in (c, h, w) order, patches row by row —
/// the model's [`ImageEnergyTransformer::patchify`], which needs no weights.
///
/// # Shapes
/// [B, C, H, W] → [B, N, C·p·p]
pub fn patchify(images: Tensor<4>, patch: usize) -> Tensor<3> {
    let [b, c, h, w] = images.dims();
    let p = patch;
    let (kh, kw) = (h / p, w / p);
    // [B, C, kh, p, kw, p] → [B, kh, kw, C, p, p]
    images.reshape([b, c, kh, p, kw, p]).permute([0, 2, 4, 1, 3, 5]).reshape([b, kh * kw, c * p * p])
}

fn drop_cls(x: Tensor<3>) -> Tensor<3> {
    let [b, n1, d] = x.dims();
    x.slice([0..b, 1..n1, 0..d])
}

/// Mean squared error over the scored patches: Σ s·(pred − target)² / (Σ s · C·p·p), with
/// `scored` [B, N] 0/1. (An MSE, not an RMSE.)
pub fn masked_patch_mse(pred: Tensor<3>, target: Tensor<3>, scored: Tensor<2>) -> Tensor<1> {
    let [_, _, p] = pred.dims();
    let s = scored.unsqueeze_dim::<3>(2);
    let count = s.clone().sum() * p as f64;
    ((pred - target).square() * s).sum() / count.clamp_min(1.0)
}

/// Which patches are masked: `masked` of the N patches are scored, and of those a share
/// `replaced_share` (rounded) get the MASK token; the rest keep their own token but are scored
/// (the paper: 90/10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskSpec {
    /// How many patches per image are scored.
    pub masked: usize,
    /// The share of scored patches whose token is replaced by MASK.
    pub replaced_share: f64,
}

impl MaskSpec {
    /// A spec from a fraction of the N patches (rounded, at least one).
    pub fn from_fraction(fraction: f64, patches: usize, replaced_share: f64) -> Result<Self> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(invalid("mask-fraction", fraction, "the fraction of masked patches must lie in (0, 1)"));
        }
        let masked = ((fraction * patches as f64).round() as usize).clamp(1, patches);
        let spec = MaskSpec { masked, replaced_share };
        spec.validate(patches)?;
        Ok(spec)
    }

    /// Checks the spec against N patches.
    pub fn validate(&self, patches: usize) -> Result<()> {
        if self.masked == 0 || self.masked > patches {
            return Err(invalid("masked patches", self.masked, "between 1 and the number of patches"));
        }
        if !(0.0..=1.0).contains(&self.replaced_share) {
            return Err(invalid("replaced share", self.replaced_share, "a share in [0, 1]"));
        }
        Ok(())
    }

    /// (scored, replaced) 0/1 masks, [count, patches] each, drawn from `seed` as in training.
    pub fn from_seed(&self, seed: u64, count: usize, patches: usize) -> (Vec<f32>, Vec<f32>) {
        self.sample(&mut ChaCha8Rng::seed_from_u64(seed), count, patches)
    }

    /// Draws (scored, replaced) 0/1 masks for `batch` images of `patches` patches, row-major [B, N].
    pub fn sample(&self, rng: &mut ChaCha8Rng, batch: usize, patches: usize) -> (Vec<f32>, Vec<f32>) {
        let replaced_count = (self.replaced_share * self.masked as f64).round() as usize;
        let mut scored = vec![0f32; batch * patches];
        let mut replaced = vec![0f32; batch * patches];
        for b in 0..batch {
            for (j, i) in sample(rng, patches, self.masked).into_iter().enumerate() {
                scored[b * patches + i] = 1.0;
                if j < replaced_count {
                    replaced[b * patches + i] = 1.0;
                }
            }
        }
        (scored, replaced)
    }
}
