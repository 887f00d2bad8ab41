//! Snippets: finding query matches in stored text and cutting a fragment around them, sized
//! in characters (not bytes, which would make Chinese fragments a third as long), cut at
//! sentence or word boundaries, with adjacent highlights merged.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::analysis::{latin, normalize, script};

/// A fragment of a field with highlighted matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// The fragment, with `…` where text was cut.
    pub text: String,
    /// Highlighted ranges as byte offsets `[start, end)` into `text` (UTF-8).
    pub highlights: Vec<[usize; 2]>,
    /// The same ranges as character (Unicode scalar) offsets into `text`.
    pub char_highlights: Vec<[usize; 2]>,
}

const ELLIPSIS: char = '…';

/// What to highlight: query terms as the analyzers see them.
#[derive(Debug, Clone, Default)]
pub struct Highlighter {
    /// Lowercased Latin words (and compound parts) to match whole.
    pub(crate) latin: HashSet<String>,
    /// Lowercased Latin prefixes (`fent*`).
    pub(crate) prefixes: Vec<String>,
    /// Normalized Han strings to match anywhere.
    pub(crate) han: Vec<String>,
    /// Latin phrases (quoted queries): term sequences that match only consecutively.
    pub(crate) phrases: Vec<Vec<String>>,
}

impl Highlighter {
    /// True when there is nothing to highlight.
    pub fn is_empty(&self) -> bool {
        self.latin.is_empty() && self.prefixes.is_empty() && self.han.is_empty() && self.phrases.is_empty()
    }

    /// Byte ranges of matches in `text`, sorted, merged when they overlap or touch, or when
    /// only a space or a connector separates them (so a matched phrase is one highlight).
    pub fn find(&self, text: &str) -> Vec<(usize, usize)> {
        if self.is_empty() || text.is_empty() {
            return Vec::new();
        }
        // Traditional → Simplified matters only for Chinese needles.
        let norm = if self.han.is_empty() { normalize::fold_width_only(text) } else { normalize::normalize(text) };
        let normalized: &str = &norm.text;
        let mut ranges = Vec::new();
        if !self.latin.is_empty() || !self.prefixes.is_empty() || !self.phrases.is_empty() {
            for run in script::runs(normalized).filter(|r| !r.han) {
                // Terms of the run as the index has them at consecutive positions.
                let mut terms: Vec<(String, usize, usize)> = Vec::new();
                latin::words(&normalized[run.start..run.end], |word| {
                    let Some(word) = word else { return };
                    let (start, end) = (run.start + word.start, run.start + word.end);
                    let raw = &normalized[start..end];
                    if self.latin_matches(&word.text, raw) {
                        ranges.push((start, end));
                    } else {
                        for (_, s, e) in word.parts.iter().filter(|(p, _, _)| self.latin.contains(p)) {
                            ranges.push((run.start + s, run.start + e));
                        }
                    }
                    if word.parts.is_empty() {
                        terms.push((word.text, start, end));
                    } else {
                        terms.extend(word.parts.into_iter().map(|(p, s, e)| (p, run.start + s, run.start + e)));
                    }
                });
                self.find_phrases(&terms, &mut ranges);
            }
        }
        for needle in self.han.iter().filter(|n| !n.is_empty()) {
            ranges.extend(normalized.match_indices(needle.as_str()).map(|(i, m)| (i, i + m.len())));
        }
        let mut ranges: Vec<(usize, usize)> =
            ranges.into_iter().map(|(s, e)| (norm.original_offset(s), norm.original_offset(e))).collect();
        ranges.sort_unstable();
        merge(text, ranges)
    }

    /// Adds the span of every consecutive occurrence of a phrase's terms.
    fn find_phrases(&self, terms: &[(String, usize, usize)], ranges: &mut Vec<(usize, usize)>) {
        for phrase in self.phrases.iter().filter(|p| !p.is_empty()) {
            for window in terms.windows(phrase.len()) {
                if window.iter().zip(phrase).all(|((t, _, _), p)| t == p) {
                    ranges.push((window[0].1, window[window.len() - 1].2));
                }
            }
        }
    }

    /// A term matches exactly; a prefix query matches the lowercased word as written.
    fn latin_matches(&self, term: &str, raw: &str) -> bool {
        self.latin.contains(term)
            || (!self.prefixes.is_empty() && {
                let lower = raw.to_lowercase();
                self.prefixes.iter().any(|p| lower.starts_with(p.as_str()))
            })
    }
}

fn merge(text: &str, ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        if let Some(last) = merged.last_mut() {
            // Joined by a space or a connector (COVID-19, entity list): one highlight.
            let gap = if start <= last.1 { "" } else { &text[last.1..start] };
            let joins = gap.chars().count() <= 2 && gap.chars().all(|c| c.is_whitespace() || "-－_·./'".contains(c));
            if joins {
                last.1 = last.1.max(end);
                continue;
            }
        }
        merged.push((start, end));
    }
    merged
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '.' | '；' | ';' | '\n')
}

