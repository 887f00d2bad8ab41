//! Opening and creating an index (analyzers registered every time, version stamp checked),
//! writing documents keyed by id, and index statistics.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::schema::Value;
use tantivy::{IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::script::ScriptCounts;
use crate::analysis::{self, ANALYZER_VERSION, Segmenter};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::schema::{self, Fields};
use crate::writer::{DocWriter, IdFilter};

/// Bumped when the schema or the meaning of stored fields changes.
const FORMAT_VERSION: u32 = 2;
/// The user dictionary is kept inside the index so queries always segment like indexing did.
const USER_DICT_FILE: &str = "user_dict.txt";
/// Default memory budget of the index writer.
pub const DEFAULT_WRITER_MEMORY: usize = 256 << 20;

/// What an index was built with; stored in every commit's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    format: u32,
    analyzer: u32,
    /// Hash of the user dictionary, if any.
    dictionary: Option<String>,
}

impl Stamp {
    fn current(dictionary: Option<&str>) -> Stamp {
        Stamp { format: FORMAT_VERSION, analyzer: ANALYZER_VERSION, dictionary: dictionary.map(dictionary_hash) }
    }

    fn describe(&self) -> String {
        let dict =
            self.dictionary.as_deref().map_or("no user dictionary".to_string(), |h| format!("user dictionary {h}"));
        format!("format {} / analyzer {} / {dict}", self.format, self.analyzer)
    }
}

/// FNV-1a, hex: stable across Rust versions, unlike `DefaultHasher`.
fn dictionary_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash = (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Options for opening or creating an index.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// A jieba user dictionary to index with. Stored in the index; on open it must match the
    /// stored one (an index cannot change dictionaries without a rebuild).
    pub user_dict: Option<PathBuf>,
    /// Writer memory budget in bytes (default [`DEFAULT_WRITER_MEMORY`]).
    pub writer_memory: Option<usize>,
    /// Indexing threads (default: available cores, at most 4).
    pub threads: Option<usize>,
    /// Make commits by other processes visible automatically (a long-running server);
    /// otherwise call [`Index::reload`].
    pub reload_on_commit: bool,
}

/// A sou index on disk.
pub struct Index {
    pub(crate) path: PathBuf,
    pub(crate) inner: tantivy::Index,
    pub(crate) fields: Fields,
    pub(crate) reader: IndexReader,
    pub(crate) segmenter: Segmenter,
    stamp: Stamp,
    options: OpenOptions,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("path", &self.path).field("stamp", &self.stamp).finish()
    }
}

/// Summary statistics of an index.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Index location.
    pub path: String,
    /// Searchable documents.
    pub documents: u64,
    /// Segments.
    pub segments: usize,
    /// Bytes on disk.
    pub size_bytes: u64,
    /// Field names.
    pub fields: Vec<String>,
    /// Analyzer version.
    pub analyzer_version: u32,
    /// Hash of the user dictionary, if one is used.
    pub user_dictionary: Option<String>,
}

fn is_index_dir(path: &Path) -> bool {
    path.join("meta.json").is_file()
}

/// Whether a folder holds anything besides hidden files (like a `.gitkeep`).
fn is_occupied(path: &Path) -> bool {
    fs::read_dir(path)
        .map(|entries| entries.flatten().any(|e| !e.file_name().to_string_lossy().starts_with('.')))
        .unwrap_or(false)
}

fn read_user_dict(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::Dictionary { path: path.to_path_buf(), message: e.to_string() })
}

impl Index {
    /// Opens the index at `path`, or creates it there when the folder is missing or empty.
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Index> {
        Index::open_or_create_with(path, OpenOptions::default())
    }

    /// [`Index::open_or_create`] with options.
    pub fn open_or_create_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Index> {
        let path = path.as_ref();
        if is_index_dir(path) { Index::open_with(path, options) } else { Index::create_with(path, options) }
    }

