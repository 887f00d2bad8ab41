//! The search page in headless Chromium, driven over WebDriver: searching, opening a result and
//! coming back, history and reload, paging, the no-hit suggestion, a prefix mount, labels and
//! the phone layout. Skipped, with a message, where no browser is installed (never in CI).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Fixture, Server};

/// Chromium under chromedriver, one session, closed on drop.
struct Browser {
    base: String,
    session: String,
    agent: ureq::Agent,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// A browser, or `None` (after saying SKIPPED) where Chromium is missing outside CI.
    fn start(test: &str, width: u32, height: u32) -> Option<Browser> {
        let (chromium, driver) = (Path::new("/usr/bin/chromium"), Path::new("/usr/bin/chromedriver"));
        if !chromium.exists() || !driver.exists() {
            let why =
                format!("no {} / {} (apt-get install chromium chromium-driver)", chromium.display(), driver.display());
            crate::common::skip(test, &why);
            return None;
        }
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars", format!("--window-size={width},{height}"),
                     format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let mut created = agent.post(&format!("{base}/session")).send_json(capabilities).unwrap();
        let created: Value = serde_json::from_str(&created.body_mut().read_to_string().unwrap()).unwrap();
        let session =
            created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_string();
        let browser = Browser { base, session, agent, driver, _profile: profile };
        // Headless windows ignore --window-size on some versions: set the viewport by script.
        browser.call("POST", "/window/rect", Some(json!({"width": width, "height": height})));
        Some(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut response = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self.agent.post(&url).send_json(body.unwrap_or(json!({}))),
        }
        .unwrap();
        let value: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        if let Some(error) = value["value"]["error"].as_str() {
            panic!("webdriver {path}: {error}: {}", value["value"]["message"]);
        }
        value["value"].clone()
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs `script` (a function body; `arguments` available) in the page.
    fn js(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
    }

    /// Waits, at most 10 s, until `expression` is truthy in the page; returns its value.
    fn wait(&self, expression: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let value = self.js(&format!("try {{ return ({expression}); }} catch (e) {{ return null; }}"));
            if !matches!(value, Value::Null | Value::Bool(false)) && value != json!("") && value != json!(0) {
                return value;
            }
            assert!(Instant::now() < deadline, "never true: {expression}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn element(&self, css: &str) -> String {
        let found = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap().to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.call("POST", &format!("/element/{element}/value"), Some(json!({"text": text})));
    }

    fn click(&self, css: &str) {
        let element = self.element(css);
        self.call("POST", &format!("/element/{element}/click"), None);
    }

    fn back(&self) {
        self.call("POST", "/back", None);
    }

    fn refresh(&self) {
        self.call("POST", "/refresh", None);
    }

    fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_string()
    }

    /// Saves a screenshot as `target/NAME.png` (the README's pictures come from these).
    fn screenshot(&self, name: &str) -> PathBuf {
        let shot = self.call("GET", "/screenshot", None);
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join(format!("{name}.png"));
        std::fs::write(&target, base64_decode(shot.as_str().unwrap())).unwrap();
        eprintln!("screenshot: {}", target.display());
        target
    }
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

/// The standard fixture plus 24 short reports that all mention 港口, for paging.
fn paged_fixture() -> Fixture {
    let f = Fixture::standard();
    for i in 1..=24 {
        f.write(
            &format!("corpus/ports/{i:02}.txt"),
            &format!("港口报告第{i}号\n\n第{i}号报告：港口吞吐量保持稳定，码头运转正常。\n"),
        );
    }
    f.index();
    f
}

const RESULTS: &str = "document.querySelectorAll('#results li').length";

#[test]
fn searching_opening_a_result_and_coming_back() {
    let Some(browser) = Browser::start("searching_opening_a_result_and_coming_back", 1200, 900) else { return };
    let f = paged_fixture();
    let server = Server::start(&f);
    browser.open(&format!("{}/", server.base));
    assert_eq!(browser.js("return document.documentElement.lang"), "en", "the UI is English");
    // The start page says how big the index is and how to ask.
    let start = browser.wait("document.querySelector('#start-count').textContent");
    assert!(start.as_str().unwrap().contains("30 documents"), "{start}");
    assert!(browser.js("return document.querySelectorAll('#examples a').length").as_u64().unwrap() >= 3);
    // The search box has a label.
    let label = browser.js("return document.querySelector('label[for=q]').textContent");
    assert!(!label.as_str().unwrap().trim().is_empty());

    browser.type_into("#q", "芬太尼");
    browser.click("#go");
    browser.wait("document.querySelector('#results mark')");
    let marks = browser.js("return Array.from(document.querySelectorAll('#results mark')).map(m => m.textContent)");
    assert!(marks.as_array().unwrap().iter().any(|m| m == "芬太尼"), "{marks}");
    let status = browser.js("return document.querySelector('#status').textContent");
    assert!(status.as_str().unwrap().starts_with("2 results"), "{status}");
    assert_eq!(
        browser.js("return document.querySelector('#results li [lang=zh] mark') !== null"),
        true,
        "zh text is marked zh"
    );
    browser.screenshot("serve-results");

    // Open the first hit: a document view with both texts and the query marked.
    let results_url = browser.url();
    browser.click("#results li h2 a");
    browser.wait("!document.querySelector('#doc').hidden && document.querySelector('#doc-zh mark')");
    assert!(browser.url().contains("doc="), "{}", browser.url());
    let marked = browser.js("return document.querySelector('#doc-zh mark').textContent");
    assert_eq!(marked, "芬太尼");
    assert!(browser.js("return document.querySelector('#doc-en').textContent.length").as_u64().unwrap() > 20);
    browser.screenshot("serve-document");
    // …and back, by the page's link and by the browser's Back.
    browser.click("#back");
    browser.wait(&format!("{RESULTS} === 2"));
    assert_eq!(browser.url(), results_url);
    browser.click("#results li h2 a");
    browser.wait("!document.querySelector('#doc').hidden");
    browser.back();
    browser.wait(&format!("!document.querySelector('#results').hidden && {RESULTS} === 2"));
    assert_eq!(browser.url(), results_url);
}

#[test]
fn back_and_reload_restore_a_search_and_its_page_and_paging_scrolls_to_the_top() {
    let test = "back_and_reload_restore_a_search_and_its_page_and_paging_scrolls_to_the_top";
    let Some(browser) = Browser::start(test, 1000, 500) else { return };
    let f = paged_fixture();
    let server = Server::start(&f);
    browser.open(&format!("{}/", server.base));
    browser.type_into("#q", "港口");
    browser.click("#go");
    browser.wait(&format!("{RESULTS} === 10"));
    let first_page = browser.js("return document.querySelector('#results li h2').textContent");
    browser.js("window.scrollTo(0, document.body.scrollHeight)");
    assert!(browser.js("return window.scrollY").as_f64().unwrap() > 0.0, "the list is taller than the window");
    browser.click("#next");
    browser.wait("location.search.includes('offset=10')");
    browser.wait(&format!("{RESULTS} === 10 && document.querySelector('#results').start === 11"));
    assert_eq!(browser.js("return window.scrollY"), 0, "paging scrolls to the top of the list");
    let second_page = browser.js("return document.querySelector('#results li h2').textContent");
    assert_ne!(first_page, second_page);

    // Reload: the same page of the same search.
    browser.refresh();
    browser.wait(&format!("{RESULTS} === 10"));
    assert_eq!(browser.js("return document.querySelector('#results li h2').textContent"), second_page);
    assert_eq!(browser.js("return document.querySelector('#q').value"), "港口");
    // Back: the first page, not about:blank.
    browser.back();
    browser.wait("!location.search.includes('offset')");
    browser.wait(&format!("document.querySelector('#results li h2') && document.querySelector('#results li h2').textContent === {first_page}"));
    // A second search, then Back returns to the first one.
    browser.js("document.querySelector('#q').value = ''");
    browser.type_into("#q", "fentanyl");
    browser.click("#go");
    browser.wait(&format!("{RESULTS} === 3"));
    browser.back();
    browser.wait("document.querySelector('#q').value === '港口'");
    browser.wait(&format!("{RESULTS} === 10"));

    // An offset past the end, from an edited link, shows the last page.
    browser.open(&format!("{}/?q=%E6%B8%AF%E5%8F%A3&offset=990", server.base));
    browser.wait("location.search.includes('offset=20')");
    browser.wait(&format!("{RESULTS} === 4"));
}

#[test]
fn no_hits_suggest_any_term_matching() {
    let Some(browser) = Browser::start("no_hits_suggest_any_term_matching", 1000, 700) else { return };
    let f = paged_fixture();
    let server = Server::start(&f);
    browser.open(&format!("{}/?q=fentanyl%20zzzunknown", server.base));
    let suggestion =
        browser.wait("document.querySelector('#suggest-any') && document.querySelector('#suggest-any').textContent");
    assert!(suggestion.as_str().unwrap().contains("any of the words"), "{suggestion}");
    browser.click("#suggest-any");
    browser.wait(&format!("{RESULTS} === 3"));
    assert!(browser.url().contains("any=1"));
    assert_eq!(browser.js("return document.querySelector('#any').checked"), true, "the control shows the mode");
}

#[test]
fn the_page_works_mounted_under_a_prefix() {
    let Some(browser) = Browser::start("the_page_works_mounted_under_a_prefix", 1000, 700) else { return };
    let f = paged_fixture();
    let server = crate::serve::mounted_under_prefix(&f);
    for entry in ["/search", "/search/"] {
        browser.open(&format!("{}{entry}?q=fentanyl", server.base));
        browser.wait(&format!("{RESULTS} === 3"));
        assert!(browser.url().contains("/search?q=fentanyl"), "{}", browser.url());
        browser.click("#results li h2 a");
        browser.wait("document.querySelector('#doc-en') && document.querySelector('#doc-en').textContent.length > 0");
    }
}

#[test]
fn the_phone_layout_has_no_horizontal_overflow() {
    let Some(browser) = Browser::start("the_phone_layout_has_no_horizontal_overflow", 390, 844) else { return };
    let f = paged_fixture();
    let server = Server::start(&f);
    let long = "港口".repeat(40) + &"x".repeat(120);
    browser.open(&format!("{}/", server.base));
    browser.wait("document.querySelector('#start-count').textContent");
    browser.type_into("#q", &long);
    browser.click("#go");
    browser.wait("document.querySelector('#status').textContent.includes('result')");
    let overflow = browser.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
    assert_eq!(overflow, 0, "horizontal overflow at 390 px");
    let header = browser.js("return document.querySelector('header').getBoundingClientRect().height").as_f64().unwrap();
    assert!(header < 844.0 / 4.0, "the header takes {header} px of 844");
    // Focus is visible on the controls, and their borders have contrast (#737b85: 4.2:1).
    // Tab from the search box to the button, as a keyboard user does.
    browser.js("document.querySelector('#q').focus()");
    assert_eq!(browser.js("return getComputedStyle(document.querySelector('#q')).outlineStyle"), "solid");
    browser.type_into("#q", "\u{E004}");
    assert_eq!(browser.js("return document.activeElement.id"), "go");
    let outline = browser.js("return getComputedStyle(document.querySelector('#go')).outlineStyle");
    assert_eq!(outline, "solid", "a focus ring");
    let border = browser.js("return getComputedStyle(document.querySelector('#q')).borderTopColor");
    assert_eq!(border, "rgb(115, 123, 133)");
    browser.js("document.querySelector('#q').value = ''");
    browser.type_into("#q", "港口");
    browser.click("#go");
    browser.wait(&format!("{RESULTS} === 10"));
    let overflow = browser.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
    assert_eq!(overflow, 0);
    browser.screenshot("serve-phone");
}
