//! Score explanations: which parts of a query matched a hit, in which field, and how much each
//! added to the score. Query leaves are labelled (`zh:芬太尼`, `en:"entity list"`) by a
//! transparent wrapper; tantivy's explanation tree is then reduced to those labelled parts.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term};

pub(crate) const LABEL_PREFIX: &str = "sou:";

/// One matched part of the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedPart {
    /// The query part, as `field:term`, `field:"phrase"`, `field:prefix*` or `field:term~1`.
    pub part: String,
    /// What it added to the hit's score (boosts applied).
    pub score: f32,
}

/// A query part for explanations: it explains only documents it matches, and may carry a
/// label. Every part of a query being explained is wrapped, because tantivy's boolean and
/// phrase explanations seek a fresh scorer that already sits on its first match, which trips a
/// debug assertion for an earlier document (a sibling clause's match).
pub(crate) struct Labeled {
    label: Option<Arc<str>>,
    inner: Box<dyn Query>,
}

impl Labeled {
    /// A labelled part.
    pub(crate) fn new(label: String, inner: Box<dyn Query>) -> Self {
        Labeled { label: Some(label.into()), inner }
    }

    /// An unlabelled part (a combination of others).
    pub(crate) fn guard(inner: Box<dyn Query>) -> Self {
        Labeled { label: None, inner }
    }
}

impl Clone for Labeled {
    fn clone(&self) -> Self {
        Labeled { label: self.label.clone(), inner: self.inner.box_clone() }
    }
}

impl fmt::Debug for Labeled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Labeled({:?}, {:?})", self.label, self.inner)
    }
}

impl Query for Labeled {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(LabeledWeight { label: self.label.clone(), inner: self.inner.weight(enable_scoring)? }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct LabeledWeight {
    label: Option<Arc<str>>,
    inner: Box<dyn Weight>,
}

impl Weight for LabeledWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.inner.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.inner.scorer(reader, 1.0)?;
        let matches = scorer.doc() == doc || (scorer.doc() < doc && scorer.seek(doc) == doc);
        if !matches {
            return Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        let mut explanation = self.inner.explain(reader, doc)?;
        if let Some(label) = &self.label {
            explanation.add_context(format!("{LABEL_PREFIX}{label}"));
        }
        Ok(explanation)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.inner.count(reader)
    }
}

/// The labelled parts of an explanation, with their contribution to the score.
pub(crate) fn matched_parts(explanation: &serde_json::Value) -> Vec<MatchedPart> {
    let mut parts = Vec::new();
    walk(explanation, 1.0, &mut parts);
    parts.sort_by(|a, b| b.score.total_cmp(&a.score));
    parts
}

fn walk(node: &serde_json::Value, boost: f32, out: &mut Vec<MatchedPart>) {
    let value = node["value"].as_f64().unwrap_or(0.0) as f32;
    let label = node["context"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .find_map(|c| c.strip_prefix(LABEL_PREFIX));
    if let Some(label) = label {
        out.push(MatchedPart { part: label.to_string(), score: value * boost });
        return;
    }
    // "Boost x0.3 of ..." scales everything below it.
    let description = node["description"].as_str().unwrap_or_default();
    let factor = description
        .strip_prefix("Boost x")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|x| x.parse::<f32>().ok())
        .unwrap_or(1.0);
    for child in node["details"].as_array().into_iter().flatten() {
        walk(child, boost * factor, out);
    }
}
