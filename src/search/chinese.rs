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
//! CMRC 2018 `tune` (short questions over sentences) sou's nDCG@10 went from 0.6946 to 0.7680;
//! the best plain BM25 of the data set's reference runs (jieba + bigrams, k1 0.9 b 0.4) is
//! 0.7441. BENCHMARKS.md has the steps.
//!
//! Nothing is indexed anew: words come from the zh field and characters from the character
//! field. Interrogatives (什么, 哪, 多少, 是否…) are no evidence at all: the sentence that answers
//! a question rarely holds them, and their rarity in prose would otherwise give them the
//! largest weights of the query.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::fastfield::AliveBitSet;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{EnableScoring, Explanation, PhraseQuery, Query, Scorer, TermQuery, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED, Term};

use crate::analysis::is_function_word;

/// BM25 parameters of the Chinese evidence in one index (see [`Saturation::params_at`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Params {
    pub k1: Score,
    pub b: Score,
}

/// How the Chinese evidence saturates: its k1 follows the index's average evidence length.
/// In an index of short texts (sentences, titles) a word found once says nearly all that a
/// word found twice says, so k1 is small; in one of long texts (articles, judgments) a word
/// the text is about comes back again and again while one it names in passing does not, so
/// repetition must count, as with tantivy's k1 1.2. Between the two lengths k1 grows with the
/// logarithm of the average length.
///
/// One k1 could not serve both: on CMRC 2018 `tune`, sentence level (average length 79) wants
/// k1 0.2 (nDCG@10 0.7680 against 0.7641 at k1 0.5), paragraph level (average 969) wants 0.8–1.2
/// (0.9907 against 0.9881 at k1 0.2). A cluster index computes the same k1 from its field
/// statistics (`cluster::mapping`'s scripted similarity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Saturation {
    /// k1 of an index whose average evidence length is at most `short_length`.
    pub short_k1: Score,
    /// k1 of an index whose average evidence length is at least `long_length`.
    pub long_k1: Score,
    pub short_length: Score,
    pub long_length: Score,
    /// Length normalization, the same at every length.
    pub b: Score,
}

impl Saturation {
    /// The parameters for an index whose documents' evidence is `average_length` long.
    pub fn params_at(&self, average_length: Score) -> Params {
        let (short, long) = (self.short_length.ln(), self.long_length.ln());
        let along = ((average_length.max(1.0).ln() - short) / (long - short)).clamp(0.0, 1.0);
        Params { k1: self.short_k1 + (self.long_k1 - self.short_k1) * along, b: self.b }
    }
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

/// One entry per distinct piece of evidence with a weight, repeats adding their weights: what
/// each backend scores.
pub(crate) fn merged(evidence: &[(Evidence, Score)]) -> Vec<(Evidence, Score)> {
    let mut merged: Vec<(Evidence, Score)> = Vec::new();
    for (evidence, weight) in evidence {
        if *weight <= 0.0 {
            continue;
        }
        match merged.iter_mut().find(|(e, _)| e == evidence) {
            Some((_, w)) => *w += weight,
            None => merged.push((evidence.clone(), *weight)),
        }
    }
    merged
}

/// How an explanation names a piece of evidence: by the field a reader would look in (a
/// one-character function word lives among the characters, as in the index).
pub(crate) fn evidence_label(evidence: &Evidence) -> String {
    match evidence {
        Evidence::Word(w) if is_function_word(w) => format!("grams:{w}"),
        Evidence::Word(w) => format!("zh:{w}"),
        Evidence::Char(c) => format!("grams:{c}"),
    }
}

/// How an explanation names an exact run's bonus.
pub(crate) fn exact_label(run: &str) -> String {
    format!("grams:\"{run}\" (the exact string)")
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
    /// The pair field, where an exact run is looked up, if the index has one (else the run is
    /// a phrase of characters).
    pub pairs: Option<Field>,
    pub evidence: Vec<(Evidence, Score)>,
    pub saturation: Saturation,
    /// Han runs of several words whose exact string ranks a document above any document
    /// without it (all-terms mode: "the exact string ranks first"): each found adds more than
    /// all the evidence together can.
    pub exact: Vec<String>,
    /// Where the index keeps the evidence's cell bounds between searches.
    pub cells: Option<Arc<CellCache>>,
}

/// One piece of evidence ready to score.
struct Scored {
    /// How explanations name it: `zh:法律`, `grams:法`.
    label: String,
    term: Term,
    /// idf × weight × (k1 + 1): more than the piece can add to any document.
    factor: Score,
}

/// A run whose exact string ranks a document above every document without it.
struct ExactRun {
    label: String,
    /// The terms it is made of (its covering pairs, or its characters), for the cell bounds.
    terms: Vec<Term>,
    phrase: Box<dyn Weight>,
    bonus: Score,
}

impl ChineseQuery {
    fn term(&self, evidence: &Evidence) -> Term {
        match evidence {
            Evidence::Word(w) if is_function_word(w) => Term::from_field_text(self.grams, w),
            Evidence::Word(w) => Term::from_field_text(self.zh, w),
            Evidence::Char(c) => Term::from_field_text(self.grams, c.encode_utf8(&mut [0; 4])),
        }
    }

