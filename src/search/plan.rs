//! The backend-neutral query plan: what a search looks for (terms, phrases, prefixes, date
//! ranges, the Chinese evidence) and how the parts combine and weigh. The builder in this
//! module's parent decides it once from the parsed query; each backend only translates it
//! (tantivy queries for a local index, Query DSL for a cluster), so ranking logic lives in one
//! place and the two return the same documents.

use crate::date::Date;
use crate::error::Result;

pub(crate) use super::chinese::{Evidence, Params};
#[cfg(feature = "cluster")]
pub(crate) use super::chinese::{evidence_label, exact_label, merged};

/// The analyzed fields a plan searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TextField {
    Title,
    Zh,
    En,
    Source,
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
    pub params: Params,
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
    fn combining_one_part_is_the_part_and_a_boost_of_one_is_none() {
        let one = Plan::combine(vec![Plan::term(TextField::Zh, "法院")], Occur::Must);
        assert!(matches!(one, Some(Plan::Term { .. })));
        assert!(matches!(Plan::All.boosted(1.0), Plan::All));
        assert!(matches!(Plan::All.boosted(0.5), Plan::Boost(_, b) if b == 0.5));
    }
}
