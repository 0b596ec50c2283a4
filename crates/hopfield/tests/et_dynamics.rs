//! The Energy Transformer's dynamics: the energy falls, masks and the exclusion do what they
//! say, tokens are permutation-equivariant, and the explicit gradient equals autodiff.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{Descent, EnergyTransformer, EtConfig, HopfieldKind, Observe, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn tokens(rng: &mut ChaCha8Rng, shape: [usize; 3], dev: &Device) -> Tensor<3> {
    let v: Vec<f32> = (0..shape.iter().product()).map(|_| rng.random::<f32>() * 4.0 - 2.0).collect();
    Tensor::from_data(TensorData::new(v, shape), dev)
}

fn block(exclude_self: bool, hopfield: HopfieldKind, dev: &Device) -> EnergyTransformer {
    let mut c = EtConfig::new(32, 4, 8, 64);
    c.exclude_self = exclude_self;
    c.hopfield = hopfield;
    c.init(7, dev).unwrap()
}

#[test]
fn energy_never_increases_over_the_descent() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for hopfield in [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 1.0 }] {
        for exclude_self in [false, true] {
            let et = block(exclude_self, hopfield, &dev);
            for alpha in [0.001, 0.01, 0.1] {
                for batch in [1, 4] {
                    let x = tokens(&mut rng, [batch, 10, 32], &dev);
                    let r =
                        et.descend(x.clone(), &TokenMask::all(), &Descent::new(12, alpha), Observe::Energy).unwrap();
                    assert_eq!(r.energy.len(), 13);
                    // Without recording, descend() takes the fused path (Implementation::choose); same tokens.
                    let fast = et.descend(x, &TokenMask::all(), &Descent::new(12, alpha), Observe::Nothing).unwrap();
                    assert!(fast.energy.is_empty());
                    for (a, b) in to_vec(fast.x).iter().zip(to_vec(r.x.clone())) {
                        assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "α={alpha}: {a} vs {b}");
                    }
                    let e: Vec<Vec<f32>> = r.energy.into_iter().map(to_vec).collect();
                    for b in 0..batch {
                        for (t, pair) in e.windows(2).enumerate() {
                            let (a, c) = (pair[0][b], pair[1][b]);
                            assert!(
                                c <= a + 1e-5 * a.abs().max(1.0),
                                "{hopfield:?} exclude={exclude_self} α={alpha} batch={batch} example {b}: step {t}: {a} -> {c}"
                            );
                        }
                        assert!(e[12][b] < e[0][b], "α={alpha}: the energy did not fall at all");
                    }
                }
            }
        }
    }
}

#[test]
fn exclusion_and_masks_give_exactly_zero_weight() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let et = block(true, HopfieldKind::Relu2, &dev);
    // A token alone sees nothing from itself: no attention energy, no attention gradient.
    let one = tokens(&mut rng, [1, 1, 32], &dev);
    let (e, g) = et.attention.energy_and_grad(one, &TokenMask::all());
    assert_eq!(to_vec(e), vec![0.0]);
    assert!(to_vec(g).iter().all(|&v| v == 0.0));
    // With several tokens the diagonal weight is exactly zero and rows sum to one.
    let x = tokens(&mut rng, [2, 6, 32], &dev);
    let w = to_vec(et.attention.weights(x.clone(), &TokenMask::all())); // [2, 4, 6, 6]
    for (i, row) in w.chunks(6).enumerate() {
        assert_eq!(row[i % 6], 0.0, "row {i}");
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    // A mask: masked keys get exactly zero weight; a query that sees nothing has zero weights.
    let et = block(false, HopfieldKind::Relu2, &dev);
    let mut m = vec![1.0f32; 2 * 6 * 6];
    for q in 0..6 {
        m[q * 6 + (q + 1) % 6] = 0.0; // example 0: query q may not see key q+1
    }
    m[36..42].iter_mut().for_each(|v| *v = 0.0); // example 1: query 0 sees nothing
    let mask = Tensor::from_data(TensorData::new(m.clone(), [2, 6, 6]), &dev);
    let w = to_vec(et.attention.weights(x, &TokenMask::pairs(mask)));
    for b in 0..2 {
        for h in 0..4 {
            for q in 0..6 {
                let row = &w[((b * 4 + h) * 6 + q) * 6..][..6];
                for k in 0..6 {
                    if m[(b * 6 + q) * 6 + k] == 0.0 {
                        assert_eq!(row[k], 0.0, "example {b} head {h} query {q} key {k}");
                    }
                }
                let s: f32 = row.iter().sum();
                let expect = if b == 1 && q == 0 { 0.0 } else { 1.0 };
                assert!((s - expect).abs() < 1e-5, "example {b} query {q}: weights sum to {s}");
            }
        }
    }
}

