//! The memory a run may use, and sizes in checked arithmetic: every size that comes from a flag,
//! a configuration or a file header is compared with it before anything is allocated, so that an
//! absurd size is an error naming the figure instead of an abort ("2,708 × 100,000 features need
//! 1.1 GB, more than the 512 MB this process may use").
//!
//! What a process may use is the least of the machine's memory (`MemTotal`), its cgroup's limit
//! (`memory.max`, or v1's `memory.limit_in_bytes`), and the room left under its address-space and
//! data-size limits (`ulimit -v`, `ulimit -d`).

/// The machine's memory in bytes: `MemTotal` of /proc/meminfo where there is one, else 16 GiB.
pub fn machine_bytes() -> u128 {
    std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| kb_field(&t, "MemTotal:")).unwrap_or(16 << 30)
}

/// `field` of a /proc file's text in kB, as bytes.
fn kb_field(text: &str, field: &str) -> Option<u128> {
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The soft limit named `name` in /proc/self/limits, in bytes (None: unlimited or unknown).
fn soft_limit(limits: &str, name: &str) -> Option<u128> {
    let rest = limits.lines().find(|l| l.starts_with(name))?[name.len()..].trim_start();
    rest.split_whitespace().next()?.parse().ok()
}

/// The cgroup memory limit of this process, where one is set.
fn cgroup_bytes() -> Option<u128> {
    ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| t.trim().parse::<u128>().ok())
        // v1 writes "no limit" as a number near 2⁶³.
        .find(|&b| b < 1 << 60)
}

/// The bytes this process may still allocate: see the module docs.
pub fn available_bytes() -> u128 {
    let mut have = machine_bytes();
    if let Some(c) = cgroup_bytes() {
        have = have.min(c);
    }
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        for (limit, used) in [("Max address space", "VmSize:"), ("Max data size", "VmData:")] {
            if let Some(max) = soft_limit(&limits, limit) {
                have = have.min(max.saturating_sub(kb_field(&status, used).unwrap_or(0)));
            }
        }
    }
    have
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

/// Ok when `bytes` (`None`: beyond counting) fit in what this process may use; else the phrase
/// "needs X, more than the Y this process may use".
pub fn fits(bytes: Option<u128>) -> std::result::Result<(), String> {
    let have = available_bytes();
    match bytes {
        Some(b) if b <= have => Ok(()),
        Some(b) => Err(format!("needs {}, more than the {} this process may use", human(b), human(have))),
        None => Err(format!("needs more than 3.4·10³⁸ bytes, more than the {} this process may use", human(have))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_from_proc_texts() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max data size             unlimited            unlimited            bytes\n\
                      Max address space         1073741824           unlimited            bytes\n";
        assert_eq!(soft_limit(limits, "Max address space"), Some(1 << 30));
        assert_eq!(soft_limit(limits, "Max data size"), None);
        assert_eq!(kb_field("VmSize:\t  2048 kB\n", "VmSize:"), Some(2 << 20));
        assert!(available_bytes() <= machine_bytes());
    }
}
