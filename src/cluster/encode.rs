//! Pre-analyzed field values: sou's own tokens of a field, positions kept, written as text that
//! the cluster's `sou_tokens` analyzer (built-in parts only, see `mapping`) turns back into
//! exactly those tokens at exactly those positions.
//!
//! The text is the tokens separated by spaces, one slot per position: tokens sharing a
//! position (a compound and its first part, a character and its second reading) are joined by
//! [`STACK`]; a position without a token is [`HOLE`], which the cluster's stop filter removes
//! while keeping the gap. Positions run across a field's values the way tantivy counts them
//! (each value starts one past the end of the last), so phrases never match across values on
//! either side.

use tantivy::tokenizer::TextAnalyzer;

/// Joins tokens that share a position. Never part of a token: sou's tokens hold no control
/// characters, and Java's whitespace tokenizer does not split on it (unlike U+001C–U+001F).
pub(crate) const STACK: char = '\u{2}';
/// Stands for a position without a token.
pub(crate) const HOLE: char = '\u{3}';
/// Marks a character of the character field inside the Chinese evidence field, where it
/// must not meet the one-character word of the same name.
pub(crate) const CHAR_MARK: char = '\u{4}';
/// A token that stands for length only (the evidence field counts each character twice) or
/// for an empty field (see the cluster sync).
pub(crate) const FILLER: char = '\u{5}';
/// tantivy drops longer tokens (its MAX_TOKEN_LEN); so does the encoding, so both sides agree.
const MAX_TOKEN_BYTES: usize = u16::MAX as usize - 5;

/// A field's encoded text and its token count (what BM25 takes as the field's length).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Encoded {
    pub text: String,
    pub tokens: usize,
}

/// Analyzes `values` with `analyzer` as tantivy indexes a multi-valued field, and encodes the
/// tokens.
pub(crate) fn encode(analyzer: &mut TextAnalyzer, values: &[&str]) -> Encoded {
    let mut tokens: Vec<(usize, String)> = Vec::new();
    let mut base = 0;
    for value in values {
        let mut end = base;
        let mut stream = analyzer.token_stream(value);
        while let Some(token) = stream.next() {
            if token.text.len() > MAX_TOKEN_BYTES || token.text.is_empty() {
                continue;
            }
            let position = base + token.position;
            end = end.max(position + token.position_length.max(1));
            tokens.push((position, token.text.clone()));
        }
        base = end + 1;
    }
    write_slots(tokens)
}

/// One slot per position from 0 to the last token's, in position order.
fn write_slots(mut tokens: Vec<(usize, String)>) -> Encoded {
    // Streams hand tokens out in position order, a stacked one right after its position's first;
    // the stable sort only guards that.
    tokens.sort_by_key(|(position, _)| *position);
    let mut out = Encoded { text: String::with_capacity(tokens.iter().map(|(_, t)| t.len() + 1).sum()), tokens: 0 };
    let mut next = 0;
    for (position, token) in tokens {
        if position + 1 == next {
            // Another token at the slot just written.
            out.text.push(STACK);
        } else {
            for _ in next..position {
                push_slot(&mut out.text, HOLE);
            }
            if !out.text.is_empty() {
                out.text.push(' ');
            }
            next = position + 1;
        }
        out.text.push_str(&token);
        out.tokens += 1;
    }
    out
}

/// The Chinese evidence field of a document (see `search::chinese`): the zh field's words,
/// the character field's characters (marked) and filler tokens that bring its length to what
/// the local ranking takes as the document's length: the words plus twice the characters, each
/// as its field's norm keeps it (`search::chinese::evidence_length` before its last
/// quantization, which the cluster's own norm makes). Each word's and character's frequency is
/// the one its own field has. Positions do not matter here: only frequencies and the length are
/// read. A document without Chinese gets one filler, so that every document counts in the
/// field's document count as in the local one (its length, 1 instead of 0, moves the average
/// length by a token per such document). Where the quantized length is below the tokens there
/// are (many words, almost no characters), no filler is added and the lengths differ.
pub(crate) fn chinese_evidence(zh: &Encoded, grams: &Encoded) -> Encoded {
    let mut text = zh.text.clone();
    for slot in grams.text.split(' ').filter(|s| !s.is_empty() && *s != HOLE.to_string()) {
        for token in slot.split(STACK) {
            push_slot(&mut text, CHAR_MARK);
            text.push_str(token);
        }
    }
    let held = zh.tokens + grams.tokens;
    let quantized = |n: usize| crate::search::quantized(n as u32) as usize;
    let length = quantized(zh.tokens) + 2 * quantized(grams.tokens);
    let fillers = if held == 0 { 1 } else { length.saturating_sub(held) };
    for _ in 0..fillers {
        push_slot(&mut text, FILLER);
    }
    Encoded { text, tokens: held + fillers }
}

