//! Which document ids a sync has written and where each one came from, so that a repeated id
//! is never silent: the record that comes later in a fixed order wins (files by stored path,
//! byte order; records by position in their file), whatever order runs happened in.
//!
//! Memory stays bounded by the options, not the corpus: ids written since the last commit are
//! kept exactly (a commit happens every `--commit-every-mb`), earlier ones are looked up in the
//! committed index, and a fixed-size Bloom filter spares that lookup for ids never seen.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use tantivy::columnar::{Column, StrColumn};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Searcher, TERMINATED, Term};

use crate::error::Result;
use crate::schema::Fields;

/// Where a document came from: its file's stored path and its record number there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Origin {
    pub path: String,
    pub record: u64,
}

impl Origin {
    /// `path` or `path:record`, for warnings.
    pub fn describe(&self) -> String {
        if self.record == 0 { self.path.clone() } else { format!("{}:{}", self.path, self.record) }
    }
}

/// What to do with a document whose id may repeat one already written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The id is new: add the document.
    New,
    /// The id was written from an earlier place: delete that document, add this one.
    Replaces(Origin),
    /// The id was written from a later place, which wins: skip this document.
    Shadowed(Origin),
}

/// Bits of the Bloom filter: 8 MiB, about 0.5 % false positives at 4 million ids (a false
/// positive costs one lookup, never a wrong answer).
const BLOOM_BITS: usize = 1 << 26;
const BLOOM_PROBES: u64 = 3;

struct Bloom {
    bits: Vec<u64>,
}

impl Bloom {
    fn new() -> Bloom {
        // Zeroed memory: pages are only touched as bits get set.
        Bloom { bits: vec![0; BLOOM_BITS / 64] }
    }

    fn probes(id: &str) -> impl Iterator<Item = usize> {
        let mut hasher = rustc_hash::FxHasher::default();
        id.hash(&mut hasher);
        let h1 = hasher.finish();
        // A second hash from the first (splitmix64 finalizer), combined Kirsch–Mitzenmacher style.
        let mut h2 = h1 ^ 0x9e37_79b9_7f4a_7c15;
        h2 = (h2 ^ (h2 >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h2 = (h2 ^ (h2 >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h2 ^= h2 >> 31;
        (0..BLOOM_PROBES).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2 | 1)) % BLOOM_BITS as u64) as usize)
    }

    fn insert(&mut self, id: &str) {
        for bit in Bloom::probes(id) {
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    fn may_contain(&self, id: &str) -> bool {
        Bloom::probes(id).all(|bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

/// Per-segment columns to read a committed document's place.
struct SegmentPlaces {
    reader: tantivy::SegmentReader,
    paths: Option<StrColumn>,
    records: Option<Column<u64>>,
}

/// The ids of one writing run.
pub(crate) struct IdRegistry {
    fields: Fields,
    /// The index held documents before this run: any id may exist.
    had_documents: bool,
    seen: Bloom,
    /// Ids written since the last commit, with their places.
    pending: HashMap<String, Origin>,
    /// Paths whose committed documents were deleted since the last commit.
    stale: HashSet<String>,
    segments: Vec<SegmentPlaces>,
}

impl IdRegistry {
    /// A registry for a writer on the index `searcher` shows.
    pub fn new(fields: Fields, searcher: &Searcher) -> Result<IdRegistry> {
        let mut registry = IdRegistry {
            fields,
            had_documents: searcher.num_docs() > 0,
            seen: Bloom::new(),
            pending: HashMap::new(),
            stale: HashSet::new(),
            segments: Vec::new(),
        };
        registry.committed(searcher)?;
        Ok(registry)
    }

    /// A commit happened: what was pending is now in `searcher`.
    pub fn committed(&mut self, searcher: &Searcher) -> Result<()> {
        self.pending.clear();
        self.stale.clear();
        self.segments = searcher
            .segment_readers()
            .iter()
            .map(|reader| {
                let fast = reader.fast_fields();
                Ok(SegmentPlaces { paths: fast.str("path")?, records: fast.u64("record").ok(), reader: reader.clone() })
            })
            .collect::<Result<_>>()?;
        Ok(())
    }

    /// The committed documents of `path` are deleted (the file is re-read or gone).
    pub fn path_deleted(&mut self, path: &str) {
        self.stale.insert(path.to_string());
        self.pending.retain(|_, origin| origin.path != path);
    }

    /// Whether `id` may already be in the index or written by this run; records it as seen.
    /// Used where the newest document simply replaces (the library's `add_documents`).
    pub fn may_exist_then_note(&mut self, id: &str) -> bool {
        let maybe = self.had_documents || self.seen.may_contain(id);
        self.seen.insert(id);
        maybe
    }

    /// Decides where a document with `id` from `place` goes, and records the winner.
    pub fn place(&mut self, id: &str, place: Origin) -> Result<Placement> {
        let existing = if self.had_documents || self.seen.may_contain(id) { self.find(id)? } else { None };
        self.seen.insert(id);
        let placement = match existing {
            None => Placement::New,
            Some(earlier) if earlier < place => Placement::Replaces(earlier),
            Some(later) => return Ok(Placement::Shadowed(later)),
        };
        self.pending.insert(id.to_string(), place);
        Ok(placement)
    }

    /// Where the live document with `id` came from, if there is one.
    fn find(&self, id: &str) -> Result<Option<Origin>> {
        if let Some(origin) = self.pending.get(id) {
            return Ok(Some(origin.clone()));
        }
        let term = Term::from_field_text(self.fields.id, id);
        for segment in &self.segments {
            let inverted = segment.reader.inverted_index(self.fields.id)?;
            let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)? else { continue };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if !segment.reader.is_deleted(doc) {
                    let mut path = String::new();
                    if let Some(paths) = &segment.paths
                        && let Some(ord) = paths.term_ords(doc).next()
                    {
                        paths.ord_to_str(ord, &mut path)?;
                    }
                    if !self.stale.contains(&path) {
                        let record = segment.records.as_ref().and_then(|r| r.first(doc)).unwrap_or(0);
                        return Ok(Some(Origin { path, record }));
                    }
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bloom_has_no_false_negatives() {
        let mut bloom = Bloom::new();
        let ids: Vec<String> = (0..10_000).map(|i| format!("doc-{i}")).collect();
        for id in &ids {
            bloom.insert(id);
        }
        assert!(ids.iter().all(|id| bloom.may_contain(id)));
        let false_positives = (0..10_000).filter(|i| bloom.may_contain(&format!("other-{i}"))).count();
        assert!(false_positives < 10, "{false_positives}");
    }

    #[test]
    fn the_later_place_wins() {
        let a = |r| Origin { path: "a.jsonl".into(), record: r };
        let b = |r| Origin { path: "b.jsonl".into(), record: r };
        assert!(a(9) < b(1) && a(1) < a(2));
        assert_eq!(a(3).describe(), "a.jsonl:3");
        assert_eq!(Origin { path: "x.txt".into(), record: 0 }.describe(), "x.txt");
    }
}
