//! Refusing work that cannot fit, before anything is allocated: sizes are computed in checked
//! arithmetic and compared with the machine's memory, and the error names the figure ("this
//! model needs 256 TB for its weights, more than the 24 GB of this machine").

use crate::error::{Result, TrainError};

/// The machine's memory in bytes: `MemTotal` of /proc/meminfo where there is one, else 16 GiB.
pub fn machine_bytes() -> u128 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(16 << 30)
}

/// The product of `factors` in checked arithmetic (`None` on overflow).
pub fn product(factors: &[u128]) -> Option<u128> {
    factors.iter().try_fold(1u128, |acc, &f| acc.checked_mul(f))
}

/// Bytes as people write them: "512 B", "3.2 GB", "256 TB", ….
pub fn human(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

/// Ok when `bytes` (`None`: beyond counting) fit in the machine's memory; else the error saying
/// that `what` needs them.
pub fn check(what: &str, bytes: Option<u128>) -> Result<()> {
    let have = machine_bytes();
    match bytes {
        Some(b) if b <= have => Ok(()),
        Some(b) => Err(TrainError::TooLarge { what: what.to_string(), needs: human(b), available: human(have) }),
        None => Err(TrainError::TooLarge {
            what: what.to_string(),
            needs: "more than 3.4·10³⁸ bytes".into(),
            available: human(have),
        }),
    }
}
