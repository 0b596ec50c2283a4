//! The Energy Transformer's energy against the paper's formulas written out as slow f64 loops
//! (DESIGN.md §3), independent of the library's tensor code: E_ATT with pair weights (0/1 and
//! other values, per head), the B ≠ C exclusion and padded tokens; E_HN with ReLU² and softmax.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{EtConfig, HopfieldKind, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().try_into_vec_as::<f64>().unwrap()
}

/// E_ATT = −(1/β) Σ_h Σ_{C real} log Σ_B w_hCB exp(β K_hB·Q_hC), a query with no allowed key
/// contributing 0; K_hB = W^K_h g_B, Q_hC = W^Q_h g_C. `g` [N][D], `wq`/`wk` [H][Y][D],
/// `w` [H][N][N], `real` [N].
#[allow(clippy::too_many_arguments)]
fn attention_energy(
    g: &[Vec<f64>],
    wq: &[Vec<Vec<f64>>],
    wk: &[Vec<Vec<f64>>],
    beta: f64,
    w: &[Vec<Vec<f64>>],
    real: &[bool],
    exclude_self: bool,
) -> f64 {
    let proj = |m: &Vec<Vec<f64>>, x: &Vec<f64>| -> Vec<f64> {
        m.iter().map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum()).collect()
    };
    let mut e = 0.0;
    for h in 0..wq.len() {
        for c in 0..g.len() {
            if !real[c] {
                continue;
            }
            let q = proj(&wq[h], &g[c]);
            let mut z = 0.0;
            for b in 0..g.len() {
                if !real[b] || (exclude_self && b == c) {
                    continue;
                }
                let k = proj(&wk[h], &g[b]);
                let kq: f64 = k.iter().zip(&q).map(|(a, b)| a * b).sum();
                z += w[h][c][b] * (beta * kq).exp();
            }
            if z > 0.0 {
                e -= z.ln() / beta;
            }
        }
    }
    e
}

/// E_HN: ReLU² −½ Σ_B Σ_μ r(ξ_μ·g_B)², or softmax −(1/β) Σ_B log Σ_μ exp(β ξ_μ·g_B), over real B.
fn hopfield_energy(g: &[Vec<f64>], xi: &[Vec<f64>], softmax_beta: Option<f64>, real: &[bool]) -> f64 {
    let mut e = 0.0;
    for (b, gb) in g.iter().enumerate() {
        if !real[b] {
            continue;
        }
        let h: Vec<f64> = xi.iter().map(|x| x.iter().zip(gb).map(|(a, c)| a * c).sum()).collect();
        e -= match softmax_beta {
            None => 0.5 * h.iter().map(|v| v.max(0.0).powi(2)).sum::<f64>(),
            Some(beta) => h.iter().map(|v| (beta * v).exp()).sum::<f64>().ln() / beta,
        };
    }
    e
}

fn nested3(v: &[f64], a: usize, b: usize, c: usize) -> Vec<Vec<Vec<f64>>> {
    (0..a).map(|i| (0..b).map(|j| v[(i * b + j) * c..(i * b + j + 1) * c].to_vec()).collect()).collect()
}

#[test]
fn the_energy_is_the_papers_formula() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let (b, n, d, h, y, m) = (2usize, 6usize, 12usize, 3usize, 4usize, 10usize);
    for hopfield in [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 1.5 }] {
        for exclude_self in [false, true] {
            for masked in [false, true] {
                let mut c = EtConfig::new(d, h, y, m);
                c.exclude_self = exclude_self;
                c.hopfield = hopfield;
                c.init_std = Some(0.6);
                let et = c.init(rng.random(), &dev).unwrap();
                let gv: Vec<f32> = (0..b * n * d).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
                // Per-head weights 0, 0.3, 1 or 2.5; item 1 has its last two tokens padded.
                let wv: Vec<f32> = (0..b * h * n * n).map(|_| [0.0, 0.3, 1.0, 2.5][rng.random_range(0..4)]).collect();
                let lengths = [n, n - 2];
                let mask = if masked {
                    TokenMask::from_lengths(&lengths, n, &dev)
                        .unwrap()
                        .with_head_pairs(Tensor::from_data(TensorData::new(wv.clone(), [b, h, n, n]), &dev))
                } else {
                    TokenMask::all()
                };
                let g = Tensor::<3>::from_data(TensorData::new(gv.clone(), [b, n, d]), &dev);
                let e_att = to_vec(et.attention.energy(g.clone(), &mask));
                let e_hn = to_vec(et.hopfield.energy(g.clone(), &mask));
                let e = to_vec(et.energy(g, &mask).unwrap());
                let wq = nested3(&to_vec(et.attention.wq.val()), h, y, d);
                let wk = nested3(&to_vec(et.attention.wk.val()), h, y, d);
                let xi = nested3(&to_vec(et.hopfield.xi.val()), 1, m, d).remove(0);
                let beta = et.attention.beta;
                for item in 0..b {
                    let gi: Vec<Vec<f64>> = (0..n)
                        .map(|t| gv[(item * n + t) * d..(item * n + t + 1) * d].iter().map(|&v| v as f64).collect())
                        .collect();
                    let (w, real): (Vec<Vec<Vec<f64>>>, Vec<bool>) = if masked {
                        let w64: Vec<f64> =
                            wv[item * h * n * n..(item + 1) * h * n * n].iter().map(|&v| v as f64).collect();
                        (nested3(&w64, h, n, n), (0..n).map(|t| t < lengths[item]).collect())
                    } else {
                        (vec![vec![vec![1.0; n]; n]; h], vec![true; n])
                    };
                    let att = attention_energy(&gi, &wq, &wk, beta, &w, &real, exclude_self);
                    let softmax_beta = match hopfield {
                        HopfieldKind::Relu2 => None,
                        HopfieldKind::Softmax { beta } => Some(beta),
                    };
                    let hn = hopfield_energy(&gi, &xi, softmax_beta, &real);
                    let tag = format!("{hopfield:?} exclude_self={exclude_self} masked={masked} item {item}");
                    let close = |a: f64, r: f64| (a - r).abs() <= 1e-4 * r.abs().max(1.0);
                    assert!(close(e_att[item], att), "{tag}: E_ATT {} vs the formula's {att}", e_att[item]);
                    assert!(close(e_hn[item], hn), "{tag}: E_HN {} vs the formula's {hn}", e_hn[item]);
                    assert!(close(e[item], att + hn), "{tag}: E {} vs {}", e[item], att + hn);
                }
            }
        }
    }
}
