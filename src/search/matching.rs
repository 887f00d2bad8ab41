//! Matching-only unions that try their cheap alternatives first: a document holding the word
//! 盗窃 matches `盗窃 OR grams:"盗 窃"` without its character positions being read.
//!
//! Why: an unquoted Chinese word matches where it is a word or where its characters stand
//! side by side (the recall field finds what segmentation missed). tantivy's union moves every
//! alternative over every document, so the character phrase checked positions in each document
//! holding both characters, although the word had already said yes in almost all of them; and
//! an intersection seeking the union to a candidate refilled the union's window of 4,096
//! documents, phrase checks and all. Here an alternative is asked only about the document in
//! question, cheapest first (by tantivy's cost estimate), through [`DocSet::seek_danger`]: a
//! phrase answers "not here, nothing before d" without scanning on to its next match. Only
//! for unions whose scores nobody reads (the Chinese evidence ranks such a query).

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED, Term};

/// Documents matching any of `alternatives`, each scoring 0.
#[derive(Debug)]
pub(crate) struct MatchAny {
    pub alternatives: Vec<Box<dyn Query>>,
}

impl Clone for MatchAny {
    fn clone(&self) -> Self {
        MatchAny { alternatives: self.alternatives.iter().map(|q| q.box_clone()).collect() }
    }
}

impl Query for MatchAny {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        // Scores are never read: the alternatives need not compute them.
        let unscored = match enable_scoring.searcher() {
            Some(searcher) => EnableScoring::disabled_from_searcher(searcher),
            None => enable_scoring,
        };
        let alternatives = self.alternatives.iter().map(|q| q.weight(unscored)).collect::<tantivy::Result<_>>()?;
        Ok(Box::new(MatchAnyWeight { alternatives }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for alternative in &self.alternatives {
            alternative.query_terms(visitor);
        }
    }
}

struct MatchAnyWeight {
    alternatives: Vec<Box<dyn Weight>>,
}

impl Weight for MatchAnyWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut alternatives = Vec::with_capacity(self.alternatives.len());
        for weight in &self.alternatives {
            let scorer = weight.scorer(reader, 1.0)?;
            let next = scorer.doc();
            if next != TERMINATED {
                alternatives.push(Alternative { scorer, next, confirmed: true });
            }
        }
        alternatives.sort_by_key(|a| a.scorer.cost());
        let mut scorer = MatchAnyScorer { alternatives, doc: 0, on_match: true };
        scorer.doc = scorer.first_from(0);
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        Ok(Explanation::new("matches one of the alternatives", 0.0))
    }
}

/// One alternative and what is known of its next match.
struct Alternative {
    scorer: Box<dyn Scorer>,
    /// No match before this document (at or after the last document asked about).
    next: DocId,
    /// Whether `next` is a match the scorer stands on (else it may stand anywhere, in tantivy's
    /// "danger zone", and takes only `seek_danger` calls beyond the last target).
    confirmed: bool,
}

impl Alternative {
    /// Whether the alternative matches `doc`, asked in increasing order of `doc`.
    fn matches(&mut self, doc: DocId) -> bool {
        if self.next > doc {
            return false;
        }
        if self.next == doc && self.confirmed {
            return true;
        }
        match self.scorer.seek_danger(doc) {
            SeekDangerResult::Found => {
                (self.next, self.confirmed) = (doc, true);
                true
            }
            SeekDangerResult::SeekLowerBound(bound) => {
                (self.next, self.confirmed) = (bound, false);
                false
            }
        }
    }
}

struct MatchAnyScorer {
    /// Cheapest first.
    alternatives: Vec<Alternative>,
    /// The current match, or (after a miss in `seek_danger`) the first document that may be one.
    doc: DocId,
    /// Whether `doc` is a match.
    on_match: bool,
}

impl MatchAnyScorer {
    /// Whether any alternative matches `doc`, else the first document that may.
    fn probe(&mut self, doc: DocId) -> Result<(), DocId> {
        let mut bound = TERMINATED;
        for alternative in &mut self.alternatives {
            if alternative.matches(doc) {
                return Ok(());
            }
            bound = bound.min(alternative.next);
        }
        Err(bound)
    }

