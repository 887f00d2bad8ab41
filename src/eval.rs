//! Retrieval evaluation: relevance judgments (qrels), query files, and the standard metrics
//! (nDCG@10 with graded gains, recall@100, MRR@10) over runs produced by the search path.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::index::Index;
use crate::search::{Query, Searchable};

/// One query of a query file: `{"id": ..., "text": ...}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QueryLine {
    /// Query id (a string or a number in the file).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Query text.
    pub text: String,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("id must be a string or a number, not {other}"))),
    }
}

/// Reads a JSON-lines query file, skipping lines that are not a query: returns the queries and
/// one message per skipped line (`FILE line N: …`). Fails only when the file cannot be read.
pub fn read_queries_lenient(path: &Path) -> Result<(Vec<QueryLine>, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Input { path: path.into(), source })?;
    let (mut queries, mut problems) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<QueryLine>(line) {
            Ok(query) => queries.push(query),
            Err(e) => problems.push(format!("{} line {}: {e}", path.display(), n + 1)),
        }
    }
    Ok((queries, problems))
}

/// Reads a JSON-lines query file; the error names the bad line.
pub fn read_queries(path: &Path) -> Result<Vec<QueryLine>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Input { path: path.into(), source })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| Error::Query(format!("{} line {}: {e}", path.display(), n + 1)))
        })
        .collect()
}

/// Relevance judgments: query id → document id → grade (0 = not relevant).
#[derive(Debug, Clone, Default)]
pub struct Qrels {
    judgments: HashMap<String, HashMap<String, u32>>,
}

impl Qrels {
    /// Reads `query<TAB>doc<TAB>grade` lines (a TREC `query 0 doc grade` line works too).
    pub fn read(path: &Path) -> Result<Qrels> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Input { path: path.into(), source })?;
        let mut qrels = Qrels::default();
        for (n, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (query, doc, grade) = match fields.as_slice() {
                [] => continue,
                [q, d, g] | [q, _, d, g] => (q, d, g),
                _ => {
                    return Err(Error::Query(format!("{} line {}: expected query, doc, grade", path.display(), n + 1)));
                }
            };
            let Ok(grade) = grade.parse::<i64>() else {
                // A header line.
                if n == 0 {
                    continue;
                }
                return Err(Error::Query(format!(
                    "{} line {}: grade {grade:?} is not a number",
                    path.display(),
                    n + 1
                )));
            };
            qrels.judgments.entry(query.to_string()).or_default().insert(doc.to_string(), grade.max(0) as u32);
        }
        Ok(qrels)
    }

    /// Judgments of one query.
    pub fn of(&self, query: &str) -> Option<&HashMap<String, u32>> {
        self.judgments.get(query)
    }
}

/// nDCG@k with linear graded gains (as trec_eval and pytrec_eval compute it).
pub fn ndcg_at(ranking: &[String], judged: &HashMap<String, u32>, k: usize) -> f64 {
    let discount = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let dcg: f64 =
        ranking.iter().take(k).enumerate().map(|(i, d)| *judged.get(d).unwrap_or(&0) as f64 * discount(i)).sum();
    let mut ideal: Vec<u32> = judged.values().copied().filter(|&g| g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, &g)| g as f64 * discount(i)).sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Share of the relevant documents (grade > 0) found in the first `k`.
pub fn recall_at(ranking: &[String], judged: &HashMap<String, u32>, k: usize) -> f64 {
    let relevant = judged.values().filter(|&&g| g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranking.iter().take(k).filter(|d| judged.get(*d).is_some_and(|&g| g > 0)).count();
    found as f64 / relevant as f64
}

/// Reciprocal rank of the first relevant document within the first `k`.
pub fn mrr_at(ranking: &[String], judged: &HashMap<String, u32>, k: usize) -> f64 {
    ranking.iter().take(k).position(|d| judged.get(d).is_some_and(|&g| g > 0)).map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// Scores of one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryScores {
    /// Query id.
    pub id: String,
    /// nDCG@10.
    pub ndcg_10: f64,
    /// Recall@100.
    pub recall_100: f64,
    /// MRR@10.
    pub mrr_10: f64,
}

/// Mean scores over the judged queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Queries evaluated (those with at least one relevant judgment).
    pub queries: usize,
    /// Mean nDCG@10.
    pub ndcg_10: f64,
    /// Mean recall@100.
    pub recall_100: f64,
    /// Mean MRR@10.
    pub mrr_10: f64,
    /// Per-query scores.
    pub per_query: Vec<QueryScores>,
}

