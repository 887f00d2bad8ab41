//! The backend-neutral query plan: what a search looks for (terms, phrases, prefixes, date
//! ranges, the Chinese evidence) and how the parts combine and weigh. The builder in this
//! module's parent decides it once from the parsed query; each backend only translates it
//! (tantivy queries for a local index, Query DSL for a cluster), so ranking logic lives in one
//! place and the two return the same documents.

use crate::date::Date;
use crate::error::Result;

pub(crate) use super::chinese::{Evidence, Saturation};
#[cfg(feature = "cluster")]
pub(crate) use super::chinese::{evidence_label, exact_label, merged};

/// The analyzed fields a plan searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TextField {
    Title,
    Zh,
    En,
    Source,
    /// The Latin words of Chinese text, with positions (for phrases; zh has none).
    Latin,
    /// The character (recall) field.
    Grams,
    /// Adjacent pairs of the character field's characters, with positions.
    Pairs,
}

impl TextField {
    /// The field's name in the local schema and the cluster mapping alike.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TextField::Title => "title",
            TextField::Zh => "zh",
            TextField::En => "en",
            TextField::Source => "source",
            TextField::Latin => "latin",
            TextField::Grams => "grams",
            TextField::Pairs => "pairs",
        }
    }
}

/// How a clause of a [`Plan::Bool`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Occur {
    /// The document must match; the clause's score adds.
    Must,
    /// The score adds where it matches; with no `Must` clause, one of these must match.
    Should,
    /// The document must not match.
    MustNot,
}

/// The Chinese ranking of a query's Han runs (see [`super::chinese`]).
#[derive(Debug, Clone)]
pub(crate) struct ChinesePlan {
    /// Each piece of evidence with its weight (repeats add up).
    pub evidence: Vec<(Evidence, f32)>,
    pub saturation: Saturation,
    /// Runs whose exact string ranks a document above every document without it.
    pub exact: Vec<String>,
}

/// A node of the plan.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    /// One term, BM25-scored.
    Term { field: TextField, term: String },
    /// Terms at positions (relative to the first); several forms at one position are
    /// alternatives (於 / 于). BM25 of the phrase's frequency.
    Phrase { field: TextField, terms: Vec<(usize, Vec<String>)> },
    /// Terms starting with `prefix`; every match scores 1.
    Prefix { field: TextField, prefix: String },
    /// Terms within `distance` edits (a transposition is one); every match scores 1.
    Fuzzy { field: TextField, term: String, distance: u8 },
    /// Documents dated in the range (either end open); scores 0.
    Dates { from: Option<Date>, to: Option<Date> },
    /// Clauses combined; the matched clauses' scores add.
    Bool(Vec<(Occur, Plan)>),
    /// The part's score times the factor.
    Boost(Box<Plan>, f32),
    /// The part's matches, scoring 0.
    Matching(Box<Plan>),
    /// The Chinese ranking: scores documents holding any of its evidence.
    Chinese(ChinesePlan),
    /// The part's matches whose stored text (in `fields`) holds `needle` ([`super::verify`]).
    Verified { inner: Box<Plan>, needle: String, fields: Vec<TextField> },
    /// The part, named `field:label` in explanations.
    Labeled { field: TextField, label: String, inner: Box<Plan> },
    /// Characters in sequence, several forms at a position being alternatives: exactly the
    /// documents holding the string. BM25 of the phrase's frequency; each backend looks it up
    /// as its fields allow ([`Plan::char_phrase`] or [`Plan::pair_phrase`]).
    Characters(Vec<Vec<String>>),
    /// Every document, scoring 1.
    All,
    /// No document.
    Nothing,
}

impl Plan {
    pub(crate) fn term(field: TextField, term: &str) -> Plan {
        Plan::Term { field, term: term.to_string() }
    }

    /// A phrase of `(position, term)`; a single term needs no positions.
    pub(crate) fn phrase(field: TextField, terms: &[(usize, String)]) -> Option<Plan> {
        match terms {
            [] => None,
            [(_, only)] => Some(Plan::term(field, only)),
            _ => {
                let base = terms[0].0;
                let terms = terms.iter().map(|(p, t)| (p - base, vec![t.clone()])).collect();
                Some(Plan::Phrase { field, terms })
            }
        }
    }

    /// Characters in sequence as a phrase of the character field.
    pub(crate) fn char_phrase(chars: &[Vec<String>]) -> Option<Plan> {
        sequence(TextField::Grams, chars.iter().cloned().enumerate().collect())
    }

