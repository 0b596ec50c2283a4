//! Store 20 real handwritten digits in a dense associative memory and a modern Hopfield network,
//! flip 20% of each one's pixels, and retrieve them.
//!
//! `cargo run --release -p hopfield-train --example retrieve` (the test suite runs it too).

use hopfield::memory::{DenseMemory, Dynamics, ModernHopfield, Retrieve, Separation};
use hopfield_data::{Builtin, DataSource, Split};
use rand::{Rng, SeedableRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 20 MNIST test digits from the bundled sample, as ±1 spins (N = 784).
    let digits = hopfield_data::load(&DataSource::Builtin(Builtin::MnistSample), Split::Test, ".".as_ref())?;
    let n = digits.image_len();
    let patterns: Vec<i8> = (0..20).flat_map(|i| digits.image(i)).map(|p| if p > 0.5 { 1 } else { -1 }).collect();
    let dense = DenseMemory::new(&patterns, n, Separation::RectifiedPolynomial { n: 30 })?;
    let modern = ModernHopfield::new(patterns.iter().map(|&s| s as f64).collect(), n, 0.2)?;

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let (mut dense_exact, mut modern_exact) = (0, 0);
    for stored in patterns.chunks(n) {
        let mut cue = stored.to_vec();
        cue.iter_mut().filter(|_| rng.random_bool(0.2)).for_each(|s| *s = -*s);
        let queried: Vec<f64> = cue.iter().map(|&s| s as f64).collect();
        dense.run(&mut cue, &Dynamics::default(), &mut rng)?;
        dense_exact += (cue == stored) as usize;
        let out = modern.retrieve(&queried, &Retrieve::default())?;
        modern_exact += out.states.iter().zip(stored).all(|(x, &s)| x.signum() == s as f64) as usize;
    }
    println!("from cues with 20% of their pixels flipped, retrieved exactly: dense {dense_exact}/20, modern {modern_exact}/20");
    // The dense memory (F = max(x, 0)^30) and the modern network (β = 0.2) retrieve nearly all.
    assert!(dense_exact >= 18 && modern_exact >= 18, "dense {dense_exact}, modern {modern_exact}");
    Ok(())
}
