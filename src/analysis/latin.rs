//! Tokens of non-Han text as tantivy's default analyzer makes them (split on non-alphanumerics,
//! drop tokens of 40 bytes or more, lowercase), then English Snowball stemming (vaccines and
//! vaccinated find vaccine), plus the parts of letter–digit compounds (iphone15 → iphone, 15)
//! so those are searchable by their parts.

use std::sync::LazyLock;

/// Tokens at least this long (in bytes) are dropped, like tantivy's `RemoveLongFilter`.
pub const MAX_TOKEN_BYTES: usize = 40;

static STEMMER: LazyLock<frostem::Stemmer> = LazyLock::new(|| frostem::Stemmer::new(frostem::Algorithm::English));

/// One word of non-Han text (an owned, convenient form for query and snippet code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatinWord {
    /// The term: lowercased and stemmed token text.
    pub text: String,
    /// Byte range in the text given to [`words`].
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// Letter/digit parts with their byte ranges, when the word mixes letters and digits.
    /// Empty for plain words. Parts take consecutive positions; the whole word shares the
    /// first part's position, so phrases over parts and lookups of the whole both work.
    pub parts: Vec<(String, usize, usize)>,
}

impl LatinWord {
    /// How many positions the word occupies.
    pub fn width(&self) -> usize {
        self.parts.len().max(1)
    }
}

/// Appends the lowercase form of `s` to `out`, like tantivy's `LowerCaser`.
pub fn push_lowercase(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// Lucene's English stop words: dropped from ranking (any-term) queries only, never from the
/// index, so phrases like "state of the art" still match exactly.
const STOP_WORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
];

static STOP_TERMS: LazyLock<std::collections::HashSet<String>> =
    LazyLock::new(|| STOP_WORDS.iter().map(|w| term(w)).collect());

/// Whether a term (as [`term`] makes it) is an English stop word.
pub fn is_stop_term(term: &str) -> bool {
    STOP_TERMS.contains(term)
}

/// Words whose stem is cached per thread before the cache starts over.
const STEM_CACHE_WORDS: usize = 1 << 16;

thread_local! {
    /// Lowercased word → stem. English vocabularies are small and repetitive, and a lookup costs
    /// a fraction of running the Snowball stemmer (~4 % of indexing the news mix).
    static STEMS: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, Box<str>>> = Default::default();
}

/// Replaces `out` with the term of token `raw`: lowercased, then stemmed when it has letters.
pub fn term_into(raw: &str, out: &mut String) {
    out.clear();
    push_lowercase(raw, out);
    let has_letters = out.bytes().any(|b| b.is_ascii_alphabetic()) || !out.is_ascii();
    if !has_letters {
        return;
    }
    STEMS.with_borrow_mut(|stems| {
        if let Some(stem) = stems.get(out.as_str()) {
            out.clear();
            out.push_str(stem);
            return;
        }
        let stem: Box<str> = STEMMER.stem(out).into();
        if stems.len() >= STEM_CACHE_WORDS {
            stems.clear();
        }
        stems.insert(out.as_str().into(), stem.clone());
        out.clear();
        out.push_str(&stem);
    });
}

/// The term of token `raw`.
pub fn term(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    term_into(raw, &mut out);
    out
}

/// Calls `emit(Some((start, end)))` for the byte range of every token of `text`, and
/// `emit(None)` for a token dropped as too long, which still takes a position (as in tantivy,
/// where positions are assigned before filters).
pub fn token_ranges(text: &str, mut emit: impl FnMut(Option<(usize, usize)>)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // ASCII fast path: most non-Han text is ASCII.
        let (c, len) = decode_at(text, i);
        if !c.is_alphanumeric() {
            i += len;
            continue;
        }
        let start = i;
        i += len;
        while i < bytes.len() {
            let (c, len) = decode_at(text, i);
            if !c.is_alphanumeric() {
                break;
            }
            i += len;
        }
        emit((i - start < MAX_TOKEN_BYTES).then_some((start, i)));
    }
}

#[inline]
fn decode_at(text: &str, i: usize) -> (char, usize) {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        (b as char, 1)
    } else {
        let c = text[i..].chars().next().expect("char boundary");
        (c, c.len_utf8())
    }
}

/// Byte ranges (relative to `raw`) of the letter/digit parts of a token; empty when it is all
/// letters or all digits.
pub fn compound_parts(raw: &str, mut emit: impl FnMut(usize, usize)) -> usize {
    let has_digit = raw.chars().any(|c| c.is_numeric());
    if !has_digit || raw.chars().all(|c| c.is_numeric()) {
        return 0;
    }
    let mut count = 0;
    let mut part_start = 0;
    let mut prev_digit = None;
    for (i, c) in raw.char_indices() {
        let digit = c.is_numeric();
        if prev_digit.is_some_and(|p| p != digit) {
            emit(part_start, i);
            count += 1;
            part_start = i;
        }
        prev_digit = Some(digit);
    }
    emit(part_start, raw.len());
    count + 1
}

/// Calls `emit` for every token of `text` in owned form; `None` stands for a dropped token.
pub fn words(text: &str, mut emit: impl FnMut(Option<LatinWord>)) {
    token_ranges(text, |range| {
        emit(range.map(|(start, end)| {
            let raw = &text[start..end];
            let mut parts = Vec::new();
            compound_parts(raw, |s, e| parts.push((term(&raw[s..e]), start + s, start + e)));
            LatinWord { text: term(raw), start, end, parts }
        }))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        words(text, |w| out.push(w.map_or("<long>".to_string(), |w| w.text)));
        out
    }

    #[test]
    fn matches_tantivys_default_analyzer() {
        assert_eq!(texts("Hello, happy tax-payer!"), vec!["hello", "happi", "tax", "payer"]);
        assert_eq!(texts("ÉCOLE Straße"), vec!["école", "straße"]);
        let long = "a".repeat(40);
        assert_eq!(texts(&format!("x {long} y")), vec!["x", "<long>", "y"]);
        assert_eq!(texts(&"b".repeat(39)), vec!["b".repeat(39)]);
    }

    #[test]
    fn agrees_with_tantivy_on_mixed_text() {
        use tantivy::tokenizer::TextAnalyzer;
        let text = "Ünïcode café, NAÏVE 1,000 x86_64 don't — ½ Ⅻ ⑴ end";
        let mut analyzer = TextAnalyzer::from(tantivy::tokenizer::SimpleTokenizer::default());
        let mut expected = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            expected.push(term(&t.text));
        }
        assert_eq!(texts(text), expected);
    }

    #[test]
    fn stems_english() {
        assert_eq!(
            texts("Vaccines vaccinated vaccine running entities"),
            vec!["vaccin", "vaccin", "vaccin", "run", "entiti"]
        );
        assert_eq!(texts("2023 COVID"), vec!["2023", "covid"]);
    }

    #[test]
    fn stop_words_are_recognized_after_stemming() {
        for w in STOP_WORDS {
            assert!(is_stop_term(&term(w)), "{w}");
        }
        assert!(!is_stop_term(&term("fentanyl")));
    }

    #[test]
    fn splits_letter_digit_compounds() {
        let mut got = Vec::new();
        words("iPhone15 SK-II", |w| got.push(w.unwrap()));
        assert_eq!(got[0].text, "iphone15");
        assert_eq!(got[0].parts, vec![("iphon".to_string(), 0, 6), ("15".to_string(), 6, 8)]);
        assert_eq!(got[0].width(), 2);
        assert_eq!(got[1].text, "sk");
        assert!(got[1].parts.is_empty());
        assert_eq!(got[2].text, "ii");
    }
}
