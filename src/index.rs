//! Opening and creating an index (analyzers registered every time, version stamp checked),
//! rebuilding one aside and switching over atomically, writing documents keyed by id, and
//! index statistics.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::schema::Value;
use tantivy::{IndexReader, IndexSettings, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{self, ANALYZER_VERSION, Segmenter};
use crate::directory::IndexDirectory;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::ids::IdRegistry;
use crate::schema::{self, Fields};
use crate::writer::DocWriter;

/// Bumped when the schema or the meaning of stored fields changes.
const FORMAT_VERSION: u32 = 3;
/// The format of an index made with the pair field (`sou index --pairs`): the same fields plus
/// the pairs, the characters without positions. Its own number, so that a sou that does not
/// know the pair field refuses the index instead of looking for positions that are not there.
const FORMAT_WITH_PAIRS: u32 = 4;
/// The user dictionary is kept inside the index so queries always segment like indexing did.
const USER_DICT_FILE: &str = "user_dict.txt";
/// What the user dictionary's words came to in jieba's dictionary (frequencies, total), written
/// when the index is created, so a query segments without loading the whole dictionary.
const USER_DICT_RESOLVED_FILE: &str = "user_dict.resolved";
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
    fn current(dictionary: Option<&str>, pairs: bool) -> Stamp {
        let format = if pairs { FORMAT_WITH_PAIRS } else { FORMAT_VERSION };
        Stamp { format, analyzer: ANALYZER_VERSION, dictionary: dictionary.map(stable_hash) }
    }

    fn describe(&self) -> String {
        let dict =
            self.dictionary.as_deref().map_or("no user dictionary".to_string(), |h| format!("user dictionary {h}"));
        let pairs = if self.format == FORMAT_WITH_PAIRS { " (pair field)" } else { "" };
        format!("format {}{pairs} / analyzer {} / {dict}", self.format, self.analyzer)
    }
}

/// A JSON-lines file that a run committed in part: the next run resumes after `offset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartialFile {
    /// The file's stored path.
    pub key: String,
    /// Its fingerprint when the run read it: a changed file starts over.
    pub fingerprint: u64,
    /// Bytes indexed (a line boundary).
    pub offset: u64,
    /// Lines read up to `offset`.
    pub line: u64,
    /// CRC-32 of the bytes before `offset` (absent in indexes of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc: Option<u32>,
}

/// A big JSON-lines file indexed to its end: the next run reads only lines appended since
/// (see [`crate::sync`]), once the checksum of the first `size` bytes still matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexedEnd {
    /// The file's fingerprint when it was read.
    pub fingerprint: u64,
    /// Bytes indexed (ending with a line break).
    pub size: u64,
    /// Lines in them.
    pub lines: u64,
    /// Their CRC-32.
    pub crc: u32,
}

/// What a sync leaves for the next one, committed atomically with the documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SyncState {
    /// A file whose documents are committed only in part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialFile>,
    /// Files with records that lost to a repeated id elsewhere, and their fingerprints: read
    /// again when other files change, since the winner may be gone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shadowed: BTreeMap<String, u64>,
    /// Big JSON-lines files indexed to their end, by stored path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ends: BTreeMap<String, IndexedEnd>,
}

/// A commit's payload: the stamp and the sync state.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(flatten)]
    stamp: Stamp,
    #[serde(flatten)]
    state: SyncState,
}

/// FNV-1a, hex: stable across Rust versions, unlike `DefaultHasher` (user dictionaries, cluster
/// file record ids).
pub(crate) fn stable_hash(text: &str) -> String {
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
    /// With [`Index::rebuild`] and no `user_dict`: drop the stored dictionary instead of
    /// keeping it.
    pub drop_user_dict: bool,
    /// Writer memory budget in bytes (default [`DEFAULT_WRITER_MEMORY`]).
    pub writer_memory: Option<usize>,
    /// Indexing threads (default: available cores, at most 4).
    pub threads: Option<usize>,
    /// Make commits by other processes visible automatically (a long-running server);
    /// otherwise call [`Index::reload`].
    pub reload_on_commit: bool,
    /// Whether the index has the pair field (see `schema::Fields::pairs`): faster Chinese
    /// words and phrases in large indexes, for a larger index and slower indexing. A new index
    /// is made without it unless this says so; a rebuild keeps the old index's choice unless
    /// this says otherwise; opening an index that differs is refused with the rebuild hint.
    pub pairs: Option<bool>,
}

