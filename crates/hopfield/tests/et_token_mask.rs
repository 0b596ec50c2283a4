//! Token masks: padding is invisible (a padded batch gives each item's own energies, states and
//! outputs), padded tokens never move, the energy falls at every step with real-token and
//! weighted per-head pair masks, and the implementations agree under a mask.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{Descent, EnergyTransformer, EtConfig, HopfieldKind, Implementation, Observe, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn values(rng: &mut ChaCha8Rng, len: usize, scale: f32) -> Vec<f32> {
    (0..len).map(|_| (rng.random::<f32>() * 2.0 - 1.0) * scale).collect()
}

fn block(exclude_self: bool, hopfield: HopfieldKind, dev: &Device) -> EnergyTransformer {
    let mut c = EtConfig::new(16, 3, 4, 24);
    c.exclude_self = exclude_self;
    c.hopfield = hopfield;
    c.init(11, dev).unwrap()
}

const KINDS: [HopfieldKind; 2] = [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 2.0 }];

/// Items of 5, 3 and 7 tokens (D = 16), each with a random graph-like 0/1 pair mask with weights
/// (some 0.5 and 2.0 entries), run alone and padded together to 7 tokens with junk in the padding.
#[test]
fn a_padded_batch_gives_each_item_its_own_energies_states_and_outputs() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (lengths, n, d) = ([5usize, 3, 7], 7usize, 16usize);
    let items: Vec<Vec<f32>> = lengths.iter().map(|&l| values(&mut rng, l * d, 2.0)).collect();
    let pairs: Vec<Vec<f32>> = lengths
        .iter()
        .map(|&l| {
            (0..l * l)
                .map(|_| match rng.random_range(0..4) {
                    0 => 0.0,
                    1 => 0.5,
                    2 => 2.0,
                    _ => 1.0,
                })
                .collect()
        })
        .collect();
    // The padded batch: junk tokens (large values) and junk pair weights in the padding.
    let mut x = values(&mut rng, 3 * n * d, 50.0);
    let mut w = values(&mut rng, 3 * n * n, 3.0).into_iter().map(f32::abs).collect::<Vec<_>>();
    for (b, &l) in lengths.iter().enumerate() {
        x[b * n * d..b * n * d + l * d].copy_from_slice(&items[b]);
        for q in 0..l {
            for k in 0..l {
                w[b * n * n + q * n + k] = pairs[b][q * l + k];
            }
        }
    }
    let padded = Tensor::<3>::from_data(TensorData::new(x.clone(), [3, n, d]), &dev);
    let mask = TokenMask::from_lengths(&lengths, n, &dev)
        .unwrap()
        .with_pairs(Tensor::from_data(TensorData::new(w, [3, n, n]), &dev));
    let descent = Descent::new(6, 0.1);
    for hopfield in KINDS {
        for exclude_self in [false, true] {
            let et = block(exclude_self, hopfield, &dev);
            let tag = format!("{hopfield:?} exclude_self={exclude_self}");
            let all = et.descend(padded.clone(), &mask, &descent, Observe::Trajectory).unwrap();
            let fast = to_vec(et.descend(padded.clone(), &mask, &descent, Observe::Nothing).unwrap().x);
            let energies: Vec<Vec<f32>> = all.energy.iter().cloned().map(to_vec).collect();
            let states: Vec<Vec<f32>> = all.states.iter().cloned().map(to_vec).collect();
            for (b, &l) in lengths.iter().enumerate() {
                let own = Tensor::<3>::from_data(TensorData::new(items[b].clone(), [1, l, d]), &dev);
                let own_mask = TokenMask::pairs(Tensor::from_data(TensorData::new(pairs[b].clone(), [1, l, l]), &dev));
                let alone = et.descend(own, &own_mask, &descent, Observe::Trajectory).unwrap();
                for (t, e) in alone.energy.into_iter().enumerate() {
                    let (a, p) = (to_vec(e)[0], energies[t][b]);
                    assert!(
                        (a - p).abs() <= 1e-5 * a.abs().max(1.0),
                        "{tag} item {b} step {t}: energy {a} alone, {p} padded"
                    );
                }
                for (t, s) in alone.states.into_iter().enumerate() {
                    let s = to_vec(s);
                    let p = &states[t][b * n * d..b * n * d + l * d];
                    let worst = s.iter().zip(p).map(|(a, c)| (a - c).abs()).fold(0f32, f32::max);
                    assert!(worst < 1e-5, "{tag} item {b} step {t}: states differ by {worst}");
                }
                // Without recording, descend() takes the fused path: the same final tokens under the mask.
                let worst = states[descent.steps][b * n * d..b * n * d + l * d]
                    .iter()
                    .zip(&fast[b * n * d..b * n * d + l * d])
                    .map(|(a, c)| (a - c).abs())
                    .fold(0f32, f32::max);
                assert!(worst < 1e-4, "{tag} item {b}: fused and reference differ by {worst}");
                // Padded tokens never move, in either implementation.
                for (t, s) in states.iter().enumerate() {
                    let pad = b * n * d + l * d..(b + 1) * n * d;
                    assert_eq!(&s[pad.clone()], &x[pad.clone()], "{tag} item {b}: padding moved at step {t}");
                    assert_eq!(&fast[pad.clone()], &x[pad], "{tag} item {b}: padding moved (fused)");
                }
            }
        }
    }
}

