//! sou (搜): bilingual Chinese + English full-text search on tantivy and jieba.
//!
//! # The model
//!
//! **Documents and fields.** A [`Document`] has an id, a title, an optional source line and
//! date, a Chinese text (`zh`) and an English or other text (`en`); [`Document::with_text`]
//! routes each paragraph by its script. The index keeps word fields (title, source, zh, en:
//! jieba words for Han runs, tantivy-style tokens with Snowball stems for the rest) and one
//! *character field* holding every Han character of the document at its position.
//!
//! **Why two Chinese fields.** Word segmentation decides what a word is, and a query that is a
//! piece of a longer indexed word (法医 inside 法医科学研究院) would find nothing in the word
//! field. The character field finds every Chinese substring, and quoted Chinese phrases match
//! exactly where the string occurs; whole-word matches still rank first. Short Chinese queries
//! are ranked by one BM25 over their words and characters together (see the README's ranking
//! paragraph for how and why, with figures).
//!
//! **Normalization.** Before analysis, full-width letters and digits become ASCII and
//! Traditional Chinese becomes Simplified (OpenCC's tables through zhconv), at index and query
//! time alike, so 實體清單 finds 实体清单. Offsets always point into the original text.
//!
//! **Queries.** [`Query::new`] takes sou's syntax: words (all required by default, or any with
//! [`Query::any`]), `"phrases"` (also “…” and 「…」), `OR`, `-word`, `title:` `zh:` `en:`
//! `source:`, `date:[2023-01-01 TO *]`, `fent*`, `fentanil~`, `oil^2`. Setters add paging, date
//! filters, sorting by date and snippet length.
//!
//! **Results.** [`SearchResults`] holds the total and a page of [`Hit`]s; a hit's
//! [`Snippets`] are cut in characters at sentence boundaries, and every highlight comes twice:
//! as `[start, end)` byte offsets into the UTF-8 text and as character offsets (what
//! JavaScript's `Array.from` or Python's `str` index). All result types serialize and
//! deserialize with serde, so a client of the HTTP API ([`serve::router`]) reads them with the
//! same types.
//!
//! **Writing.** [`Index::sync`] keeps an index in step with folders of `.txt`, `.md`, `.json`
//! and `.jsonl` files (only changed files are read, problems come back as values);
//! [`Index::add_documents`] and [`Index::batch`] take documents you build. Readers keep
//! searching the last commit while a writer works, and [`Index::rebuild`] builds a new index
//! aside and swaps it in atomically.
//!
//! **Beyond one machine.** [`cluster::ClusterIndex`] keeps an index on an OpenSearch cluster:
//! sou analyzes, the cluster stores (syncing and statistics so far; searching it is not built
//! yet).
//!
//! The examples folder has one short program per task: `index_documents`, `sync_folder`,
//! `user_dictionary`, `dates_and_paging`, `hits_as_json`, `mount_router`.
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

#![warn(missing_docs)]

pub mod analysis;
#[cfg(feature = "cluster")]
pub mod cluster;
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
    EvalReport, Qrels, QueryLine, QueryScores, evaluate, mrr_at, ndcg_at, read_queries, read_queries_lenient, recall_at,
};
pub use index::{Batch, DEFAULT_WRITER_MEMORY, FieldBytes, Index, OpenOptions, Rebuild, SpacePart, Stats};
pub use search::{
    AUTO_ANY_TERMS, FieldHighlights, Hit, MarkedDocument, MatchedPart, Query, SearchResults, Searchable, Snippets,
    SortBy,
};
pub use snippet::Snippet;
pub use sync::{DEFAULT_MAX_FILE_BYTES, FileProblem, NoProgress, ProblemKind, SyncOptions, SyncProgress, SyncReport};
