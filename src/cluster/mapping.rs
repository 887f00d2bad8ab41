//! The settings and mapping sou creates for a cluster index, and the stamp in the mapping's
//! `_meta` that says which sou analysis filled it (an index of another version is refused, as
//! locally).
//!
//! Every analyzed field holds sou's tokens as encoded by `encode` and is read back by one
//! analyzer made of built-in parts: a whitespace tokenizer, a `pattern_capture` filter that
//! unstacks tokens sharing a position, a stop filter that turns holes into position gaps. (A
//! multiplexer of `pattern_replace` chains did the same at a seventh of the ingest speed.) No plugin is needed,
//! and OpenSearch ends up with the terms and positions the local index has.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::encode::{HOLE, STACK};
use crate::analysis::ANALYZER_VERSION;

/// Bumped when the cluster mapping or the meaning of its fields changes.
/// (2: the Chinese evidence field; empty fields hold a filler.)
pub(crate) const CLUSTER_FORMAT: u32 = 2;
/// The Chinese evidence field: scored by the Chinese ranking's own BM25 (see
/// `encode::chinese_evidence`).
pub(crate) const CHINESE: &str = "chinese";
/// The analyzed fields, each holding encoded tokens.
pub(crate) const ANALYZED: [&str; 6] = ["title", "source", "zh", "en", "grams", CHINESE];
/// The object in `_source` that keeps a document's original text (not indexed).
pub(crate) const ORIGINAL: &str = "doc";

/// What a cluster index was built with, kept in its mapping's `_meta.sou`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClusterStamp {
    pub format: u32,
    pub analyzer: u32,
}

impl ClusterStamp {
    pub fn current() -> ClusterStamp {
        ClusterStamp { format: CLUSTER_FORMAT, analyzer: ANALYZER_VERSION }
    }

    pub fn describe(&self) -> String {
        format!("cluster format {} / analyzer {}", self.format, self.analyzer)
    }

    /// The stamp in a `GET index/_mapping` answer's one index, if any.
    pub fn of_mapping(mapping: &Value) -> Option<ClusterStamp> {
        let index = mapping.as_object()?.values().next()?;
        serde_json::from_value(index["mappings"]["_meta"]["sou"].clone()).ok()
    }
}

/// Shards and replicas of a new cluster index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Primary shards (OpenSearch's `number_of_shards`).
    pub shards: u32,
    /// Copies of each shard on other nodes (`number_of_replicas`).
    pub replicas: u32,
}

impl Default for Layout {
    fn default() -> Self {
        Layout { shards: 2, replicas: 1 }
    }
}

/// The body of `PUT index`: settings (shards, replicas, the analyzer, sou's BM25) and mappings.
pub(crate) fn create_body(layout: Layout) -> Value {
    // One capture per token of a slot: a slot of stacked tokens becomes its tokens at one
    // position (duplicates kept, as tantivy keeps them); a plain token passes as it is.
    let mut filters = serde_json::Map::new();
    let capture = format!("([^{STACK}]+)");
    filters.insert(
        "sou_unstack".into(),
        json!({"type": "pattern_capture", "preserve_original": false, "patterns": [capture]}),
    );
    filters.insert("sou_holes".into(), json!({"type": "stop", "stopwords": [HOLE.to_string()]}));
    let analyzed = json!({
        "type": "text",
        "analyzer": "sou_tokens",
        "similarity": "sou_bm25",
        "index_options": "positions",
    });
    let mut properties = serde_json::Map::new();
    for field in ANALYZED {
        properties.insert(field.to_string(), analyzed.clone());
    }
    properties[CHINESE]["similarity"] = json!("sou_chinese");
    // Only frequencies and the length are read there: positions would only cost.
    properties[CHINESE]["index_options"] = json!("freqs");
    let chinese = crate::search::CHINESE_BM25;
    for (field, kind) in [
        ("id", "keyword"),
        ("path", "keyword"),
        ("fingerprint", "unsigned_long"),
        ("record", "unsigned_long"),
        ("run", "unsigned_long"),
        ("date", "long"),
    ] {
        properties.insert(field.to_string(), json!({"type": kind}));
    }
    properties.insert(ORIGINAL.to_string(), json!({"type": "object", "enabled": false}));
    json!({
        "settings": {
            "number_of_shards": layout.shards,
            "number_of_replicas": layout.replicas,
            "analysis": {
                "tokenizer": {"sou_whitespace": {"type": "whitespace", "max_token_length": 4096}},
                "filter": filters,
                "analyzer": {"sou_tokens": {
                    "type": "custom",
                    "tokenizer": "sou_whitespace",
                    "filter": ["sou_unstack", "sou_holes"],
                }},
            },
            // tantivy's BM25 (k1 1.2, b 0.75); a field's length counts every token, stacked
            // ones too, as tantivy's field norms do.
            "similarity": {
                "sou_bm25": {"type": "BM25", "k1": 1.2, "b": 0.75, "discount_overlaps": false},
                "sou_chinese": {"type": "BM25", "k1": chinese.k1, "b": chinese.b, "discount_overlaps": false},
            },
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"sou": ClusterStamp::current()},
            // The encoded tokens are for the index only; the original text is in `doc`.
            "_source": {"excludes": ANALYZED},
            "properties": properties,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_read_back_from_a_mapping_answer() {
        let body = create_body(Layout::default());
        let answer = json!({"news": {"mappings": body["mappings"].clone()}});
        assert_eq!(ClusterStamp::of_mapping(&answer), Some(ClusterStamp::current()));
        assert_eq!(ClusterStamp::of_mapping(&json!({"news": {"mappings": {}}})), None);
    }
}
