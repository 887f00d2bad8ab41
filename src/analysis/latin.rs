//! Tokens of non-Han text, exactly as tantivy's default analyzer makes them (split on
//! non-alphanumerics, drop tokens of 40 bytes or more, lowercase), plus the parts of
//! letter–digit compounds (iphone15 → iphone, 15) so those are searchable by their parts.

/// Tokens at least this long (in bytes) are dropped, like tantivy's `RemoveLongFilter`.
pub const MAX_TOKEN_BYTES: usize = 40;

/// One word of non-Han text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatinWord {
    /// Lowercased token text.
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

fn lowercase(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_lowercase() } else { s.to_lowercase() }
}

/// Calls `emit` for every token of `text`; `None` stands for a token dropped as too long,
/// which still takes a position (as in tantivy, where positions are assigned before filters).
pub fn words(text: &str, mut emit: impl FnMut(Option<LatinWord>)) {
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let raw = &text[start..end];
        if raw.len() >= MAX_TOKEN_BYTES {
            emit(None);
            continue;
        }
        emit(Some(LatinWord { text: lowercase(raw), start, end, parts: compound_parts(raw, start) }));
    }
}

/// Splits a token at letter/digit boundaries; empty when it is all letters or all digits.
fn compound_parts(raw: &str, offset: usize) -> Vec<(String, usize, usize)> {
    let has_digit = raw.chars().any(|c| c.is_numeric());
    let has_letter = raw.chars().any(|c| !c.is_numeric());
    if !(has_digit && has_letter) {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut part_start = 0;
    let mut prev_digit = None;
    for (i, c) in raw.char_indices() {
        let digit = c.is_numeric();
        if prev_digit.is_some_and(|p| p != digit) {
            parts.push((lowercase(&raw[part_start..i]), offset + part_start, offset + i));
            part_start = i;
        }
        prev_digit = Some(digit);
    }
    parts.push((lowercase(&raw[part_start..]), offset + part_start, offset + raw.len()));
    parts
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
        assert_eq!(texts("Hello, happy tax-payer!"), vec!["hello", "happy", "tax", "payer"]);
        assert_eq!(texts("ÉCOLE Straße"), vec!["école", "straße"]);
        let long = "a".repeat(40);
        assert_eq!(texts(&format!("x {long} y")), vec!["x", "<long>", "y"]);
        assert_eq!(texts(&"b".repeat(39)), vec!["b".repeat(39)]);
    }

    #[test]
    fn splits_letter_digit_compounds() {
        let mut got = Vec::new();
        words("iPhone15 SK-II", |w| got.push(w.unwrap()));
        assert_eq!(got[0].text, "iphone15");
        assert_eq!(got[0].parts, vec![("iphone".to_string(), 0, 6), ("15".to_string(), 6, 8)]);
        assert_eq!(got[0].width(), 2);
        assert_eq!(got[1].text, "sk");
        assert!(got[1].parts.is_empty());
        assert_eq!(got[2].text, "ii");
    }
}
