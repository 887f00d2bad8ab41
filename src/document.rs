//! The document model and the parsers that turn one file's text into documents: the seed
//! news format, generic `.txt`/`.md`, and `.json`/`.jsonl` objects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analysis::script::ScriptCounts;
use crate::date::Date;

/// One searchable document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Unique id: the JSON `id`, else the path relative to the indexed folder.
    pub id: String,
    /// The file it came from, as walked (empty for documents added directly).
    pub path: String,
    /// Publisher or source line, if any.
    pub source: Option<String>,
    /// Title.
    pub title: String,
    /// Publication date, if known.
    pub date: Option<Date>,
    /// Chinese text (paragraphs separated by newlines).
    pub zh: String,
    /// English and other non-Chinese text.
    pub en: String,
}

impl Document {
    /// A document with an id and a title; fill the rest with [`Document::with_text`] or fields.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Document { id: id.into(), title: title.into(), ..Default::default() }
    }

    /// Adds text, routing each paragraph to `zh` or `en` by its script.
    pub fn with_text(mut self, text: &str) -> Self {
        route_paragraphs(text, &mut self.zh, &mut self.en);
        self
    }

    /// Approximate bytes the document occupies (its texts), for memory accounting.
    pub fn size(&self) -> usize {
        // The indexed document holds Chinese text twice (word and character fields) and the
        // title up to three times (title field, body field, character field).
        self.id.len() + self.path.len() + 3 * self.title.len() + 2 * self.zh.len() + self.en.len() + 64
    }

    /// Parses one JSON object (`id`, `title`, `text`, optional `date`, `source`, `zh`, `en`)
    /// the way `.jsonl` files are read.
    pub fn from_json_line(line: &str) -> Result<Document, String> {
        match parse_json_line(line, "", 1) {
            Some(result) => result.map(|(doc, _)| doc).map_err(|JsonProblem(m)| m),
            None => Err("empty line".into()),
        }
    }
}

/// The file formats sou reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, seed news format when it fits.
    Text,
    /// Markdown (optional `---` front matter with title/date/source).
    Markdown,
    /// One JSON object or an array of objects.
    Json,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// The format for a file name, by extension.
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" => Some(Format::Text),
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// Characters that take no room on the screen: zero-width spaces and joiners, the word joiner,
/// a byte-order mark, a soft hyphen.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{ad}' | '\u{180e}')
}

/// Appends each paragraph (blank-line or newline separated) of `text` to `zh` or `en`. A
/// paragraph of nothing visible (zero-width spaces, say) is no paragraph.
fn route_paragraphs(text: &str, zh: &mut String, en: &mut String) {
    for paragraph in text.lines().map(str::trim).filter(|l| !l.chars().all(is_invisible)) {
        let target = if ScriptCounts::of(paragraph).is_chinese() { &mut *zh } else { &mut *en };
        if !target.is_empty() {
            target.push('\n');
        }
        target.push_str(paragraph);
    }
}

/// A line holding only an ISO 8601 timestamp, e.g. `2023-11-14T16:37:42Z`.
fn is_iso_timestamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 16
        && b.len() <= 35
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[..4].iter().all(u8::is_ascii_digit)
        && !line.contains(' ')
        && Date::parse(line).is_some()
}

/// The date at the start of a seed date line such as `November 14, 2023   2 min   277 words`.
fn date_line(line: &str) -> Option<Date> {
    let head = line.split("  ").next().unwrap_or(line);
    Date::parse(head)
}

/// Parses a `.txt` file: the seed news format when it fits, else generic text.
pub fn parse_text(text: &str, id: &str, stem: &str) -> Document {
    parse_seed(text, id).unwrap_or_else(|| parse_generic(text, id, stem))
}

/// The seed format: source line, title, date line, Chinese summary, ISO timestamp, body.
/// The source line is optional; paragraphs are routed by script either side of the timestamp.
fn parse_seed(text: &str, id: &str) -> Option<Document> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let date_at = (1..lines.len().min(4)).find(|&i| date_line(lines[i]).is_some())?;
    let stamp_at = (date_at + 1..lines.len()).find(|&i| is_iso_timestamp(lines[i]))?;
    let mut doc = Document::new(id, lines[date_at - 1]);
    if date_at >= 2 {
        doc.source = Some(lines[..date_at - 1].join(" "));
    }
    doc.date = Date::parse(lines[stamp_at]).or_else(|| date_line(lines[date_at]));
    let body = lines[date_at + 1..stamp_at].iter().chain(&lines[stamp_at + 1..]);
    for line in body {
        route_paragraphs(line, &mut doc.zh, &mut doc.en);
    }
    Some(doc)
}

