//! Query syntax, ranking, paging, snippets, batch runs, evaluation and explanations, through
//! the CLI.

use predicates::str::contains;

use crate::common::{Fixture, highlighted};

fn ids(f: &Fixture, args: &[&str]) -> Vec<String> {
    f.ids_with(args)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn terms_are_anded_or_ored_or_excluded() {
    let f = Fixture::standard();
    f.index();
    assert_eq!(sorted(ids(&f, &["芬太尼 fentanyl"])), strings(&["b1", "corpus/news/fentanyl.txt"]));
    assert!(ids(&f, &["芬太尼 chip"]).is_empty(), "AND: no document has both");
    assert_eq!(sorted(ids(&f, &["变异株 OR 标点符号"])), strings(&["corpus/long.txt", "corpus/notes.md"]));
    assert_eq!(sorted(ids(&f, &["变异株 || 标点符号"])), strings(&["corpus/long.txt", "corpus/notes.md"]));
    assert_eq!(ids(&f, &["\"entity list\" -芬太尼"]), strings(&["corpus/news/chips.txt"]));
    assert_eq!(ids(&f, &["\"entity list\" NOT fentanyl"]), strings(&["corpus/news/chips.txt"]));
    assert_eq!(
        sorted(ids(&f, &["-fentanyl"])),
        strings(&["corpus/long.txt", "corpus/news/chips.txt", "corpus/notes.md"]),
        "only exclusions: everything else"
    );
}

#[test]
fn field_prefixes() {
    let f = Fixture::standard();
    f.index();
    assert_eq!(ids(&f, &["title:chip"]), strings(&["corpus/news/chips.txt"]));
    assert_eq!(ids(&f, &["title:芬太尼"]), strings(&["b1"]));
    assert_eq!(sorted(ids(&f, &["zh:芬太尼"])), strings(&["b1", "corpus/news/fentanyl.txt"]));
    assert_eq!(ids(&f, &["en:variant"]), strings(&["corpus/notes.md"]));
    assert!(ids(&f, &["en:变异株"]).is_empty());
    assert_eq!(ids(&f, &["source:测试新闻社"]), strings(&["corpus/news/fentanyl.txt"]));
    assert_eq!(
        sorted(ids(&f, &["title:\"entity list\""])),
        strings(&["corpus/news/chips.txt", "corpus/news/fentanyl.txt"])
    );
    assert_eq!(ids(&f, &["title:\"list entity\""]), Vec::<String>::new());
}

#[test]
fn date_filters() {
    let f = Fixture::standard();
    f.index();
    assert_eq!(ids(&f, &["entity", "--since", "2023-01-01"]), strings(&["corpus/news/fentanyl.txt"]));
    assert_eq!(ids(&f, &["entity", "--until", "2022-12-31"]), strings(&["corpus/news/chips.txt"]));
    assert_eq!(ids(&f, &["entity date:[2022-12-01 TO 2022-12-02]"]), strings(&["corpus/news/chips.txt"]));
    assert_eq!(ids(&f, &["entity date:2023-11-14"]), strings(&["corpus/news/fentanyl.txt"]));
    assert_eq!(sorted(ids(&f, &["date:[2024-01-01 TO *]"])), strings(&["b1", "b2"]));
    assert!(ids(&f, &["fentanyl", "--since", "2030-01-01"]).is_empty());
    f.sou(&["search", "x", "--since", "yesterday"]).assert().code(2).stderr(contains("yesterday"));
}

#[test]
fn prefix_and_fuzzy_english() {
    let f = Fixture::standard();
    f.index();
    let fentanyl = strings(&["b1", "b2", "corpus/news/fentanyl.txt"]);
    assert_eq!(sorted(ids(&f, &["fent*"])), fentanyl);
    assert_eq!(sorted(ids(&f, &["fentanil~"])), fentanyl);
    assert!(ids(&f, &["fentanil"]).is_empty());
    assert!(ids(&f, &["fentxnxl~1"]).is_empty());
    assert_eq!(sorted(ids(&f, &["fentxnxl~2"])), fentanyl);
    // Stemming: plural and inflected forms meet.
    assert_eq!(ids(&f, &["precursor"]), ids(&f, &["precursors"]));
}

#[test]
fn any_mode_and_the_automatic_switch_for_long_queries() {
    let f = Fixture::standard();
    f.index();
    assert!(ids(&f, &["vaccines zzzunknown"]).is_empty());
    assert_eq!(ids(&f, &["vaccines zzzunknown", "--any"]), strings(&["corpus/notes.md"]));
    let long = "officials discuss fentanyl precursors and the entity list while vaccines target variants in older adults zzzunknown";
    f.sou(&["search", long, "--json"])
        .assert()
        .success()
        .stderr(contains("long query"))
        .stderr(contains("matching any of them"));
    let hits = ids(&f, &[long]);
    assert!(hits.len() >= 3, "{hits:?}");
    let top: Vec<&str> = hits.iter().take(2).map(String::as_str).collect();
    assert!(
        top.contains(&"corpus/news/fentanyl.txt") && top.contains(&"corpus/notes.md"),
        "best matches first: {hits:?}"
    );
    assert!(!hits.contains(&"corpus/long.txt".to_string()), "a document matching no word is not a hit");
}

#[test]
fn mixed_language_queries_rank_documents_matching_both_first() {
    let f = Fixture::standard();
    f.write("corpus/zh_only.txt", "只有中文\n\n这篇文章只讨论芬太尼，多次提到芬太尼和芬太尼危机。\n");
    f.write("corpus/en_only.txt", "English only\n\nThis one is about the entity list and the entity list only.\n");
    f.index();
    let hits = ids(&f, &["芬太尼 entity list", "--any"]);
    assert_eq!(hits[0], "corpus/news/fentanyl.txt", "{hits:?}");
    assert!(hits.contains(&"corpus/zh_only.txt".to_string()) && hits.contains(&"corpus/en_only.txt".to_string()));
}

#[test]
fn a_title_match_counts_more() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "Fentanyl policy\n\nThe debate about the policy continued all week long in the capital.\n");
    f.write("corpus/b.txt", "Policy notes\n\nThe debate about fentanyl continued all week long in the capital.\n");
    f.index();
    assert_eq!(ids(&f, &["fentanyl"]), strings(&["corpus/a.txt", "corpus/b.txt"]));
}