impl Index {
    /// Runs every query through [`Index::search`] (built by `make_query`, at least 100 hits)
    /// and scores the rankings against `qrels`. Queries without relevant judgments are skipped.
    pub fn evaluate(
        &self,
        queries: &[QueryLine],
        qrels: &Qrels,
        make_query: impl Fn(&str) -> Query,
    ) -> Result<EvalReport> {
        evaluate(self, queries, qrels, make_query)
    }
}

/// [`Index::evaluate`] for anything [`Searchable`]: a local or a cluster index.
pub fn evaluate(
    index: &dyn Searchable,
    queries: &[QueryLine],
    qrels: &Qrels,
    make_query: impl Fn(&str) -> Query,
) -> Result<EvalReport> {
    let mut per_query = Vec::new();
    for query in queries {
        let Some(judged) = qrels.of(&query.id).filter(|j| j.values().any(|&g| g > 0)) else { continue };
        let ranking: Vec<String> = match index.search(&make_query(&query.text)) {
            Ok(results) => results.hits.into_iter().map(|h| h.id).collect(),
            // A query with nothing searchable in it ranks nothing.
            Err(Error::Query(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        per_query.push(QueryScores {
            id: query.id.clone(),
            ndcg_10: ndcg_at(&ranking, judged, 10),
            recall_100: recall_at(&ranking, judged, 100),
            mrr_10: mrr_at(&ranking, judged, 10),
        });
    }
    let n = per_query.len().max(1) as f64;
    Ok(EvalReport {
        queries: per_query.len(),
        ndcg_10: per_query.iter().map(|q| q.ndcg_10).sum::<f64>() / n,
        recall_100: per_query.iter().map(|q| q.recall_100).sum::<f64>() / n,
        mrr_10: per_query.iter().map(|q| q.mrr_10).sum::<f64>() / n,
        per_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(d, g)| (d.to_string(), *g)).collect()
    }

    fn ranking(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ndcg_matches_hand_computation() {
        let j = judged(&[("a", 3), ("b", 2), ("c", 0)]);
        assert!((ndcg_at(&ranking(&["a", "b"]), &j, 10) - 1.0).abs() < 1e-12);
        // b, a: (2 + 3/log2 3) / (3 + 2/log2 3)
        let expected = (2.0 + 3.0 / 3f64.log2()) / (3.0 + 2.0 / 3f64.log2());
        assert!((ndcg_at(&ranking(&["b", "a"]), &j, 10) - expected).abs() < 1e-12);
        assert_eq!(ndcg_at(&ranking(&["c", "x"]), &j, 10), 0.0);
        assert_eq!(ndcg_at(&ranking(&[]), &j, 10), 0.0);
    }

    #[test]
    fn recall_and_mrr() {
        let j = judged(&[("a", 1), ("b", 1), ("c", 0)]);
        assert_eq!(recall_at(&ranking(&["x", "a", "c"]), &j, 100), 0.5);
        assert_eq!(mrr_at(&ranking(&["x", "c", "b"]), &j, 10), 1.0 / 3.0);
        assert_eq!(mrr_at(&ranking(&["x"]), &j, 10), 0.0);
    }

    #[test]
    fn reads_qrels_and_queries() {
        let dir = tempfile::tempdir().unwrap();
        let qrels = dir.path().join("q.tsv");
        std::fs::write(&qrels, "query-id\tcorpus-id\tscore\n1\tdocA\t2\n1 0 docB 1\n\n2\tdocC\t0\n").unwrap();
        let q = Qrels::read(&qrels).unwrap();
        assert_eq!(q.of("1").unwrap()["docA"], 2);
        assert_eq!(q.of("1").unwrap()["docB"], 1);
        assert_eq!(q.of("2").unwrap()["docC"], 0);
        std::fs::write(&qrels, "1\tdocA\t1\n1\tdocB\tx\n").unwrap();
        assert!(Qrels::read(&qrels).unwrap_err().to_string().contains("line 2"));

        let queries = dir.path().join("q.jsonl");
        std::fs::write(&queries, "{\"id\": 1, \"text\": \"a\"}\n{\"id\": \"x\", \"text\": \"b\"}\n").unwrap();
        let read = read_queries(&queries).unwrap();
        assert_eq!((read[0].id.as_str(), read[1].id.as_str()), ("1", "x"));
        std::fs::write(&queries, "{\"id\": 1}\n").unwrap();
        assert!(read_queries(&queries).unwrap_err().to_string().contains("line 1"));
    }
}
