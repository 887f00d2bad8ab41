//! Tests against a real OpenSearch cluster at `SOU_OPENSEARCH_URL` (`.ci/run` starts a
//! two-node one): without it each test says SKIPPED; under CI (`SOU_CI`) that is a failure.

use serde_json::json;

use super::client::{Client, Method, Retry};
use super::encode::encode;
use super::{ClusterIndex, Layout};
use crate::analysis::{self, GRAMS, Segmenter, WORDS, ZH_WORDS};

/// The cluster's base address, or `None` after saying SKIPPED.
pub(crate) fn cluster_base(test: &str) -> Option<String> {
    match std::env::var("SOU_OPENSEARCH_URL") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_string()),
        _ => {
            assert!(std::env::var_os("SOU_CI").is_none(), "{test} cannot run in CI: SOU_OPENSEARCH_URL is not set");
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: no cluster (set SOU_OPENSEARCH_URL)");
            None
        }
    }
}

/// Deletes a test's cluster index when dropped, a failing test's too.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = ClusterIndex::delete(&self.0);
    }
}

/// A fresh index name for one test run.
fn unique_name(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("sou-unit-{test}-{}-{nanos}", std::process::id()).to_lowercase().replace('_', "-")
}

/// Texts that exercise every way sou's tokens sit: gaps, stacked readings, compounds, function
/// words left out, scripts side by side, and the bundled corpus.
fn texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "关於人民，法院",
        "計畫書與计划",
        "Apple 发布 iPhone15 Pro 手机，售价 7999 元",
        "實體清單 entity lists of the U.S. Commerce Department",
        "我的 的 了 在 是 书",
        "カタカナと한국어 mixed 😀 ☂ 符号",
        "ＡＢＣ１２３ 全角",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for entry in walkdir::WalkDir::new(corpus).sort_by_file_name() {
        let entry = entry.expect("walk corpus");
        if entry.file_type().is_file() {
            texts.push(std::fs::read_to_string(entry.path()).expect("corpus text"));
        }
    }
    texts
}

fn tantivy_tokens(analyzer: &mut tantivy::tokenizer::TextAnalyzer, text: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push((t.position as u64, t.text.clone()));
    }
    out.sort();
    out
}

#[test]
fn the_cluster_reads_sou_tokens_back_at_their_positions() {
    let Some(base) = cluster_base("the_cluster_reads_sou_tokens_back_at_their_positions") else { return };
    let name = unique_name("tokens");
    let url = format!("{base}/{name}");
    let _cleanup = Cleanup(url.clone());
    ClusterIndex::create(&url, Layout { shards: 1, replicas: 0 }).expect("create");
    let client = Client::new(&base);
    let segmenter = Segmenter::default();
    let mut checked = 0;
    for analyzer_name in [WORDS, ZH_WORDS, GRAMS] {
        let mut analyzer = analysis::analyzer(analyzer_name, &segmenter);
        for text in texts() {
            let expected = tantivy_tokens(&mut analyzer, &text);
            let encoded = encode(&mut analyzer, &[&text]);
            let body = json!({"analyzer": "sou_tokens", "text": encoded.text});
            let reply = client.json(Method::Post, &format!("/{name}/_analyze"), Some(&body), Retry::PATIENT).unwrap();
            assert!(reply.is_success(), "{}", reply.reason());
            let mut got: Vec<(u64, String)> = reply.body["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["position"].as_u64().unwrap(), t["token"].as_str().unwrap().to_string()))
                .collect();
            got.sort();
            let preview: String = text.chars().take(40).collect();
            assert_eq!(got, expected, "{analyzer_name} on {preview:?}");
            checked += expected.len();
        }
    }
    assert!(checked > 5_000, "only {checked} tokens checked");
}

#[test]
fn an_index_of_another_analyzer_version_is_refused_with_the_way_out() {
    let Some(base) = cluster_base("an_index_of_another_analyzer_version_is_refused_with_the_way_out") else { return };
    let name = unique_name("version");
    let client = Client::new(&base);
    let mut body = super::mapping::create_body(Layout { shards: 1, replicas: 0 }, None);
    body["mappings"]["_meta"]["sou"]["analyzer"] = json!(1);
    assert!(client.json(Method::Put, &format!("/{name}"), Some(&body), Retry::PATIENT).unwrap().is_success());
    let url = format!("{base}/{name}");
    let _cleanup = Cleanup(url.clone());
    let error = ClusterIndex::open(&url).unwrap_err().to_string();
    assert!(error.contains("analyzer 1") && error.contains("--rebuild"), "{error}");

    // The way out: a rebuild replaces it in one step, and the name opens again.
    let rebuild = ClusterIndex::rebuild(&url, Layout { shards: 1, replicas: 0 }).unwrap();
    assert!(ClusterIndex::open(&url).is_err(), "the old index answers until the rebuild is finished");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "标题\n\n正文内容").unwrap();
    let options = crate::SyncOptions::default();
    let report = rebuild.index().sync(&[dir.path().to_path_buf()], &options, &crate::NoProgress).unwrap();
    assert_eq!(report.documents, 1);
    let index = rebuild.finish().expect("the rebuilt index takes the name");
    assert_eq!(index.num_docs().unwrap(), 1);
    let left = client.json(Method::Get, &format!("/{name}*/_mapping"), None, Retry::PATIENT).unwrap();
    assert_eq!(left.body.as_object().map_or(0, |m| m.len()), 2, "one generation and its files index: {}", left.body);
}

#[test]
fn one_writer_at_a_time_and_a_dead_writers_lock_expires() {
    let Some(base) = cluster_base("one_writer_at_a_time_and_a_dead_writers_lock_expires") else { return };
    let url = format!("{base}/{}", unique_name("lock"));
    let _cleanup = Cleanup(url.clone());
    let index = ClusterIndex::create(&url, Layout { shards: 1, replicas: 0 }).expect("create");
    let held = index.lock().expect("the first writer gets the lock");
    let second = index.lock().err().expect("a second writer is refused");
    assert!(matches!(second, crate::Error::Locked(_)), "{second}");
    assert!(second.to_string().contains("pid"), "names the holder: {second}");
    let dir = tempfile::tempdir().unwrap();
    let sync = index.sync(&[dir.path().to_path_buf()], &crate::SyncOptions::default(), &crate::NoProgress);
    assert!(matches!(sync, Err(crate::Error::Locked(_))), "a sync waits for no one: {sync:?}");
    index.unlock(held);
    let held = index.lock().expect("free again");

    // A writer that died: its heartbeat is old, the next one takes over.
    let client = Client::new(&base);
    let stale = json!({"owner": "gone pid 1", "heartbeat": 0});
    let files = format!("/{}/_doc/{}?refresh=true", index.files_index(), super::lock::LOCK_ID);
    assert!(client.json(Method::Put, &files, Some(&stale), Retry::PATIENT).unwrap().is_success());
    drop(held);
    let taken = index.lock().expect("a stale lock is taken over");
    index.unlock(taken);
}
