//! Script detection: which characters are Han, and splitting text into Han / other runs.
//!
//! Like charabia, every later stage works on runs of one script, so Chinese text never reaches
//! the Latin tokenizer (which would keep a whole Han run as one token and drop it past 40 bytes).

/// True for CJK unified ideographs (all extensions) and the compatibility block.
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3007
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2EBEF
        | 0x30000..=0x3134F)
}

/// Kana (hiragana, katakana, their extensions and half-width forms).
pub fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F)
}

/// Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xD7B0..=0xD7FF)
}

/// Symbols people search for (emoji and pictographs, dingbats, arrows, shapes, letterlike and
/// currency signs), which no word tokenizer keeps: the character field holds them.
pub fn is_symbol(c: char) -> bool {
    matches!(c as u32,
        0x20A0..=0x20CF
        | 0x2100..=0x214F
        | 0x2190..=0x21FF
        | 0x2300..=0x23FF
        | 0x25A0..=0x27BF
        | 0x2B00..=0x2BFF
        | 0x1F000..=0x1FAFF)
}

/// Characters the character field holds besides Han: kana, Hangul and symbols. Like Han, kana
/// and Hangul are written without spaces between words (or with particles attached, 서울은),
/// so their pieces are found through single characters.
pub fn is_gram_extra(c: char) -> bool {
    is_kana(c) || is_hangul(c) || is_symbol(c)
}

/// Characters that neither count nor break a run of the character field: variation selectors
/// and the zero-width joiner inside emoji sequences (❤️, 👩‍💻).
pub fn is_gram_transparent(c: char) -> bool {
    matches!(c as u32, 0xFE00..=0xFE0F | 0x200D)
}

/// The length in bytes of the character at byte `i` if the character field holds it (Han or
/// [`is_gram_extra`]), else 0.
#[inline(always)]
pub(crate) fn gram_len_at(text: &str, i: usize) -> usize {
    let Some(&lead) = text.as_bytes().get(i) else { return 0 };
    if (0xE5..=0xE9).contains(&lead) {
        return 3;
    }
    // Everything the field holds starts with E1 (jamo) or a larger lead byte, or E2 (symbols).
    if lead < 0xE1 {
        return 0;
    }
    let (c, len) = char_at(text, i);
    if is_han(c) || is_gram_extra(c) { len } else { 0 }
}

/// One maximal run of Han or non-Han text, as a byte range of the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
    /// Whether the run is Han.
    pub han: bool,
}

/// Every Han character is encoded in UTF-8 with a lead byte of at least this value (U+3007 is
/// E3 80 87), so smaller bytes can be skipped without decoding when looking for Han text.
const FIRST_HAN_LEAD_BYTE: u8 = 0xE3;

