//! What wraps every route: the Host check (DNS rebinding), the optional token, CORS only for
//! origins asked for, security headers, JSON bodies for every error, and the request log.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ServeOptions;
use super::api::ApiError;

/// The page loads only its own script, style and API: nothing inline, nothing from elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                   form-action 'self'; base-uri 'self'; frame-ancestors 'none'";

/// Largest error body turned into a JSON message; longer ones get the status's reason.
const MAX_ERROR_BODY: usize = 4096;

pub(super) struct Guard {
    listen: Option<SocketAddr>,
    hosts: Vec<String>,
    token: Option<String>,
    cors: Vec<String>,
    log: bool,
}

impl Guard {
    pub(super) fn new(options: &ServeOptions) -> Guard {
        Guard {
            listen: options.listen_addr,
            hosts: options.allowed_hosts.iter().map(|h| h.trim().to_ascii_lowercase()).collect(),
            token: options.token.clone().filter(|t| !t.is_empty()),
            cors: options.cors_origins.clone(),
            log: options.log_requests,
        }
    }

    /// Whether `host` (a `Host` header's name, without port) names this server.
    fn host_allowed(&self, host: &str) -> bool {
        let Some(listen) = self.listen else { return true };
        let host = host.to_ascii_lowercase();
        if self.hosts.contains(&host) {
            return true;
        }
        match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            // An address literal cannot be rebound; it must be the one we listen on (any, for
            // an unspecified listen address such as 0.0.0.0).
            Ok(ip) => {
                listen.ip().is_unspecified() || ip == listen.ip() || (ip.is_loopback() && listen.ip().is_loopback())
            }
            // localhost resolves on this machine, never to an attacker's choice.
            Err(_) => host == "localhost" && (listen.ip().is_loopback() || listen.ip().is_unspecified()),
        }
    }

    fn cors_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        if self.cors.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        self.cors.iter().any(|o| o.as_bytes() == origin.as_bytes()).then(|| origin.clone())
    }

    /// Why `request` is refused, if it is.
    fn refusal(&self, request: &Request) -> Option<Response> {
        let host = request.uri().host().map(str::to_string).or_else(|| {
            let value = request.headers().get(header::HOST)?.to_str().ok()?;
            Some(host_name(value).to_string())
        });
        if !host.as_deref().is_some_and(|h| self.host_allowed(h)) {
            let message = format!("this server does not answer for host {:?}", host.unwrap_or_default());
            return Some(ApiError(StatusCode::FORBIDDEN, message).into_response());
        }
        let is_api = request.uri().path().starts_with("/api/");
        if let Some(token) = &self.token.as_ref().filter(|_| is_api && request.method() != Method::OPTIONS) {
            let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            let given = given.and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
            if !same_secret(given.as_bytes(), token.as_bytes()) {
                let mut response =
                    ApiError(StatusCode::UNAUTHORIZED, "this server needs an access token".into()).into_response();
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return Some(response);
            }
        }
        None
    }
}

/// The host part of a `Host` header value: `[::1]:7700` → `[::1]`, `localhost:7700` → `localhost`.
fn host_name(value: &str) -> &str {
    match value.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => value,
    }
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Wraps `routes` in the guard.
pub(super) fn wrap(routes: Router, guard: Arc<Guard>) -> Router {
    routes.layer(axum::middleware::from_fn_with_state(guard, guarded))
}

async fn guarded(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let line = guard.log.then(|| format!("{} {}", request.method(), request.uri()));
    let cors = guard.cors_origin(request.headers());
    let preflight = request.method() == Method::OPTIONS && cors.is_some();
    let response = match guard.refusal(&request) {
        Some(refusal) => refusal,
        None if preflight => preflight_response(),
        None => next.run(request).await,
    };
    let mut response = json_errors(response).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Some(origin) = cors {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(line) = line {
        eprintln!("sou: {line} -> {} in {:.1} ms", response.status().as_u16(), started.elapsed().as_secs_f64() * 1e3);
    }
    response
}

fn preflight_response() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// Every error answers `{"error": …}`, also those axum makes itself (a path that is not
/// UTF-8, an unknown method): their plain-text body becomes the message.
async fn json_errors(response: Response) -> Response {
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status().as_u16() < 400 || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text =
        axum::body::to_bytes(body, MAX_ERROR_BODY).await.ok().map(|b| String::from_utf8_lossy(&b).trim().to_string());
    let reason = parts.status.canonical_reason().unwrap_or("error").to_string();
    let message = text.filter(|t| !t.is_empty()).unwrap_or(reason);
    let mut fixed = ApiError(parts.status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().insert(name, value.clone());
        }
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(listen: &str, hosts: &[&str]) -> Guard {
        let options = ServeOptions {
            listen_addr: Some(listen.parse().unwrap()),
            allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..ServeOptions::default()
        };
        Guard::new(&options)
    }

    #[test]
    fn hosts_other_than_the_listening_address_are_refused() {
        let loopback = guard("127.0.0.1:7700", &["search.example"]);
        for (value, allowed) in [
            ("127.0.0.1:7700", true),
            ("localhost:7700", true),
            ("LOCALHOST", true),
            ("[::1]:7700", true),
            ("search.example:443", true),
            ("evil.example:7700", false),
            ("evil.example", false),
            ("10.0.0.1:7700", false),
            ("", false),
        ] {
            assert_eq!(loopback.host_allowed(host_name(value)), allowed, "{value}");
        }
        let public = guard("0.0.0.0:7700", &[]);
        assert!(public.host_allowed(host_name("192.168.1.5:7700")));
        assert!(public.host_allowed(host_name("localhost:7700")));
        assert!(!public.host_allowed(host_name("rebound.example:7700")));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