    /// The weight: each distinct piece of evidence with its idf, and the exact runs.
    fn chinese_weight(&self, searcher: &Searcher, scoring: bool) -> tantivy::Result<ChineseWeight> {
        let docs: u64 = searcher.segment_readers().iter().map(|s| u64::from(s.max_doc())).sum();
        let mut total_length = 0;
        for segment in searcher.segment_readers() {
            total_length += match &self.cells {
                Some(cache) => cache.total_length(segment, || total_length_of(segment, self.zh, self.grams))?,
                None => total_length_of(segment, self.zh, self.grams)?,
            };
        }
        let average_length = total_length as Score / docs.max(1) as Score;
        let params = self.saturation.params_at(average_length);
        let merged = merged(&self.evidence);
        let mut scored = Vec::with_capacity(merged.len());
        for (evidence, weight) in &merged {
            let term = self.term(evidence);
            let doc_freq = searcher.doc_freq(&term)?;
            if doc_freq == 0 {
                continue;
            }
            let factor = idf(doc_freq, docs) * weight * (params.k1 + 1.0);
            let label = evidence_label(evidence);
            scored.push(Scored { label, term, factor });
        }
        // Every piece adds less than its factor (tf / (tf + norm) < 1): an exact run is worth
        // more than all of them, and the rest of a query (Latin words) rarely nears 50.
        let bonus: Score = scored.iter().map(|p| p.factor).sum::<Score>() + 50.0;
        let mut exact = Vec::new();
        for run in &self.exact {
            if run.chars().count() < 2 {
                continue;
            }
            let terms: Vec<(usize, Term)> = match self.pairs {
                Some(pairs) => {
                    let chars: Vec<Vec<String>> = run.chars().map(|c| vec![c.to_string()]).collect();
                    let covering = crate::analysis::covering_pairs(&chars);
                    covering.into_iter().map(|(i, forms)| (i, Term::from_field_text(pairs, &forms[0]))).collect()
                }
                None => run
                    .chars()
                    .enumerate()
                    .map(|(i, c)| (i, Term::from_field_text(self.grams, c.encode_utf8(&mut [0; 4]))))
                    .collect(),
            };
            let unscored = EnableScoring::disabled_from_searcher(searcher);
            let phrase = match terms.as_slice() {
                [(_, only)] => TermQuery::new(only.clone(), IndexRecordOption::Basic).weight(unscored)?,
                _ => PhraseQuery::new_with_offset(terms.clone()).weight(unscored)?,
            };
            let terms = terms.into_iter().map(|(_, t)| t).collect();
            exact.push(ExactRun { label: exact_label(run), terms, phrase, bonus });
        }
        Ok(ChineseWeight {
            zh: self.zh,
            grams: self.grams,
            params,
            average_length: average_length.max(1.0),
            scored: Arc::new(scored),
            exact: Arc::new(exact),
            scoring,
            cells: self.cells.clone(),
        })
    }
}

/// A document's length for the Chinese evidence: its words and twice its characters, as the
/// fields' lengths are kept (quantized to a byte, Lucene's way), the sum quantized once more.
/// It is what a cluster's evidence field holds for the same document (its filler tokens make
/// up the sum; see `cluster::encode::chinese_evidence`), so the two rank alike to the last
/// digit. (Before, the sum was not quantized again: CMRC tune nDCG@10 0.7634, now 0.7635.)
pub(crate) fn evidence_length(zh: u32, grams: u32) -> u32 {
    quantized(zh + 2 * grams)
}

/// A length as a field norm keeps it.
pub(crate) fn quantized(length: u32) -> u32 {
    FieldNormReader::id_to_fieldnorm(FieldNormReader::fieldnorm_to_id(length))
}

/// The sum of a segment's documents' [`evidence_length`] before the last quantization (what
/// a cluster's evidence field sums to): the average length's numerator.
fn total_length_of(segment: &SegmentReader, zh: Field, grams: Field) -> tantivy::Result<u64> {
    let (zh, grams) = (segment.get_fieldnorms_reader(zh)?, segment.get_fieldnorms_reader(grams)?);
    Ok((0..segment.max_doc()).map(|doc| u64::from(zh.fieldnorm(doc) + 2 * grams.fieldnorm(doc))).sum())
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
        Ok(Box::new(self.chinese_weight(searcher, enable_scoring.is_scoring_enabled())?))
    }
}

