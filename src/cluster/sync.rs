//! Incremental sync into a cluster index, with the local sync's plan (`crate::sync::plan`) and
//! rules: new, changed, removed and unchanged files by fingerprint, bad files and records
//! skipped with a warning, repeated ids settled by the same fixed order and never silent.
//!
//! How the cluster keeps it exact without transactions:
//! - Every document carries the sync run that wrote it. A re-read file's documents overwrite
//!   their old selves in place (readers never see the file missing); once all of them are
//!   acknowledged, the file's documents from earlier runs are deleted.
//! - Documents are sent with `create`, so an id that exists already comes back as a conflict;
//!   sou then looks at where the existing one came from and decides which wins.
//! - A file counts as indexed (its fingerprint is written to the files index) only after every
//!   one of its documents was acknowledged; the sync state (run number, a big JSON-lines file
//!   committed in part, files with shadowed records) is in the files index's `_meta`.
//! - Bulk requests are bounded (bytes and documents); 429 and 5xx answers, for the whole
//!   request or single documents, are retried with backoff; a document the cluster refuses
//!   for good is named in a warning and counted as a bad record.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tantivy::tokenizer::TextAnalyzer;

use super::ClusterIndex;
use super::client::{Method, Retry, is_transient};
use super::encode::{FILLER, chinese_evidence, encode};
use super::lock::WriterLock;
use super::mapping;
use crate::analysis::{self, GRAMS, LATIN, WORDS, ZH_WORDS};
use crate::corpus::{self, Next, Record, SourceFile};
use crate::document::{Document, Format};
use crate::error::{Error, Result};
use crate::ids::Origin;
use crate::index::{PartialFile, SyncState};
use crate::schema::TextValues;
use crate::sync::{self, FileProblem, Plan, ProblemKind, SyncOptions, SyncProgress, SyncReport, Task};

/// A bulk request is sent when it holds this many bytes…
const BATCH_BYTES: usize = 8 << 20;
/// …or this many documents.
const BATCH_DOCS: usize = 1000;

/// The sync state of a cluster index, in its files index's `_meta.sou_sync`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ClusterSyncState {
    /// The last run that started.
    run: u64,
    /// Whether that run finished.
    finished: bool,
    /// A JSON-lines file committed in part, and the run that started it.
    partial: Option<PartialFile>,
    partial_run: u64,
    /// Files with records shadowed by a repeated id (see the local sync).
    shadowed: BTreeMap<String, u64>,
}

/// The files index: one document per indexed file (`_id` from its stored path, see
/// [`file_record_id`]), and the writer lock.
pub(crate) fn files_index_body() -> Value {
    json!({
        "settings": {"number_of_shards": 1, "number_of_replicas": 1},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"sou_sync": ClusterSyncState::default()},
            "properties": {
                "path": {"type": "keyword"},
                "fingerprint": {"type": "unsigned_long"},
                // the writer lock (see `lock`)
                "owner": {"type": "keyword"},
                "heartbeat": {"type": "long"},
            },
        },
    })
}

/// A document waiting in the bulk request being built.
struct Pending {
    id: String,
    origin: Origin,
    /// Whether this run is the one it carries (not a resumed file's earlier run).
    this_run: bool,
    /// The `_source`, with the encoded fields.
    source: Value,
}

/// What the cluster answered for a list of documents.
#[derive(Default)]
struct Sent {
    /// Positions of the documents written.
    written: Vec<usize>,
    /// Positions of those whose id existed already (`create` only).
    conflicts: Vec<usize>,
}

/// A file whose documents are all in requests sent or being built; done once they are acknowledged.
struct Finishing {
    key: String,
    fingerprint: u64,
    /// Its documents from runs before this one are deleted when it is done.
    clean_before: Option<u64>,
}

/// The analyzers of the analyzed fields, created once per run.
struct Analyzers {
    words: TextAnalyzer,
    zh: TextAnalyzer,
    latin: TextAnalyzer,
    grams: TextAnalyzer,
}

