//! The HAM builder is the same family as the hand-written memories: the modern Hopfield network,
//! the binary dense memory and the Energy Transformer block, written as neurons and synapses, give
//! their own energies and gradients; autodiff and the synapses' formulas agree; the energy never
//! rises along the dynamics; bad HAMs are refused with the value named.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{EtConfig, TokenMask};
use hopfield::ham::{AttentionSynapse, DenseSynapse, GradientPath, Ham, HopfieldSynapse, Synapse};
use hopfield::lagrangian::{EnergyLayerNorm, Lagrangian};
use hopfield::memory::{DenseMemory, ModernHopfield, Separation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn t3(v: Vec<f32>, shape: [usize; 3], dev: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v, shape), dev)
}

fn close(a: &[f32], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((*x as f64 - y).abs() <= tol * y.abs().max(1.0), "{what}: entry {i}: {x} vs {y}");
    }
}

fn random(r: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| (r.random::<f32>() * 2.0 - 1.0) * scale).collect()
}

/// Visible [1, N] (identity) and hidden [1, K] (`hidden`) joined by W = X (K×N).
fn two_layer(patterns: &[f32], n: usize, k: usize, hidden: Lagrangian, dev: &Device) -> Ham {
    let w = Tensor::<2>::from_data(TensorData::new(patterns.to_vec(), [k, n]), dev);
    Ham::builder()
        .neuron("visible", [1, n], Lagrangian::Identity)
        .neuron("hidden", [1, k], hidden)
        .synapse(DenseSynapse::new(w, [1, k], [1, n]).unwrap(), &["hidden", "visible"])
        .build()
        .unwrap()
}

#[test]
fn the_modern_hopfield_network_as_a_ham_gives_its_energy_and_its_update() {
    let (n, k, beta, b) = (16, 8, 0.7, 3);
    let mut r = ChaCha8Rng::seed_from_u64(1);
    let patterns = random(&mut r, k * n, 1.0);
    let queries = random(&mut r, b * n, 1.0);
    let net = ModernHopfield::new(patterns.iter().map(|&v| v as f64).collect(), n, beta).unwrap();
    let max_sq = patterns.chunks(n).map(|p| p.iter().map(|v| (*v as f64).powi(2)).sum::<f64>()).fold(0.0, f64::max);
    let updates = net.update(&queries.iter().map(|&v| v as f64).collect::<Vec<_>>()).unwrap();
    for dev in [Device::flex(), Device::flex().autodiff()] {
        let ham = two_layer(&patterns, n, k, Lagrangian::LogSumExp { beta }, &dev);
        let v = t3(queries.clone(), [b, 1, n], &dev);
        // The hidden layer at its equilibrium h = X v.
        let x = Tensor::<2>::from_data(TensorData::new(patterns.clone(), [k, n]), &dev);
        let h = v.clone().reshape([b, n]).matmul(x.transpose()).reshape([b, 1, k]);
        let e = to_vec(ham.energy(&[v.clone(), h.clone()]).unwrap());
        let want: Vec<f64> = queries
            .chunks(n)
            .map(|q| {
                let q: Vec<f64> = q.iter().map(|&v| v as f64).collect();
                net.energy(&q).unwrap() - (k as f64).ln() / beta - 0.5 * max_sq
            })
            .collect();
        close(&e, &want, 1e-5, "energy");
        let paths: &[GradientPath] = if dev.is_autodiff() {
            &[GradientPath::Autodiff, GradientPath::Explicit]
        } else {
            &[GradientPath::Explicit]
        };
        for &path in paths {
            // One step of α = 1 with the hidden layer held at equilibrium is ξ ← Xᵀ softmax(β X ξ).
            let (next, _) = ham.step(vec![v.clone(), h.clone()], 1.0, &[false, true], path).unwrap();
            close(&to_vec(next[0].clone()), &updates, 1e-5, &format!("update ({path:?})"));
        }
    }
}

#[test]
fn the_binary_dense_memory_as_a_ham_gives_its_energy() {
    let (n, k, degree) = (10, 6, 3u32);
    let mut r = ChaCha8Rng::seed_from_u64(2);
    let spins: Vec<i8> = (0..n * k).map(|_| if r.random::<bool>() { 1 } else { -1 }).collect();
    let memory = DenseMemory::new(&spins, n, Separation::RectifiedPolynomial { n: degree }).unwrap();
    let dev = Device::flex();
    let patterns: Vec<f32> = spins.iter().map(|&s| s as f32).collect();
    let ham = two_layer(&patterns, n, k, Lagrangian::RectifiedPower { n: degree }, &dev);
    for _ in 0..10 {
        let state: Vec<i8> = (0..n).map(|_| if r.random::<bool>() { 1 } else { -1 }).collect();
        let v = t3(state.iter().map(|&s| s as f32).collect(), [1, 1, n], &dev);
        let x = Tensor::<2>::from_data(TensorData::new(patterns.clone(), [k, n]), &dev);
        let h = v.clone().reshape([1, n]).matmul(x.transpose()).reshape([1, 1, k]);
        // Visible: ½‖σ‖² = N/2; hidden at equilibrium: −Σ max(m, 0)ⁿ / n = E_dense · F(N) / n.
        let e = to_vec(ham.energy(&[v, h]).unwrap())[0] as f64 - 0.5 * n as f64;
        let want = memory.energy(&state).unwrap() * (n as f64).powi(degree as i32) / degree as f64;
        assert!((e - want).abs() < 1e-5 * want.abs().max(1.0), "{e} vs {want}");
    }
}

