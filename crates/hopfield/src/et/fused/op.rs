//! The fused descent as a burn operation with a hand-written backward (issue 12, part 2): without
//! autodiff one call runs the T steps on one set of work buffers; under autodiff the training
//! graph records one operation per step instead of the dozens of tensor ops of a folded step, and
//! the reverse pass is [`super::backward::backward`] over the buffers the forward kept. This file
//! is the one adapter between tensors and plain buffers, for inference and training alike.
//!
//! Saved per step (chosen on purpose): the input x (its values, read once for the forward), the
//! layer norm's mean and 1/σ per token ([B·N] each; x̂ is rebuilt from x, cheaper than storing
//! it), g, Q', K, S K, Sᵀ Q' ([B·N, D] and four [B·N, H·Y]), the softmax weights S ([B, H, N, N])
//! and the Hopfield activations ([B·N, M]; act' is read off them, so the pre-activations are not
//! kept). Recomputing S or the activations would cost two more GEMM passes per step; keeping
//! them costs memory of the same order as the tensor path's saved activations.
//!
//! Runs on burn's Flex (CPU) backend, f32 or f64; [`super::super::EnergyTransformer::descend`]
//! chooses it only there.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, ExtensionType, Flex};
use burn::tensor::{DType, Tensor, TensorData};

use super::backward::backward;
use super::{FusedBlock, FusedMask, Kernels, Work};

/// The tensors a step differentiates: the tokens and the block's weights.
#[derive(ExtensionType)]
pub struct StepInputs<B: Backend> {
    /// x: [B, N, D].
    pub x: FloatTensor<B>,
    /// W^Q, W^K: [H, Y, D].
    pub wq: FloatTensor<B>,
    pub wk: FloatTensor<B>,
    /// ξ: [M, D].
    pub xi: FloatTensor<B>,
    /// γ: [1].
    pub gamma: FloatTensor<B>,
    /// δ: [D].
    pub delta: FloatTensor<B>,
}

/// A part of the token mask, constant for the step.
#[derive(ExtensionType)]
pub enum MaskPart<B: Backend> {
    /// Real tokens [B, N] or pair weights [B, 1|H, N, N].
    Given(FloatTensor<B>),
    /// Everything allowed.
    Absent,
}

/// The step's constants, and how many steps one call runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSettings {
    /// T of this call: the whole descent without autodiff; under autodiff each step is recorded
    /// as its own operation.
    pub steps: usize,
    /// α.
    pub alpha: f64,
    /// The attention's β.
    pub beta: f64,
    /// The layer norm's ε.
    pub eps: f64,
    /// `None`: ReLU² memories; `Some(β)`: softmax memories.
    pub hopfield_beta: Option<f64>,
    /// Whether a token may not attend to itself.
    pub exclude_self: bool,
}

/// The descent step as a backend operation.
#[backend_extension(Autodiff, Flex)]
pub trait EtStepOps: Backend {
    /// x after `settings.steps` steps: [B, N, D] → [B, N, D].
    fn et_step(
        #[extension_type] inputs: StepInputs<Self>,
        #[extension_type] real: MaskPart<Self>,
        #[extension_type] pairs: MaskPart<Self>,
        settings: StepSettings,
    ) -> FloatTensor<Self>;
}

/// The steps on tensors: the entry point the descent calls (Flex devices only).
pub(crate) fn descend(
    inputs: [Tensor<3>; 3],
    xi: Tensor<2>,
    norm: [Tensor<1>; 2],
    mask: &super::super::TokenMask,
    settings: StepSettings,
) -> Tensor<3> {
    let [x, wq, wk] = inputs;
    let [gamma, delta] = norm;
    let real = mask.real.clone().map_or(MaskPart::Absent, |r| MaskPart::Given(r.into_dispatch()));
    let pairs = mask.pairs.clone().map_or(MaskPart::Absent, |p| MaskPart::Given(p.into_dispatch()));
    let inputs = StepInputs {
        x: x.into_dispatch(),
        wq: wq.into_dispatch(),
        wk: wk.into_dispatch(),
        xi: xi.into_dispatch(),
        gamma: gamma.into_dispatch(),
        delta: delta.into_dispatch(),
    };
    Tensor::from_dispatch(<Dispatch as EtStepOps>::et_step(inputs, real, pairs, settings))
}