#[test]
fn the_energy_falls_at_every_step_under_a_mask() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (b, n, d, h) = (3usize, 9usize, 16usize, 3usize);
    let x = Tensor::<3>::from_data(TensorData::new(values(&mut rng, b * n * d, 2.0), [b, n, d]), &dev);
    // Per-head weighted pairs (0 with probability ¼, else in (0, 2)) and items of 9, 6 and 4 real tokens.
    let w: Vec<f32> =
        (0..b * h * n * n).map(|_| if rng.random::<f32>() < 0.25 { 0.0 } else { rng.random::<f32>() * 2.0 }).collect();
    let mask = TokenMask::from_lengths(&[9, 6, 4], n, &dev)
        .unwrap()
        .with_head_pairs(Tensor::from_data(TensorData::new(w, [b, h, n, n]), &dev));
    for hopfield in KINDS {
        for exclude_self in [false, true] {
            let et = block(exclude_self, hopfield, &dev);
            for alpha in [0.01, 0.1, 0.3] {
                let r = et.descend(x.clone(), &mask, &Descent::new(10, alpha), Observe::Energy).unwrap();
                let e: Vec<Vec<f32>> = r.energy.into_iter().map(to_vec).collect();
                for item in 0..b {
                    for (t, pair) in e.windows(2).enumerate() {
                        let (a, c) = (pair[0][item], pair[1][item]);
                        assert!(
                            c <= a + 1e-5 * a.abs().max(1.0),
                            "{hopfield:?} exclude={exclude_self} α={alpha} item {item}: step {t}: {a} -> {c}"
                        );
                    }
                    assert!(e[10][item] < e[0][item], "{hopfield:?} α={alpha} item {item}: the energy did not fall");
                }
            }
        }
    }
}

#[test]
fn per_head_pairs_equal_to_a_shared_mask_give_the_shared_result_and_bad_masks_are_errors() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (b, n, d) = (2usize, 5usize, 16usize);
    let et = block(false, HopfieldKind::Relu2, &dev);
    let g = Tensor::<3>::from_data(TensorData::new(values(&mut rng, b * n * d, 1.0), [b, n, d]), &dev);
    let m: Vec<f32> = (0..b * n * n).map(|_| rng.random_range(0..2) as f32).collect();
    let shared = Tensor::<3>::from_data(TensorData::new(m, [b, n, n]), &dev);
    let per_head = shared.clone().unsqueeze_dim::<4>(1).repeat_dim(1, 3);
    let a = to_vec(et.energy(g.clone(), &TokenMask::pairs(shared.clone())).unwrap());
    let c = to_vec(et.energy(g.clone(), &TokenMask::all().with_head_pairs(per_head)).unwrap());
    assert!(a.iter().zip(&c).all(|(x, y)| (x - y).abs() <= 1e-5 * x.abs().max(1.0)), "{a:?} vs {c:?}");
    // A head count that is neither 1 nor H, a real mask of the wrong shape, an empty item.
    let wrong = TokenMask::all().with_head_pairs(Tensor::<4>::ones([b, 2, n, n], &dev));
    let e = et.energy(g.clone(), &wrong).unwrap_err().to_string();
    assert!(e.contains("1 or 3") && e.contains("[2, 2, 5, 5]"), "{e}");
    let wrong = TokenMask { real: Some(Tensor::<2>::ones([b, 4], &dev)), pairs: None };
    let e = et.energy(g.clone(), &wrong).unwrap_err().to_string();
    assert!(e.contains("[2, 5]") && e.contains("[2, 4]"), "{e}");
    let e = TokenMask::from_lengths(&[5, 0], n, &dev).unwrap_err().to_string();
    assert!(e.contains("0 (item 1)"), "{e}");
    let e = TokenMask::from_lengths(&[6, 2], n, &dev).unwrap_err().to_string();
    assert!(e.contains("6 (item 0)"), "{e}");
    // The folded path computes no energy: asking it for one is an error, not an empty trace.
    let e = et
        .descend_with(Implementation::Folded, g, &TokenMask::all(), &Descent::new(2, 0.1), Observe::Energy)
        .unwrap_err()
        .to_string();
    assert!(e.contains("folded"), "{e}");
}