/// Generic text: a short first line is the title (file stem otherwise), the rest is body.
fn parse_generic(text: &str, id: &str, stem: &str) -> Document {
    let trimmed = text.trim_start();
    let (first, rest) = trimmed.split_once('\n').unwrap_or((trimmed, ""));
    let first = first.trim().trim_start_matches('#').trim();
    let (title, body) = if !first.is_empty() && first.chars().count() <= 120 { (first, rest) } else { (stem, trimmed) };
    Document::new(id, title).with_text(body)
}

/// Parses Markdown: front matter (`title:`, `date:`, `source:`) when present, else like text.
/// Returns a warning for a front-matter date that is no date.
pub fn parse_markdown(text: &str, id: &str, stem: &str) -> (Document, Option<String>) {
    let text = text.trim_start_matches('\u{feff}');
    let Some((front, body)) = split_front_matter(text) else {
        return (parse_generic(text, id, stem), None);
    };
    let value_of = |key: &str| {
        front.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            let v = v.trim().trim_matches('"');
            (k.trim() == key && !v.is_empty()).then(|| v.to_string())
        })
    };
    let mut doc = match value_of("title") {
        Some(title) => Document::new(id, title).with_text(&strip_heading_marks(body)),
        None => parse_generic(body, id, stem),
    };
    let (date, warning) = date_value(value_of("date").as_deref());
    doc.date = date;
    doc.source = value_of("source");
    (doc, warning)
}

/// A document's date from its `date` value; a value that is there but is no date between
/// 0001-01-01 and 9999-12-31 gives no date and a warning, never a wrong date.
fn date_value(text: Option<&str>) -> (Option<Date>, Option<String>) {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => (None, None),
        Some(text) => match Date::parse(text) {
            Some(date) => (Some(date), None),
            None => {
                let shown: String = text.chars().take(40).collect();
                (
                    None,
                    Some(format!("date {shown:?} is not a day from 0001-01-01 to 9999-12-31; indexed without a date")),
                )
            }
        },
    }
}

/// Splits `---` front matter from the body.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let after = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n"))?;
    let end = after.find("\n---")?;
    let body = after[end + 4..].split_once('\n').map_or("", |(_, b)| b);
    Some((&after[..end], body))
}

/// Removes Markdown heading marks so `# Heading` indexes as `Heading`.
fn strip_heading_marks(body: &str) -> String {
    body.lines().map(|l| l.trim_start_matches('#').trim_start()).collect::<Vec<_>>().join("\n")
}

/// Why a JSON value could not become a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonProblem(pub String);

/// A document and a warning about it (a bad date), if any.
pub type WithWarning = (Document, Option<String>);

/// Converts one JSON object into a document. `fallback_id` is used when it has no `id`.
pub fn from_json(value: &Value, fallback_id: &str) -> Result<WithWarning, JsonProblem> {
    let Value::Object(map) = value else {
        return Err(JsonProblem(format!("expected a JSON object, found {}", json_kind(value))));
    };
    let string = |key: &str| -> Option<String> {
        match map.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let id = string("id").filter(|s| !s.is_empty()).unwrap_or_else(|| fallback_id.to_string());
    let mut doc = Document::new(id, string("title").unwrap_or_default());
    doc.source = string("source");
    let (date, warning) = date_value(string("date").as_deref());
    doc.date = date;
    if let Some(zh) = string("zh") {
        doc.zh = zh;
    }
    if let Some(en) = string("en") {
        doc.en = en;
    }
    if let Some(text) = string("text") {
        route_paragraphs(&text, &mut doc.zh, &mut doc.en);
    }
    if doc.title.is_empty() && doc.zh.is_empty() && doc.en.is_empty() {
        return Err(JsonProblem("object has no title, text, zh or en".into()));
    }
    Ok((doc, warning))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a `.json` file: one object, or an array of objects (ids default to `file#n`).
pub fn parse_json(text: &str, id: &str) -> Result<Vec<Result<WithWarning, JsonProblem>>, JsonProblem> {
    let value: Value = serde_json::from_str(text).map_err(|e| JsonProblem(format!("invalid JSON: {e}")))?;
    Ok(match &value {
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, v)| from_json(v, &format!("{id}#{}", i + 1))).collect()
        }
        other => vec![from_json(other, id)],
    })
}