    /// Characters in sequence as a phrase of the pairs that cover them (see
    /// [`crate::analysis::covering_pairs`]), which matches exactly where the characters do; one
    /// character is looked up in the character field.
    pub(crate) fn pair_phrase(chars: &[Vec<String>]) -> Option<Plan> {
        match chars {
            [] | [_] => Plan::char_phrase(chars),
            _ => sequence(TextField::Pairs, crate::analysis::covering_pairs(chars)),
        }
    }

    /// The part boosted (unchanged for a factor of 1).
    pub(crate) fn boosted(self, by: f32) -> Plan {
        if by == 1.0 { self } else { Plan::Boost(Box::new(self), by) }
    }

    /// One clause when there is one; else every clause under `occur`.
    pub(crate) fn combine(mut plans: Vec<Plan>, occur: Occur) -> Option<Plan> {
        match plans.len() {
            0 => None,
            1 => plans.pop(),
            _ => Some(Plan::Bool(plans.into_iter().map(|p| (occur, p)).collect())),
        }
    }
}

impl Plan {
    /// The clauses of a union (any of them matches, their scores add), with the clauses of
    /// unions inside it taken in: a union of unions scores and matches as one flat union, and
    /// a flat union of terms is what top-k pruning (block-max WAND) can search.
    fn union_leaves(self, out: &mut Vec<Plan>) {
        match self {
            Plan::Bool(clauses) if clauses.iter().all(|(occur, _)| *occur == Occur::Should) => {
                clauses.into_iter().for_each(|(_, clause)| clause.union_leaves(out))
            }
            other => out.push(other),
        }
    }

    /// `parts` as one flat union in which a part that comes `n` times counts `(k3 + 1) n /
    /// (k3 + n)` times instead of `n` times: Okapi BM25's saturation of query-term frequency.
    /// A pasted passage repeats its subject's words (被告人 forty times in a court case):
    /// counted linearly, those few words outweigh everything else the passage says.
    pub(crate) fn saturated_union(parts: Vec<Plan>, k3: f32) -> Option<Plan> {
        let mut leaves = Vec::new();
        parts.into_iter().for_each(|part| part.union_leaves(&mut leaves));
        // Parts are told apart by their printed form (plans hold floats, so they cannot be
        // hashed): a passage of 800 words has thousands of parts, too many to compare pairwise.
        let mut counted: Vec<(Plan, u32)> = Vec::new();
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for leaf in leaves {
            match seen.entry(format!("{leaf:?}")) {
                std::collections::hash_map::Entry::Occupied(at) => counted[*at.get()].1 += 1,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(counted.len());
                    counted.push((leaf, 1));
                }
            }
        }
        let clauses = counted.into_iter().map(|(leaf, n)| leaf.boosted(query_term_weight(n, k3))).collect();
        Plan::combine(clauses, Occur::Should)
    }
}

impl Plan {
    /// This union with the weight of each term rarer than `share` of the documents lowered
    /// to what it would be with that share: its BM25 idf capped at the share's.
    pub(crate) fn rare_words_capped(self, stats: &dyn Statistics, share: f64) -> Result<Plan> {
        let Plan::Bool(clauses) = self else { return Ok(self) };
        let terms: Vec<(TextField, String)> = clauses
            .iter()
            .filter_map(|(_, part)| part.weighted_term().map(|(field, term, _)| (field, term.to_string())))
            .collect();
        let mut doc_freqs = stats.doc_freqs(&terms)?.into_iter();
        let docs = stats.num_docs()? as f64;
        let cap = bm25_idf(share * docs, docs);
        let clauses = clauses
            .into_iter()
            .map(|(occur, part)| {
                let Some(doc_freq) = part.weighted_term().and_then(|_| doc_freqs.next()) else { return (occur, part) };
                let idf = bm25_idf(doc_freq as f64, docs);
                if idf > cap { (occur, part.boosted((cap / idf) as f32)) } else { (occur, part) }
            })
            .collect();
        Ok(Plan::Bool(clauses))
    }

    /// The term a part scores and what its score is multiplied by, through boosts and labels.
    fn weighted_term(&self) -> Option<(TextField, &str, f32)> {
        match self {
            Plan::Term { field, term } => Some((*field, term, 1.0)),
            Plan::Boost(inner, by) => inner.weighted_term().map(|(field, term, boost)| (field, term, boost * by)),
            Plan::Labeled { inner, .. } => inner.weighted_term(),
            _ => None,
        }
    }
}

/// BM25's idf (tantivy's and Lucene's) of a term in `doc_freq` of `docs` documents.
fn bm25_idf(doc_freq: f64, docs: f64) -> f64 {
    (1.0 + (docs - doc_freq + 0.5) / (doc_freq + 0.5)).ln()
}

/// What a query term found `n` times in the query counts for (1 for once).
fn query_term_weight(n: u32, k3: f32) -> f32 {
    let n = n as f32;
    (k3 + 1.0) * n / (k3 + n)
}