#[test]
fn permuting_tokens_permutes_the_output_and_keeps_the_energy() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let et = block(false, HopfieldKind::Relu2, &dev);
    let (n, d) = (7, 32);
    let x = tokens(&mut rng, [1, n, d], &dev);
    let perm = [3usize, 0, 6, 1, 5, 2, 4];
    let xv = to_vec(x.clone());
    let px: Vec<f32> = perm.iter().flat_map(|&p| xv[p * d..(p + 1) * d].to_vec()).collect();
    let a = et.descend(x, &TokenMask::all(), &Descent::new(12, 0.1), Observe::Energy).unwrap();
    let b = et
        .descend(
            Tensor::from_data(TensorData::new(px, [1, n, d]), &dev),
            &TokenMask::all(),
            &Descent::new(12, 0.1),
            Observe::Energy,
        )
        .unwrap();
    let (av, bv) = (to_vec(a.x), to_vec(b.x));
    for (i, &p) in perm.iter().enumerate() {
        for j in 0..d {
            assert!((bv[i * d + j] - av[p * d + j]).abs() < 1e-4, "token {i} dim {j}");
        }
    }
    for (ea, eb) in a.energy.into_iter().zip(b.energy) {
        let (ea, eb) = (to_vec(ea)[0], to_vec(eb)[0]);
        assert!((ea - eb).abs() < 1e-4 * ea.abs().max(1.0), "{ea} vs {eb}");
    }
}

#[test]
fn explicit_gradient_equals_autodiff_of_the_energy() {
    let dev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for exclude_self in [false, true] {
        for hopfield in [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 0.5 }] {
            let et = block(exclude_self, hopfield, &dev);
            let g = tokens(&mut rng, [2, 5, 32], &dev).require_grad();
            let grads = et.energy(g.clone(), &TokenMask::all()).unwrap().sum().backward();
            let auto = to_vec(g.grad(&grads).unwrap());
            let (_, explicit) = et.energy_and_grad(g.detach(), &TokenMask::all()).unwrap();
            let explicit = to_vec(explicit);
            let scale = explicit.iter().fold(1.0f32, |a, v| a.max(v.abs()));
            for (a, e) in auto.iter().zip(&explicit) {
                assert!(
                    (a - e).abs() < 1e-4 * scale,
                    "exclude={exclude_self} {hopfield:?}: autodiff {a}, explicit {e}"
                );
            }
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let et = block(false, HopfieldKind::Relu2, &dev);
    let x = tokens(&mut rng, [1, 4, 32], &dev);
    for alpha in [0.0, -0.1, f64::NAN] {
        let e = et
            .descend(x.clone(), &TokenMask::all(), &Descent::new(3, alpha), Observe::Nothing)
            .unwrap_err()
            .to_string();
        assert!(e.contains("alpha"), "{e}");
    }
    let e = et.energy(tokens(&mut rng, [1, 4, 16], &dev), &TokenMask::all()).unwrap_err().to_string();
    assert!(e.contains("D = 32") && e.contains("[1, 4, 16]"), "{e}");
    let bad_mask = Tensor::<3>::ones([1, 4, 3], &dev);
    let e = et.energy(x, &TokenMask::pairs(bad_mask)).unwrap_err().to_string();
    assert!(e.contains("[1, 4, 4]") && e.contains("[1, 4, 3]"), "{e}");
    let mut c = EtConfig::new(32, 0, 8, 64);
    assert!(c.validate().unwrap_err().to_string().contains("heads = 0"));
    c.heads = 4;
    c.beta = Some(-1.0);
    assert!(c.init(0, &dev).unwrap_err().to_string().contains("beta = -1"));
}
