//! Searching: the query request, turning parsed syntax into a backend-neutral plan over the word and
//! recall fields, ranking, paging, filters, and assembling hits with snippets.

use std::collections::BTreeSet;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::Query as TantivyQuery;
use tantivy::{DocAddress, Order, Score, TantivyDocument};

use crate::analysis::{is_function_word, latin, normalize, script};
use crate::date::Date;
use crate::document::Document;
use crate::error::Result;
use crate::index::Index;
use crate::snippet::{Highlighter, Snippet, char_ranges, make_snippet};
use crate::syntax::{self, Atom, Clause, Scope};
use plan::{ChinesePlan, Occur, Plan, Statistics, TextField};

/// Queries with more words than this are matched in any-term mode automatically, so a pasted
/// paragraph ranks documents instead of requiring every word.
pub const AUTO_ANY_TERMS: usize = 12;

/// Boost of the title field. The title is also indexed as part of the body ("flat"), so a
/// title word already counts there; the title field adds a little on top. Larger boosts let
/// short titles dominate: SciFact train nDCG@10 0.6935 / 0.6964 / 0.6966 / 0.6883 at boost
/// 0 / 0.2 / 0.3 / 0.5, LeCaRD 0.6274 / 0.6275 / 0.6268 / 0.6171.
const TITLE_BOOST: Score = 0.3;
/// Boost of a source-line match.
const SOURCE_BOOST: Score = 0.5;
/// Boost of a character-level (recall field) match: below whole-word matches, so documents
/// that contain the query as words rank above those that only contain its characters.
const GRAM_BOOST: Score = 0.4;
/// Okapi BM25's k3: how a word repeated in a pasted passage counts (see
/// [`Plan::saturated_union`]). LeCaRD nDCG@10 (87 queries) 0.6278 with repeats counted in full,
/// 0.6528 / 0.6527 / 0.6569 / 0.6528 / 0.6521 at k3 10 / 12 / 15 / 20 / 25.
const QUERY_TERM_SATURATION: Score = 15.0;
/// A query of more words than this is a pasted passage (a court case, an article), whose rarest
/// words — names, places, amounts — say little about what the passage is about.
const PASSAGE_WORDS: usize = 32;
/// In a passage, a word in fewer than this share of documents weighs as one in this share
/// (its idf is capped; see [`Plan::rare_words_capped`]). LeCaRD nDCG@10 0.6569 uncapped,
/// 0.6610 / 0.6613 / 0.6615 / 0.6598 / 0.6614 / 0.6583 capped at idf 3.5 / 4 / 4.5 / 5 / 6 / 7
/// (1 % ≈ 4.6). SciFact train: 0.7048 uncapped; capping its queries of more than 16 words
/// gave 0.7019, of more than 24 0.7045, of more than 32 0.7047: its claims are not passages.
const PASSAGE_RARITY_CAP: f64 = 0.01;
/// Boost of the exact character sequence of a several-word Chinese query.
const EXACT_RUN_BOOST: Score = 1.5;
/// BM25 of the Chinese evidence (see [`chinese::Saturation`]), tuned on CMRC 2018 `tune`:
/// sentence level (average evidence length 79) 0.7641 / 0.7680 / 0.7684 at k1 0.5 b 0.3 (the
/// single k1 before) / k1 0.2 b 0.5 / k1 0.1 b 0.5, paragraph level (969) 0.9898 / 0.9881 /
/// 0.9907 at k1 0.5 b 0.3 / k1 0.2 b 0.5 / this; b 0.4 / 0.6 / 0.75 gave 0.7680 / 0.7685 /
/// 0.7673 on sentences. The lengths are round numbers either side of the two sets, not tuned.
pub(crate) const CHINESE_BM25: chinese::Saturation =
    chinese::Saturation { short_k1: 0.2, long_k1: 1.2, short_length: 100.0, long_length: 1000.0, b: 0.5 };
/// Weights of the Chinese evidence, tuned on CMRC 2018 `tune` (pairs 0.3 / 0.4 / 0.5 / 0.8 /
/// 1.0 gave 0.7615 / 0.7618 / 0.7610 / 0.7590 / 0.7596 around the chosen point).
const CHINESE_WEIGHTS: chinese::Weights = chinese::Weights { word: 1.0, function_word: 0.5, pair: 0.4, char: 1.0 };
/// Weight of a Latin word of a query holding Han text, as evidence in the zh field
/// (`战国无双3`): CMRC `tune` 0.7577 / 0.7589 / 0.7602 / 0.7607 at 0 / 1 / 2 / 3.
const CHINESE_LATIN_WEIGHT: Score = 3.0;
/// A query of more than [`AUTO_ANY_TERMS`] words is still ranked as a short text up to this
/// many Han characters (CMRC `tune` 0.7611 → 0.7633: 8 % of its questions have 13+ words).
const CHINESE_SHORT_CHARS: usize = 48;

/// How hits are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// BM25 relevance (default).
    #[default]
    Relevance,
    /// Newest first; documents without a date last.
    Date,
}

/// A search request. Build with [`Query::new`] and the chained setters.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    pub(crate) limit: usize,
    pub(crate) offset: usize,
    pub(crate) any: bool,
    pub(crate) since: Option<Date>,
    pub(crate) until: Option<Date>,
    pub(crate) sort: SortBy,
    pub(crate) snippet_chars: usize,
    pub(crate) explain: bool,
    pub(crate) count_limit: usize,
    /// Whether a search may skip matches that cannot reach the top hits (tests compare).
    pub(crate) prune: bool,
}

/// Matches counted exactly before a total becomes "at least" (Elasticsearch's convention).
pub const COUNT_LIMIT: usize = 10_000;