/// Chinese clause punctuation: the next best place to start or end a fragment.
fn is_clause_end(c: char) -> bool {
    matches!(c, '，' | '、' | '：' | ',' | ':')
}

/// Sorted, non-overlapping byte ranges of `text` as character ranges, in one pass.
pub fn char_ranges(text: &str, ranges: &[(usize, usize)]) -> Vec<[usize; 2]> {
    let mut out = Vec::with_capacity(ranges.len());
    let (mut byte, mut chars) = (0, 0);
    let mut advance = |to: usize| {
        chars += text[byte..to].chars().count();
        byte = to;
        chars
    };
    for &(start, end) in ranges {
        let start = advance(start);
        let end = advance(end);
        out.push([start, end]);
    }
    out
}

/// Cuts a fragment of at most `max_chars` characters (plus ellipses) from `text`, around the
/// densest cluster of `matches` (byte ranges from [`Highlighter::find`]).
pub fn make_snippet(text: &str, matches: &[(usize, usize)], max_chars: usize) -> Snippet {
    let max_chars = max_chars.max(10);
    // Byte offset of every character, plus the end.
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let total = bounds.len() - 1;
    let char_at = |byte: usize| bounds.partition_point(|&b| b < byte);
    let (start, end) = if total <= max_chars {
        (0, total)
    } else {
        let match_chars: Vec<(usize, usize)> = matches.iter().map(|&(s, e)| (char_at(s), char_at(e))).collect();
        window(text, &bounds, &match_chars, max_chars)
    };
    let mut out = String::new();
    if start > 0 {
        out.push(ELLIPSIS);
    }
    let body_offset = out.len();
    let (byte_start, byte_end) = (bounds[start], bounds[end]);
    out.push_str(text[byte_start..byte_end].trim_end_matches('\n'));
    let body_end = out.len();
    if end < total {
        out.push(ELLIPSIS);
    }
    let mut snippet = Snippet { text: out, ..Default::default() };
    let char_offset = usize::from(start > 0);
    for &(s, e) in matches {
        if e <= byte_start || s >= byte_end {
            continue;
        }
        let (s, e) = (s.max(byte_start), e.min(byte_end));
        let (bs, be) = (s - byte_start + body_offset, (e - byte_start + body_offset).min(body_end));
        if bs >= be {
            continue;
        }
        snippet.highlights.push([bs, be]);
        snippet.char_highlights.push([char_at(s) - start + char_offset, char_at(e) - start + char_offset]);
    }
    snippet
}

/// Chooses the character range `[start, end)` of the fragment.
fn window(text: &str, bounds: &[usize], matches: &[(usize, usize)], max_chars: usize) -> (usize, usize) {
    let total = bounds.len() - 1;
    let ch = |i: usize| text[bounds[i]..].chars().next().unwrap_or(' ');
    // A full stop ends a sentence only before a space or the end ("3.5" does not), and not after
    // a capital ("U.S. Commerce": an abbreviation, more often than not).
    let ends_sentence = |i: usize| {
        let c = ch(i);
        if c != '.' {
            return is_sentence_end(c);
        }
        let before = if i > 0 { ch(i - 1) } else { ' ' };
        ch(i + 1).is_whitespace() && !before.is_uppercase()
    };
    // Place the window so the best cluster of matches starts a quarter of the way in.
    let lead = max_chars / 4;
    let (anchor, anchor_end) = best_anchor(text, bounds, matches, max_chars);
    let mut start = anchor.saturating_sub(lead);
    // Prefer to start a sentence: look back from the first match for a sentence end, as far
    // as still leaves the match and a few characters after it in the fragment.
    let back = (anchor_end + 10).saturating_sub(max_chars).min(anchor)..anchor;
    if let Some(boundary) = back.clone().rev().find(|&i| i == 0 || ends_sentence(i - 1)) {
        start = boundary;
    } else if let Some(boundary) = back.rev().find(|&i| i > 0 && is_clause_end(ch(i - 1))) {
        start = boundary;
    } else if start > 0 {
        // Otherwise start at a word boundary (Latin text) if one is near.
        if let Some(space) = (start..(start + 12).min(anchor)).find(|&i| ch(i).is_whitespace()) {
            start = space + 1;
        }
    }
    while start < total && ch(start).is_whitespace() {
        start += 1;
    }
    // Near the end of the text, move back so the fragment is still full length.
    let start = start.min(total.saturating_sub(max_chars));
    let mut end = (start + max_chars).min(total);
    if end < total {
        // End on a sentence end in the last 15% of the window, else on a space.
        let floor = end - max_chars * 15 / 100;
        if let Some(cut) = (floor..end).rev().find(|&i| ends_sentence(i)) {
            end = cut + 1;
        } else if let Some(space) = (end.saturating_sub(12).max(start + 1)..end).rev().find(|&i| ch(i).is_whitespace())
        {
            end = space;
        }
    }
    (start, end)
}

