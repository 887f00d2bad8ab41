//! The `sou` command line, end to end.

use predicates::prelude::*;
use predicates::str::contains;

use crate::common::{Fixture, highlighted};

#[test]
fn search_builds_the_default_index_when_missing() {
    let f = Fixture::standard();
    f.sou(&["search", "芬太尼"])
        .assert()
        .success()
        .stdout(contains("Officials discuss fentanyl and the entity list"))
        .stderr(contains("building index/ from corpus/"));
    assert!(f.path("index/meta.json").is_file());
    // Second run reuses it silently.
    f.sou(&["search", "芬太尼"]).assert().success().stderr(contains("building").not());
}

#[test]
fn search_builds_the_default_index_in_a_fresh_clone_whose_index_folder_holds_only_gitkeep() {
    // The README's first command on a fresh clone: index/ exists, with the .gitkeep that keeps
    // it in git, and must still be built.
    let f = Fixture::standard();
    std::fs::create_dir_all(f.path("index")).unwrap();
    std::fs::write(f.path("index/.gitkeep"), "").unwrap();
    f.sou(&["search", "芬太尼"]).assert().success().stderr(contains("building index/ from corpus/"));
    assert!(f.path("index/meta.json").is_file());
    // Anything else there is not taken for an empty folder: it is opened, and the error says why.
    let g = Fixture::standard();
    std::fs::create_dir_all(g.path("index")).unwrap();
    std::fs::write(g.path("index/notes.txt"), "mine").unwrap();
    g.sou(&["search", "芬太尼"]).assert().code(2).stderr(contains("cannot open index index/"));
    assert!(g.path("index/notes.txt").is_file());
}

#[test]
fn chinese_query_highlights_the_term_in_the_chinese_snippet() {
    let f = Fixture::standard();
    f.index();
    let hits = f.search_json("芬太尼");
    let ids: Vec<&str> = hits.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"corpus/news/fentanyl.txt") && ids.contains(&"b1"), "{ids:?}");
    assert!(!ids.contains(&"corpus/news/chips.txt"));
    for hit in &hits {
        if let Some(zh) = hit["snippets"].get("zh") {
            assert!(highlighted(zh).iter().all(|h| h == "芬太尼"), "{zh}");
        }
    }
    let seed = hits.iter().find(|h| h["id"] == "corpus/news/fentanyl.txt").unwrap();
    assert_eq!(highlighted(&seed["snippets"]["zh"]), vec!["芬太尼"]);
}

#[test]
fn english_phrase_is_highlighted_as_one_range() {
    let f = Fixture::standard();
    f.index();
    let hits = f.search_json("\"entity list\"");
    let ids: Vec<&str> = hits.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    for hit in &hits {
        let marks = highlighted(&hit["snippets"]["en"]);
        assert!(!marks.is_empty() && marks.iter().all(|m| m == "entity list"), "{marks:?}");
    }
}

#[test]
fn json_output_shape() {
    let f = Fixture::standard();
    f.index();
    let hits = f.search_json("fentanyl");
    assert!(!hits.is_empty());
    for (i, hit) in hits.iter().enumerate() {
        assert_eq!(hit["rank"], i + 1);
        assert!(hit["id"].is_string() && hit["title"].is_string() && hit["path"].is_string());
        assert!(hit["score"].as_f64().unwrap() > 0.0);
        assert!(hit["date"].is_string() || hit["date"].is_null());
        let snippets = hit["snippets"].as_object().unwrap();
        assert!(!snippets.is_empty());
        for snippet in snippets.values() {
            assert!(snippet["text"].is_string());
            assert!(snippet["highlights"].is_array() && snippet["char_highlights"].is_array());
        }
    }
    let seed = hits.iter().find(|h| h["id"] == "corpus/news/fentanyl.txt").unwrap();
    assert_eq!(seed["date"], "2023-11-14");
    assert_eq!(seed["path"], "corpus/news/fentanyl.txt");
    assert_eq!(seed["source"], "测试新闻社");
}

#[test]
fn exit_codes() {
    let f = Fixture::standard();
    f.index();
    f.sou(&["search", "fentanyl"]).assert().code(0);
    f.sou(&["search", "zzzqqqxxx"]).assert().code(1).stdout("");
    f.sou(&["search", "不存在的词语组合"]).assert().code(1);
    f.sou(&["search", ""]).assert().code(2).stderr(contains("empty query"));
    f.sou(&["search", "x", "--index", "no-such-index"]).assert().code(2).stderr(contains("no index"));
    f.sou(&["search", "date:[2023-13-01 TO *]"]).assert().code(2).stderr(contains("2023-13-01"));
    f.sou(&["index", "no-such-folder"]).assert().code(2).stderr(contains("no-such-folder"));
}

#[test]
fn errors_are_one_line_on_stderr_and_stdout_stays_empty() {
    let f = Fixture::standard();
    f.index();
    for bad in ["\"", "-", "OR", "title:", "date:[*", "(((("] {
        let out = f.sou(&["search", bad]).output().unwrap();
        assert!(out.status.code() == Some(1) || out.status.code() == Some(2), "{bad:?}: {:?}", out.status);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{bad:?}: {stderr}");
        if out.status.code() == Some(2) {
            assert!(out.stdout.is_empty());
            assert_eq!(stderr.lines().count(), 1, "{bad:?}: {stderr}");
        }
    }
}

