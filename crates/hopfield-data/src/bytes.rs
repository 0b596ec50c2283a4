//! Reading a file whole, transparently un-gzipping it (detected by the gzip magic bytes, not the name).

use std::io::Read;
use std::path::Path;

use crate::error::{format_err, io_err, Result};

/// The gzip magic bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads `path`; if it is a gzip stream, returns the decompressed bytes.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    maybe_gunzip(bytes, &path.display().to_string())
}

/// Decompresses `bytes` when they start with the gzip magic; `name` is used in errors.
///
/// Bounded and checked: the output may grow to a third of what this process may use (the caller
/// parses it beside itself), no further — a gzip bomb is an error naming the bound, not an abort —
/// and every member's CRC-32 and length trailer must match (flate2 checks them). The last
/// member's declared length sizes the buffer, so a valid file is held once, not doubled.
pub fn maybe_gunzip(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[..2] == GZIP_MAGIC {
        let limit = crate::budget::available_bytes() / 3;
        let declared = match bytes.len() {
            n if n >= 18 => u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]) as u128,
            _ => 0,
        };
        let mut out = Vec::with_capacity(declared.min(limit).max(bytes.len() as u128) as usize);
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(limit.min(u64::MAX as u128 - 1) as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| format_err(name, format!("corrupt or truncated gzip stream: {e}")))?;
        if out.len() as u128 > limit {
            return Err(format_err(
                name,
                format!(
                    "inflates to more than {}, a third of the {} this process may use (a gzip bomb, or a file too \
                     big for this machine)",
                    crate::budget::human(limit),
                    crate::budget::human(limit * 3)
                ),
            ));
        }
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// The file `dir/name` or its gzipped twin `dir/name.gz`, whichever exists (None: neither). Both
/// at once is an error: which one is meant cannot be guessed, and reading either silently could
/// read stale data.
///
/// # Errors
/// Both files exist.
pub fn plain_or_gz(dir: &Path, name: &str) -> Result<Option<std::path::PathBuf>> {
    let (plain, gz) = (dir.join(name), dir.join(format!("{name}.gz")));
    match (plain.is_file(), gz.is_file()) {
        (true, true) => Err(format_err(
            dir.display(),
            format!("both {name} and {name}.gz are here: it is not clear which one to read; move one away"),
        )),
        (true, false) => Ok(Some(plain)),
        (false, true) => Ok(Some(gz)),
        (false, false) => Ok(None),
    }
}
