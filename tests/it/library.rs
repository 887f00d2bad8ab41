//! The library API, as an embedding program uses it.

use sou::{Document, Index, Query};

fn doc(id: &str, title: &str, text: &str) -> Document {
    Document::new(id, title).with_text(text)
}

#[test]
fn add_search_replace_and_delete_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();
    index.add_documents([doc("a", "Fentanyl", "芬太尼危机"), doc("b", "Chips", "实体清单")]).unwrap();
    assert_eq!(index.num_docs(), 2);
    // Same id again replaces, never duplicates.
    index.add_documents([doc("a", "Fentanyl again", "芬太尼危机加剧")]).unwrap();
    assert_eq!(index.num_docs(), 2);
    let results = index.search(&Query::new("芬太尼")).unwrap();
    assert_eq!(results.total, 1);
    assert_eq!(results.hits[0].title, "Fentanyl again");
    index.delete_document("a").unwrap();
    assert_eq!(index.search(&Query::new("芬太尼")).unwrap().total, 0);
    assert_eq!(index.document("b").unwrap().unwrap().zh, "实体清单");
}

#[test]
fn an_id_twice_in_one_batch_on_a_fresh_index_keeps_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();
    index
        .add_documents([doc("a", "First", "芬太尼"), doc("b", "Other", "实体清单"), doc("a", "Second", "芬太尼")])
        .unwrap();
    assert_eq!(index.num_docs(), 2);
    let results = index.search(&Query::new("芬太尼")).unwrap();
    assert_eq!((results.total, results.hits[0].title.as_str()), (1, "Second"));
}

#[test]
fn reopening_registers_the_analyzers_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i");
    {
        let index = Index::create(&path).unwrap();
        index.add_documents([doc("a", "t", "中国法医科学研究院发布报告")]).unwrap();
    }
    let index = Index::open(&path).unwrap();
    // Words only exist if the jieba analyzer was used at index time and query time alike.
    assert_eq!(index.search(&Query::new("研究院")).unwrap().total, 1);
    assert_eq!(index.search(&Query::new("报告")).unwrap().total, 1);
}

#[test]
fn results_serialize_to_json() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();
    index.add_documents([doc("a", "Fentanyl", "Fentanyl precursors.")]).unwrap();
    let results = index.search(&Query::new("fentanyl")).unwrap();
    let json = serde_json::to_value(&results).unwrap();
    assert_eq!(json["total"], 1);
    assert_eq!(json["hits"][0]["snippets"]["en"]["highlights"][0], serde_json::json!([0, 8]));
}

#[test]
fn opening_a_folder_that_is_not_an_index_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "data").unwrap();
    let err = Index::open_or_create(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a sou index"), "{err}");
    assert!(dir.path().join("precious.txt").exists());
    let err = Index::open(dir.path().join("missing")).unwrap_err();
    assert!(err.to_string().contains("no index"), "{err}");
}

#[test]
fn an_index_from_another_analyzer_version_is_refused_with_a_rebuild_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i");
    Index::create(&path).unwrap().add_documents([doc("a", "t", "芬太尼")]).unwrap();
    // Pretend an older sou wrote it: the version stamp lives in the commit payload.
    let meta_path = path.join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    let version = format!("\\\"analyzer\\\":{}", sou::analysis::ANALYZER_VERSION);
    assert!(meta.contains(&version), "{meta}");
    std::fs::write(&meta_path, meta.replace(&version, "\\\"analyzer\\\":1")).unwrap();
    let err = Index::open(&path).unwrap_err().to_string();
    assert!(err.contains("analyzer 1") && err.contains("sou index --rebuild"), "{err}");
    // A rebuild starts over with the current analyzers, aside: the old index stays in place
    // (and refused) until the new one is finished.
    let rebuild = Index::rebuild(&path, sou::OpenOptions::default()).unwrap();
    assert_eq!(rebuild.index().num_docs(), 0);
    rebuild.index().add_documents([doc("b", "t", "新的")]).unwrap();
    assert!(Index::open(&path).is_err(), "still the old index");
    let rebuilt = rebuild.finish().unwrap();
    assert_eq!(rebuilt.num_docs(), 1);
    assert_eq!(Index::open(&path).unwrap().num_docs(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers, vec!["i"], "nothing left beside the index");
}
