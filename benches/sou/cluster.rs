//! The `cluster` section: bulk ingest from sou into a two-node OpenSearch cluster (sou's
//! analysis in Rust, pre-analyzed fields) against the same documents sent raw to OpenSearch's
//! own `standard` analyzer, and against a local `sou index`; node start time and memory; warm
//! query latency through sou against the cluster and against the local index.
//!
//! Uses the cluster at `SOU_OPENSEARCH_URL` if set, else starts one with
//! `cluster/opensearch/cluster.sh` (data under the bench folder) and stops it by PID after.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Corpus, SOU, manifest_dir, mb, percentile, query_kinds, work_dir};

/// The two nodes of a cluster this section started, stopped when dropped.
struct Nodes {
    dir: PathBuf,
}

impl Nodes {
    fn script() -> PathBuf {
        manifest_dir().join("cluster/opensearch/cluster.sh")
    }

    /// Starts both nodes; prints the script's timing line (HTTP up, green) and returns them.
    fn start() -> Nodes {
        let dir = work_dir().join("opensearch");
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        let out = Command::new("bash").arg(Nodes::script()).arg("start").env("OS_DIR", &dir).output().expect("bash");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "cluster start failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        for line in stdout.lines().filter(|l| l.contains("green after") || l.starts_with("mvn package")) {
            println!("- {line}");
        }
        println!("- `cluster.sh start` in all: {:.1} s", started.elapsed().as_secs_f64());
        Nodes { dir }
    }

    /// Resident memory of each node, MB.
    fn rss_mb(&self) -> Vec<(String, f64)> {
        ["node-1", "node-2"]
            .iter()
            .filter_map(|node| {
                let pid = std::fs::read_to_string(self.dir.join(node).join("pid")).ok()?;
                let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).ok()?;
                let kb: f64 =
                    status.lines().find(|l| l.starts_with("VmRSS"))?.split_whitespace().nth(1)?.parse().ok()?;
                Some((node.to_string(), kb / 1e3))
            })
            .collect()
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(Nodes::script()).arg("stop").env("OS_DIR", &self.dir).output();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

