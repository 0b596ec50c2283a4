//! # hopfield: associative memories, exact and tested
//!
//! The math library of the project: energies, their dynamics and the predictions of the theory.
//! It does no file I/O and prints nothing; data loading, experiments and the CLI live in
//! `hopfield-data`, `hopfield-train` and `hopfield-cli`.
//!
//! ## Notation
//!
//! The one table of the crate: the papers' symbols, the names they have in code, and the flags of
//! the `hopfield` command line. Where two papers use one letter for two things, the code gives
//! them two names (the DAM's temperature T is `temperature`; the Energy Transformer's T is
//! `steps`).
//!
//! | paper symbol | meaning | code | CLI flag |
//! |---|---|---|---|
//! | *memories (Krotov & Hopfield 2016; Demircigil et al. 2017; Ramsauer et al. 2020)* | | | |
//! | N | neurons (pattern dimension) | `neurons` | `capacity --neurons` |
//! | K | stored memories | `memories` | `recall --patterns`, `capacity --loads` |
//! | ξ^μ | memory μ | `pattern(μ)`, rows of `patterns` | |
//! | σ | binary state | `state: &[i8]` | |
//! | m_μ = ξ^μ·σ | overlap | [`memory::DenseMemory::overlaps`] | |
//! | F | separation function (x²/2, xⁿ, max(x,0)ⁿ, eˣ) | [`memory::Separation`] | `--memory`, `--n` |
//! | E | energy | `energy` (binary memory: E / F(N)) | |
//! | β | inverse temperature | `beta` | `--beta` |
//! | softmax(β Xᵀξ) | attention over memories | [`memory::ModernHopfield::attention`] | |
//! | — | most updates of a retrieval | `max_steps` | `recall --max-steps` |
//! | *DAM classifier (Krotov & Hopfield 2016)* | | | |
//! | N, C | visible and class neurons | `visible`, `classes` | |
//! | K | memories | `memories` | `dam train --memories` |
//! | n | degree of F(x) = max(x,0)ⁿ | `n` | `--n` |
//! | m | loss power 2m | `m` | `--m` |
//! | T | temperature, β = 1/Tⁿ | `temperature` | `--temperature` |
//! | ε | learning rate | `lr` | `--lr` |
//! | *Hopfield layers (Ramsauer et al. 2020)* | | | |
//! | R, Y | state and stored patterns | `r`, `y` | |
//! | W_Q, W_K, W_V | projections | `w_q`, `w_k`, `w_v` | |
//! | d_K | association space | `assoc_dim` | `mil train --assoc` |
//! | β | inverse temperature | `beta` | `mil train --beta` |
//! | ξ ← Xᵀ softmax(β X ξ) | one update | [`layers::Keys::update`] | |
//! | *Energy Transformer (Hoover et al. 2023)* | | | |
//! | x_A ∈ R^D, A = 1..N | tokens, [batch, N, D] | `x: Tensor<3>` | |
//! | D | token dimension | `dim` | `et train --dim` |
//! | g = ∂L/∂x | layer-norm activation | [`lagrangian::EnergyLayerNorm::activation`] | |
//! | γ, δ | layer-norm gain and bias | `gamma`, `delta` | |
//! | H, Y | heads, head dimension | `heads`, `head_dim` | `--heads`, `--head-dim` |
//! | W^Q, W^K ∈ R^(H×Y×D), β | attention weights, inverse temperature | [`et::EnergyAttention`] `wq`, `wk`, `beta` | |
//! | M, ξ ∈ R^(M×D) | Hopfield memories | `memories`, [`et::HopfieldModule`] `xi` | `--memories` |
//! | T | descent steps | [`et::Descent`] `steps` | `--steps` |
//! | α | descent step size | [`et::Descent`] `step_size` | `--step-size` (or `--alpha`) |
//! | w_hCB, real tokens | pair weights (adjacency), padding | [`et::TokenMask`] `pairs`, `real` | |
//! | L(x), g = ∇L | Lagrangian, activation | [`lagrangian::Lagrangian`] | |
//!
//! Modules: [`memory`] (the memories), [`dam`] (the Dense Associative Memory classifier), [`et`]
//! (the Energy Transformer: its energy terms, [`et::Descent`], [`et::TokenMask`]), [`layers`]
//! (Hopfield layers as burn modules), [`lagrangian`] (Lagrangians, activations and the masked
//! log-sum-exp they share), [`ham`] (Hierarchical Associative Memories: neurons and synapses,
//! any memory as their sum), [`init`] (seeded initial values), [`theory`] (closed forms),
//! [`linalg`] (GEMM and stable softmax), [`Error`]. Functions take the `burn` device they
//! compute on; none picks one.
//!
//! ```
//! use hopfield::memory::{DenseMemory, Dynamics, ModernHopfield, Retrieve, Separation};
//! use rand::SeedableRng;
//!
//! // Two patterns of N = 8 spins in a dense memory with F(x) = x³.
//! let patterns = [1, 1, 1, 1, -1, -1, -1, -1, 1, -1, 1, -1, 1, -1, 1, -1];
//! let memory = DenseMemory::new(&patterns, 8, Separation::Polynomial { n: 3 })?;
//! let mut state = vec![1, 1, 1, -1, -1, -1, -1, -1]; // the first pattern, one bit flipped
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let trajectory = memory.run(&mut state, &Dynamics::default(), &mut rng)?;
//! assert_eq!(state, &patterns[..8]);
//! assert!(trajectory.converged && trajectory.energy.last().unwrap().1 < trajectory.energy[0].1);
//!
//! // The continuous modern network retrieves the nearest pattern in one update at large β.
//! let stored: Vec<f64> = patterns.iter().map(|&p| p as f64).collect();
//! let net = ModernHopfield::new(stored, 8, 4.0)?;
//! let query = [0.9, 1.1, 0.7, 0.2, -1.0, -0.8, -1.2, -0.9];
//! let out = net.retrieve(&query, &Retrieve::default())?;
//! assert!(out.states.iter().zip(&patterns[..8]).all(|(a, &b)| (a - b as f64).abs() < 1e-6));
//! # Ok::<(), hopfield::Error>(())
//! ```

pub mod dam;
pub mod error;
pub mod et;
pub mod ham;
pub mod init;
pub mod lagrangian;
pub mod layers;
pub mod linalg;
pub mod memory;
pub mod theory;

pub use error::{Error, Result};
