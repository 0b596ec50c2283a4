//! Settings that compute nonsense are refused: polynomial degrees whose powers leave f64, step
//! sizes that jump past the energy's minima.

use hopfield::et::{Descent, MAX_STEP_SIZE};
use hopfield::memory::{Separation, MAX_DEGREE};

#[test]
fn degrees_and_step_sizes_outside_their_range_are_errors() {
    for s in [Separation::Polynomial { n: MAX_DEGREE }, Separation::RectifiedPolynomial { n: 2 }] {
        assert!(s.validate().is_ok(), "{s:?}");
    }
    for n in [MAX_DEGREE + 1, 100_000_000] {
        for s in [Separation::Polynomial { n }, Separation::RectifiedPolynomial { n }] {
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("n = {n}")) && e.contains("at most 1000"), "{e}");
        }
    }
    assert!(Descent::new(12, MAX_STEP_SIZE).validate().is_ok());
    for a in [10.5, 1e30, 1e308] {
        let e = Descent::new(12, a).validate().unwrap_err().to_string();
        assert!(e.contains(&format!("alpha = {a}")) && e.contains("at most 10"), "{e}");
    }
}