impl Analyzers {
    fn new(index: &ClusterIndex) -> Analyzers {
        let segmenter = index.segmenter();
        Analyzers {
            words: analysis::analyzer(WORDS, segmenter),
            zh: analysis::analyzer(ZH_WORDS, segmenter),
            latin: analysis::analyzer(LATIN, segmenter),
            grams: analysis::analyzer(GRAMS, segmenter),
        }
    }

    /// The `_source` to send for `doc`: where it came from, its text, its encoded fields.
    fn source(&mut self, doc: &Document, fingerprint: u64, record: u64, run: u64) -> Value {
        let values = TextValues::of(doc);
        let mut source = super::source_of(doc, fingerprint, record, run);
        let (zh, grams) = (encode(&mut self.zh, &values.zh), encode(&mut self.grams, &values.grams));
        let chinese = chinese_evidence(&zh, &grams);
        let fields = [
            ("title", encode(&mut self.words, &[values.title])),
            ("source", encode(&mut self.words, &values.source.into_iter().collect::<Vec<_>>())),
            ("zh", zh),
            ("en", encode(&mut self.words, &values.en)),
            ("latin", encode(&mut self.latin, &values.latin)),
            ("grams", grams),
            (mapping::CHINESE, chinese),
        ];
        for (name, encoded) in fields {
            // An empty field holds one filler: tantivy's BM25 counts every document in a
            // field's document count (its idf and average length), Lucene only those holding
            // the field, and a corpus that mixes Chinese-only and English-only documents ranked
            // differently without it (news-mix: 3 of 8 one-word English queries kept their
            // order). The filler moves the average length by a token per such document.
            let text = if encoded.text.is_empty() { FILLER.to_string() } else { encoded.text };
            source[name] = Value::String(text);
        }
        source
    }
}

/// One sync run against a cluster index.
struct Run<'a> {
    index: &'a ClusterIndex,
    lock: &'a mut WriterLock,
    options: &'a SyncOptions,
    progress: &'a dyn SyncProgress,
    report: SyncReport,
    analyzers: Analyzers,
    state: ClusterSyncState,
    run: u64,
    /// Files of this run's to-do list whose documents from earlier runs are stale.
    rereading: HashSet<String>,
    /// Fingerprints of every file walked, for the shadowed list.
    fingerprints: HashMap<String, u64>,
    batch: Vec<Pending>,
    batch_bytes: usize,
    finishing: Vec<Finishing>,
    since_commit: u64,
    failed: Option<Error>,
    /// Documents of this run acknowledged per file, and the files read, for the check at the end.
    acknowledged: HashMap<String, u64>,
    read: Vec<SourceFile>,
}

/// Rounds of checking the cluster against what it acknowledged and sending the missing again.
const REPAIR_ROUNDS: usize = 3;

impl ClusterIndex {
    /// Brings the cluster index in line with the files under `roots`, as [`crate::Index::sync`]
    /// does for a local one.
    pub fn sync(&self, roots: &[PathBuf], options: &SyncOptions, progress: &dyn SyncProgress) -> Result<SyncReport> {
        let started = Instant::now();
        sync::check_roots(roots)?;
        let mut lock = self.lock()?;
        let result = self.sync_locked(roots, options, progress, &mut lock);
        self.unlock(lock);
        let mut report = result?;
        report.elapsed = started.elapsed();
        Ok(report)
    }

