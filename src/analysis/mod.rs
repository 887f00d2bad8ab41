//! Analysis: turns text into the terms of the word fields and of the character recall field,
//! and registers both analyzers on a tantivy index (in `register`, the only place).
//!
//! Pipeline per text: normalize (width, Traditional → Simplified) → split into script runs →
//! Han runs go to jieba, other runs to the Latin tokenizer. Offsets always point into the
//! original text; positions count words, so phrase queries see the same sequence at index and
//! query time.

pub mod chinese;
pub mod latin;
pub mod normalize;
mod pairs;
pub mod script;

pub(crate) use pairs::covering_pairs;

use serde::Serialize;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

pub use chinese::Segmenter;

/// Bumped whenever analysis output changes: an index built by another version is refused.
pub const ANALYZER_VERSION: u32 = 10;

/// Name of the word analyzer (title, source, en fields).
pub(crate) const WORDS: &str = "sou_words";
/// Name of the Chinese text field's analyzer: the words without one-character function words.
pub(crate) const ZH_WORDS: &str = "sou_zh_words";
/// Name of the analyzer of the Latin words of Chinese text (the latin field): the word
/// analyzer's Latin tokens, each Han run between them a gap, so no phrase runs across it.
pub(crate) const LATIN: &str = "sou_latin";
/// Name of the character recall analyzer (the gram field).
pub(crate) const GRAMS: &str = "sou_grams";
/// Name of the pair analyzer: adjacent characters of the character field (see [`pairs`]), for
/// indexes made with the pair field.
pub(crate) const PAIRS: &str = "sou_pairs";

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A word: a jieba word of a Han run, or a Latin token (or a part of a compound).
    Word,
    /// A one-character function word (的, 了, 在…). The zh field leaves it out: the character
    /// field has every character already, and such a query word is looked up there. The
    /// title, source and en fields keep it.
    FunctionWord,
    /// The whole of a letter–digit compound (iphone15), at its first part's position.
    Compound,
    /// A Han character in the recall field.
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

/// A token borrowed from the analyzer's buffers; see [`AnalyzedToken`] for an owned one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRef<'a> {
    /// The term.
    pub text: &'a str,
    /// Byte offset in the original text.
    pub start: usize,
    /// End byte offset in the original text.
    pub end: usize,
    /// Position within the field value.
    pub position: usize,
    /// What the token is.
    pub kind: TokenKind,
}

impl TokenRef<'_> {
    /// An owned copy.
    pub fn to_owned(&self) -> AnalyzedToken {
        AnalyzedToken {
            text: self.text.to_string(),
            start: self.start,
            end: self.end,
            position: self.position,
            kind: self.kind,
        }
    }
}

