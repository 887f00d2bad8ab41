//! Incremental indexing of files: add new files, re-index changed ones (by size + mtime),
//! remove documents of files that disappeared, skip bad files with a reason, and commit in
//! batches so an interrupted run keeps what it committed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use tantivy::Term;

use crate::corpus::{self, Found, SkipReason, SourceFile};
use crate::error::{Error, Result};
use crate::index::Index;
use crate::writer::IdFilter;

/// Default largest file read whole (`.jsonl` files are streamed and exempt).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;
/// Commit after this many bytes of input, so a killed run loses at most one batch.
const COMMIT_EVERY_BYTES: u64 = 64 << 20;

/// Options for [`Index::sync`].
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Largest non-JSONL file to read, in bytes.
    pub max_file_bytes: u64,
    /// Remove documents of files under a synced folder that no longer exist.
    pub remove_missing: bool,
    /// Commit after roughly this many input bytes.
    pub commit_every_bytes: u64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            remove_missing: true,
            commit_every_bytes: COMMIT_EVERY_BYTES,
        }
    }
}

/// A file that was skipped, or a problem inside a file that was otherwise indexed.
#[derive(Debug, Clone, Serialize)]
pub struct FileProblem {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

/// What a sync did. File counts, except `documents`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// New files indexed.
    pub added: usize,
    /// Changed files re-indexed.
    pub updated: usize,
    /// Files gone from disk whose documents were removed.
    pub removed: usize,
    /// Files already indexed and unchanged.
    pub unchanged: usize,
    /// Files skipped (see `problems`).
    pub skipped: usize,
    /// Documents written in this run.
    pub documents: usize,
    /// Records inside files (JSON lines, array items) that were skipped.
    pub bad_records: usize,
    /// Input bytes read.
    pub bytes: u64,
    /// Searchable documents after the run.
    pub total_documents: u64,
    /// Wall time of the run.
    #[serde(serialize_with = "as_secs")]
    pub elapsed: Duration,
    /// Skipped files and warnings, in walk order.
    pub problems: Vec<FileProblem>,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Receives progress while a sync runs (the CLI draws a progress bar from it).
pub trait SyncProgress {
    /// The walk is done: this many files and bytes may need reading.
    fn started(&self, _files: usize, _bytes: u64) {}
    /// One file was handled (indexed, skipped or unchanged).
    fn file_done(&self, _bytes: u64) {}
    /// A file was skipped or had a problem; called as it happens.
    fn problem(&self, _problem: &FileProblem) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl SyncProgress for NoProgress {}

/// File key → fingerprint of everything in the index, from the fast fields.
fn indexed_files(index: &Index) -> Result<HashMap<String, u64>> {
    let searcher = index.reader.searcher();
    let mut files = HashMap::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(paths), Ok(prints)) = (fast.str("path")?, fast.u64("fingerprint")) else { continue };
        let mut key = String::new();
        for doc in segment.doc_ids_alive() {
            let Some(ord) = paths.term_ords(doc).next() else { continue };
            key.clear();
            paths.ord_to_str(ord, &mut key)?;
            files.insert(key.clone(), prints.first(doc).unwrap_or(0));
        }
    }
    Ok(files)
}

fn covers(root_key: &str, key: &str) -> bool {
    key == root_key
        || (key.starts_with(root_key) && (root_key.ends_with('/') || key[root_key.len()..].starts_with('/')))
}

