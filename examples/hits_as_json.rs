//! Results are plain data: serialize them to JSON (as `sou search --json` and the HTTP API do)
//! and read them back with the same types, offsets included.
//!
//! Run: `cargo run --example hits_as_json`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let index = sou::Index::create(dir.path().join("index"))?;
    index.add_documents([sou::Document::new("a", "芬太尼危机").with_text("这场芬太尼危机仍在加剧。")])?;
    let results = index.search(&sou::Query::new("芬太尼"))?;

    let json = serde_json::to_string(&results)?;
    let back: sou::SearchResults = serde_json::from_str(&json)?;
    assert_eq!(back.hits, results.hits);

    let hit = &back.hits[0];
    let zh = hit.snippets.zh.as_ref().expect("a Chinese snippet");
    // `highlights` are byte ranges into the UTF-8 text, `char_highlights` character ranges.
    let [start, end] = zh.highlights[0];
    let [cs, ce] = zh.char_highlights[0];
    let chars: Vec<char> = zh.text.chars().collect();
    println!(
        "{} | bytes {start}..{end}: {} | chars {cs}..{ce}: {}",
        zh.text,
        &zh.text[start..end],
        chars[cs..ce].iter().collect::<String>()
    );
    println!("title highlight (chars): {:?}", hit.title_char_highlights);
    Ok(())
}
