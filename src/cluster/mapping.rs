//! The settings and mapping sou creates for a cluster index, and the stamp in the mapping's
//! `_meta` that says which sou analysis filled it (an index of another version is refused, as
//! locally).
//!
//! Every analyzed field holds sou's tokens as encoded by `encode` and is read back by one
//! analyzer made of built-in parts: a whitespace tokenizer, a `pattern_capture` filter that
//! unstacks tokens sharing a position, a stop filter that turns holes into position gaps. (A
//! multiplexer of `pattern_replace` chains did the same at a seventh of the ingest speed.) No plugin is needed
//! (the Chinese evidence's similarity is a Painless script; Painless is a module of every
//! OpenSearch distribution), and OpenSearch ends up with the terms and positions the local index has.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::encode::{HOLE, STACK};
use crate::analysis::ANALYZER_VERSION;

/// Bumped when the cluster mapping or the meaning of its fields changes.
/// (2: the Chinese evidence field; empty fields hold a filler. 3: the Latin words of Chinese
/// text in a field of their own, zh without positions, as in a local index. 4: the Chinese
/// evidence's k1 follows the average length, a scripted similarity.)
pub(crate) const CLUSTER_FORMAT: u32 = 4;
/// The Chinese evidence field: scored by the Chinese ranking's own BM25 (see
/// `encode::chinese_evidence`).
pub(crate) const CHINESE: &str = "chinese";
/// The analyzed fields, each holding encoded tokens.
pub(crate) const ANALYZED: [&str; 7] = ["title", "source", "zh", "en", "latin", "grams", CHINESE];
/// The object in `_source` that keeps a document's original text (not indexed).
pub(crate) const ORIGINAL: &str = "doc";

/// What a cluster index was built with, kept in its mapping's `_meta.sou`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClusterStamp {
    pub format: u32,
    pub analyzer: u32,
    /// Hash of the user dictionary, if any (absent in indexes made without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary: Option<String>,
}

/// A user dictionary as a cluster index keeps it, in its mapping's `_meta.sou_user_dictionary`,
/// so every machine that searches or syncs it segments as the one that built it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredDictionary {
    /// The dictionary as given (jieba's `word [frequency] [tag]` lines).
    pub text: String,
    /// What its words came to in jieba's dictionary (see `Segmenter::resolution`), so a query
    /// segments without loading the whole dictionary.
    pub resolution: String,
}

impl ClusterStamp {
    pub fn current(dictionary: Option<&str>) -> ClusterStamp {
        ClusterStamp {
            format: CLUSTER_FORMAT,
            analyzer: ANALYZER_VERSION,
            dictionary: dictionary.map(crate::index::stable_hash),
        }
    }

    pub fn describe(&self) -> String {
        let dict =
            self.dictionary.as_deref().map_or("no user dictionary".to_string(), |h| format!("user dictionary {h}"));
        format!("cluster format {} / analyzer {} / {dict}", self.format, self.analyzer)
    }

    /// The stamp in a `GET index/_mapping` answer's one index, if any.
    pub fn of_mapping(mapping: &Value) -> Option<ClusterStamp> {
        let index = mapping.as_object()?.values().next()?;
        serde_json::from_value(index["mappings"]["_meta"]["sou"].clone()).ok()
    }
}

/// The user dictionary in a `GET index/_mapping` answer's one index, if it has one.
pub(crate) fn dictionary_of_mapping(mapping: &Value) -> Option<StoredDictionary> {
    let index = mapping.as_object()?.values().next()?;
    serde_json::from_value(index["mappings"]["_meta"]["sou_user_dictionary"].clone()).ok()
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
pub(crate) fn create_body(layout: Layout, dictionary: Option<&StoredDictionary>) -> Value {
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
    // As locally: Chinese words are looked up, never phrased (strings of characters are
    // phrases of the character field; Latin phrases of Chinese text are in `latin`).
    properties["zh"]["index_options"] = json!("freqs");
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
                "sou_chinese": chinese_similarity(),
            },
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": meta(dictionary),
            // The encoded tokens are for the index only; the original text is in `doc`.
            "_source": {"excludes": ANALYZED},
            "properties": properties,
        },
    })
}

/// The Chinese evidence field's similarity: BM25 whose k1 follows the field's average length
/// as the local ranking's does (`search::chinese::Saturation`), in Painless, since OpenSearch's
/// `BM25` takes one k1 fixed when the index is made. Its idf is Lucene's (and tantivy's), and
/// the score keeps the factor `k1 + 1` (see `query`).
fn chinese_similarity() -> Value {
    let crate::search::plan::Saturation { short_k1, long_k1, short_length, long_length, b } =
        crate::search::CHINESE_BM25;
    let weight = "return query.boost * Math.log(1.0 + (field.docCount - term.docFreq + 0.5) / (term.docFreq + 0.5));";
    // The script runs for every document a term is in: the logarithms of the two lengths are
    // written in as numbers rather than computed there each time.
    let short = f64::from(short_length).ln();
    let span = f64::from(long_length).ln() - short;
    let score = format!(
        "double avg = Math.max(1.0, (double) field.sumTotalTermFreq / field.docCount); \
         double along = (Math.log(avg) - {short:?}) / {span:?}; \
         double k1 = {short_k1:?} + ({long_k1:?} - {short_k1:?}) * Math.min(1.0, Math.max(0.0, along)); \
         double norm = k1 * (1.0 - {b:?} + {b:?} * doc.length / avg); \
         return weight * (k1 + 1.0) * doc.freq / (doc.freq + norm);"
    );
    json!({
        "type": "scripted",
        "weight_script": {"source": weight},
        "script": {"source": score},
        "discount_overlaps": false,
    })
}

/// The mapping's `_meta`: the stamp, and the user dictionary when there is one.
fn meta(dictionary: Option<&StoredDictionary>) -> Value {
    let mut meta = json!({"sou": ClusterStamp::current(dictionary.map(|d| d.text.as_str()))});
    if let Some(dictionary) = dictionary {
        meta["sou_user_dictionary"] = json!(dictionary);
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_read_back_from_a_mapping_answer() {
        let body = create_body(Layout::default(), None);
        let answer = json!({"news": {"mappings": body["mappings"].clone()}});
        assert_eq!(ClusterStamp::of_mapping(&answer), Some(ClusterStamp::current(None)));
        assert_eq!(dictionary_of_mapping(&answer), None);
        assert_eq!(ClusterStamp::of_mapping(&json!({"news": {"mappings": {}}})), None);
        // A stamp written before stamps named dictionaries reads as one without.
        let old =
            json!({"news": {"mappings": {"_meta": {"sou": {"format": CLUSTER_FORMAT, "analyzer": ANALYZER_VERSION}}}}});
        assert_eq!(ClusterStamp::of_mapping(&old), Some(ClusterStamp::current(None)));
    }

    #[test]
    fn a_user_dictionary_is_read_back_with_its_hash_in_the_stamp() {
        let dictionary =
            StoredDictionary { text: "法医科学研究院 100000 nt\n".into(), resolution: "total\t1\n".into() };
        let body = create_body(Layout::default(), Some(&dictionary));
        let answer = json!({"news": {"mappings": body["mappings"].clone()}});
        assert_eq!(dictionary_of_mapping(&answer), Some(dictionary.clone()));
        let stamp = ClusterStamp::of_mapping(&answer).unwrap();
        assert_eq!(stamp, ClusterStamp::current(Some(&dictionary.text)));
        assert_ne!(stamp, ClusterStamp::current(None));
    }
}
