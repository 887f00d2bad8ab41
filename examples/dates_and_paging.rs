//! Filter by date, sort by date, and page through results.
//!
//! Run: `cargo run --example dates_and_paging`.

fn main() -> Result<(), sou::Error> {
    let dir = tempfile::tempdir()?;
    let index = sou::Index::create(dir.path().join("index"))?;
    let mut batch = index.batch()?;
    for (i, day) in ["2023-11-14", "2023-12-02", "2024-02-20", "2024-03-05", "2024-05-01"].iter().enumerate() {
        let mut doc = sou::Document::new(format!("brief-{i}"), "Trade brief").with_text("关税审查仍在继续。");
        doc.date = Some(day.parse()?);
        batch.add(doc)?;
    }
    batch.finish()?;

    // Only 2024, newest first, two per page.
    let since = sou::Date::parse("2024-01-01");
    for page in 0..2 {
        let query = sou::Query::new("关税").since(since).sort(sou::SortBy::Date).limit(2).offset(page * 2);
        let results = index.search(&query)?;
        let shown: Vec<String> = results.hits.iter().map(|h| format!("{} {}", h.rank, h.date.unwrap())).collect();
        println!("page {} of {} hits: {shown:?}", page + 1, results.total);
    }
    // The same in the query text: date:[A TO B] (either end *).
    let results = index.search(&sou::Query::new("关税 date:[2023-01-01 TO 2023-12-31]"))?;
    println!("2023: {} hits", results.total);
    Ok(())
}
