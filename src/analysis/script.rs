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

/// Splits `text` into alternating Han and non-Han runs covering it completely.
pub fn runs(text: &str) -> impl Iterator<Item = Run> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, first) = chars.next()?;
        let han = is_han(first);
        let mut end = start + first.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if is_han(c) != han {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        Some(Run { start, end, han })
    })
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
        let mut counts = ScriptCounts::default();
        let mut in_word = false;
        for c in text.chars() {
            if is_han(c) {
                counts.han += 1;
                in_word = false;
            } else if c.is_alphabetic() {
                if !in_word {
                    counts.latin_words += 1;
                }
                in_word = true;
            } else {
                in_word = false;
            }
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

    fn run_texts(text: &str) -> Vec<(&str, bool)> {
        runs(text).map(|r| (&text[r.start..r.end], r.han)).collect()
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