    fn sync_locked(
        &self,
        roots: &[PathBuf],
        options: &SyncOptions,
        progress: &dyn SyncProgress,
        lock: &mut WriterLock,
    ) -> Result<SyncReport> {
        let state = self.sync_state()?;
        let mut known = self.indexed_files()?;
        for (key, fingerprint) in &state.shadowed {
            known.entry(key.clone()).or_insert(*fingerprint);
        }
        let mut report = SyncReport::default();
        // No indexed ends: a changed file is read again whole on a cluster.
        let local_state =
            SyncState { partial: state.partial.clone(), shadowed: state.shadowed.clone(), ends: Default::default() };
        let Plan { files, seen, removed, todo } =
            sync::plan(roots, None, &known, &local_state, options, &mut report, progress);

        let run = state.run + 1;
        // A run that did not finish may have left documents of files it had not recorded yet.
        let unfinished = state.run > 0 && !state.finished;
        let rereading =
            todo.iter().filter(|(_, task)| *task != Task::New || unfinished).map(|(f, _)| f.key.clone()).collect();
        let mut shadowed = state.shadowed.clone();
        shadowed.retain(|key, _| seen.contains(key) && !todo.iter().any(|(f, _)| &f.key == key));
        let state = ClusterSyncState { run, finished: false, shadowed, ..state };
        self.write_sync_state(&state)?;
        let mut run = Run {
            index: self,
            lock,
            options,
            progress,
            report,
            analyzers: Analyzers::new(self),
            state,
            run,
            rereading,
            fingerprints: files.iter().map(|f| (f.key.clone(), f.fingerprint)).collect(),
            batch: Vec::new(),
            batch_bytes: 0,
            finishing: Vec::new(),
            since_commit: 0,
            failed: None,
            acknowledged: HashMap::new(),
            read: Vec::new(),
        };
        run.all(&removed, &todo)?;
        let mut report = run.report;
        self.refresh()?;
        report.total_documents = self.num_docs()?;
        Ok(report)
    }

    fn sync_state(&self) -> Result<ClusterSyncState> {
        let mapping = self.ok(Method::Get, &format!("/{}/_mapping", self.files_index()), None)?;
        let meta =
            mapping.as_object().and_then(|m| m.values().next()).map(|i| i["mappings"]["_meta"]["sou_sync"].clone());
        Ok(meta.and_then(|m| serde_json::from_value(m).ok()).unwrap_or_default())
    }

    fn write_sync_state(&self, state: &ClusterSyncState) -> Result<()> {
        let body = json!({"_meta": {"sou_sync": state}});
        self.ok(Method::Put, &format!("/{}/_mapping", self.files_index()), Some(&body)).map(drop)
    }

    /// File key → fingerprint of every indexed file, a page of the files index at a time.
    fn indexed_files(&self) -> Result<HashMap<String, u64>> {
        let mut files = HashMap::new();
        let mut after: Option<Value> = None;
        loop {
            let mut body = json!({
                "size": 5000,
                "query": {"exists": {"field": "path"}},
                "sort": [{"path": "asc"}],
                "_source": ["path", "fingerprint"],
            });
            if let Some(after) = &after {
                body["search_after"] = after.clone();
            }
            let reply = self.ok(Method::Post, &format!("/{}/_search", self.files_index()), Some(&body))?;
            let hits = reply["hits"]["hits"].as_array().cloned().unwrap_or_default();
            for hit in &hits {
                if let Some(path) = hit["_source"]["path"].as_str() {
                    files.insert(path.to_string(), hit["_source"]["fingerprint"].as_u64().unwrap_or(0));
                }
            }
            match hits.last() {
                Some(last) if hits.len() == 5000 => after = Some(last["sort"].clone()),
                _ => return Ok(files),
            }
        }
    }

    /// Deletes the documents of `path` (those of runs before `before_run` only, when given).
    fn delete_path(&self, path: &str, before_run: Option<u64>) -> Result<()> {
        let mut filter = vec![json!({"term": {"path": path}})];
        if let Some(run) = before_run {
            filter.push(json!({"range": {"run": {"lt": run}}}));
        }
        let body = json!({"query": {"bool": {"filter": filter}}});
        let url = format!("/{}/_delete_by_query?conflicts=proceed&refresh=true", self.name);
        let reply = self.ok(Method::Post, &url, Some(&body))?;
        match reply["failures"].as_array() {
            Some(failures) if !failures.is_empty() => {
                Err(self.error(format!("deleting the documents of {path} failed: {}", failures[0])))
            }
            _ => Ok(()),
        }
    }

