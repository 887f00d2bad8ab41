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

/// What an embedding application meets, each through the public API only: a batch writer for
/// streams of documents, problems as values, normalized paths, results that deserialize,
/// dates with parts, title highlights in characters, errors to match on.
#[test]
fn an_embedding_application_gets_values_not_strings() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();

    // A batch: many documents, one writer, commits when asked.
    let mut batch = index.batch().unwrap();
    for i in 0..50 {
        batch.add(doc(&format!("d{i}"), "批量", &format!("第{i}篇文档，关于港口检查。"))).unwrap();
    }
    assert_eq!(batch.pending(), 50);
    assert_eq!(index.num_docs(), 0, "nothing is visible before the commit");
    batch.commit().unwrap();
    batch.delete("d0");
    batch.finish().unwrap();
    assert_eq!(index.num_docs(), 49);

    // Sync problems are values, and every spelling of a folder is the same folder.
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(corpus.join("bin.txt"), b"\x7fELF\0\0\0\x01\x02").unwrap();
    std::fs::write(corpus.join("ok.txt"), "标题\n\n正文内容。\n").unwrap();
    let report = index.sync(std::slice::from_ref(&corpus), &sou::SyncOptions::default(), &sou::NoProgress).unwrap();
    assert!(matches!(&report.problems[0].kind, sou::ProblemKind::Skipped { reason: sou::SkipReason::Binary }));
    let again = index.sync(&[corpus.join("./")], &sou::SyncOptions::default(), &sou::NoProgress).unwrap();
    assert_eq!((again.added, again.unchanged), (0, 1), "corpus/./ is corpus");

    // Results deserialize with the same types; dates have parts; titles have char ranges.
    let results = index.search(&Query::new("正文 标题")).unwrap();
    let back: sou::SearchResults = serde_json::from_str(&serde_json::to_string(&results).unwrap()).unwrap();
    assert_eq!(back.hits, results.hits);
    let hit = &index.search(&Query::new("标题")).unwrap().hits[0];
    assert_eq!(hit.title_char_highlights, vec![[0, 2]]);
    assert_eq!(hit.title_highlights, vec![[0, 6]]);
    let date: sou::Date = "2024-02-29".parse().unwrap();
    assert_eq!((date.year(), date.month(), date.day()), (2024, 2, 29));

    // Errors say what happened, as variants.
    assert!(matches!(Index::open(dir.path().join("none")), Err(sou::Error::NoIndex(_))));
    assert!(matches!(index.search(&Query::new("date:[2023-13-01 TO *]")), Err(sou::Error::Date(_))));
    let held = index.batch().unwrap();
    assert!(matches!(index.batch(), Err(sou::Error::Locked(_))));
    drop(held);
}

/// Every example runs to its end (cargo test builds them next to this test's binary).
#[test]
fn the_examples_run() {
    let examples = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("examples");
    let mut names = vec!["index_documents", "sync_folder", "user_dictionary", "dates_and_paging", "hits_as_json"];
    if cfg!(feature = "serve") {
        names.push("mount_router");
    }
    for name in names {
        let path = examples.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let out = std::process::Command::new(&path).output().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.is_empty(), "{name} says what it did");
    }
}

/// Found by the fault harness: killed between tantivy's first commit and sou's stamped one, an
/// index could not be opened at all ("an unknown or older format").
#[test]
fn an_index_killed_while_being_created_opens_as_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i");
    drop(Index::create(&path).unwrap());
    let meta_path = path.join("meta.json");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("payload");
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let index = Index::open(&path).unwrap();
    assert_eq!(index.num_docs(), 0);
    index.add_documents([doc("a", "t", "芬太尼")]).unwrap();
    assert_eq!(Index::open(&path).unwrap().num_docs(), 1);
}

/// A process started by another thread holds a copy of every open file until it runs its
/// program, the writer lock's file among them: a batch right after the last one must not
/// take that moment for another writer.
#[test]
fn a_batch_after_a_batch_is_not_refused_while_other_threads_start_processes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    let _ = std::process::Command::new("true").status();
                }
            });
        }
        for round in 0..100 {
            let added = index.add_documents([doc(&format!("d{round}"), "t", "芬太尼")]);
            if let Err(e) = added {
                done.store(true, Ordering::Relaxed);
                panic!("round {round}: {e}");
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    assert_eq!(index.num_docs(), 100);
}
