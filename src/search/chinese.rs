//! How Chinese text is ranked: one BM25 over the evidence of a query's Han runs — its jieba
//! words and its characters — counted as if they were tokens of one field, with the
//! document's length the sum of its words and (twice) its characters, as if the field also held
//! every pair of adjacent characters.
//!
//! Why: jieba's words alone miss documents that segment a name or term differently, and
//! rank a document holding three query words apart like one holding them as a phrase; single
//! characters catch the first and add the weakest evidence. Pairs of adjacent characters (the
//! classic CJK bigram) help further; inside a word they are stood for by the word itself,
//! weighted by its length, which reads postings instead of matching character positions. On
//! CMRC 2018 `tune` (short questions over sentences) sou's nDCG@10 went from 0.6946 to 0.7635;
//! the best plain BM25 of the data set's reference runs (jieba + bigrams, k1 0.9 b 0.4) is
//! 0.7441. BENCHMARKS.md has the steps.
//!
//! Nothing is indexed anew: words come from the zh field and characters from the character
//! field. Interrogatives (什么, 哪, 多少, 是否…) are no evidence at all: the sentence that answers
//! a question rarely holds them, and their rarity in prose would otherwise give them the
//! largest weights of the query.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::Postings;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED, Term};

use crate::analysis::is_function_word;

/// BM25 parameters of the Chinese evidence: short sentences want less length normalization
/// and earlier saturation than tantivy's fixed k1 1.2 / b 0.75.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    pub k1: Score,
    pub b: Score,
}

/// One piece of evidence and its weight.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Evidence {
    /// A jieba word (looked up in the zh field, or among the characters for a function word).
    Word(String),
    /// One character.
    Char(char),
}

/// Interrogatives and question particles: no evidence (see the module docs).
const INTERROGATIVES: &[&str] = &[
    "什么",
    "谁",
    "哪个",
    "哪里",
    "多少",
    "为什么",
    "哪些",
    "哪",
    "哪一年",
    "怎样",
    "何时",
    "怎么",
    "什么样",
    "哪儿",
    "几",
    "如何",
    "为何",
    "多久",
    "哪位",
    "哪家",
    "哪种",
    "哪部",
    "哪项",
    "哪条",
    "哪国",
    "哪座",
    "何处",
    "何地",
    "何人",
    "是否",
    "吗",
    "呢",
    "么",
    "啥",
    "咋",
    "请问",
    "哪年",
    "几个",
    "多大",
    "多长",
    "多高",
    "多远",
];

/// Whether a jieba word asks rather than says.
pub(crate) fn is_interrogative(word: &str) -> bool {
    INTERROGATIVES.contains(&word)
}

/// The evidence of a Han run from its jieba words: each word, weighted by its length (see
/// [`Weights::pair`]), and each of its characters, once per occurrence (a repeated word counts
/// twice, as it would in a document). Interrogatives give none.
pub(crate) fn evidence_of(words: &[String], out: &mut Vec<(Evidence, Score)>, weights: &Weights) {
    for word in words {
        if is_interrogative(word) {
            continue;
        }
        let chars = word.chars().count();
        let base = if is_function_word(word) { weights.function_word } else { weights.word };
        out.push((Evidence::Word(word.clone()), base + weights.pair * chars.saturating_sub(1) as Score));
        for c in word.chars() {
            // A character with a second reading counts as that reading, which the index holds
            // wherever either form was written (於 and 于 alike as 于).
            let c = crate::analysis::normalize::shared_reading(c).unwrap_or(c);
            out.push((Evidence::Char(c), weights.char));
        }
    }
}

/// Relative weights of the kinds of evidence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weights {
    /// A word.
    pub word: Score,
    /// A one-character function word (的, 是…).
    pub function_word: Score,
    /// Each pair of adjacent characters inside a word, which the word itself stands for: a
    /// word is found where its pairs are, almost always, and reading the word's postings is far
    /// cheaper than matching character positions (CMRC tune in the reference model: 0.7681
    /// against 0.7711 with every pair matched exactly, cross-word pairs included).
    pub pair: Score,
    /// A character.
    pub char: Score,
}

/// The query: BM25 over the evidence, in documents holding any of it.
#[derive(Clone, Debug)]
pub(crate) struct ChineseQuery {
    pub zh: Field,
    pub grams: Field,
    pub evidence: Vec<(Evidence, Score)>,
    pub params: Params,
    /// Han runs of several words whose exact string ranks a document above any document
    /// without it (all-terms mode: "the exact string ranks first"): each found adds more than
    /// all the evidence together can.
    pub exact: Vec<String>,
}

/// Where one piece of evidence is, per segment: `(doc, count)` in document order.
type Hits = HashMap<SegmentId, Vec<(DocId, u32)>>;

struct Scored {
    /// How explanations name it: `zh:法律`, `grams:法`, `grams:"省行政区"`.
    label: String,
    /// idf × weight × (k1 + 1).
    factor: Score,
    hits: Hits,
}

