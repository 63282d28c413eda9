//! The extracted fields of each project and the types they were indexed with, kept by
//! [`TantivyLogStore`](crate::TantivyLogStore) for [`LogStore::fields`](crate::LogStore::fields).
//!
//! Tantivy could list JSON paths and types from its segments, but only by scanning the whole
//! term dictionary, and it indexes a whole double (2.0) as an integer, so it would report such a
//! field as a long. The store therefore keeps this small list itself.
//!
//! One JSON file per project directory (`<root>/<project>/fields.json`), replaced atomically
//! (write, fsync, rename, fsync the directory) only when a batch brings a new (name, type) pair,
//! which is rare once a project's fields are known. The store writes it just before the
//! batch's Tantivy commit: a crash in between lists a type no committed record has (and the
//! uncommitted batch is replayed anyway) rather than hiding one that is indexed.
//!
//! Retention deletes day directories and leaves the catalog as it is: a field, or a type of
//! it, whose last records expired stays listed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use nexuslog_schemas::LogRecord;

use crate::{FieldInfo, FieldType, LogStoreError};

/// Name of the catalog file in a project directory. Not a day name, so the day listing and
/// retention pass it by.
pub(crate) const CATALOG_FILE: &str = "fields.json";

type Types = BTreeMap<String, BTreeSet<FieldType>>;

fn err(what: &str, path: &Path, e: impl std::fmt::Display) -> LogStoreError {
    LogStoreError::Unavailable(format!("field catalog {what} {}: {e}", path.display()))
}

/// The catalogs of the projects under one root, cached after the first read.
#[derive(Debug)]
pub(crate) struct FieldCatalog {
    root: PathBuf,
    /// By project directory name. The lock also orders the file writes of one project.
    projects: Mutex<HashMap<String, Types>>,
}

impl FieldCatalog {
    pub(crate) fn new(root: &Path) -> Self {
        Self { root: root.to_owned(), projects: Mutex::new(HashMap::new()) }
    }

    fn path(&self, project_dir: &str) -> PathBuf {
        self.root.join(project_dir).join(CATALOG_FILE)
    }

    /// Reads a project's catalog file; none yet is an empty catalog.
    fn load(&self, project_dir: &str) -> Result<Types, LogStoreError> {
        let path = self.path(project_dir);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Types::new()),
            Err(e) => return Err(err("read", &path, e)),
        };
        match serde_json::from_slice::<Vec<FieldInfo>>(&text) {
            Ok(fields) => Ok(fields.into_iter().map(|f| (f.name, f.types.into_iter().collect())).collect()),
            Err(e) => {
                // Replaced atomically, so this is outside damage. Refusing would stop indexing
                // for good; starting over only under-reports until the fields are seen again.
                tracing::warn!(path = %path.display(), error = %e, "unreadable field catalog, starting a new one");
                Ok(Types::new())
            }
        }
    }

    /// Adds the (name, type) pairs of `records`, all of project directory `project_dir`, and
    /// writes the file when one is new.
    ///
    /// # Errors
    /// When the file cannot be read or written.
    pub(crate) fn note(&self, project_dir: &str, records: &[&LogRecord]) -> Result<(), LogStoreError> {
        let mut projects = self.projects.lock().unwrap_or_else(PoisonError::into_inner);
        let types = match projects.entry(project_dir.to_owned()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(self.load(project_dir)?),
        };
        let mut new_pairs = Vec::new();
        for r in records {
            for (name, value) in &r.fields {
                let Some(t) = FieldType::of(value) else { continue };
                if !types.get(name).is_some_and(|known| known.contains(&t)) {
                    new_pairs.push((name, t));
                }
            }
        }
        if new_pairs.is_empty() {
            return Ok(());
        }
        // Cached only once written: after a failed write the next batch tries again.
        let mut updated = types.clone();
        for (name, t) in new_pairs {
            updated.entry(name.clone()).or_default().insert(t);
        }
        self.write(project_dir, &updated)?;
        *types = updated;
        Ok(())
    }

    fn write(&self, project_dir: &str, types: &Types) -> Result<(), LogStoreError> {
        let path = self.path(project_dir);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec(&infos(types)).map_err(|e| err("encode", &path, e))?;
        let mut file = File::create(&tmp).map_err(|e| err("write", &tmp, e))?;
        file.write_all(&text).and_then(|()| file.sync_all()).map_err(|e| err("write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| err("replace", &path, e))?;
        // The rename is durable once the directory entry is.
        let dir = self.root.join(project_dir);
        File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| err("sync", &dir, e))
    }

    /// A project's fields, sorted by name.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub(crate) fn list(&self, project_dir: &str) -> Result<Vec<FieldInfo>, LogStoreError> {
        let projects = self.projects.lock().unwrap_or_else(PoisonError::into_inner);
        match projects.get(project_dir) {
            Some(types) => Ok(infos(types)),
            // Not cached: a project never queried nor indexed since start-up need not stay in memory.
            None => self.load(project_dir).map(|types| infos(&types)),
        }
    }
}

fn infos(types: &Types) -> Vec<FieldInfo> {
    types.iter().map(|(name, t)| FieldInfo { name: name.clone(), types: t.iter().copied().collect() }).collect()
}