/// Reading and writing Flex buffers of one float type.
trait FlexReal: Kernels + burn::tensor::Element {
    fn read(t: FlexTensor) -> Vec<Self> {
        t.into_data().convert::<Self>().try_into_vec::<Self>().expect("converted to the float type read")
    }
    fn write(v: Vec<Self>, shape: &[usize]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(v, shape.to_vec()))
    }
    fn saved(s: Arc<Saved<Self>>) -> SavedAny;
}

impl FlexReal for f32 {
    fn saved(s: Arc<Saved<f32>>) -> SavedAny {
        SavedAny::F32(s)
    }
}

impl FlexReal for f64 {
    fn saved(s: Arc<Saved<f64>>) -> SavedAny {
        SavedAny::F64(s)
    }
}

/// The plain inputs of a step, read from Flex tensors.
#[derive(Debug)]
struct Plain<T> {
    block: FusedBlock<T>,
    x: Vec<T>,
    shape: [usize; 3],
    real: Option<Vec<T>>,
    pairs: Option<(Vec<T>, usize)>,
}

impl<T: Kernels> Plain<T> {
    fn mask(&self) -> FusedMask<'_, T> {
        FusedMask { real: self.real.as_deref(), pairs: self.pairs.as_ref().map(|(v, hp)| (v.as_slice(), *hp)) }
    }
}

fn read_inputs<T: FlexReal>(
    p: [FlexTensor; 6],
    real: Option<FlexTensor>,
    pairs: Option<FlexTensor>,
    s: StepSettings,
) -> Plain<T> {
    let [x, wq, wk, xi, gamma, delta] = p;
    let shape: [usize; 3] = x.layout().shape().dims();
    let [h, y, d]: [usize; 3] = wq.layout().shape().dims();
    let m = xi.layout().shape().dims::<2>()[0];
    let pairs = pairs.map(|p| {
        let hp = p.layout().shape().dims::<4>()[1];
        (T::read(p), hp)
    });
    let weights = [T::read(wq), T::read(wk), T::read(xi), T::read(delta)];
    Plain {
        block: FusedBlock::new([h, y, d, m], weights, T::read(gamma)[0], &s),
        x: T::read(x),
        shape,
        real: real.map(T::read),
        pairs,
    }
}

/// The steps in the tensors' float type (f32 or f64) on one set of work buffers: x after them,
/// and with `keep` what a training step's backward reads (its input and the step's buffers).
fn run(
    p: [FlexTensor; 6],
    real: Option<FlexTensor>,
    pairs: Option<FlexTensor>,
    settings: StepSettings,
    keep: bool,
) -> (FlexTensor, Option<SavedAny>) {
    fn typed<T: FlexReal>(mut plain: Plain<T>, steps: usize, keep: bool) -> (FlexTensor, Option<SavedAny>) {
        // Inference moves the tokens through the steps; training keeps its input for the backward.
        let mut out = if keep { plain.x.clone() } else { std::mem::take(&mut plain.x) };
        let mut work = Work::new(&plain.block, out.len() / plain.block.d.max(1), plain.shape[1]);
        if !out.is_empty() {
            (0..steps).for_each(|_| work.step(&plain.block, &mut out, &plain.mask()));
        }
        let out = T::write(out, &plain.shape);
        (out, keep.then(|| T::saved(Arc::new(Saved { plain, work }))))
    }
    if p[0].dtype() == DType::F64 {
        typed(read_inputs::<f64>(p, real, pairs, settings), settings.steps, keep)
    } else {
        typed(read_inputs::<f32>(p, real, pairs, settings), settings.steps, keep)
    }
}

impl EtStepOps for Flex {
    fn et_step(
        inputs: StepInputs<Self>,
        real: MaskPart<Self>,
        pairs: MaskPart<Self>,
        settings: StepSettings,
    ) -> FlexTensor {
        let p = [inputs.x, inputs.wq, inputs.wk, inputs.xi, inputs.gamma, inputs.delta];
        run(p, given(real), given(pairs), settings, false).0
    }
}

fn given<B: Backend>(part: MaskPart<B>) -> Option<FloatTensor<B>> {
    match part {
        MaskPart::Given(t) => Some(t),
        MaskPart::Absent => None,
    }
}

