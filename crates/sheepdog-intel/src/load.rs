//! Building an `Intel` from a manifest and a way to read its files (a directory, or the copy
//! embedded in the binary): the caller supplies `read`, so this crate stays free of I/O.

use crate::{IntelBuilder, IntelError, Manifest};

/// Loads every source of `manifest_text`, reading files through `read` (paths are relative to
/// the manifest). The first failing source aborts the load and is named in the error.
pub fn load(
    manifest_text: &str,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<crate::Intel, IntelError> {
    let manifest = Manifest::parse(manifest_text).map_err(|m| IntelError::new("manifest.toml", 0, m))?;
    let mut b = IntelBuilder::new();
    for s in &manifest.sources {
        let kind = s.source_kind().ok_or_else(|| IntelError::new(&s.name, 0, format!("unknown kind {:?}", s.kind)))?;
        let text = read(&s.file).map_err(|m| IntelError::new(&s.name, 0, format!("reading {}: {m}", s.file)))?;
        b.add(kind, s, &text)?;
    }
    Ok(b.build())
}
