//! Incremental indexing of files: add new files, re-index changed ones (by size + mtime),
//! read only the appended lines of a big JSON-lines file that grew, remove documents of files
//! that disappeared, skip bad files with a reason, settle repeated ids by a fixed rule, and
//! commit in batches (inside big JSON-lines files too) so an interrupted run keeps what it
//! committed and the next run resumes there.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tantivy::Term;

use crate::corpus::{self, Found, Next, ReadEnd, Record, Resume, SkipReason, SourceFile};
use crate::document::{Document, Format};
use crate::error::{Error, Result};
use crate::ids::{IdRegistry, Origin, Placement};
use crate::index::{Index, IndexedEnd, PartialFile, SyncState};
use crate::writer::DocWriter;

/// Default largest file read whole (`.jsonl` files are streamed and exempt).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;
/// Commit after this many bytes of input, so a killed run loses at most one batch.
const COMMIT_EVERY_BYTES: u64 = 64 << 20;
/// JSON-lines files from this size on have their indexed end kept, so lines appended to them
/// are read alone; a smaller file is read again whole, which costs about what checking its
/// checksum would, and keeps the commit payload small for folders of many small files.
const MIN_APPENDABLE_BYTES: u64 = 1 << 20;

/// Options for [`Index::sync`].
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Largest non-JSONL file to read, in bytes.
    pub max_file_bytes: u64,
    /// Remove documents of files under a synced folder that no longer exist.
    pub remove_missing: bool,
    /// Commit after roughly this many input bytes (also inside a JSON-lines file).
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    /// The file.
    pub path: String,
    /// What went wrong, for people (`skipped: binary file`, `line 3: invalid JSON: …`).
    pub reason: String,
    /// What went wrong, for programs.
    pub kind: ProblemKind,
}

/// The kinds of [`FileProblem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The whole file was skipped.
    Skipped {
        /// Why.
        reason: SkipReason,
    },
    /// A record of an indexed file lost to the same id at a later place.
    RepeatedId {
        /// The id.
        id: String,
        /// Where the record that was kept is (`path` or `path:line`).
        kept: String,
    },
    /// Something else worth knowing about an indexed file: a decoding note, a bad record, a
    /// date that is no date.
    Warning,
}

/// What a sync did. File counts, except `documents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Records whose id repeats one of a record that comes later (see the README's "Ids and
    /// updates"): not indexed, each named in `problems`.
    pub duplicate_ids: usize,
    /// Input bytes read.
    pub bytes: u64,
    /// Searchable documents after the run.
    pub total_documents: u64,
    /// Wall time of the run (seconds in JSON).
    #[serde(serialize_with = "as_secs", deserialize_with = "from_secs")]
    pub elapsed: Duration,
    /// Skipped files and warnings, in walk order.
    pub problems: Vec<FileProblem>,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn from_secs<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Duration, D::Error> {
    let secs = f64::deserialize(d)?;
    Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
}

/// Receives progress while a sync runs (the CLI draws a progress bar from it).
pub trait SyncProgress {
    /// The walk is done: this many files and bytes may need reading.
    fn started(&self, _files: usize, _bytes: u64) {}
    /// This many more bytes of input were read (called as a big file is read, too).
    fn advanced(&self, _bytes: u64) {}
    /// The file with this stored path was handled (indexed, skipped or unchanged).
    fn file_done(&self, _path: &str) {}
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
    root_key == "."
        || key == root_key
        || (key.starts_with(root_key) && (root_key.ends_with('/') || key[root_key.len()..].starts_with('/')))
}

/// How a file of the to-do list is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    /// Not in the index yet.
    New,
    /// Changed since it was indexed: its old documents go.
    Changed,
    /// Unchanged, but it has records shadowed by a repeated id, whose winner may be gone.
    Recheck,
    /// Committed in part by an interrupted run: read on from there.
    Resume(Resume),
    /// Grew by whole lines since it was indexed to its end (the checksum of what was indexed
    /// still matches): only the lines after that are read.
    Append(Resume),
}

