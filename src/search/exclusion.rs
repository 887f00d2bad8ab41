//! A wrapper for the excluded part of a query (`-word`, `NOT "phrase"`). tantivy asks an
//! exclusion whether it holds the first candidate document before the exclusion has been
//! moved at all; a phrase scorer that matches nothing in a segment already sits at its end
//! then, and tantivy's own debug assertion fires ("target (0) should be greater than or equal
//! to doc"). The wrapper answers such a look-back from where the scorer stands, which is the
//! right answer: a scorer that has not moved sits on its first document.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, Term};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Exclusion(pub Box<dyn Query>);

impl Clone for Exclusion {
    fn clone(&self) -> Self {
        Exclusion(self.0.box_clone())
    }
}

impl Query for Exclusion {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ExclusionWeight(self.0.weight(enable_scoring)?)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

struct ExclusionWeight(Box<dyn Weight>);

impl Weight for ExclusionWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ExclusionScorer { inner: self.0.scorer(reader, boost)?, valid: true }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.0.count(reader)
    }
}

struct ExclusionScorer {
    inner: Box<dyn Scorer>,
    /// Whether `inner.doc()` can be trusted: a `seek_danger` that missed may leave it on a
    /// document it does not match (a phrase scorer on a document holding the characters apart),
    /// and answering the next question from there would exclude that document.
    valid: bool,
}

impl DocSet for ExclusionScorer {
    fn advance(&mut self) -> DocId {
        self.valid = true;
        self.inner.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.valid && self.inner.doc() >= target {
            return self.inner.doc();
        }
        self.valid = true;
        self.inner.seek(target)
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        let doc = self.inner.doc();
        // Past the target: nothing between (the scorer's leading postings stand there), and
        // tantivy's phrase scorer asserts it is never asked about a document behind it.
        if doc > target {
            return SeekDangerResult::SeekLowerBound(doc);
        }
        if doc == target && self.valid {
            return SeekDangerResult::Found;
        }
        let result = self.inner.seek_danger(target);
        self.valid = result == SeekDangerResult::Found;
        result
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }
}

impl Scorer for ExclusionScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}