/// A sou index on disk.
pub struct Index {
    pub(crate) path: PathBuf,
    pub(crate) inner: tantivy::Index,
    pub(crate) fields: Fields,
    pub(crate) reader: IndexReader,
    pub(crate) segmenter: Segmenter,
    /// Bounds of the Chinese evidence per cell of documents, kept between searches.
    pub(crate) cells: std::sync::Arc<crate::search::CellCache>,
    stamp: Stamp,
    options: OpenOptions,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("path", &self.path).field("stamp", &self.stamp).finish()
    }
}

/// Summary statistics of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Where the bytes go, largest part first (local indexes; empty for a cluster).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub space: Vec<SpacePart>,
}

/// The bytes of one kind of data in an index, over all segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpacePart {
    /// `store` (original texts), `positions`, `postings`, `terms`, `fast` (columns), `norms`
    /// or `deletes`.
    pub part: String,
    /// Its bytes.
    pub bytes: u64,
    /// Its bytes by field, largest first (none for the store and deletes).
    pub fields: Vec<FieldBytes>,
}

/// The bytes of one field in a [`SpacePart`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldBytes {
    /// The field's name.
    pub field: String,
    /// Its bytes.
    pub bytes: u64,
}

impl SpacePart {
    fn of(part: &str, usages: &[&tantivy::space_usage::PerFieldSpaceUsage]) -> SpacePart {
        let mut fields: BTreeMap<String, u64> = BTreeMap::new();
        for usage in usages {
            for field in usage.fields() {
                *fields.entry(field.field_name().to_string()).or_default() += field.total().get_bytes();
            }
        }
        let bytes = usages.iter().map(|u| u.total().get_bytes()).sum();
        let mut fields: Vec<FieldBytes> =
            fields.into_iter().filter(|(_, b)| *b > 0).map(|(field, bytes)| FieldBytes { field, bytes }).collect();
        fields.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.field.cmp(&b.field)));
        SpacePart { part: part.to_string(), bytes, fields }
    }
}

/// The parts of the index `searcher` reads, largest first.
fn space_parts(searcher: &tantivy::Searcher) -> Result<Vec<SpacePart>> {
    let usage = searcher.space_usage()?;
    let segments = usage.segments();
    let per_field =
        |pick: fn(&tantivy::space_usage::SegmentSpaceUsage) -> &tantivy::space_usage::PerFieldSpaceUsage| {
            segments.iter().map(pick).collect::<Vec<_>>()
        };
    let whole = |part: &str, bytes: u64| SpacePart { part: part.to_string(), bytes, fields: Vec::new() };
    let mut parts = vec![
        whole("store", segments.iter().map(|s| s.store().total().get_bytes()).sum()),
        SpacePart::of("positions", &per_field(|s| s.positions())),
        SpacePart::of("postings", &per_field(|s| s.postings())),
        SpacePart::of("terms", &per_field(|s| s.termdict())),
        SpacePart::of("fast", &per_field(|s| s.fast_fields())),
        SpacePart::of("norms", &per_field(|s| s.fieldnorms())),
        whole("deletes", segments.iter().map(|s| s.deletes().get_bytes()).sum()),
    ];
    parts.retain(|p| p.bytes > 0);
    parts.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    Ok(parts)
}

