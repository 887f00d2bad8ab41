//! The routes' handlers: the page and its two files, search, stats, documents, the OpenAPI
//! document, and the JSON errors they answer with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{OriginalUri, Path, Query as QueryParams, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ServeLimits;
use crate::date::Date;
use crate::error::Error;
use crate::search::{Query, SearchResults, Searchable, SortBy};

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");
/// The API described, kept in the repository and checked against real responses by the tests.
pub(crate) const OPENAPI: &str = include_str!("openapi.json");

/// How often, at most, a request reloads the index reader to see new commits.
const RELOAD_EVERY: Duration = Duration::from_millis(250);

pub(super) struct AppState {
    /// The index; replaced by a fresh handle when it is rebuilt with another analysis.
    index: RwLock<Arc<dyn Searchable>>,
    limits: ServeLimits,
    page: String,
    last_reload: Mutex<Instant>,
}

type Shared = Arc<AppState>;

impl AppState {
    pub(super) fn new(index: Box<dyn Searchable>, limits: ServeLimits) -> AppState {
        let page = PAGE
            .replace("{{MAX_QUERY_CHARS}}", &limits.max_query_chars.to_string())
            .replace("{{MAX_OFFSET}}", &limits.max_offset.to_string());
        AppState { index: RwLock::new(Arc::from(index)), limits, page, last_reload: Mutex::new(Instant::now()) }
    }

    /// The index as it is now (a request keeps the handle it started with).
    fn index(&self) -> Arc<dyn Searchable> {
        Arc::clone(&self.index.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Reloads the reader when the last reload is older than [`RELOAD_EVERY`], so a router on
    /// any index sees commits made through other handles or processes, and takes a fresh
    /// handle when the index was rebuilt with another analysis (a user dictionary: queries
    /// must segment as the documents were). One request reloads while the others go on with
    /// the current reader.
    fn refresh(&self) {
        let Ok(mut last) = self.last_reload.try_lock() else { return };
        if last.elapsed() >= RELOAD_EVERY {
            *last = Instant::now();
            let index = self.index();
            let _ = index.reload();
            if let Ok(Some(fresh)) = index.reopened() {
                *self.index.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::from(fresh);
            }
        }
    }
}

/// An API error: a status code and a JSON body `{"error": message}`.
pub(super) struct ApiError(pub StatusCode, pub String);

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

/// Runs index work on tokio's blocking pool (never on the async workers), after making new
/// commits visible, within the time limit.
async fn blocking<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let worker = Arc::clone(state);
    let task = tokio::task::spawn_blocking(move || {
        worker.refresh();
        work(&worker)
    });
    match tokio::time::timeout(state.limits.timeout, task).await {
        Err(_) => Err(ApiError(StatusCode::SERVICE_UNAVAILABLE, "search timed out".into())),
        Ok(Err(join)) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, join.to_string())),
        Ok(Ok(result)) => result,
    }
}

/// The search response: the same hit objects as `sou search --json`, plus totals and hints.
#[derive(Serialize)]
pub(super) struct SearchResponse {
    query: String,
    limit: usize,
    offset: usize,
    #[serde(flatten)]
    results: SearchResults,
    /// With no hits in all-terms mode: how many documents any-term matching would find.
    #[serde(skip_serializing_if = "Option::is_none")]
    any_would_find: Option<usize>,
    /// With a date filter: matching documents it hides because they have no date.
    #[serde(skip_serializing_if = "Option::is_none")]
    undated_hidden: Option<usize>,
}

type Params = Result<QueryParams<HashMap<String, String>>, QueryRejection>;

fn params_of(params: Params) -> Result<HashMap<String, String>, ApiError> {
    params.map(|QueryParams(p)| p).map_err(|e| bad_request(e.body_text()))
}

// Parameters are strict: one given empty or malformed is an error, not the default, so a
// client's mistake is never silently a different search.
fn number(params: &HashMap<String, String>, name: &str, default: usize, max: usize) -> Result<usize, ApiError> {
    match params.get(name).map(|v| v.trim()) {
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
    match params.get(name).map(|v| v.trim()) {
        None => Ok(None),
        Some(v) => Date::parse_strict(v).map(Some).map_err(|e| bad_request(format!("{name}: {e}"))),
    }
}

fn flag(params: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(bad_request(format!("{name} must be 1 or 0 (true or false), not {other:?}"))),
    }
}