struct ChineseWeight {
    zh: Field,
    grams: Field,
    params: Params,
    average_length: Score,
    scored: Arc<Vec<Scored>>,
    exact: Arc<Vec<ExactRun>>,
    scoring: bool,
    cells: Option<Arc<CellCache>>,
}

/// What a piece of evidence found `count` times adds to a document of `length`, as a share of
/// its factor: below 1, and the higher the more often and the shorter the document.
fn saturation(params: Params, average_length: Score, count: u32, length: u32) -> Score {
    let Params { k1, b } = params;
    let tf = count as Score;
    tf / (tf + k1 * (1.0 - b + b * length as Score / average_length))
}

impl ChineseWeight {
    fn segment_scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<ChineseScorer> {
        let mut cursors = Vec::with_capacity(self.scored.len());
        for (piece, scored) in self.scored.iter().enumerate() {
            let inverted = reader.inverted_index(scored.term.field())?;
            if let Some(postings) = inverted.read_postings(&scored.term, IndexRecordOption::WithFreqs)? {
                cursors.push(Cursor { postings, piece, factor: scored.factor * boost });
            }
        }
        let mut exact = Vec::with_capacity(self.exact.len());
        for run in self.exact.iter() {
            exact.push((run.phrase.scorer(reader, 1.0)?, run.bonus * boost));
        }
        let mut scorer = ChineseScorer {
            cursors,
            exact,
            zh: reader.get_fieldnorms_reader(self.zh)?,
            grams: reader.get_fieldnorms_reader(self.grams)?,
            params: self.params,
            average_length: self.average_length,
            alive: reader.alive_bitset().cloned(),
            scoring: self.scoring,
            doc: 0,
        };
        scorer.doc = scorer.first_at_or_after(0);
        Ok(scorer)
    }

    /// For each cell of [`CELL_DOCS`] documents of the segment, more than any of its documents
    /// can score: what lets a top-k search skip the cells that cannot enter the results.
    fn cell_bounds(&self, reader: &SegmentReader) -> tantivy::Result<Vec<Score>> {
        let cells = (reader.max_doc() as usize).div_ceil(CELL_DOCS);
        let mut bounds = vec![0.0; cells];
        let share = |term: &Term| -> tantivy::Result<Arc<Vec<Score>>> {
            match &self.cells {
                Some(cache) => cache
                    .get_or_compute(reader, term, self.params, self.average_length, || self.cell_shares(reader, term)),
                None => self.cell_shares(reader, term).map(Arc::new),
            }
        };
        for piece in self.scored.iter() {
            for (bound, share) in bounds.iter_mut().zip(share(&piece.term)?.iter()) {
                *bound += piece.factor * share;
            }
        }
        for run in self.exact.iter() {
            // The exact string can only be in a cell holding each of its terms.
            let mut possible = vec![true; cells];
            for term in &run.terms {
                for (p, share) in possible.iter_mut().zip(share(term)?.iter()) {
                    *p &= *share > 0.0;
                }
            }
            for (bound, possible) in bounds.iter_mut().zip(possible) {
                *bound += if possible { run.bonus } else { 0.0 };
            }
        }
        // Rounding: a sum in another order may come out a hair above.
        bounds.iter_mut().for_each(|b| *b = *b * 1.000_1 + 1e-6);
        Ok(bounds)
    }