    /// Opens an existing index.
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        Index::open_with(path, OpenOptions::default())
    }

    /// Opens an existing index with options.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Index> {
        let path = path.as_ref();
        if !is_index_dir(path) {
            return Err(if is_occupied(path) { Error::NotAnIndex(path.into()) } else { Error::NoIndex(path.into()) });
        }
        let inner = tantivy::Index::open_in_dir(path)?;
        let stored_dict_path = path.join(USER_DICT_FILE);
        let stored_dict = if stored_dict_path.is_file() { Some(read_user_dict(&stored_dict_path)?) } else { None };
        let found = match inner.load_metas()?.payload {
            Some(payload) => serde_json::from_str::<Stamp>(&payload).ok(),
            None => None,
        };
        let expected_dict = match &options.user_dict {
            Some(p) => Some(read_user_dict(p)?),
            None => stored_dict.clone(),
        };
        let expected = Stamp::current(expected_dict.as_deref());
        let fields = schema::fields_of(&inner.schema());
        match (&found, fields) {
            (Some(found), Some(fields)) if *found == expected => {
                let segmenter = segmenter_for(stored_dict.as_deref(), &stored_dict_path)?;
                return Index::assemble(path, inner, fields, segmenter, expected, options);
            }
            _ => {}
        }
        let found = found.map_or_else(|| "an unknown or older format".to_string(), |f| f.describe());
        Err(Error::VersionMismatch { path: path.into(), found, expected: expected.describe() })
    }

    /// Creates a new index at `path`. The folder must be missing or empty.
    pub fn create(path: impl AsRef<Path>) -> Result<Index> {
        Index::create_with(path, OpenOptions::default())
    }

    /// Creates a new index with options.
    pub fn create_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Index> {
        let path = path.as_ref();
        if is_occupied(path) {
            return Err(Error::NotAnIndex(path.into()));
        }
        // Check the dictionary before touching the disk, so a bad one leaves nothing behind.
        let dict = options.user_dict.as_deref().map(read_user_dict).transpose()?;
        let dict_path = path.join(USER_DICT_FILE);
        let segmenter = segmenter_for(dict.as_deref(), options.user_dict.as_deref().unwrap_or(&dict_path))?;
        fs::create_dir_all(path)?;
        if let Some(dict) = &dict {
            fs::write(&dict_path, dict)?;
        }
        let (schema, fields) = schema::build();
        let inner = tantivy::Index::create_in_dir(path, schema)?;
        let stamp = Stamp::current(dict.as_deref());
        let index = Index::assemble(path, inner, fields, segmenter, stamp, options)?;
        // An empty first commit records the stamp, so even an empty index says what built it.
        let mut writer = index.writer()?;
        index.commit(&mut writer)?;
        Ok(index)
    }

    /// Deletes the index at `path` (which must be a sou index or missing) and creates a new one.
    pub fn rebuild(path: impl AsRef<Path>, options: OpenOptions) -> Result<Index> {
        let path = path.as_ref();
        if is_index_dir(path) {
            // Hold tantivy's writer lock while deleting, so a running `sou index` is not
            // pulled from under its feet.
            let lock = fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path.join(".tantivy-writer.lock"))?;
            if lock.try_lock().is_err() {
                return Err(Error::Locked(path.into()));
            }
            for entry in fs::read_dir(path)? {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    fs::remove_dir_all(entry.path())?;
                } else {
                    fs::remove_file(entry.path())?;
                }
            }
        } else if is_occupied(path) {
            return Err(Error::NotAnIndex(path.into()));
        }
        Index::create_with(path, options)
    }

    fn assemble(
        path: &Path,
        inner: tantivy::Index,
        fields: Fields,
        segmenter: Segmenter,
        stamp: Stamp,
        options: OpenOptions,
    ) -> Result<Index> {
        analysis::register(&inner, &segmenter);
        let policy = if options.reload_on_commit { ReloadPolicy::OnCommitWithDelay } else { ReloadPolicy::Manual };
        let reader = inner.reader_builder().reload_policy(policy).try_into()?;
        Ok(Index { path: path.into(), inner, fields, reader, segmenter, stamp, options })
    }

    /// Where the index lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The Chinese segmenter this index analyzes with (its user dictionary included).
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Makes the latest commit visible to searches (e.g. after another process indexed).
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    pub(crate) fn writer(&self) -> Result<DocWriter> {
        let threads = self
            .options
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(4))
            .max(1);
        // tantivy needs at least 15 MB per thread.
        let memory = self.options.writer_memory.unwrap_or(DEFAULT_WRITER_MEMORY).max(threads * (16 << 20));
        let writer = self.inner.writer_with_num_threads(threads, memory).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => Error::Locked(self.path.clone()),
            other => other.into(),
        })?;
        // Documents waiting for the indexing threads get half the budget again.
        Ok(DocWriter::new(writer, memory / 2))
    }

    /// Commits with the version stamp as payload and makes the commit visible.
    pub(crate) fn commit(&self, writer: &mut DocWriter) -> Result<()> {
        let mut prepared = writer.inner.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&self.stamp).expect("stamp serializes"));
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    pub(crate) fn to_tantivy(&self, doc: &Document, fingerprint: u64) -> TantivyDocument {
        let f = &self.fields;
        let mut out = TantivyDocument::new();
        out.add_text(f.id, &doc.id);
        out.add_text(f.path, &doc.path);
        out.add_u64(f.fingerprint, fingerprint);
        out.add_text(f.title, &doc.title);
        if let Some(source) = &doc.source {
            out.add_text(f.source, source);
        }
        if let Some(date) = doc.date {
            out.add_date(f.date, date.to_tantivy());
        }
        // The title is also the first value of the body field of its script: a title word then
        // counts in the body's BM25 too ("flat" scoring), which ranks better than adding a
        // separately normalized title field alone (SciFact train nDCG@10 0.694 vs 0.688).
        // The body itself is always the last value.
        let title_body = if ScriptCounts::of(&doc.title).is_chinese() { f.zh } else { f.en };
        if !doc.title.is_empty() {
            out.add_text(title_body, &doc.title);
        }
        out.add_text(f.zh, &doc.zh);
        out.add_text(f.en, &doc.en);
        for text in [Some(&doc.title), doc.source.as_ref(), Some(&doc.zh), Some(&doc.en)].into_iter().flatten() {
            if analysis::script::has_han(text) {
                out.add_text(f.grams, text);
            }
        }
        out
    }

    /// Adds (or replaces, by id) documents, commits and waits for segment merges to finish.
    /// Returns how many were written.
    pub fn add_documents(&self, docs: impl IntoIterator<Item = Document>) -> Result<usize> {
        let mut writer = self.writer()?;
        let mut ids = IdFilter::for_index_of(self.num_docs());
        let mut count = 0;
        for doc in docs {
            if ids.may_exist(&doc.id) {
                writer.delete_term(Term::from_field_text(self.fields.id, &doc.id));
            }
            writer.add(self.to_tantivy(&doc, 0), doc.size())?;
            count += 1;
        }
        self.commit(&mut writer)?;
        // Like `sync`: return with the index settled, no merge left running in the background.
        writer.inner.wait_merging_threads()?;
        Ok(count)
    }

    /// Removes the document with this id, if any, and commits.
    pub fn delete_document(&self, id: &str) -> Result<()> {
        let mut writer = self.writer()?;
        writer.delete_term(Term::from_field_text(self.fields.id, id));
        self.commit(&mut writer)
    }

    /// Number of searchable documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The stored document with this id.
    pub fn document(&self, id: &str) -> Result<Option<Document>> {
        let searcher = self.reader.searcher();
        let query = tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &tantivy::collector::TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            Some((_, addr)) => Ok(Some(self.stored(&searcher.doc(*addr)?))),
            None => Ok(None),
        }
    }

    /// Rebuilds a [`Document`] from its stored fields.
    pub(crate) fn stored(&self, doc: &TantivyDocument) -> Document {
        let f = &self.fields;
        let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let body = |field| doc.get_all(field).last().and_then(|v| v.as_str()).unwrap_or_default().to_string();
        Document {
            id: text(f.id),
            path: text(f.path),
            source: doc.get_first(f.source).and_then(|v| v.as_str()).map(str::to_string),
            title: text(f.title),
            date: doc
                .get_first(f.date)
                .and_then(|v| v.as_datetime())
                .map(|d| crate::date::Date::from_unix_seconds(d.into_timestamp_secs())),
            zh: body(f.zh),
            en: body(f.en),
        }
    }

    /// Statistics about the index.
    pub fn stats(&self) -> Result<Stats> {
        let searcher = self.reader.searcher();
        let size_bytes = fs::read_dir(&self.path)?
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum();
        let schema = self.inner.schema();
        Ok(Stats {
            path: self.path.display().to_string(),
            documents: searcher.num_docs(),
            segments: searcher.segment_readers().len(),
            size_bytes,
            fields: schema.fields().map(|(_, entry)| entry.name().to_string()).collect(),
            analyzer_version: self.stamp.analyzer,
            user_dictionary: self.stamp.dictionary.clone(),
        })
    }
}

fn segmenter_for(dict: Option<&str>, path: &Path) -> Result<Segmenter> {
    match dict {
        Some(text) => Segmenter::with_user_dict(text, path),
        None => Ok(Segmenter::default()),
    }
}
