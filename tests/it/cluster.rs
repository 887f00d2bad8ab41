//! `sou index` and `sou stats` against a real OpenSearch cluster at `SOU_OPENSEARCH_URL`
//! (`.ci/run` starts a two-node one on 127.0.0.1); SKIPPED without one, a failure under CI.

use std::collections::BTreeSet;

use crate::common::{Fixture, request, skip};

/// A test's index on the shared cluster: deleted when dropped, a failing test's too.
struct TestIndex(String);

impl std::ops::Deref for TestIndex {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl Drop for TestIndex {
    fn drop(&mut self) {
        delete(&self.0);
    }
}

/// The shared test cluster's address, or `None` after saying SKIPPED.
fn cluster_base(test: &str) -> Option<String> {
    let base = std::env::var("SOU_OPENSEARCH_URL").ok().filter(|u| !u.is_empty());
    if base.is_none() {
        skip(test, "no cluster (set SOU_OPENSEARCH_URL)");
    }
    base
}

/// A fresh index on the test cluster, or `None` after saying SKIPPED.
fn cluster_index(test: &str) -> Option<TestIndex> {
    let base = cluster_base(test)?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("sou-it-{}-{}-{nanos}", test.replace('_', "-"), std::process::id());
    Some(TestIndex(format!("{}/{}", base.trim_end_matches('/'), &name[..name.len().min(180)])))
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

/// Deletes every index of the test's name (its generations and files indexes); best effort,
/// as it runs when a test fails too.
fn delete(url: &str) {
    let (base, name) = split(url);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let _ = agent.delete(&format!("{base}/{name}.sou-*")).call();
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

    // A rebuild builds a new generation aside and moves the name over.
    let out = f.sou(&["index", "-q", "--json", "--rebuild", "--index", &url, "corpus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rebuilt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((rebuilt["added"].as_u64(), rebuilt["total_documents"].as_u64()), (Some(4), Some(5)), "{rebuilt}");
    assert_eq!(ids(&url).len(), 5);
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
}

#[test]
fn an_unreachable_cluster_is_one_line_and_exit_2() {
    // A port nothing listens on: bind one, note it, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/news");
    let f = Fixture::standard();
    let searches = [
        vec!["search", "--index", &url, "芬太尼"],
        vec!["serve", "--index", &url],
        vec!["eval", "--index", &url, "--queries", "q.jsonl", "--qrels", "q.tsv"],
    ];
    for args in [vec!["index", "--index", &url], vec!["stats", "--index", &url]].into_iter().chain(searches) {
        let out = f.sou(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("cannot reach the cluster"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn sou_search_on_a_cluster_prints_the_hits_a_local_search_prints() {
    let Some(url) = cluster_index("sou_search_on_a_cluster_prints_the_hits_a_local_search_prints") else { return };
    let f = Fixture::standard();
    f.index();
    report(&f, &url);
    for query in ["芬太尼", "\"fentanyl test\"", "芬太尼 OR port"] {
        let run = |index: &str| f.sou(&["search", "--json", "--index", index, query]).output().unwrap();
        let (here, there) = (run("index"), run(&url));
        assert_eq!(there.status.code(), here.status.code(), "{}", String::from_utf8_lossy(&there.stderr));
        let hits = |out: &std::process::Output| -> Vec<serde_json::Value> {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| {
                    let mut hit: serde_json::Value = serde_json::from_str(l).unwrap();
                    // Scores agree to float rounding; the rest must be the same.
                    hit.as_object_mut().unwrap().remove("score");
                    hit
                })
                .collect()
        };
        assert!(!hits(&here).is_empty(), "{query}");
        assert_eq!(hits(&there), hits(&here), "{query}");
    }
}

/// Each hit's explanation (`--explain --json`) by id: its parts and what each added.
fn explanations(f: &Fixture, index: &str, query: &str) -> Vec<(String, Vec<(String, f64)>)> {
    let out = f.sou(&["search", "--explain", "--json", "--index", index, query]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{query} on {index}: {}", String::from_utf8_lossy(&out.stderr));
    let hits: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let parts = |hit: &serde_json::Value| {
        let parts = hit["explanation"].as_array().expect("an explanation").iter();
        parts.map(|p| (p["part"].as_str().unwrap().to_string(), p["score"].as_f64().unwrap())).collect()
    };
    hits.iter().map(|hit| (hit["id"].as_str().unwrap().to_string(), parts(hit))).collect()
}

#[test]
fn sou_search_explain_on_a_cluster_names_the_parts_a_local_explanation_names() {
    let Some(url) = cluster_index("sou_search_explain_on_a_cluster_names_the_parts_a_local_explanation_names") else {
        return;
    };
    let f = Fixture::standard();
    f.index();
    report(&f, &url);
    for query in ["fentanyl", "\"entity list\"", "芬太尼 OR port", "title:fentanyl 芬太尼", "芬太尼 -heroin", "vaccin*"]
    {
        let (here, there) = (explanations(&f, "index", query), explanations(&f, &url, query));
        assert!(!here.is_empty(), "{query}");
        assert_eq!(there.len(), here.len(), "{query}");
        for ((id, local), (cluster_id, cluster)) in here.iter().zip(&there) {
            assert_eq!(cluster_id, id, "{query}");
            let names = |parts: &[(String, f64)]| parts.iter().map(|p| p.0.clone()).collect::<BTreeSet<_>>();
            assert_eq!(names(cluster), names(local), "{query}: {id}");
            // Within 2 %: a document with an empty field holds one filler token there on the
            // cluster (so it counts in the field's statistics), which lengthens the field's
            // average by a token per such document (measured: en:fentanyl 0.6684 vs 0.6715).
            for (part, score) in local {
                let on_cluster = cluster.iter().find(|p| &p.0 == part).unwrap().1;
                let close = (on_cluster - score).abs() <= 0.02 * score.abs().max(1.0);
                assert!(close, "{query}: {id} {part}: {score} vs {on_cluster}");
            }
        }
    }
    // An exact Chinese string is named on both; its bonus is the cluster's own (larger than all
    // other evidence there too, but computed from the largest idf).
    let exact = "grams:\"实体清单\" (the exact string)";
    for index in ["index", url.as_str()] {
        let top = &explanations(&f, index, "实体清单")[0].1;
        assert_eq!(top[0].0, exact, "{index}: {top:?}");
        assert!(top[0].1 > top[1..].iter().map(|p| p.1).sum::<f64>(), "{index}: {top:?}");
    }
}

#[test]
fn sou_serve_in_front_of_a_cluster_answers_as_in_front_of_a_local_index() {
    let Some(url) = cluster_index("sou_serve_in_front_of_a_cluster_answers_as_in_front_of_a_local_index") else {
        return;
    };
    let f = Fixture::standard();
    f.index();
    report(&f, &url);
    let here = crate::common::Server::start(&f);
    let there = crate::common::Server::start_with(&f, &["--index", &url], &[]);
    // Scores agree to float rounding and times differ; the rest must be the same.
    let without_scores = |mut body: serde_json::Value| {
        body.as_object_mut().unwrap().remove("elapsed_ms");
        for hit in body["hits"].as_array_mut().into_iter().flatten() {
            hit.as_object_mut().unwrap().remove("score");
        }
        body
    };
    for path in [
        "/api/search?q=%E8%8A%AC%E5%A4%AA%E5%B0%BC",
        "/api/search?q=fentanyl%20OR%20entity&limit=2&offset=2",
        "/api/search?q=entity&since=2023-01-01",
        "/api/search?q=vaccines%20zzzunknown",
        "/api/search?q=entity&sort=date",
        "/api/search?q=date:%5B2023-13-01%20TO%20*%5D",
        "/api/doc/corpus/news/fentanyl.txt?q=%E8%8A%AC%E5%A4%AA%E5%B0%BC%20entity",
        "/api/doc/nope",
    ] {
        let ((status, local), (cluster_status, cluster)) = (here.get(path), there.get(path));
        assert_eq!(cluster_status, status, "{path}: {cluster}");
        assert_eq!(without_scores(cluster), without_scores(local), "{path}");
    }
    let (status, stats) = there.get("/api/stats");
    assert_eq!((status, stats["documents"].as_u64(), stats["path"].as_str()), (200, Some(6), Some(url.as_str())));
    let (status, page) = there.get("/");
    assert!(status == 200 && page.as_str().is_some_and(|p| p.contains("<form")), "{status}");
}

#[test]
fn a_bad_cluster_address_is_one_line_and_exit_2() {
    let f = Fixture::standard();
    let out = f.sou(&["index", "--index", "http://127.0.0.1:9/News"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a usable index name"), "{stderr}");
}

/// A two-node cluster of the test's own (cluster/opensearch/cluster.sh on free ports), stopped
/// by PID when dropped; for tests that kill nodes, which the shared cluster must not see.
struct OwnCluster {
    dir: tempfile::TempDir,
    http: u16,
    transport: u16,
}

impl OwnCluster {
    fn script() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cluster/opensearch/cluster.sh")
    }

    fn command(&self, action: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(OwnCluster::script())
            .arg(action)
            .env("OS_DIR", self.dir.path())
            .env("OS_HTTP_PORT", self.http.to_string())
            .env("OS_TRANSPORT_PORT", self.transport.to_string())
            .env("OS_HEAP", "384m");
        cmd
    }

    /// Starts both nodes (or the one that is down) and waits for green (bounded by the script).
    fn start(&self) {
        let out = self.command("start").output().unwrap();
        assert!(
            out.status.success(),
            "cluster start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn new() -> OwnCluster {
        // Four free ports: two consecutive ones for HTTP, two for transport.
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        let seed = std::process::id() as u16;
        let base = (0..200u16)
            .map(|i| 20_000 + (seed.wrapping_add(i * 37) % 20_000))
            .find(|&p| free(p) && free(p + 1) && free(p + 1000) && free(p + 1001))
            .expect("free ports");
        let cluster = OwnCluster { dir: tempfile::tempdir().unwrap(), http: base, transport: base + 1000 };
        cluster.start();
        cluster
    }

    fn url(&self, index: &str) -> String {
        format!("http://127.0.0.1:{}/{index}", self.http)
    }

    fn pid(&self, node: &str) -> i32 {
        std::fs::read_to_string(self.dir.path().join(node).join("pid")).unwrap().trim().parse().unwrap()
    }

    fn kill(&self, node: &str) {
        let status = std::process::Command::new("kill").args(["-KILL", &self.pid(node).to_string()]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.command("stop").output();
    }
}

/// Documents on the cluster, counted by the node at `http` (after a refresh).
fn count(http: u16, index: &str) -> u64 {
    let base = format!("http://127.0.0.1:{http}");
    request(&base, "POST", &format!("/{index}/_refresh"), &[]);
    let reply = request(&base, "GET", &format!("/{index}/_count"), &[]);
    reply.json()["count"].as_u64().unwrap_or(0)
}

#[test]
fn a_killed_node_not_yet_reaped_counts_as_stopped() {
    // A killed node is a zombie until its reaper collects it, and `kill -0` succeeds on one:
    // the fault test's restart right after a kill took the node for running and never started
    // it. A child of this test, killed and not waited for, is such a zombie (no Java needed).
    let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    child.kill().unwrap();
    let stat = format!("/proc/{}/stat", child.id());
    let is_zombie =
        || std::fs::read_to_string(&stat).is_ok_and(|s| s.rsplit(") ").next().unwrap_or("").starts_with('Z'));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !is_zombie() {
        assert!(std::time::Instant::now() < deadline, "the killed child never became a zombie");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("node-1")).unwrap();
    std::fs::write(dir.path().join("node-1/pid"), child.id().to_string()).unwrap();
    // Port 1: nothing answers there, so the status's own request fails at once.
    let out = std::process::Command::new("bash")
        .arg(OwnCluster::script())
        .arg("status")
        .env("OS_DIR", dir.path())
        .env("OS_HTTP_PORT", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("node-1 not running"), "{stdout}");
    child.wait().unwrap();
}

#[test]
fn a_node_killed_during_a_sync_loses_no_document() {
    let test = "a_node_killed_during_a_sync_loses_no_document";
    // Runs where the cluster tests run (Java and the harness are there); its cluster is its own.
    if cluster_base(test).is_none() {
        return;
    }
    let cluster = OwnCluster::new();
    let f = Fixture::empty();
    let (files, per_file) = (40, 250);
    for i in 0..files {
        let mut lines = String::new();
        for j in 0..per_file {
            lines += &format!(
                "{{\"id\": \"d{i}-{j}\", \"title\": \"第{i}号文件 record {j}\", \"text\": \"法院审理了第{j}号案件，被告人盗窃手机。\\nThe court heard case {j} of file {i} about stolen phones.\"}}\n"
            );
        }
        f.write(&format!("corpus/part-{i:02}.jsonl"), &lines);
    }
    let url = cluster.url("faults");
    // Bulk requests of 1,000 documents: many requests, so the kill lands in the middle.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sou"))
        .current_dir(f.dir.path())
        .args(["index", "--index", &url, "corpus"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the node sou talks to once documents arrive: sou has to move to the other one, and
    // bring it back.
    let started = std::time::Instant::now();
    while count(cluster.http, "faults") == 0 && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The kill must land while sou writes, or the test proves nothing.
    assert!(child.try_wait().unwrap().is_none(), "sou finished before the node was killed");
    cluster.kill("node-1");
    // If it was the elected cluster manager, the other node alone is no quorum: writes wait
    // (sou retries) until it is back. Either way the count must come out exact.
    std::thread::sleep(std::time::Duration::from_secs(2));
    cluster.start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("sou index did not finish in 300 s after the node was killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "{stderr}");
    let all = (files * per_file) as u64;
    let shards = request(&format!("http://127.0.0.1:{}", cluster.http + 1), "GET", "/_cat/shards/faults?v", &[]).body;
    assert_eq!(count(cluster.http + 1, "faults"), all, "{stderr}\n{shards}");
    assert_eq!(count(cluster.http, "faults"), all);

    // The next sync finds nothing to do.
    let again = f.sou(&["index", "-q", "--json", "--index", &url, "corpus"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((report["unchanged"].as_u64(), report["documents"].as_u64()), (Some(files as u64), Some(0)), "{report}");
}

/// The bundled corpus in a local index and in a cluster index, for the agreement tests.
fn both_indexes(url: &str) -> (tempfile::TempDir, sou::Index, sou::cluster::ClusterIndex) {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let dir = tempfile::tempdir().unwrap();
    let local = sou::Index::create(dir.path().join("index")).unwrap();
    let options = sou::SyncOptions::default();
    local.sync(std::slice::from_ref(&corpus), &options, &sou::NoProgress).unwrap();
    let layout = sou::cluster::Layout::default();
    let cluster = sou::cluster::ClusterIndex::open_or_create(url, layout).unwrap();
    cluster.sync(&[corpus], &options, &sou::NoProgress).unwrap();
    assert_eq!(cluster.num_docs().unwrap(), local.num_docs());
    (dir, local, cluster)
}

#[test]
fn a_cluster_index_ranks_every_kind_of_query_as_the_local_index_does() {
    let test = "a_cluster_index_ranks_every_kind_of_query_as_the_local_index_does";
    let Some(url) = cluster_index(test) else { return };
    let (_dir, local, cluster) = both_indexes(&url);
    let queries: Vec<&str> = include_str!("../data/agreement-queries.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert!(queries.len() >= 50, "{} queries", queries.len());
    let (mut compared, mut with_hits, mut differ) = (0, 0, Vec::new());
    for text in queries {
        for (mode, query) in [
            ("all", sou::Query::new(text).limit(30)),
            ("any", sou::Query::new(text).limit(30).any(true)),
            ("date", sou::Query::new(text).limit(30).sort(sou::SortBy::Date)),
        ] {
            let here = local.search(&query).unwrap();
            let there = cluster.search(&query).unwrap_or_else(|e| panic!("{text} ({mode}): {e}"));
            compared += 1;
            with_hits += usize::from(!here.hits.is_empty());
            // Sorted by date, every hit scores 0 locally: one tie group, so the order within a
            // day is free; the days must still come in the same order.
            let agrees = if mode == "date" {
                let days = |r: &sou::SearchResults| r.hits.iter().map(|h| h.date).collect::<Vec<_>>();
                let ids = |r: &sou::SearchResults| r.hits.iter().map(|h| h.id.clone()).collect::<BTreeSet<_>>();
                days(&here) == days(&there) && ids(&here) == ids(&there)
            } else {
                here.ranks_like(&there)
            };
            if here.total != there.total || !agrees {
                let show = |r: &sou::SearchResults| {
                    r.hits
                        .iter()
                        .map(|h| format!("{}:{:.4}", h.id.rsplit('/').next().unwrap(), h.score))
                        .collect::<Vec<_>>()
                };
                differ.push(format!(
                    "{text} ({mode}): local {} {:?}, cluster {} {:?}",
                    here.total,
                    show(&here),
                    there.total,
                    show(&there)
                ));
            }
            // Hits look the same: sou builds their snippets from _source.
            if let (Some(a), Some(b)) =
                (here.hits.first(), there.hits.iter().find(|h| Some(&h.id) == here.hits.first().map(|h| &h.id)))
            {
                assert_eq!((&a.snippets, &a.title_highlights), (&b.snippets, &b.title_highlights), "{text}");
            }
        }
    }
    assert!(with_hits >= 100, "only {with_hits} of {compared} searches found anything");
    assert!(differ.is_empty(), "{} of {compared} searches differ:\n{}", differ.len(), differ.join("\n"));
}

/// The Chinese ranking's k1 follows the index's average length; a cluster computes it in a
/// scripted similarity from its own statistics. One-word queries have no exact-string bonus,
/// so each hit's score is the evidence alone and must be the local one.
#[test]
fn a_cluster_index_scores_chinese_evidence_as_the_local_index_does() {
    let test = "a_cluster_index_scores_chinese_evidence_as_the_local_index_does";
    let Some(url) = cluster_index(test) else { return };
    let (_dir, local, cluster) = both_indexes(&url);
    let mut compared = 0;
    for text in ["芬太尼", "法医", "稀土", "疫苗", "制裁", "关税", "美国", "中国", "政府"] {
        let query = sou::Query::new(text).limit(30);
        let (here, there) = (local.search(&query).unwrap(), cluster.search(&query).unwrap());
        assert_eq!(here.total, there.total, "{text}");
        for hit in &here.hits {
            let other = there.hits.iter().find(|h| h.id == hit.id).unwrap_or_else(|| panic!("{text}: {}", hit.id));
            let close = (hit.score - other.score).abs() <= 1e-4 * hit.score.abs().max(1.0);
            assert!(close, "{text} {}: local {} cluster {}", hit.id, hit.score, other.score);
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} hits compared");
}

#[test]
fn every_chinese_substring_and_quoted_string_is_found_exactly_on_a_cluster() {
    let test = "every_chinese_substring_and_quoted_string_is_found_exactly_on_a_cluster";
    let Some(url) = cluster_index(test) else { return };
    let (_dir, local, cluster) = both_indexes(&url);
    // Every document's Chinese text, and substrings of it from a fixed pseudo-random walk.
    let everything = local.search(&sou::Query::new("NOT zzzzqqqq").limit(1000)).unwrap();
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n.max(1)
    };
    let mut checked = 0;
    for hit in &everything.hits {
        let doc = local.document(&hit.id).unwrap().unwrap();
        let chars: Vec<char> = doc.zh.chars().collect();
        for _ in 0..5 {
            let (start, len) = (next(chars.len()), 2 + next(6));
            let piece: String = chars[start..(start + len).min(chars.len())].iter().collect();
            if piece.chars().count() < 2 || !piece.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                continue;
            }
            for text in [piece.clone(), format!("\"{piece}\"")] {
                let query = sou::Query::new(text.as_str()).limit(100).snippet_chars(0);
                let there = cluster.search(&query).unwrap();
                let here = local.search(&query).unwrap();
                let ids = |r: &sou::SearchResults| r.hits.iter().map(|h| h.id.clone()).collect::<BTreeSet<_>>();
                assert!(ids(&there).contains(&hit.id), "{text} is in {} but the cluster does not find it", hit.id);
                // Quoted, exactly the documents the local index finds holding the string.
                assert_eq!(ids(&there), ids(&here), "{text}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 100, "only {checked} substrings checked");
}

#[test]
fn a_user_dictionary_is_kept_in_a_cluster_index_and_used_by_queries() {
    let Some(url) = cluster_index("a_user_dictionary_is_kept_in_a_cluster_index_and_used_by_queries") else {
        return;
    };
    let f = Fixture::empty();
    f.write("corpus/a.txt", "报告\n\n中国法医科学研究院发布年度报告。\n");
    f.write("dict.txt", "法医科学研究院 100000 nt\n");
    f.write("other.txt", "年度报告 100000 n\n");
    let run = |args: &[&str]| f.sou(args).output().unwrap();
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).to_string();
    let out = run(&["index", "-q", "--dict", "dict.txt", "--index", &url, "corpus"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Queries segment with the kept dictionary, and the document was indexed with it.
    let analyzed = run(&["analyze", "--index", &url, "法医科学研究院"]);
    assert!(String::from_utf8_lossy(&analyzed.stdout).contains("words   0  法医科学研究院"), "{}", stderr(&analyzed));
    let explained = explanations(&f, &url, "法医科学研究院");
    assert!(explained[0].1.iter().any(|(part, _)| part == "zh:法医科学研究院"), "{explained:?}");
    // The same dictionary hash as a local index built with it.
    let hash = |index: &str| -> serde_json::Value {
        let out = run(&["stats", "--json", "--index", index]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["user_dictionary"].clone()
    };
    assert_eq!(run(&["index", "-q", "--dict", "dict.txt"]).status.code(), Some(0));
    assert!(hash(&url).is_string());
    assert_eq!(hash(&url), hash("index"));
    // A sync without --dict keeps it; another dictionary needs a rebuild, which changes it.
    assert_eq!(run(&["index", "-q", "--index", &url, "corpus"]).status.code(), Some(0));
    let refused = run(&["index", "-q", "--dict", "other.txt", "--index", &url, "corpus"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--rebuild --dict"), "{}", stderr(&refused));
    let rebuilt = run(&["index", "-q", "--rebuild", "--dict", "other.txt", "--index", &url, "corpus"]);
    assert_eq!(rebuilt.status.code(), Some(0), "{}", stderr(&rebuilt));
    let analyzed = run(&["analyze", "--index", &url, "年度报告"]);
    assert!(String::from_utf8_lossy(&analyzed.stdout).contains("words   0  年度报告"));
    assert_ne!(hash(&url), hash("index"));
    assert_eq!(run(&["index", "-q", "--rebuild", "--no-dict", "--index", &url, "corpus"]).status.code(), Some(0));
    assert!(hash(&url).is_null());
}

#[test]
fn a_bad_user_dictionary_creates_no_cluster_index() {
    let Some(url) = cluster_index("a_bad_user_dictionary_creates_no_cluster_index") else { return };
    let f = Fixture::empty();
    f.write("corpus/a.txt", "t\n\n正文。\n");
    f.write("dict.txt", "好词 12\n坏词 99999999999999999999999\n");
    let out = f.sou(&["index", "-q", "--dict", "dict.txt", "--index", &url, "corpus"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("dict.txt") && stderr.contains("line 2"), "{stderr}");
    let stats = f.sou(&["stats", "--index", &url]).output().unwrap();
    assert!(String::from_utf8_lossy(&stats.stderr).contains("no index named"), "a failed create leaves no index");
}

#[test]
fn sou_serve_in_front_of_a_cluster_follows_a_rebuild_with_another_dictionary() {
    let test = "sou_serve_in_front_of_a_cluster_follows_a_rebuild_with_another_dictionary";
    let Some(url) = cluster_index(test) else { return };
    let f = Fixture::empty();
    f.write("corpus/a.txt", "报告\n\n中国法医科学研究院发布年度报告。\n");
    f.write("corpus/b.txt", "研究\n\n科学研究院的法医工作。\n");
    f.write("dict.txt", "法医科学研究院 100000 nt\n");
    let index = |args: &[&str]| {
        let out = f.sou(&[&["index", "-q", "--index", &url, "corpus"], args].concat()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    };
    index(&["--dict", "dict.txt"]);
    let server = crate::common::Server::start_with(&f, &["--index", &url], &[]);
    let query = "法医科学研究院";
    let ranked_now = || crate::common::ranked(&f.search_json_with(&["--index", &url, query]));
    let with_dictionary = ranked_now();
    assert!(crate::common::served_hits_come_to(&server, query, &with_dictionary));
    index(&["--rebuild", "--no-dict"]);
    let without = ranked_now();
    assert_ne!(without, with_dictionary, "the dictionary changes the ranking");
    assert!(
        crate::common::served_hits_come_to(&server, query, &without),
        "the server still segments with the old dictionary"
    );
}
