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
pub fn maybe_gunzip(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[..2] == GZIP_MAGIC {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| format_err(name, format!("corrupt or truncated gzip stream: {e}")))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}
