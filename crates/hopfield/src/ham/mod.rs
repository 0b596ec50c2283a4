//! Hierarchical Associative Memories (Krotov 2021; Hoover et al., hamux): any memory of this crate
//! as neurons and hypersynapses.
//!
//! - A **neuron** is a layer of states x of shape [rows, cols] (per example; tensors are
//!   [B, rows, cols]) with a convex Lagrangian L ([`crate::lagrangian::Lagrangian`] or the
//!   [`EnergyLayerNorm`]), applied along the last axis; its activation is g = ∇L(x) and its own
//!   energy the Legendre term Σ x·g − L(x).
//! - A **synapse** is an energy E_s(g_a, g_b, …) of the activations of one or more neurons
//!   ([`Synapse`]: [`DenseSynapse`], [`AttentionSynapse`], [`HopfieldSynapse`], or one of yours).
//! - The **energy** is E = Σ_neurons (x·g − L(x)) + Σ_synapses E_s(g…), and the **dynamics**
//!   τ_i dx_i/dt = −∂E/∂g_i = −(x_i + Σ_s ∂E_s/∂g_i). Since dE/dt = Σ_i (∂E/∂g_i)ᵀ H_i ẋ_i =
//!   −Σ_i τ_i⁻¹ (∂E/∂g_i)ᵀ H_i (∂E/∂g_i) ≤ 0 with H_i = ∇²L_i ⪰ 0, the energy never rises
//!   (for small enough steps of the Euler discretisation [`Ham::step`]).
//!
//! ∂E_s/∂g comes from burn's autodiff ([`GradientPath::Autodiff`], on an autodiff device: any
//! synapse, any backend), or from the synapse's own formula where it has one
//! ([`GradientPath::Explicit`]: what training through the dynamics needs, autodiff being first
//! order). The tests check that the two agree, and that the dense memory and the Energy
//! Transformer block written as a HAM give their hand-written energies and gradients.

use burn::tensor::Tensor;

use crate::error::{invalid, shape, Result};
use crate::lagrangian::{EnergyLayerNorm, Lagrangian};

mod synapses;

pub use synapses::{AttentionSynapse, DenseSynapse, HopfieldSynapse, TokenEnergy, TokenSynapse};

/// A neuron layer's Lagrangian.
#[derive(Debug, Clone)]
pub enum NeuronLagrangian {
    /// One of [`Lagrangian`]'s, over the last axis.
    Plain(Lagrangian),
    /// The Energy Transformer's layer norm (scalar γ ≥ 0, bias δ), over the last axis.
    LayerNorm(EnergyLayerNorm),
}

impl From<Lagrangian> for NeuronLagrangian {
    fn from(l: Lagrangian) -> Self {
        NeuronLagrangian::Plain(l)
    }
}

impl From<EnergyLayerNorm> for NeuronLagrangian {
    fn from(l: EnergyLayerNorm) -> Self {
        NeuronLagrangian::LayerNorm(l)
    }
}

/// One layer of neurons.
#[derive(Debug, Clone)]
pub struct Neuron {
    /// Its name, by which synapses connect to it.
    pub name: String,
    /// [rows, cols] of one example.
    pub shape: [usize; 2],
    /// L.
    pub lagrangian: NeuronLagrangian,
    /// τ, its time constant (> 0).
    pub tau: f64,
}

impl Neuron {
    fn validate(&self) -> Result<()> {
        if self.shape.contains(&0) {
            return Err(shape("neuron shape", "[rows ≥ 1, cols ≥ 1]", format!("{:?} ({})", self.shape, self.name)));
        }
        if !(self.tau > 0.0 && self.tau.is_finite()) {
            return Err(invalid("tau", self.tau, "a neuron's time constant must be positive and finite"));
        }
        match &self.lagrangian {
            NeuronLagrangian::Plain(l) => l.validate(),
            NeuronLagrangian::LayerNorm(ln) => {
                let gamma = ln.gamma.val().into_data().iter::<f32>().next().unwrap_or(0.0);
                if !(gamma >= 0.0 && gamma.is_finite()) {
                    return Err(invalid("gamma", gamma, "the layer norm's Lagrangian is convex only for γ ≥ 0"));
                }
                if ln.delta.dims()[0] != self.shape[1] {
                    return Err(shape("layer norm bias δ", self.shape[1], ln.delta.dims()[0]));
                }
                Ok(())
            }
        }
    }