#[test]
fn multi_word_chinese_query_matches_all_words() {
    let f = Fixture::standard();
    f.index();
    let ids = f.ids("美国 实体清单");
    assert!(
        ids.contains(&"corpus/news/fentanyl.txt".to_string()) && ids.contains(&"corpus/news/chips.txt".to_string())
    );
    assert!(!ids.contains(&"b1".to_string()));
    // Unspaced: segmented into words that must all occur.
    let ids = f.ids("芬太尼合作");
    assert_eq!(ids, vec!["corpus/news/fentanyl.txt"]);
}

#[test]
fn a_long_chinese_run_stays_searchable() {
    let f = Fixture::standard();
    f.index();
    assert_eq!(f.ids("标点符号"), vec!["corpus/long.txt"]);
    assert_eq!(f.ids("长度超过二十个汉字的中文句子"), vec!["corpus/long.txt"]);
    assert_eq!(f.ids("\"没有任何标点符号而且长度超过二十个汉字\""), vec!["corpus/long.txt"]);
}

#[test]
fn paragraphs_are_routed_by_script() {
    let f = Fixture::standard();
    f.index();
    let hits = f.search_json("变异株");
    assert_eq!(hits.len(), 1);
    assert_eq!(highlighted(&hits[0]["snippets"]["zh"]), vec!["变异株"]);
    assert!(hits[0]["snippets"]["en"]["text"].as_str().unwrap().starts_with("Updated vaccines"));
    assert_eq!(f.ids("en:变异株"), Vec::<String>::new());
    assert_eq!(f.ids("en:variant"), vec!["corpus/notes.md"]);
}

#[test]
fn stats_reports_documents() {
    let f = Fixture::standard();
    f.index();
    let out = f.sou(&["stats", "--json"]).output().unwrap();
    assert!(out.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["documents"], 6);
    assert!(stats["size_bytes"].as_u64().unwrap() > 0);
    assert!(stats["fields"].as_array().unwrap().iter().any(|f| f == "zh"));
    f.sou(&["stats"]).assert().success().stdout(contains("documents: 6"));
}

#[test]
fn stats_say_where_the_bytes_go() {
    let f = Fixture::standard();
    f.index();
    let out = f.sou(&["stats", "--json"]).output().unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let parts = stats["space"].as_array().unwrap();
    let bytes_of = |name: &str| parts.iter().find(|p| p["part"] == name).and_then(|p| p["bytes"].as_u64());
    assert!(bytes_of("store").unwrap() > 0 && bytes_of("positions").unwrap() > 0, "{parts:?}");
    // The parts are the index's files, so they cannot add up to more than the folder.
    let sum: u64 = parts.iter().map(|p| p["bytes"].as_u64().unwrap()).sum();
    assert!(sum <= stats["size_bytes"].as_u64().unwrap(), "{sum} > {}", stats["size_bytes"]);
    let positions = parts.iter().find(|p| p["part"] == "positions").unwrap();
    let fields: Vec<&str> =
        positions["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"grams") && fields.contains(&"en"), "{fields:?}");
    f.sou(&["stats"]).assert().success().stdout(contains("  positions"));
}

#[test]
fn index_summary_goes_to_stderr_and_json_report_to_stdout() {
    let f = Fixture::standard();
    let out = f.sou(&["index", "--json"]).output().unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], 5);
    assert_eq!(report["documents"], 6);
    assert!(String::from_utf8(out.stderr).unwrap().contains("5 added"));
    // Nothing changed: a rerun reads nothing.
    let out = f.sou(&["index", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["unchanged"].as_u64(), report["documents"].as_u64()), (Some(5), Some(0)));
}

#[test]
fn human_output_lists_rank_title_id_and_snippet() {
    let f = Fixture::standard();
    f.index();
    f.sou(&["search", "芬太尼检测试纸"])
        .assert()
        .success()
        .stdout(contains(" 1. 芬太尼检测试纸上架\n"))
        .stdout(contains("b1 · corpus/briefs.jsonl · 2024-02-20 · score"))
        .stdout(contains("zh: 多个城市的药店开始销售芬太尼检测试纸。"));
}

#[test]
fn analyze_shows_words_and_grams() {
    let f = Fixture::empty();
    f.sou(&["analyze", "法医科学研究院 COVID-19"])
        .assert()
        .success()
        .stdout(contains("words   0  法医"))
        .stdout(contains("covid"))
        .stdout(contains("grams"));
}

#[test]
fn shell_completions_name_the_subcommands() {
    let f = Fixture::empty();
    let out = f.sou(&["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("_sou()"), "a bash completion function");
    for sub in ["index", "search", "stats", "analyze", "eval"] {
        assert!(script.contains(sub), "{sub}");
    }
    f.sou(&["completions", "zsh"]).assert().success();
    f.sou(&["completions", "fish"]).assert().success();
    f.sou(&["completions", "powershell"]).assert().success();
}
