//! Searching a cluster index: the query planned exactly as for a local index, translated into
//! Query DSL (`query`), scored by OpenSearch with index-wide statistics (`dfs_query_then_fetch`:
//! two shards score as one index, as locally), and hits built from `_source` by sou's own
//! snippet code, so they look like local ones.

use std::time::Instant;

use serde_json::{Value, json};

use super::ClusterIndex;
use super::client::Method;
use super::query::Translator;
use crate::document::Document;
use crate::error::Result;
use crate::search::plan::{Plan, Statistics, TextField};
use crate::search::{Hit, MarkedDocument, MatchedPart, Query, SearchResults, SortBy, plan_query, verify};

/// OpenSearch's default `index.max_result_window`: a page ends there.
const RESULT_WINDOW: usize = 10_000;
/// Documents read per request when checking a quoted string's candidates.
const CANDIDATE_PAGE: usize = 1_000;
/// Candidates a quoted string may have before the search gives up (each is read whole).
const MAX_CANDIDATES: usize = 200_000;

impl Statistics for ClusterIndex {
    fn num_docs(&self) -> Result<u64> {
        ClusterIndex::num_docs(self)
    }

    fn doc_freqs(&self, terms: &[(TextField, String)]) -> Result<Vec<u64>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let filters: serde_json::Map<String, Value> = terms
            .iter()
            .enumerate()
            .map(|(i, (field, term))| (i.to_string(), json!({"term": {field.name(): term}})))
            .collect();
        let body = json!({"size": 0, "track_total_hits": false, "aggs": {"df": {"filters": {"filters": filters}}}});
        let reply = self.ok(Method::Post, &format!("/{}/_search", self.name), Some(&body))?;
        let buckets = &reply["aggregations"]["df"]["buckets"];
        Ok((0..terms.len()).map(|i| buckets[i.to_string()]["doc_count"].as_u64().unwrap_or(0)).collect())
    }
}

/// The cluster's statistics with its document count read once per search (the plan and the
/// translation both want it).
struct Counted<'a> {
    index: &'a ClusterIndex,
    documents: u64,
}

impl Statistics for Counted<'_> {
    fn num_docs(&self) -> Result<u64> {
        Ok(self.documents)
    }

    fn doc_freqs(&self, terms: &[(TextField, String)]) -> Result<Vec<u64>> {
        self.index.doc_freqs(terms)
    }
}

impl crate::search::Searchable for ClusterIndex {
    fn search(&self, request: &Query) -> Result<SearchResults> {
        ClusterIndex::search(self, request)
    }

    fn stats(&self) -> Result<crate::index::Stats> {
        ClusterIndex::stats(self)
    }

    fn marked_document(&self, id: &str, query: &Query) -> Result<Option<MarkedDocument>> {
        ClusterIndex::marked_document(self, id, query)
    }

    fn reopened(&self) -> Result<Option<Box<dyn crate::search::Searchable>>> {
        Ok(self.reopen_if_rebuilt()?.map(|index| Box::new(index) as Box<dyn crate::search::Searchable>))
    }
}

impl ClusterIndex {
    /// Runs a search, as [`crate::Index::search`] does on a local index.
    pub fn search(&self, request: &Query) -> Result<SearchResults> {
        let started = Instant::now();
        let mut notices = Vec::new();
        let documents = ClusterIndex::num_docs(self)?;
        let stats = Counted { index: self, documents };
        let planned = plan_query(&self.segmenter, &stats, request, &mut notices)?;
        let (dsl, labels) = self.translate(&planned.plan, documents, request.explain)?;
        let limit = request.limit.min((documents as usize).saturating_sub(request.offset));
        if request.offset + limit > RESULT_WINDOW {
            return Err(self.error(format!(
                "a cluster index pages no further than hit {RESULT_WINDOW} (offset {} + limit {limit})",
                request.offset
            )));
        }
        let mut body = json!({
            "query": with_statistics_probes(dsl),
            "from": request.offset,
            "size": limit,
            "track_total_hits": true,
            "_source": [super::mapping::ORIGINAL],
        });
        if request.sort == SortBy::Date {
            body["sort"] = json!([{"date": {"order": "desc", "missing": "_last"}}]);
        }
        let mut path = format!("/{}/_search?search_type=dfs_query_then_fetch", self.name);
        if labels.is_some() {
            path.push_str("&include_named_queries_score=true");
        }
        let reply = self.ok(Method::Post, &path, Some(&body)).map_err(|e| match e {
            crate::Error::Cluster { url, message } if message.contains("maxClauseCount") => crate::Error::Cluster {
                url,
                message: format!(
                    "{message}: the query has more parts than the cluster allows; raise \
                     indices.query.bool.max_clause_count on its nodes (cluster/opensearch sets 65536)"
                ),
            },
            other => other,
        })?;
        let total = reply["hits"]["total"]["value"].as_u64().unwrap_or(0) as usize;
        let mut hits = Vec::new();
        for (i, hit) in reply["hits"]["hits"].as_array().into_iter().flatten().enumerate() {
            let doc = self.document_of(hit)?;
            let score = if request.sort == SortBy::Date { 0.0 } else { hit["_score"].as_f64().unwrap_or(0.0) as f32 };
            let explanation = labels.as_deref().map(|labels| matched_parts(hit, labels));
            hits.push(Hit::of(doc, request.offset + i + 1, score, &planned.highlighter, request, explanation));
        }
        let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(SearchResults { total, total_is_lower_bound: false, hits, any: planned.any, notices, elapsed_ms })
    }