    /// g = ∇L(x): [B, rows, cols] → [B, rows, cols].
    pub fn activation(&self, x: Tensor<3>) -> Tensor<3> {
        match &self.lagrangian {
            NeuronLagrangian::Plain(l) => l.activation(x),
            NeuronLagrangian::LayerNorm(ln) => ln.activation(x),
        }
    }

    /// The Legendre term Σ x·g − L(x) of each example: [B, rows, cols] → [B].
    pub fn energy(&self, x: Tensor<3>) -> Tensor<1> {
        let [b, _, _] = x.dims();
        match &self.lagrangian {
            NeuronLagrangian::Plain(l) => l.energy(x).sum_dims(&[1, 2]).reshape([b]),
            NeuronLagrangian::LayerNorm(ln) => ln.energy(x),
        }
    }
}

/// An energy of the activations of the neurons it connects.
pub trait Synapse: std::fmt::Debug + Send + Sync {
    /// A short description for messages ("dense 784×100").
    fn describe(&self) -> String;
    /// The [rows, cols] it expects of each neuron it connects, in order.
    fn shapes(&self) -> Vec<[usize; 2]>;
    /// E_s of each example: one [B, rows, cols] activation per connected neuron → [B].
    fn energy(&self, g: &[Tensor<3>]) -> Tensor<1>;
    /// E_s and ∂E_s/∂g for each connected neuron from the synapse's own formula; `None` when it has
    /// none (autodiff then computes them).
    fn explicit(&self, _g: &[Tensor<3>]) -> Option<(Tensor<1>, Vec<Tensor<3>>)> {
        None
    }
}

/// How ∂E_s/∂g is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradientPath {
    /// burn's autodiff of E_s (the neurons' tensors must live on an autodiff device).
    Autodiff,
    /// Each synapse's own formula ([`Synapse::explicit`]); an error for a synapse without one.
    Explicit,
}

/// A HAM: neurons and the synapses between them. Build it with [`Ham::builder`].
#[derive(Debug)]
pub struct Ham {
    neurons: Vec<Neuron>,
    synapses: Vec<(Box<dyn Synapse>, Vec<usize>)>,
}

/// Collects neurons and synapses; [`HamBuilder::build`] checks them.
#[derive(Debug, Default)]
pub struct HamBuilder {
    neurons: Vec<Neuron>,
    synapses: Vec<(Box<dyn Synapse>, Vec<String>)>,
}

impl HamBuilder {
    /// Adds a neuron layer `name` of [rows, cols] with Lagrangian `lagrangian` and τ = 1.
    pub fn neuron(mut self, name: &str, shape: [usize; 2], lagrangian: impl Into<NeuronLagrangian>) -> Self {
        self.neurons.push(Neuron { name: name.into(), shape, lagrangian: lagrangian.into(), tau: 1.0 });
        self
    }

    /// Sets the time constant τ of the neuron added last.
    pub fn tau(mut self, tau: f64) -> Self {
        if let Some(n) = self.neurons.last_mut() {
            n.tau = tau;
        }
        self
    }

    /// Adds a synapse over the neurons named in `neurons`, in the synapse's order.
    pub fn synapse(mut self, synapse: impl Synapse + 'static, neurons: &[&str]) -> Self {
        self.synapses.push((Box::new(synapse), neurons.iter().map(|s| s.to_string()).collect()));
        self
    }

