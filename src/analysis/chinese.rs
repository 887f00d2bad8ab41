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
    jieba: OnceLock<Jieba>,
}

include!(concat!(env!("OUT_DIR"), "/jieba_dict.rs"));

static WORD_FREQUENCIES: LazyLock<Map<&'static [u8]>> = LazyLock::new(|| {
    let bytes: &'static [u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jieba_words.fst"));
    Map::from(tantivy_fst::raw::Fst::new(bytes).expect("FST built by build.rs"))
});

/// A word no text contains (private-use characters): carries the rest of the total frequency.
const FILLER_WORD: &str = "\u{E000}\u{E001}\u{E002}";

static DEFAULT: LazyLock<Segmenter> =
    LazyLock::new(|| Segmenter { inner: Arc::new(Inner { user_words: Vec::new(), jieba: OnceLock::new() }) });

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
        Ok(Segmenter { inner: Arc::new(Inner { user_words, jieba: OnceLock::new() }) })
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
        if !self.inner.user_words.is_empty() || self.inner.jieba.get().is_some() || han.chars().nth(1).is_none() {
            return self.words(han, emit);
        }
        for token in jieba_for(han).cut(han, true) {
            emit(token.byte_start, token.byte_end);
        }
    }
}

/// A jieba with exactly the dictionary words that occur in `text`, their frequencies, and the
/// dictionary's total frequency: it segments `text` as the full dictionary would.
fn jieba_for(text: &str) -> Jieba {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let chars = bounds.len() - 1;
    let mut jieba = Jieba::empty();
    let mut seen = std::collections::HashSet::new();
    let mut sum = 0;
    for start in 0..chars {
        for end in start + 1..=(start + DICT_LONGEST_WORD).min(chars) {
            let word = &text[bounds[start]..bounds[end]];
            if let Some(freq) = WORD_FREQUENCIES.get(word)
                && seen.insert(word)
            {
                jieba.add_word(word, Some(freq as usize), None);
                sum += freq;
            }
        }
    }
    jieba.add_word(FILLER_WORD, Some(DICT_TOTAL.saturating_sub(sum) as usize), None);
    jieba
}

/// Parses jieba's user-dictionary format; the error names the offending line.
fn parse_user_dict(text: &str) -> std::result::Result<Vec<(String, Option<usize>)>, String> {
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        if word.starts_with('#') {
            continue;
        }
        let freq = match parts.next() {
            None => None,
            Some(f) => {
                Some(f.parse::<usize>().map_err(|_| format!("line {}: frequency {f:?} is not a whole number", n + 1))?)
            }
        };
        words.push((word.to_string(), freq));
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
        let full = Segmenter { inner: Arc::new(Inner { user_words: Vec::new(), jieba: OnceLock::new() }) };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        // Every window of 1 to 12 characters at every position.
        for start in 0..chars.len() {
            for len in 1..=12.min(chars.len() - start) {
                let end = chars.get(start + len).map_or(text.len(), |c| c.0);
                let piece = &text[chars[start].0..end];
                let quick: Vec<&str> = jieba_for(piece).cut(piece, true).iter().map(|t| t.word).collect();
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
        let full = Segmenter { inner: Arc::new(Inner { user_words: Vec::new(), jieba: OnceLock::new() }) };
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let mut runs = 0;
        for found in crate::corpus::walk(&root, None) {
            let crate::corpus::Found::File(file) = found else { continue };
            let text = std::fs::read_to_string(&file.path).unwrap();
            let text = crate::analysis::normalize::normalize(&text).text.into_owned();
            for run in crate::analysis::script::runs(&text).filter(|r| r.han && r.end - r.start > 3) {
                let piece = &text[run.start..run.end];
                let quick: Vec<&str> = jieba_for(piece).cut(piece, true).iter().map(|t| t.word).collect();
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
        let err = Segmenter::with_user_dict("好词 12\n坏词 many\n", Path::new("d.txt")).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
