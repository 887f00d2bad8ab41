//! `sou serve`: the HTTP API over a real server process on an ephemeral loopback port (and the
//! router in-process), its guard (Host, token, CORS, headers, JSON errors) and its OpenAPI
//! document. The page in a browser is `browser.rs`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Fixture, Reply, Server};

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
        // A blank query is answered with no hits, but its other parameters are still checked
        // (schemathesis found a tab for a query with a bad date and sort accepted).
        ("/api/search?q=%09&until=__main__", "until"),
        ("/api/search?q=%20&sort=random", "sort"),
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
    eventually("the new document never showed up", || server.get("/api/search?q=%E7%A8%80%E5%9C%9F").1["total"] == 1);
}

/// Waits, at most 10 s, until `done` holds; fails with `failure` otherwise.
fn eventually(failure: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{failure}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_page_loads_only_its_own_files() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    let page = server.request("GET", "/", &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<form") && page.body.contains(r#"src="page.js""#), "{}", page.body);
    assert!(!page.body.contains("http://") && !page.body.contains("https://"), "no external resources");
    assert!(!page.body.contains("<script>") && !page.body.contains("<style>"), "nothing inline: the CSP forbids it");
    assert!(page.body.contains(r#"maxlength="1000""#), "the query length limit is stopped at the input");
    assert!(page.body.contains(r#"<base href="/">"#));
    let script = server.request("GET", "/page.js", &[]);
    assert_eq!(script.status, 200);
    assert!(script.header("content-type").unwrap().starts_with("text/javascript"));
    assert!(script.body.contains("compositionend"), "searches after an input method finishes");
    assert!(!script.body.contains("fetch(\"/"), "relative URLs only, so the page works under a prefix");
    assert_eq!(server.request("GET", "/page.css", &[]).status, 200);
}

#[test]
fn security_headers_are_on_every_answer_and_cors_only_when_asked() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    for path in ["/", "/page.js", "/api/search?q=fentanyl", "/api/stats", "/nope"] {
        let reply = server.request("GET", path, &[("Origin", "https://elsewhere.example")]);
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(reply.header("access-control-allow-origin"), None, "{path}: no CORS unless asked");
    }
    let server = Server::start_with(&f, &["--cors-origin", "https://app.example"], &[]);
    let allowed = server.request("GET", "/api/stats", &[("Origin", "https://app.example")]);
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
    let other = server.request("GET", "/api/stats", &[("Origin", "https://elsewhere.example")]);
    assert_eq!(other.header("access-control-allow-origin"), None);
    let preflight = server.request(
        "OPTIONS",
        "/api/search",
        &[("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET")],
    );
    assert_eq!(preflight.status, 204);
    assert!(preflight.header("access-control-allow-methods").unwrap().contains("GET"));
}

#[test]
fn a_foreign_host_is_refused() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start_with(&f, &["--allow-host", "search.internal"], &[]);
    let port = server.base.rsplit(':').next().unwrap().to_string();
    for (host, status) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        (format!("search.internal:{port}"), 200),
        // A page whose domain was rebound to 127.0.0.1 sends its own name.
        (format!("attacker.example:{port}"), 403),
        ("attacker.example".to_string(), 403),
        (format!("10.1.2.3:{port}"), 403),
    ] {
        for path in ["/", "/api/search?q=fentanyl"] {
            let reply = server.request("GET", path, &[("Host", &host)]);
            assert_eq!(reply.status, status, "{host} {path}: {}", reply.body);
            if status == 403 {
                assert!(reply.json()["error"].as_str().unwrap().contains("host"), "{}", reply.body);
            }
        }
    }
}

#[test]
fn a_non_loopback_address_needs_public() {
    let f = Fixture::standard();
    f.index();
    // Refused before anything binds: nothing listens beyond loopback in a test.
    let output = f.sou(&["serve", "--addr", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--public") && stderr.lines().count() == 1, "{stderr}");
    assert!(output.stdout.is_empty());
    // The library refuses it as well, whoever calls it.
    let index = sou::Index::open(f.path("index")).unwrap();
    let addr = "0.0.0.0:0".parse().unwrap();
    let refused = sou::serve::serve(index, addr, sou::serve::ServeOptions::default(), |_| panic!("bound"));
    assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::PermissionDenied);
}

#[test]
fn a_token_is_required_when_set() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start_with(&f, &[], &[("SOU_TOKEN", "s3cret-token")]);
    for path in ["/api/search?q=fentanyl", "/api/stats", "/api/doc/corpus/notes.md", "/api/openapi.json"] {
        let missing = server.request("GET", path, &[]);
        assert_eq!(missing.status, 401, "{path}");
        assert!(missing.json()["error"].as_str().unwrap().contains("token"));
        assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
        assert_eq!(server.request("GET", path, &[("Authorization", "Bearer wrong-token")]).status, 401, "{path}");
        assert_eq!(server.request("GET", path, &[("Authorization", "Bearer s3cret-token")]).status, 200, "{path}");
    }
    // The page itself loads (it asks for the token).
    assert_eq!(server.request("GET", "/", &[]).status, 200);

    f.write("token.txt", "from-a-file\n");
    let server = Server::start_with(&f, &["--token-file", "token.txt"], &[]);
    assert_eq!(server.request("GET", "/api/stats", &[]).status, 401);
    assert_eq!(server.request("GET", "/api/stats", &[("Authorization", "Bearer from-a-file")]).status, 200);
}

#[test]
fn every_error_answers_json() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    for (method, path, status) in [
        ("GET", "/nope", 404),
        ("GET", "/%FF", 404),
        ("GET", "/api/doc/%FF%FE", 400),
        ("GET", "/api/doc/missing", 404),
        ("POST", "/api/search?q=x", 405),
        ("DELETE", "/", 405),
        ("GET", "/api/search?q=x&any=maybe", 400),
        ("GET", "/api/search?q=x&offset=", 400),
        ("GET", "/api/search?q=%22unclosed", 200),
    ] {
        let reply = server.request(method, path, &[]);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert!(reply.header("content-type").unwrap_or_default().starts_with("application/json"), "{method} {path}");
        if status >= 400 {
            let error = reply.json();
            assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{method} {path}: {}", reply.body);
        }
    }
}

#[test]
fn no_hits_say_what_any_term_matching_would_find_and_what_dates_hide() {
    let f = Fixture::standard();
    f.write("corpus/undated.txt", "没有日期的芬太尼说明\n\n这份芬太尼说明没有日期。\n");
    f.index();
    let server = Server::start(&f);
    let (_, none) = server.get("/api/search?q=fentanyl%20zzzunknown");
    assert_eq!(none["total"], 0);
    let (_, found) = server.get("/api/search?q=fentanyl");
    assert!(found["total"].as_u64().unwrap() > 0);
    assert_eq!(none["any_would_find"], found["total"], "{none}");
    assert!(found.get("any_would_find").is_none(), "only when nothing was found");
    let (_, dated) = server.get("/api/search?q=%E8%8A%AC%E5%A4%AA%E5%B0%BC&since=2000-01-01");
    assert_eq!(dated["undated_hidden"], 1, "{dated}");
    assert!(!ids(&dated).contains(&"corpus/undated.txt".to_string()));
}

#[test]
fn documents_come_with_the_query_marked() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    let (status, doc) = server.get("/api/doc/corpus/news/fentanyl.txt?q=%E8%8A%AC%E5%A4%AA%E5%B0%BC%20fentanyl");
    assert_eq!(status, 200, "{doc}");
    let zh: Vec<char> = doc["zh"].as_str().unwrap().chars().collect();
    let marks = doc["highlights"]["zh"].as_array().unwrap();
    assert!(!marks.is_empty());
    for mark in marks {
        let (start, end) = (mark[0].as_u64().unwrap() as usize, mark[1].as_u64().unwrap() as usize);
        assert_eq!(zh[start..end].iter().collect::<String>(), "芬太尼");
    }
    let title: Vec<char> = doc["title"].as_str().unwrap().chars().collect();
    let mark = &doc["highlights"]["title"][0];
    let marked: String = title[mark[0].as_u64().unwrap() as usize..mark[1].as_u64().unwrap() as usize].iter().collect();
    assert_eq!(marked.to_lowercase(), "fentanyl");
    let (_, plain) = server.get("/api/doc/corpus/news/fentanyl.txt");
    assert_eq!(plain["highlights"]["zh"].as_array().unwrap().len(), 0);
}

