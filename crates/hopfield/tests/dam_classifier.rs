//! The DAM classifier against the paper's formula written as a slow per-sample loop, its gradient
//! against finite differences, and its bad settings.

use hopfield::dam::DamClassifier;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// c_α = tanh(β Σ_μ [F(ξ_α − Σ_{γ≠α} ξ_γ + Σ_i ξ_i v_i) − F(−ξ_α − Σ_{γ≠α} ξ_γ + Σ_i ξ_i v_i)]),
/// β = 1/T^n, F(x) = max(x, 0)^n: literally, one sample at a time, in f64.
fn slow_outputs(mem: &[f64], nv: usize, c: usize, n: i32, t: f64, v: &[f64]) -> Vec<f64> {
    let beta = 1.0 / t.powi(n);
    slow_sums(mem, nv, c, n, v).into_iter().map(|s| (beta * s).tanh()).collect()
}

/// The pre-tanh sums Σ_μ [F(ξ_α − Σ_{γ≠α} ξ_γ + Σ_i ξ_i v_i) − F(−ξ_α − …)] at T = 1, per sample
/// and class, one at a time in f64.
fn slow_sums(mem: &[f64], nv: usize, c: usize, n: i32, v: &[f64]) -> Vec<f64> {
    let w = nv + c;
    let k = mem.len() / w;
    let f = |x: f64| if x > 0.0 { x.powi(n) } else { 0.0 };
    let mut out = Vec::new();
    for sample in v.chunks(nv) {
        for a in 0..c {
            let mut sum = 0.0;
            for mu in 0..k {
                let xi = &mem[mu * w..(mu + 1) * w];
                let visible: f64 = (0..nv).map(|i| xi[i] * sample[i]).sum();
                let others: f64 = (0..c).filter(|&g| g != a).map(|g| xi[nv + g]).sum();
                sum += f(xi[nv + a] - others + visible) - f(-xi[nv + a] - others + visible);
            }
            out.push(sum);
        }
    }
    out
}

fn random(rng: &mut ChaCha8Rng, len: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(lo..hi)).collect()
}

#[test]
fn outputs_equal_the_slow_loop() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (nv, c, k, n, t) in [(7, 3, 5, 2, 1.5), (20, 10, 12, 3, 4.0), (30, 4, 9, 20, 3.0), (50, 10, 6, 30, 4.5)] {
        let mem = random(&mut rng, k * (nv + c), -1.0, 1.0);
        let v = random(&mut rng, 4 * nv, -1.0, 1.0);
        let dam = DamClassifier::new(nv, c, mem.clone(), n as u32, t).unwrap();
        let fast = dam.outputs(&v).unwrap();
        let slow = slow_outputs(&mem, nv, c, n, t, &v);
        assert!(slow.iter().any(|x| x.abs() > 0.05), "a case with some signal: {slow:?}");
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() < 1e-10, "n={n}: {a} vs {b}");
        }
        // f32 memories and inputs give the same to f32 precision.
        let dam32 = DamClassifier::new(nv, c, mem.iter().map(|&x| x as f32).collect(), n as u32, t).unwrap();
        let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        for (a, b) in dam32.outputs(&v32).unwrap().iter().zip(&slow) {
            assert!((a - b).abs() < 1e-4, "f32, n={n}: {a} vs {b}");
        }
    }
}

#[test]
fn n20_m30_at_mnist_size_is_finite() {
    // N = 784 pixels at ±1 against memories at ±1: arguments near 800, 800^20 ≈ 1e58 > f32::MAX.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (nv, c, k) = (784, 10, 100);
    let mem: Vec<f32> = (0..k * (nv + c)).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
    let mut v: Vec<f32> = mem[..nv].to_vec(); // input = memory 0's pixels
    v.extend((0..nv).map(|_| if rng.random::<bool>() { 1.0f32 } else { -1.0 }));
    let dam = DamClassifier::new(nv, c, mem, 20, 540.0).unwrap();
    let r = dam.loss_and_grad(&v, &[3, 7], 30).unwrap();
    assert!(r.loss.is_finite() && r.grad.iter().all(|g| g.is_finite()), "loss {}", r.loss);
    assert!(r.outputs.iter().all(|c| c.is_finite() && c.abs() <= 1.0));
}