impl Query {
    /// A query in sou's syntax (see the README), 10 hits, relevance order.
    pub fn new(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            limit: 10,
            offset: 0,
            any: false,
            since: None,
            until: None,
            sort: SortBy::Relevance,
            snippet_chars: 120,
            explain: false,
            count_limit: COUNT_LIMIT,
            prune: true,
        }
    }
    /// Maximum hits to return.
    pub fn limit(mut self, limit: usize) -> Query {
        self.limit = limit;
        self
    }
    /// Hits to skip (paging).
    pub fn offset(mut self, offset: usize) -> Query {
        self.offset = offset;
        self
    }
    /// Match documents containing any term instead of all terms.
    pub fn any(mut self, any: bool) -> Query {
        self.any = any;
        self
    }
    /// Only documents dated on or after this day.
    pub fn since(mut self, date: Option<Date>) -> Query {
        self.since = date;
        self
    }
    /// Only documents dated on or before this day.
    pub fn until(mut self, date: Option<Date>) -> Query {
        self.until = date;
        self
    }
    /// Result order.
    pub fn sort(mut self, sort: SortBy) -> Query {
        self.sort = sort;
        self
    }
    /// Target snippet length in characters; 0 for no snippets (rankings only).
    pub fn snippet_chars(mut self, chars: usize) -> Query {
        self.snippet_chars = chars;
        self
    }
    /// Attach a score explanation to every hit.
    pub fn explain(mut self, explain: bool) -> Query {
        self.explain = explain;
        self
    }
    /// Count matches exactly up to this many; past it the total is a lower bound (see
    /// [`SearchResults::total_is_lower_bound`]). Only a search that can find its top hits
    /// without scoring every match stops counting; `usize::MAX` counts everything.
    pub fn count_limit(mut self, limit: usize) -> Query {
        self.count_limit = limit;
        self
    }
    /// The query text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Snippets of a hit, per language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snippets {
    /// From the Chinese text, when the document has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zh: Option<Snippet>,
    /// From the English text, when the document has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<Snippet>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// 1-based rank across pages.
    pub rank: usize,
    /// Document id.
    pub id: String,
    /// Relevance score (BM25 sum; 0 when sorted by date).
    pub score: f32,
    /// Title.
    pub title: String,
    /// Matches in the title, as `[start, end)` byte ranges.
    pub title_highlights: Vec<[usize; 2]>,
    /// The same matches as character ranges (Unicode scalar values).
    pub title_char_highlights: Vec<[usize; 2]>,
    /// Source file.
    pub path: String,
    /// Date, `YYYY-MM-DD`.
    pub date: Option<Date>,
    /// Source line.
    pub source: Option<String>,
    /// Highlighted fragments.
    pub snippets: Snippets,
    /// The query parts that matched and what each added to the score (with `explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Vec<MatchedPart>>,
}

impl Hit {
    /// A found document as a hit: its snippets and title marks from the query's matches.
    pub(crate) fn of(
        doc: Document,
        rank: usize,
        score: f32,
        highlighter: &Highlighter,
        request: &Query,
        explanation: Option<Vec<MatchedPart>>,
    ) -> Hit {
        // Zero snippet characters: rankings only (evaluation, batch runs).
        let wants_snippets = request.snippet_chars > 0;
        let snippet = |text: &str| {
            (wants_snippets && !text.is_empty())
                .then(|| make_snippet(text, &highlighter.find(text), request.snippet_chars))
        };
        let title_matches = if wants_snippets { highlighter.find(&doc.title) } else { Vec::new() };
        Hit {
            rank,
            score,
            title_highlights: title_matches.iter().map(|&(s, e)| [s, e]).collect(),
            title_char_highlights: char_ranges(&doc.title, &title_matches),
            snippets: Snippets { zh: snippet(&doc.zh), en: snippet(&doc.en) },
            id: doc.id,
            title: doc.title,
            path: doc.path,
            date: doc.date,
            source: doc.source,
            explanation,
        }
    }
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// Documents matching in total (all pages), or at least this many when
    /// `total_is_lower_bound` (past the request's [`Query::count_limit`]).
    pub total: usize,
    /// Whether more documents than `total` match: counting stopped at the limit.
    #[serde(default)]
    pub total_is_lower_bound: bool,
    /// This page of hits.
    pub hits: Vec<Hit>,
    /// Whether any-term matching was used.
    pub any: bool,
    /// Things the user should know (e.g. the automatic switch to any-term matching).
    pub notices: Vec<String>,
    /// Search time in milliseconds, snippets included.
    pub elapsed_ms: f64,
}

impl SearchResults {
    /// Whether `other` ranks as these results do, ties aside: the same ids, each within the
    /// stretch its group of equal score (here, to 1e-4 relative) holds. When these results
    /// are one page of more (a group may go on past the page), the last group's stretch need
    /// only be as long. For comparing backends (a cluster and a local index), whose order
    /// among equal scores is each engine's own.
    pub fn ranks_like(&self, other: &SearchResults) -> bool {
        let mut groups: Vec<(f32, BTreeSet<&str>)> = Vec::new();
        for hit in &self.hits {
            match groups.last_mut() {
                Some((score, ids)) if (*score - hit.score).abs() <= 1e-4 * score.abs().max(1.0) => {
                    ids.insert(&hit.id);
                }
                _ => groups.push((hit.score, BTreeSet::from([hit.id.as_str()]))),
            }
        }
        let ids: Vec<&str> = other.hits.iter().map(|h| h.id.as_str()).collect();
        if ids.len() != self.hits.len() {
            return false;
        }
        let paged = self.total > self.hits.len();
        let mut at = 0;
        for (i, (_, group)) in groups.iter().enumerate() {
            let stretch: BTreeSet<&str> = ids[at..at + group.len()].iter().copied().collect();
            if stretch != *group && !(paged && i + 1 == groups.len()) {
                return false;
            }
            at += group.len();
        }
        true
    }
}

/// A text atom after analysis.
enum Piece {
    /// Consecutive non-Han words of one run.
    Latin(Vec<latin::LatinWord>),
    /// A normalized Han run and its jieba words.
    Han { run: String, words: Vec<String> },
}

