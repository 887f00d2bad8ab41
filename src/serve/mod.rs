//! `sou serve`: an HTTP JSON API over one index and a self-contained search page.
//!
//! The index is opened once; its reader reloads when another process commits. Searches run on
//! tokio's blocking pool with a time limit. Requests never name files: the only routes are the
//! embedded page and the API, whose document lookup goes through the index by id.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

/// The axum this router is built with: mount [`router`] in an application of the same version.
pub use axum;

use crate::date::Date;
use crate::error::Error;
use crate::index::Index;
use crate::search::{Query, SearchResults, SortBy};

/// Limits on what one request may ask for.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Longest query text, in characters.
    pub max_query_chars: usize,
    /// Largest `limit`.
    pub max_limit: usize,
    /// Largest `offset`.
    pub max_offset: usize,
    /// Time allowed for one search.
    pub timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits { max_query_chars: 1000, max_limit: 100, max_offset: 10_000, timeout: Duration::from_secs(10) }
    }
}

struct AppState {
    index: Index,
    limits: ServeLimits,
}

type Shared = Arc<AppState>;

const PAGE: &str = include_str!("serve_page.html");

/// An API error: a status code and a JSON body `{"error": message}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Query(_) | Error::Date(_) => ApiError(StatusCode::BAD_REQUEST, e.to_string()),
            other => ApiError(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

/// The search response: the same hit objects as `sou search --json`, plus totals.
#[derive(Serialize)]
struct SearchResponse {
    query: String,
    limit: usize,
    offset: usize,
    #[serde(flatten)]
    results: SearchResults,
}

fn number(params: &HashMap<String, String>, name: &str, default: usize, max: usize) -> Result<usize, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => {
            let n: usize = v.parse().map_err(|_| bad_request(format!("{name} must be a whole number, not {v:?}")))?;
            if n > max {
                return Err(bad_request(format!("{name} must be at most {max}")));
            }
            Ok(n)
        }
    }
}

fn date(params: &HashMap<String, String>, name: &str) -> Result<Option<Date>, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Date::parse_strict(v).map(Some).map_err(|e| bad_request(format!("{name}: {e}"))),
    }
}

fn flag(params: &HashMap<String, String>, name: &str) -> bool {
    params.get(name).is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on"))
}

async fn search(
    State(state): State<Shared>,
    QueryParams(params): QueryParams<HashMap<String, String>>,
) -> Result<Json<SearchResponse>, ApiError> {
    let limits = &state.limits;
    let text = params.get("q").map(|q| q.trim().to_string()).unwrap_or_default();
    if text.is_empty() {
        return Err(bad_request("missing query: add ?q=..."));
    }
    if text.chars().count() > limits.max_query_chars {
        return Err(bad_request(format!("query longer than {} characters", limits.max_query_chars)));
    }
    let limit = number(&params, "limit", 10, limits.max_limit)?;
    let offset = number(&params, "offset", 0, limits.max_offset)?;
    let sort = match params.get("sort").map(String::as_str) {
        None | Some("") | Some("relevance") => SortBy::Relevance,
        Some("date") => SortBy::Date,
        Some(other) => return Err(bad_request(format!("sort must be relevance or date, not {other:?}"))),
    };
    let query = Query::new(text.clone())
        .limit(limit)
        .offset(offset)
        .any(flag(&params, "any"))
        .since(date(&params, "since")?)
        .until(date(&params, "until")?)
        .sort(sort);
    let worker = Arc::clone(&state);
    let task = tokio::task::spawn_blocking(move || worker.index.search(&query));
    let results = match tokio::time::timeout(limits.timeout, task).await {
        Err(_) => return Err(ApiError(StatusCode::SERVICE_UNAVAILABLE, "search timed out".into())),
        Ok(Err(join)) => return Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, join.to_string())),
        Ok(Ok(results)) => results?,
    };
    Ok(Json(SearchResponse { query: text, limit, offset, results }))
}

async fn stats(State(state): State<Shared>) -> Result<Response, ApiError> {
    Ok(Json(state.index.stats()?).into_response())
}

async fn document(State(state): State<Shared>, Path(id): Path<String>) -> Result<Response, ApiError> {
    match state.index.document(&id)? {
        Some(doc) => Ok(Json(doc).into_response()),
        None => Err(ApiError(StatusCode::NOT_FOUND, format!("no document with id {id:?}"))),
    }
}

async fn page() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-cache"), (header::CONTENT_SECURITY_POLICY, "default-src 'self' 'unsafe-inline'")],
        Html(PAGE),
    )
}

async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such route: try / or /api/search?q=".into())
}

/// Logs one line per request to stderr.
async fn log(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = Instant::now();
    let line = format!("{} {}", request.method(), request.uri());
    let response = next.run(request).await;
    eprintln!("sou: {line} -> {} in {:.1} ms", response.status().as_u16(), started.elapsed().as_secs_f64() * 1e3);
    response
}

/// The routes, for a server or a test.
pub fn router(index: Index, limits: ServeLimits) -> Router {
    let state = Arc::new(AppState { index, limits });
    Router::new()
        .route("/", get(page))
        .route("/api/search", get(search))
        .route("/api/stats", get(stats))
        .route("/api/doc/{*id}", get(document))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(log))
        .with_state(state)
}

/// Serves `index` on `addr` until Ctrl-C. `ready` is called with the bound address (useful with
/// port 0).
pub fn serve(
    index: Index,
    addr: SocketAddr,
    limits: ServeLimits,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        axum::serve(listener, router(index, limits))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })
}
