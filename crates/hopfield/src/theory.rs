//! Closed-form predictions from the theory, for comparison with measurements.

/// (2m−1)!! = 1·3·5···(2m−1) as f64; (−1)!! = 1.
pub fn double_factorial_odd(x: i64) -> f64 {
    let mut r = 1.0;
    let mut v = x;
    while v > 1 {
        r *= v as f64;
        v -= 2;
    }
    r
}

/// Probability that one neuron of a stored random pattern flips under one update, for the
/// polynomial memory F(x) = xⁿ with N neurons and K stored random patterns (Krotov & Hopfield 2016):
/// ½ erfc(√(N^(n−1) / (2 (2n−3)!! K))). For n = 2 this is the classical ½ erfc(√(N / 2K)).
/// K is real-valued so that theory curves can be drawn smoothly.
pub fn flip_probability_polynomial(neurons: usize, n: u32, memories: f64) -> f64 {
    let nn = neurons as f64;
    let arg = nn.powi(n as i32 - 1) / (2.0 * double_factorial_odd(2 * n as i64 - 3) * memories);
    0.5 * libm::erfc(arg.sqrt())
}

/// The classical Hopfield network's single-flip probability ½ erfc(√(N / 2K)).
pub fn flip_probability_classical(neurons: usize, memories: f64) -> f64 {
    flip_probability_polynomial(neurons, 2, memories)
}

/// Capacity of the classical network with a small fraction of bit errors allowed (Amit, Gutfreund
/// & Sompolinsky 1985): K_max ≈ 0.138 N.
pub const CLASSICAL_CAPACITY_RATIO: f64 = 0.138;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(double_factorial_odd(-1), 1.0);
        assert_eq!(double_factorial_odd(1), 1.0);
        assert_eq!(double_factorial_odd(5), 15.0);
        assert_eq!(double_factorial_odd(7), 105.0);
        // ½ erfc(1) = 0.0786496...: N / 2K = 1.
        assert!((flip_probability_classical(100, 50.0) - 0.078_649_603_525_142_6).abs() < 1e-12);
        // n = 3: N² / (2·3·K) = 1 at N = 30, K = 150.
        assert!((flip_probability_polynomial(30, 3, 150.0) - 0.078_649_603_525_142_6).abs() < 1e-12);
    }
}