struct TextAtom {
    scope: Scope,
    /// The atom's text as typed (a quoted string's content).
    text: String,
    quoted: bool,
    prefix: bool,
    fuzzy: u8,
    /// What the atom's score is multiplied by (`oil^2`).
    boost: f32,
    pieces: Vec<Piece>,
}

impl TextAtom {
    /// Whether every piece is Chinese (or kana, Hangul, symbols): text the character field holds.
    fn is_all_han(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Han { .. }))
    }

    /// Whether the Chinese ranking takes the atom's words as evidence: unquoted text, or a
    /// quoted string of Chinese and nothing else (then only a filter, its words ranking the
    /// matches), in a scope the character field covers.
    fn feeds_chinese_ranking(&self) -> bool {
        Builder::uses_grams(self.scope) && (!self.quoted || (!self.pieces.is_empty() && self.is_all_han()))
    }

    fn term_count(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Latin(words) => words.len(),
                Piece::Han { words, .. } => words.len(),
            })
            .sum()
    }
}

/// `"a b"` for a phrase, the bare term for one term.
fn phrase_label(terms: &[(usize, String)]) -> String {
    match terms {
        [(_, only)] => only.clone(),
        _ => format!("\"{}\"", terms.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" ")),
    }
}

/// A non-Han run cut into stretches of characters the character field holds (kana, Hangul,
/// symbols; see [`script::is_gram_extra`]) and stretches of other text, in order.
fn gram_stretches(text: &str) -> Vec<(&str, bool)> {
    let mut out: Vec<(&str, bool)> = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        // Variation selectors and joiners stay with the emoji they belong to.
        let held = if script::is_gram_transparent(c) { current.unwrap_or(false) } else { script::is_gram_extra(c) };
        if current.is_some_and(|h| h != held) {
            out.push((&text[start..i], current.unwrap_or(false)));
            start = i;
        }
        current = Some(held);
    }
    if start < text.len() {
        out.push((&text[start..], current.unwrap_or(false)));
    }
    out
}

/// Terms of Latin words at their positions: compound words contribute their parts.
fn latin_positions(words: &[latin::LatinWord], start: usize) -> (Vec<(usize, String)>, usize) {
    let mut terms = Vec::new();
    let mut position = start;
    for word in words {
        if word.parts.is_empty() {
            terms.push((position, word.text.clone()));
        } else {
            for (i, (part, _, _)) in word.parts.iter().enumerate() {
                terms.push((position + i, part.clone()));
            }
        }
        position += word.width();
    }
    (terms, position)
}

/// Turns analyzed query atoms into a [`Plan`]: which terms, phrases and evidence to look for
/// in which fields, and how they weigh.
struct Builder<'a> {
    segmenter: &'a crate::analysis::Segmenter,
    pub(crate) any: bool,
    /// More words than [`AUTO_ANY_TERMS`]: a pasted passage, ranked as a bag of words.
    long: bool,
    /// Leave English stop words out of ranking queries (set when other words remain).
    skip_stop_words: bool,
    /// Chinese words are ranked by [`chinese::ChineseQuery`]; their own clauses only match.
    chinese_ranking: bool,
    highlighter: Highlighter,
}

