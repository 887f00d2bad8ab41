//! Chinese word segmentation with jieba-rs: a lazily loaded dictionary, optional user words.
//!
//! Loading jieba's dictionary costs ~100 ms, so it happens on the first Han text, never for
//! English-only work. A segmenter with a user dictionary keeps its own jieba instance.

use std::path::Path;
use std::sync::{Arc, LazyLock, OnceLock};

use jieba_rs::Jieba;

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
