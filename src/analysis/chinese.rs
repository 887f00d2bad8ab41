//! Chinese word segmentation with jieba-rs: a lazily loaded dictionary, optional user words,
//! and a fast path for queries that never loads the dictionary.
//!
//! Loading jieba's dictionary costs ~75 ms, more than a whole English query. Indexing loads it
//! once. A query instead looks up, in a word → frequency FST built from the same dictionary at
//! compile time, the dictionary words that occur inside its few characters, and segments with a
//! tiny jieba holding only those words plus one unmatchable word that keeps the dictionary's
//! total frequency. jieba's choice for a text depends only on the dictionary words inside it,
//! their frequencies and that total, so the result is the same segmentation.

use std::path::Path;
use std::sync::{Arc, LazyLock, OnceLock};

use jieba_rs::Jieba;
use tantivy_fst::Map;

use crate::error::{Error, Result};

/// Segments runs of Han characters into words. Cheap to clone; clones share the dictionary.
#[derive(Clone)]
pub struct Segmenter {
    inner: Arc<Inner>,
}

struct Inner {
    /// `(word, frequency)` pairs added on top of jieba's default dictionary.
    user_words: Vec<(String, Option<usize>)>,
    /// What the user words came to in the full dictionary (see [`Segmenter::resolution`]):
    /// lets a query segment without loading it.
    resolved: Option<Resolved>,
    jieba: OnceLock<Jieba>,
}

/// User words with the frequencies jieba gave them (a word without one gets jieba's suggested
/// frequency, which depends on the whole dictionary) and the dictionary's total after them.
struct Resolved {
    frequencies: std::collections::HashMap<String, u64>,
    /// Characters of the longest user word.
    longest: usize,
    total: u64,
}

impl Resolved {
    /// Reads what [`Segmenter::resolution`] wrote: `total<TAB>N`, then `word<TAB>frequency`.
    fn parse(text: &str) -> Option<Resolved> {
        let mut lines = text.lines();
        let total = lines.next()?.strip_prefix("total\t")?.parse().ok()?;
        let mut frequencies = std::collections::HashMap::new();
        for line in lines {
            let (word, freq) = line.rsplit_once('\t')?;
            frequencies.insert(word.to_string(), freq.parse().ok()?);
        }
        let longest = frequencies.keys().map(|w| w.chars().count()).max().unwrap_or(0);
        Some(Resolved { frequencies, longest, total })
    }
}

include!(concat!(env!("OUT_DIR"), "/jieba_dict.rs"));

static WORD_FREQUENCIES: LazyLock<Map<&'static [u8]>> = LazyLock::new(|| {
    let bytes: &'static [u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jieba_words.fst"));
    Map::from(tantivy_fst::raw::Fst::new(bytes).expect("FST built by build.rs"))
});

/// A word no text contains (private-use characters): carries the rest of the total frequency.
const FILLER_WORD: &str = "\u{E000}\u{E001}\u{E002}";

static DEFAULT: LazyLock<Segmenter> = LazyLock::new(|| Segmenter {
    inner: Arc::new(Inner { user_words: Vec::new(), resolved: None, jieba: OnceLock::new() }),
});

impl Default for Segmenter {
    /// The process-wide segmenter with jieba's default dictionary.
    fn default() -> Self {
        DEFAULT.clone()
    }
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("user_words", &self.inner.user_words.len())
            .field("loaded", &self.inner.jieba.get().is_some())
            .finish()
    }
}

impl Segmenter {
    /// A segmenter with jieba's default dictionary plus the words of a user dictionary in
    /// jieba's format: one `word [frequency] [tag]` per line.
    pub fn with_user_dict(text: &str, path: &Path) -> Result<Self> {
        let user_words =
            parse_user_dict(text).map_err(|message| Error::Dictionary { path: path.to_path_buf(), message })?;
        Ok(Segmenter { inner: Arc::new(Inner { user_words, resolved: None, jieba: OnceLock::new() }) })
    }

    /// Like [`Segmenter::with_user_dict`], with the `resolution` an index stored when it was
    /// created: queries then segment with the user words without loading jieba's dictionary.
    /// A resolution that does not parse is ignored (queries load the dictionary instead).
    pub(crate) fn with_resolved_user_dict(text: &str, path: &Path, resolution: &str) -> Result<Self> {
        let user_words =
            parse_user_dict(text).map_err(|message| Error::Dictionary { path: path.to_path_buf(), message })?;
        let resolved = Resolved::parse(resolution);
        Ok(Segmenter { inner: Arc::new(Inner { user_words, resolved, jieba: OnceLock::new() }) })
    }