impl Builder<'_> {
    fn word_fields(scope: Scope) -> Vec<(TextField, Score)> {
        match scope {
            Scope::All => vec![
                (TextField::Title, TITLE_BOOST),
                (TextField::Zh, 1.0),
                (TextField::En, 1.0),
                (TextField::Source, SOURCE_BOOST),
            ],
            Scope::Title => vec![(TextField::Title, 1.0)],
            Scope::Zh => vec![(TextField::Zh, 1.0)],
            Scope::En => vec![(TextField::En, 1.0)],
            Scope::Source => vec![(TextField::Source, 1.0)],
        }
    }

    /// The recall field covers Chinese text of every field; used where the scope includes zh.
    fn uses_grams(scope: Scope) -> bool {
        matches!(scope, Scope::All | Scope::Zh)
    }

    /// `make(field)` in each field of the scope, summed (a match in several fields counts more).
    fn across(scope: Scope, label: &str, make: impl Fn(TextField) -> Option<Plan>) -> Option<Plan> {
        let parts = Builder::word_fields(scope)
            .into_iter()
            .filter_map(|(f, b)| make(f).map(|q| labeled(f, label, q).boosted(b)))
            .collect();
        Plan::combine(parts, Occur::Should)
    }

    /// Latin words side by side in `field`; for zh, which keeps no positions, in the field of
    /// its Latin words.
    fn latin_phrase(field: TextField, terms: &[(usize, String)]) -> Option<Plan> {
        Plan::phrase(if field == TextField::Zh { TextField::Latin } else { field }, terms)
    }

    /// A word in the word fields of `scope`. The zh field has no one-character function words
    /// (see [`crate::analysis::TokenKind::FunctionWord`]); the character field answers there.
    fn word_query(scope: Scope, word: &str) -> Option<Plan> {
        if !is_function_word(word) {
            return Builder::across(scope, word, |f| Some(Plan::term(f, word)));
        }
        let mut parts: Vec<Plan> = Builder::word_fields(scope)
            .into_iter()
            .filter(|(f, _)| *f != TextField::Zh)
            .map(|(f, b)| labeled(f, word, Plan::term(f, word)).boosted(b))
            .collect();
        if Builder::uses_grams(scope) {
            parts.push(labeled(TextField::Grams, word, Plan::term(TextField::Grams, word)));
        }
        Plan::combine(parts, Occur::Should)
    }

    fn analyze(&self, scope: Scope, text: &str, quoted: bool, prefix: bool, fuzzy: u8, boost: f32) -> TextAtom {
        let norm = normalize::normalize(text);
        let normalized: &str = &norm.text;
        let mut pieces = Vec::new();
        for run in script::runs(normalized) {
            let piece = &normalized[run.start..run.end];
            if run.han {
                let mut words = Vec::new();
                self.segmenter.query_words(piece, |s, e| words.push(piece[s..e].to_string()));
                pieces.push(Piece::Han { run: piece.to_string(), words });
            } else {
                // Kana, Hangul and symbols are in the character field, like Han: a stretch of
                // them is looked up there too (ひらがな inside ひらがなとカタカナ, 서울 in 서울은, 😀).
                for (stretch, in_field) in gram_stretches(piece) {
                    let mut words = Vec::new();
                    latin::words(stretch, |w| words.extend(w));
                    if in_field {
                        let words = words.into_iter().map(|w| w.text).collect();
                        pieces.push(Piece::Han { run: stretch.to_string(), words });
                    } else if !words.is_empty() {
                        pieces.push(Piece::Latin(words));
                    }
                }
            }
        }
        TextAtom { scope, text: text.to_string(), quoted, prefix, fuzzy, boost, pieces }
    }

    fn remember(&mut self, atom: &TextAtom) {
        for piece in &atom.pieces {
            match piece {
                Piece::Latin(words) if atom.quoted => {
                    let (terms, _) = latin_positions(words, 0);
                    self.highlighter.phrases.push(terms.into_iter().map(|(_, t)| t).collect());
                }
                Piece::Latin(words) => {
                    for (i, w) in words.iter().enumerate() {
                        if atom.prefix && i + 1 == words.len() {
                            self.highlighter.prefixes.push(w.text.clone());
                        } else {
                            self.highlighter.latin.insert(w.text.clone());
                            self.highlighter.latin.extend(w.parts.iter().map(|p| p.0.clone()));
                        }
                    }
                }
                Piece::Han { run, words } => {
                    self.highlighter.han.push(run.clone());
                    if !atom.quoted {
                        self.highlighter.han.extend(words.iter().filter(|w| w.chars().count() > 1).cloned());
                    }
                }
            }
        }
    }

    /// The run as a sequence of characters in the recall field: exactly where it occurs.
    fn gram_query(run: &str) -> Option<Plan> {
        // A character with a second reading (於 / 于, 乾 / 干): either form at its place. The
        // index holds both where the text has the first, so this finds 关于 for 關於 and back.
        let readings = if script::has_han(run) { normalize::readings(run) } else { Vec::new() };
        let chars: Vec<Vec<String>> = run
            .chars()
            .filter(|&c| !script::is_gram_transparent(c))
            .enumerate()
            .map(|(i, c)| {
                let mut forms = vec![c.to_string()];
                forms.extend(readings.iter().filter(|(j, _)| *j == i).map(|(_, r)| r.to_string()));
                forms
            })
            .collect();
        if chars.is_empty() {
            return None;
        }
        Some(labeled(TextField::Grams, &format!("\"{run}\""), Plan::Characters(chars)))
    }

    /// An unquoted Han run: its words (all, or any in any-term mode) in the word fields, or the
    /// run as a character sequence in the recall field. The recall part finds what
    /// segmentation misses (法医 inside 法医科学研究院); the word part ranks higher.
    fn han_query(&self, scope: Scope, run: &str, words: &[String]) -> Option<Plan> {
        let occur = if self.any { Occur::Should } else { Occur::Must };
        // A question's interrogatives (什么, 哪) are not required: the text that answers it
        // rarely holds them. (A run of nothing else still needs them.)
        let asks = |w: &String| chinese::is_interrogative(w) && words.iter().any(|o| !chinese::is_interrogative(o));
        let mut word_queries: Vec<(Occur, Plan)> = words
            .iter()
            // A passage's function words (的, 在, 不) are in most documents and say nothing of
            // what it is about (see PASSAGE_WORDS).
            .filter(|w| !(self.long && is_function_word(w)))
            .filter_map(|w| Some((if asks(w) { Occur::Should } else { occur }, Builder::word_query(scope, w)?)))
            .collect();
        let words_query = match word_queries.len() {
            0 => None,
            1 => word_queries.pop().map(|(_, q)| q),
            _ => Some(Plan::Bool(word_queries)),
        };
        let mut alternatives: Vec<Plan> = words_query.into_iter().collect();
        // A pasted passage is a bag of words: character phrases over it would only match the
        // exact passage and cost time (they did not change LeCaRD's nDCG@10). In a short
        // any-term query, a one-word run still needs them to find pieces of longer words.
        // A function word is a character already looked up in the recall field.
        let gram_worthwhile = (!self.any || (words.len() <= 1 && !self.long)) && !is_function_word(run);
        if Builder::uses_grams(scope) && gram_worthwhile {
            // For one word, a character match is a weaker kind of match; for several words it
            // is the strongest: the exact string, however jieba split it.
            let weight = if words.len() > 1 { EXACT_RUN_BOOST } else { GRAM_BOOST };
            alternatives.extend(Builder::gram_query(run).map(|q| q.boosted(weight)));
        }
        let query = Plan::combine(alternatives, Occur::Should)?;
        if self.chinese_ranking && Builder::uses_grams(scope) {
            // Matching only: the score comes from the Chinese evidence of the whole query.
            return Some(Plan::Matching(Box::new(query)));
        }
        Some(query)
    }

    fn latin_query(&self, atom: &TextAtom, words: &[latin::LatinWord], last_piece: bool) -> Option<Plan> {
        let scope = atom.scope;
        if let [word] = words {
            if self.skip_stop_words && latin::is_stop_term(&word.text) {
                return None;
            }
            let text = word.text.as_str();
            if atom.prefix && last_piece {
                let prefix = |field| Some(Plan::Prefix { field, prefix: text.to_string() });
                return Builder::across(scope, &format!("{text}*"), prefix);
            }
            if atom.fuzzy > 0 {
                let distance = atom.fuzzy;
                let fuzzy = |field| Some(Plan::Fuzzy { field, term: text.to_string(), distance });
                return Builder::across(scope, &format!("{text}~{distance}"), fuzzy);
            }
            if !word.parts.is_empty() {
                // A letter–digit compound written joined (covid19) finds it hyphenated or
                // spaced too (COVID-19, covid 19): the whole term, or its parts side by side.
                let (parts, _) = latin_positions(words, 0);
                let whole = Builder::across(scope, text, |f| Some(Plan::term(f, text)));
                if self.long {
                    // A passage is a bag of words: the whole and its parts.
                    let parts = parts.iter().filter_map(|(_, t)| Builder::across(scope, t, |f| Some(Plan::term(f, t))));
                    return Plan::combine(whole.into_iter().chain(parts).collect(), Occur::Should);
                }
                let split = Builder::across(scope, &phrase_label(&parts), |f| Builder::latin_phrase(f, &parts));
                return Plan::combine(whole.into_iter().chain(split).collect(), Occur::Should);
            }
            return Builder::across(scope, text, |f| Some(Plan::term(f, text)));
        }
        let (terms, _) = latin_positions(words, 0);
        if self.any {
            // Ranking mode: every word counts on its own (covid-19 as covid and 19), like the
            // bag-of-words BM25 that long queries want; adjacency still earns a bonus.
            let words = terms
                .iter()
                .filter(|(_, t)| !(self.skip_stop_words && latin::is_stop_term(t)))
                .filter_map(|(_, t)| Builder::across(scope, t, |f| Some(Plan::term(f, t))));
            let mut parts: Vec<Plan> = words.collect();
            // A pasted passage is a bag of words, ranked by its terms alone: one flat union of
            // terms, which `Index::search` scores in full.
            if !self.long {
                parts.extend(Builder::across(scope, &phrase_label(&terms), |f| Builder::latin_phrase(f, &terms)));
            }
            return Plan::combine(parts, Occur::Should);
        }
        Builder::across(scope, &phrase_label(&terms), |f| Builder::latin_phrase(f, &terms))
    }

    /// A quoted string with Chinese (or kana, Hangul, symbols) and anything else beside it —
    /// digits, Latin letters, punctuation — is kept only where the whole string occurs (see
    /// [`verify`]); a string of one Han run is exact already, and a Latin phrase is a phrase of
    /// words, whatever separates them.
    fn verified(atom: &TextAtom, phrase: Plan) -> Plan {
        let needle = verify::comparable(atom.text.trim());
        let has_gram_chars = atom.pieces.iter().any(|p| matches!(p, Piece::Han { .. }));
        let one_run = matches!(atom.pieces.as_slice(), [Piece::Han { run, .. }] if *run == needle);
        if !has_gram_chars || one_run {
            return phrase;
        }
        // Candidates: documents holding every character run of the string (a piece of a Latin
        // word at either end, `i` of SK-II, is no word of its own to look for); the phrase of
        // all parts only adds to the score.
        let phrase = if Builder::uses_grams(atom.scope) {
            let runs: Vec<Plan> = atom
                .pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Han { run, .. } => Builder::gram_query(run),
                    Piece::Latin(_) => None,
                })
                .collect();
            match Plan::combine(runs, Occur::Must) {
                Some(candidates) => Plan::Bool(vec![(Occur::Must, candidates), (Occur::Should, phrase)]),
                None => phrase,
            }
        } else {
            phrase
        };
        let fields = match atom.scope {
            Scope::All => vec![TextField::Title, TextField::Source, TextField::Zh, TextField::En],
            Scope::Title => vec![TextField::Title],
            Scope::Zh => vec![TextField::Zh],
            Scope::En => vec![TextField::En],
            Scope::Source => vec![TextField::Source],
        };
        Plan::Verified { inner: Box::new(phrase), needle, fields }
    }

    /// A quoted phrase: Latin words as a phrase in the word fields, Han runs as exact
    /// character sequences in the recall field (exactly the documents containing the string).
    fn phrase(atom: &TextAtom) -> Option<Plan> {
        let scope = atom.scope;
        let mut required = Vec::new();
        let mut word_terms = Vec::new();
        let mut position = 0;
        for piece in &atom.pieces {
            match piece {
                Piece::Latin(words) => {
                    let (terms, next) = latin_positions(words, position);
                    position = next;
                    // Plan::phrase makes positions relative to the first term.
                    let label = phrase_label(&terms);
                    required.extend(Builder::across(scope, &label, |f| Builder::latin_phrase(f, &terms)));
                    word_terms.extend(terms);
                }
                Piece::Han { run, words } => {
                    for w in words {
                        word_terms.push((position, w.clone()));
                        position += 1;
                    }
                    if Builder::uses_grams(scope) {
                        required.extend(Builder::gram_query(run));
                    } else {
                        let terms: Vec<(usize, String)> = words.iter().cloned().enumerate().collect();
                        let label = phrase_label(&terms);
                        required.extend(Builder::across(scope, &label, |f| Plan::phrase(f, &terms)));
                    }
                }
            }
        }
        let required = Plan::combine(required, Occur::Must)?;
        // The whole phrase in the word fields, when it matches there, adds to the score: one
        // word anywhere, several where positions are kept (not zh).
        let bonus = Builder::across(scope, &phrase_label(&word_terms), |f| match f {
            TextField::Zh if word_terms.len() > 1 => None,
            _ => Plan::phrase(f, &word_terms),
        });
        match bonus {
            Some(bonus) if atom.pieces.len() > 1 || matches!(atom.pieces[0], Piece::Han { .. }) => {
                Some(Plan::Bool(vec![(Occur::Must, required), (Occur::Should, bonus)]))
            }
            _ => Some(required),
        }
    }

    fn text_query(&self, atom: &TextAtom) -> Option<Plan> {
        self.unboosted_text_query(atom).map(|plan| plan.boosted(atom.boost))
    }

    fn unboosted_text_query(&self, atom: &TextAtom) -> Option<Plan> {
        if atom.quoted {
            let phrase = Builder::verified(atom, Builder::phrase(atom)?);
            if self.chinese_ranking && atom.feeds_chinese_ranking() {
                // Matching only, as for unquoted Chinese: the Chinese evidence of the whole
                // query ranks, which top-k pruning can do without scoring every match.
                return Some(Plan::Matching(Box::new(phrase)));
            }
            return Some(phrase);
        }
        let last = atom.pieces.len().saturating_sub(1);
        let parts = atom
            .pieces
            .iter()
            .enumerate()
            .filter_map(|(i, piece)| match piece {
                Piece::Latin(words) => self.latin_query(atom, words, i == last),
                Piece::Han { run, words } => self.han_query(atom.scope, run, words),
            })
            .collect();
        Plan::combine(parts, if self.any { Occur::Should } else { Occur::Must })
    }

    /// The Chinese ranking of the plain (positive, unquoted or quoted Chinese only, all-field or
    /// zh) Han runs, with the Latin words beside them (`战国无双3`); `None` when there are no
    /// Han runs.
    fn chinese_ranking_plan(&self, analyzed: &[(bool, Vec<Result<TextAtom, &Atom>>)]) -> Option<ChinesePlan> {
        let (mut evidence, mut latin, mut exact) = (Vec::new(), Vec::new(), Vec::new());
        let plain = analyzed
            .iter()
            .filter(|(negated, _)| !negated)
            .flat_map(|(_, atoms)| atoms.iter().flatten())
            .filter(|atom| atom.feeds_chinese_ranking());
        for atom in plain {
            for piece in &atom.pieces {
                match piece {
                    Piece::Han { run, words } => {
                        let from = evidence.len();
                        chinese::evidence_of(words, &mut evidence, &CHINESE_WEIGHTS);
                        evidence[from..].iter_mut().for_each(|(_, weight)| *weight *= atom.boost);
                        // All-terms mode: the exact string of an unspaced run ranks first
                        // (every match of a quoted one holds it).
                        if !self.any && words.len() > 1 && !atom.quoted {
                            exact.push(run.clone());
                        }
                    }
                    Piece::Latin(words) => latin.extend(words.iter().map(|w| (w.text.clone(), atom.boost))),
                }
            }
        }
        if evidence.is_empty() {
            return None;
        }
        evidence.extend(latin.into_iter().map(|(w, boost)| (chinese::Evidence::Word(w), CHINESE_LATIN_WEIGHT * boost)));
        Some(ChinesePlan { evidence, saturation: CHINESE_BM25, exact })
    }
}