/// Whether the index at `path` has the pair field (false where no schema can be read).
fn has_pair_field(path: &Path) -> bool {
    let Ok(directory) = IndexDirectory::open(path) else { return false };
    tantivy::Index::open(directory).is_ok_and(|index| index.schema().get_field("pairs").is_ok())
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

/// Whether a folder without `meta.json` still holds what tantivy leaves: a damaged index
/// (which `--rebuild` may replace), not somebody's other files.
fn is_damaged_index(path: &Path) -> bool {
    let tantivy_file = |name: &str| {
        matches!(
            name,
            ".managed.json" | ".tantivy-meta.lock" | ".tantivy-writer.lock" | USER_DICT_FILE | USER_DICT_RESOLVED_FILE
        ) || [".idx", ".term", ".pos", ".store", ".fast", ".fieldnorm"].iter().any(|ext| name.ends_with(ext))
    };
    let Ok(entries) = fs::read_dir(path) else { return false };
    let names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.iter().any(|n| n == ".managed.json") && names.iter().all(|n| tantivy_file(n) || n.starts_with('.'))
}

pub(crate) fn read_user_dict(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::Dictionary { path: path.to_path_buf(), message: e.to_string() })
}

/// One line saying which file of an index is damaged and how, from a tantivy error; `None`
/// for errors that are not about damaged data.
fn damage(error: &tantivy::TantivyError) -> Option<String> {
    use tantivy::TantivyError as T;
    use tantivy::directory::error::OpenReadError;
    let text = match error {
        T::OpenReadError(OpenReadError::FileDoesNotExist(file)) => format!("{} is missing", file.display()),
        T::OpenReadError(OpenReadError::IoError { io_error, filepath }) => {
            format!("{}: {}", filepath.display(), io_error)
        }
        T::DataCorruption(corruption) => format!("{corruption:?}"),
        T::IncompatibleIndex(incompatibility) => format!("{incompatibility:?}"),
        T::SchemaError(message) => format!("bad schema: {message}"),
        _ => return None,
    };
    // tantivy's messages can be long debug dumps: keep the first sentence, on one line.
    let line = text.replace('\n', " ");
    let short = line.split(". ").next().unwrap_or(&line);
    Some(short.chars().take(200).collect())
}

