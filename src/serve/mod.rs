//! `sou serve`: an HTTP JSON API over one index and a search page, as a router other axum
//! applications can mount and as a server safe to leave running.
//!
//! Layout: `api` answers the routes (searches and lookups on tokio's blocking pool, with a
//! time limit), `guard` wraps them (Host check against DNS rebinding, optional token, CORS
//! only when asked, security headers, JSON for every error, request log), and the page is three
//! embedded files that use relative URLs only, so it works under any prefix. Requests never
//! name files: the only routes are the page, the API and its OpenAPI document.

mod api;
mod guard;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

/// The axum this router is built with: mount [`router`] in an application of the same version.
pub use axum;

use crate::search::Searchable;

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

/// How a [`router`] or [`serve`] behaves. `Default` suits a router mounted in an application
/// that does its own access control: no Host check, no token, no CORS, no request log.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Limits on one request.
    pub limits: ServeLimits,
    /// The address the server listens on. When set, a request whose `Host` header names
    /// neither that address, nor `localhost` (for a loopback address), nor one of
    /// [`ServeOptions::allowed_hosts`] is refused with 403: a web page cannot rebind its own
    /// domain to this machine and read the index through the user's browser. [`serve`] sets
    /// it to the address it bound.
    pub listen_addr: Option<SocketAddr>,
    /// Further host names accepted in `Host` (a reverse proxy's name, say), without port.
    pub allowed_hosts: Vec<String>,
    /// When set, every `/api/` request must carry `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
    /// Origins allowed to call the API from other web pages (CORS); `*` allows any. Empty:
    /// no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// Log one line per request to stderr.
    pub log_requests: bool,
    /// Allow [`serve`] to listen on a non-loopback address (reachable from other machines).
    pub allow_public: bool,
}

/// The routes, with the page at `/`. Mount it under a prefix with [`mount`] (or
/// `Router::nest`, which leaves `prefix/` with a trailing slash unrouted); the page works there
/// too.
///
/// `index` is a local [`crate::Index`] or, with the `cluster` feature, a
/// [`crate::cluster::ClusterIndex`]: the page and the API are the same for both.
///
/// The router sees every new commit of a local index by itself, however it was opened: it
/// reloads the reader when the last check is more than a quarter of a second old.
pub fn router(index: impl Searchable + 'static, options: ServeOptions) -> Router {
    let state = Arc::new(api::AppState::new(Box::new(index), options.limits.clone()));
    let guard = Arc::new(guard::Guard::new(&options));
    let routes = Router::new()
        .route("/", get(api::page))
        .route("/page.js", get(api::script))
        .route("/page.css", get(api::style))
        .route("/api/search", get(api::search))
        .route("/api/stats", get(api::stats))
        .route("/api/doc/{*id}", get(api::document))
        .route("/api/openapi.json", get(api::openapi))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .with_state(state);
    guard::wrap(routes, guard)
}

/// Mounts `sou` (a [`router`]) in `app` under `prefix` (`/search`), as `Router::nest` does,
/// and also answers `prefix/`, which `nest` leaves unrouted, by redirecting to `prefix`.
pub fn mount(app: Router, prefix: &str, sou: Router) -> Router {
    let prefix = prefix.trim_end_matches('/').to_string();
    let bare = prefix.clone();
    let to_bare = move |axum::extract::OriginalUri(uri): axum::extract::OriginalUri| async move {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        axum::response::Redirect::permanent(&format!("{bare}{query}"))
    };
    app.route(&format!("{prefix}/"), get(to_bare)).nest(&prefix, sou)
}

/// Whether listening on `ip` exposes the server to other machines.
fn is_public(ip: IpAddr) -> bool {
    !ip.is_loopback()
}

/// Serves `index` on `addr` until Ctrl-C. `ready` is called with the bound address (useful with
/// port 0). Refuses a non-loopback `addr` unless [`ServeOptions::allow_public`].
///
/// Blocks the calling thread. Called from inside a tokio runtime, it runs the server on a
/// runtime of its own in another thread (it never panics there); async code should rather
/// use [`serve_listener`].
pub fn serve(
    index: impl Searchable + 'static,
    addr: SocketAddr,
    options: ServeOptions,
    ready: impl FnOnce(SocketAddr) + Send + 'static,
) -> std::io::Result<()> {
    if is_public(addr.ip()) && !options.allow_public {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{addr} is reachable from other machines: allow it explicitly (`sou serve --public`)"),
        ));
    }
    let run = move || -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            ready(listener.local_addr()?);
            serve_listener(listener, index, options, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        })
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        // block_on inside a runtime panics: give the server a thread of its own.
        return std::thread::spawn(run).join().unwrap_or_else(|_| Err(std::io::Error::other("the server panicked")));
    }
    run()
}

/// Serves `index` on a bound listener until `shutdown` completes, in the caller's runtime.
/// The Host check uses the listener's address.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    index: impl Searchable + 'static,
    mut options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    options.listen_addr = Some(listener.local_addr()?);
    axum::serve(listener, router(index, options)).with_graceful_shutdown(shutdown).await
}
