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
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
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

/// Replaces `out` with the term of token `raw`: lowercased, then stemmed when it has letters.
pub fn term_into(raw: &str, out: &mut String) {
    out.clear();
    push_lowercase(raw, out);
    // Snowball's English stemmer leaves words of one or two letters as they are.
    let has_letters = out.bytes().any(|b| b.is_ascii_alphabetic()) || !out.is_ascii();
    if !has_letters || out.len() <= 2 {
        return;
    }
    stem_cache::stem_into(out);
}

/// A per-thread cache of stems: English vocabularies are small and repetitive, and a lookup
/// costs a fraction of running the Snowball stemmer.
///
/// Direct-mapped, small enough to stay in the CPU's cache, and storing a stem as "the first
/// `keep` bytes of the word plus a short ASCII suffix" (happy → happ + i), so a hit is one hash,
/// one fixed-size comparison and a truncation. (A `HashMap<Box<str>, Box<str>>` cost ~12 % of
/// indexing English text, mostly in following and comparing the boxed keys.)
mod stem_cache {
    use std::hash::BuildHasher;

    /// Longest word (in bytes) whose stem is cached; longer words are stemmed every time.
    const WORD_BYTES: usize = 16;
    /// Longest cached stem suffix (Snowball English adds at most an `e` or turns `y` into `i`).
    const SUFFIX_BYTES: usize = 3;
    const SLOTS: usize = 1 << 13;

    #[derive(Clone, Copy)]
    struct Slot {
        word: [u8; WORD_BYTES],
        /// 0 for an empty slot (no cached word is empty).
        word_len: u8,
        /// The stem is `word[..keep]` followed by `suffix[..suffix_len]`.
        keep: u8,
        suffix: [u8; SUFFIX_BYTES],
        suffix_len: u8,
    }

    const EMPTY: Slot = Slot { word: [0; WORD_BYTES], word_len: 0, keep: 0, suffix: [0; SUFFIX_BYTES], suffix_len: 0 };

    thread_local! {
        static SLOTS_OF_THREAD: std::cell::RefCell<Vec<Slot>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// The slot for `stem` of `word`, or `None` when it cannot be stored in one.
    fn slot_for(key: [u8; WORD_BYTES], word: &str, stem: &str) -> Option<Slot> {
        let common = word.bytes().zip(stem.bytes()).take_while(|(a, b)| a == b).count();
        let keep = (0..=common).rev().find(|&k| stem.is_char_boundary(k))?;
        let suffix = &stem.as_bytes()[keep..];
        if suffix.len() > SUFFIX_BYTES || !suffix.is_ascii() {
            return None;
        }
        let mut slot = Slot { word: key, word_len: word.len() as u8, keep: keep as u8, ..EMPTY };
        slot.suffix[..suffix.len()].copy_from_slice(suffix);
        slot.suffix_len = suffix.len() as u8;
        Some(slot)
    }

    /// Replaces the lowercase word in `word` with its stem.
    pub(super) fn stem_into(word: &mut String) {
        if word.len() > WORD_BYTES {
            *word = super::STEMMER.stem(word).into_owned();
            return;
        }
        let mut key = [0u8; WORD_BYTES];
        key[..word.len()].copy_from_slice(word.as_bytes());
        let index = (rustc_hash::FxBuildHasher.hash_one(key) as usize) & (SLOTS - 1);
        SLOTS_OF_THREAD.with_borrow_mut(|slots| {
            if slots.is_empty() {
                slots.resize(SLOTS, EMPTY);
            }
            let slot = &mut slots[index];
            if usize::from(slot.word_len) != word.len() || slot.word != key {
                let stem = super::STEMMER.stem(word).into_owned();
                match slot_for(key, word, &stem) {
                    Some(filled) => *slot = filled,
                    None => {
                        *word = stem;
                        return;
                    }
                }
            }
            word.truncate(usize::from(slot.keep));
            word.extend(slot.suffix[..usize::from(slot.suffix_len)].iter().map(|&b| char::from(b)));
        });
    }
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
        // ASCII separators without decoding.
        if !bytes[i].is_ascii_alphanumeric() && bytes[i].is_ascii() {
            i += 1;
            continue;
        }
        let (c, len) = super::script::char_at(text, i);
        if !is_alphanumeric(c) {
            i += len;
            continue;
        }
        let start = i;
        let class = script_class(c);
        i += len;
        while i < bytes.len() {
            if bytes[i].is_ascii_alphanumeric() && class == ScriptClass::Other {
                i += 1;
                continue;
            }
            let (c, len) = super::script::char_at(text, i);
            // A change of script ends a token: 日本語とEnglish is と and english.
            if !is_alphanumeric(c) || script_class(c) != class {
                break;
            }
            i += len;
        }
        emit((i - start < MAX_TOKEN_BYTES).then_some((start, i)));
    }
}

/// Scripts whose letters never share a token with another script's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScriptClass {
    Kana,
    Hangul,
    Other,
}

#[inline]
fn script_class(c: char) -> ScriptClass {
    if c.is_ascii() {
        ScriptClass::Other
    } else if super::script::is_kana(c) {
        ScriptClass::Kana
    } else if super::script::is_hangul(c) {
        ScriptClass::Hangul
    } else {
        ScriptClass::Other
    }
}

/// `char::is_alphanumeric`, answering the common cases without Unicode table lookups: ASCII,
/// and the punctuation between Chinese text (，。、「」…), which comes in runs of its own.
#[inline]
fn is_alphanumeric(c: char) -> bool {
    match c as u32 {
        0..=0x7F => c.is_ascii_alphanumeric(),
        // General punctuation; CJK symbols and punctuation except 々〆〇 and the like;
        // full-width punctuation (the letters and digits were folded to ASCII before).
        0x2010..=0x2027 | 0x2030..=0x205E | 0x3000..=0x3004 | 0x3008..=0x3020 | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 => {
            false
        }
        _ => c.is_alphanumeric(),
    }
}

/// Byte ranges (relative to `raw`) of the letter/digit parts of a token; empty when it is all
/// letters or all digits.
pub fn compound_parts(raw: &str, mut emit: impl FnMut(usize, usize)) -> usize {
    if raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        // A plain word, the common case.
        return 0;
    }
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
    fn quick_alphanumeric_agrees_with_the_standard_library() {
        for c in (0..=0x3_0000u32).filter_map(char::from_u32) {
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{c:?} U+{:04X}", c as u32);
        }
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
    fn words_of_two_letters_or_less_are_their_own_stems() {
        let letters: Vec<String> = ('a'..='z').map(String::from).collect();
        for a in &letters {
            assert_eq!(STEMMER.stem(a), a.as_str());
            for b in &letters {
                let word = format!("{a}{b}");
                assert_eq!(STEMMER.stem(&word), word.as_str());
            }
        }
    }

    #[test]
    fn cached_stems_match_the_stemmer() {
        // Twice, so the second round reads the cache; long words bypass it.
        let words = [
            "running",
            "entities",
            "happy",
            "agreed",
            "vaccinated",
            "école",
            "écoles",
            "internationalizations",
            "news",
        ];
        let long = "supercalifragilisticexpialidocious".to_string();
        for _ in 0..2 {
            for w in words.iter().map(|w| w.to_string()).chain([long.clone()]) {
                let mut cached = w.clone();
                stem_cache::stem_into(&mut cached);
                assert_eq!(cached, STEMMER.stem(&w), "{w}");
            }
        }
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