/// The offset of the first byte at or after `i` that starts a character of three or four
/// bytes (the end if none): everything before it is ASCII or two-byte characters.
///
/// Eight bytes at a time, as English text and the ASCII parts of Chinese text are long.
#[inline]
pub(crate) fn next_wide_char(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // Bit 7 of each byte, set when the byte's top three bits are (a byte >= 0xE0).
        let wide = word & (word << 1) & (word << 2) & 0x8080_8080_8080_8080;
        if wide != 0 {
            return i + (wide.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b >= 0xE0).map_or(bytes.len(), |p| i + p)
}

/// The character starting at byte `i` of `text` and its length, decoding the common one- and
/// three-byte forms directly (this runs for every character of every text indexed).
#[inline(always)]
pub(crate) fn char_at(text: &str, i: usize) -> (char, usize) {
    let bytes = text.as_bytes();
    let lead = bytes[i];
    if lead < 0x80 {
        return (lead as char, 1);
    }
    if (0xE0..0xF0).contains(&lead) {
        // Valid UTF-8 of three bytes is never a surrogate, so this always succeeds.
        if let Some(c) = char::from_u32(three_byte_code(bytes, i)) {
            return (c, 3);
        }
    }
    char_at_slowly(text, i)
}

/// The code point of the three-byte UTF-8 character at byte `i` (lead byte E0–EF).
#[inline(always)]
pub(crate) fn three_byte_code(bytes: &[u8], i: usize) -> u32 {
    (u32::from(bytes[i] & 0x0F) << 12) | (u32::from(bytes[i + 1] & 0x3F) << 6) | u32::from(bytes[i + 2] & 0x3F)
}

#[cold]
fn char_at_slowly(text: &str, i: usize) -> (char, usize) {
    let c = text[i..].chars().next().expect("char boundary");
    (c, c.len_utf8())
}

/// Byte offset of the next character at or after `i` that could be Han (the end if none).
/// `i` must be a character boundary.
#[inline]
pub(crate) fn skip_non_han_bytes(bytes: &[u8], mut i: usize) -> usize {
    // Bytes below the first Han lead byte are ASCII, two-byte characters or their continuation
    // bytes: never the start of a Han character. `i` is a character boundary, and so is the
    // first lead byte found.
    loop {
        i = next_wide_char(bytes, i);
        if i >= bytes.len() || bytes[i] >= FIRST_HAN_LEAD_BYTE {
            return i;
        }
        // A three-byte character before the Han blocks (punctuation, symbols).
        i += 3;
    }
}

/// Byte offset of the next character at or after `i` that could be held by the character field
/// (see [`gram_len_at`]), the end if none. `i` must be a character boundary.
#[inline]
pub(crate) fn skip_non_gram_bytes(bytes: &[u8], mut i: usize) -> usize {
    loop {
        i = next_wide_char(bytes, i);
        if i >= bytes.len() || bytes[i] >= 0xE1 {
            return i;
        }
        // A three-byte character of U+0800–U+0FFF: no script the field holds.
        i += 3;
    }
}

/// Whether `text` has a character the character field holds (Han, kana, Hangul, a symbol).
pub fn has_gram_chars(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = skip_non_gram_bytes(bytes, 0);
    while i < bytes.len() {
        if gram_len_at(text, i) > 0 {
            return true;
        }
        i = skip_non_gram_bytes(bytes, i + char_at(text, i).1);
    }
    false
}

/// Whether `text` has a Han character.
pub fn has_han(text: &str) -> bool {
    runs(text).any(|run| run.han)
}

/// Splits `text` into alternating Han and non-Han runs covering it completely.
pub fn runs(text: &str) -> impl Iterator<Item = Run> + '_ {
    let mut next = 0;
    std::iter::from_fn(move || {
        let run = run_at(text, next)?;
        next = run.end;
        Some(run)
    })
}

/// The run that starts at byte `start` of `text` (a character boundary), `None` at the end.
pub fn run_at(text: &str, start: usize) -> Option<Run> {
    let bytes = text.as_bytes();
    if start >= bytes.len() {
        return None;
    }
    let first = han_len_at(text, start);
    let han = first > 0;
    let mut next = start + if han { first } else { char_at(text, start).1 };
    loop {
        if han {
            match han_len_at(text, next) {
                0 => break,
                len => next += len,
            }
        } else {
            next = skip_non_han_bytes(bytes, next);
            if next >= bytes.len() || han_len_at(text, next) > 0 {
                break;
            }
            next += char_at(text, next).1;
        }
    }
    Some(Run { start, end: next, han })
}

/// The length in bytes of the character at byte `i` of `text` (the end: 0) if it is Han,
/// else 0. Most Han characters (U+5000–U+9FFF) are known by their first byte alone.
#[inline(always)]
pub(crate) fn han_len_at(text: &str, i: usize) -> usize {
    let Some(&lead) = text.as_bytes().get(i) else { return 0 };
    if (0xE5..=0xE9).contains(&lead) {
        return 3;
    }
    if lead < FIRST_HAN_LEAD_BYTE {
        return 0;
    }
    let (c, len) = char_at(text, i);
    if is_han(c) { len } else { 0 }
}