/// The part, named `field:label` in explanations.
fn labeled(field: TextField, label: &str, inner: Plan) -> Plan {
    Plan::Labeled { field, label: label.to_string(), inner: Box::new(inner) }
}

/// A request turned into a plan.
pub(crate) struct Planned {
    pub plan: Plan,
    pub highlighter: Highlighter,
    /// Whether any-term mode is in effect.
    pub any: bool,
    /// The Chinese ranking, when it is all of the query's score (every other clause only
    /// matches): the top hits can then be found without scoring every match.
    pub sole_ranking: Option<ChinesePlan>,
    /// A long query: a union of many terms, faster scored in full than pruned (see
    /// [`Index::search`]).
    pub long: bool,
}

/// Parses the request and plans its search.
pub(crate) fn plan_query(
    segmenter: &crate::analysis::Segmenter,
    stats: &dyn Statistics,
    request: &Query,
    notices: &mut Vec<String>,
) -> Result<Planned> {
    let clauses: Vec<Clause> = syntax::parse(&request.text)?;
    if syntax::has_unpaired_quote(&request.text) {
        notices.push("a quote mark without its partner was ignored: searching the words".into());
    }
    let mut builder = Builder {
        segmenter,
        any: request.any,
        long: false,
        skip_stop_words: false,
        chinese_ranking: false,
        highlighter: Highlighter::default(),
    };
    // Analyze first: the number of words decides the matching mode.
    let analyzed: Vec<(bool, Vec<Result<TextAtom, &Atom>>)> = clauses
        .iter()
        .map(|clause| {
            let atoms = clause
                .any_of
                .iter()
                .map(|atom| match atom {
                    Atom::Text { scope, text, quoted, prefix, fuzzy, boost } => {
                        Ok(builder.analyze(*scope, text, *quoted, *prefix, *fuzzy, boost.0))
                    }
                    other => Err(other),
                })
                .collect();
            (clause.negated, atoms)
        })
        .collect();
    let words: usize = analyzed
        .iter()
        .filter(|(negated, _)| !negated)
        .flat_map(|(_, atoms)| atoms.iter().filter_map(|a| a.as_ref().ok()))
        .filter(|a| !a.quoted)
        .map(TextAtom::term_count)
        .sum();
    builder.long = words > AUTO_ANY_TERMS;
    let han_chars: usize = analyzed
        .iter()
        .filter(|(negated, _)| !negated)
        .flat_map(|(_, atoms)| atoms.iter().flatten())
        .flat_map(|a| a.pieces.iter())
        .map(|p| match p {
            Piece::Han { run, .. } => run.chars().count(),
            Piece::Latin(_) => 0,
        })
        .sum();
    // A question of many short words is still a short text: ranked as one. A pasted passage
    // is a bag of words, ranked by the word fields (the evidence model measured worse there:
    // LeCaRD nDCG@10 0.615–0.638 against 0.634, and slower).
    let chinese =
        if !builder.long || han_chars <= CHINESE_SHORT_CHARS { builder.chinese_ranking_plan(&analyzed) } else { None };
    // Without Chinese evidence (only interrogatives, say) the word clauses rank as before.
    builder.chinese_ranking = chinese.is_some();
    if !builder.any && builder.long {
        builder.any = true;
        notices.push(format!("long query ({words} words): matching any of them, best matches first"));
    }
    // Ranking by any term: stop words only add noise, unless they are all there is.
    let has_content_word =
        analyzed.iter().filter(|(negated, _)| !negated).flat_map(|(_, atoms)| atoms.iter().flatten()).any(|a| {
            a.pieces.iter().any(|p| match p {
                Piece::Latin(ws) => ws.iter().any(|w| !latin::is_stop_term(&w.text)),
                Piece::Han { .. } => true,
            })
        });
    builder.skip_stop_words = builder.any && has_content_word;
    let (mut positives, mut filters, mut negatives) = (Vec::new(), Vec::new(), Vec::new());
    for (negated, atoms) in &analyzed {
        let mut alternatives = Vec::new();
        for atom in atoms {
            match atom {
                Ok(text) => {
                    if !negated {
                        builder.remember(text);
                    }
                    alternatives.extend(builder.text_query(text));
                }
                Err(Atom::Dates { from, to }) => alternatives.push(Plan::Dates { from: *from, to: *to }),
                Err(Atom::Text { .. }) => unreachable!("text atoms are analyzed"),
            }
        }
        let Some(query) = Plan::combine(alternatives, Occur::Should) else { continue };
        if *negated {
            negatives.push(query);
        } else if atoms.iter().all(|a| a.is_err()) {
            filters.push(query);
        } else {
            positives.push(query);
        }
    }
    if positives.is_empty() && filters.is_empty() && negatives.is_empty() {
        // Only punctuation, say: a search for nothing, which finds nothing (and says why).
        notices.push(format!(
            "nothing searchable in {:?}: only words, numbers, Chinese, Japanese, Korean and symbols such as emoji are",
            request.text
        ));
        let (highlighter, any) = (builder.highlighter, builder.any);
        return Ok(Planned { plan: Plan::Nothing, highlighter, any, sole_ranking: None, long: false });
    }
    if request.since.is_some() || request.until.is_some() {
        filters.push(Plan::Dates { from: request.since, to: request.until });
    }
    let mut top: Vec<(Occur, Plan)> = Vec::new();
    if builder.any {
        // A pasted passage: one flat union of its words, a repeated word counting less than
        // its repeats, which tantivy searches for its top hits without scoring every match.
        let words = match builder.long {
            true if words > PASSAGE_WORDS => Plan::saturated_union(positives, QUERY_TERM_SATURATION)
                .map(|union| union.rare_words_capped(stats, PASSAGE_RARITY_CAP))
                .transpose()?,
            true => Plan::saturated_union(positives, QUERY_TERM_SATURATION),
            false => Plan::combine(positives, Occur::Should),
        };
        // One required disjunction: with only SHOULD clauses beside a filter, tantivy would
        // treat the words as optional and return every document in the date range.
        top.extend(words.map(|q| (Occur::Must, q)));
    } else {
        top.extend(positives.into_iter().map(|q| (Occur::Must, q)));
    }
    // The Chinese ranking is the whole score when every positive clause is plain Chinese text
    // (matched by clauses scoring 0) and the rest only filters or excludes.
    let plain_chinese = |atom: &Result<TextAtom, &Atom>| match atom {
        Ok(text) => Builder::uses_grams(text.scope) && text.is_all_han(),
        Err(_) => true,
    };
    let sole = !request.explain
        && request.prune
        && analyzed.iter().filter(|(negated, _)| !negated).all(|(_, atoms)| {
            atoms.iter().all(plain_chinese) && (atoms.iter().all(|a| a.is_ok()) || atoms.iter().all(|a| a.is_err()))
        });
    let sole_ranking = chinese.as_ref().filter(|_| sole).cloned();
    top.extend(chinese.map(|q| (Occur::Should, Plan::Chinese(q))));
    top.extend(filters.into_iter().map(|q| (Occur::Must, q)));
    if top.is_empty() {
        top.push((Occur::Must, Plan::All));
    }
    top.extend(negatives.into_iter().map(|q| (Occur::MustNot, q)));
    let (highlighter, any) = (builder.highlighter, builder.any);
    // One required part is that part: a union of terms at the top is what tantivy's top-k
    // pruning (block-max WAND) takes, and a union inside a required clause is not.
    let plan = match <[_; 1]>::try_from(top) {
        Ok([(Occur::Must, only)]) => only,
        Ok(one) => Plan::Bool(one.into()),
        Err(top) => Plan::Bool(top),
    };
    Ok(Planned { plan, highlighter, any, sole_ranking, long: builder.long })
}