#[test]
fn the_energy_transformer_block_as_a_ham_gives_its_energy_and_gradient() {
    let dev = Device::flex().autodiff();
    let et = EtConfig::new(8, 2, 4, 12).init(3, &dev).unwrap();
    let (b, tokens, d) = (2, 5, 8);
    let mut r = ChaCha8Rng::seed_from_u64(3);
    for mask in [TokenMask::all(), TokenMask::from_lengths(&[5, 3], tokens, &dev).unwrap()] {
        let ham = Ham::builder()
            .neuron("tokens", [tokens, d], et.norm.clone())
            .synapse(
                AttentionSynapse { term: et.attention.clone(), mask: mask.clone(), shape: [tokens, d] },
                &["tokens"],
            )
            .synapse(HopfieldSynapse { term: et.hopfield.clone(), mask: mask.clone(), shape: [tokens, d] }, &["tokens"])
            .build()
            .unwrap();
        let x = t3(random(&mut r, b * tokens * d, 2.0), [b, tokens, d], &dev);
        let g = et.norm.activation(x.clone());
        let (want_e, want_grad) = et.energy_and_grad(g.clone(), &mask).unwrap();
        let want_e: Vec<f64> = to_vec(want_e).iter().map(|&v| v as f64).collect();
        let want_grad: Vec<f64> = to_vec(want_grad).iter().map(|&v| v as f64).collect();
        for path in [GradientPath::Autodiff, GradientPath::Explicit] {
            let (e, grads) = ham.synapse_gradients(std::slice::from_ref(&g), path).unwrap();
            close(&to_vec(e), &want_e, 1e-5, &format!("ET energy ({path:?})"));
            close(&to_vec(grads[0].clone()), &want_grad, 1e-5, &format!("ET gradient ({path:?})"));
        }
        // The total adds the layer norm's own Legendre term.
        let total = to_vec(ham.energy(std::slice::from_ref(&x)).unwrap());
        let ln: Vec<f32> = to_vec(et.norm.energy(x));
        let want: Vec<f64> = want_e.iter().zip(&ln).map(|(a, b)| a + *b as f64).collect();
        close(&total, &want, 1e-5, "ET total energy");
    }
}

/// Three layers (visible tanh, hidden spherical, label softmax), two dense synapses.
fn three_layer(r: &mut ChaCha8Rng, dev: &Device) -> Ham {
    let (v, h, c) = (12, 7, 4);
    let w1 = Tensor::<2>::from_data(TensorData::new(random(r, h * v, 0.5), [h, v]), dev);
    let w2 = Tensor::<2>::from_data(TensorData::new(random(r, c * h, 0.5), [c, h]), dev);
    Ham::builder()
        .neuron("visible", [1, v], Lagrangian::Tanh { beta: 1.5 })
        .neuron("hidden", [1, h], Lagrangian::Spherical)
        .tau(0.5)
        .neuron("label", [1, c], Lagrangian::LogSumExp { beta: 2.0 })
        .synapse(DenseSynapse::new(w1, [1, h], [1, v]).unwrap(), &["hidden", "visible"])
        .synapse(DenseSynapse::new(w2, [1, c], [1, h]).unwrap(), &["label", "hidden"])
        .build()
        .unwrap()
}

fn states(r: &mut ChaCha8Rng, ham: &Ham, b: usize, dev: &Device) -> Vec<Tensor<3>> {
    ham.neurons()
        .iter()
        .map(|n| t3(random(r, b * n.shape[0] * n.shape[1], 1.0), [b, n.shape[0], n.shape[1]], dev))
        .collect()
}