impl ChineseQuery {
    fn term(&self, evidence: &Evidence) -> Term {
        match evidence {
            Evidence::Word(w) if is_function_word(w) => Term::from_field_text(self.grams, w),
            Evidence::Word(w) => Term::from_field_text(self.zh, w),
            Evidence::Char(c) => Term::from_field_text(self.grams, c.encode_utf8(&mut [0; 4])),
        }
    }

    /// Where a piece of evidence occurs in every segment.
    fn hits(&self, searcher: &Searcher, evidence: &Evidence) -> tantivy::Result<Hits> {
        let mut hits = HashMap::new();
        for segment in searcher.segment_readers() {
            let mut found = Vec::new();
            let term = self.term(evidence);
            let inverted = segment.inverted_index(term.field())?;
            if let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::WithFreqs)? {
                while postings.doc() != TERMINATED {
                    found.push((postings.doc(), postings.term_freq()));
                    postings.advance();
                }
            }
            if !found.is_empty() {
                hits.insert(segment.segment_id(), found);
            }
        }
        Ok(hits)
    }
}

fn idf(doc_freq: u64, docs: u64) -> Score {
    let doc_freq = doc_freq.min(docs);
    (1.0 + ((docs - doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5)).ln()
}

impl Query for ChineseQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let searcher = enable_scoring
            .searcher()
            .ok_or_else(|| tantivy::TantivyError::InvalidArgument("Chinese ranking needs a searcher".into()))?;
        let docs: u64 = searcher.segment_readers().iter().map(|s| u64::from(s.max_doc())).sum();
        let tokens = |field: Field| -> tantivy::Result<u64> {
            let mut total = 0;
            for segment in searcher.segment_readers() {
                total += segment.inverted_index(field)?.total_num_tokens();
            }
            Ok(total)
        };
        let average_length = (tokens(self.zh)? + 2 * tokens(self.grams)?) as Score / docs.max(1) as Score;
        // One entry per distinct piece of evidence; repeats add their weights.
        let mut merged: Vec<(Evidence, Score)> = Vec::new();
        for (evidence, weight) in &self.evidence {
            if *weight <= 0.0 {
                continue;
            }
            match merged.iter_mut().find(|(e, _)| e == evidence) {
                Some((_, w)) => *w += weight,
                None => merged.push((evidence.clone(), *weight)),
            }
        }
        let mut scored = Vec::with_capacity(merged.len());
        for (evidence, weight) in &merged {
            let hits = self.hits(searcher, evidence)?;
            let doc_freq: u64 = hits.values().map(|h| h.len() as u64).sum();
            if doc_freq == 0 {
                continue;
            }
            let factor = idf(doc_freq, docs) * weight * (self.params.k1 + 1.0);
            let label = match evidence {
                Evidence::Word(w) if is_function_word(w) => format!("grams:{w}"),
                Evidence::Word(w) => format!("zh:{w}"),
                Evidence::Char(c) => format!("grams:{c}"),
            };
            scored.push(Scored { label, factor, hits });
        }
        // Every piece adds less than its factor (tf / (tf + norm) < 1): an exact run is worth
        // more than all of them, and the rest of a query (Latin words) rarely nears 50.
        let bound: Score = scored.iter().map(|p| p.factor).sum::<Score>() + 50.0;
        let mut exact = Vec::new();
        for run in &self.exact {
            let terms: Vec<Term> =
                run.chars().map(|c| Term::from_field_text(self.grams, c.encode_utf8(&mut [0; 4]))).collect();
            if terms.len() < 2 {
                continue;
            }
            let phrase = tantivy::query::PhraseQuery::new(terms);
            let weight = phrase.weight(EnableScoring::disabled_from_searcher(searcher))?;
            let mut hits: Hits = HashMap::new();
            for segment in searcher.segment_readers() {
                let mut scorer = weight.scorer(segment, 1.0)?;
                let mut found = Vec::new();
                while scorer.doc() != TERMINATED {
                    found.push((scorer.doc(), 1));
                    scorer.advance();
                }
                if !found.is_empty() {
                    hits.insert(segment.segment_id(), found);
                }
            }
            exact.push(Scored { label: format!("grams:\"{run}\" (the exact string)"), factor: bound, hits });
        }
        Ok(Box::new(ChineseWeight {
            zh: self.zh,
            grams: self.grams,
            params: self.params,
            average_length: average_length.max(1.0),
            scored: Arc::new(scored),
            exact: Arc::new(exact),
            scoring: enable_scoring.is_scoring_enabled(),
        }))
    }
}

struct ChineseWeight {
    zh: Field,
    grams: Field,
    params: Params,
    average_length: Score,
    scored: Arc<Vec<Scored>>,
    /// Documents holding each exact run, with the bonus it brings.
    exact: Arc<Vec<Scored>>,
    scoring: bool,
}