    /// The largest [`saturation`] of `term` in each cell (0 where it is absent).
    fn cell_shares(&self, reader: &SegmentReader, term: &Term) -> tantivy::Result<Vec<Score>> {
        let mut shares = vec![0.0; (reader.max_doc() as usize).div_ceil(CELL_DOCS)];
        let zh = reader.get_fieldnorms_reader(self.zh)?;
        let grams = reader.get_fieldnorms_reader(self.grams)?;
        let inverted = reader.inverted_index(term.field())?;
        if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::WithFreqs)? {
            let mut doc = postings.doc();
            while doc != TERMINATED {
                let length = evidence_length(zh.fieldnorm(doc), grams.fieldnorm(doc));
                let share = saturation(self.params, self.average_length, postings.term_freq(), length);
                let cell: &mut Score = &mut shares[doc as usize / CELL_DOCS];
                *cell = cell.max(share);
                doc = postings.advance();
            }
        }
        Ok(shares)
    }
}

impl Weight for ChineseWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(self.segment_scorer(reader, boost)?))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.segment_scorer(reader, 1.0)?;
        let mut parts = Vec::new();
        if scorer.seek(doc) == doc {
            let length = scorer.length(doc);
            for cursor in scorer.cursors.iter().filter(|c| c.postings.doc() == doc) {
                let share = saturation(self.params, self.average_length, cursor.postings.term_freq(), length);
                parts.push((self.scored[cursor.piece].label.clone(), cursor.factor * share));
            }
            for (run, (phrase, bonus)) in self.exact.iter().zip(scorer.exact.iter_mut()) {
                // A fresh phrase scorer may already stand past `doc`, and tantivy's asserts
                // it is never sought backwards.
                if phrase.doc() == doc || (phrase.doc() < doc && phrase.seek(doc) == doc) {
                    parts.push((run.label.clone(), *bonus));
                }
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

struct Cursor {
    postings: SegmentPostings,
    /// Index into the weight's pieces.
    piece: usize,
    factor: Score,
}

/// The documents holding any of the evidence, in order, read from the postings as they are
/// asked for: a search that skips documents (a required clause, a top-k search that skips
/// cells) never decodes what it skips.
struct ChineseScorer {
    cursors: Vec<Cursor>,
    /// Scorers of the exact runs, with their bonus. Documents holding a run hold its characters,
    /// so they are among the cursors' documents (unless every word of the run asks, 什么多少).
    exact: Vec<(Box<dyn Scorer>, Score)>,
    zh: FieldNormReader,
    grams: FieldNormReader,
    params: Params,
    average_length: Score,
    alive: Option<AliveBitSet>,
    scoring: bool,
    doc: DocId,
}

impl ChineseScorer {
    fn smallest(&self) -> DocId {
        self.cursors.iter().map(|c| c.postings.doc()).min().unwrap_or(TERMINATED)
    }

    fn is_deleted(&self, doc: DocId) -> bool {
        self.alive.as_ref().is_some_and(|alive| alive.is_deleted(doc))
    }

    /// The first live document at or after `target` (cursors already there stay).
    fn first_at_or_after(&mut self, target: DocId) -> DocId {
        for cursor in &mut self.cursors {
            if cursor.postings.doc() < target {
                cursor.postings.seek(target);
            }
        }
        let mut doc = self.smallest();
        while doc != TERMINATED && self.is_deleted(doc) {
            doc = self.step_past(doc);
        }
        doc
    }

    /// Moves the cursors on `doc` to their next document; returns the new smallest.
    fn step_past(&mut self, doc: DocId) -> DocId {
        for cursor in &mut self.cursors {
            if cursor.postings.doc() == doc {
                cursor.postings.advance();
            }
        }
        self.smallest()
    }

    fn length(&self, doc: DocId) -> u32 {
        evidence_length(self.zh.fieldnorm(doc), self.grams.fieldnorm(doc))
    }
}

impl DocSet for ChineseScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let mut doc = self.step_past(self.doc);
        while doc != TERMINATED && self.is_deleted(doc) {
            doc = self.step_past(doc);
        }
        self.doc = doc;
        doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        self.doc = self.first_at_or_after(target);
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.cursors.iter().map(|c| c.postings.size_hint()).max().unwrap_or(0)
    }
}