/// Something to search: a local [`Index`] or, with the `cluster` feature, a cluster index. The
/// CLI, `serve` and evaluation work through this, so each runs on either backend.
pub trait Searchable: Send + Sync {
    /// Runs a search.
    fn search(&self, request: &Query) -> Result<SearchResults>;

    /// What the index holds.
    fn stats(&self) -> Result<crate::index::Stats>;

    /// The document `id` with the matches of `query` marked, or `None` when no document has
    /// that id.
    fn marked_document(&self, id: &str, query: &Query) -> Result<Option<MarkedDocument>>;

    /// Makes changes committed by other handles or processes visible. A cluster sees them at
    /// its own refresh, so by default this does nothing.
    fn reload(&self) -> Result<()> {
        Ok(())
    }

    /// A fresh handle when the index was rebuilt with another analysis (a user dictionary)
    /// since this one was opened; `None` while this one still segments queries as the
    /// documents were.
    fn reopened(&self) -> Result<Option<Box<dyn Searchable>>> {
        Ok(None)
    }
}

impl Searchable for Index {
    fn search(&self, request: &Query) -> Result<SearchResults> {
        Index::search(self, request)
    }

    fn stats(&self) -> Result<crate::index::Stats> {
        Index::stats(self)
    }

    fn marked_document(&self, id: &str, query: &Query) -> Result<Option<MarkedDocument>> {
        Index::marked_document(self, id, query)
    }

