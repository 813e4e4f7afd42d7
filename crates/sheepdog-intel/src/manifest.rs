//! The intel manifest: which files make up the intelligence, of which kind, from where, under
//! which licence. `intel/manifest.toml` in the repository; any directory with the same layout
//! can replace it.

use serde::Deserialize;

use crate::SourceKind;

/// One source entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSource {
    pub name: String,
    pub kind: String,
    /// Path relative to the manifest's directory.
    pub file: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub origin: String,
    #[serde(default)]
    pub licence: String,
}

impl ManifestSource {
    pub fn source_kind(&self) -> Option<SourceKind> {
        SourceKind::parse(&self.kind)
    }
}

/// The manifest file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    #[serde(default)]
    pub sources: Vec<ManifestSource>,
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let m: Manifest = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if m.version != 1 {
            return Err(format!("version: unsupported manifest version {}; this build reads 1", m.version));
        }
        for (i, s) in m.sources.iter().enumerate() {
            if s.source_kind().is_none() {
                let known: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!("sources[{i}].kind: unknown kind {:?}; known: {}", s.kind, known.join(", ")));
            }
            if s.file.contains("..") || s.file.starts_with('/') {
                return Err(format!("sources[{i}].file: must be a relative path inside the intel directory"));
            }
        }
        Ok(m)
    }
}
