//! Printers for results: human-readable (colour on a terminal) and JSON lines, over any
//! `Write`, so the CLI, tests and a server share them.

use std::io::{self, Write};

use crate::search::{Hit, SearchResults};
use crate::snippet::Snippet;

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const MATCH: &str = "\x1b[1;31m";
const RESET: &str = "\x1b[0m";

/// Writes `text` with the byte ranges in `highlights` marked: ANSI colour when `color`,
/// otherwise unmarked (pipes get clean text).
fn write_marked(w: &mut dyn Write, text: &str, highlights: &[[usize; 2]], color: bool, base: &str) -> io::Result<()> {
    if !color {
        return w.write_all(text.as_bytes());
    }
    let mut last = 0;
    for &[start, end] in highlights {
        if start < last || end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        write!(w, "{}{MATCH}{}{RESET}{base}", &text[last..start], &text[start..end])?;
        last = end;
    }
    w.write_all(&text.as_bytes()[last..])
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
        writeln!(w, "    {dim}{}{path}{date} · score {:.2}{reset}", hit.id, hit.score)?;
        for (lang, snippet) in shown_snippets(hit) {
            write!(w, "    {dim}{lang}:{reset} ")?;
            write_marked(w, &snippet.text.replace('\n', " "), &snippet.highlights, color, "")?;
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

/// Prints hits as a TREC run: `qid Q0 docid rank score tag`.
pub fn write_trec(w: &mut dyn Write, query_id: &str, results: &SearchResults, tag: &str) -> io::Result<()> {
    for hit in &results.hits {
        writeln!(w, "{query_id} Q0 {} {} {:.4} {tag}", hit.id, hit.rank, hit.score)?;
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
            hits: vec![Hit {
                rank: 1,
                id: "a.txt".into(),
                score: 1.5,
                title: "Fentanyl".into(),
                title_highlights: vec![[0, 8]],
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
    fn trec_lines() {
        let mut out = Vec::new();
        write_trec(&mut out, "q1", &results(), "sou").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "q1 Q0 a.txt 1 1.5000 sou\n");
    }
}