/// A tantivy error from opening `path`, as a damaged index where that is what it says.
fn open_error(path: &Path, error: tantivy::TantivyError) -> Error {
    match damage(&error) {
        Some(problem) => Error::Corrupt { path: path.into(), problem },
        None => error.into(),
    }
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

    /// Opens an existing index with options. Works where the process cannot write (read-only
    /// media, another user's index): searching needs no write access.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Index> {
        let path = path.as_ref();
        if !is_index_dir(path) {
            return Err(if is_damaged_index(path) {
                Error::Corrupt { path: path.into(), problem: "meta.json is missing".into() }
            } else if is_occupied(path) {
                Error::NotAnIndex(path.into())
            } else {
                Error::NoIndex(path.into())
            });
        }
        let directory = IndexDirectory::open(path).map_err(|e| open_error(path, e.into()))?;
        let inner = tantivy::Index::open(directory).map_err(|e| open_error(path, e))?;
        let stored_dict_path = path.join(USER_DICT_FILE);
        let stored_dict = if stored_dict_path.is_file() { Some(read_user_dict(&stored_dict_path)?) } else { None };
        let metas = inner.load_metas().map_err(|e| open_error(path, e))?;
        let expected_dict = match &options.user_dict {
            Some(p) => Some(read_user_dict(p)?),
            None => stored_dict.clone(),
        };
        let fields = schema::fields_of(&inner.schema());
        let has_pairs = fields.is_some_and(|f| f.pairs.is_some());
        let expected = Stamp::current(expected_dict.as_deref(), options.pairs.unwrap_or(has_pairs));
        let found = match metas.payload {
            Some(payload) => serde_json::from_str::<Stamp>(&payload).ok(),
            // tantivy's own first commit, before sou's stamped one: a run killed while
            // creating the index. Nothing was indexed, so nothing can be analyzed wrongly.
            None if metas.segments.is_empty() => Some(expected.clone()),
            None => None,
        };
        match (&found, fields) {
            (Some(found), Some(fields)) if *found == expected => {
                let resolution = fs::read_to_string(path.join(USER_DICT_RESOLVED_FILE)).ok();
                let segmenter = match (stored_dict.as_deref(), resolution) {
                    (Some(dict), Some(resolution)) => {
                        Segmenter::with_resolved_user_dict(dict, &stored_dict_path, &resolution)?
                    }
                    (dict, _) => segmenter_for(dict, &stored_dict_path)?,
                };
                return Index::assemble(path, inner, fields, segmenter, expected, options);
            }
            _ => {}
        }
        let dictionary_differs = found.as_ref().is_some_and(|f| {
            f.format == expected.format && f.analyzer == expected.analyzer && f.dictionary != expected.dictionary
        });
        let pairs_differ = found.as_ref().is_some_and(|f| {
            f.analyzer == expected.analyzer && f.dictionary == expected.dictionary && f.format != expected.format
        });
        let hint = if pairs_differ && options.pairs.is_some() {
            if options.pairs == Some(true) {
                "`sou index --rebuild --pairs` rebuilds it with the pair field (searches keep the current index until the new one is complete)"
            } else {
                "`sou index --rebuild --no-pairs` rebuilds it without the pair field (searches keep the current index until the new one is complete)"
            }
        } else if dictionary_differs && options.user_dict.is_some() {
            "`sou index --rebuild --dict FILE` rebuilds it with that dictionary (searches keep the current index until the new one is complete)"
        } else {
            "`sou index --rebuild` rebuilds it, keeping its user dictionary (searches keep the current index until the new one is complete)"
        };
        let found = found.map_or_else(|| "an unknown or older format".to_string(), |f| f.describe());
        Err(Error::VersionMismatch { path: path.into(), found, expected: expected.describe(), hint: hint.into() })
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
        let dict_source = options.user_dict.clone().unwrap_or_else(|| path.join(USER_DICT_FILE));
        Index::create_from(path, dict, &dict_source, options)
    }

    /// Creates an index at `path` with the dictionary text `dict` (read from `dict_source`).
    fn create_from(path: &Path, dict: Option<String>, dict_source: &Path, options: OpenOptions) -> Result<Index> {
        let segmenter = segmenter_for(dict.as_deref(), dict_source)?;
        fs::create_dir_all(path).map_err(Error::file(path))?;
        if let Some(dict) = &dict {
            let dict_file = path.join(USER_DICT_FILE);
            crate::directory::atomic_write(&dict_file, dict.as_bytes()).map_err(Error::file(dict_file))?;
            let resolved_file = path.join(USER_DICT_RESOLVED_FILE);
            let resolution = segmenter.resolution();
            crate::directory::atomic_write(&resolved_file, resolution.as_bytes())
                .map_err(Error::file(resolved_file))?;
        }
        let pairs = options.pairs.unwrap_or(false);
        let (schema, fields) = schema::build(pairs);
        let directory = IndexDirectory::open(path).map_err(tantivy::TantivyError::from)?;
        let inner = tantivy::Index::create(directory, schema, index_settings())?;
        let stamp = Stamp::current(dict.as_deref(), pairs);
        let index = Index::assemble(path, inner, fields, segmenter, stamp, options)?;
        // An empty first commit records the stamp, so even an empty index says what built it.
        let mut writer = index.writer()?;
        index.commit(&mut writer, Some(&SyncState::default()))?;
        Ok(index)
    }

    /// Starts rebuilding the index at `path` (a sou index, a damaged one, or nothing yet):
    /// a new index is built aside and replaces the old one only at [`Rebuild::finish`], in one
    /// atomic step, so searches see the old index until the new one is complete and an
    /// interrupted rebuild leaves the old one as it was. The stored user dictionary is kept
    /// unless `options` names another or says to drop it.
    pub fn rebuild(path: impl AsRef<Path>, options: OpenOptions) -> Result<Rebuild> {
        let live = path.as_ref().to_path_buf();
        let exists = is_index_dir(&live) || is_damaged_index(&live);
        if !exists && is_occupied(&live) {
            return Err(Error::NotAnIndex(live));
        }
        // Hold the old index's writer lock for the whole rebuild, so no `sou index` writes
        // to an index about to be replaced.
        let lock = if exists { Some(lock_writer(&live)?) } else { None };
        let (dict, dict_source) = match (&options.user_dict, options.drop_user_dict) {
            (Some(p), _) => (Some(read_user_dict(p)?), p.clone()),
            (None, true) => (None, live.join(USER_DICT_FILE)),
            (None, false) => {
                let stored = live.join(USER_DICT_FILE);
                (if stored.is_file() { Some(read_user_dict(&stored)?) } else { None }, stored)
            }
        };
        let aside = aside_path(&live, "rebuild");
        remove_leftovers(&live);
        // The old index's choice of the pair field, unless the options make another.
        let pairs = options.pairs.unwrap_or_else(|| has_pair_field(&live));
        let build_options = OpenOptions { reload_on_commit: false, pairs: Some(pairs), ..options.clone() };
        let index = Index::create_from(&aside, dict, &dict_source, build_options);
        let index = index.inspect_err(|_| {
            let _ = fs::remove_dir_all(&aside);
        })?;
        Ok(Rebuild { live, aside, index: Some(index), options, _lock: lock })
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
        let reader = inner.reader_builder().reload_policy(policy).try_into().map_err(|e| open_error(path, e))?;
        let cells = Default::default();
        Ok(Index { path: path.into(), inner, fields, reader, segmenter, cells, stamp, options })
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

    /// A fresh handle when the index at this path was rebuilt with another analysis (another
    /// user dictionary, say) since this one was opened, so this handle's segmenter no longer
    /// segments queries as the documents were; `None` while it still does. A long-lived
    /// reader (`sou serve`) calls this beside [`Index::reload`].
    pub fn reopen_if_rebuilt(&self) -> Result<Option<Index>> {
        let metas = self.inner.load_metas().map_err(|e| open_error(&self.path, e))?;
        let found = metas.payload.and_then(|payload| serde_json::from_str::<Stamp>(&payload).ok());
        if found.is_none_or(|found| found == self.stamp) {
            return Ok(None);
        }
        // The dictionary is the one the rebuilt index keeps now.
        let options = OpenOptions { user_dict: None, drop_user_dict: false, ..self.options.clone() };
        Index::open_with(&self.path, options).map(Some)
    }

    /// Deletes segment files that no commit refers to. tantivy's own clean-up only knows the
    /// files listed in `.managed.json`, and on a full disk that list is the first thing that
    /// cannot be written: the partial segments of a failed commit would stay and keep the
    /// disk full. Needs the writer lock (skipped when another process writes) and takes the
    /// meta lock, as tantivy's clean-up does, so no reader is opening files meanwhile.
    pub(crate) fn remove_unreferenced_files(&self) -> Result<()> {
        use tantivy::directory::Directory as _;
        let Ok(_writer_lock) = lock_writer(&self.path) else { return Ok(()) };
        let _meta_lock = self
            .inner
            .directory()
            .acquire_lock(&tantivy::directory::META_LOCK)
            .map_err(|e| tantivy::TantivyError::LockFailure(e, None))?;
        let living: std::collections::HashSet<String> =
            self.inner.searchable_segment_ids()?.iter().map(|id| id.uuid_string()).collect();
        for entry in fs::read_dir(&self.path).map_err(Error::file(&self.path))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((stem, _)) = name.split_once('.') else { continue };
            let is_segment_file = stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit());
            if is_segment_file && !living.contains(stem) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    pub(crate) fn writer(&self) -> Result<DocWriter> {
        let threads = self
            .options
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(4))
            .max(1);
        // tantivy needs at least 15 MB per thread.
        let memory = self.options.writer_memory.unwrap_or(DEFAULT_WRITER_MEMORY).max(threads * (16 << 20));
        let writer = patiently(|| {
            self.inner.writer_with_num_threads(threads, memory).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => Error::Locked(self.path.clone()),
                other => other.into(),
            })
        })?;
        // Documents waiting for the indexing threads get a quarter of the budget again: enough
        // to keep the threads fed (thousands of documents), not so much that the queue is what
        // sets the peak.
        Ok(DocWriter::new(writer, memory / 4))
    }

    /// Commits with the version stamp and the sync state as payload (`None`: the state of the
    /// last commit, unchanged) and makes the commit visible.
    pub(crate) fn commit(&self, writer: &mut DocWriter, state: Option<&SyncState>) -> Result<()> {
        let state = match state {
            Some(state) => state.clone(),
            None => self.sync_state()?,
        };
        let payload = Payload { stamp: self.stamp.clone(), state };
        let mut prepared = writer.inner.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).expect("payload serializes"));
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// The sync state of the last commit.
    pub(crate) fn sync_state(&self) -> Result<SyncState> {
        let payload = self.inner.load_metas()?.payload;
        Ok(payload.and_then(|p| serde_json::from_str::<Payload>(&p).ok()).map(|p| p.state).unwrap_or_default())
    }

    /// The tantivy document for `doc`, read from a file with this fingerprint at this record,
    /// and the bytes it holds in memory (what the writer's queue counts: a document's text
    /// alone undercounted it, its Chinese text being held three times, for three fields).
    pub(crate) fn to_tantivy(&self, doc: &Document, fingerprint: u64, record: u64) -> (TantivyDocument, usize) {
        let f = &self.fields;
        let values = schema::TextValues::of(doc);
        let single = [Some((f.title, values.title)), values.source.map(|source| (f.source, source))];
        let pairs = f.pairs.map(|pairs| (pairs, &values.grams));
        let lists = [(f.zh, &values.zh), (f.en, &values.en), (f.latin, &values.latin), (f.grams, &values.grams)]
            .into_iter()
            .chain(pairs);
        // Every text value in order, walked twice: to size the document, then to fill it.
        let texts = || {
            single
                .into_iter()
                .flatten()
                .chain(lists.clone().flat_map(|(field, texts)| texts.iter().map(move |text| (field, *text))))
        };
        // Every value is its bytes plus a type and a length (at most 16 bytes); id, path and
        // the three numbers besides. Sized up front, a short document does not hold tantivy's
        // default 1 KB, nor a long one grow by copies.
        let text_bytes: usize = texts().map(|(_, text)| text.len() + 16).sum();
        let capacity = doc.id.len() + doc.path.len() + text_bytes + 5 * 16;
        let mut out = TantivyDocument::with_capacity(capacity);
        out.add_text(f.id, &doc.id);
        out.add_text(f.path, &doc.path);
        out.add_u64(f.fingerprint, fingerprint);
        out.add_u64(f.record, record);
        if let Some(date) = doc.date {
            out.add_i64(f.date, date.days_since_epoch());
        }
        for (field, text) in texts() {
            out.add_text(field, text);
        }
        // Each value also has an entry in the document's value list, the document a few words.
        let bytes = capacity + out.len() * 8 + 64;
        (out, bytes)
    }

    /// Adds (or replaces, by id) documents, commits and waits for segment merges to finish.
    /// Returns how many were written. For a stream of documents, or several commits through
    /// one writer, use [`Index::batch`].
    pub fn add_documents(&self, docs: impl IntoIterator<Item = Document>) -> Result<usize> {
        let mut batch = self.batch()?;
        let mut count = 0;
        for doc in docs {
            batch.add(doc)?;
            count += 1;
        }
        batch.finish()?;
        Ok(count)
    }

    /// Removes the document with this id, if any, and commits.
    pub fn delete_document(&self, id: &str) -> Result<()> {
        let mut batch = self.batch()?;
        batch.delete(id);
        batch.finish()
    }

    /// A writer for many changes: add, replace and delete documents, and commit when you
    /// choose (each commit costs a few milliseconds; a document costs microseconds). Changes
    /// become searchable at [`Batch::commit`]; dropped without one, they are discarded. Holds
    /// the index's writer lock until dropped.
    pub fn batch(&self) -> Result<Batch<'_>> {
        let writer = self.writer()?;
        let ids = IdRegistry::new(self.fields, &self.reader.searcher())?;
        Ok(Batch { index: self, writer: Some(writer), ids, pending: 0 })
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
            date: doc.get_first(f.date).and_then(|v| v.as_i64()).and_then(crate::date::Date::from_days_since_epoch),
            zh: body(f.zh),
            en: body(f.en),
        }
    }

    /// Statistics about the index.
    pub fn stats(&self) -> Result<Stats> {
        let searcher = self.reader.searcher();
        let size_bytes = fs::read_dir(&self.path)
            .map_err(Error::file(&self.path))?
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
            space: space_parts(&searcher)?,
        })
    }
}