fn part<B: Backend>(part: &MaskPart<B>) -> Option<FloatTensor<B>> {
    match part {
        MaskPart::Given(t) => Some(t.clone()),
        MaskPart::Absent => None,
    }
}

/// What a training step keeps for its reverse pass: its inputs and its work buffers.
#[derive(Debug)]
pub(crate) struct Saved<T: Kernels> {
    plain: Plain<T>,
    work: Work<T>,
}

#[derive(Debug, Clone)]
pub(crate) enum SavedAny {
    F32(Arc<Saved<f32>>),
    F64(Arc<Saved<f64>>),
}

/// The step's backward, over 6 parents (x and the weights) or 7 (and the pair weights).
#[derive(Debug)]
struct StepBackward;

impl<const N: usize> Backward<Flex, N> for StepBackward {
    type State = SavedAny;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let pairs_grad = N == 7 && ops.parents[6].is_some();
        let out = match ops.state {
            SavedAny::F32(s) => reverse(&s, grad, pairs_grad),
            SavedAny::F64(s) => reverse(&s, grad, pairs_grad),
        };
        for (node, g) in ops.parents.into_iter().zip(out) {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

/// The gradients (x, W^Q, W^K, ξ, γ, δ, then the pair weights when asked) as Flex tensors.
fn reverse<T: FlexReal>(s: &Saved<T>, grad: FlexTensor, pairs_grad: bool) -> Vec<FlexTensor> {
    let (p, b) = (&s.plain, &s.plain.block);
    let g = backward(b, &p.x, &s.work, &p.mask(), &T::read(grad), pairs_grad);
    let mut out = vec![
        T::write(g.x, &p.shape),
        T::write(g.wq, &[b.h, b.y, b.d]),
        T::write(g.wk, &[b.h, b.y, b.d]),
        T::write(g.xi, &[b.m, b.d]),
        T::write(vec![g.gamma], &[1]),
        T::write(g.delta, &[b.d]),
    ];
    if let (Some(dp), Some((_, hp))) = (g.pairs, &p.pairs) {
        let [bb, n, _] = p.shape;
        out.push(T::write(dp, &[bb, *hp, n, n]));
    }
    out
}

/// Records the step over `N` parents' nodes (6, or 7 with the pair weights).
fn record<C: CheckpointStrategy, const N: usize>(
    nodes: [NodeGuard; N],
    p: [FlexTensor; 6],
    real: Option<FlexTensor>,
    pairs: Option<FlexTensor>,
    settings: StepSettings,
) -> FloatTensor<Autodiff<Flex, C>> {
    match <StepBackward as Backward<Flex, N>>::prepare::<C>(StepBackward, nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (out, saved) = run(p, real, pairs, settings, true);
            prep.finish(saved.expect("kept when asked"), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(run(p, real, pairs, settings, false).0),
    }
}

impl<C: CheckpointStrategy> EtStepOps for Autodiff<Flex, C> {
    /// One recorded operation per step, each with its own saved buffers.
    fn et_step(
        inputs: StepInputs<Self>,
        real: MaskPart<Self>,
        pairs: MaskPart<Self>,
        settings: StepSettings,
    ) -> FloatTensor<Self> {
        let StepInputs { mut x, wq, wk, xi, gamma, delta } = inputs;
        let one = StepSettings { steps: 1, ..settings };
        for _ in 0..settings.steps {
            let weights = [wq.clone(), wk.clone(), xi.clone(), gamma.clone(), delta.clone()];
            let [wq, wk, xi, gamma, delta] = weights;
            let nodes = [x.node(), wq.node(), wk.node(), xi.node(), gamma.node(), delta.node()];
            let pairs_node = match &pairs {
                MaskPart::Given(t) => Some(t.node()),
                MaskPart::Absent => None,
            };
            let p = [x, wq, wk, xi, gamma, delta].map(|t| t.into_primitive());
            let real = part(&real).map(|t| t.into_primitive());
            let pairs = part(&pairs).map(|t| t.into_primitive());
            x = match pairs_node {
                Some(pn) => {
                    let [a, b, c, d, e, f] = nodes;
                    record::<C, 7>([a, b, c, d, e, f, pn], p, real, pairs, one)
                }
                None => record::<C, 6>(nodes, p, real, pairs, one),
            };
        }
        x
    }
}