/// Parses one line of a `.jsonl` file (`line_no` from 1). Blank lines give `None`.
pub fn parse_json_line(line: &str, id: &str, line_no: usize) -> Option<Result<WithWarning, JsonProblem>> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    Some(
        serde_json::from_str::<Value>(line)
            .map_err(|e| JsonProblem(format!("line {line_no}: invalid JSON: {e}")))
            .and_then(|v| from_json(&v, &format!("{id}#{line_no}")))
            .map(|(doc, warning)| (doc, warning.map(|w| format!("line {line_no}: {w}"))))
            .map_err(|JsonProblem(m)| {
                JsonProblem(if m.starts_with("line ") { m } else { format!("line {line_no}: {m}") })
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "真相集中营\n\nReuters-US set to act on fentanyl\n\nNovember 14, 2023   2 min   277 words\n\n\
        这则报道透露了美国政府计划解除对中国法医科学研究院的限制。芬太尼危机。\n\n2023-11-14T16:37:42Z\n\
        A photo caption line.\n\nU.S. President Joe Biden's administration is set to remove restrictions.\n\n\
        Washington put the institute on the \"entity list\" in 2020.\n";

    #[test]
    fn parses_the_seed_format() {
        let doc = parse_text(SEED, "a.txt", "a");
        assert_eq!(doc.id, "a.txt");
        assert_eq!(doc.source.as_deref(), Some("真相集中营"));
        assert_eq!(doc.title, "Reuters-US set to act on fentanyl");
        assert_eq!(doc.date, Date::new(2023, 11, 14));
        assert_eq!(doc.zh, "这则报道透露了美国政府计划解除对中国法医科学研究院的限制。芬太尼危机。");
        assert!(doc.en.starts_with("A photo caption line.\nU.S. President"), "{}", doc.en);
        assert!(doc.en.ends_with("\"entity list\" in 2020."));
        assert!(!doc.en.contains("2023-11-14T16"));
    }

    #[test]
    fn seed_without_source_line() {
        let doc = parse_text("Title here\nNov 2, 2023\n中文摘要内容\n2023-11-02T01:00:00Z\nBody.\n", "b", "b");
        assert_eq!(doc.title, "Title here");
        assert_eq!(doc.source, None);
        assert_eq!(doc.zh, "中文摘要内容");
        assert_eq!(doc.en, "Body.");
    }

    #[test]
    fn generic_text_routes_paragraphs_by_script() {
        let doc = parse_text(
            "Notes on trade\n\n美国商务部将更多中国企业列入实体清单。\n\nThe entity list grew again.\n",
            "notes.txt",
            "notes",
        );
        assert_eq!(doc.title, "Notes on trade");
        assert_eq!(doc.zh, "美国商务部将更多中国企业列入实体清单。");
        assert_eq!(doc.en, "The entity list grew again.");
        assert_eq!(doc.date, None);
    }

    #[test]
    fn long_first_line_is_not_a_title() {
        let body = "芬太尼".repeat(50);
        let doc = parse_text(&body, "x.txt", "x");
        assert_eq!(doc.title, "x");
        assert_eq!(doc.zh, body);
    }

    #[test]
    fn markdown_front_matter() {
        let md = "---\ntitle: 芬太尼管制\ndate: 2023-11-16\nsource: notes\n---\n# Heading\n\n中国宣布加强管制。\n";
        let (doc, warning) = parse_markdown(md, "m.md", "m");
        assert_eq!(warning, None);
        assert_eq!(doc.title, "芬太尼管制");
        assert_eq!(doc.date, Date::new(2023, 11, 16));
        assert_eq!(doc.source.as_deref(), Some("notes"));
        assert_eq!(doc.en, "Heading");
        assert_eq!(doc.zh, "中国宣布加强管制。");
        let (plain, _) = parse_markdown("# 标题\n\nBody text.\n", "p.md", "p");
        assert_eq!(plain.title, "标题");
        assert_eq!(plain.en, "Body text.");
    }

    #[test]
    fn json_objects_and_lines() {
        let (doc, _) = from_json(
            &serde_json::json!({"id": 7, "title": "T", "text": "芬太尼危机\nEnglish body", "extra": [1]}),
            "f",
        )
        .unwrap();
        assert_eq!((doc.id.as_str(), doc.zh.as_str(), doc.en.as_str()), ("7", "芬太尼危机", "English body"));
        let (doc, _) = from_json(&serde_json::json!({"title": "no id"}), "f.json").unwrap();
        assert_eq!(doc.id, "f.json");
        assert!(from_json(&serde_json::json!([1]), "f").is_err());
        assert!(from_json(&serde_json::json!({"id": "x"}), "f").is_err());

        let docs = parse_json(r#"[{"id":"a","text":"x"},{"text":"y"},3]"#, "arr.json").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].as_ref().unwrap().0.id, "arr.json#2");
        assert!(docs[2].is_err());
        assert!(parse_json("{not json", "bad.json").is_err());

        assert!(parse_json_line("   ", "l.jsonl", 3).is_none());
        let err = parse_json_line("{oops", "l.jsonl", 4).unwrap().unwrap_err();
        assert!(err.0.starts_with("line 4: invalid JSON"), "{}", err.0);
        let err = parse_json_line("[]", "l.jsonl", 5).unwrap().unwrap_err();
        assert!(err.0.starts_with("line 5: expected a JSON object"), "{}", err.0);
    }

    #[test]
    fn dates_out_of_range_are_a_warning_and_no_date() {
        for (date, kept) in [("9999-12-31", true), ("0001-01-01", true), ("10000-01-01", false), ("soon", false)] {
            let line = serde_json::json!({"id": "d", "title": "t", "date": date}).to_string();
            let (doc, warning) = parse_json_line(&line, "f", 3).unwrap().unwrap();
            assert_eq!(doc.date.map(|d| d.to_string()), kept.then(|| date.to_string()), "{date}");
            assert_eq!(warning.is_some(), !kept, "{date}: {warning:?}");
            if let Some(w) = warning {
                assert!(w.starts_with("line 3: date") && w.contains(date), "{w}");
            }
        }
        let (doc, warning) = parse_markdown("---\ntitle: x\ndate: 2023-02-30\n---\nbody\n", "m", "m");
        assert_eq!((doc.date, warning.is_some()), (None, true));
    }

    #[test]
    fn paragraphs_of_zero_width_characters_are_not_text() {
        let doc = Document::new("z", "t").with_text("\u{200b}\u{200b}\u{200b}\n\u{feff}\u{200d}\n中文段落。\n");
        assert_eq!((doc.zh.as_str(), doc.en.as_str()), ("中文段落。", ""));
    }

    mod fuzz {
        //! Property tests: no input makes the parsers panic. Longer runs:
        //! `PROPTEST_CASES=200000 cargo test --release fuzz`.
        use super::super::*;
        use proptest::prelude::*;

        fn text_like() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                r#"[a-zA-Z0-9 ,.\n:#{}\[\]"-]{0,200}"#,
                "[\u{4e00}-\u{4e80}\u{3000}-\u{3010}\u{ff01}-\u{ff5e} \n]{0,200}",
                Just(String::from("---\ntitle: x\n---")),
            ]
        }

        proptest! {
            #[test]
            fn decoding_and_parsing_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                if let Ok(decoded) = crate::encoding::decode(&bytes) {
                    let text = decoded.into_text();
                    let _ = parse_text(&text, "id", "stem");
                    let _ = parse_markdown(&text, "id", "stem");
                    let _ = parse_json(&text, "id");
                }
            }

            #[test]
            fn text_parsers_never_panic(text in text_like()) {
                let doc = parse_text(&text, "id", "stem");
                prop_assert_eq!(doc.id.as_str(), "id");
                let _ = parse_markdown(&text, "id", "stem");
                let _ = parse_json(&text, "id");
                for (n, line) in text.lines().enumerate() {
                    let _ = parse_json_line(line, "id", n + 1);
                }
            }

            #[test]
            fn json_lines_with_odd_values_never_panic(
                id in prop_oneof![Just(serde_json::Value::Null), any::<i64>().prop_map(Into::into), any::<String>().prop_map(Into::into)],
                title in any::<String>(),
                text in text_like(),
                date in any::<String>(),
            ) {
                let line = serde_json::json!({"id": id, "title": title, "text": text, "date": date}).to_string();
                let _ = parse_json_line(&line, "f", 1);
            }
        }
    }
}
