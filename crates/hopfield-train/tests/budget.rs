//! Sizes in checked arithmetic against the machine's memory.

use hopfield_train::budget::{check, human, machine_bytes, product};

#[test]
fn sizes_are_counted_without_overflow_and_named_in_the_error() {
    assert_eq!(product(&[3, 4, 5]), Some(60));
    assert_eq!(product(&[u64::MAX as u128, u64::MAX as u128, 2]), None);
    assert_eq!(human(512), "512 B");
    assert_eq!(human(256_000_000_000_000), "256 TB");
    assert_eq!(human(3_200_000_000), "3.2 GB");
    assert!(machine_bytes() >= 1 << 20);
    assert!(check("a small thing", Some(1 << 20)).is_ok());
    let e = check("this model", Some(256_000_000_000_000_000)).unwrap_err().to_string();
    assert!(e.starts_with("this model needs 256 PB, more than the ") && e.ends_with("this process may use"), "{e}");
    let e = check("that sweep", None).unwrap_err().to_string();
    assert!(e.contains("that sweep needs more than 3.4·10³⁸ bytes"), "{e}");
}