    /// What the user words come to in jieba's full dictionary, as text to store beside the
    /// dictionary: the total frequency, then each user word's frequency. Loads the dictionary
    /// (indexing needs it anyway).
    pub(crate) fn resolution(&self) -> String {
        let mut frequencies: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        let mut total = DICT_TOTAL;
        let mut jieba = Jieba::new();
        for (word, freq) in &self.inner.user_words {
            let before = frequencies.get(word.as_str()).copied().or_else(|| WORD_FREQUENCIES.get(word));
            let after = jieba.add_word(word, *freq, None) as u64;
            if word.is_empty() {
                continue;
            }
            total = total - before.unwrap_or(0) + after;
            frequencies.insert(word, after);
        }
        let _ = self.inner.jieba.set(jieba);
        let mut out = format!("total\t{total}\n");
        for (word, freq) in frequencies {
            out.push_str(&format!("{word}\t{freq}\n"));
        }
        out
    }

    fn jieba(&self) -> &Jieba {
        self.inner.jieba.get_or_init(|| {
            let mut jieba = Jieba::new();
            for (word, freq) in &self.inner.user_words {
                jieba.add_word(word, *freq, None);
            }
            jieba
        })
    }

    /// Calls `emit(start, end)` with the byte range of every word of a Han run, in order.
    pub fn words(&self, han: &str, mut emit: impl FnMut(usize, usize)) {
        if han.chars().nth(1).is_none() {
            // A single character is a word by itself: skip loading the dictionary for it.
            emit(0, han.len());
            return;
        }
        for token in self.jieba().cut(han, true) {
            emit(token.byte_start, token.byte_end);
        }
    }

    /// Like [`Segmenter::words`], for a query: the same words, but without loading the whole
    /// dictionary when it is not loaded yet (and there are no user words).
    pub fn query_words(&self, han: &str, mut emit: impl FnMut(usize, usize)) {
        let unresolved = !self.inner.user_words.is_empty() && self.inner.resolved.is_none();
        if unresolved || self.inner.jieba.get().is_some() || han.chars().nth(1).is_none() {
            return self.words(han, emit);
        }
        for token in jieba_for(han, self.inner.resolved.as_ref()).cut(han, true) {
            emit(token.byte_start, token.byte_end);
        }
    }
}

/// A jieba with exactly the dictionary words that occur in `text` (user words included, with
/// their resolved frequencies), and the dictionary's total frequency: it segments `text` as
/// the full dictionary would.
fn jieba_for(text: &str, user: Option<&Resolved>) -> Jieba {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let chars = bounds.len() - 1;
    let longest = DICT_LONGEST_WORD.max(user.map_or(0, |u| u.longest));
    let mut jieba = Jieba::empty();
    let mut seen = std::collections::HashSet::new();
    let mut sum = 0;
    for start in 0..chars {
        for end in start + 1..=(start + longest).min(chars) {
            let word = &text[bounds[start]..bounds[end]];
            let freq = user.and_then(|u| u.frequencies.get(word).copied()).or_else(|| WORD_FREQUENCIES.get(word));
            if let Some(freq) = freq
                && seen.insert(word)
            {
                jieba.add_word(word, Some(freq as usize), None);
                sum += freq;
            }
        }
    }
    let total = user.map_or(DICT_TOTAL, |u| u.total);
    jieba.add_word(FILLER_WORD, Some(total.saturating_sub(sum) as usize), None);
    jieba
}

