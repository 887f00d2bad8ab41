//! Printers for results: human-readable (colour on a terminal) and JSON lines, over any
//! `Write`, so the CLI, tests and a server share them.

use std::io::{self, Write};

use crate::search::{Hit, SearchResults};
use crate::snippet::Snippet;

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const MATCH: &str = "\x1b[1;31m";
const RESET: &str = "\x1b[0m";

/// Whether a character would act on the terminal instead of showing: C0 and C1 controls
/// (ESC starts colour, cursor and title sequences), DEL, and the bidirectional overrides that
/// reorder what follows them.
fn is_terminal_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Writes document text for a terminal: line breaks become spaces and anything that would
/// act on the terminal becomes U+FFFD, so a document cannot clear the screen or retitle it.
fn write_safe(w: &mut dyn Write, text: &str) -> io::Result<()> {
    if !text.chars().any(is_terminal_control) {
        return w.write_all(text.as_bytes());
    }
    let shown: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if is_terminal_control(c) => '\u{fffd}',
            c => c,
        })
        .collect();
    w.write_all(shown.as_bytes())
}

/// Writes `text` with the byte ranges in `highlights` marked: ANSI colour when `color`,
/// otherwise unmarked (pipes get clean text).
fn write_marked(w: &mut dyn Write, text: &str, highlights: &[[usize; 2]], color: bool, base: &str) -> io::Result<()> {
    if !color {
        return write_safe(w, text);
    }
    let mut last = 0;
    for &[start, end] in highlights {
        if start < last || end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        write_safe(w, &text[last..start])?;
        write!(w, "{MATCH}")?;
        write_safe(w, &text[start..end])?;
        write!(w, "{RESET}{base}")?;
        last = end;
    }
    write_safe(w, &text[last..])
}

