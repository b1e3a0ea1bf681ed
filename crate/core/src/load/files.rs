//! Where a model's files come from: a folder of named files (config.json, *.safetensors,
//! tokenizer files), each opened as a byte source. A directory on disk, files held in memory,
//! and (in the wasm crate) files on a server or picked in a page all fit the one trait.

use crate::error::{Error, Result};
use crate::model::{ByteSource, MemorySource};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A folder of a model's files.
#[allow(async_fn_in_trait)]
pub trait ModelFiles {
    /// How one file's bytes are read.
    type Source: ByteSource;
    /// The file `name`, or `None` where the folder has no such file.
    async fn open(&self, name: &str) -> Result<Option<Self::Source>>;
    /// The folder, for messages ("Qwen/Qwen2.5-0.5B-Instruct", a path).
    fn describe(&self) -> String;

    /// The whole file `name`, or `None` where it is absent (small files: configs, tokenizers).
    async fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.open(name).await? {
            Some(source) => {
                let len = usize::try_from(source.len()).map_err(|_| {
                    Error::format("model file", format!("{name} is too large to read whole"))
                })?;
                Ok(Some(source.read_at(0, len).await?))
            }
            None => Ok(None),
        }
    }
}

/// Files held in memory by name (a test's fixtures, files a page already has).
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    files: BTreeMap<String, Arc<[u8]>>,
    name: String,
}

impl MemoryFiles {
    /// An empty folder called `name` in messages.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            files: BTreeMap::new(),
            name: name.into(),
        }
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) {
        self.files.insert(name.into(), bytes.into());
    }

    /// The file names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

impl ModelFiles for MemoryFiles {
    type Source = MemorySource;
    async fn open(&self, name: &str) -> Result<Option<MemorySource>> {
        Ok(self
            .files
            .get(name)
            .map(|b| MemorySource::new(Arc::clone(b))))
    }
    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// A directory on disk (native only).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone)]
pub struct DirFiles {
    dir: std::path::PathBuf,
}

#[cfg(not(target_arch = "wasm32"))]
impl DirFiles {
    /// The directory `dir`.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl ModelFiles for DirFiles {
    type Source = crate::model::FileSource;
    async fn open(&self, name: &str) -> Result<Option<crate::model::FileSource>> {
        if name.contains('/') || name.contains("..") {
            return Err(Error::InvalidArgument(format!(
                "file name {name:?} leaves the folder"
            )));
        }
        let path = self.dir.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        crate::model::FileSource::open(&path).map(Some)
    }
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}