impl ChineseWeight {
    /// Every matching live document of the segment with its score, in document order.
    /// What each piece of evidence adds to `doc`'s score, given how often it occurs there.
    fn contribution(
        &self,
        piece: &Scored,
        count: u32,
        zh: &FieldNormReader,
        grams: &FieldNormReader,
        doc: DocId,
    ) -> Score {
        let Params { k1, b } = self.params;
        let length = (zh.fieldnorm(doc) + 2 * grams.fieldnorm(doc)) as Score;
        let tf = count as Score;
        piece.factor * tf / (tf + k1 * (1.0 - b + b * length / self.average_length))
    }

    fn scores(&self, reader: &SegmentReader) -> tantivy::Result<Vec<(DocId, Score)>> {
        let id = reader.segment_id();
        let zh = reader.get_fieldnorms_reader(self.zh)?;
        let grams = reader.get_fieldnorms_reader(self.grams)?;
        let mut totals: Vec<Score> = vec![0.0; reader.max_doc() as usize];
        for piece in self.scored.iter() {
            for &(doc, count) in piece.hits.get(&id).into_iter().flatten() {
                totals[doc as usize] += self.contribution(piece, count, &zh, &grams, doc);
            }
        }
        for run in self.exact.iter() {
            for &(doc, _) in run.hits.get(&id).into_iter().flatten() {
                totals[doc as usize] += run.factor;
            }
        }
        let mut out: Vec<(DocId, Score)> = totals
            .into_iter()
            .enumerate()
            .filter(|&(doc, score)| score > 0.0 && !reader.is_deleted(doc as DocId))
            .map(|(doc, score)| (doc as DocId, score))
            .collect();
        if !self.scoring {
            out.iter_mut().for_each(|(_, s)| *s = 0.0);
        }
        Ok(out)
    }
}

impl Weight for ChineseWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut docs = self.scores(reader)?;
        if boost != 1.0 {
            docs.iter_mut().for_each(|(_, s)| *s *= boost);
        }
        Ok(Box::new(ListScorer { docs, at: 0 }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let id = reader.segment_id();
        let zh = reader.get_fieldnorms_reader(self.zh)?;
        let grams = reader.get_fieldnorms_reader(self.grams)?;
        let mut parts = Vec::new();
        for piece in self.scored.iter() {
            let hits = piece.hits.get(&id).map_or(&[][..], |h| h.as_slice());
            if let Ok(i) = hits.binary_search_by_key(&doc, |(d, _)| *d) {
                parts.push((piece.label.clone(), self.contribution(piece, hits[i].1, &zh, &grams, doc)));
            }
        }
        for run in self.exact.iter() {
            let hits = run.hits.get(&id).map_or(&[][..], |h| h.as_slice());
            if hits.binary_search_by_key(&doc, |(d, _)| *d).is_ok() {
                parts.push((run.label.clone(), run.factor));
            }
        }
        if parts.is_empty() {
            return Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        let mut explanation =
            Explanation::new("Chinese evidence (BM25 over words and characters)", parts.iter().map(|p| p.1).sum());
        for (label, score) in parts {
            let mut part = Explanation::new_with_string(label.clone(), score);
            part.add_context(format!("{}{label}", super::explain::LABEL_PREFIX));
            explanation.add_detail(part);
        }
        Ok(explanation)
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
        // Seeks mostly go a few documents ahead (another clause's next match): look at the
        // next few before searching the rest.
        let rest = &self.docs[self.at.min(self.docs.len())..];
        match rest.iter().take(8).position(|(d, _)| *d >= target) {
            Some(step) => self.at += step,
            None => self.at += rest.partition_point(|(d, _)| *d < target),
        }
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).map_or(TERMINATED, |(d, _)| *d)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at.min(self.docs.len())) as u32
    }
}

impl Scorer for ListScorer {
    fn score(&mut self) -> Score {
        self.docs.get(self.at).map_or(0.0, |(_, s)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrogatives_are_no_evidence_and_words_weigh_by_length() {
        let weights = Weights { word: 1.0, function_word: 0.5, pair: 0.8, char: 1.0 };
        let words: Vec<String> = ["战国无双", "是", "哪", "公司"].iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        evidence_of(&words, &mut out, &weights);
        assert!(!out.iter().any(|(e, _)| matches!(e, Evidence::Word(w) if w == "哪")));
        assert!(!out.iter().any(|(e, _)| *e == Evidence::Char('哪')));
        assert!(out.contains(&(Evidence::Word("是".into()), 0.5)));
        let weight = |word: &str| out.iter().find(|(e, _)| *e == Evidence::Word(word.into())).unwrap().1;
        assert!((weight("战国无双") - 3.4).abs() < 1e-6 && (weight("公司") - 1.8).abs() < 1e-6);
        assert_eq!(out.iter().filter(|(e, _)| matches!(e, Evidence::Char(_))).count(), 7);
    }
}