    /// Documents written by sync run `run`, per file (a composite aggregation, a page at a time).
    fn held_by_file(&self, run: u64) -> Result<HashMap<String, u64>> {
        let mut held = HashMap::new();
        let mut after: Option<Value> = None;
        loop {
            let mut composite = json!({"size": 1000, "sources": [{"path": {"terms": {"field": "path"}}}]});
            if let Some(after) = &after {
                composite["after"] = after.clone();
            }
            let body = json!({"size": 0, "query": {"term": {"run": run}}, "aggs": {"files": {"composite": composite}}});
            let reply = self.ok(Method::Post, &format!("/{}/_search", self.name), Some(&body))?;
            let files = &reply["aggregations"]["files"];
            let buckets = files["buckets"].as_array().cloned().unwrap_or_default();
            for bucket in &buckets {
                if let Some(path) = bucket["key"]["path"].as_str() {
                    held.insert(path.to_string(), bucket["doc_count"].as_u64().unwrap_or(0));
                }
            }
            match files.get("after_key") {
                Some(key) if !buckets.is_empty() => after = Some(key.clone()),
                _ => return Ok(held),
            }
        }
    }

    /// Sends NDJSON `lines` to `_bulk`, retrying the whole request on transient answers.
    fn bulk(&self, lines: &str) -> Result<Vec<Value>> {
        let reply = self.client.send(Method::Post, "/_bulk", Some(lines), "application/x-ndjson", Retry::PATIENT)?;
        if !reply.is_success() {
            return Err(self.error(format!("bulk request refused: {}", reply.reason())));
        }
        Ok(reply.body["items"].as_array().cloned().unwrap_or_default())
    }
}

/// The status and error of one bulk item answer (`{"create": {...}}`).
fn item_outcome(item: &Value) -> (u16, String) {
    let inner = item.as_object().and_then(|o| o.values().next()).cloned().unwrap_or_default();
    let status = inner["status"].as_u64().unwrap_or(0) as u16;
    let error = &inner["error"];
    let reason = match (error["type"].as_str(), error["reason"].as_str()) {
        (Some(t), Some(r)) => format!("{t}: {r}"),
        _ => error.to_string(),
    };
    (status, reason)
}