/// The character range of the match that starts the window holding the most distinct matched
/// words, then the most matches; the first such one (`(0, 0)` without matches).
fn best_anchor(text: &str, bounds: &[usize], matches: &[(usize, usize)], max_chars: usize) -> (usize, usize) {
    let word = |&(s, e): &(usize, usize)| text[bounds[s]..bounds[e]].to_lowercase();
    let mut best = ((0, 0), (0, 0));
    for (i, &first) in matches.iter().enumerate() {
        let inside: Vec<&(usize, usize)> =
            matches[i..].iter().take_while(|&&(s, _)| s < first.0 + max_chars * 3 / 4).collect();
        let distinct: HashSet<String> = inside.iter().map(|m| word(m)).collect();
        let score = (distinct.len(), inside.len());
        if score > best.0 {
            best = (score, first);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn highlighter(latin: &[&str], han: &[&str]) -> Highlighter {
        Highlighter {
            latin: latin.iter().map(|s| crate::analysis::latin::term(s)).collect(),
            prefixes: Vec::new(),
            han: han.iter().map(|s| s.to_string()).collect(),
            phrases: Vec::new(),
        }
    }

    #[test]
    fn phrases_match_only_consecutively() {
        let text = "The entity list grew. A list of each entity. COVID 19 and covid-19.";
        let mut h = highlighter(&[], &[]);
        h.phrases = vec![vec!["entiti".into(), "list".into()], vec!["covid".into(), "19".into()]];
        let got: Vec<&str> = h.find(text).iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(got, vec!["entity list", "COVID 19", "covid-19"]);
    }

    fn marked(s: &Snippet) -> String {
        let mut out = String::new();
        let mut last = 0;
        for [a, b] in &s.highlights {
            out.push_str(&s.text[last..*a]);
            out.push('[');
            out.push_str(&s.text[*a..*b]);
            out.push(']');
            last = *b;
        }
        out.push_str(&s.text[last..]);
        out
    }

    #[test]
    fn finds_and_merges_a_phrase() {
        let text = "Washington put it on the \"Entity List\" in 2020; the entity was listed.";
        let h = highlighter(&["entity", "list"], &[]);
        let ranges = h.find(text);
        assert_eq!(&text[ranges[0].0..ranges[0].1], "Entity List");
        assert_eq!(&text[ranges[1].0..ranges[1].1], "entity");
        // Stemmed: "listed" is a match for "list".
        assert_eq!(&text[ranges[2].0..ranges[2].1], "listed");
        assert_eq!(ranges.len(), 3);
    }

    #[test]
    fn finds_han_in_traditional_and_full_width_text() {
        let text = "美國將該研究院列入實體清單，ＣＯＶＩＤ－１９";
        let h = highlighter(&["covid", "19"], &["实体清单"]);
        let got: Vec<&str> = h.find(text).iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(got, vec!["實體清單", "ＣＯＶＩＤ－１９"]);
    }

    #[test]
    fn chinese_snippet_is_sized_in_characters() {
        let sentence = "这是一个关于芬太尼管制的句子，内容很长很长很长。";
        let text = sentence.repeat(20);
        let h = highlighter(&[], &["芬太尼"]);
        let s = make_snippet(&text, &h.find(&text), 60);
        let chars = s.text.chars().count();
        assert!((48..=62).contains(&chars), "{chars}: {}", s.text);
        assert!(!s.highlights.is_empty());
        for ([bs, be], [cs, ce]) in s.highlights.iter().zip(&s.char_highlights) {
            assert_eq!(&s.text[*bs..*be], "芬太尼");
            let by_chars: String = s.text.chars().skip(*cs).take(ce - cs).collect();
            assert_eq!(by_chars, "芬太尼");
        }
    }

    #[test]
    fn short_text_is_whole_and_unmatched_text_starts_at_the_top() {
        let s = make_snippet("Short text.", &[], 50);
        assert_eq!(s.text, "Short text.");
        let long = "First sentence here. ".repeat(20);
        let s = make_snippet(&long, &[], 50);
        assert!(s.text.starts_with("First sentence here."), "{}", s.text);
        assert!(s.text.ends_with('…'));
    }

    #[test]
    fn a_sentence_start_within_reach_begins_the_fragment() {
        let text = "Intro sentence one. The U.S. Commerce Department added more than thirty Chinese companies and \
                    research bodies to the entity list on Friday, including several chip designers. More text \
                    follows here for a while so that the whole text is longer than the fragment.";
        let h = highlighter(&["entity", "list"], &[]);
        let s = make_snippet(text, &h.find(text), 120);
        assert!(s.text.starts_with("…The U.S. Commerce"), "{}", s.text);
        assert!(marked(&s).contains("[entity list]"), "{}", marked(&s));
    }

    #[test]
    fn window_follows_the_best_cluster_and_cuts_at_boundaries() {
        let filler = "Nothing to see in this sentence at all. ".repeat(10);
        let text = format!("{filler}The fentanyl trade and the entity list met here. {filler}");
        let h = highlighter(&["fentanyl", "entity", "list"], &[]);
        let s = make_snippet(&text, &h.find(&text), 80);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'), "{}", s.text);
        assert!(marked(&s).contains("[fentanyl] trade and the [entity list]"), "{}", marked(&s));
        assert!(s.text.chars().count() <= 82);
    }
}