/// Changes to an index through one writer (see [`Index::batch`]).
pub struct Batch<'a> {
    index: &'a Index,
    writer: Option<DocWriter>,
    ids: IdRegistry,
    pending: usize,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("index", &self.index.path).field("pending", &self.pending).finish()
    }
}

impl Batch<'_> {
    fn writer(&self) -> &DocWriter {
        self.writer.as_ref().expect("present until finish")
    }

    /// Adds a document, replacing any document with its id (committed or in this batch).
    pub fn add(&mut self, doc: Document) -> Result<()> {
        if self.ids.may_exist_then_note(&doc.id) {
            self.writer().delete_term(Term::from_field_text(self.index.fields.id, &doc.id));
        }
        let (tantivy_doc, bytes) = self.index.to_tantivy(&doc, 0, 0);
        self.writer().add(tantivy_doc, bytes)?;
        self.pending += 1;
        Ok(())
    }

    /// Deletes the document with this id, if there is one.
    pub fn delete(&mut self, id: &str) {
        self.writer().delete_term(Term::from_field_text(self.index.fields.id, id));
        self.pending += 1;
    }

    /// Changes since the last commit.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Makes every change so far searchable (and durable); the batch stays open for more.
    pub fn commit(&mut self) -> Result<()> {
        let mut writer = self.writer.take().expect("present until finish");
        let committed = self.index.commit(&mut writer, None);
        self.writer = Some(writer);
        committed?;
        self.pending = 0;
        Ok(())
    }

    /// Commits and waits for segment merges to finish, so the index is settled when it returns.
    pub fn finish(mut self) -> Result<()> {
        self.commit()?;
        let writer = self.writer.take().expect("present until finish");
        writer.inner.wait_merging_threads()?;
        Ok(())
    }
}

