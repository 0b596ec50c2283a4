//! Refusing work that cannot fit, before anything is allocated: sizes are computed in checked
//! arithmetic and compared with the memory this process may use ([`available_bytes`]: the
//! machine's, its cgroup's limit, its `ulimit -v`/`-d` room), and the error names the figure
//! ("this model needs 256 TB for its weights, more than the 24 GB this process may use").

use crate::error::{Result, TrainError};

pub use hopfield_data::budget::{available_bytes, human, machine_bytes, product};

/// Ok when `bytes` (`None`: beyond counting) fit in what this process may use; else the error saying
/// that `what` needs them.
pub fn check(what: &str, bytes: Option<u128>) -> Result<()> {
    let have = available_bytes();
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
