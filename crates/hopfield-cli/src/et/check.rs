//! `hopfield et check`: the math that must hold on whatever device `--device` names, checked
//! there in a few seconds — for a GPU machine that has the binary but no Rust toolchain
//! (`tools/gpu-check.sh`). On random blocks (ReLU² and softmax memories, with padding and
//! weighted per-head pairs, with and without the B ≠ C exclusion):
//!
//! 1. the explicit energy gradient ∂E/∂g equals autodiff of the energy on the device;
//! 2. the energy falls at every descent step on the device;
//! 3. the fastest path's final tokens (on the CPU the fused routine) equal the recording path's
//!    (the explicit gradient, step by step) on the device — a real comparison on every device;
//! 4. the device's energies and final tokens (by both paths) equal the CPU's for the same weights
//!    (on the CPU itself, identical by construction: exactly 0).
//!
//! Prints each figure and exits with an error when one is out of tolerance.

use anyhow::{bail, Context, Result};
use burn::tensor::{Device, Tensor, TensorData};
use clap::Args;
use hopfield::et::{Descent, EnergyTransformer, EtConfig, HopfieldKind, Observe, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Settings of `et check`.
#[derive(Args, Debug)]
pub struct EtCheckArgs {
    /// Largest relative difference allowed (explicit vs autodiff gradient, device vs CPU).
    #[arg(long, default_value_t = 1e-4)]
    pub tolerance: f64,
    /// Seed of the random blocks and tokens.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// A tensor's values (an error naming `what` when they cannot be read).
fn values<const D: usize>(t: Tensor<D>, what: &'static str) -> Result<Vec<f64>> {
    Ok(hopfield_train::trainer::values(t, what)?)
}

/// max |a − b| / max(|b|, 1e-6); the lengths must agree.
fn relative(a: &[f64], b: &[f64]) -> Result<f64> {
    if a.len() != b.len() {
        bail!("{} values against {}", a.len(), b.len());
    }
    let scale = b.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
    Ok(a.iter().zip(b).fold(0f64, |m, (p, q)| m.max((p - q).abs())) / scale)
}

struct Case {
    name: &'static str,
    config: EtConfig,
    masked: bool,
}

fn cases() -> Vec<Case> {
    let mut softmax = EtConfig::new(32, 4, 8, 48);
    softmax.hopfield = HopfieldKind::Softmax { beta: 2.0 };
    softmax.exclude_self = true;
    vec![
        Case { name: "ReLU² memories, unmasked", config: EtConfig::new(32, 4, 8, 48), masked: false },
        Case { name: "softmax memories, B ≠ C, padded, per-head pair weights", config: softmax, masked: true },
    ]
}

/// Tokens [3, 9, 32] and a mask (items of 9, 5 and 7 tokens; pair weights 0, ½, 1, 2) on `device`.
fn inputs(seed: u64, masked: bool, device: &Device) -> Result<(Tensor<3>, TokenMask)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f32> = (0..3 * 9 * 32).map(|_| rng.random::<f32>() * 4.0 - 2.0).collect();
    let x = Tensor::from_data(TensorData::new(x, [3, 9, 32]), device);
    if !masked {
        return Ok((x, TokenMask::all()));
    }
    let pairs: Vec<f32> = (0..3 * 4 * 81).map(|_| [0.0, 0.5, 1.0, 2.0][rng.random_range(0..4)]).collect();
    let mask = TokenMask::from_lengths(&[9, 5, 7], 9, device)?
        .with_head_pairs(Tensor::from_data(TensorData::new(pairs, [3, 4, 9, 9]), device));
    Ok((x, mask))
}

fn block(case: &Case, seed: u64, device: &Device) -> Result<EnergyTransformer> {
    Ok(case.config.init(seed, device)?)
}

/// Runs the checks on `device`.
pub fn run(a: &EtCheckArgs, device: &Device) -> Result<()> {
    if !(a.tolerance > 0.0 && a.tolerance.is_finite()) {
        bail!("--tolerance {}: must be positive and finite", a.tolerance);
    }
    println!("et check on {device:?} (tolerance {:e})", a.tolerance);
    let descent = Descent::new(8, 0.1);
    let mut worst = 0f64;
    for case in cases() {
        // 1. Explicit gradient against autodiff of the energy, on the device.
        let ad = device.clone().autodiff();
        let et = block(&case, a.seed, &ad)?;
        let (x, mask) = inputs(a.seed, case.masked, &ad)?;
        let g = et.norm.activation(x).detach().require_grad();
        let (energy, explicit) = et.energy_and_grad(g.clone(), &mask)?;
        let grads = energy.sum().backward();
        let autodiff = g.grad(&grads).context("autodiff gave no gradient of the energy")?;
        let grad_err = relative(&values(explicit, "explicit gradient")?, &values(autodiff, "autodiff gradient")?)?;

        // 2. The energy falls at every step, and 3. the device agrees with the CPU.
        // The tokens both by the path that records energies and by the fastest one the device
        // has (on the CPU the fused routine, elsewhere the folded tensor path).
        let run_on = |dev: &Device| -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
            let et = block(&case, a.seed, dev)?;
            let (x, mask) = inputs(a.seed, case.masked, dev)?;
            let r = et.descend(x.clone(), &mask, &descent, Observe::Energy)?;
            let fast = et.descend(x, &mask, &descent, Observe::Nothing)?;
            let mut tokens = values(r.x, "tokens")?;
            tokens.extend(values(fast.x, "tokens")?);
            let energies = r.energy.into_iter().map(|e| values(e, "energy")).collect::<Result<_>>()?;
            Ok((energies, tokens))
        };
        let (energies, tokens) = run_on(device)?;
        let half = tokens.len() / 2;
        let path_err = relative(&tokens[half..], &tokens[..half])?;
        let rises =
            energies.windows(2).flat_map(|w| w[0].iter().zip(&w[1]).map(|(a, b)| b - a)).fold(f64::MIN, f64::max);
        let (cpu_energies, cpu_tokens) = run_on(&Device::flex())?;
        let energy_err = energies.iter().zip(&cpu_energies).map(|(d, c)| relative(d, c)).collect::<Result<Vec<_>>>()?;
        let energy_err = energy_err.into_iter().fold(0f64, f64::max);
        let token_err = relative(&tokens, &cpu_tokens)?;
        println!(
            "  {}: ∂E/∂g explicit vs autodiff {grad_err:.1e}; largest energy change over a step {rises:+.3e} \
             (E {:.3} → {:.3}); fastest vs recording path: tokens {path_err:.1e}; device vs CPU: energies \
             {energy_err:.1e}, tokens {token_err:.1e}",
            case.name,
            energies.first().map_or(f64::NAN, |e| e[0]),
            energies.last().map_or(f64::NAN, |e| e[0]),
        );
        if rises > 0.0 || rises.is_nan() {
            bail!("{}: the energy rose by {rises:e} over a step on {device:?}", case.name);
        }
        worst = worst.max(grad_err).max(path_err).max(energy_err).max(token_err);
        let errors = [grad_err, path_err, energy_err, token_err];
        if errors.iter().any(|e| e.is_nan() || *e > a.tolerance) {
            bail!(
                "{}: a difference above the tolerance {:e} (gradient {grad_err:e}, fastest vs recording path \
                 {path_err:e}, energies {energy_err:e}, tokens {token_err:e})",
                case.name,
                a.tolerance
            );
        }
    }
    println!("all checks passed (largest relative difference {worst:.1e})");
    Ok(())
}