/// Snippets worth showing: those with matches, else the first non-empty one.
fn shown_snippets(hit: &Hit) -> Vec<(&'static str, &Snippet)> {
    let all: Vec<(&'static str, &Snippet)> = [("zh", hit.snippets.zh.as_ref()), ("en", hit.snippets.en.as_ref())]
        .into_iter()
        .filter_map(|(lang, s)| s.map(|s| (lang, s)))
        .collect();
    let matched: Vec<_> = all.iter().copied().filter(|(_, s)| !s.highlights.is_empty()).collect();
    if matched.is_empty() { all.into_iter().take(1).collect() } else { matched }
}

/// Prints hits for people: rank, title, id, date, score, then one line per snippet.
pub fn write_human(w: &mut dyn Write, results: &SearchResults, color: bool) -> io::Result<()> {
    for hit in &results.hits {
        let (bold, dim, reset) = if color { (BOLD, DIM, RESET) } else { ("", "", "") };
        write!(w, "{bold}{:>2}. ", hit.rank)?;
        let title = if hit.title.is_empty() { "(untitled)" } else { &hit.title };
        write_marked(w, title, &hit.title_highlights, color, bold)?;
        writeln!(w, "{reset}")?;
        let date = hit.date.map(|d| format!(" · {d}")).unwrap_or_default();
        let path = if hit.path.is_empty() || hit.path == hit.id { String::new() } else { format!(" · {}", hit.path) };
        write!(w, "    {dim}")?;
        write_safe(w, &format!("{}{path}", hit.id))?;
        writeln!(w, "{date} · score {:.2}{reset}", hit.score)?;
        for (lang, snippet) in shown_snippets(hit) {
            write!(w, "    {dim}{lang}:{reset} ")?;
            write_marked(w, &snippet.text, &snippet.highlights, color, "")?;
            writeln!(w)?;
        }
        for part in hit.explanation.iter().flatten() {
            writeln!(w, "    {dim}{:>7.3}  {}{reset}", part.score, part.part)?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// Prints one JSON object per hit per line.
pub fn write_json_lines(w: &mut dyn Write, results: &SearchResults) -> io::Result<()> {
    for hit in &results.hits {
        serde_json::to_writer(&mut *w, hit)?;
        writeln!(w)?;
    }
    Ok(())
}

/// An id as one TREC field: whitespace, control characters and `%` are percent-encoded
/// (`a b` → `a%20b`), so a line always has its six fields; other ids are unchanged.
pub fn trec_field(id: &str) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| c.is_whitespace() || c.is_control() || c == '%';
    if id.is_empty() {
        return "%".into();
    }
    if !id.chars().any(escape) {
        return id.into();
    }
    let mut out = String::with_capacity(id.len() + 8);
    for c in id.chars() {
        if escape(c) {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Prints hits as a TREC run: `qid Q0 docid rank score tag`, ids escaped by [`trec_field`].
pub fn write_trec(w: &mut dyn Write, query_id: &str, results: &SearchResults, tag: &str) -> io::Result<()> {
    let qid = trec_field(query_id);
    for hit in &results.hits {
        writeln!(w, "{qid} Q0 {} {} {:.4} {tag}", trec_field(&hit.id), hit.rank, hit.score)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Snippets;

    fn results() -> SearchResults {
        let snippet =
            Snippet {
                text: "关于芬太尼的报道".into(), highlights: vec![[6, 15]], char_highlights: vec![[2, 5]]
            };
        SearchResults {
            total: 1,
            total_is_lower_bound: false,
            hits: vec![Hit {
                rank: 1,
                id: "a.txt".into(),
                score: 1.5,
                title: "Fentanyl".into(),
                title_highlights: vec![[0, 8]],
                title_char_highlights: vec![[0, 8]],
                path: "corpus/a.txt".into(),
                date: None,
                source: None,
                snippets: Snippets { zh: Some(snippet), en: None },
                explanation: None,
            }],
            any: false,
            notices: vec![],
            elapsed_ms: 0.0,
        }
    }

    #[test]
    fn human_output_marks_matches_only_with_color() {
        let mut plain = Vec::new();
        write_human(&mut plain, &results(), false).unwrap();
        let plain = String::from_utf8(plain).unwrap();
        assert!(plain.contains(" 1. Fentanyl\n"), "{plain}");
        assert!(plain.contains("zh: 关于芬太尼的报道"), "{plain}");
        assert!(!plain.contains('\x1b'));
        let mut colored = Vec::new();
        write_human(&mut colored, &results(), true).unwrap();
        assert!(String::from_utf8(colored).unwrap().contains(&format!("{MATCH}芬太尼{RESET}")));
    }

    #[test]
    fn document_text_cannot_drive_the_terminal() {
        let mut r = results();
        r.hits[0].title = "Clear\x1b[2J\x1b]0;owned\x07 me\u{202e}".into();
        r.hits[0].id = "evil\x1b[31m.txt".into();
        for color in [false, true] {
            let mut out = Vec::new();
            write_human(&mut out, &r, color).unwrap();
            let out = String::from_utf8(out).unwrap();
            let without_ours = out.replace(MATCH, "").replace(RESET, "").replace(BOLD, "").replace(DIM, "");
            assert!(!without_ours.chars().any(|c| c != '\n' && is_terminal_control(c)), "{out:?}");
            assert!(color || out.contains("Clear\u{fffd}[2J\u{fffd}]0;owned\u{fffd} me\u{fffd}"), "{out:?}");
        }
    }

    #[test]
    fn trec_ids_never_break_a_line() {
        assert_eq!(trec_field("plain/id.txt"), "plain/id.txt");
        assert_eq!(trec_field("a b\nc%d"), "a%20b%0Ac%25d");
        assert_eq!(trec_field("全\u{3000}角"), "全%E3%80%80角");
        assert_eq!(trec_field(""), "%");
        let mut r = results();
        r.hits[0].id = "two words\nand a line".into();
        let mut out = Vec::new();
        write_trec(&mut out, "q 1", &r, "sou").unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.lines().count(), 1);
        assert_eq!(out.split_whitespace().count(), 6, "{out}");
    }

    #[test]
    fn trec_lines() {
        let mut out = Vec::new();
        write_trec(&mut out, "q1", &results(), "sou").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "q1 Q0 a.txt 1 1.5000 sou\n");
    }
}
