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
//! Modules: [`memory`] (the memories), [`theory`] (closed forms), [`linalg`] (GEMM and stable
//! softmax), [`Error`].

pub mod error;
pub mod linalg;
pub mod memory;
pub mod theory;

pub use error::{Error, Result};
