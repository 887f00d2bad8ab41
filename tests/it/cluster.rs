//! `sou index` and `sou stats` against a real OpenSearch cluster at `SOU_OPENSEARCH_URL`
//! (`.ci/run` starts a two-node one on 127.0.0.1); SKIPPED without one, a failure under CI.

use std::collections::BTreeSet;

use crate::common::{Fixture, request, skip};

/// A fresh index address on the test cluster, or `None` after saying SKIPPED.
fn cluster_index(test: &str) -> Option<String> {
    let Some(base) = std::env::var("SOU_OPENSEARCH_URL").ok().filter(|u| !u.is_empty()) else {
        skip(test, "no cluster (set SOU_OPENSEARCH_URL)");
        return None;
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("sou-it-{}-{}-{nanos}", test.replace('_', "-"), std::process::id());
    Some(format!("{}/{}", base.trim_end_matches('/'), &name[..name.len().min(180)]))
}

/// Splits an index address into the cluster and the index name.
fn split(url: &str) -> (&str, &str) {
    url.rsplit_once('/').unwrap()
}

/// The `_source` of every document of the index, as the cluster has it.
fn sources(url: &str) -> Vec<serde_json::Value> {
    let (base, name) = split(url);
    let reply = request(base, "GET", &format!("/{name}/_search?size=1000&q=*:*"), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["hits"]["hits"].as_array().unwrap().iter().map(|h| h["_source"].clone()).collect()
}

fn ids(url: &str) -> BTreeSet<String> {
    sources(url).iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

fn delete(url: &str) {
    let (base, name) = split(url);
    for index in [name.to_string(), format!("{name}.sou-files")] {
        request(base, "DELETE", &format!("/{index}"), &[]);
    }
}

fn report(f: &Fixture, url: &str) -> serde_json::Value {
    let out = f.sou(&["index", "-q", "--json", "--index", url, "corpus"]).output().unwrap();
    assert!(out.status.code() != Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn a_cluster_index_syncs_the_same_documents_as_a_local_one() {
    let Some(url) = cluster_index("a_cluster_index_syncs_the_same_documents_as_a_local_one") else { return };
    let f = Fixture::standard();
    f.index();
    let local = sou::Index::open(f.path("index")).unwrap();

    let first = report(&f, &url);
    assert_eq!((first["added"].as_u64(), first["documents"].as_u64()), (Some(5), Some(6)), "{first}");
    let cluster_ids = ids(&url);
    assert_eq!(cluster_ids.len() as u64, local.num_docs());
    for id in &cluster_ids {
        assert!(local.document(id).unwrap().is_some(), "{id} is on the cluster only");
    }
    f.sou(&["stats", "--index", &url]).assert().success().stdout(predicates::str::contains("documents: 6"));

    // Unchanged, changed, removed: by fingerprint, as locally.
    let again = report(&f, &url);
    assert_eq!((again["unchanged"].as_u64(), again["documents"].as_u64()), (Some(5), Some(0)), "{again}");
    f.write("corpus/briefs.jsonl", &crate::common::BRIEFS_JSONL.replace("Port seizure", "Port seizures"));
    std::fs::remove_file(f.path("corpus/long.txt")).unwrap();
    let changed = report(&f, &url);
    assert_eq!(
        (changed["updated"].as_u64(), changed["removed"].as_u64(), changed["total_documents"].as_u64()),
        (Some(1), Some(1), Some(5)),
        "{changed}"
    );
    let b2 = sources(&url).into_iter().find(|s| s["id"] == "b2").unwrap();
    assert_eq!(b2["doc"]["title"], "Port seizures");
    assert!(!ids(&url).iter().any(|id| id.contains("long.txt")));
    delete(&url);
}

#[test]
fn a_repeated_id_on_a_cluster_keeps_the_later_record_and_says_so() {
    let Some(url) = cluster_index("a_repeated_id_on_a_cluster_keeps_the_later_record_and_says_so") else { return };
    let f = Fixture::empty();
    f.write("corpus/a.jsonl", "{\"id\": \"x\", \"title\": \"from a\", \"text\": \"甲\"}\n");
    f.write("corpus/b.jsonl", "{\"id\": \"x\", \"title\": \"from b\", \"text\": \"乙\"}\n");
    let out = f.sou(&["index", "--index", &url, "corpus"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("id \"x\" at corpus/a.jsonl:1 is also at corpus/b.jsonl:1"), "{stderr}");
    let docs = sources(&url);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["doc"]["title"], "from b");

    // With b gone, a's record is the only one, and comes back.
    std::fs::remove_file(f.path("corpus/b.jsonl")).unwrap();
    let out = f.sou(&["index", "-q", "--index", &url, "corpus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let docs = sources(&url);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["doc"]["title"], "from a");
    delete(&url);
}

#[test]
fn an_unreachable_cluster_is_one_line_and_exit_2() {
    // A port nothing listens on: bind one, note it, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/news");
    let f = Fixture::standard();
    for args in [vec!["index", "--index", &url], vec!["stats", "--index", &url]] {
        let out = f.sou(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("cannot reach the cluster"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_bad_cluster_address_is_one_line_and_exit_2() {
    let f = Fixture::standard();
    let out = f.sou(&["index", "--index", "http://127.0.0.1:9/News"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a usable index name"), "{stderr}");
}