/// One writing run of a sync.
struct Run<'a> {
    index: &'a Index,
    writer: DocWriter,
    ids: IdRegistry,
    options: &'a SyncOptions,
    progress: &'a dyn SyncProgress,
    report: SyncReport,
    /// Input bytes since the last commit.
    since_commit: u64,
    /// Fingerprints of every file walked, for the shadowed list.
    fingerprints: HashMap<String, u64>,
    shadowed: BTreeMap<String, u64>,
    /// Indexed ends of big JSON-lines files, kept up to date file by file.
    ends: BTreeMap<String, IndexedEnd>,
    /// The error that stopped the run, if any.
    failed: Option<Error>,
}

impl Index {
    /// Brings the index in line with the files under `roots` (folders or single files).
    pub fn sync(&self, roots: &[PathBuf], options: &SyncOptions, progress: &dyn SyncProgress) -> Result<SyncReport> {
        let started = Instant::now();
        check_roots(roots)?;
        let state = self.sync_state()?;
        let mut report = SyncReport::default();
        let mut known = indexed_files(self)?;
        // A file all of whose records lost to a repeated id has no documents, but is known.
        for (key, fingerprint) in &state.shadowed {
            known.entry(key.clone()).or_insert(*fingerprint);
        }
        // After an append, a file's documents carry two fingerprints; its end has the latest.
        for (key, end) in &state.ends {
            if let Some(known) = known.get_mut(key) {
                *known = end.fingerprint;
            }
        }
        let Plan { files, seen, removed, todo } =
            plan(roots, Some(&self.path), &known, &state, options, &mut report, progress);

        // What a run that failed mid-commit (a full disk, a crash) may have left.
        self.remove_unreferenced_files()?;
        let writer = self.writer()?;
        let ids = IdRegistry::new(self.fields, &self.reader.searcher())?;
        let fingerprints = files.iter().map(|f| (f.key.clone(), f.fingerprint)).collect();
        let mut shadowed = state.shadowed.clone();
        shadowed.retain(|key, _| seen.contains(key) && !todo.iter().any(|(f, t)| &f.key == key && !appends(t)));
        // An appended file's earlier records are not read again: those shadowed stay so.
        for (file, _) in todo.iter().filter(|(_, t)| appends(t)) {
            if let Some(fingerprint) = shadowed.get_mut(&file.key) {
                *fingerprint = file.fingerprint;
            }
        }
        let mut run = Run {
            index: self,
            writer,
            ids,
            options,
            progress,
            report,
            since_commit: 0,
            fingerprints,
            shadowed,
            ends: state.ends.clone(),
            failed: None,
        };
        if let Err(e) = run.all(&removed, &todo) {
            // Drop what was not committed (the writer waits for its threads), then the files
            // it left behind.
            let Run { mut writer, .. } = run;
            let _ = writer.inner.rollback();
            drop(writer);
            let _ = self.remove_unreferenced_files();
            return Err(e);
        }
        let Run { writer, mut report, .. } = run;
        // Return with the index settled, no merge left running in the background.
        writer.inner.wait_merging_threads()?;
        report.total_documents = self.num_docs();
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// Fails unless every root exists, before anything is written.
pub(crate) fn check_roots(roots: &[PathBuf]) -> Result<()> {
    for root in roots {
        std::fs::metadata(root).map_err(|source| Error::Input { path: root.clone(), source })?;
    }
    Ok(())
}

/// What a sync has to do, decided before anything is written.
pub(crate) struct Plan {
    /// Every readable file walked, in walk order.
    pub files: Vec<SourceFile>,
    /// Their keys.
    pub seen: HashSet<String>,
    /// Keys of indexed files gone from disk under the synced roots, sorted.
    pub removed: Vec<String>,
    /// Files to read and how, in the fixed order that settles repeated ids.
    pub todo: Vec<(SourceFile, Task)>,
}

/// Walks `roots` (leaving out `exclude`, the index itself) and compares what it finds with the
/// `known` files (key → fingerprint) and the sync `state` of the last run: the part of a sync
/// that does not depend on where the index lives. Skipped and unchanged files are counted in
/// `report` and told to `progress` here.
pub(crate) fn plan(
    roots: &[PathBuf],
    exclude: Option<&std::path::Path>,
    known: &HashMap<String, u64>,
    state: &SyncState,
    options: &SyncOptions,
    report: &mut SyncReport,
    progress: &dyn SyncProgress,
) -> Plan {
    let mut files: Vec<SourceFile> = Vec::new();
    let mut seen = HashSet::new();
    for root in roots {
        for found in corpus::walk(root, exclude) {
            match found {
                // Overlapping roots (`corpus corpus/news`) find some files twice.
                Found::File(file) => {
                    if seen.insert(file.key.clone()) {
                        files.push(file);
                    }
                }
                Found::Skipped(path, reason) => skip(report, progress, &path.to_string_lossy(), &reason),
            }
        }
    }
    let removed: Vec<String> = if options.remove_missing {
        let cwd = std::env::current_dir().ok();
        let root_keys: Vec<String> = roots.iter().map(|r| corpus::file_key(r, cwd.as_deref())).collect();
        let mut gone: Vec<String> = known
            .keys()
            .filter(|k| !seen.contains(*k) && root_keys.iter().any(|root| covers(root, k)))
            .cloned()
            .collect();
        gone.sort();
        gone
    } else {
        Vec::new()
    };
    let mut todo: Vec<(SourceFile, Task)> = Vec::new();
    let mut unchanged = Vec::new();
    for file in &files {
        let partial = state.partial.as_ref().filter(|p| p.key == file.key && p.fingerprint == file.fingerprint);
        if let Some(p) = partial {
            todo.push((file.clone(), Task::Resume(Resume { offset: p.offset, line: p.line, crc: p.crc })));
        } else if known.get(&file.key) == Some(&file.fingerprint) {
            unchanged.push(file);
        } else if let Some(from) = appended(file, state.ends.get(&file.key)) {
            todo.push((file.clone(), Task::Append(from)));
        } else {
            let task = if known.contains_key(&file.key) { Task::Changed } else { Task::New };
            todo.push((file.clone(), task));
        }
    }
    // Files with shadowed records are read again when anything else changed: the record
    // that beat theirs may be gone.
    let anything_changed = !removed.is_empty() || todo.iter().any(|(_, t)| *t == Task::Changed);
    for file in unchanged {
        if anything_changed && state.shadowed.contains_key(&file.key) {
            todo.push((file.clone(), Task::Recheck));
        } else {
            report.unchanged += 1;
            progress.file_done(&file.key);
        }
    }
    // The fixed order that decides which of two records with one id wins.
    todo.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    let todo_bytes = todo.iter().map(|(f, t)| remaining_bytes(f, *t)).sum();
    progress.started(todo.len(), todo_bytes);
    Plan { files, seen, removed, todo }
}

fn appends(task: &Task) -> bool {
    matches!(task, Task::Append(_))
}

/// Where to read on in `file` if it only grew by lines after its indexed `end`: it is at least
/// as long and its first `end.size` bytes have the same checksum.
fn appended(file: &SourceFile, end: Option<&IndexedEnd>) -> Option<Resume> {
    let end = end?;
    let grew = file.format == Format::JsonLines && file.size >= end.size;
    (grew && corpus::prefix_crc(&file.path, end.size) == Some(end.crc)).then_some(Resume {
        offset: end.size,
        line: end.lines,
        crc: Some(end.crc),
    })
}

/// The end of `file` worth keeping after it was read to `end`: a big JSON-lines file whose
/// bytes end with a line break.
pub(crate) fn indexed_end(file: &SourceFile, end: Option<ReadEnd>) -> Option<IndexedEnd> {
    let end = end.filter(|e| e.whole_lines && e.size >= MIN_APPENDABLE_BYTES)?;
    Some(IndexedEnd { fingerprint: file.fingerprint, size: end.size, lines: end.lines, crc: end.crc })
}

impl SyncReport {
    /// Counts a file read by `task` (added, updated or, for a recheck, unchanged) and its bad
    /// records.
    pub(crate) fn count_read(&mut self, task: Task, file: &corpus::FileReport) {
        match task {
            Task::New | Task::Resume(_) => self.added += 1,
            Task::Changed | Task::Append(_) => self.updated += 1,
            Task::Recheck => self.unchanged += 1,
        }
        self.bad_records += file.bad_records;
    }
}

/// Whether a skipped file keeps the documents it had: an unreadable or oversized one does (it
/// may be back next time); one that is now empty, binary or malformed no longer holds them.
pub(crate) fn keeps_documents(reason: &SkipReason) -> bool {
    matches!(reason, SkipReason::Unreadable { .. } | SkipReason::TooLarge { .. })
}

/// The warning for a repeated id: the file of the record not kept, what happened, the kind.
pub(crate) fn repeat_warning(id: &str, loser: &Origin, winner: &Origin) -> (String, String, ProblemKind) {
    let (at, kept) = (loser.describe(), winner.describe());
    let reason = format!("id {id:?} at {at} is also at {kept}, which comes later: that one is kept");
    (loser.path.clone(), reason, ProblemKind::RepeatedId { id: id.to_string(), kept })
}

/// Bytes still to read of a to-do file.
pub(crate) fn remaining_bytes(file: &SourceFile, task: Task) -> u64 {
    match task {
        Task::Resume(r) | Task::Append(r) => file.size.saturating_sub(r.offset),
        _ => file.size,
    }
}

pub(crate) fn skip(report: &mut SyncReport, progress: &dyn SyncProgress, path: &str, reason: &SkipReason) {
    report.skipped += 1;
    let problem = FileProblem {
        path: path.to_string(),
        reason: format!("skipped: {reason}"),
        kind: ProblemKind::Skipped { reason: reason.clone() },
    };
    progress.problem(&problem);
    report.problems.push(problem);
}

impl Run<'_> {
    /// Removes what is gone, reads every to-do file, commits.
    fn all(&mut self, removed: &[String], todo: &[(SourceFile, Task)]) -> Result<()> {
        // Deletions first: an id moving from a removed file to a new one is then not a repeat.
        for key in removed {
            self.ends.remove(key);
            self.delete_path(key);
            self.report.removed += 1;
        }
        for (file, task) in todo {
            self.file(file, *task)?;
        }
        self.commit(None)
    }

    fn delete_path(&mut self, key: &str) {
        self.writer.delete_term(Term::from_field_text(self.index.fields.path, key));
        self.ids.path_deleted(key);
    }

    fn warn(&mut self, path: &str, reason: String, kind: ProblemKind) {
        let problem = FileProblem { path: path.to_string(), reason, kind };
        self.progress.problem(&problem);
        self.report.problems.push(problem);
    }

    fn file(&mut self, file: &SourceFile, task: Task) -> Result<()> {
        let replaces = matches!(task, Task::Changed | Task::Recheck);
        let resume = match task {
            Task::Resume(r) | Task::Append(r) => Some(r),
            _ => None,
        };
        // Until it is read to its end again, the file has no end to read on from.
        self.ends.remove(&file.key);
        let mut deleted_old = false;
        let mut read_to = resume.map_or(0, |r| r.offset);
        let mut documents = 0;
        let result = corpus::read_file(file, self.options.max_file_bytes, resume, &mut |doc, record| {
            if replaces && !deleted_old {
                self.delete_path(&file.key);
                deleted_old = true;
            }
            let advanced = record.end.saturating_sub(read_to);
            read_to = record.end;
            self.document(file, doc, record, advanced, &mut documents)
        });
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        match result {
            Ok(file_report) => {
                self.report.count_read(task, &file_report);
                self.report.documents += documents;
                if let Some(end) = indexed_end(file, file_report.end) {
                    self.ends.insert(file.key.clone(), end);
                }
                for warning in file_report.warnings {
                    self.warn(&file.key, warning, ProblemKind::Warning);
                }
            }
            Err(reason) => {
                if replaces && !deleted_old && !keeps_documents(&reason) {
                    self.delete_path(&file.key);
                }
                skip(&mut self.report, self.progress, &file.key, &reason);
            }
        }
        let rest = file.size.saturating_sub(read_to);
        self.progress.advanced(rest);
        self.report.bytes += remaining_bytes(file, task);
        self.since_commit += rest;
        self.progress.file_done(&file.key);
        if self.since_commit >= self.options.commit_every_bytes {
            self.commit(None)?;
        }
        Ok(())
    }

    /// Places one document (see [`IdRegistry::place`]) and adds it; commits inside a
    /// JSON-lines file when enough input has gone by.
    fn document(&mut self, file: &SourceFile, doc: Document, record: Record, advanced: u64, count: &mut usize) -> Next {
        self.progress.advanced(advanced);
        self.since_commit += advanced;
        let place = Origin { path: file.key.clone(), record: record.number };
        match self.ids.place(&doc.id, place.clone()) {
            Err(e) => return self.fail(e),
            Ok(Placement::New) => {}
            Ok(Placement::Replaces(earlier)) => {
                self.writer.delete_term(Term::from_field_text(self.index.fields.id, &doc.id));
                self.warn_repeat(&doc.id, &earlier, &place);
                if earlier.path != place.path {
                    self.shadow(&earlier.path);
                }
            }
            Ok(Placement::Shadowed(later)) => {
                self.warn_repeat(&doc.id, &place, &later);
                self.shadow(&place.path);
                return self.maybe_commit_inside(file, record);
            }
        }
        let (tantivy_doc, bytes) = self.index.to_tantivy(&doc, file.fingerprint, record.number);
        if let Err(e) = self.writer.add(tantivy_doc, bytes) {
            return self.fail(e.into());
        }
        *count += 1;
        self.maybe_commit_inside(file, record)
    }

    /// A repeated id: `loser` is not indexed (or no longer), `winner` is.
    fn warn_repeat(&mut self, id: &str, loser: &Origin, winner: &Origin) {
        self.report.duplicate_ids += 1;
        let (path, reason, kind) = repeat_warning(id, loser, winner);
        self.warn(&path, reason, kind);
    }

    fn shadow(&mut self, key: &str) {
        let fingerprint = self.fingerprints.get(key).copied().unwrap_or(0);
        self.shadowed.insert(key.to_string(), fingerprint);
    }

    fn maybe_commit_inside(&mut self, file: &SourceFile, record: Record) -> Next {
        if file.format != Format::JsonLines || self.since_commit < self.options.commit_every_bytes {
            return Next::More;
        }
        let partial = PartialFile {
            key: file.key.clone(),
            fingerprint: file.fingerprint,
            offset: record.end,
            line: record.number,
            crc: record.crc,
        };
        match self.commit(Some(partial)) {
            Ok(()) => Next::More,
            Err(e) => self.fail(e),
        }
    }

    fn fail(&mut self, e: Error) -> Next {
        self.failed.get_or_insert(e);
        Next::Stop
    }

    /// Commits what was written, with the sync state the next run needs.
    fn commit(&mut self, partial: Option<PartialFile>) -> Result<()> {
        let state = SyncState { partial, shadowed: self.shadowed.clone(), ends: self.ends.clone() };
        self.index.commit(&mut self.writer, Some(&state))?;
        self.ids.committed(&self.index.reader.searcher())?;
        self.since_commit = 0;
        Ok(())
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
        assert!(covers(".", "a.txt"));
        assert!(!covers("corpus", "corpus2/a.txt"));
        assert!(!covers("corpus/a.txt", "corpus/a.txt.bak"));
    }
}