    /// Checks every neuron (shape, τ, convex Lagrangian) and every synapse (its neurons exist and
    /// have the shapes it expects).
    ///
    /// # Errors
    /// A duplicate or unknown neuron name, an empty shape, τ ≤ 0, a Lagrangian that is not convex
    /// (β ≤ 0, γ < 0), a synapse over the wrong number of neurons or a neuron of another shape.
    pub fn build(self) -> Result<Ham> {
        if self.neurons.is_empty() {
            return Err(invalid("neurons", 0, "a HAM needs at least one neuron layer"));
        }
        for (i, n) in self.neurons.iter().enumerate() {
            n.validate()?;
            if self.neurons[..i].iter().any(|m| m.name == n.name) {
                return Err(invalid("neuron", n.name.clone(), "two neuron layers share this name"));
            }
        }
        let mut synapses = Vec::with_capacity(self.synapses.len());
        for (s, names) in self.synapses {
            let want = s.shapes();
            if want.len() != names.len() {
                return Err(shape(
                    "synapse's neurons",
                    format!("{} for the {}", want.len(), s.describe()),
                    format!("{} ({})", names.len(), names.join(", ")),
                ));
            }
            let mut ids = Vec::with_capacity(names.len());
            for (name, expected) in names.iter().zip(&want) {
                let id = self
                    .neurons
                    .iter()
                    .position(|n| &n.name == name)
                    .ok_or_else(|| invalid("neuron", name.clone(), "no neuron layer has this name"))?;
                let actual = self.neurons[id].shape;
                if actual != *expected {
                    return Err(shape(
                        "synapse and neuron",
                        format!("{expected:?} for the {} at neuron {name}", s.describe()),
                        format!("{actual:?}"),
                    ));
                }
                ids.push(id);
            }
            synapses.push((s, ids));
        }
        Ok(Ham { neurons: self.neurons, synapses })
    }
}

impl Ham {
    /// An empty builder.
    pub fn builder() -> HamBuilder {
        HamBuilder::default()
    }

    /// The neuron layers, in the order states are given.
    pub fn neurons(&self) -> &[Neuron] {
        &self.neurons
    }

    fn check(&self, xs: &[Tensor<3>]) -> Result<usize> {
        if xs.len() != self.neurons.len() {
            return Err(shape("states", format!("one per neuron layer ({})", self.neurons.len()), xs.len()));
        }
        let batch = xs[0].dims()[0];
        for (x, n) in xs.iter().zip(&self.neurons) {
            let [b, r, c] = x.dims();
            if b != batch || [r, c] != n.shape {
                return Err(shape(
                    "neuron state",
                    format!("[{batch}, {}, {}] for {}", n.shape[0], n.shape[1], n.name),
                    format!("[{b}, {r}, {c}]"),
                ));
            }
        }
        Ok(batch)
    }

    /// g_i = ∇L_i(x_i) for every neuron.
    pub fn activations(&self, xs: &[Tensor<3>]) -> Vec<Tensor<3>> {
        xs.iter().zip(&self.neurons).map(|(x, n)| n.activation(x.clone())).collect()
    }

    /// Σ_s E_s(g…) of each example: [B].
    pub fn synapse_energy(&self, gs: &[Tensor<3>]) -> Tensor<1> {
        let b = gs[0].dims()[0];
        let mut e = Tensor::<1>::zeros([b], &gs[0].device());
        for (s, ids) in &self.synapses {
            let g: Vec<Tensor<3>> = ids.iter().map(|&i| gs[i].clone()).collect();
            e = e + s.energy(&g);
        }
        e
    }

    /// The total energy E = Σ_i (x_i·g_i − L_i(x_i)) + Σ_s E_s of each example: [B].
    ///
    /// # Errors
    /// One state per neuron, each [B, rows, cols] of its neuron.
    pub fn energy(&self, xs: &[Tensor<3>]) -> Result<Tensor<1>> {
        self.check(xs)?;
        let mut e = self.synapse_energy(&self.activations(xs));
        for (x, n) in xs.iter().zip(&self.neurons) {
            e = e + n.energy(x.clone());
        }
        Ok(e)
    }

