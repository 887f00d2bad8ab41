//! Analysis: turns text into the terms of the word fields and of the character recall field,
//! and registers both analyzers on a tantivy index (in [`register`], the only place).
//!
//! Pipeline per text: normalize (width, Traditional → Simplified) → split into script runs →
//! Han runs go to jieba, other runs to the Latin tokenizer. Offsets always point into the
//! original text; positions count words, so phrase queries see the same sequence at index and
//! query time.

pub mod chinese;
pub mod latin;
pub mod normalize;
pub mod script;

use serde::Serialize;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

pub use chinese::Segmenter;

/// Bumped whenever analysis output changes: an index built by another version is refused.
pub const ANALYZER_VERSION: u32 = 1;

/// Name of the word analyzer (title, source, zh, en fields).
pub(crate) const WORDS: &str = "sou_words";
/// Name of the character recall analyzer (the gram field).
pub(crate) const GRAMS: &str = "sou_grams";

/// Marks the last character of a Han run in the gram field, so a one-character query can
/// find every occurrence as a prefix of some gram.
pub(crate) const RUN_END: char = '$';

/// Whether text is being indexed or queried: sub-words are indexed but never queried, so a
/// query word must match a whole indexed word or one of its dictionary parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Index-time analysis (adds sub-words).
    Index,
    /// Query-time analysis.
    Query,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A word: a jieba word of a Han run, or a Latin token (or a part of a compound).
    Word,
    /// A dictionary word inside a longer Chinese word, at the longer word's position.
    SubWord,
    /// The whole of a letter–digit compound (iphone15), at its first part's position.
    Compound,
    /// A character bigram (or a run's last character) in the recall field.
    Gram,
}

/// One token as indexing or querying sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalyzedToken {
    /// The term.
    pub text: String,
    /// Byte offset in the original text.
    pub start: usize,
    /// End byte offset in the original text.
    pub end: usize,
    /// Position within the field value.
    pub position: usize,
    /// What the token is.
    pub kind: TokenKind,
}

/// Produces the word-field tokens of `text`.
pub fn word_tokens(text: &str, segmenter: &Segmenter, mode: Mode, mut emit: impl FnMut(AnalyzedToken)) {
    let norm = normalize::normalize(text);
    let normalized: &str = &norm.text;
    let orig = |offset: usize| norm.original_offset(offset);
    let mut position = 0;
    for run in script::runs(normalized) {
        let piece = &normalized[run.start..run.end];
        if run.han {
            segmenter.words(piece, |s, e| {
                let word = &piece[s..e];
                let (start, end) = (run.start + s, run.start + e);
                emit(token(word, orig(start), orig(end), position, TokenKind::Word));
                if mode == Mode::Index {
                    segmenter.sub_words(word, |ss, se| {
                        let (start, end) = (start + ss, start + se);
                        emit(token(&word[ss..se], orig(start), orig(end), position, TokenKind::SubWord));
                    });
                }
                position += 1;
            });
        } else {
            latin::words(piece, |word| {
                let Some(word) = word else {
                    position += 1;
                    return;
                };
                let (start, end) = (run.start + word.start, run.start + word.end);
                if word.parts.is_empty() {
                    emit(token(&word.text, orig(start), orig(end), position, TokenKind::Word));
                } else {
                    emit(token(&word.text, orig(start), orig(end), position, TokenKind::Compound));
                    for (i, (part, s, e)) in word.parts.iter().enumerate() {
                        let (s, e) = (run.start + s, run.start + e);
                        emit(token(part, orig(s), orig(e), position + i, TokenKind::Word));
                    }
                }
                position += word.width();
            });
        }
    }
}

fn token(text: &str, start: usize, end: usize, position: usize, kind: TokenKind) -> AnalyzedToken {
    AnalyzedToken { text: text.to_string(), start, end, position, kind }
}

/// Produces the recall-field tokens of `text`: overlapping character bigrams of every Han run,
/// plus the run's last character followed by [`RUN_END`]. Positions count Han characters, with
/// a gap between runs so no phrase spans two runs.
pub fn gram_tokens(text: &str, mut emit: impl FnMut(AnalyzedToken)) {
    let norm = normalize::normalize(text);
    let normalized: &str = &norm.text;
    let mut position = 0;
    for run in script::runs(normalized).filter(|r| r.han) {
        let piece = &normalized[run.start..run.end];
        let bounds: Vec<usize> = piece.char_indices().map(|(i, _)| i).chain([piece.len()]).collect();
        let chars = bounds.len() - 1;
        for i in 0..chars {
            let start = run.start + bounds[i];
            let (text, end) = if i + 1 < chars {
                (piece[bounds[i]..bounds[i + 2]].to_string(), run.start + bounds[i + 2])
            } else {
                let mut last = piece[bounds[i]..].to_string();
                last.push(RUN_END);
                (last, run.start + piece.len())
            };
            emit(AnalyzedToken {
                text,
                start: norm.original_offset(start),
                end: norm.original_offset(end),
                position: position + i,
                kind: TokenKind::Gram,
            });
        }
        position += chars + 1;
    }
}

/// Every token that indexing `text` produces, word field then recall field, for debugging
/// relevance (`sou analyze`).
pub fn analyze(text: &str, segmenter: &Segmenter, mode: Mode) -> Vec<AnalyzedToken> {
    let mut tokens = Vec::new();
    word_tokens(text, segmenter, mode, |t| tokens.push(t));
    gram_tokens(text, |t| tokens.push(t));
    tokens
}

/// Registers sou's analyzers on `index`. Tantivy stores only analyzer names, so this must run
/// on every create and open, before any indexing or querying.
pub(crate) fn register(index: &tantivy::Index, segmenter: &Segmenter) {
    let words = WordTokenizer { segmenter: segmenter.clone(), tokens: Vec::new() };
    index.tokenizers().register(WORDS, TextAnalyzer::builder(words).build());
    index.tokenizers().register(GRAMS, TextAnalyzer::builder(GramTokenizer::default()).build());
}

fn to_tantivy(t: AnalyzedToken) -> Token {
    Token { offset_from: t.start, offset_to: t.end, position: t.position, text: t.text, position_length: 1 }
}

#[derive(Clone)]
struct WordTokenizer {
    segmenter: Segmenter,
    tokens: Vec<Token>,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        self.tokens.clear();
        let tokens = &mut self.tokens;
        word_tokens(text, &self.segmenter, Mode::Index, |t| tokens.push(to_tantivy(t)));
        VecTokenStream { tokens, next: 0 }
    }
}

#[derive(Clone, Default)]
struct GramTokenizer {
    tokens: Vec<Token>,
}

impl Tokenizer for GramTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        self.tokens.clear();
        let tokens = &mut self.tokens;
        gram_tokens(text, |t| tokens.push(to_tantivy(t)));
        VecTokenStream { tokens, next: 0 }
    }
}

/// Streams tokens computed up front (jieba segments whole runs, not token by token).
struct VecTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests;