#[test]
fn a_boost_puts_the_boosted_word_first() {
    let f = Fixture::standard();
    f.index();
    // notes.md holds 变异株, long.txt 标点符号; whichever side is boosted ranks first.
    for (query, first) in [("变异株^20 标点符号", "corpus/notes.md"), ("变异株 标点符号^20", "corpus/long.txt")]
    {
        let got = ids(&f, &[query, "--any"]);
        assert_eq!(sorted(got.clone()), strings(&["corpus/long.txt", "corpus/notes.md"]), "{query}");
        assert_eq!(got[0], first, "{query}");
    }
}

#[test]
fn sort_by_date_and_paging() {
    let f = Fixture::standard();
    f.index();
    let by_date = ids(&f, &["fentanyl OR entity OR 芬太尼", "--sort", "date"]);
    assert_eq!(by_date, strings(&["b2", "b1", "corpus/news/fentanyl.txt", "corpus/news/chips.txt"]));
    let all = ids(&f, &["fentanyl OR entity OR 芬太尼"]);
    let page = |offset: &str| -> Vec<serde_json::Value> {
        let out = f
            .sou(&["search", "fentanyl OR entity OR 芬太尼", "--json", "--limit", "2", "--offset", offset])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let (page1, page2) = (page("0"), page("2"));
    assert_eq!((page1[0]["rank"].as_u64(), page2[0]["rank"].as_u64()), (Some(1), Some(3)));
    let paged: Vec<String> = page1.iter().chain(&page2).map(|h| h["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(paged, all);
    f.sou(&["search", "fentanyl", "--offset", "100"]).assert().code(1);
}

#[test]
fn chinese_snippets_are_sized_in_characters() {
    let f = Fixture::empty();
    let sentence = "这是一段用来测试摘要长度的中文文字，它会重复很多次以便形成很长的正文。";
    f.write("corpus/long.txt", &format!("长文\n\n{}芬太尼出现在这里。{}\n", sentence.repeat(15), sentence.repeat(15)));
    f.index();
    for requested in [40usize, 80, 150] {
        let out = f.sou(&["search", "芬太尼", "--json", "--snippet-chars", &requested.to_string()]).output().unwrap();
        let hit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let zh = &hit["snippets"]["zh"];
        let chars = zh["text"].as_str().unwrap().chars().count();
        let (low, high) = (requested * 8 / 10, requested * 12 / 10);
        assert!((low..=high).contains(&chars), "requested {requested}, got {chars}: {zh}");
        assert_eq!(highlighted(zh), vec!["芬太尼"]);
    }
}

#[test]
fn json_highlight_ranges_point_at_the_match_in_bytes_and_characters() {
    let f = Fixture::standard();
    f.index();
    for hit in f.search_json("\"entity list\" OR 实体清单") {
        for (lang, snippet) in hit["snippets"].as_object().unwrap() {
            let text = snippet["text"].as_str().unwrap();
            let bytes = highlighted(snippet);
            let chars: Vec<String> = snippet["char_highlights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let (s, e) = (r[0].as_u64().unwrap() as usize, r[1].as_u64().unwrap() as usize);
                    text.chars().skip(s).take(e - s).collect()
                })
                .collect();
            assert_eq!(bytes, chars, "{lang}: {snippet}");
            for m in &bytes {
                assert!(m == "实体清单" || m.eq_ignore_ascii_case("entity list"), "{lang}: {m}");
            }
        }
    }
}

#[test]
fn batch_search_prints_a_trec_run() {
    let f = Fixture::standard();
    f.index();
    f.write("q.jsonl", "{\"id\": \"q1\", \"text\": \"芬太尼\"}\n{\"id\": 2, \"text\": \"\\\"entity list\\\"\"}\n{\"id\": \"q3\", \"text\": \"zzzunknown\"}\n");
    let out = f.sou(&["search", "--batch", "q.jsonl", "--format", "trec", "--limit", "100"]).output().unwrap();
    assert!(out.status.success());
    let run = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = run.lines().map(|l| l.split(' ').collect()).collect();
    assert!(lines.iter().all(|l| l.len() == 6 && l[1] == "Q0" && l[5] == "sou"), "{run}");
    let q1: Vec<&Vec<&str>> = lines.iter().filter(|l| l[0] == "q1").collect();
    assert_eq!(q1.len(), 2);
    assert_eq!((q1[0][3], q1[1][3]), ("1", "2"));
    assert!(q1[0][4].parse::<f32>().unwrap() >= q1[1][4].parse::<f32>().unwrap());
    assert_eq!(lines.iter().filter(|l| l[0] == "2").count(), 2);
    assert!(!run.contains("q3 "));
    f.sou(&["search", "--batch", "missing.jsonl"]).assert().code(2).stderr(contains("missing.jsonl"));
    f.sou(&["search"]).assert().code(2);
}

#[test]
fn eval_scores_rankings_against_judgments() {
    let f = Fixture::standard();
    f.index();
    f.write("q.jsonl", "{\"id\": \"1\", \"text\": \"芬太尼\"}\n{\"id\": \"2\", \"text\": \"vaccines\"}\n{\"id\": \"3\", \"text\": \"unjudged\"}\n");
    // Query 1: both fentanyl documents relevant; query 2: a document that does not match.
    f.write("qrels.tsv", "1\tcorpus/news/fentanyl.txt\t2\n1\tb1\t1\n2\tcorpus/news/chips.txt\t1\n");
    let out = f.sou(&["eval", "--queries", "q.jsonl", "--qrels", "qrels.tsv", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["queries"], 2);
    // Query 1 finds both relevant documents in the top 2 (recall 1), query 2 none (0).
    assert_eq!(report["recall_100"], 0.5);
    let ndcg = report["ndcg_10"].as_f64().unwrap();
    assert!(ndcg > 0.4 && ndcg <= 0.5, "{ndcg}");
    f.sou(&["eval", "--queries", "q.jsonl", "--qrels", "qrels.tsv"]).assert().success().stdout(contains("nDCG@10"));
}

#[test]
fn explain_names_the_matching_parts_and_fields() {
    let f = Fixture::standard();
    f.index();
    let out = f.sou(&["search", "fentanyl 法医", "--explain", "--json"]).output().unwrap();
    let hit: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    let parts: Vec<String> =
        hit["explanation"].as_array().unwrap().iter().map(|p| p["part"].as_str().unwrap().to_string()).collect();
    assert!(parts.contains(&"en:fentanyl".to_string()), "{parts:?}");
    assert!(parts.contains(&"zh:法医".to_string()), "{parts:?}");
    assert!(parts.contains(&"grams:法".to_string()), "{parts:?}");
    let total: f64 = hit["explanation"].as_array().unwrap().iter().map(|p| p["score"].as_f64().unwrap()).sum();
    assert!((total - hit["score"].as_f64().unwrap()).abs() < 1e-3, "parts add up to the score");
    f.sou(&["search", "fentanyl", "--explain"]).assert().success().stdout(contains("en:fentanyl"));
}

#[test]
fn broken_pipe_exits_quietly() {
    let f = Fixture::standard();
    f.index();
    // `sou search … | head -0`: the reader goes away; sou must not report an error.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sou"))
        .current_dir(f.dir.path())
        .args(["search", "fentanyl OR entity OR 芬太尼 OR 疫苗", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error") && !stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(2));
}

#[test]
fn a_batch_ranks_by_any_term_like_eval_unless_told_all_terms() {
    let f = Fixture::standard();
    f.index();
    // Two words no document holds together: any-term ranking still finds each one's documents.
    f.write("q.jsonl", "{\"id\": \"q1\", \"text\": \"vaccines chip\"}\n");
    let run = |extra: &[&str]| {
        let mut args = vec!["search", "--batch", "q.jsonl", "--format", "trec"];
        args.extend_from_slice(extra);
        String::from_utf8(f.sou(&args).output().unwrap().stdout).unwrap()
    };
    let any = run(&[]);
    assert!(any.contains("corpus/notes.md") && any.contains("corpus/news/chips.txt"), "{any}");
    assert!(run(&["--all-terms"]).is_empty());
    // The same ranking as `sou eval` computes from.
    f.write("qrels.tsv", "q1\tcorpus/notes.md\t1\nq1\tcorpus/news/chips.txt\t1\n");
    let out = f.sou(&["eval", "--queries", "q.jsonl", "--qrels", "qrels.tsv", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["recall_100"], 1.0);
}

#[test]
fn a_malformed_batch_line_is_reported_and_skipped() {
    let f = Fixture::standard();
    f.index();
    f.write("q.jsonl", "{\"id\": \"q1\", \"text\": \"芬太尼\"}\n{oops\n{\"text\": \"no id\"}\n{\"id\": \"q4\", \"text\": \"vaccines\"}\n");
    let out = f.sou(&["search", "--batch", "q.jsonl", "--format", "trec"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "lines were skipped");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("q.jsonl line 2") && stderr.contains("q.jsonl line 3"), "{stderr}");
    let run = String::from_utf8(out.stdout).unwrap();
    assert!(run.lines().any(|l| l.starts_with("q1 ")) && run.lines().any(|l| l.starts_with("q4 ")), "{run}");
}

#[test]
fn unpaired_quote_marks_do_not_make_zero_hits() {
    let f = Fixture::standard();
    f.index();
    for query in ["“法医科学研究院的限制\"在哪里？", "\"entity list", "fentanyl \" precursors"] {
        let out = f.sou(&["search", query, "--json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{query}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("quote mark without its partner"), "{query}");
    }
}