/// Runs `app` on 127.0.0.1 in a thread of the test, until dropped.
pub(crate) struct InProcess {
    pub(crate) base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    fn start(app: sou::serve::axum::Router) -> InProcess {
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_tx.send(listener.local_addr().unwrap()).unwrap();
                let shutdown = async {
                    let _ = stopped.await;
                };
                sou::serve::axum::serve(listener, app).with_graceful_shutdown(shutdown).await.unwrap();
            });
        });
        let addr = address_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        InProcess { base: format!("http://{addr}"), stop: Some(stop), thread: Some(thread) }
    }

    fn get(&self, path: &str) -> Reply {
        crate::common::request(&self.base, "GET", path, &[])
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|stop| stop.send(()));
        let _ = self.thread.take().map(|t| t.join());
    }
}

pub(crate) fn mounted_under_prefix(f: &Fixture) -> InProcess {
    let index = sou::Index::open(f.path("index")).unwrap();
    let app =
        sou::serve::axum::Router::new().route("/", sou::serve::axum::routing::get(|| async { "the host application" }));
    let app = sou::serve::mount(app, "/search", sou::serve::router(index, sou::serve::ServeOptions::default()));
    InProcess::start(app)
}

#[test]
fn a_router_on_a_plain_open_index_sees_commits_made_through_another_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let writer = sou::Index::create(&path).unwrap();
    writer.add_documents([sou::Document::new("a", "第一篇").with_text("港口查获假冒药品。")]).unwrap();
    let server = InProcess::start(sou::serve::router(sou::Index::open(&path).unwrap(), Default::default()));
    assert_eq!(server.get("/api/search?q=%E7%A8%80%E5%9C%9F").json()["total"], 0);
    writer.add_documents([sou::Document::new("b", "第二篇").with_text("新文件提到稀土出口。")]).unwrap();
    eventually("the router never saw the commit", || {
        server.get("/api/search?q=%E7%A8%80%E5%9C%9F").json()["total"] == 1
    });
}

