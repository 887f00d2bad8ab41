//! The HTTP side of a cluster: one blocking client (ureq, no async runtime), JSON in and out,
//! bounded timeouts, and retries with exponential backoff where a retry can help (the node is
//! busy, restarting or unreachable for a moment: 429, 502–504, connection failures). A node
//! that cannot be reached is left for the next of the cluster's nodes, so one node going down
//! does not stop a sync that its replicas can serve.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

/// Largest response body read (a page of hits with their source text fits easily).
const MAX_RESPONSE_BYTES: u64 = 256 << 20;

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Attempts in all, the first one included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time, up to `max_wait`.
    pub first_wait: Duration,
    pub max_wait: Duration,
}

impl Retry {
    /// For one look at the cluster (opening an index): an unreachable cluster is reported in
    /// about a second, not after a minute of retries.
    pub const BRIEF: Retry =
        Retry { attempts: 2, first_wait: Duration::from_millis(300), max_wait: Duration::from_secs(1) };
    /// For writes: rides out a node restart or a full queue (about a minute in all).
    pub const PATIENT: Retry =
        Retry { attempts: 10, first_wait: Duration::from_millis(200), max_wait: Duration::from_secs(10) };

    /// The wait before attempt `n` (from 1, the first retry).
    pub fn wait(&self, n: u32) -> Duration {
        self.first_wait.saturating_mul(1 << n.saturating_sub(1).min(16)).min(self.max_wait)
    }
}

/// An answer: the status and the body as JSON (a body that is not JSON becomes a string).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// OpenSearch's own words for a failed request (`error.reason`), else the body.
    pub fn reason(&self) -> String {
        let error = &self.body["error"];
        let reason = error["root_cause"][0]["reason"].as_str().or_else(|| error["reason"].as_str());
        match reason {
            Some(r) => format!("HTTP {}: {r}", self.status),
            None => format!("HTTP {}: {}", self.status, one_line(&self.body.to_string(), 200)),
        }
    }
}

fn one_line(text: &str, max_chars: usize) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(max_chars).collect();
    line
}

/// Whether a status says "try again later".
pub(crate) fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// A client for one cluster: the address it was given, and the other nodes it found.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    agent: ureq::Agent,
    /// The address given (`http://host:port`, no trailing slash): what errors name.
    pub base: String,
    /// Every node's address, the one in use first.
    nodes: Arc<Mutex<Vec<String>>>,
}

/// The HTTP methods sou uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(120)))
            .max_redirects(0)
            .build()
            .into();
        let base = base.trim_end_matches('/').to_string();
        Client { agent, nodes: Arc::new(Mutex::new(vec![base.clone()])), base }
    }

    /// Learns the HTTP addresses of the cluster's other nodes (`_nodes/http`), to fall back on
    /// when the node in use cannot be reached. Best effort: without them the client keeps to
    /// the address it was given.
    pub fn discover_nodes(&self) {
        let Ok(reply) = self.once(Method::Get, "/_nodes/http?filter_path=nodes.*.http.publish_address", None, "")
        else {
            return;
        };
        let scheme = self.base.split_once("://").map_or("http", |(s, _)| s);
        let found: Vec<String> = reply.body["nodes"]
            .as_object()
            .into_iter()
            .flat_map(|nodes| nodes.values())
            .filter_map(|node| node["http"]["publish_address"].as_str())
            // "host/1.2.3.4:9200" or "1.2.3.4:9200"
            .map(|address| format!("{scheme}://{}", address.rsplit('/').next().unwrap_or(address)))
            .collect();
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        for address in found {
            if !nodes.contains(&address) {
                nodes.push(address);
            }
        }
    }

    /// The node requests go to.
    fn node(&self) -> String {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())[0].clone()
    }

    /// Moves on from `failed` to the next node (if another request has not already).
    fn next_node(&self, failed: &str) {
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        if nodes.len() > 1 && nodes[0] == failed {
            nodes.rotate_left(1);
        }
    }

    /// `method path` with a JSON body, retried per `retry` on transient answers and connection
    /// failures. A non-transient error status is returned as a reply, not an error.
    pub fn json(&self, method: Method, path: &str, body: Option<&Value>, retry: Retry) -> Result<Reply> {
        let text = body.map(Value::to_string);
        self.send(method, path, text.as_deref(), "application/json", retry)
    }

    /// `method path` with a text body of `content_type` (`_bulk` takes NDJSON), retried like
    /// [`Client::json`].
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        content_type: &str,
        retry: Retry,
    ) -> Result<Reply> {
        let mut attempt = 1;
        loop {
            let node = self.node();
            let outcome = self.once_at(&node, method, path, body, content_type);
            let retryable = match &outcome {
                Ok(reply) => is_transient(reply.status),
                Err(_) => {
                    self.next_node(&node);
                    true
                }
            };
            if !retryable || attempt >= retry.attempts {
                return outcome;
            }
            std::thread::sleep(retry.wait(attempt));
            attempt += 1;
        }
    }

    fn once(&self, method: Method, path: &str, body: Option<&str>, content_type: &str) -> Result<Reply> {
        self.once_at(&self.node(), method, path, body, content_type)
    }

    fn once_at(&self, node: &str, method: Method, path: &str, body: Option<&str>, content_type: &str) -> Result<Reply> {
        let url = format!("{node}{path}");
        let sent = match (method, body) {
            (Method::Get, _) => self.agent.get(&url).call(),
            (Method::Head, _) => self.agent.head(&url).call(),
            (Method::Delete, _) => self.agent.delete(&url).call(),
            (Method::Put, Some(b)) => self.agent.put(&url).header("Content-Type", content_type).send(b),
            (Method::Put, None) => self.agent.put(&url).send_empty(),
            (Method::Post, Some(b)) => self.agent.post(&url).header("Content-Type", content_type).send(b),
            (Method::Post, None) => self.agent.post(&url).send_empty(),
        };
        let mut response = sent.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let text = if method == Method::Head {
            String::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE_BYTES)
                .read_to_string()
                .map_err(|e| self.unreachable(&e))?
        };
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply { status, body })
    }

    fn unreachable(&self, error: &ureq::Error) -> Error {
        Error::Cluster { url: self.base.clone(), message: format!("cannot reach the cluster ({error})") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap() {
        let r = Retry { attempts: 5, first_wait: Duration::from_millis(100), max_wait: Duration::from_millis(350) };
        let waits: Vec<u128> = (1..5).map(|n| r.wait(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 350, 350]);
    }

    #[test]
    fn an_unreachable_cluster_is_one_error_after_the_attempts() {
        // A port nothing listens on: bind one, note it, free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = Client::new(&format!("http://127.0.0.1:{port}"));
        let started = std::time::Instant::now();
        let error = client.json(Method::Get, "/", None, Retry::BRIEF).unwrap_err();
        assert!(error.to_string().contains("cannot reach the cluster"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_reason_is_opensearchs_own() {
        let reply = Reply {
            status: 400,
            body: serde_json::json!({"error": {"root_cause": [{"reason": "no such index [x]"}], "reason": "outer"}}),
        };
        assert_eq!(reply.reason(), "HTTP 400: no such index [x]");
    }
}