impl Scorer for ChineseScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        if !self.scoring || doc == TERMINATED {
            return 0.0;
        }
        let length = self.length(doc);
        let (params, average_length) = (self.params, self.average_length);
        let mut score = 0.0;
        for cursor in self.cursors.iter().filter(|c| c.postings.doc() == doc) {
            score += cursor.factor * saturation(params, average_length, cursor.postings.term_freq(), length);
        }
        for (phrase, bonus) in &mut self.exact {
            if phrase.doc() < doc {
                phrase.seek(doc);
            }
            if phrase.doc() == doc {
                score += *bonus;
            }
        }
        score
    }
}

/// Documents per cell of the top-k search: small enough that a cell's bound is close to its
/// best document, large enough that walking the cells costs nothing beside the postings.
const CELL_DOCS: usize = if cfg!(test) { 8 } else { 512 };

/// The cells searched first, to find a score the results must beat before the search proper.
const PROBE_CELLS: usize = if cfg!(test) { 4 } else { 16 };

/// Each term's best [`saturation`] per cell, per segment: computing it reads the term's whole
/// postings once; every later search for the term in the segment skips by it. Bounded in
/// bytes: full, it starts over.
#[derive(Default)]
pub(crate) struct CellCache {
    entries: std::sync::Mutex<CacheEntries>,
}

#[derive(Default)]
struct CacheEntries {
    shares: HashMap<(SegmentId, Term), CachedShares>,
    bytes: usize,
    /// Each segment's [`total_length_of`] (a segment never changes; deletes do not count).
    lengths: HashMap<SegmentId, u64>,
}

/// One term's shares in one segment, with what they were computed for.
struct CachedShares {
    params: Params,
    average_length: Score,
    shares: Arc<Vec<Score>>,
}

/// What the cache may hold: 16 MiB is ~4 million cells, the shares of some 500 terms in a
/// 3.9-million-document index.
const CELL_CACHE_BYTES: usize = 16 << 20;

impl std::fmt::Debug for CellCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CellCache")
    }
}

impl CellCache {
    fn total_length(
        &self,
        segment: &SegmentReader,
        compute: impl FnOnce() -> tantivy::Result<u64>,
    ) -> tantivy::Result<u64> {
        let lock = || self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(total) = lock().lengths.get(&segment.segment_id()) {
            return Ok(*total);
        }
        let total = compute()?;
        let mut entries = lock();
        // Merged-away segments leave entries behind: start over now and then.
        if entries.lengths.len() > 4096 {
            entries.lengths.clear();
        }
        entries.lengths.insert(segment.segment_id(), total);
        Ok(total)
    }

    fn get_or_compute(
        &self,
        reader: &SegmentReader,
        term: &Term,
        params: Params,
        average_length: Score,
        compute: impl FnOnce() -> tantivy::Result<Vec<Score>>,
    ) -> tantivy::Result<Arc<Vec<Score>>> {
        let key = (reader.segment_id(), term.clone());
        let lock = || self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Shares depend on the average length, which every commit moves a little.
        if let Some(cached) = lock().shares.get(&key)
            && cached.params == params
            && cached.average_length == average_length
        {
            return Ok(cached.shares.clone());
        }
        let shares = Arc::new(compute()?);
        let size = shares.len() * std::mem::size_of::<Score>() + 64;
        let mut entries = lock();
        if entries.bytes + size > CELL_CACHE_BYTES {
            entries.shares.clear();
            entries.bytes = 0;
        }
        entries.bytes += size;
        let cached = CachedShares { params, average_length, shares: shares.clone() };
        if let Some(old) = entries.shares.insert(key, cached) {
            entries.bytes -= old.shares.len() * std::mem::size_of::<Score>() + 64;
        }
        Ok(shares)
    }
}

/// A query ranked by Chinese evidence alone (its other clauses only match, scoring 0), searched
/// for its top `k` by skipping the cells whose bound cannot beat the results so far.
#[derive(Debug)]
pub(crate) struct TopChinese {
    /// The whole query; its score is the ranking's.
    pub inner: Box<dyn Query>,
    pub ranking: ChineseQuery,
    /// Hits wanted (offset + limit).
    pub k: usize,
}

