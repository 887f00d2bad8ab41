//! Chinese analysis through the CLI: user dictionaries and the analyzer version guard.

use predicates::prelude::*;
use predicates::str::contains;

use crate::common::Fixture;

#[test]
fn user_dictionary_is_kept_with_the_index_and_used_by_queries() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "报告\n\n中国法医科学研究院发布年度报告。\n");
    f.write("dict.txt", "法医科学研究院 100000 nt\n");
    f.sou(&["index", "-q", "--dict", "dict.txt"]).assert().success();
    // The index's analyzer (with the stored dictionary) keeps the name whole.
    f.sou(&["analyze", "--index", "index", "法医科学研究院"])
        .assert()
        .success()
        .stdout(contains("words   0  法医科学研究院"));
    // Without the dictionary jieba splits it.
    f.sou(&["analyze", "法医科学研究院"]).assert().success().stdout(contains("words   0  法医 "));
    f.sou(&["search", "法医科学研究院"]).assert().success().stdout(contains("中国法医科学研究院"));
    let out = f.sou(&["stats", "--json"]).output().unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(stats["user_dictionary"].is_string());
    // Reindexing with the same dictionary is fine; the dictionary file can even be gone.
    f.sou(&["index", "-q"]).assert().success();
}

#[test]
fn a_different_dictionary_needs_a_rebuild() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "报告\n\n中国法医科学研究院发布年度报告。\n");
    f.write("dict.txt", "法医科学研究院 100000 nt\n");
    f.write("other.txt", "年度报告 100000 n\n");
    f.sou(&["index", "-q", "--dict", "dict.txt"]).assert().success();
    f.sou(&["index", "-q", "--dict", "other.txt"])
        .assert()
        .code(2)
        .stderr(contains("sou index --rebuild"))
        .stderr(contains("user dictionary"));
    f.sou(&["index", "-q", "--dict", "other.txt", "--rebuild"]).assert().success();
    f.sou(&["analyze", "--index", "index", "年度报告"]).assert().stdout(contains("words   0  年度报告"));
    f.sou(&["search", "年度报告"]).assert().success();
}

#[test]
fn a_bad_dictionary_is_a_clear_error() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "t\n\n正文。\n");
    f.write("dict.txt", "好词 12\n坏词 99999999999999999999999\n");
    f.sou(&["index", "--dict", "dict.txt"]).assert().code(2).stderr(contains("dict.txt")).stderr(contains("line 2"));
    f.sou(&["index", "--dict", "missing.txt"]).assert().code(2).stderr(contains("missing.txt"));
    assert!(!f.path("index").exists(), "a failed create leaves no index folder");
}

#[test]
fn traditional_documents_answer_simplified_queries() {
    let f = Fixture::empty();
    f.write("corpus/tw.txt", "台灣新聞\n\n衛生福利部宣布流感疫苗接種計畫正式開跑。\n");
    f.write("corpus/cn.txt", "大陆新闻\n\n美国商务部扩大实体清单。\n");
    f.index();
    f.sou(&["search", "疫苗接种计划"]).assert().success().stdout(contains("接種計畫"));
    f.sou(&["search", "實體清單"]).assert().success().stdout(contains("实体清单"));
    f.sou(&["search", "\"卫生福利部\""]).assert().success().stdout(contains("tw.txt"));
    f.sou(&["search", "\"卫生福利部\""]).assert().stdout(contains("cn.txt").not());
}
