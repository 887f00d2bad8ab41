//! Normalization before segmentation: full-width → half-width, Traditional → Simplified,
//! with a map from normalized byte offsets back to the original text.
//!
//! Index and query text go through the same function, so 實體清單 and 实体清单, ＣＯＶＩＤ－１９
//! and COVID-19 produce the same terms. Lowercasing is left to the Latin tokenizer, which
//! lowercases per token exactly like tantivy's `LowerCaser`.

use std::borrow::Cow;

use super::script::{self, is_han};

/// Text after normalization, and how to get back to the original byte offsets.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    /// The normalized text.
    pub text: Cow<'a, str>,
    /// For every byte offset of `text` (and one past the end), the original byte offset of the
    /// character it belongs to. `None` when the two texts have identical byte layouts.
    map: Option<Vec<u32>>,
}

impl Normalized<'_> {
    /// The original byte offset that corresponds to byte `offset` of the normalized text.
    pub fn original_offset(&self, offset: usize) -> usize {
        match &self.map {
            None => offset,
            Some(map) => map[offset] as usize,
        }
    }
}

/// Maps one character to its normalized form, ignoring Traditional → Simplified.
fn fold_width(c: char) -> char {
    match c as u32 {
        // Full-width ASCII variants map onto ASCII by a fixed offset.
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

fn needs_width_fold(c: char) -> bool {
    fold_width(c) != c
}

/// Normalizes `text`; borrows it unchanged when nothing needs folding or converting.
pub fn normalize(text: &str) -> Normalized<'_> {
    normalize_with(text, true)
}

/// Texts with Chinese remembered per thread, so the recall field reuses what the word field
/// computed for the same text moments before (tantivy indexes one document's fields in turn).
const RECENT_TEXTS: usize = 4;

type Remembered = (Box<str>, Box<str>, Option<Vec<u32>>);

thread_local! {
    static RECENT: std::cell::RefCell<std::collections::VecDeque<Remembered>> = Default::default();
}

/// [`normalize`], remembering the last few converted texts of this thread: indexing normalizes
/// each Chinese text twice (word and character fields), and the second time is a copy.
pub fn normalize_recent(text: &str) -> Normalized<'_> {
    if text.is_ascii() {
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    RECENT.with_borrow_mut(|recent| {
        if let Some((_, normalized, map)) = recent.iter().find(|(original, _, _)| &**original == text) {
            return Normalized { text: Cow::Owned(normalized.to_string()), map: map.clone() };
        }
        let result = normalize(text);
        if let Cow::Owned(normalized) = &result.text {
            if recent.len() == RECENT_TEXTS {
                recent.pop_back();
            }
            recent.push_front((text.into(), normalized.as_str().into(), result.map.clone()));
        }
        result
    })
}

/// Only full-width → half-width: enough to match Latin words, and it never initializes the
/// Traditional → Simplified tables (~3 ms), which an English-only query should not pay for.
pub fn fold_width_only(text: &str) -> Normalized<'_> {
    normalize_with(text, false)
}

fn normalize_with(text: &str, simplify: bool) -> Normalized<'_> {
    if text.is_ascii() {
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    let (mut has_wide, mut has_han) = (false, false);
    for c in text.chars() {
        has_wide |= needs_width_fold(c);
        has_han |= simplify && is_han(c);
    }
    if !has_wide && !has_han {
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    let converted: Cow<'_, str> = if has_han { Cow::Owned(to_simplified(text)) } else { Cow::Borrowed(text) };
    if !has_wide && converted == text {
        // Simplified text already: the common case.
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    // OpenCC converts phrases; one that changed length would break the character alignment
    // that highlighting relies on. Then convert run by run, character by character if needed.
    if converted.len() != text.len() || converted.chars().count() != text.chars().count() {
        return normalize_by_runs(text, has_wide);
    }
    if !has_wide {
        return Normalized { text: converted, map: None };
    }
    // Width folding changes byte lengths (3-byte full-width → 1-byte ASCII): map offsets.
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    for ((i, _), c) in text.char_indices().zip(converted.chars()) {
        let folded = fold_width(c);
        out.push(folded);
        map.extend(std::iter::repeat_n(i as u32, folded.len_utf8()));
    }
    map.push(text.len() as u32);
    Normalized { text: Cow::Owned(out), map: Some(map) }
}

/// Converts each Han run on its own, keeping an offset map.
fn normalize_by_runs(text: &str, has_wide: bool) -> Normalized<'_> {
    let mut out = String::with_capacity(text.len());
    let mut map: Option<Vec<u32>> = has_wide.then(|| Vec::with_capacity(text.len() + 1));
    for run in script::runs(text) {
        let piece = &text[run.start..run.end];
        if run.han {
            push_simplified(piece, run.start, &mut out, map.as_mut());
        } else {
            for (i, c) in piece.char_indices() {
                let folded = fold_width(c);
                out.push(folded);
                if let Some(map) = map.as_mut() {
                    map.extend(std::iter::repeat_n((run.start + i) as u32, folded.len_utf8()));
                }
            }
        }
    }
    if let Some(map) = map.as_mut() {
        map.push(text.len() as u32);
    }
    if map.is_none() && out.len() != text.len() {
        // A character outside the BMP mapped into it, or back: rebuild with an explicit map.
        return normalize_with_map(text);
    }
    Normalized { text: Cow::Owned(out), map }
}

/// Slow path: always builds the map, converting one character at a time.
fn normalize_with_map(text: &str) -> Normalized<'_> {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    for (i, c) in text.char_indices() {
        let before = out.len();
        if is_han(c) {
            let mut buf = [0u8; 4];
            out.push_str(&to_simplified(c.encode_utf8(&mut buf)));
        } else {
            out.push(fold_width(c));
        }
        map.extend(std::iter::repeat_n(i as u32, out.len() - before));
    }
    map.push(text.len() as u32);
    Normalized { text: Cow::Owned(out), map: Some(map) }
}

