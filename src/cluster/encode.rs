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
    fn an_empty_field_encodes_to_nothing() {
        let mut grams = analysis::analyzer(GRAMS, &Segmenter::default());
        assert_eq!(encode(&mut grams, &["English only", ""]), Encoded::default());
    }
}
