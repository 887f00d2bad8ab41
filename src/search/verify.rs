//! Exact quoted strings: a quoted string that mixes Chinese with digits, Latin letters or
//! punctuation ("2023年", "第182条", "法所得，可以处") is matched part by part in the index (Han
//! runs as character phrases, words as word phrases), which finds every document holding it
//! but also documents holding the parts apart. This wrapper keeps only the documents whose
//! stored text holds the whole string, compared after the same normalization as indexing
//! (width, Traditional → Simplified) and lowercased.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, Value};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyDocument, Term};

use crate::analysis::normalize;

/// A string as verification compares it: normalized as indexing does (Traditional →
/// Simplified, full-width letters and digits), every full-width form folded (the query syntax
/// reads `，` as `,`), lowercased.
pub(crate) fn comparable(text: &str) -> String {
    normalize::normalize(text)
        .text
        .chars()
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            // One form for a character written either way (於 / 于, 乾 / 干).
            _ => normalize::shared_reading(c).unwrap_or(c),
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Verified {
    pub inner: Box<dyn Query>,
    /// [`comparable`] form of the quoted string.
    pub needle: String,
    /// Stored text fields to look in.
    pub fields: Vec<Field>,
}

impl Clone for Verified {
    fn clone(&self) -> Self {
        Verified { inner: self.inner.box_clone(), needle: self.needle.clone(), fields: self.fields.clone() }
    }
}

impl Query for Verified {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(VerifiedWeight {
            inner: self.inner.weight(enable_scoring)?,
            needle: self.needle.clone(),
            fields: self.fields.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct VerifiedWeight {
    inner: Box<dyn Weight>,
    needle: String,
    fields: Vec<Field>,
}

impl VerifiedWeight {
    fn holds(&self, doc: &TantivyDocument) -> bool {
        self.fields
            .iter()
            .flat_map(|&f| doc.get_all(f))
            .filter_map(|v| v.as_str())
            .any(|text| comparable(text).contains(&self.needle))
    }

    /// The inner query's matches in the segment whose text holds the string, with scores.
    fn matches(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Vec<(DocId, Score)>> {
        let mut scorer = self.inner.scorer(reader, boost)?;
        let store = reader.get_store_reader(16)?;
        let mut out = Vec::new();
        while scorer.doc() != TERMINATED {
            let doc = scorer.doc();
            if !reader.is_deleted(doc) && self.holds(&store.get::<TantivyDocument>(doc)?) {
                out.push((doc, scorer.score()));
            }
            scorer.advance();
        }
        Ok(out)
    }
}

impl Weight for VerifiedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ListScorer { docs: self.matches(reader, boost)?, at: 0 }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let store = reader.get_store_reader(1)?;
        if !self.holds(&store.get::<TantivyDocument>(doc)?) {
            return Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not hold the string")));
        }
        self.inner.explain(reader, doc)
    }
}

/// Documents and scores from a sorted list.
struct ListScorer {
    docs: Vec<(DocId, Score)>,
    at: usize,
}

impl DocSet for ListScorer {
    fn advance(&mut self) -> DocId {
        self.at += 1;
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.at.min(self.docs.len())..];
        self.at += rest.partition_point(|(d, _)| *d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).map_or(TERMINATED, |(d, _)| *d)
    }

    fn size_hint(&self) -> u32 {
        self.docs.len().saturating_sub(self.at) as u32
    }
}

impl Scorer for ListScorer {
    fn score(&mut self) -> Score {
        self.docs.get(self.at).map_or(0.0, |(_, s)| *s)
    }
}