/// The query text of `params`, checked against the limits.
fn query_text(params: &HashMap<String, String>, limits: &ServeLimits) -> Result<String, ApiError> {
    let raw = params.get("q").map(String::as_str).unwrap_or_default();
    // The limit is on what was sent, spaces included, as the page's maxlength counts.
    if raw.chars().count() > limits.max_query_chars {
        return Err(bad_request(format!("query longer than {} characters", limits.max_query_chars)));
    }
    Ok(raw.trim().to_string())
}

/// The search a request asks for, every parameter checked (a blank query's too: its answer is
/// empty, but a bad `sort` or date is still a bad request).
fn search_query(params: &HashMap<String, String>, limits: &ServeLimits) -> Result<Query, ApiError> {
    let text = query_text(params, limits)?;
    let sort = match params.get("sort").map(String::as_str) {
        None | Some("relevance") => SortBy::Relevance,
        Some("date") => SortBy::Date,
        Some(other) => return Err(bad_request(format!("sort must be relevance or date, not {other:?}"))),
    };
    Ok(Query::new(text)
        .limit(number(params, "limit", 10, limits.max_limit)?)
        .offset(number(params, "offset", 0, limits.max_offset)?)
        .any(flag(params, "any")?)
        .since(date(params, "since")?)
        .until(date(params, "until")?)
        .sort(sort))
}

/// How many documents `query` finds, all pages.
fn count(index: &dyn Searchable, query: Query) -> Result<usize, ApiError> {
    Ok(index.search(&query.limit(0).offset(0))?.total)
}

pub(super) async fn search(State(state): State<Shared>, params: Params) -> Result<Json<SearchResponse>, ApiError> {
    let params = params_of(params)?;
    let query = search_query(&params, &state.limits)?;
    if query.text().is_empty() && params.get("q").is_none_or(|q| q.is_empty()) {
        return Err(bad_request("missing query: add ?q=..."));
    }
    if query.text().is_empty() {
        // Only spaces: a search for nothing, which finds nothing and says why.
        let notices = vec!["the query is blank: type words to search".to_string()];
        let results = SearchResults {
            total: 0,
            total_is_lower_bound: false,
            hits: Vec::new(),
            any: false,
            notices,
            elapsed_ms: 0.0,
        };
        let (limit, offset) = (query.limit, 0);
        let response =
            SearchResponse { query: String::new(), limit, offset, results, any_would_find: None, undated_hidden: None };
        return Ok(Json(response));
    }
    blocking(&state, move |state| {
        let index = state.index();
        let index = index.as_ref();
        let results = index.search(&query)?;
        // Say what happened when the answer is surprising: nothing found where any-term
        // matching would find something, or documents left out for having no date.
        let any_would_find = if results.total == 0 && !results.any {
            Some(count(index, query.clone().any(true))?).filter(|&n| n > 0)
        } else {
            None
        };
        let undated_hidden = if query.since.is_some() || query.until.is_some() {
            let undated = count(index, query.clone().since(None).until(None))?
                - count(index, query.clone().since(Date::new(1, 1, 1)).until(None))?;
            Some(undated)
        } else {
            None
        };
        let (text, limit, offset) = (query.text().to_string(), query.limit, query.offset);
        Ok(Json(SearchResponse { query: text, limit, offset, results, any_would_find, undated_hidden }))
    })
    .await
}

pub(super) async fn stats(State(state): State<Shared>) -> Result<Response, ApiError> {
    blocking(&state, |state| Ok(Json(state.index().stats()?).into_response())).await
}

pub(super) async fn document(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
    params: Params,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|e| bad_request(e.body_text()))?;
    let params = params_of(params)?;
    let query = Query::new(query_text(&params, &state.limits)?);
    blocking(&state, move |state| match state.index().marked_document(&id, &query)? {
        Some(doc) => Ok(Json(doc).into_response()),
        None => Err(ApiError(StatusCode::NOT_FOUND, format!("no document with id {id:?}"))),
    })
    .await
}

pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The page. Its URLs are relative to a `<base>` naming the path it was reached at, so it
/// works under any prefix an application mounts the router at, with or without a trailing
/// slash: `/search` and `/search/` both resolve `api/search` to `/search/api/search`.
pub(super) async fn page(State(state): State<Shared>, OriginalUri(uri): OriginalUri) -> Response {
    let base = format!("{}/", uri.path().trim_end_matches('/'));
    let page = state.page.replace("{{BASE}}", &html_attribute(&base));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], page).into_response()
}

/// `text` safe inside a double-quoted HTML attribute.
fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

pub(super) async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SCRIPT)
        .into_response()
}

pub(super) async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], STYLE).into_response()
}

pub(super) async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such route: try / or /api/search?q=".into())
}

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError(StatusCode::METHOD_NOT_ALLOWED, "only GET (and HEAD) requests are answered".into())
}
