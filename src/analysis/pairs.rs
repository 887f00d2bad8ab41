//! The pair field's tokens: every two characters of the character field that stand side by
//! side (adjacent positions), as one term at the first one's position.
//!
//! Why: a string of characters is found exactly by a phrase of the pairs that cover it
//! (人民法院 is 人民 at p and 法院 at p + 2), and a pair's postings and positions are a small
//! fraction of its characters'. Matching a word or a quoted string as a phrase of single
//! characters read every position of every character in every document holding them all,
//! which at 3 GB was most of a Chinese query's time. The character field keeps the single
//! characters (frequencies only) for one-character queries and the Chinese ranking.
//!
//! Where the character field holds several tokens at one position (a second reading, 於 and
//! 于; a character converted alone, 计划 and 计画), every combination is a pair, so a phrase of
//! pairs matches exactly where the phrase of characters does.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::GramStream;

/// The pair analyzer: reuses its buffers from one text to the next.
#[derive(Clone, Default)]
pub(crate) struct PairTokenizer {
    /// The character field's tokens of the text: `(position, from, to, character)`.
    chars: Vec<(usize, usize, usize, char)>,
    tokens: Vec<Token>,
}

impl PairTokenizer {
    /// Fills `tokens` with the pairs of `text`, in position order.
    fn fill(&mut self, text: &str) {
        self.chars.clear();
        let mut grams = GramStream::new(text);
        while grams.advance() {
            let t = grams.token();
            // Every token of the character field is one character (see `script::gram_len_at`).
            if let Some(c) = t.text.chars().next() {
                self.chars.push((t.position, t.offset_from, t.offset_to, c));
            }
        }
        let mut count = 0;
        let mut group = 0;
        while group < self.chars.len() {
            let position = self.chars[group].0;
            let next = group + self.chars[group..].iter().take_while(|c| c.0 == position).count();
            let after = next + self.chars[next..].iter().take_while(|c| c.0 == position + 1).count();
            for first in group..next {
                for second in next..after {
                    let ((_, from, _, a), (_, _, to, b)) = (self.chars[first], self.chars[second]);
                    if count == self.tokens.len() {
                        self.tokens.push(Token::default());
                    }
                    let token = &mut self.tokens[count];
                    token.text.clear();
                    token.text.push(a);
                    token.text.push(b);
                    token.offset_from = from;
                    token.offset_to = to;
                    token.position = position;
                    // A pair spans two characters' positions: tantivy starts the next value of
                    // the field after the last one's end, which must be where the character
                    // field has it, or a phrase could run from one value into the next.
                    token.position_length = 2;
                    count += 1;
                }
            }
            group = next;
        }
        self.tokens.truncate(count);
    }
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = PairStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream<'a> {
        self.fill(text);
        PairStream { tokens: &mut self.tokens, next: 0 }
    }
}

/// The pairs of one text, handed out one at a time.
pub(crate) struct PairStream<'a> {
    tokens: &'a mut Vec<Token>,
    /// How many tokens were handed out (the current one is the last of them).
    next: usize,
}

impl TokenStream for PairStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The pairs that cover a sequence of characters at consecutive positions (several forms at
/// a position are alternatives): the pairs at 0, 2, 4… and the last one, each with its
/// position and every combination of its two characters' forms. A phrase of them matches
/// exactly where the characters stand in sequence. Empty for fewer than two characters.
pub(crate) fn covering_pairs(chars: &[Vec<String>]) -> Vec<(usize, Vec<String>)> {
    let Some(last) = chars.len().checked_sub(2) else { return Vec::new() };
    let mut starts: Vec<usize> = (0..=last).step_by(2).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    starts
        .into_iter()
        .map(|i| {
            let forms = chars[i].iter().flat_map(|a| chars[i + 1].iter().map(move |b| format!("{a}{b}"))).collect();
            (i, forms)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut tokenizer = PairTokenizer::default();
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
        }
        out
    }

    fn owned(list: &[(&str, usize, usize, usize)]) -> Vec<(String, usize, usize, usize)> {
        list.iter().map(|&(t, s, e, p)| (t.to_string(), s, e, p)).collect()
    }

    #[test]
    fn pairs_of_a_run_stand_at_their_first_characters_position() {
        assert_eq!(pairs("法医科学"), owned(&[("法医", 0, 6, 0), ("医科", 3, 9, 1), ("科学", 6, 12, 2)]));
        assert!(pairs("药").is_empty());
        assert!(pairs("").is_empty());
        assert!(pairs("COVID-19 vaccine").is_empty());
    }

    #[test]
    fn no_pair_spans_the_gap_between_two_runs() {
        assert_eq!(pairs("法医 科学，药a品"), owned(&[("法医", 0, 6, 0), ("科学", 7, 13, 3)]));
    }

    #[test]
    fn characters_sharing_a_position_give_every_combination() {
        // 於 is also held as 于 (a second reading): both pairs are there.
        let got: Vec<String> = pairs("关於").into_iter().map(|p| p.0).collect();
        assert!(got.contains(&"关於".to_string()) && got.contains(&"关于".to_string()), "{got:?}");
        // The tokenizer is reused: a shorter text leaves nothing of the longer one behind.
        let mut tokenizer = PairTokenizer::default();
        let _ = tokenizer.token_stream("法医科学研究院");
        let mut stream = tokenizer.token_stream("法医");
        assert!(stream.advance() && stream.token().text == "法医" && !stream.advance());
    }

    #[test]
    fn covering_pairs_overlap_only_at_the_end() {
        let chars = |s: &str| s.chars().map(|c| vec![c.to_string()]).collect::<Vec<_>>();
        let texts = |p: Vec<(usize, Vec<String>)>| p.into_iter().map(|(i, f)| (i, f.join("|"))).collect::<Vec<_>>();
        assert_eq!(texts(covering_pairs(&chars("人民法院"))), vec![(0, "人民".into()), (2, "法院".into())]);
        assert_eq!(
            texts(covering_pairs(&chars("最高人民法院"))),
            vec![(0, "最高".into()), (2, "人民".into()), (4, "法院".into())]
        );
        assert_eq!(texts(covering_pairs(&chars("穿山甲"))), vec![(0, "穿山".into()), (1, "山甲".into())]);
        assert_eq!(texts(covering_pairs(&chars("人民"))), vec![(0, "人民".into())]);
        assert!(covering_pairs(&chars("人")).is_empty());
        let forms = vec![vec!["关".to_string()], vec!["於".to_string(), "于".to_string()]];
        assert_eq!(texts(covering_pairs(&forms)), vec![(0, "关於|关于".into())]);
    }
}