/// Parses jieba's user-dictionary format as Python jieba's `load_userdict` reads it: one
/// `word [frequency] [tag]` per line, frequency and tag both optional, the word may hold
/// spaces (`Edu Trust认证 2000`); blank lines and `#` comments are passed over. The error names
/// the line it cannot take (a frequency too large to count).
fn parse_user_dict(text: &str) -> std::result::Result<Vec<(String, Option<usize>)>, String> {
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Like jieba's `^(.+?)( [0-9]+)?( [a-z]+)?$`: peel a tag, then a frequency, off the end.
        let mut word = line;
        fn last_field(text: &str) -> Option<(&str, &str)> {
            text.rsplit_once(char::is_whitespace).map(|(head, last)| (head.trim_end(), last))
        }
        if let Some((head, last)) = last_field(word)
            && !head.is_empty()
            && last.bytes().all(|b| b.is_ascii_lowercase())
        {
            word = head;
        }
        let mut freq = None;
        if let Some((head, last)) = last_field(word)
            && !head.is_empty()
            && last.bytes().all(|b| b.is_ascii_digit())
        {
            let parsed = last.parse::<usize>().map_err(|_| format!("line {}: frequency {last} is too large", n + 1))?;
            freq = Some(parsed);
            word = head;
        }
        // Text is segmented after normalization: a Traditional word (凱特琳) must be looked for
        // in its Simplified form (凯特琳), or it would never match.
        words.push((super::normalize::normalize(word).text.into_owned(), freq));
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(seg: &Segmenter, text: &str) -> Vec<String> {
        let mut words = Vec::new();
        seg.words(text, |s, e| words.push(text[s..e].to_string()));
        words
    }

    #[test]
    fn user_dictionaries_parse_as_python_jieba_reads_them() {
        // Lines of jieba's own test/userdict.txt, and the forms its documentation allows.
        let text = "云计算 5\n李小福 2 nr\n创新办 3 i\neasy_install 3 eng\n好用 300\n韩玉赏鉴 3 nz\n八一双鹿 3 nz\n\
                    台中\n凱特琳 nz\nEdu Trust认证 2000\n\n# a comment\n  空格  \n";
        let words = parse_user_dict(text).unwrap();
        let expect: Vec<(&str, Option<usize>)> = vec![
            ("云计算", Some(5)),
            ("李小福", Some(2)),
            ("创新办", Some(3)),
            ("easy_install", Some(3)),
            ("好用", Some(300)),
            ("韩玉赏鉴", Some(3)),
            ("八一双鹿", Some(3)),
            ("台中", None),
            ("凯特琳", None),
            ("Edu Trust认证", Some(2000)),
            ("空格", None),
        ];
        let got: Vec<(&str, Option<usize>)> = words.iter().map(|(w, f)| (w.as_str(), *f)).collect();
        assert_eq!(got, expect);
        let err = parse_user_dict("好词 12\n大数 99999999999999999999999\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
    }

    #[test]
    fn queries_with_a_user_dictionary_segment_like_the_full_dictionary() {
        let dict = "法医科学研究院 100000 nt\n年度报告\n凱特琳 nz\n研究 5\n中方在\n";
        let full = Segmenter::with_user_dict(dict, Path::new("d")).unwrap();
        let resolution = full.resolution();
        let quick = Segmenter::with_resolved_user_dict(dict, Path::new("d"), &resolution).unwrap();
        let text = "中国法医科学研究院发布年度报告研究人员表示中方在芬太尼问题上的配合凱特琳南京市长江大桥";
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        for start in 0..chars.len() {
            for len in 1..=10.min(chars.len() - start) {
                let end = chars.get(start + len).map_or(text.len(), |c| c.0);
                let piece = &text[chars[start].0..end];
                let mut got = Vec::new();
                quick.query_words(piece, |s, e| got.push(piece[s..e].to_string()));
                assert_eq!(got, cut(&full, piece), "{piece}");
            }
        }
        assert!(quick.inner.jieba.get().is_none(), "the query side never loaded the dictionary");
    }

    #[test]
    fn segments_into_words_with_byte_ranges() {
        let words = cut(&Segmenter::default(), "芬太尼危机");
        assert_eq!(words.concat(), "芬太尼危机");
        assert!(words.contains(&"危机".to_string()), "{words:?}");
    }

    #[test]
    fn query_segmentation_without_the_dictionary_is_jiebas() {
        let text = "美国政府正在考虑解除对中国公安部下属法医科学研究院的制裁以换取北京在芬太尼问题上的配合\
                    该研究院于二〇二〇年被列入美国商务部的实体清单理由涉及新疆人权问题分析人士认为这一让步显示\
                    衛生福利部疾病管制署宣布流感疫苗接種計畫正式開跑南京市长江大桥结婚的和尚未结婚的";
        let full =
            Segmenter { inner: Arc::new(Inner { user_words: Vec::new(), resolved: None, jieba: OnceLock::new() }) };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        // Every window of 1 to 12 characters at every position.
        for start in 0..chars.len() {
            for len in 1..=12.min(chars.len() - start) {
                let end = chars.get(start + len).map_or(text.len(), |c| c.0);
                let piece = &text[chars[start].0..end];
                let quick: Vec<&str> = jieba_for(piece, None).cut(piece, true).iter().map(|t| t.word).collect();
                let mut slow = Vec::new();
                full.words(piece, |s, e| slow.push(&piece[s..e]));
                if len > 1 {
                    assert_eq!(quick, slow, "{piece}");
                }
            }
        }
    }

    #[test]
    fn whole_runs_of_the_bundled_corpus_segment_identically() {
        let full =
            Segmenter { inner: Arc::new(Inner { user_words: Vec::new(), resolved: None, jieba: OnceLock::new() }) };
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let mut runs = 0;
        for found in crate::corpus::walk(&root, None) {
            let crate::corpus::Found::File(file) = found else { continue };
            let text = std::fs::read_to_string(&file.path).unwrap();
            let text = crate::analysis::normalize::normalize(&text).text.into_owned();
            for run in crate::analysis::script::runs(&text).filter(|r| r.han && r.end - r.start > 3) {
                let piece = &text[run.start..run.end];
                let quick: Vec<&str> = jieba_for(piece, None).cut(piece, true).iter().map(|t| t.word).collect();
                let mut slow = Vec::new();
                full.words(piece, |s, e| slow.push(&piece[s..e]));
                assert_eq!(quick, slow, "{piece}");
                runs += 1;
            }
        }
        assert!(runs > 100, "{runs}");
    }

    #[test]
    fn user_dictionary_words_stay_whole() {
        let seg = Segmenter::with_user_dict("法医科学研究院 10000 nt\n", Path::new("d.txt")).unwrap();
        assert_eq!(cut(&seg, "中国法医科学研究院"), vec!["中国", "法医科学研究院"]);
    }

    #[test]
    fn bad_user_dictionary_names_the_line() {
        let err =
            Segmenter::with_user_dict("好词 12\n坏词 123456789012345678901234\n", Path::new("d.txt")).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