fn call(agent: &ureq::Agent, method: &str, url: &str, body: Option<(&str, &str)>) -> serde_json::Value {
    let mut response = match (method, body) {
        ("DELETE", _) => agent.delete(url).call(),
        ("GET", _) => agent.get(url).call(),
        ("PUT", Some((ct, b))) => agent.put(url).header("Content-Type", ct).send(b),
        ("POST", Some((ct, b))) => agent.post(url).header("Content-Type", ct).send(b),
        ("POST", None) => agent.post(url).send_empty(),
        _ => unreachable!("{method}"),
    }
    .expect("cluster reachable");
    let text = response.body_mut().with_config().limit(1 << 30).read_to_string().unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// Primary store size of an index on the cluster, MB.
fn store_mb(agent: &ureq::Agent, base: &str, index: &str) -> f64 {
    let stats = call(agent, "GET", &format!("{base}/{index}/_stats/store"), None);
    stats["_all"]["primaries"]["store"]["size_in_bytes"].as_u64().unwrap_or(0) as f64 / 1e6
}

/// Sends the corpus raw (every string field analyzed by `standard`) in bulk requests of at
/// most 8 MB or 1,000 documents, one at a time, as sou does; returns the wall time.
fn ingest_standard(agent: &ureq::Agent, base: &str, index: &str, corpus: &Path) -> Duration {
    call(agent, "DELETE", &format!("{base}/{index}"), None);
    let body = serde_json::json!({
        "settings": {"number_of_shards": 2, "number_of_replicas": 1},
        "mappings": {"dynamic_templates": [{"text": {"match_mapping_type": "string",
            "mapping": {"type": "text", "analyzer": "standard"}}}]},
    });
    call(agent, "PUT", &format!("{base}/{index}"), Some(("application/json", &body.to_string())));
    call(agent, "GET", &format!("{base}/_cluster/health/{index}?wait_for_status=green&timeout=60s"), None);
    let started = Instant::now();
    let mut lines = String::new();
    let mut docs = 0;
    let send = |lines: &mut String| {
        let reply = call(agent, "POST", &format!("{base}/_bulk"), Some(("application/x-ndjson", lines)));
        assert_eq!(reply["errors"].as_bool(), Some(false), "standard bulk failed");
        lines.clear();
    };
    for line in BufReader::new(std::fs::File::open(corpus).expect("corpus")).lines() {
        let line = line.expect("read");
        let doc: serde_json::Value = serde_json::from_str(&line).expect("json");
        let id = doc["id"].as_str().map(str::to_string).unwrap_or_else(|| docs.to_string());
        lines.push_str(&serde_json::json!({"index": {"_index": index, "_id": id}}).to_string());
        lines.push('\n');
        lines.push_str(&line);
        lines.push('\n');
        docs += 1;
        if docs % 1000 == 0 || lines.len() >= 8 << 20 {
            send(&mut lines);
        }
    }
    if !lines.is_empty() {
        send(&mut lines);
    }
    call(agent, "POST", &format!("{base}/{index}/_refresh"), None);
    started.elapsed()
}

pub fn cluster_section(corpora: &[Corpus]) {
    println!("## Cluster: bulk ingest into a two-node OpenSearch 2.19 (`cargo bench --bench sou -- cluster`)\n");
    let (_nodes, base) = match std::env::var("SOU_OPENSEARCH_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => (None, url.trim_end_matches('/').to_string()),
        None => {
            let nodes = Nodes::start();
            for (node, rss) in nodes.rss_mb() {
                println!("- {node} RSS after start: {rss:.0} MB");
            }
            (Some(nodes), "http://127.0.0.1:9200".to_string())
        }
    };
    let agent = agent();
    println!("\n2 shards, 1 replica; bulk requests of at most 8 MB or 1,000 documents, one in flight.");
    println!("Store sizes are read right after the ingest (merges may still be running).\n");
    println!("| corpus | docs | MB | pipeline | wall s | MB/s | docs/s | store MB (primaries) |");
    println!("|---|---:|---:|---|---:|---:|---:|---:|");
    for corpus in corpora.iter().filter(|c| matches!(c.name, "news-mix" | "lecard")) {
        let row = |pipeline: &str, wall: Duration, store: Option<f64>| {
            let s = wall.as_secs_f64();
            let store = store.map_or("".to_string(), |m| format!("{m:.1}"));
            println!(
                "| {} | {} | {:.1} | {pipeline} | {s:.2} | {:.1} | {:.0} | {store} |",
                corpus.name,
                corpus.docs,
                mb(corpus.bytes),
                mb(corpus.bytes) / s,
                corpus.docs as f64 / s
            );
        };
        // Two rounds, alternating, so neither pipeline alone pays the nodes' JIT warm-up.
        for round in 1..=2 {
            let name = format!("bench-{}", corpus.name);
            let url = format!("{base}/{name}");
            // The name is an alias of a generation (`NAME.sou-<ms>`): delete the generations.
            call(&agent, "DELETE", &format!("{base}/{name}.sou-*"), None);
            let started = Instant::now();
            let status =
                Command::new(SOU).args(["index", "-q", "--index", &url]).arg(&corpus.path).status().expect("sou");
            let sou_wall = started.elapsed();
            assert!(status.code().is_some_and(|c| c < 2), "sou index into the cluster failed");
            let label = format!("sou → cluster (sou analysis, pre-analyzed fields), round {round}");
            row(&label, sou_wall, Some(store_mb(&agent, &base, &name)));

            let standard = format!("{name}-standard");
            let wall = ingest_standard(&agent, &base, &standard, &corpus.path);
            let label = format!("raw → cluster (OpenSearch `standard` analyzer), round {round}");
            row(&label, wall, Some(store_mb(&agent, &base, &standard)));
            call(&agent, "DELETE", &format!("{base}/{standard}"), None);
        }

        let local = work_dir().join(format!("cluster-local-{}", corpus.name));
        let _ = std::fs::remove_dir_all(&local);
        let started = Instant::now();
        let status =
            Command::new(SOU).args(["index", "-q", "--threads", "2", "--index"]).arg(&local).arg(&corpus.path).status();
        assert!(status.expect("sou").code().is_some_and(|c| c < 2));
        row("sou → local index (2 threads)", started.elapsed(), None);
    }
    if let Some(nodes) = &_nodes {
        for (node, rss) in nodes.rss_mb() {
            println!("\n- {node} RSS after the ingest: {rss:.0} MB");
        }
    }
    query_latency(&base);
    println!();
}

/// Warm queries through the library, 10 hits with snippets, on the news mix in the cluster (as
/// the ingest above left it) and in the local index: the same plan, two backends.
fn query_latency(base: &str) {
    let local = work_dir().join("cluster-local-news-mix");
    let Ok(local) = sou::Index::open(&local) else { return };
    let Ok(cluster) = sou::cluster::ClusterIndex::open(&format!("{base}/bench-news-mix")) else { return };
    println!("\n### Warm queries through sou: news-mix in the cluster and in a local index, 10 hits, snippets\n");
    println!(
        "| kind | runs | cluster p50 ms | cluster p99 ms | local p50 ms | local p99 ms | same ranking (ties aside) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let backends: [&dyn sou::Searchable; 2] = [&cluster, &local];
    for (kind, queries) in query_kinds() {
        let mut times = [Vec::new(), Vec::new()];
        let mut same = 0;
        for (b, index) in backends.iter().enumerate() {
            for q in &queries {
                let _ = index.search(&sou::Query::new(*q));
            }
            for _ in 0..10 {
                for q in &queries {
                    let started = Instant::now();
                    index.search(&sou::Query::new(*q)).expect("search");
                    times[b].push(started.elapsed());
                }
            }
            times[b].sort();
        }
        for q in &queries {
            let results = |index: &dyn sou::Searchable| index.search(&sou::Query::new(*q)).expect("search");
            same += usize::from(results(&local).ranks_like(&results(&cluster)));
        }
        println!(
            "| {kind} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {same}/{} |",
            times[0].len(),
            percentile(&times[0], 0.5),
            percentile(&times[0], 0.99),
            percentile(&times[1], 0.5),
            percentile(&times[1], 0.99),
            queries.len()
        );
    }
}