    /// The document `id`, or `None` when the index holds none by that id.
    pub fn document(&self, id: &str) -> Result<Option<Document>> {
        // A search, not `GET _doc`: the index name is an alias, and this reads what searches
        // see (the last refresh), as a local reader does.
        let body = json!({
            "query": {"term": {"id": id}},
            "size": 1,
            "_source": [super::mapping::ORIGINAL],
            "track_total_hits": false,
        });
        let reply = self.ok(Method::Post, &format!("/{}/_search", self.name), Some(&body))?;
        reply["hits"]["hits"].as_array().and_then(|hits| hits.first()).map(|hit| self.document_of(hit)).transpose()
    }

    /// The document `id` with the matches of `query` marked, as
    /// [`crate::Index::marked_document`] marks it.
    pub fn marked_document(&self, id: &str, query: &Query) -> Result<Option<MarkedDocument>> {
        let Some(document) = self.document(id)? else { return Ok(None) };
        MarkedDocument::of(document, &self.segmenter, self, query).map(Some)
    }

    /// The Query DSL of a plan, its quoted strings checked against the documents' text; to
    /// explain, its parts named, with the labels the names stand for.
    fn translate(&self, plan: &Plan, documents: u64, explain: bool) -> Result<(Value, Option<Vec<String>>)> {
        let mut resolve =
            |candidates: &Value, needle: &str, fields: &[TextField]| self.holding(candidates, needle, fields);
        let labels = explain.then(Vec::new);
        let mut translator = Translator { resolve: &mut resolve, documents, labels };
        let query = translator.query(plan, 1.0)?;
        Ok((query, translator.labels))
    }

    /// Ids of the documents matching `candidates` whose text in `fields` holds `needle` (see
    /// [`verify`]): the check a local index makes on its stored text, made here on `_source`.
    fn holding(&self, candidates: &Value, needle: &str, fields: &[TextField]) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut after: Option<Value> = None;
        let mut read = 0;
        loop {
            let mut body = json!({
                "query": {"bool": {"filter": [candidates]}},
                "size": CANDIDATE_PAGE,
                "sort": [{"id": "asc"}],
                "_source": [super::mapping::ORIGINAL],
                "track_total_hits": false,
            });
            if let Some(after) = &after {
                body["search_after"] = after.clone();
            }
            let reply = self.ok(Method::Post, &format!("/{}/_search", self.name), Some(&body))?;
            let page = reply["hits"]["hits"].as_array().cloned().unwrap_or_default();
            for hit in &page {
                let doc = self.document_of(hit)?;
                if holds(&doc, needle, fields) {
                    ids.push(doc.id);
                }
            }
            read += page.len();
            if page.len() < CANDIDATE_PAGE {
                return Ok(ids);
            }
            if read >= MAX_CANDIDATES {
                return Err(self.error(format!(
                    "the quoted string {needle:?} has over {MAX_CANDIDATES} candidate documents to check: \
                     quote a longer string"
                )));
            }
            after = page.last().map(|hit| hit["sort"].clone());
        }
    }

    /// The document kept in a hit's `_source`.
    fn document_of(&self, hit: &Value) -> Result<Document> {
        serde_json::from_value(hit["_source"][super::mapping::ORIGINAL].clone())
            .map_err(|e| self.error(format!("document {} has no readable sou document in _source: {e}", hit["_id"])))
    }
}

/// A term no document holds, in every analyzed field, beside `query`: it matches nothing and
/// adds nothing, but makes every shard report each field's statistics. Without it a shard
/// holding none of a phrase's terms reports none for the field, and the phrase is scored with
/// the other shard's document count alone (measured: a title phrase with N 8 of 20 documents).
fn with_statistics_probes(query: Value) -> Value {
    let absent = super::encode::FILLER.to_string().repeat(2);
    let probes: Vec<Value> = super::mapping::ANALYZED.iter().map(|f| json!({"term": {*f: absent}})).collect();
    json!({"bool": {"must": [query], "should": probes, "minimum_should_match": 0}})
}

/// The named parts a hit matched (`matched_queries`, name → score), as the labels they stand
/// for, largest first: a local explanation's parts.
fn matched_parts(hit: &Value, labels: &[String]) -> Vec<MatchedPart> {
    let mut parts: Vec<MatchedPart> = hit["matched_queries"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, score)| {
            let label = labels.get(name.parse::<usize>().ok()?)?;
            Some(MatchedPart { part: label.clone(), score: score.as_f64().unwrap_or(0.0) as f32 })
        })
        .collect();
    parts.sort_by(|a, b| b.score.total_cmp(&a.score));
    parts
}

/// Whether the document's text in `fields` holds the string (compared as [`verify`] does).
fn holds(doc: &Document, needle: &str, fields: &[TextField]) -> bool {
    fields.iter().any(|field| {
        let text = match field {
            TextField::Title => doc.title.as_str(),
            TextField::Zh | TextField::Latin => doc.zh.as_str(),
            TextField::En => doc.en.as_str(),
            TextField::Source => doc.source.as_deref().unwrap_or_default(),
            TextField::Grams | TextField::Pairs => "",
        };
        verify::comparable(text).contains(needle)
    })
}
