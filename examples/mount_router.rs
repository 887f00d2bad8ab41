//! Mount sou's HTTP API inside another axum application, under a prefix of its own.
//!
//! The example serves on a free loopback port, asks its own API once and exits.
//! Run: `cargo run --example mount_router`.

use sou::serve::axum;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let index = sou::Index::create(dir.path().join("index"))?;
    index.add_documents([sou::Document::new("a", "港口检查").with_text("港口查获假冒药品。")])?;

    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the host application" }))
        .nest("/search", sou::serve::router(index, sou::serve::ServeOptions::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let url = format!("http://{addr}/search/api/search?q=%E8%8D%AF%E5%93%81");
    let body = tokio::task::spawn_blocking(move || ureq::get(&url).call()?.body_mut().read_to_string()).await??;
    let answer: serde_json::Value = serde_json::from_str(&body)?;
    println!("{} hit(s) for {}", answer["total"], answer["query"]);
    server.abort();
    Ok(())
}