/// Terms at positions as a plan: one term alone needs no positions (and tantivy's phrase wants
/// two).
fn sequence(field: TextField, terms: Vec<(usize, Vec<String>)>) -> Option<Plan> {
    match terms.as_slice() {
        [] => None,
        [(_, forms)] if forms.len() == 1 => Some(Plan::term(field, &forms[0])),
        _ => Some(Plan::Phrase { field, terms }),
    }
}

/// Index statistics the plan's decisions read (which word pairs are too common to be worth a
/// phrase): answered by the local index or the cluster.
pub(crate) trait Statistics {
    /// Live documents.
    fn num_docs(&self) -> Result<u64>;
    /// Documents holding each term (in one call: a cluster answers them in one request).
    fn doc_freqs(&self, terms: &[(TextField, String)]) -> Result<Vec<u64>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_counts_positions_from_its_first_term_and_one_term_is_a_term() {
        let terms = [(3, "entity".to_string()), (4, "list".to_string())];
        match Plan::phrase(TextField::En, &terms) {
            Some(Plan::Phrase { terms, .. }) => {
                assert_eq!(terms, vec![(0, vec!["entity".to_string()]), (1, vec!["list".to_string()])])
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(Plan::phrase(TextField::En, &terms[..1]), Some(Plan::Term { .. })));
        assert!(Plan::phrase(TextField::En, &[]).is_none());
    }

    #[test]
    fn a_union_of_unions_is_one_union_and_a_repeated_part_counts_less_than_its_repeats() {
        let word = |w: &str| Plan::term(TextField::Zh, w);
        let inner = Plan::Bool(vec![(Occur::Should, word("被告人")), (Occur::Should, word("盗窃"))]);
        let parts = vec![inner, word("被告人"), word("被告人").boosted(0.3), word("被告人")];
        let Some(Plan::Bool(clauses)) = Plan::saturated_union(parts, 15.0) else { panic!("a union") };
        let weight = |part: &Plan| match part {
            Plan::Boost(inner, by) => (format!("{inner:?}"), *by),
            other => (format!("{other:?}"), 1.0),
        };
        let found: Vec<(String, f32)> = clauses
            .iter()
            .map(|(occur, part)| {
                assert_eq!(*occur, Occur::Should);
                weight(part)
            })
            .collect();
        // Three times the same term: (15 + 1) 3 / (15 + 3); a differently boosted one is another part.
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].0, format!("{:?}", word("被告人")));
        assert!((found[0].1 - 16.0 * 3.0 / 18.0).abs() < 1e-6, "{found:?}");
        assert_eq!(found[1], (format!("{:?}", word("盗窃")), 1.0));
        assert!(matches!(&clauses[2].1, Plan::Boost(_, by) if *by == 0.3));
    }

    struct Frequencies(u64, Vec<(&'static str, u64)>);

    impl Statistics for Frequencies {
        fn num_docs(&self) -> Result<u64> {
            Ok(self.0)
        }
        fn doc_freqs(&self, terms: &[(TextField, String)]) -> Result<Vec<u64>> {
            Ok(terms.iter().map(|(_, t)| self.1.iter().find(|(w, _)| w == t).map_or(0, |(_, f)| *f)).collect())
        }
    }

    #[test]
    fn a_passages_words_rarer_than_the_cap_weigh_as_words_at_the_cap() {
        let stats = Frequencies(10_000, vec![("张三", 1), ("盗窃", 100), ("手机", 3000)]);
        let union = Plan::Bool(
            ["张三", "盗窃", "手机"].iter().map(|w| (Occur::Should, Plan::term(TextField::Zh, w))).collect(),
        );
        let Plan::Bool(capped) = union.rare_words_capped(&stats, 0.01).unwrap() else { panic!("a union") };
        let boost = |i: usize| match &capped[i].1 {
            Plan::Boost(_, by) => *by as f64,
            _ => 1.0,
        };
        // The name (df 1) and the word at 1 % both score with idf ln(1 + 9900.5 / 100.5).
        let cap = bm25_idf(100.0, 10_000.0);
        assert!((boost(0) * bm25_idf(1.0, 10_000.0) - cap).abs() < 1e-4, "{}", boost(0));
        assert_eq!((boost(1), boost(2)), (1.0, 1.0));
    }

    #[test]
    fn combining_one_part_is_the_part_and_a_boost_of_one_is_none() {
        let one = Plan::combine(vec![Plan::term(TextField::Zh, "法院")], Occur::Must);
        assert!(matches!(one, Some(Plan::Term { .. })));
        assert!(matches!(Plan::All.boosted(1.0), Plan::All));
        assert!(matches!(Plan::All.boosted(0.5), Plan::Boost(_, b) if b == 0.5));
    }
}
