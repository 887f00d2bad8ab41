//! sou (搜): bilingual Chinese + English full-text search on tantivy and jieba.
//!
//! Documents carry a Chinese and an English text; both are indexed with analyzers that split
//! text into script runs (Han → jieba words, other → tantivy's default tokenization), plus a
//! character-level recall field so any Chinese substring can be found. Hits come back with
//! highlighted snippets in both languages.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let index = sou::Index::create(dir.path().join("index"))?;
//! let doc = sou::Document::new("talks-1", "US and China discuss fentanyl")
//!     .with_text("美国与中国讨论芬太尼管制合作。\nThe two sides discussed fentanyl precursors.");
//! index.add_documents([doc])?;
//!
//! let results = index.search(&sou::Query::new("芬太尼").limit(10))?;
//! let hit = &results.hits[0];
//! assert_eq!(hit.id, "talks-1");
//! let zh = hit.snippets.zh.as_ref().unwrap();
//! let [start, end] = zh.highlights[0];
//! assert_eq!(&zh.text[start..end], "芬太尼");
//! # Ok(())
//! # }
//! ```

pub mod analysis;
mod corpus;
mod date;
mod directory;
mod document;
mod encoding;
mod error;
mod eval;
mod ids;
mod index;
pub mod output;
mod schema;
mod search;
#[cfg(feature = "serve")]
pub mod serve;
mod snippet;
mod sync;
mod syntax;
mod writer;

pub use analysis::Segmenter;
pub use corpus::SkipReason;
pub use date::Date;
pub use document::Document;
pub use error::{Error, Result};
pub use eval::{
    EvalReport, Qrels, QueryLine, QueryScores, mrr_at, ndcg_at, read_queries, read_queries_lenient, recall_at,
};
pub use index::{DEFAULT_WRITER_MEMORY, Index, OpenOptions, Rebuild, Stats};
pub use search::{AUTO_ANY_TERMS, Hit, MatchedPart, Query, SearchResults, Snippets, SortBy};
pub use snippet::Snippet;
pub use sync::{DEFAULT_MAX_FILE_BYTES, FileProblem, NoProgress, SyncOptions, SyncProgress, SyncReport};