    fn reload(&self) -> Result<()> {
        Index::reload(self)
    }

    fn reopened(&self) -> Result<Option<Box<dyn Searchable>>> {
        Ok(self.reopen_if_rebuilt()?.map(|index| Box::new(index) as Box<dyn Searchable>))
    }
}

impl<T: Searchable + ?Sized> Searchable for Box<T> {
    fn search(&self, request: &Query) -> Result<SearchResults> {
        (**self).search(request)
    }

    fn stats(&self) -> Result<crate::index::Stats> {
        (**self).stats()
    }

    fn marked_document(&self, id: &str, query: &Query) -> Result<Option<MarkedDocument>> {
        (**self).marked_document(id, query)
    }

    fn reload(&self) -> Result<()> {
        (**self).reload()
    }

    fn reopened(&self) -> Result<Option<Box<dyn Searchable>>> {
        (**self).reopened()
    }
}

/// A stored document with a query's matches marked in its title and texts: what a reader
/// sees on opening a hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkedDocument {
    /// The document.
    #[serde(flatten)]
    pub document: Document,
    /// The query's matches, as character ranges `[start, end)` into each field.
    pub highlights: FieldHighlights,
}

impl MarkedDocument {
    /// `document` with the matches of `query` marked, as planned with `stats` (either backend's).
    pub(crate) fn of(
        document: Document,
        segmenter: &crate::analysis::Segmenter,
        stats: &dyn Statistics,
        query: &Query,
    ) -> Result<MarkedDocument> {
        if query.text.trim().is_empty() {
            return Ok(MarkedDocument { document, highlights: FieldHighlights::default() });
        }
        let highlighter = plan_query(segmenter, stats, query, &mut Vec::new())?.highlighter;
        let marks = |text: &str| char_ranges(text, &highlighter.find(text));
        let highlights =
            FieldHighlights { title: marks(&document.title), zh: marks(&document.zh), en: marks(&document.en) };
        Ok(MarkedDocument { document, highlights })
    }
}