/// Converts a Han run to Simplified, character for character so offsets stay aligned.
fn push_simplified(han: &str, start: usize, out: &mut String, map: Option<&mut Vec<u32>>) {
    let converted = to_simplified(han);
    // zhconv converts phrases; a phrase that changes length would break the one-to-one
    // character alignment that highlighting relies on, so fall back to single characters.
    let aligned = converted.chars().count() == han.chars().count();
    let push_char = |orig_index: usize, c: char, out: &mut String, map: Option<&mut Vec<u32>>| {
        out.push(c);
        if let Some(map) = map {
            map.extend(std::iter::repeat_n((start + orig_index) as u32, c.len_utf8()));
        }
    };
    let mut map = map;
    if aligned {
        for ((i, _), c) in han.char_indices().zip(converted.chars()) {
            push_char(i, c, out, map.as_deref_mut());
        }
    } else {
        for (i, c) in han.char_indices() {
            let mut buf = [0u8; 4];
            let single = to_simplified(c.encode_utf8(&mut buf));
            let c = single.chars().next().unwrap_or(c);
            push_char(i, c, out, map.as_deref_mut());
        }
    }
}

fn to_simplified(han: &str) -> String {
    zhconv::zhconv(han, zhconv::Variant::ZhHans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        let n = normalize("entity list");
        assert!(matches!(n.text, Cow::Borrowed(_)));
        let n = normalize("实体清单");
        assert!(matches!(n.text, Cow::Borrowed(_)));
    }

    #[test]
    fn folds_full_width_and_maps_offsets_back() {
        let original = "ＣＯＶＩＤ－１９疫苗";
        let n = normalize(original);
        assert_eq!(n.text, "COVID-19疫苗");
        // "疫" starts at normalized byte 8, original byte 24.
        assert_eq!(n.original_offset(8), 24);
        assert_eq!(n.original_offset(n.text.len()), original.len());
        assert_eq!(n.original_offset(1), 3);
    }

    #[test]
    fn converts_traditional_to_simplified() {
        assert_eq!(normalize("實體清單").text, "实体清单");
        assert_eq!(normalize("法醫科學研究院").text, "法医科学研究院");
        // Phrase-level tables (OpenCC): 計畫 is 计划, not the character-by-character 计画.
        assert_eq!(normalize("頭髮 and 計畫").text, "头发 and 计划");
    }

    #[test]
    fn remembered_texts_normalize_the_same() {
        for text in ["ＣＯＶＩＤ－１９疫苗", "實體清單", "实体清单", "plain", "ＣＯＶＩＤ－１９疫苗"]
        {
            let (a, b) = (normalize(text), normalize_recent(text));
            assert_eq!(a.text, b.text);
            for i in 0..=a.text.len() {
                if a.text.is_char_boundary(i) {
                    assert_eq!(a.original_offset(i), b.original_offset(i));
                }
            }
        }
    }

    #[test]
    fn width_only_leaves_han_alone() {
        let n = fold_width_only("實體ＡＢ");
        assert_eq!(n.text, "實體AB");
        assert_eq!(n.original_offset(7), 9);
    }

    #[test]
    fn ideographic_space_becomes_space() {
        assert_eq!(normalize("芬太尼\u{3000}危机").text, "芬太尼 危机");
    }
}
