//! Translating a query plan into OpenSearch Query DSL of the same structure: terms stay terms,
//! phrases stay phrases (written in the field encoding, so the cluster's analyzer reads back the
//! same terms at the same positions), and scores add up the way they do locally.
//!
//! OpenSearch's `BM25` similarity keeps the factor `k1 + 1` that tantivy's BM25 has too (its
//! legacy form), so a leaf's score is the local one with the same boost. The Chinese ranking's
//! evidence is looked up in the cluster's Chinese evidence field, whose own BM25 parameters are
//! the ranking's (see `mapping` and `encode::chinese_evidence`).

use serde_json::{Value, json};

use super::encode::{CHAR_MARK, HOLE, STACK};
use super::mapping;
use crate::analysis::is_function_word;
use crate::search::plan::{ChinesePlan, Evidence, Occur, Plan, TextField, evidence_label, exact_label, merged};

/// The text check of a verified part (`Plan::Verified`), which the cluster cannot do itself:
/// given the part's candidates as Query DSL, the needle and the fields, the ids of the
/// documents that pass.
pub(crate) type Resolve<'a> = dyn FnMut(&Value, &str, &[TextField]) -> crate::Result<Vec<String>> + 'a;

/// Translates plans; `resolve` settles verified parts, `documents` is the index's size (for the
/// exact-string bonus of the Chinese ranking). With `labels` (to explain), each labelled part
/// becomes a named query whose name is its place in `labels`, so a hit's `matched_queries`
/// (with `include_named_queries_score`) says what each part added, as a local explanation does.
pub(crate) struct Translator<'a, 'b> {
    pub resolve: &'b mut Resolve<'a>,
    pub documents: u64,
    pub labels: Option<Vec<String>>,
}

impl Translator<'_, '_> {
    /// `query` named after `label` when explaining.
    fn named(&mut self, query: Value, label: String) -> Value {
        let Some(labels) = &mut self.labels else { return query };
        labels.push(label);
        json!({"bool": {"must": [query], "_name": (labels.len() - 1).to_string()}})
    }

    /// The translation of `plan` with no part inside named: a local explanation reports the
    /// outermost label of a part only, and nothing of a part that scores 0.
    fn unnamed(&mut self, plan: &Plan, boost: f32) -> crate::Result<Value> {
        let labels = self.labels.take();
        let query = self.query(plan, boost);
        self.labels = labels;
        query
    }
}

impl Translator<'_, '_> {
    /// The Query DSL of `plan`, its scores times `boost`.
    pub(crate) fn query(&mut self, plan: &Plan, boost: f32) -> crate::Result<Value> {
        Ok(match plan {
            Plan::Term { field, term } => term_query(field.name(), term, boost),
            Plan::Phrase { field, terms } => phrase_query(field.name(), terms, boost),
            Plan::Prefix { field, prefix } => json!({"prefix": {field.name(): {
                "value": prefix, "rewrite": "constant_score", "boost": boost,
            }}}),
            Plan::Fuzzy { field, term, distance } => json!({"fuzzy": {field.name(): {
                "value": term, "fuzziness": distance, "transpositions": true, "prefix_length": 0,
                "rewrite": "constant_score", "boost": boost,
            }}}),
            Plan::Dates { from, to } => {
                let mut range = serde_json::Map::new();
                if let Some(from) = from {
                    range.insert("gte".into(), json!(from.days_since_epoch()));
                }
                if let Some(to) = to {
                    range.insert("lte".into(), json!(to.days_since_epoch()));
                }
                filter_only(json!({"range": {"date": range}}))
            }
            Plan::Bool(clauses) => {
                let (mut must, mut should, mut must_not) = (Vec::new(), Vec::new(), Vec::new());
                for (occur, clause) in clauses {
                    match occur {
                        Occur::Must => must.push(self.query(clause, boost)?),
                        Occur::Should => should.push(self.query(clause, boost)?),
                        Occur::MustNot => must_not.push(self.unnamed(clause, 1.0)?),
                    }
                }
                // As tantivy: optional beside a required clause, else one of them must match.
                let minimum = usize::from(must.is_empty() && !should.is_empty());
                json!({"bool": {
                    "must": must, "should": should, "must_not": must_not, "minimum_should_match": minimum,
                }})
            }
            Plan::Boost(inner, by) => self.query(inner, boost * by)?,
            Plan::Matching(inner) => filter_only(self.unnamed(inner, 1.0)?),
            Plan::Chinese(chinese) => self.chinese(chinese, boost),
            Plan::Verified { inner, needle, fields } => {
                let inner = self.query(inner, boost)?;
                let ids = (self.resolve)(&inner, needle, fields)?;
                json!({"bool": {"must": [inner], "filter": [{"terms": {"id": ids}}]}})
            }
            Plan::Labeled { field, label, inner } => {
                let query = self.unnamed(inner, boost)?;
                self.named(query, format!("{}:{label}", field.name()))
            }
            // A cluster index has no pair field: a phrase of characters.
            Plan::Characters(chars) => match Plan::char_phrase(chars) {
                Some(phrase) => self.query(&phrase, boost)?,
                None => json!({"match_none": {}}),
            },
            Plan::All => json!({"match_all": {"boost": boost}}),
            Plan::Nothing => json!({"match_none": {}}),
        })
    }