impl Index {
    /// Brings the index in line with the files under `roots` (folders or single files).
    pub fn sync(&self, roots: &[PathBuf], options: &SyncOptions, progress: &dyn SyncProgress) -> Result<SyncReport> {
        let started = Instant::now();
        for root in roots {
            std::fs::metadata(root).map_err(|source| Error::Input { path: root.clone(), source })?;
        }
        let mut report = SyncReport::default();
        let mut known = indexed_files(self)?;
        let mut files = Vec::new();
        for root in roots {
            for found in corpus::walk(root, Some(&self.path)) {
                match found {
                    Found::File(file) => files.push(file),
                    Found::Skipped(path, reason) => self.skip(&mut report, progress, &path, &reason),
                }
            }
        }
        let mut seen = HashSet::new();
        let (mut todo, mut todo_bytes) = (Vec::new(), 0);
        for file in files {
            seen.insert(file.key.clone());
            if known.get(&file.key) == Some(&file.fingerprint) {
                report.unchanged += 1;
            } else {
                todo_bytes += file.size;
                todo.push(file);
            }
        }
        progress.started(todo.len(), todo_bytes);

        let mut writer = self.writer()?;
        let mut since_commit = 0;
        // Into an empty index, a document needs deleting by id only if this run already wrote
        // that id (overlapping JSON files); skipping the rest saves a term lookup per document.
        let mut ids = IdFilter::for_index_of(self.num_docs());
        for file in &todo {
            let existed = known.contains_key(&file.key);
            match self.index_file(&writer, file, existed, &mut ids, options) {
                Ok((docs, file_report)) => {
                    if existed {
                        report.updated += 1
                    } else {
                        report.added += 1
                    }
                    report.documents += docs;
                    report.bad_records += file_report.bad_records;
                    for warning in file_report.warnings {
                        let problem = FileProblem { path: file.key.clone(), reason: warning };
                        progress.problem(&problem);
                        report.problems.push(problem);
                    }
                }
                Err(reason) => {
                    // Keep what an unreadable or oversized file had; a file that is now empty,
                    // binary or malformed no longer holds those documents.
                    if existed && !matches!(reason, SkipReason::Unreadable { .. } | SkipReason::TooLarge { .. }) {
                        writer.delete_term(Term::from_field_text(self.fields.path, &file.key));
                    }
                    self.skip(&mut report, progress, &file.path, &reason);
                }
            }
            known.remove(&file.key);
            report.bytes += file.size;
            since_commit += file.size;
            progress.file_done(file.size);
            if since_commit >= options.commit_every_bytes {
                self.commit(&mut writer)?;
                since_commit = 0;
            }
        }
        if options.remove_missing {
            let root_keys: Vec<String> = roots.iter().map(|r| corpus::slash_path(r)).collect();
            for key in known.keys().filter(|k| !seen.contains(*k)) {
                if root_keys.iter().any(|root| covers(root, key)) {
                    writer.delete_term(Term::from_field_text(self.fields.path, key));
                    report.removed += 1;
                }
            }
        }
        self.commit(&mut writer)?;
        writer.inner.wait_merging_threads()?;
        report.total_documents = self.num_docs();
        report.elapsed = started.elapsed();
        Ok(report)
    }

    fn skip(&self, report: &mut SyncReport, progress: &dyn SyncProgress, path: &Path, reason: &SkipReason) {
        report.skipped += 1;
        let problem = FileProblem { path: path.to_string_lossy().into_owned(), reason: format!("skipped: {reason}") };
        progress.problem(&problem);
        report.problems.push(problem);
    }

    /// Replaces the documents of one file: delete by path, then add each document, deleting
    /// any earlier document with the same id so ids stay unique.
    fn index_file(
        &self,
        writer: &crate::writer::DocWriter,
        file: &SourceFile,
        existed: bool,
        ids: &mut IdFilter,
        options: &SyncOptions,
    ) -> std::result::Result<(usize, corpus::FileReport), SkipReason> {
        let mut docs = 0;
        let mut failed = None;
        let mut emit = |doc: crate::document::Document| {
            if failed.is_some() {
                return;
            }
            if docs == 0 && existed {
                writer.delete_term(Term::from_field_text(self.fields.path, &file.key));
            }
            if ids.may_exist(&doc.id) {
                writer.delete_term(Term::from_field_text(self.fields.id, &doc.id));
            }
            if let Err(e) = writer.add(self.to_tantivy(&doc, file.fingerprint), doc.size()) {
                failed = Some(e);
            }
            docs += 1;
        };
        let report = corpus::read_file(file, options.max_file_bytes, &mut emit)?;
        if let Some(e) = failed {
            return Err(SkipReason::Unreadable { message: format!("index writer failed: {e}") });
        }
        Ok((docs, report))
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn root_covers_only_its_own_files() {
        assert!(covers("corpus", "corpus/a.txt"));
        assert!(covers("corpus/", "corpus/a.txt"));
        assert!(covers("corpus/a.txt", "corpus/a.txt"));
        assert!(!covers("corpus", "corpus2/a.txt"));
        assert!(!covers("corpus/a.txt", "corpus/a.txt.bak"));
    }
}