impl Clone for TopChinese {
    fn clone(&self) -> TopChinese {
        TopChinese { inner: self.inner.box_clone(), ranking: self.ranking.clone(), k: self.k }
    }
}

impl Query for TopChinese {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let inner = self.inner.weight(enable_scoring)?;
        let Some(searcher) = enable_scoring.searcher().filter(|_| enable_scoring.is_scoring_enabled()) else {
            return Ok(inner);
        };
        let ranking = self.ranking.chinese_weight(searcher, true)?;
        Ok(Box::new(TopChineseWeight { inner, ranking, k: self.k }))
    }
}

struct TopChineseWeight {
    inner: Box<dyn Weight>,
    ranking: ChineseWeight,
    k: usize,
}

impl TopChineseWeight {
    /// The k-th best score among the documents of the best cells: the results will beat it.
    fn floor(&self, reader: &SegmentReader, bounds: &[Score]) -> tantivy::Result<Score> {
        let mut best: Vec<usize> = (0..bounds.len()).filter(|&g| bounds[g] > 0.0).collect();
        if self.k == 0 || best.len() <= PROBE_CELLS {
            return Ok(Score::MIN);
        }
        best.select_nth_unstable_by(PROBE_CELLS, |a, b| bounds[*b].total_cmp(&bounds[*a]));
        best.truncate(PROBE_CELLS);
        best.sort_unstable();
        let mut scorer = self.inner.scorer(reader, 1.0)?;
        let mut scores = Vec::new();
        for cell in best {
            let (start, end) = cell_range(cell, reader.max_doc());
            let mut doc = scorer.doc();
            if doc < start {
                doc = scorer.seek(start);
            }
            while doc < end {
                if !reader.is_deleted(doc) {
                    scores.push(scorer.score());
                }
                doc = scorer.advance();
            }
        }
        if scores.len() < self.k {
            return Ok(Score::MIN);
        }
        let (_, kth, _) = scores.select_nth_unstable_by(self.k - 1, |a, b| b.total_cmp(a));
        Ok(*kth)
    }
}

fn cell_range(cell: usize, max_doc: DocId) -> (DocId, DocId) {
    let start = (cell * CELL_DOCS) as DocId;
    (start, (start + CELL_DOCS as DocId).min(max_doc))
}

impl Weight for TopChineseWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.inner.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }

    fn for_each_pruning(
        &self,
        mut threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let bounds = self.ranking.cell_bounds(reader)?;
        let floor = self.floor(reader, &bounds)?;
        let mut scorer = self.inner.scorer(reader, 1.0)?;
        let mut doc = scorer.doc();
        for (cell, &bound) in bounds.iter().enumerate() {
            if doc == TERMINATED {
                break;
            }
            let (start, end) = cell_range(cell, reader.max_doc());
            // Nothing here can beat the k-th best score already found (or known to exist).
            if doc >= end || bound < floor || bound <= threshold {
                continue;
            }
            if doc < start {
                doc = scorer.seek(start);
            }
            while doc < end {
                let score = scorer.score();
                if score > threshold {
                    threshold = callback(doc, score);
                }
                doc = scorer.advance();
            }
        }
        Ok(())
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

    #[test]
    fn k1_grows_with_the_average_length_between_the_two_lengths_only() {
        let saturation = Saturation { short_k1: 0.2, long_k1: 1.2, short_length: 100.0, long_length: 1000.0, b: 0.5 };
        let k1 = |average: Score| saturation.params_at(average).k1;
        assert!((k1(0.0) - 0.2).abs() < 1e-6 && (k1(79.0) - 0.2).abs() < 1e-6);
        assert!((k1(10_892.0) - 1.2).abs() < 1e-6);
        // Halfway in the logarithm: 100 × √10.
        assert!((k1(316.227_77) - 0.7).abs() < 1e-4);
        let mut previous = 0.0;
        for average in [50.0, 100.0, 150.0, 300.0, 600.0, 969.0, 1000.0, 5000.0] {
            assert!(k1(average) >= previous, "{average}");
            previous = k1(average);
        }
        assert_eq!(saturation.params_at(500.0).b, 0.5);
    }
}