    /// The Chinese evidence as BM25 terms of the evidence field, and each exact run as a
    /// constant bonus larger than all of the evidence can add (as locally, where it is the sum
    /// of the pieces' factors plus 50: here every idf is taken at its largest, so the bonus
    /// orders documents the same way).
    fn chinese(&mut self, plan: &ChinesePlan, boost: f32) -> Value {
        // The similarity's k1 follows the index's average length: take the largest, so the
        // bonus still exceeds all the evidence can add.
        let factor = plan.saturation.short_k1.max(plan.saturation.long_k1) + 1.0;
        let merged = merged(&plan.evidence);
        let docs = self.documents.max(1) as f32;
        let largest_idf = (1.0 + (docs - 1.0 + 0.5) / 1.5).ln().max(0.0);
        let bonus = merged.iter().map(|(_, w)| w * factor * largest_idf).sum::<f32>() + 50.0;
        // (The similarity multiplies by k1 + 1 itself, as the local ranking's factor does.)
        let should: Vec<Value> = merged
            .iter()
            .map(|(e, w)| {
                let term = term_query(mapping::CHINESE, &evidence_term(e), boost * w);
                self.named(term, evidence_label(e))
            })
            .collect();
        let mut exact = Vec::new();
        for run in &plan.exact {
            let chars: Vec<(usize, Vec<String>)> =
                run.chars().enumerate().map(|(i, c)| (i, vec![c.to_string()])).collect();
            if chars.len() < 2 {
                continue;
            }
            let phrase = phrase_query(TextField::Grams.name(), &chars, 1.0);
            let bonus = json!({"constant_score": {"filter": phrase, "boost": boost * bonus}});
            exact.push(self.named(bonus, exact_label(run)));
        }
        // Matches: documents holding any of the evidence (an exact run's documents hold its
        // characters); the bonus only adds.
        let matches = json!({"bool": {"should": should, "minimum_should_match": 1}});
        if exact.is_empty() {
            return matches;
        }
        json!({"bool": {"must": [matches], "should": exact}})
    }
}

/// The evidence field's term for a piece of evidence: a word as it is, a character (or a
/// one-character function word, which lives among the characters locally) marked.
fn evidence_term(evidence: &Evidence) -> String {
    match evidence {
        Evidence::Word(w) if is_function_word(w) => format!("{CHAR_MARK}{w}"),
        Evidence::Word(w) => w.clone(),
        Evidence::Char(c) => format!("{CHAR_MARK}{c}"),
    }
}

fn term_query(field: &str, term: &str, boost: f32) -> Value {
    json!({"term": {field: {"value": term, "boost": boost}}})
}

/// Matches of `query`, scoring 0.
fn filter_only(query: Value) -> Value {
    json!({"bool": {"filter": [query]}})
}

/// A phrase written in the field encoding (holes for skipped positions, stacked alternatives)
/// and read back by the field's own analyzer: the same terms at the same positions. One
/// position of alternatives is any of its terms.
fn phrase_query(field: &str, terms: &[(usize, Vec<String>)], boost: f32) -> Value {
    if let [(_, forms)] = terms {
        let should: Vec<Value> = forms.iter().map(|f| term_query(field, f, boost)).collect();
        return json!({"bool": {"should": should, "minimum_should_match": 1}});
    }
    let mut slots: Vec<String> = Vec::new();
    for (position, forms) in terms {
        while slots.len() < *position {
            slots.push(HOLE.to_string());
        }
        slots.push(forms.join(&STACK.to_string()));
    }
    json!({"match_phrase": {field: {"query": slots.join(" "), "boost": boost}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(plan: &Plan) -> Value {
        let mut resolve = |_: &Value, _: &str, _: &[TextField]| Ok(vec!["a".to_string()]);
        Translator { resolve: &mut resolve, documents: 10, labels: None }.query(plan, 1.0).unwrap()
    }

    #[test]
    fn a_phrase_keeps_its_gaps_and_alternatives_in_the_field_encoding() {
        let terms = vec![(0, vec!["关".to_string()]), (2, vec!["於".to_string(), "于".to_string()])];
        let dsl = translate(&Plan::Phrase { field: TextField::Grams, terms });
        assert_eq!(dsl["match_phrase"]["grams"]["query"], format!("关 {HOLE} 於{STACK}于"));
    }

    #[test]
    fn boosts_multiply_down_to_the_leaves() {
        let plan = Plan::Boost(Box::new(Plan::Boost(Box::new(Plan::term(TextField::Title, "fentanyl")), 0.5)), 0.3);
        let boost = translate(&plan)["term"]["title"]["boost"].as_f64().unwrap();
        assert!((boost - 0.15).abs() < 1e-6, "{boost}");
    }

    #[test]
    fn should_clauses_alone_need_one_match_and_beside_a_must_none() {
        let (a, b) = (Plan::term(TextField::En, "a"), Plan::term(TextField::En, "b"));
        let any = translate(&Plan::Bool(vec![(Occur::Should, a.clone()), (Occur::Should, b.clone())]));
        assert_eq!(any["bool"]["minimum_should_match"], 1);
        let all = translate(&Plan::Bool(vec![(Occur::Must, a), (Occur::Should, b)]));
        assert_eq!(all["bool"]["minimum_should_match"], 0);
    }

    #[test]
    fn characters_and_function_words_are_marked_in_the_evidence_field() {
        assert_eq!(evidence_term(&Evidence::Char('法')), format!("{CHAR_MARK}法"));
        assert_eq!(evidence_term(&Evidence::Word("的".into())), format!("{CHAR_MARK}的"));
        assert_eq!(evidence_term(&Evidence::Word("法院".into())), "法院");
    }
}