#[test]
fn the_router_works_under_a_prefix_with_and_without_a_trailing_slash() {
    let f = Fixture::standard();
    f.index();
    let server = mounted_under_prefix(&f);
    let page = server.get("/search?q=x");
    assert_eq!(page.status, 200, "{:?} {}", page.headers, page.body);
    assert!(page.body.contains(r#"<base href="/search/">"#), "relative URLs resolve under the prefix");
    let slash = server.get("/search/?q=x");
    assert_eq!(slash.status, 308, "nest leaves the slash form unrouted: mount redirects it");
    assert_eq!(slash.header("location"), Some("/search?q=x"));
    assert_eq!(server.get("/search/page.js").status, 200);
    assert_eq!(server.get("/search/api/search?q=fentanyl").json()["total"], 3);
    assert_eq!(server.get("/").body, "the host application");
}

#[test]
fn serve_called_inside_a_runtime_returns_its_error_instead_of_panicking() {
    let f = Fixture::standard();
    f.index();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = runtime.block_on(async {
        let index = sou::Index::open(f.path("index")).unwrap();
        sou::serve::serve(index, addr, sou::serve::ServeOptions::default(), |_| {})
    });
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::AddrInUse);
}

/// Checks `value` against the subset of JSON Schema the OpenAPI document uses ($ref, type,
/// properties, required, additionalProperties, items, enum, minimum, minItems, maxItems).
fn check_schema(value: &Value, schema: &Value, root: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return check_schema(value, &root["components"]["schemas"][name], root, at);
    }
    let type_ok = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("type {other}"),
    };
    match &schema["type"] {
        Value::String(t) if !type_ok(t) => return Err(format!("{at}: {value} is not {t}")),
        Value::Array(ts) if !ts.iter().any(|t| type_ok(t.as_str().unwrap())) => {
            return Err(format!("{at}: {value} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Some(options) = schema["enum"].as_array().filter(|o| !o.contains(value)) {
        return Err(format!("{at}: {value} not in {options:?}"));
    }
    if let (Some(min), Some(n)) = (schema["minimum"].as_f64(), value.as_f64())
        && n < min
    {
        return Err(format!("{at}: {n} < {min}"));
    }
    if let Some(items) = value.as_array() {
        let len = items.len() as u64;
        if schema["minItems"].as_u64().is_some_and(|m| len < m) || schema["maxItems"].as_u64().is_some_and(|m| len > m)
        {
            return Err(format!("{at}: {len} items"));
        }
        for (i, item) in items.iter().enumerate() {
            check_schema(item, &schema["items"], root, &format!("{at}[{i}]"))?;
        }
    }
    if let Some(object) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap()) {
                return Err(format!("{at}: missing {required}"));
            }
        }
        for (key, item) in object {
            match schema["properties"].get(key) {
                Some(property) => check_schema(item, property, root, &format!("{at}.{key}"))?,
                None if schema["additionalProperties"] == Value::Bool(false) => {
                    return Err(format!("{at}: {key} is not in the document"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

#[test]
fn real_answers_match_the_openapi_document() {
    let f = Fixture::standard();
    f.index();
    let server = Server::start(&f);
    let (status, spec) = server.get("/api/openapi.json");
    assert_eq!(status, 200);
    assert_eq!(spec["openapi"], "3.1.0");
    // The document in the repository is the one served.
    let kept: Value = serde_json::from_str(include_str!("../../src/serve/openapi.json")).unwrap();
    assert_eq!(spec, kept);
    for (route, path) in [
        ("/api/search", "/api/search?q=%E8%8A%AC%E5%A4%AA%E5%B0%BC"),
        ("/api/search", "/api/search?q=fentanyl%20OR%20vaccines&limit=3&offset=1&sort=date"),
        ("/api/search", "/api/search?q=fentanyl%20zzzunknown"),
        ("/api/search", "/api/search?q=entity&since=2023-01-01&until=2030-12-31&any=1"),
        ("/api/search", "/api/search?q=%22entity%20list%22"),
        ("/api/search", "/api/search?q=!!!"),
        ("/api/search", "/api/search"),
        ("/api/search", "/api/search?q=x&limit=1000"),
        ("/api/stats", "/api/stats"),
        ("/api/doc/{id}", "/api/doc/corpus/news/fentanyl.txt?q=fentanyl"),
        ("/api/doc/{id}", "/api/doc/corpus/notes.md"),
        ("/api/doc/{id}", "/api/doc/missing"),
    ] {
        let reply = server.request("GET", path, &[]);
        let responses = &spec["paths"][route]["get"]["responses"];
        let described = &responses[reply.status.to_string()];
        assert!(described.is_object(), "{path}: status {} is not in the document", reply.status);
        let schema = &described["content"]["application/json"]["schema"];
        check_schema(&reply.json(), schema, &spec, path).unwrap();
    }
    // Every route the server answers is described.
    for route in ["/", "/api/search", "/api/stats", "/api/doc/{id}", "/api/openapi.json"] {
        assert!(spec["paths"][route]["get"].is_object(), "{route}");
    }
}

/// schemathesis, from PyPI: `.ci/run` installs it into `target/ci-venv`; elsewhere set
/// `SOU_SCHEMATHESIS` or put it on PATH.
fn schemathesis() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("SOU_SCHEMATHESIS") {
        return Some(path.into());
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/schemathesis");
    if venv.exists() {
        return Some(venv);
    }
    let on_path = Command::new("schemathesis").arg("--version").output().is_ok_and(|o| o.status.success());
    on_path.then(|| "schemathesis".into())
}

#[test]
fn the_api_holds_to_its_openapi_document_under_schemathesis() {
    let Some(schemathesis) = schemathesis() else {
        let why = "schemathesis not installed (pip install schemathesis; .ci/run installs it)";
        crate::common::skip("the_api_holds_to_its_openapi_document_under_schemathesis", why);
        return;
    };
    let f = Fixture::standard();
    f.index();
    let server = Server::start_with(&f, &["--quiet"], &[]);
    // Output to a file: a full pipe would stall it while this test waits.
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(&schemathesis)
        .args(["run", &format!("{}/api/openapi.json", server.base), "--checks", "all"])
        .args(["--max-examples", "40", "--workers", "2", "--max-time", "45", "--seed", "7"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1")
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("schemathesis ran past 240 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(status.success(), "schemathesis found problems:\n{text}");
    assert!(text.contains("passed"), "{text}");
}

#[test]
fn the_server_segments_queries_as_a_rebuilt_index_with_another_dictionary_does() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "报告\n\n中国法医科学研究院发布年度报告。\n");
    f.write("corpus/b.txt", "研究\n\n科学研究院的法医工作。\n");
    f.write("dict.txt", "法医科学研究院 100000 nt\n");
    f.sou(&["index", "-q", "--dict", "dict.txt"]).assert().success();
    let server = Server::start(&f);
    let query = "法医科学研究院";
    let with_dictionary = crate::common::ranked(&f.search_json(query));
    assert!(crate::common::served_hits_come_to(&server, query, &with_dictionary));
    f.sou(&["index", "-q", "--rebuild", "--no-dict"]).assert().success();
    let without = crate::common::ranked(&f.search_json(query));
    assert_ne!(without, with_dictionary, "the dictionary changes the ranking");
    assert!(
        crate::common::served_hits_come_to(&server, query, &without),
        "the server still segments with the old dictionary"
    );
}