impl Run<'_> {
    fn all(&mut self, removed: &[String], todo: &[(SourceFile, Task)]) -> Result<()> {
        for key in removed {
            self.index.delete_path(key, None)?;
            let url = format!("/{}/_doc/{}?refresh=true", self.index.files_index(), url_segment(&file_record_id(key)));
            let reply = self.index.client.json(Method::Delete, &url, None, Retry::PATIENT)?;
            if !reply.is_success() && reply.status != 404 {
                return Err(self.index.error(reply.reason()));
            }
            self.report.removed += 1;
        }
        for (file, task) in todo {
            self.file(file, *task)?;
        }
        self.flush()?;
        self.check_and_repair()?;
        self.state.finished = true;
        self.state.partial = None;
        self.index.write_sync_state(&self.state)
    }

    /// Counts this run's documents per file on the cluster and compares them with what it
    /// acknowledged: a cluster can lose acknowledged writes when a node fails (measured: the
    /// elected cluster manager of two nodes killed mid-sync, 505 of 10,000 gone once it was
    /// back). Files short of documents are read and sent again (`create`: what is there stays),
    /// each named in a warning.
    fn check_and_repair(&mut self) -> Result<()> {
        for _ in 0..REPAIR_ROUNDS {
            self.index.refresh()?;
            let held = self.index.held_by_file(self.run)?;
            let short: Vec<(SourceFile, u64, u64)> = self
                .read
                .iter()
                .filter_map(|f| {
                    let expected = self.acknowledged.get(&f.key).copied().unwrap_or(0);
                    let has = held.get(&f.key).copied().unwrap_or(0);
                    (has < expected).then(|| (f.clone(), expected, has))
                })
                .collect();
            if short.is_empty() {
                return Ok(());
            }
            let mut restored_any = false;
            for (file, expected, has) in short {
                let restored = self.resend(&file)?;
                restored_any |= restored > 0;
                let reason = format!(
                    "the cluster lost {} of the {expected} documents it acknowledged (a node failed during the sync); {restored} sent again",
                    expected - has
                );
                self.warn(&file.key, reason, ProblemKind::Warning);
            }
            if !restored_any {
                break;
            }
        }
        Ok(())
    }

    /// Reads `file` again and sends its documents with `create`; returns how many were written
    /// (those the cluster had lost).
    fn resend(&mut self, file: &SourceFile) -> Result<usize> {
        let mut docs = Vec::new();
        let mut restored = 0;
        let mut failed = None;
        let _ = corpus::read_file(file, self.options.max_file_bytes, None, &mut |doc, record| {
            let source = self.analyzers.source(&doc, file.fingerprint, record.number, self.run);
            let origin = Origin { path: file.key.clone(), record: record.number };
            docs.push(Pending { id: doc.id, origin, this_run: true, source });
            if docs.len() >= BATCH_DOCS {
                match self.send(&std::mem::take(&mut docs), "create") {
                    Ok(sent) => restored += sent.written.len(),
                    Err(e) => {
                        failed = Some(e);
                        return Next::Stop;
                    }
                }
            }
            Next::More
        });
        if let Some(e) = failed {
            return Err(e);
        }
        restored += self.send(&docs, "create")?.written.len();
        // Written once already as far as the report goes.
        self.report.documents = self.report.documents.saturating_sub(restored);
        Ok(restored)
    }

    fn file(&mut self, file: &SourceFile, task: Task) -> Result<()> {
        let resume = match task {
            Task::Resume(r) | Task::Append(r) => Some(r),
            _ => None,
        };
        let file_run = if resume.is_some() { self.state.partial_run.max(1) } else { self.run };
        let mut read_to = resume.map_or(0, |r| r.offset);
        let result = corpus::read_file(file, self.options.max_file_bytes, resume, &mut |doc, record| {
            let advanced = record.end.saturating_sub(read_to);
            read_to = record.end;
            self.document(file, doc, record, file_run, advanced)
        });
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let clean_before = self.rereading.contains(&file.key).then_some(file_run);
        if file_run == self.run {
            self.read.push(file.clone());
        }
        match result {
            Ok(file_report) => {
                self.report.count_read(task, &file_report);
                for warning in file_report.warnings {
                    self.warn(&file.key, warning, ProblemKind::Warning);
                }
                self.finishing.push(Finishing { key: file.key.clone(), fingerprint: file.fingerprint, clean_before });
            }
            Err(reason) => {
                if clean_before.is_some() && !sync::keeps_documents(&reason) {
                    self.flush()?;
                    self.index.delete_path(&file.key, None)?;
                }
                sync::skip(&mut self.report, self.progress, &file.key, &reason);
            }
        }
        let rest = file.size.saturating_sub(read_to);
        self.progress.advanced(rest);
        self.report.bytes += sync::remaining_bytes(file, task);
        self.since_commit += rest;
        self.progress.file_done(&file.key);
        if self.since_commit >= self.options.commit_every_bytes {
            self.commit(None)?;
        }
        Ok(())
    }

    fn document(&mut self, file: &SourceFile, doc: Document, record: Record, file_run: u64, advanced: u64) -> Next {
        self.progress.advanced(advanced);
        self.since_commit += advanced;
        let source = self.analyzers.source(&doc, file.fingerprint, record.number, file_run);
        self.batch_bytes += doc.size();
        let origin = Origin { path: file.key.clone(), record: record.number };
        self.batch.push(Pending { id: doc.id, origin, this_run: file_run == self.run, source });
        let full = self.batch.len() >= BATCH_DOCS || self.batch_bytes >= BATCH_BYTES;
        if full && let Err(e) = self.send_batch().and_then(|()| self.index.renew(self.lock)) {
            self.failed.get_or_insert(e);
            return Next::Stop;
        }
        if file.format == Format::JsonLines && self.since_commit >= self.options.commit_every_bytes {
            let partial = PartialFile {
                key: file.key.clone(),
                fingerprint: file.fingerprint,
                offset: record.end,
                line: record.number,
                crc: record.crc,
            };
            self.state.partial_run = file_run;
            if let Err(e) = self.commit(Some(partial)) {
                self.failed.get_or_insert(e);
                return Next::Stop;
            }
        }
        Next::More
    }

    /// Everything sent and acknowledged, and the state written: an interrupted run resumes here.
    fn commit(&mut self, partial: Option<PartialFile>) -> Result<()> {
        self.flush()?;
        self.state.partial = partial;
        self.index.write_sync_state(&self.state)?;
        self.since_commit = 0;
        Ok(())
    }

    /// Sends the batch, then finishes the files whose documents were all in it or before.
    fn flush(&mut self) -> Result<()> {
        self.send_batch()?;
        self.index.renew(self.lock)?;
        let finishing = std::mem::take(&mut self.finishing);
        if finishing.is_empty() {
            return Ok(());
        }
        let mut lines = String::new();
        for file in &finishing {
            if let Some(run) = file.clean_before {
                self.index.delete_path(&file.key, Some(run))?;
            }
            let action = json!({"index": {"_index": self.index.files_index(), "_id": file_record_id(&file.key)}});
            let source = json!({"path": file.key, "fingerprint": file.fingerprint});
            lines.push_str(&format!("{action}\n{source}\n"));
        }
        for item in self.index.bulk(&lines)? {
            let (status, reason) = item_outcome(&item);
            if !(200..300).contains(&status) {
                return Err(self.index.error(format!("recording an indexed file failed: {reason}")));
            }
        }
        Ok(())
    }

    /// Sends the documents built so far with `create`; settles conflicts (repeated ids) and
    /// retries what the cluster could not take yet.
    fn send_batch(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        if batch.is_empty() {
            return Ok(());
        }
        let sent = self.send(&batch, "create")?;
        self.acknowledge(&batch, &sent.written);
        if sent.conflicts.is_empty() {
            return Ok(());
        }
        let conflicting: HashSet<usize> = sent.conflicts.into_iter().collect();
        let conflicting: Vec<Pending> =
            batch.into_iter().enumerate().filter(|(i, _)| conflicting.contains(i)).map(|(_, p)| p).collect();
        let existing = self.origins(&conflicting)?;
        let mut overwrite = Vec::new();
        for (pending, found) in conflicting.into_iter().zip(existing) {
            let Some((origin, run)) = found else {
                // Gone since (a stale copy deleted): nothing to settle.
                overwrite.push(pending);
                continue;
            };
            let stale = run < self.run && (origin.path == pending.origin.path || self.rereading.contains(&origin.path));
            if stale || origin == pending.origin {
                overwrite.push(pending);
            } else if pending.origin > origin {
                self.warn_repeat(&pending.id, &origin, &pending.origin);
                self.shadow(&origin.path);
                if run == self.run {
                    // That file's document is replaced: it no longer holds it.
                    self.acknowledged.entry(origin.path.clone()).and_modify(|n| *n = n.saturating_sub(1));
                }
                overwrite.push(pending);
            } else {
                self.warn_repeat(&pending.id, &pending.origin, &origin);
                self.shadow(&pending.origin.path);
            }
        }
        let sent = self.send(&overwrite, "index")?;
        self.acknowledge(&overwrite, &sent.written);
        Ok(())
    }

    /// Counts the documents of this run the cluster acknowledged, per file.
    fn acknowledge(&mut self, docs: &[Pending], written: &[usize]) {
        for &i in written {
            if docs[i].this_run {
                *self.acknowledged.entry(docs[i].origin.path.clone()).or_default() += 1;
            }
        }
    }

    /// Sends `docs` with `op` (`create` or `index`), retrying documents the cluster answered
    /// 429 or 5xx for. Every document is accounted for: written (counted in the report),
    /// refused (a warning and a bad record) or conflicting.
    fn send(&mut self, docs: &[Pending], op: &str) -> Result<Sent> {
        let mut todo: Vec<usize> = (0..docs.len()).collect();
        let mut sent = Sent::default();
        let mut attempt = 1;
        while !todo.is_empty() {
            let mut lines = String::new();
            for &i in &todo {
                let action = json!({op: {"_index": self.index.name, "_id": docs[i].id}});
                lines.push_str(&format!("{action}\n{}\n", docs[i].source));
            }
            let items = self.index.bulk(&lines)?;
            if items.len() != todo.len() {
                return Err(self.index.error(format!(
                    "bulk answer has {} items for {} documents",
                    items.len(),
                    todo.len()
                )));
            }
            let mut again = Vec::new();
            for (&i, item) in todo.iter().zip(&items) {
                let (status, reason) = item_outcome(item);
                match status {
                    200..=299 => {
                        self.report.documents += 1;
                        sent.written.push(i);
                    }
                    409 if op == "create" => sent.conflicts.push(i),
                    s if is_transient(s) => again.push(i),
                    _ => self.refused(&docs[i], &reason),
                }
            }
            if !again.is_empty() {
                if attempt >= Retry::PATIENT.attempts {
                    let reason = item_outcome(&items[todo.iter().position(|&i| i == again[0]).unwrap_or(0)]).1;
                    return Err(self
                        .index
                        .error(format!("{} documents still refused after {attempt} tries: {reason}", again.len())));
                }
                std::thread::sleep(Retry::PATIENT.wait(attempt));
                attempt += 1;
            }
            todo = again;
        }
        Ok(sent)
    }

    /// Where the existing documents with these ids came from, and the run that wrote them.
    fn origins(&self, docs: &[Pending]) -> Result<Vec<Option<(Origin, u64)>>> {
        let ids: Vec<&str> = docs.iter().map(|p| p.id.as_str()).collect();
        let body = json!({"ids": ids});
        let url = format!("/{}/_mget?_source=path,record,run&realtime=true", self.index.name);
        let reply = self.index.ok(Method::Post, &url, Some(&body))?;
        let found = reply["docs"].as_array().cloned().unwrap_or_default();
        Ok((0..docs.len())
            .map(|i| {
                let doc = found.get(i)?;
                if doc["found"].as_bool() != Some(true) {
                    return None;
                }
                let source = &doc["_source"];
                let origin = Origin { path: source["path"].as_str()?.to_string(), record: source["record"].as_u64()? };
                Some((origin, source["run"].as_u64().unwrap_or(0)))
            })
            .collect())
    }

    /// A document the cluster will not take: named, counted, skipped.
    fn refused(&mut self, doc: &Pending, reason: &str) {
        self.report.bad_records += 1;
        let at = if doc.origin.record == 0 { String::new() } else { format!("record {}: ", doc.origin.record) };
        self.warn(
            &doc.origin.path,
            format!("{at}the cluster refused document {:?}: {reason}", doc.id),
            ProblemKind::Warning,
        );
    }

    fn warn(&mut self, path: &str, reason: String, kind: ProblemKind) {
        let problem = FileProblem { path: path.to_string(), reason, kind };
        self.progress.problem(&problem);
        self.report.problems.push(problem);
    }

    fn warn_repeat(&mut self, id: &str, loser: &Origin, winner: &Origin) {
        self.report.duplicate_ids += 1;
        let (problem_path, reason, kind) = sync::repeat_warning(id, loser, winner);
        self.warn(&problem_path, reason, kind);
    }

    fn shadow(&mut self, key: &str) {
        let fingerprint = self.fingerprints.get(key).copied().unwrap_or(0);
        self.state.shadowed.insert(key.to_string(), fingerprint);
    }
}

/// The `_id` of a file's record: `file:` and its stored path, or a hash of the path where that
/// would pass OpenSearch's 512-byte limit on ids.
fn file_record_id(key: &str) -> String {
    if key.len() <= 500 {
        return format!("file:{key}");
    }
    format!("file#{}{:08x}", crate::index::stable_hash(key), key.len())
}

/// `text` as one URL path segment.
fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_records_never_take_the_lock_id_and_fit_the_id_limit() {
        assert_eq!(file_record_id("lock"), "file:lock");
        let long = "a/".repeat(400);
        assert!(file_record_id(&long).len() < 512 && file_record_id(&long) != file_record_id(&"b/".repeat(400)));
    }

    #[test]
    fn a_path_is_one_url_segment() {
        assert_eq!(url_segment("corpus/新闻 1.txt"), "corpus%2F%E6%96%B0%E9%97%BB%201.txt");
    }

    #[test]
    fn an_item_answer_gives_status_and_reason() {
        let item = json!({"create": {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "bad"}}});
        assert_eq!(item_outcome(&item), (400, "mapper_parsing_exception: bad".to_string()));
        assert_eq!(item_outcome(&json!({"index": {"status": 201}})).0, 201);
    }
}