/// Character ranges `[start, end)` of matches, by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldHighlights {
    /// In the title.
    pub title: Vec<[usize; 2]>,
    /// In the Chinese text.
    pub zh: Vec<[usize; 2]>,
    /// In the English text.
    pub en: Vec<[usize; 2]>,
}

impl Index {
    /// The document `id` with the matches of `query` marked in its whole title and texts
    /// (hits carry only snippets), or `None` when no document has that id.
    pub fn marked_document(&self, id: &str, query: &Query) -> Result<Option<MarkedDocument>> {
        let Some(document) = self.document(id)? else { return Ok(None) };
        MarkedDocument::of(document, &self.segmenter, self, query).map(Some)
    }

    /// Runs a search.
    pub fn search(&self, request: &Query) -> Result<SearchResults> {
        let started = Instant::now();
        let mut notices = Vec::new();
        let Planned { plan, highlighter, any, sole_ranking, long } =
            plan_query(&self.segmenter, self, request, &mut notices)?;
        let translator = local::Translator { index: self, explain: request.explain };
        let query = translator.query(&plan);
        let sure = local::sure_matches(&plan, self).map(|sure| translator.query(&sure));
        let searcher = self.reader.searcher();
        // No page holds more hits than there are documents: a huge --limit or --offset must
        // not size a heap by what the user typed.
        let documents = usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX);
        let limit = request.limit.min(documents.saturating_sub(request.offset));
        let mut total_is_lower_bound = false;
        let (scored, total): (Vec<(f32, DocAddress)>, usize) = match (limit, request.sort, sole_ranking) {
            (0, _, _) => (Vec::new(), searcher.search(&query, &Count)?),
            (_, SortBy::Relevance, Some(ranking)) => {
                // Top hits without scoring every match (see `collect`).
                let k = limit + request.offset;
                let ranking = translator.chinese(&ranking);
                let pruned = chinese::TopChinese { inner: query.box_clone(), ranking, k };
                let search = collect::Search { query: query.as_ref(), pruned: &pruned, sure: sure.as_deref() };
                let page = collect::page(&searcher, &search, limit, request.offset, request.count_limit)?;
                total_is_lower_bound = page.total_is_lower_bound;
                (page.hits, page.total)
            }
            // A long query's union of many terms: tantivy's union scores every match faster
            // than its block-max WAND skips any (a 147-word passage at 3.9 million documents:
            // 30 ms in full against 300 ms pruned), and the count comes with it.
            (_, SortBy::Relevance, None) if !request.prune || long => {
                let top = TopDocs::with_limit(limit).and_offset(request.offset);
                searcher.search(&query, &(top.order_by_score(), Count))?
            }
            (_, SortBy::Relevance, None) => {
                // tantivy's pruning (block-max WAND) where there are many matches (see `collect`).
                let search = collect::Search { query: query.as_ref(), pruned: query.as_ref(), sure: sure.as_deref() };
                let page = collect::page(&searcher, &search, limit, request.offset, request.count_limit)?;
                total_is_lower_bound = page.total_is_lower_bound;
                (page.hits, page.total)
            }
            (_, SortBy::Date, _) => {
                let top = TopDocs::with_limit(limit).and_offset(request.offset);
                let by_date = top.order_by_fast_field::<i64>("date", Order::Desc);
                let (hits, total) = searcher.search(&query, &(by_date, Count))?;
                (hits.into_iter().map(|(_, addr)| (0.0, addr)).collect(), total)
            }
        };
        let mut hits = Vec::with_capacity(scored.len());
        for (i, (score, addr)) in scored.into_iter().enumerate() {
            let stored: TantivyDocument = searcher.doc(addr)?;
            let explanation = if request.explain {
                let tree: serde_json::Value =
                    serde_json::from_str(&query.explain(&searcher, addr)?.to_pretty_json()).unwrap_or_default();
                Some(explain::matched_parts(&tree))
            } else {
                None
            };
            let rank = request.offset + i + 1;
            hits.push(Hit::of(self.stored(&stored), rank, score, &highlighter, request, explanation));
        }
        let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(SearchResults { total, total_is_lower_bound, hits, any, notices, elapsed_ms })
    }
}

mod chinese;
mod collect;
pub(crate) use chinese::CellCache;
#[cfg(feature = "cluster")]
pub(crate) use chinese::quantized;
mod exclusion;
mod explain;
mod local;
mod matching;
pub(crate) mod plan;
pub(crate) mod verify;

#[cfg(test)]
mod tests;

pub use explain::MatchedPart;