/// An index being rebuilt aside (see [`Index::rebuild`]): fill [`Rebuild::index`], then
/// [`Rebuild::finish`] puts it in place. Dropped unfinished, it is deleted and the old index
/// stays.
pub struct Rebuild {
    live: PathBuf,
    aside: PathBuf,
    index: Option<Index>,
    options: OpenOptions,
    _lock: Option<fs::File>,
}

impl std::fmt::Debug for Rebuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuild").field("live", &self.live).field("aside", &self.aside).finish()
    }
}

impl Rebuild {
    /// The new index, still aside: sync or add documents to it.
    pub fn index(&self) -> &Index {
        self.index.as_ref().expect("present until finish")
    }

    /// Replaces the old index with the new one in one step and opens it where the old one was.
    pub fn finish(mut self) -> Result<Index> {
        drop(self.index.take());
        swap_into_place(&self.aside, &self.live)?;
        Index::open_with(&self.live, self.options.clone())
    }
}

impl Drop for Rebuild {
    fn drop(&mut self) {
        if self.index.take().is_some() {
            let _ = fs::remove_dir_all(&self.aside);
        }
    }
}

/// How long taking a writer lock that looks held is tried again. A process that another
/// thread of this program is starting holds a copy of every open file until its program runs
/// (close-on-exec), the lock file's among them, and an advisory lock lives as long as any copy:
/// a lock released just before looks held for that moment (tests starting `sou` processes
/// while a library batch ends saw it).
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// `take_lock` until it does not fail with [`Error::Locked`], for at most [`LOCK_PATIENCE`].
fn patiently<T>(mut take_lock: impl FnMut() -> Result<T>) -> Result<T> {
    let deadline = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        match take_lock() {
            Err(Error::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Takes the writer lock of the index at `path` the way tantivy does (an advisory lock on
/// `.tantivy-writer.lock`), failing when another process holds it.
fn lock_writer(path: &Path) -> Result<fs::File> {
    patiently(|| try_lock_writer(path))
}

fn try_lock_writer(path: &Path) -> Result<fs::File> {
    let lock_file = path.join(".tantivy-writer.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_file)
        .map_err(Error::file(&lock_file))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(Error::Locked(path.into())),
        Err(fs::TryLockError::Error(e)) => Err(Error::File { path: path.join(".tantivy-writer.lock"), source: e }),
    }
}

/// A hidden sibling of `live` for work in progress: `.index.rebuild-PID`.
fn aside_path(live: &Path, what: &str) -> PathBuf {
    let name = live.file_name().map_or_else(|| "index".into(), |n| n.to_string_lossy().into_owned());
    live.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// Deletes what killed rebuilds of `live` left beside it (their writers are gone: the caller
/// holds the index's writer lock, which every rebuild takes first).
fn remove_leftovers(live: &Path) {
    let name = live.file_name().map_or_else(|| "index".into(), |n| n.to_string_lossy().into_owned());
    let parent = match live.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = fs::read_dir(&parent) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let ours = [".rebuild-", ".old-"].iter().any(|what| file_name.starts_with(&format!(".{name}{what}")));
        if ours && entry.path().is_dir() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Puts the folder `new` where `live` is. On Linux the two are exchanged in one atomic rename
/// (a reader opening `live` sees the old index or the new one, never none); elsewhere the old
/// one is moved away first. The old index is then deleted (open readers keep their files).
fn swap_into_place(new: &Path, live: &Path) -> Result<()> {
    if !live.exists() {
        fs::rename(new, live).map_err(Error::file(live))?;
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, new, CWD, live, RenameFlags::EXCHANGE) {
            Ok(()) => {
                let _ = fs::remove_dir_all(new);
                return Ok(());
            }
            // Filesystems without RENAME_EXCHANGE fall back to two renames.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(Error::File { path: live.into(), source: e.into() }),
        }
    }
    let old = aside_path(live, "old");
    fs::rename(live, &old).map_err(Error::file(live))?;
    fs::rename(new, live).map_err(Error::file(live))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

fn segmenter_for(dict: Option<&str>, path: &Path) -> Result<Segmenter> {
    match dict {
        Some(text) => Segmenter::with_user_dict(text, path),
        None => Ok(Segmenter::default()),
    }
}

/// How new indexes store their documents: zstd instead of tantivy's lz4 made the doc store 24 %
/// smaller (61.4 → 46.6 MB on the 100 MB scale mix at level 3, the index 1.71× → 1.56× the
/// input) and no measurable change in cold queries. Level 1 rather than 3: 2.4 % fewer
/// instructions indexing LeCaRD (4.4 % on the news mix; cachegrind, 5 MB of each) for an index
/// 1.6 % larger (100 MB scale mix: 137.0 → 139.3 MB), and sou / core indexing time on LeCaRD
/// 1.24 → 1.20 (`cargo bench --bench sou -- extras`). An index made with another compressor or
/// level keeps it (it is in its meta.json), so nothing needs a rebuild.
fn index_settings() -> IndexSettings {
    let zstd = tantivy::store::ZstdCompressor { compression_level: Some(1) };
    IndexSettings { docstore_compression: tantivy::store::Compressor::Zstd(zstd), ..IndexSettings::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_queue_counts_every_copy_of_a_documents_text() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::create(dir.path().join("i")).unwrap();
        let text = "中国法医科学研究院发布报告".repeat(100);
        let doc = Document::new("a", "t").with_text(&text);
        let (_, bytes) = index.to_tantivy(&doc, 0, 0);
        // The Chinese text is held for the zh, latin and character fields.
        assert!(bytes >= 3 * text.len(), "{bytes} bytes counted for 3 x {}", text.len());
        assert!(bytes < 4 * text.len(), "{bytes} bytes counted for 3 x {}, not under 4 x", text.len());
    }
}
