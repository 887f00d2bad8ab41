//! Shared fixtures and helpers.

use std::path::PathBuf;

use assert_cmd::Command;
use tempfile::TempDir;

/// A seed-format news file: source, title, date line, Chinese summary, timestamp, English body.
pub const SEED_FENTANYL: &str = "测试新闻社

Officials discuss fentanyl and the entity list

November 14, 2023   2 min   120 words

美国政府计划解除对中国法医科学研究院的限制，以换取中方在芬太尼问题上的合作。该研究院此前被列入实体清单。

2023-11-14T16:37:42Z
A photo caption that mentions nothing in particular.

Washington put the institute on the Commerce Department's \"entity list\" in 2020, barring it from American exports.

Officials hope the talks will reduce the flow of fentanyl precursors.
";

/// Seed-format, trade topic, no fentanyl.
pub const SEED_CHIPS: &str = "科技观察

New rules add chip makers to the entity list

December 2, 2022   2 min   90 words

美国商务部将多家芯片企业列入实体清单，限制其获得先进技术。

2022-12-02T20:30:00Z
The Commerce Department added chip makers to the entity list on Friday.

The list now covers dozens of firms.
";

/// A generic text file: a title line and paragraphs in both scripts.
pub const PLAIN_NOTES: &str = "Notes on vaccines

新版疫苗针对变异株，老年人应尽早接种以降低重症风险。

Updated vaccines target the new variant and older adults should get them early.
";

/// Chinese with a 30-character run and no punctuation (tantivy's default analyzer would drop it).
pub const LONG_RUN: &str = "长句测试

这是一个没有任何标点符号而且长度超过二十个汉字的中文句子用来测试分析器
";

/// JSON lines with ids.
pub const BRIEFS_JSONL: &str = r#"{"id": "b1", "title": "芬太尼检测试纸上架", "date": "2024-02-20", "text": "多个城市的药店开始销售芬太尼检测试纸。\nFentanyl test strips are now sold in pharmacies."}
{"id": "b2", "title": "Port seizure", "date": "2024-03-05", "text": "Inspectors seized counterfeit pills laced with fentanyl."}
"#;

/// A temporary working folder with a `corpus/`.
pub struct Fixture {
    pub dir: TempDir,
}

impl Fixture {
    /// An empty working folder with an empty corpus.
    pub fn empty() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("corpus")).unwrap();
        Fixture { dir }
    }

    /// The standard fixture corpus.
    pub fn standard() -> Fixture {
        let f = Fixture::empty();
        f.write("corpus/news/fentanyl.txt", SEED_FENTANYL);
        f.write("corpus/news/chips.txt", SEED_CHIPS);
        f.write("corpus/notes.md", PLAIN_NOTES);
        f.write("corpus/long.txt", LONG_RUN);
        f.write("corpus/briefs.jsonl", BRIEFS_JSONL);
        f
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// `sou ARGS` run in the fixture folder.
    pub fn sou(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("sou").expect("binary built");
        cmd.current_dir(self.dir.path()).args(args).env("NO_COLOR", "1");
        cmd
    }

    /// Runs `sou index` and asserts success.
    pub fn index(&self) {
        self.sou(&["index", "-q"]).assert().success();
    }

    /// Runs a JSON search and returns the hits.
    pub fn search_json(&self, query: &str) -> Vec<serde_json::Value> {
        self.search_json_with(&[query])
    }

    /// Runs `sou search --json --limit 50 ARGS...` (a query and any options) and returns the hits.
    pub fn search_json_with(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut full = vec!["search", "--json", "--limit", "50"];
        full.extend_from_slice(args);
        let out = self.sou(&full).output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }

    /// Ids of the hits of a search, in rank order.
    pub fn ids(&self, query: &str) -> Vec<String> {
        self.ids_with(&[query])
    }

    /// Ids of the hits of `sou search` with a query and options, in rank order.
    pub fn ids_with(&self, args: &[&str]) -> Vec<String> {
        self.search_json_with(args).iter().map(|h| h["id"].as_str().unwrap().to_string()).collect()
    }
}

/// The highlighted substrings of a snippet JSON object, using its byte ranges.
pub fn highlighted(snippet: &serde_json::Value) -> Vec<String> {
    let text = snippet["text"].as_str().unwrap();
    snippet["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let (s, e) = (r[0].as_u64().unwrap() as usize, r[1].as_u64().unwrap() as usize);
            text[s..e].to_string()
        })
        .collect()
}

/// A running `sou serve`, stopped (by its PID) on drop.
pub struct Server {
    child: std::process::Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `sou serve` on an ephemeral loopback port in the fixture folder.
    pub fn start(f: &Fixture) -> Server {
        Server::start_with(f, &[], &[])
    }

    /// `sou serve` with more arguments and environment variables.
    pub fn start_with(f: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sou"));
        cmd.current_dir(f.dir.path()).args(["serve", "--addr", "127.0.0.1:0"]).args(args);
        cmd.env_remove("SOU_TOKEN").envs(env.iter().copied());
        Server::spawn(cmd)
    }

    /// Starts a command that runs `sou serve` (perhaps through a wrapper) and waits, at most
    /// 60 s, for the address it prints.
    pub fn spawn(mut cmd: std::process::Command) -> Server {
        use std::io::{BufRead, BufReader};
        let mut child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        // Keep draining the request log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("on http://").nth(1) {
                    let _ = tx.send(format!("http://{}", rest.split('/').next().unwrap()));
                }
            }
        });
        let base = rx.recv_timeout(std::time::Duration::from_secs(60));
        let mut server = Server { child, base: String::new() };
        server.base = base.expect("the server printed its address");
        server
    }

    /// GET `path`: the status and the body as JSON (or as a JSON string when it is not JSON).
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let reply = request(&self.base, "GET", path, &[]);
        (reply.status, reply.json())
    }

    /// A request with extra headers.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(&self.base, method, path, headers)
    }
}

/// An HTTP answer: status, headers (names lowercase) and body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::String(self.body.clone()))
    }

    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `method` `base` + `path` with `headers`, 30 s at most, any status accepted.
pub fn request(base: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .max_redirects(0)
        .build()
        .into();
    let url = format!("{base}{path}");
    let mut builder = ureq::http::Request::builder().method(method).uri(&url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut response = agent.run(builder.body(()).unwrap()).unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply { status, headers, body }
}

/// Skips a test that needs something this machine lacks, saying so where `cargo test` shows it
/// (libtest captures `eprintln!` of passing tests, not writes to the stderr handle); under
/// `.ci/run` (`SOU_CI=1`) a skip is a failure instead.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    assert!(std::env::var_os("SOU_CI").is_none(), "{test} cannot run in CI: {why}");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// `text` as a URL query value (every byte outside A–Z a–z 0–9 percent-encoded).
pub fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The ids and scores (to 4 decimals) of hits.
pub fn ranked(hits: &[serde_json::Value]) -> Vec<(String, String)> {
    hits.iter()
        .map(|h| (h["id"].as_str().unwrap().to_string(), format!("{:.4}", h["score"].as_f64().unwrap())))
        .collect()
}

/// Whether the server's hits for `query` come to be `expected` within 10 s (asking every
/// 300 ms): a server sees a change to its index at its next reload.
pub fn served_hits_come_to(server: &Server, query: &str, expected: &[(String, String)]) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, body) = server.get(&format!("/api/search?q={}", query_value(query)));
        if ranked(body["hits"].as_array().map_or(&[][..], |h| h.as_slice())) == expected {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}