#[test]
fn autodiff_and_the_synapses_formulas_agree_and_the_energy_never_rises() {
    let dev = Device::flex().autodiff();
    let mut r = ChaCha8Rng::seed_from_u64(4);
    let ham = three_layer(&mut r, &dev);
    let xs = states(&mut r, &ham, 5, &dev);
    let gs = ham.activations(&xs);
    let (ea, da) = ham.synapse_gradients(&gs, GradientPath::Autodiff).unwrap();
    let (ee, de) = ham.synapse_gradients(&gs, GradientPath::Explicit).unwrap();
    close(&to_vec(ea), &to_vec(ee).iter().map(|&v| v as f64).collect::<Vec<_>>(), 1e-5, "energy");
    for (a, e) in da.into_iter().zip(de) {
        close(&to_vec(a), &to_vec(e).iter().map(|&v| v as f64).collect::<Vec<_>>(), 1e-5, "∂E/∂g");
    }
    for alpha in [0.01, 0.05, 0.1] {
        for clamped in [vec![], vec![true, false, false]] {
            let (_, energies) = ham.descend(xs.clone(), 60, alpha, &clamped, GradientPath::Autodiff).unwrap();
            let traces: Vec<Vec<f32>> = energies.into_iter().map(to_vec).collect();
            for w in traces.windows(2) {
                for (before, after) in w[0].iter().zip(&w[1]) {
                    assert!(after <= &(before + 1e-5 * before.abs().max(1.0)), "α = {alpha}: {before} → {after}");
                }
            }
            assert!(traces[60][0] < traces[0][0], "α = {alpha}: the energy fell");
        }
    }
}

#[derive(Debug)]
struct NoFormula;

impl Synapse for NoFormula {
    fn describe(&self) -> String {
        "a synapse without a formula".into()
    }
    fn shapes(&self) -> Vec<[usize; 2]> {
        vec![[1, 3]]
    }
    fn energy(&self, g: &[Tensor<3>]) -> Tensor<1> {
        let [b, _, _] = g[0].dims();
        g[0].clone().square().sum_dims(&[1, 2]).reshape([b])
    }
}

#[test]
fn bad_hams_are_refused_with_the_value_named() {
    let dev = Device::flex();
    let w = || Tensor::<2>::zeros([4, 3], &dev);
    // W is [4, 3] but the neurons are [1, 4] and [1, 5].
    let e = Ham::builder()
        .neuron("a", [1, 4], Lagrangian::Identity)
        .neuron("b", [1, 5], Lagrangian::Identity)
        .synapse(DenseSynapse::new(w(), [1, 4], [1, 3]).unwrap(), &["a", "b"])
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("[1, 3]") && e.contains("[1, 5]") && e.contains("neuron b"), "{e}");
    let e = DenseSynapse::new(w(), [1, 4], [1, 5]).unwrap_err().to_string();
    assert!(e.contains("[4, 5]") && e.contains("[4, 3]"), "{e}");
    let e = Ham::builder()
        .neuron("a", [1, 4], Lagrangian::Identity)
        .synapse(DenseSynapse::new(w(), [1, 4], [1, 3]).unwrap(), &["a", "c"])
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("= c") && e.contains("no neuron"), "{e}");
    let e = Ham::builder().neuron("a", [1, 4], Lagrangian::LogSumExp { beta: -2.0 }).build().unwrap_err().to_string();
    assert!(e.contains("beta = -2"), "{e}");
    let mut ln = EnergyLayerNorm::new(4, 1e-5, &dev);
    ln.gamma = burn::module::Param::from_tensor(Tensor::from_data(TensorData::new(vec![-0.5f32], [1]), &dev));
    let e = Ham::builder().neuron("a", [2, 4], ln).build().unwrap_err().to_string();
    assert!(e.contains("gamma = -0.5") && e.contains("convex"), "{e}");
    let e = Ham::builder().neuron("a", [1, 4], Lagrangian::Identity).tau(0.0).build().unwrap_err().to_string();
    assert!(e.contains("tau = 0"), "{e}");
    let e = Ham::builder()
        .neuron("a", [1, 4], Lagrangian::Identity)
        .neuron("a", [1, 4], Lagrangian::Identity)
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("a") && e.contains("share"), "{e}");
    // A synapse without a formula on the explicit path; autodiff on a plain device.
    let ham = Ham::builder().neuron("a", [1, 3], Lagrangian::Identity).synapse(NoFormula, &["a"]).build().unwrap();
    let x = vec![Tensor::<3>::ones([2, 1, 3], &dev)];
    let e = ham.step(x.clone(), 0.1, &[], GradientPath::Explicit).unwrap_err().to_string();
    assert!(e.contains("explicit"), "{e}");
    let e = ham.step(x.clone(), 0.1, &[], GradientPath::Autodiff).unwrap_err().to_string();
    assert!(e.contains("autodiff"), "{e}");
    // Its autodiff gradient on an autodiff device: ∂(Σ g²)/∂g = 2g.
    let ad = Device::flex().autodiff();
    let ham = Ham::builder().neuron("a", [1, 3], Lagrangian::Identity).synapse(NoFormula, &["a"]).build().unwrap();
    let g = vec![t3(vec![1.0, -2.0, 0.5], [1, 1, 3], &ad)];
    let (_, d) = ham.synapse_gradients(&g, GradientPath::Autodiff).unwrap();
    assert_eq!(to_vec(d[0].clone()), vec![2.0, -4.0, 1.0]);
    // States of the wrong shape.
    let e = ham.energy(&[Tensor::<3>::ones([2, 1, 4], &ad)]).unwrap_err().to_string();
    assert!(e.contains("[2, 1, 3]") && e.contains("[2, 1, 4]"), "{e}");
}
