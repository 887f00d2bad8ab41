//! Index documents you build yourself and search them.
//!
//! A `Document` has an id, a title and text in Chinese and/or English; `with_text` routes each
//! paragraph to the right language by its script. Run: `cargo run --example index_documents`.

fn main() -> Result<(), sou::Error> {
    let dir = tempfile::tempdir()?;
    let index = sou::Index::create(dir.path().join("index"))?;

    let docs = [
        sou::Document::new("talks-1", "US and China discuss fentanyl")
            .with_text("美国与中国讨论芬太尼管制合作。\nThe two sides discussed fentanyl precursors."),
        sou::Document::new("chips-1", "芯片出口管制").with_text("美国商务部将更多企业列入实体清单。"),
    ];
    index.add_documents(docs)?;

    // Chinese finds pieces of words (实体 inside 实体清单); English is stemmed (precursor).
    for query in ["实体", "precursor", "芬太尼 cooperation"] {
        let results = index.search(&sou::Query::new(query).any(true))?;
        println!("{query}: {} hit(s)", results.total);
        for hit in &results.hits {
            println!("  {} {:.2} {}", hit.id, hit.score, hit.title);
        }
    }
    Ok(())
}