/// Punctuation of Chinese text (、。「」《》，：) and general punctuation (— “ ” …): no letters, known
/// without Unicode's tables, which are slow for characters beyond ASCII.
fn is_common_punctuation(c: char) -> bool {
    matches!(c as u32, 0x2010..=0x2027 | 0x3000..=0x3004 | 0x3008..=0x3020 | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20)
}

/// Counts of the characters that decide which language a paragraph is in.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScriptCounts {
    /// Han characters.
    pub han: usize,
    /// Words made of non-Han letters (runs of alphabetic characters).
    pub latin_words: usize,
}

impl ScriptCounts {
    /// Counts Han characters and non-Han words in `text`.
    pub fn of(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut counts = ScriptCounts::default();
        let mut in_word = false;
        let mut i = 0;
        while i < bytes.len() {
            // ASCII and most Han characters (lead bytes E5–E9) are known without decoding; every
            // paragraph of every document is counted, to tell Chinese from English.
            let (han, letter, len) = match bytes[i] {
                lead if lead < 0x80 => (false, lead.is_ascii_alphabetic(), 1),
                0xE5..=0xE9 => (true, false, 3),
                _ => {
                    let (c, len) = char_at(text, i);
                    let han = is_han(c);
                    (han, !han && !is_common_punctuation(c) && c.is_alphabetic(), len)
                }
            };
            i += len;
            if han {
                counts.han += 1;
            } else if letter && !in_word {
                counts.latin_words += 1;
            }
            in_word = letter;
        }
        counts
    }

