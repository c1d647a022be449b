//! The sample library built into the binary, so `streamfront serve` plays something with no
//! configuration at all.

use std::path::{Path, PathBuf};

const SAMPLE_MP4: &[u8] = include_bytes!("../../../media/sample.mp4");

/// Writes the sample library under `data_dir` (once; rewritten if it differs) and returns
/// its directory.
pub fn unpack(data_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = data_dir.join("sample-media");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("sample.mp4");
    let current = std::fs::read(&file).ok();
    if current.as_deref() != Some(SAMPLE_MP4) {
        // Write beside and rename, so a viewer never sees a half-written file.
        let partial = dir.join(".sample.mp4.partial");
        std::fs::write(&partial, SAMPLE_MP4)?;
        std::fs::rename(&partial, &file)?;
    }
    Ok(dir)
}
