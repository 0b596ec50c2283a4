//! # hopfield: associative memories, exact and tested
//!
//! The math library of the project: energies, their dynamics and the predictions of the theory.
//! It does no file I/O and prints nothing; data loading, experiments and the CLI live in
//! `hopfield-data`, `hopfield-train` and `hopfield-cli`.
//!
//! | paper symbol | meaning | code |
//! |---|---|---|
//! | N | neurons (pattern dimension) | `neurons` |
//! | K | stored memories | `memories` |
//! | ξ^μ | memory μ | `pattern(μ)`, rows of `patterns` |
//! | σ | binary state | `state: &[i8]` |
//! | m_μ = ξ^μ·σ | overlap | [`memory::DenseMemory::overlaps`] |
//! | F | separation function | [`memory::Separation`] |
//! | E | energy | `energy` (binary memory: E / F(N)) |
//! | β | inverse temperature | `beta` |
//! | softmax(β Xᵀξ) | attention over memories | [`memory::ModernHopfield::attention`] |
//!
//! Modules: [`memory`] (the memories), [`dam`] (the Dense Associative Memory classifier), [`et`]
//! (the Energy Transformer), [`layers`] (Hopfield layers as burn modules), [`theory`] (closed
//! forms), [`linalg`] (GEMM and stable softmax), [`Error`].
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
pub mod init;
pub mod lagrangian;
pub mod layers;
pub mod linalg;
pub mod memory;
pub mod theory;

pub use error::{Error, Result};
