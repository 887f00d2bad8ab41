//! Teach the Chinese segmenter words it does not know, with a jieba user dictionary
//! (`word [frequency] [tag]` per line). The dictionary is stored in the index, so every query
//! segments the same way indexing did.
//!
//! Run: `cargo run --example user_dictionary`.

fn main() -> Result<(), sou::Error> {
    let dir = tempfile::tempdir()?;
    let dict = dir.path().join("words.txt");
    std::fs::write(&dict, "法医科学研究院 100000 nt\n")?;

    let options = sou::OpenOptions { user_dict: Some(dict), ..sou::OpenOptions::default() };
    let index = sou::Index::create_with(dir.path().join("index"), options)?;
    let words = |index: &sou::Index| {
        sou::analysis::analyze("中国法医科学研究院", index.segmenter())
            .into_iter()
            .filter(|t| t.kind != sou::analysis::TokenKind::Gram)
            .map(|t| t.text)
            .collect::<Vec<_>>()
    };
    println!("with the dictionary: {:?}", words(&index));
    println!("without: {:?}", words(&sou::Index::create(dir.path().join("plain"))?));

    index.add_documents([sou::Document::new("a", "报告").with_text("中国法医科学研究院发布年度报告。")])?;
    // Opened again later, the index uses its stored dictionary by itself.
    drop(index);
    let index = sou::Index::open(dir.path().join("index"))?;
    println!("search: {} hit(s)", index.search(&sou::Query::new("法医科学研究院"))?.total);
    Ok(())
}