    /// Σ_s E_s and ∂(Σ_s E_s)/∂g_i for every neuron (zeros for a neuron without synapses).
    ///
    /// # Errors
    /// [`GradientPath::Autodiff`] on a device without autodiff; [`GradientPath::Explicit`] with a
    /// synapse that has no formula.
    pub fn synapse_gradients(&self, gs: &[Tensor<3>], path: GradientPath) -> Result<(Tensor<1>, Vec<Tensor<3>>)> {
        let device = gs[0].device();
        match path {
            GradientPath::Autodiff => {
                if !device.is_autodiff() {
                    return Err(invalid(
                        "gradient path",
                        "autodiff",
                        "an autodiff device (Device::autodiff()) for the HAM's tensors, or the explicit path",
                    ));
                }
                let leaves: Vec<Tensor<3>> = gs.iter().map(|g| g.clone().detach().require_grad()).collect();
                let e = self.synapse_energy(&leaves);
                let grads = e.clone().sum().backward();
                let d = leaves
                    .iter()
                    .map(|g| match g.grad(&grads) {
                        Some(t) => Tensor::from_data(t.into_data(), &device),
                        None => g.zeros_like(),
                    })
                    .collect();
                Ok((e.detach(), d))
            }
            GradientPath::Explicit => {
                let b = gs[0].dims()[0];
                let mut e = Tensor::<1>::zeros([b], &device);
                let mut d: Vec<Tensor<3>> = gs.iter().map(|g| g.zeros_like()).collect();
                for (s, ids) in &self.synapses {
                    let g: Vec<Tensor<3>> = ids.iter().map(|&i| gs[i].clone()).collect();
                    let (es, ds) = s.explicit(&g).ok_or_else(|| {
                        invalid("gradient path", "explicit", "autodiff: this synapse has no explicit gradient")
                    })?;
                    e = e + es;
                    for (&i, di) in ids.iter().zip(ds) {
                        d[i] = d[i].clone() + di;
                    }
                }
                Ok((e, d))
            }
        }
    }

    /// One Euler step of the dynamics: x_i ← x_i − (α/τ_i)(x_i + ∂E_s/∂g_i) for every neuron not
    /// `clamped` (an empty slice clamps none). Returns the new states and the total energy before
    /// the step.
    ///
    /// # Errors
    /// Those of [`Ham::energy`] and [`Ham::synapse_gradients`]; α ≤ 0; `clamped` of another length.
    pub fn step(
        &self,
        xs: Vec<Tensor<3>>,
        alpha: f64,
        clamped: &[bool],
        path: GradientPath,
    ) -> Result<(Vec<Tensor<3>>, Tensor<1>)> {
        self.check(&xs)?;
        crate::error::positive("alpha", alpha)?;
        if !clamped.is_empty() && clamped.len() != xs.len() {
            return Err(shape("clamped", xs.len(), clamped.len()));
        }
        let gs = self.activations(&xs);
        let (es, d) = self.synapse_gradients(&gs, path)?;
        let mut energy = es;
        let mut next = Vec::with_capacity(xs.len());
        for (i, ((x, n), di)) in xs.into_iter().zip(&self.neurons).zip(d).enumerate() {
            energy = energy + n.energy(x.clone());
            if clamped.get(i).copied().unwrap_or(false) {
                next.push(x);
            } else {
                let dx = (x.clone() + di) * (alpha / n.tau);
                next.push(x - dx);
            }
        }
        Ok((next, energy))
    }

    /// `steps` Euler steps from `xs`; returns the final states and the total energy of each example
    /// before the first step and after each ([steps + 1] × [B]).
    ///
    /// # Errors
    /// As [`Ham::step`].
    pub fn descend(
        &self,
        xs: Vec<Tensor<3>>,
        steps: usize,
        alpha: f64,
        clamped: &[bool],
        path: GradientPath,
    ) -> Result<(Vec<Tensor<3>>, Vec<Tensor<1>>)> {
        let mut xs = xs;
        let mut energies = Vec::with_capacity(steps + 1);
        for _ in 0..steps {
            let (next, e) = self.step(xs, alpha, clamped, path)?;
            energies.push(e);
            xs = next;
        }
        energies.push(self.energy(&xs)?);
        Ok((xs, energies))
    }
}