    /// A paragraph is Chinese when Han characters outnumber twice its foreign words: one
    /// Chinese character carries about half an English word, and an English sentence quoting
    /// a Chinese name stays English.
    pub fn is_chinese(&self) -> bool {
        self.han > 0 && self.han > 2 * self.latin_words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_punctuation_has_no_letters() {
        for code in (0x2010..=0x2027)
            .chain(0x3000..=0x3004)
            .chain(0x3008..=0x3020)
            .chain(0xFF01..=0xFF0F)
            .chain(0xFF1A..=0xFF20)
        {
            let c = char::from_u32(code).unwrap();
            assert!(is_common_punctuation(c) && !c.is_alphabetic() && !is_han(c), "U+{code:04X}");
        }
    }

    #[test]
    fn script_counts_count_han_characters_and_words_of_letters() {
        // The plain definition the counting loop must agree with.
        fn reference(text: &str) -> (usize, usize) {
            let (mut han, mut words, mut in_word) = (0, 0, false);
            for c in text.chars() {
                let letter = !is_han(c) && c.is_alphabetic();
                han += usize::from(is_han(c));
                words += usize::from(letter && !in_word);
                in_word = letter;
            }
            (han, words)
        }
        for text in [
            "",
            "美国商务部扩大实体清单，The list now covers dozens of firms.",
            "〇一二 々 〆 ひらがなカタカナ 서울 Ελληνικά café naïve",
            "「引号」《书名》——“双引号”……（括号）：；！？",
            "iPhone15与COVID-19 𠀀𠀁 😀★ ｆｕｌｌ ｗｉｄｔｈ",
        ] {
            let counts = ScriptCounts::of(text);
            assert_eq!((counts.han, counts.latin_words), reference(text), "{text}");
        }
    }

    fn run_texts(text: &str) -> Vec<(&str, bool)> {
        runs(text).map(|r| (&text[r.start..r.end], r.han)).collect()
    }

    #[test]
    fn the_character_field_holds_han_kana_hangul_and_symbols() {
        for (text, held) in [
            ("中", true),
            ("ひ", true),
            ("カ", true),
            ("서", true),
            ("😀", true),
            ("★", true),
            ("→", true),
            ("℃", true),
            ("a", false),
            ("，", false),
            ("“", false),
            ("é", false),
            ("\u{FE0F}", false),
        ] {
            assert_eq!(gram_len_at(text, 0) > 0, held, "{text}");
        }
    }

    #[test]
    fn splits_mixed_text_into_runs() {
        assert_eq!(
            run_texts("COVID-19疫苗 in 2023年"),
            vec![("COVID-19", false), ("疫苗", true), (" in 2023", false), ("年", true)]
        );
        assert_eq!(run_texts(""), vec![]);
        assert_eq!(run_texts("芬太尼"), vec![("芬太尼", true)]);
    }

    #[test]
    fn runs_cover_every_script_and_width() {
        let text = "aé中𠀀b、文\u{3007}x𝒳";
        let got = run_texts(text);
        assert_eq!(got, vec![("aé", false), ("中𠀀", true), ("b、", false), ("文\u{3007}", true), ("x𝒳", false)]);
        assert_eq!(got.iter().map(|r| r.0).collect::<String>(), text);
    }

    #[test]
    fn runs_agree_with_a_character_by_character_split() {
        let text = "ASCII only, é, ÿ, ĀĂ Ω 𝒳 、。「」ＡＢ１ 中文\u{3007}〇 𠀀𪜀 丽 a中b";
        let mut expected: Vec<(String, bool)> = Vec::new();
        for c in text.chars() {
            match expected.last_mut() {
                Some((run, han)) if *han == is_han(c) => run.push(c),
                _ => expected.push((c.to_string(), is_han(c))),
            }
        }
        let got: Vec<(String, bool)> = run_texts(text).into_iter().map(|(t, h)| (t.to_string(), h)).collect();
        assert_eq!(got, expected);
        assert!(has_han("abc 中"));
        assert!(!has_han("abc、ＡＢ"));
    }

    #[test]
    fn finds_the_next_wide_character_at_any_offset() {
        let text = "ascii only, é and ÿ twice é ÿ, then 中 and more ascii text 〇 end 𠀀";
        let bytes = text.as_bytes();
        for start in (0..=bytes.len()).filter(|&i| text.is_char_boundary(i)) {
            let expected = bytes[start..].iter().position(|&b| b >= 0xE0).map_or(bytes.len(), |p| start + p);
            assert_eq!(next_wide_char(bytes, start), expected, "from {start}");
            let han = text[start..].char_indices().find(|(_, c)| c.len_utf8() >= 3 && (*c as u32) >= 0x3000);
            let skipped = skip_non_han_bytes(bytes, start);
            assert!(han.is_none_or(|(p, _)| skipped <= start + p), "from {start}");
            assert!(text[start..skipped].chars().all(|c| !is_han(c)), "from {start}");
        }
    }

    #[test]
    fn han_length_agrees_with_is_han() {
        for c in (0x80..0x3_2000u32).filter_map(char::from_u32) {
            let text = c.to_string();
            let expected = if is_han(c) { c.len_utf8() } else { 0 };
            assert_eq!(han_len_at(&text, 0), expected, "U+{:04X}", c as u32);
        }
        assert_eq!(han_len_at("a", 1), 0);
    }

    #[test]
    fn decodes_characters_of_every_length() {
        let text = "aé中𠀀";
        let got: Vec<(char, usize)> = text.char_indices().map(|(i, _)| char_at(text, i)).collect();
        assert_eq!(got, vec![('a', 1), ('é', 2), ('中', 3), ('𠀀', 4)]);
    }

    #[test]
    fn chinese_punctuation_is_not_han() {
        assert_eq!(run_texts("你好。"), vec![("你好", true), ("。", false)]);
    }

    #[test]
    fn routes_paragraphs_by_script() {
        assert!(ScriptCounts::of("美国商务部将该研究院列入实体清单(Entity List)。").is_chinese());
        assert!(!ScriptCounts::of("The Institute of Forensic Science (法医科学研究院) was listed.").is_chinese());
        assert!(!ScriptCounts::of("plain English").is_chinese());
        assert!(!ScriptCounts::of("").is_chinese());
    }
}