    /// The first match at or after `target`.
    fn first_from(&mut self, mut target: DocId) -> DocId {
        while target < TERMINATED {
            match self.probe(target) {
                Ok(()) => return target,
                Err(bound) => target = bound,
            }
        }
        TERMINATED
    }
}

impl DocSet for MatchAnyScorer {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            let from = if self.on_match { self.doc + 1 } else { self.doc };
            self.doc = self.first_from(from);
            self.on_match = true;
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target || !self.on_match {
            self.doc = self.first_from(target.max(self.doc));
            self.on_match = true;
        }
        self.doc
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= TERMINATED {
            (self.doc, self.on_match) = (TERMINATED, true);
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        match self.probe(target) {
            Ok(()) => {
                (self.doc, self.on_match) = (target, true);
                SeekDangerResult::Found
            }
            Err(bound) => {
                // No match before `bound`: where a later `seek` may start.
                (self.doc, self.on_match) = (bound, bound == TERMINATED);
                SeekDangerResult::SeekLowerBound(bound)
            }
        }
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.alternatives.iter().map(|a| a.scorer.size_hint()).max().unwrap_or(0)
    }

    fn cost(&self) -> u64 {
        self.alternatives.iter().map(|a| a.scorer.cost()).sum()
    }
}

impl Scorer for MatchAnyScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::collector::DocSetCollector;
    use tantivy::query::{BooleanQuery, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    /// An index of the texts (one segment), and its text field.
    fn index_of(texts: &[String]) -> (Index, tantivy::schema::Field) {
        let mut schema = Schema::builder();
        let field = schema.add_text_field("text", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for text in texts {
            let mut doc = TantivyDocument::new();
            doc.add_text(field, text);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        (index, field)
    }

    fn docs(index: &Index, query: &dyn Query) -> Vec<u32> {
        let found = index.reader().unwrap().searcher().search(query, &DocSetCollector).unwrap();
        let mut docs: Vec<u32> = found.into_iter().map(|a| a.doc_id).collect();
        docs.sort_unstable();
        docs
    }

    /// A word or a phrase of two words over the letters a–d.
    fn alternative(field: tantivy::schema::Field, spec: &(u8, Option<u8>)) -> Box<dyn Query> {
        let term = |c: u8| Term::from_field_text(field, &((b'a' + c) as char).to_string());
        match spec.1 {
            None => Box::new(TermQuery::new(term(spec.0), IndexRecordOption::WithFreqsAndPositions)),
            Some(next) => Box::new(PhraseQuery::new(vec![term(spec.0), term(next)])),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The same documents as tantivy's union, alone and as a clause of intersections
        /// (where it is sought with `seek_danger`), before and after the other clause.
        #[test]
        fn any_of_matches_what_the_union_matches(
            texts in prop::collection::vec("[abcde ]{0,12}", 1..200),
            specs in prop::collection::vec((0u8..4, prop::option::of(0u8..4)), 2..4),
            other in 0u8..5,
        ) {
            let texts: Vec<String> = texts.into_iter().map(|t| t.chars().flat_map(|c| [c, ' ']).collect()).collect();
            let (index, field) = index_of(&texts);
            let any = MatchAny { alternatives: specs.iter().map(|s| alternative(field, s)).collect() };
            let union = BooleanQuery::new(specs.iter().map(|s| (Occur::Should, alternative(field, s))).collect());
            prop_assert_eq!(docs(&index, &any), docs(&index, &union));
            let other = || alternative(field, &(other, None));
            let with = |first: Box<dyn Query>, second: Box<dyn Query>| {
                BooleanQuery::new(vec![(Occur::Must, first), (Occur::Must, second)])
            };
            let expected = docs(&index, &with(Box::new(union.clone()), other()));
            prop_assert_eq!(docs(&index, &with(Box::new(any.clone()), other())), expected.clone());
            prop_assert_eq!(docs(&index, &with(other(), Box::new(any.clone()))), expected);
            let twice = with(Box::new(any.clone()), Box::new(MatchAny { alternatives: vec![other(), alternative(field, &specs[0])] }));
            let twice_union = with(Box::new(union), Box::new(BooleanQuery::new(vec![(Occur::Should, other()), (Occur::Should, alternative(field, &specs[0]))])));
            prop_assert_eq!(docs(&index, &twice), docs(&index, &twice_union));
        }
    }
}