#[test]
fn gradient_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (n, m, t) in [(2u32, 1u32, 2.0), (3, 2, 3.0), (4, 3, 2.5)] {
        let (nv, c, k, b) = (6, 3, 4, 5);
        let mem = random(&mut rng, k * (nv + c), -1.0, 1.0);
        let v = random(&mut rng, b * nv, -1.0, 1.0);
        let labels: Vec<usize> = (0..b).map(|i| i % c).collect();
        let dam = DamClassifier::new(nv, c, mem.clone(), n, t).unwrap();
        let r = dam.loss_and_grad(&v, &labels, m).unwrap();
        let h = 1e-6;
        let mut worst = 0f64;
        for j in 0..mem.len() {
            let (mut plus, mut minus) = (mem.clone(), mem.clone());
            plus[j] += h;
            minus[j] -= h;
            let lp = DamClassifier::new(nv, c, plus, n, t).unwrap().loss_and_grad(&v, &labels, m).unwrap().loss;
            let lm = DamClassifier::new(nv, c, minus, n, t).unwrap().loss_and_grad(&v, &labels, m).unwrap().loss;
            let fd = (lp - lm) / (2.0 * h);
            worst = worst.max((fd - r.grad[j]).abs() / fd.abs().max(1e-3));
        }
        assert!(worst < 1e-5, "n={n} m={m}: relative error {worst:e}");
        assert!(r.grad.iter().any(|g| g.abs() > 1e-3), "a gradient with some signal");
    }
}

#[test]
fn bad_settings_are_errors() {
    let mem = vec![0.5f64; 2 * 5];
    let e = |r: Result<DamClassifier<f64>, hopfield::Error>| r.unwrap_err().to_string();
    assert!(e(DamClassifier::new(3, 2, mem.clone(), 0, 1.0)).contains("n = 0"));
    assert!(e(DamClassifier::new(3, 2, mem.clone(), 2, 0.0)).contains("temperature = 0"));
    assert!(e(DamClassifier::new(3, 2, mem.clone(), 2, -5.0)).contains("temperature = -5"));
    assert!(e(DamClassifier::new(3, 2, vec![], 2, 1.0)).contains("memories"));
    assert!(e(DamClassifier::new(3, 2, vec![0.0; 7], 2, 1.0)).contains("K × 5"));
    assert!(e(DamClassifier::new(3, 2, vec![f64::NAN; 5], 2, 1.0)).contains("NaN"));
    let dam = DamClassifier::new(3, 2, mem, 2, 1.0).unwrap();
    assert!(dam.outputs(&[0.0; 4]).unwrap_err().to_string().contains("B × 3"));
    assert!(dam.loss_and_grad(&[0.0; 3], &[2], 1).unwrap_err().to_string().contains("0..2"));
    assert!(dam.loss_and_grad(&[0.0; 3], &[1], 0).unwrap_err().to_string().contains("m = 0"));
    assert!(dam.loss_and_grad(&[0.0; 3], &[1, 0], 1).unwrap_err().to_string().contains("labels"));
}

/// The slow loop again where the outputs are not saturated: the temperature is chosen so that the
/// median pre-tanh value is 1, and at least half the outputs lie inside (−0.9, 0.9) — including
/// the paper's MNIST size (N = 784 + 10, K = 100, n = 20) with f32 memories against the f64 loop.
#[test]
fn outputs_equal_the_slow_loop_where_they_are_not_saturated() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for (nv, c, k, n) in [(20usize, 4usize, 7usize, 3i32), (60, 10, 15, 20), (784, 10, 100, 20)] {
        let mem = random(&mut rng, k * (nv + c), -1.0, 1.0);
        let mut v = mem[..nv].to_vec(); // memory 0's pixels, and noise
        v.extend(random(&mut rng, 3 * nv, -1.0, 1.0));
        // Pre-tanh values at T = 1 (atanh of the outputs would lose them).
        let pre: Vec<f64> = slow_sums(&mem, nv, c, n, &v).into_iter().map(f64::abs).collect();
        let mut sorted = pre.clone();
        sorted.sort_by(f64::total_cmp);
        let t = sorted[sorted.len() / 2].powf(1.0 / n as f64);
        let slow = slow_outputs(&mem, nv, c, n, t, &v);
        let inside = slow.iter().filter(|x| x.abs() < 0.9).count();
        assert!(2 * inside >= slow.len(), "N = {nv}: only {inside} of {} outputs unsaturated", slow.len());
        let dam = DamClassifier::new(nv, c, mem.clone(), n as u32, t).unwrap();
        for (a, b) in dam.outputs(&v).unwrap().iter().zip(&slow) {
            assert!((a - b).abs() < 1e-10, "N = {nv}, n = {n}, T = {t}: {a} vs {b}");
        }
        let dam32 = DamClassifier::new(nv, c, mem.iter().map(|&x| x as f32).collect(), n as u32, t).unwrap();
        let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        for (a, b) in dam32.outputs(&v32).unwrap().iter().zip(&slow) {
            assert!((a - b).abs() < 2e-3, "f32, N = {nv}, n = {n}: {a} vs {b}");
        }
    }
}