/// Produces the word-field tokens of `text`.
///
/// Index and query time use the same words: no search-mode sub-words, which matched query words
/// inside longer words and cost ranking quality (LeCaRD nDCG@10 0.620 with, 0.627 without);
/// pieces of longer words are found through the character recall field instead.
pub fn word_tokens(text: &str, segmenter: &Segmenter, mut emit: impl FnMut(TokenRef<'_>)) {
    let norm = normalize::normalize_recent(text);
    let mut state = WordState::default();
    let mut next = 0;
    while let Some(piece) = next_piece(&norm.text, next) {
        next = piece.end;
        piece_tokens(&norm, piece, segmenter, &mut state, &mut emit);
    }
}

/// Non-Han runs longer than this are cut at the next separator into pieces tokenized one at a
/// time, so a long English text never needs all its tokens in memory at once.
const LATIN_PIECE_BYTES: usize = 4096;

/// The next piece of normalized `text` from byte `start`: a Han run, or a non-Han run or part
/// of one ending where no token spans the cut.
fn next_piece(text: &str, start: usize) -> Option<script::Run> {
    let mut run = script::run_at(text, start)?;
    if !run.han && run.end - run.start > LATIN_PIECE_BYTES {
        let bytes = text.as_bytes();
        // Cut after an ASCII separator: tokens are made of letters and digits only.
        if let Some(cut) =
            (run.start + LATIN_PIECE_BYTES..run.end).find(|&i| bytes[i].is_ascii() && !bytes[i].is_ascii_alphanumeric())
        {
            run.end = cut + 1;
        }
    }
    Some(run)
}

/// What word tokenization carries from one piece of a text to the next.
#[derive(Default)]
struct WordState {
    position: usize,
    /// Scratch for a Latin token's term.
    lower: String,
}

/// The word tokens of one piece of a normalized text (see [`next_piece`]).
fn piece_tokens(
    norm: &normalize::Normalized<'_>,
    run: script::Run,
    segmenter: &Segmenter,
    state: &mut WordState,
    emit: &mut impl FnMut(TokenRef<'_>),
) {
    let normalized: &str = &norm.text;
    let orig = |offset: usize| norm.original_offset(offset);
    let piece = &normalized[run.start..run.end];
    let WordState { position, lower } = state;
    if run.han {
        segmenter.words(piece, |s, e| {
            let word = &piece[s..e];
            let (start, end) = (run.start + s, run.start + e);
            let kind = if is_function_word(word) { TokenKind::FunctionWord } else { TokenKind::Word };
            emit(TokenRef { text: word, start: orig(start), end: orig(end), position: *position, kind });
            *position += 1;
        });
        return;
    }
    latin::token_ranges(piece, |range| {
        let Some((s, e)) = range else {
            *position += 1;
            return;
        };
        let raw = &piece[s..e];
        let (start, end) = (orig(run.start + s), orig(run.start + e));
        latin::term_into(raw, lower);
        let mut parts = 0;
        latin::compound_parts(raw, |ps, pe| {
            if parts == 0 {
                // The whole compound first, at the first part's position.
                let kind = TokenKind::Compound;
                emit(TokenRef { text: lower, start, end, position: *position, kind });
            }
            let part = latin::term(&raw[ps..pe]);
            let (ps, pe) = (orig(run.start + s + ps), orig(run.start + s + pe));
            emit(TokenRef { text: &part, start: ps, end: pe, position: *position + parts, kind: TokenKind::Word });
            parts += 1;
        });
        if parts == 0 {
            emit(TokenRef { text: lower, start, end, position: *position, kind: TokenKind::Word });
        }
        *position += parts.max(1);
    });
}

/// One-character function words: particles, prepositions, conjunctions, pronouns, adverbs of
/// degree and negation. Together they are about a fifth of the words of Chinese prose, and
/// their weight in a ranking is next to nothing, so the zh field leaves them to the character
/// field (which has every character anyway): indexing gets cheaper by that many postings.
/// One-character content words (罪, 车, 药) stay: as whole words they rank better than as
/// characters, which also occur inside longer words (LeCaRD nDCG@10: 0.6375 with no word
/// moved to the character field, 0.6351 with these, 0.6226 with every one-character word).
/// Sorted, for binary search.
const FUNCTION_WORDS: [char; 58] = [
    '上', '不', '与', '且', '个', '中', '为', '之', '也', '了', '于', '从', '他', '以', '们', '但', '其', '到', '又',
    '及', '向', '吗', '吧', '呢', '和', '啊', '在', '地', '她', '它', '对', '将', '就', '已', '并', '很', '得', '我',
    '或', '所', '把', '是', '某', '此', '没', '由', '的', '着', '等', '给', '而', '被', '该', '过', '还', '这', '那',
    '都',
];

/// Whether `word` is a one-character function word that the zh field leaves to the character
/// field: the 58 most common one-character particles, prepositions, pronouns and adverbs.
pub fn is_function_word(word: &str) -> bool {
    // All of them are three bytes long in UTF-8: most words are ruled out without decoding.
    if word.len() != 3 {
        return false;
    }
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => FUNCTION_WORDS.binary_search(&c).is_ok(),
        _ => false,
    }
}

/// Produces the recall-field tokens of `text`: every Han character, normalized, and every kana,
/// Hangul and symbol character (see [`script::is_gram_extra`]), each at its own position. Positions count Han characters, with a gap between runs so no phrase spans two
/// runs; a phrase of characters then matches exactly where the string occurs.
///
/// Characters rather than overlapping bigrams: the same number of tokens, but a vocabulary of a
/// few thousand terms instead of a million keeps tantivy's in-memory term table in cache, which
/// measured 2.9 s instead of 4.7 s for 30 MB of LeCaRD on one thread (no recall field: 1.9 s).
pub fn gram_tokens(text: &str, mut emit: impl FnMut(TokenRef<'_>)) {
    let mut stream = GramStream::new(text);
    while stream.advance() {
        let t = &stream.token;
        emit(TokenRef {
            text: &t.text,
            start: t.offset_from,
            end: t.offset_to,
            position: t.position,
            kind: TokenKind::Gram,
        });
    }
}

/// The recall-field tokens of a text, one at a time: one reused token instead of a buffer of
/// them, as there are as many tokens as Han characters.
struct GramStream<'a> {
    norm: normalize::Normalized<'a>,
    /// Byte offset in the normalized text of the next character to look at.
    next: usize,
    /// Position of the next Han character.
    position: usize,
    /// Whether the last character looked at was Han (a non-Han one after it leaves a gap).
    in_run: bool,
    token: Token,
    /// The text as given, when normalization changed it.
    original: Option<&'a str>,
    /// A second token for the last character's position (see `advance`).
    variant: Option<char>,
    /// Second readings still to give (see [`normalize::readings_from`]), `(position, reading)`,
    /// the next one last.
    readings: Vec<(usize, char)>,
}

impl<'a> GramStream<'a> {
    fn new(text: &'a str) -> Self {
        let norm = normalize::normalize_recent(text);
        let original = matches!(norm.text, std::borrow::Cow::Owned(_)).then_some(text);
        GramStream {
            norm,
            next: 0,
            position: 0,
            in_run: false,
            token: Token::default(),
            original,
            variant: None,
            readings: Vec::new(),
        }
    }

    /// Adds the second readings that start at `c`, the first character of `rest`, given at
    /// `position`, to those still to give (`readings`).
    fn note_readings_from(readings: &mut Vec<(usize, char)>, position: usize, c: char, rest: &str) {
        normalize::readings_from(c, rest, |j, reading| readings.push((position + j, reading)));
        // Given in order of position, then character, each once: the next one last.
        readings.sort_unstable_by(|a, b| b.cmp(a));
        readings.dedup();
    }

    /// The original character at normalized byte `start` converted on its own, when that
    /// differs from what phrase conversion made of it (畫 in 計畫 → 计划 is 画 alone).
    fn variant_at(&self, start: usize, converted: &str) -> Option<char> {
        let original = self.original?;
        let (c, _) = script::char_at(original, self.norm.original_offset(start));
        let alone = normalize::simplified_char(c);
        // Compared as characters: `starts_with` on a char compares its UTF-8 bytes through a
        // `memcmp` call, which for every character of a Traditional text was ~3 % of indexing
        // poems (perf).
        (script::char_at(converted, 0).0 != alone).then_some(alone)
    }
}

impl TokenStream for GramStream<'_> {
    fn advance(&mut self) -> bool {
        // A character that phrase conversion and character conversion turn into different
        // characters gets both at its position, so a query for a piece of the phrase, which is
        // converted on its own, still finds it (畫 finds 計畫, indexed as 计划 and 计画).
        if let Some(c) = self.variant.take() {
            self.token.text.clear();
            self.token.text.push(c);
            return true;
        }
        // A shared character's second reading (关於 also as 关于), at the same position.
        let last = self.position.wrapping_sub(1);
        if self.readings.last().is_some_and(|&(p, _)| p == last) {
            let (_, c) = self.readings.pop().expect("checked");
            self.token.text.clear();
            self.token.text.push(c);
            return true;
        }
        let text: &str = &self.norm.text;
        while self.next < text.len() {
            let start = self.next;
            let len = script::gram_len_at(text, start);
            if len == 0 {
                let (c, c_len) = script::char_at(text, start);
                if script::is_gram_transparent(c) {
                    self.next += c_len;
                    continue;
                }
                if self.in_run {
                    self.position += 1;
                    self.in_run = false;
                }
                self.next = script::skip_non_gram_bytes(text.as_bytes(), start + c_len);
                continue;
            }
            let (c, _) = script::char_at(text, start);
            if normalize::is_reading_trigger(c) {
                Self::note_readings_from(&mut self.readings, self.position, c, &text[start..]);
            }
            self.next += len;
            self.variant = self.variant_at(start, &text[start..start + len]);
            let t = &mut self.token;
            t.text.clear();
            t.text.push_str(&text[start..start + len]);
            t.offset_from = self.norm.original_offset(start);
            t.offset_to = self.norm.original_offset(start + len);
            t.position = self.position;
            t.position_length = 1;
            self.position += 1;
            self.in_run = true;
            return true;
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Every token that indexing `text` produces, word field then recall field, for debugging
/// relevance (`sou analyze`).
pub fn analyze(text: &str, segmenter: &Segmenter) -> Vec<AnalyzedToken> {
    let mut tokens = Vec::new();
    word_tokens(text, segmenter, |t| tokens.push(t.to_owned()));
    gram_tokens(text, |t| tokens.push(t.to_owned()));
    tokens
}

/// Registers sou's analyzers on `index`. Tantivy stores only analyzer names, so this must run
/// on every create and open, before any indexing or querying.
pub(crate) fn register(index: &tantivy::Index, segmenter: &Segmenter) {
    for name in [WORDS, ZH_WORDS, LATIN, GRAMS, PAIRS] {
        index.tokenizers().register(name, analyzer(name, segmenter));
    }
}

/// The analyzer registered under `name` (one of [`WORDS`], [`ZH_WORDS`], [`LATIN`], [`GRAMS`], [`PAIRS`]); also what
/// a cluster index's fields are analyzed with before they are sent.
pub(crate) fn analyzer(name: &str, segmenter: &Segmenter) -> TextAnalyzer {
    let words = |function_words, latin_only| WordTokenizer {
        segmenter: segmenter.clone(),
        buffer: TokenBuffer::default(),
        function_words,
        latin_only,
    };
    match name {
        WORDS => TextAnalyzer::builder(words(true, false)).build(),
        ZH_WORDS => TextAnalyzer::builder(words(false, false)).build(),
        LATIN => TextAnalyzer::builder(words(false, true)).build(),
        GRAMS => TextAnalyzer::builder(GramTokenizer).build(),
        PAIRS => TextAnalyzer::builder(pairs::PairTokenizer::default()).build(),
        other => unreachable!("no analyzer named {other}"),
    }
}

/// Token storage reused across texts: strings are overwritten in place, not reallocated.
#[derive(Clone, Default)]
struct TokenBuffer {
    tokens: Vec<Token>,
    len: usize,
}

impl TokenBuffer {
    fn clear(&mut self) {
        self.len = 0;
    }

    fn push(&mut self, t: TokenRef<'_>) {
        if self.len == self.tokens.len() {
            self.tokens.push(Token::default());
        }
        let token = &mut self.tokens[self.len];
        token.text.clear();
        token.text.push_str(t.text);
        token.offset_from = t.start;
        token.offset_to = t.end;
        token.position = t.position;
        token.position_length = 1;
        self.len += 1;
    }
}

#[derive(Clone)]
struct WordTokenizer {
    segmenter: Segmenter,
    buffer: TokenBuffer,
    /// Whether one-character function words are kept (see [`TokenKind::FunctionWord`]).
    function_words: bool,
    /// Whether only Latin tokens are made, a Han run being a one-position gap ([`LATIN`]).
    latin_only: bool,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.buffer.clear();
        WordStream {
            norm: normalize::normalize_recent(text),
            tokenizer: self,
            next_piece: 0,
            state: WordState::default(),
            next: 0,
        }
    }
}

/// The word tokens of a text, a piece (a clause, a few KB of English) at a time: the buffer
/// stays small and in cache, however long the text.
struct WordStream<'a> {
    norm: normalize::Normalized<'a>,
    tokenizer: &'a mut WordTokenizer,
    /// Byte offset in the normalized text of the next piece to tokenize.
    next_piece: usize,
    state: WordState,
    /// Index in the buffer of the next token to hand out.
    next: usize,
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        while self.next >= self.tokenizer.buffer.len {
            let Some(piece) = next_piece(&self.norm.text, self.next_piece) else { return false };
            self.next_piece = piece.end;
            let WordTokenizer { segmenter, buffer, function_words, latin_only } = &mut *self.tokenizer;
            buffer.clear();
            self.next = 0;
            if *latin_only && piece.han {
                // The Chinese between two Latin stretches: a gap no phrase crosses.
                self.state.position += 1;
                continue;
            }
            piece_tokens(&self.norm, piece, segmenter, &mut self.state, &mut |t| {
                if *function_words || t.kind != TokenKind::FunctionWord {
                    buffer.push(t);
                }
            });
        }
        self.next += 1;
        true
    }
    fn token(&self) -> &Token {
        &self.tokenizer.buffer.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokenizer.buffer.tokens[self.next - 1]
    }
}

#[derive(Clone, Default)]
struct GramTokenizer;

impl Tokenizer for GramTokenizer {
    type TokenStream<'a> = GramStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> GramStream<'a> {
        GramStream::new(text)
    }
}

#[cfg(test)]
mod tests;
