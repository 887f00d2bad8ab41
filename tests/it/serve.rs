//! `sou serve`: the HTTP API over a real server process on an ephemeral loopback port, and the
//! search page in headless Chromium (skipped, with a message, where no browser is installed).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Fixture, Server};

fn ids(body: &Value) -> Vec<String> {
    body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn api_search_paging_documents_stats_and_errors() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);

    let (status, body) = server.get("/api/search?q=%E8%8A%AC%E5%A4%AA%E5%B0%BC");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["query"], "芬太尼");
    assert_eq!(body["total"], 2);
    let hit = &body["hits"][0];
    for key in ["rank", "id", "score", "title", "path", "date", "snippets"] {
        assert!(hit.get(key).is_some(), "{key} in {hit}");
    }
    assert!(body["elapsed_ms"].as_f64().unwrap() >= 0.0);

    // The same hit objects as `sou search --json`.
    let cli = f.search_json("芬太尼");
    assert_eq!(body["hits"].as_array().unwrap(), &cli);

    // Paging.
    let (_, all) = server.get("/api/search?q=fentanyl%20OR%20entity&limit=10");
    let (_, first) = server.get("/api/search?q=fentanyl%20OR%20entity&limit=2");
    let (_, second) = server.get("/api/search?q=fentanyl%20OR%20entity&limit=2&offset=2");
    assert_eq!([ids(&first), ids(&second)].concat(), ids(&all));
    assert_eq!(second["hits"][0]["rank"], 3);

    // Filters and options.
    let (_, dated) = server.get("/api/search?q=entity&since=2023-01-01");
    assert_eq!(ids(&dated), vec!["corpus/news/fentanyl.txt"]);
    let (_, any) = server.get("/api/search?q=vaccines%20zzzunknown&any=1");
    assert_eq!(ids(&any), vec!["corpus/notes.md"]);

    // Documents by id, ids with slashes included.
    let (status, doc) = server.get("/api/doc/corpus/news/fentanyl.txt");
    assert_eq!(status, 200);
    assert_eq!(doc["title"], "Officials discuss fentanyl and the entity list");
    assert!(doc["zh"].as_str().unwrap().contains("芬太尼"));
    let (status, body) = server.get("/api/doc/nope");
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("nope"));

    let (status, stats) = server.get("/api/stats");
    assert_eq!((status, stats["documents"].as_u64()), (200, Some(6)));

    // Errors are JSON with a 4xx code.
    for (path, needle) in [
        ("/api/search", "missing query"),
        ("/api/search?q=x&limit=1000", "limit"),
        ("/api/search?q=x&limit=ten", "limit"),
        ("/api/search?q=x&offset=-1", "offset"),
        ("/api/search?q=x&since=someday", "since"),
        ("/api/search?q=x&sort=random", "sort"),
        ("/api/search?q=date:%5B2023-13-01%20TO%20*%5D", "2023-13-01"),
    ] {
        let (status, body) = server.get(path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].as_str().unwrap().contains(needle), "{path}: {body}");
    }
    let long = "字".repeat(1001);
    let (status, _) = server.get(&format!("/api/search?q={long}"));
    assert_eq!(status, 400);
    // Nothing outside the API and the page: no file is ever served.
    for path in ["/index/meta.json", "/../Cargo.toml", "/corpus/notes.md", "/api/doc/../../etc/passwd"] {
        let (status, body) = server.get(path);
        assert_eq!(status, 404, "{path}: {body}");
    }
}

#[test]
fn the_server_sees_a_new_commit_without_restarting() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    let (_, before) = server.get("/api/search?q=%E7%A8%80%E5%9C%9F");
    assert_eq!(before["total"], 0);
    f.write("corpus/new.txt", "新\n\n新文件提到稀土出口。\n");
    f.index();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, after) = server.get("/api/search?q=%E7%A8%80%E5%9C%9F");
        if after["total"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the new document never showed up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_page_is_self_contained() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    let (status, page) = server.get("/");
    assert_eq!(status, 200);
    let html = page.as_str().unwrap();
    assert!(html.contains("<form") && html.contains("/api/search"));
    assert!(html.contains("compositionend"), "searches after an input method finishes");
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src=\""),
        "no external resources"
    );
}

/// A minimal WebDriver client (JSON over HTTP) for chromedriver.
struct WebDriver {
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl WebDriver {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self.agent.post(&url).send_json(body.unwrap_or(serde_json::json!({}))),
        }
        .unwrap();
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    fn find(&self, css: &str) -> Vec<String> {
        let found = self.call("POST", "/elements", Some(serde_json::json!({"using": "css selector", "value": css})));
        found["value"]
            .as_array()
            .map(|elements| {
                elements.iter().filter_map(|e| e.as_object()?.values().next()?.as_str().map(str::to_string)).collect()
            })
            .unwrap_or_default()
    }

    fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None)["value"].as_str().unwrap_or_default().to_string()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn search_page_in_headless_chromium() {
    let (chromium, driver) = (Path::new("/usr/bin/chromium"), Path::new("/usr/bin/chromedriver"));
    if !chromium.exists() || !driver.exists() {
        let why =
            format!("no {} / {} (apt-get install chromium chromium-driver)", chromium.display(), driver.display());
        crate::common::skip("search_page_in_headless_chromium", &why);
        return;
    }
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    let port = free_port();
    let mut chromedriver =
        Command::new(driver).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while agent.get(&format!("{base}/status")).call().is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = tempfile::tempdir().unwrap();
    let capabilities = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": chromium,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,900", format!("--user-data-dir={}", profile.path().display())]
    }}}});
    let mut created = agent.post(&format!("{base}/session")).send_json(capabilities).unwrap();
    let created: Value = serde_json::from_str(&created.body_mut().read_to_string().unwrap()).unwrap();
    let session = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_string();
    let wd = WebDriver { base, session, agent };

    wd.call("POST", "/url", Some(serde_json::json!({"url": format!("{}/", server.base)})));
    let input = wd.find("#q").pop().expect("search box");
    wd.call("POST", &format!("/element/{input}/value"), Some(serde_json::json!({"text": "芬太尼"})));
    let button = wd.find("#go").pop().expect("search button");
    wd.call("POST", &format!("/element/{button}/click"), None);

    let deadline = Instant::now() + Duration::from_secs(10);
    let marks = loop {
        let marks: Vec<String> = wd.find("#results mark").iter().map(|m| wd.text(m)).collect();
        if !marks.is_empty() {
            break marks;
        }
        assert!(Instant::now() < deadline, "no highlighted hit appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(marks.iter().any(|m| m == "芬太尼"), "{marks:?}");
    let status = wd.find("#status").pop().map(|s| wd.text(&s)).unwrap_or_default();
    assert!(status.starts_with("2 results"), "{status}");

    let shot = wd.call("GET", "/screenshot", None);
    let png = base64_decode(shot["value"].as_str().unwrap());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("serve-screenshot.png");
    std::fs::write(&target, png).unwrap();
    eprintln!("screenshot: {}", target.display());
    wd.call("DELETE", "", None);
    let _ = chromedriver.kill();
    let _ = chromedriver.wait();
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| acc | (value(c) as u32) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}