fn push_slot(text: &mut String, c: char) {
    if !text.is_empty() {
        text.push(' ');
    }
    text.push(c);
}

/// The tokens an encoded text stands for, `(position, token)`, as the cluster's analyzer
/// reads it back (used by tests to check the round trip).
#[cfg(test)]
pub(crate) fn decode(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (position, slot) in text.split(' ').filter(|s| !s.is_empty()).enumerate() {
        if slot == HOLE.to_string() {
            continue;
        }
        for token in slot.split(STACK) {
            out.push((position, token.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{self, GRAMS, Segmenter, WORDS};

    fn tokens_as_tantivy_sees_them(analyzer: &mut TextAnalyzer, values: &[&str]) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut base = 0;
        for value in values {
            let mut end = base;
            let mut stream = analyzer.token_stream(value);
            while let Some(t) = stream.next() {
                out.push((base + t.position, t.text.clone()));
                end = end.max(base + t.position + 1);
            }
            base = end + 1;
        }
        out.sort();
        out
    }

    #[test]
    fn holes_stacks_and_value_gaps_survive_the_round_trip() {
        let segmenter = Segmenter::default();
        let mut grams = analysis::analyzer(GRAMS, &segmenter);
        // 於 is read both ways; the comma leaves a gap; the second value starts past a gap.
        let values = ["关於人民，法院", "", "我们的iPhone15"];
        let encoded = encode(&mut grams, &values);
        let mut decoded = decode(&encoded.text);
        decoded.sort();
        assert_eq!(decoded, tokens_as_tantivy_sees_them(&mut grams, &values));
        assert!(encoded.text.contains(STACK) && encoded.text.contains(HOLE), "{:?}", encoded.text);
        assert_eq!(encoded.tokens, decoded.len());

        let mut words = analysis::analyzer(WORDS, &segmenter);
        let values = ["Apple 发布 iPhone15 手机", "the entity list"];
        let encoded = encode(&mut words, &values);
        let mut decoded = decode(&encoded.text);
        decoded.sort();
        assert_eq!(decoded, tokens_as_tantivy_sees_them(&mut words, &values));
    }

    #[test]
    fn the_evidence_field_holds_words_marked_characters_and_a_filler_per_character() {
        let segmenter = Segmenter::default();
        let mut zh = analysis::analyzer(crate::analysis::ZH_WORDS, &segmenter);
        let mut grams = analysis::analyzer(GRAMS, &segmenter);
        let values = ["人民法院，人民"];
        let (zh, grams) = (encode(&mut zh, &values), encode(&mut grams, &values));
        let evidence = chinese_evidence(&zh, &grams);
        let tokens = decode(&evidence.text);
        assert_eq!(evidence.tokens, tokens.len());
        assert_eq!(evidence.tokens, zh.tokens + 2 * grams.tokens, "short fields keep exact lengths");
        let count = |t: &str, of: &[(usize, String)]| of.iter().filter(|(_, x)| x == t).count();
        // Each word and character as often as in its own field (人 twice, the word once or more).
        for (_, word) in decode(&zh.text) {
            assert_eq!(count(&word, &tokens), count(&word, &decode(&zh.text)), "{word}");
        }
        for (_, c) in decode(&grams.text) {
            assert_eq!(count(&format!("{CHAR_MARK}{c}"), &tokens), count(&c, &decode(&grams.text)), "{c}");
        }
        assert_eq!(count(&format!("{CHAR_MARK}人"), &tokens), 2);
        assert_eq!(count(&FILLER.to_string(), &tokens), grams.tokens);
        // Long fields: the lengths as their norms keep them (1000 is kept as less).
        let long = |tokens| Encoded { text: "x ".repeat(tokens).trim_end().to_string(), tokens };
        let evidence = chinese_evidence(&long(1000), &long(333));
        let q = |n| crate::search::quantized(n) as usize;
        assert!(q(1000) < 1000);
        assert_eq!(evidence.tokens, q(1000) + 2 * q(333));
        assert_eq!(decode(&evidence.text).len(), evidence.tokens);
        // No Chinese: one filler, so the document counts in the field.
        assert_eq!(chinese_evidence(&Encoded::default(), &Encoded::default()).tokens, 1);
    }

    #[test]
    fn an_empty_field_encodes_to_nothing() {
        let mut grams = analysis::analyzer(GRAMS, &Segmenter::default());
        assert_eq!(encode(&mut grams, &["English only", ""]), Encoded::default());
    }
}
