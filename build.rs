//! Build step: jieba's dictionary (data/jieba/dict.txt.zst) → a word → frequency FST and the
//! dictionary's total frequency, for segmenting queries without loading the dictionary.

use std::io::Read;
use std::path::PathBuf;

fn main() {
    let source = "data/jieba/dict.txt.zst";
    println!("cargo:rerun-if-changed={source}");
    let compressed = std::fs::read(source).expect("read the jieba dictionary");
    let mut text = String::new();
    ruzstd::decoding::StreamingDecoder::new(&compressed[..])
        .expect("zstd frame")
        .read_to_string(&mut text)
        .expect("decompress the jieba dictionary");

    let mut entries: Vec<(&str, u64)> = Vec::new();
    let mut total: u64 = 0;
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(word), Some(freq)) = (parts.next(), parts.next()) else { continue };
        let freq: u64 = freq.parse().expect("dictionary frequency");
        total += freq;
        entries.push((word, freq));
    }
    // Later lines win, as when jieba inserts them into its trie in order.
    entries.reverse();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    entries.dedup_by(|a, b| a.0 == b.0);
    let longest = entries.iter().map(|(w, _)| w.chars().count()).max().unwrap_or(1);

    let mut builder = tantivy_fst::MapBuilder::memory();
    for (word, freq) in &entries {
        builder.insert(word, *freq).expect("sorted, unique keys");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("jieba_words.fst"), builder.into_inner().expect("fst")).expect("write fst");
    std::fs::write(
        out.join("jieba_dict.rs"),
        format!(
            "/// Sum of all word frequencies of jieba's dictionary.\npub(crate) const DICT_TOTAL: u64 = {total};\n\
             /// Characters in the dictionary's longest word.\npub(crate) const DICT_LONGEST_WORD: usize = {longest};\n"
        ),
    )
    .expect("write constants");
}
