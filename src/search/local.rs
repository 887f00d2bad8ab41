//! Translating a query plan into tantivy queries over a local index, and the local index's
//! answers to the plan's statistics questions.

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur as TantivyOccur,
    PhraseQuery, Query as TantivyQuery, RangeQuery, RegexPhraseQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::chinese::ChineseQuery;
use super::plan::{ChinesePlan, Occur, Plan, Statistics, TextField};
use super::{exclusion, explain, matching, verify};
use crate::error::Result;
use crate::index::Index;

fn boxed(q: impl TantivyQuery + 'static) -> Box<dyn TantivyQuery> {
    Box::new(q)
}

/// Characters a tantivy regex reads as syntax.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~\"".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Translates plans for one index.
pub(crate) struct Translator<'a> {
    pub index: &'a Index,
    /// Label parts so explanations can name them, and guard every combination.
    pub explain: bool,
}

impl Translator<'_> {
    pub(crate) fn field(&self, field: TextField) -> Field {
        let f = &self.index.fields;
        match field {
            TextField::Title => f.title,
            TextField::Zh => f.zh,
            TextField::En => f.en,
            TextField::Latin => f.latin,
            TextField::Source => f.source,
            TextField::Grams => f.grams,
            // A plan names the pair field only where the index has it (see `Plan::Characters`).
            TextField::Pairs => f.pairs.unwrap_or(f.grams),
        }
    }

    fn term(&self, field: TextField, text: &str) -> Term {
        Term::from_field_text(self.field(field), text)
    }

    /// The Chinese ranking as the local query that scores it.
    pub(crate) fn chinese(&self, plan: &ChinesePlan) -> ChineseQuery {
        let f = &self.index.fields;
        ChineseQuery {
            zh: f.zh,
            grams: f.grams,
            pairs: f.pairs,
            evidence: plan.evidence.clone(),
            saturation: plan.saturation,
            exact: plan.exact.clone(),
            cells: Some(self.index.cells.clone()),
        }
    }

    /// The tantivy query of a plan.
    pub(crate) fn query(&self, plan: &Plan) -> Box<dyn TantivyQuery> {
        let query = self.translate(plan);
        let combination = !matches!(
            plan,
            Plan::Term { .. } | Plan::Phrase { .. } | Plan::Prefix { .. } | Plan::Fuzzy { .. } | Plan::Labeled { .. }
        );
        // When explaining, a combination explains only documents it matches (see
        // [`explain::Labeled`]).
        if self.explain && combination { boxed(explain::Labeled::guard(query)) } else { query }
    }

    fn translate(&self, plan: &Plan) -> Box<dyn TantivyQuery> {
        match plan {
            Plan::Term { field, term } => {
                boxed(TermQuery::new(self.term(*field, term), IndexRecordOption::WithFreqsAndPositions))
            }
            Plan::Phrase { field, terms } => self.phrase(*field, terms),
            Plan::Prefix { field, prefix } => {
                match RegexQuery::from_pattern(&format!("{}.*", regex_escape(prefix)), self.field(*field)) {
                    Ok(query) => boxed(query),
                    Err(_) => boxed(EmptyQuery),
                }
            }
            Plan::Fuzzy { field, term, distance } => {
                boxed(FuzzyTermQuery::new(self.term(*field, term), *distance, true))
            }
            Plan::Dates { from, to } => {
                let field = self.index.fields.date;
                let term = |d: crate::date::Date| Term::from_field_i64(field, d.days_since_epoch());
                let lower = from.map_or(Bound::Unbounded, |d| Bound::Included(term(d)));
                let upper = to.map_or(Bound::Unbounded, |d| Bound::Included(term(d)));
                // A filter: it adds nothing to the score (the same for every hit it lets through).
                boxed(ConstScoreQuery::new(boxed(RangeQuery::new(lower, upper)), 0.0))
            }
            Plan::Bool(clauses) => {
                let clauses = clauses
                    .iter()
                    .map(|(occur, plan)| match occur {
                        Occur::Must => (TantivyOccur::Must, self.query(plan)),
                        Occur::Should => (TantivyOccur::Should, self.query(plan)),
                        Occur::MustNot => (TantivyOccur::MustNot, boxed(exclusion::Exclusion(self.query(plan)))),
                    })
                    .collect();
                boxed(BooleanQuery::new(clauses))
            }
            Plan::Boost(inner, by) => boxed(BoostQuery::new(self.query(inner), *by)),
            Plan::Matching(inner) => self.matching(inner),
            Plan::Chinese(chinese) => boxed(self.chinese(chinese)),
            Plan::Verified { inner, needle, fields } => boxed(verify::Verified {
                inner: self.query(inner),
                needle: needle.clone(),
                fields: fields.iter().map(|f| self.field(*f)).collect(),
            }),
            Plan::Labeled { field, label, inner } => {
                let query = self.query(inner);
                if !self.explain {
                    return query;
                }
                boxed(explain::Labeled::new(format!("{}:{label}", field.name()), query))
            }
            Plan::Characters(chars) => {
                let phrase =
                    if self.index.fields.pairs.is_some() { Plan::pair_phrase(chars) } else { Plan::char_phrase(chars) };
                phrase.map_or_else(|| boxed(EmptyQuery), |p| self.query(&p))
            }
            Plan::All => boxed(AllQuery),
            Plan::Nothing => boxed(EmptyQuery),
        }
    }

    /// A plan whose matches count and whose scores do not. A union of alternatives asks the
    /// cheap ones first (see [`matching`]); explanations keep tantivy's union, which names
    /// every alternative that matched.
    fn matching(&self, inner: &Plan) -> Box<dyn TantivyQuery> {
        let mut alternatives = Vec::new();
        if !self.explain {
            alternatives_of(inner, &mut alternatives);
        }
        let certificates: Vec<Plan> = alternatives
            .iter()
            .filter_map(|plan| certificate(plan))
            .filter(|certificate| !alternatives.iter().any(|a| same_term(a, certificate)))
            .collect();
        if alternatives.len() + certificates.len() < 2 {
            return boxed(ConstScoreQuery::new(self.query(inner), 0.0));
        }
        let queries = alternatives.into_iter().chain(&certificates).map(|p| self.query(p)).collect();
        boxed(matching::MatchAny { alternatives: queries })
    }

    /// A phrase; with alternative forms at a position, a phrase of patterns (one alternative
    /// position alone is any of its terms).
    fn phrase(&self, field: TextField, terms: &[(usize, Vec<String>)]) -> Box<dyn TantivyQuery> {
        let has_alternatives = terms.iter().any(|(_, forms)| forms.len() > 1);
        if !has_alternatives {
            let terms = terms.iter().map(|(p, forms)| (*p, self.term(field, &forms[0]))).collect();
            return boxed(PhraseQuery::new_with_offset(terms));
        }
        if let [(_, forms)] = terms {
            let clauses = forms
                .iter()
                .map(|f| {
                    let term = TermQuery::new(self.term(field, f), IndexRecordOption::WithFreqsAndPositions);
                    (TantivyOccur::Should, boxed(term))
                })
                .collect();
            return boxed(BooleanQuery::new(clauses));
        }
        let patterns = terms
            .iter()
            .map(|(i, forms)| {
                (*i, format!("(?:{})", forms.iter().map(|f| regex_escape(f)).collect::<Vec<_>>().join("|")))
            })
            .collect();
        boxed(RegexPhraseQuery::new_with_offset(self.field(field), patterns))
    }
}

/// The alternatives of a union, nested unions flattened, boosts and optional clauses dropped
/// (a match is a match, whatever its score).
fn alternatives_of<'p>(plan: &'p Plan, out: &mut Vec<&'p Plan>) {
    match plan {
        Plan::Bool(clauses) if clauses.iter().all(|(occur, _)| *occur == Occur::Should) => {
            clauses.iter().for_each(|(_, clause)| alternatives_of(clause, out));
        }
        // Beside a required clause, the others only add to a score.
        Plan::Bool(clauses) if clauses.iter().all(|(occur, _)| *occur != Occur::MustNot) => {
            let mut required = clauses.iter().filter(|(occur, _)| *occur == Occur::Must);
            match (required.next(), required.next()) {
                (Some((_, only)), None) => alternatives_of(only, out),
                _ => out.push(plan),
            }
        }
        Plan::Boost(inner, _) | Plan::Labeled { inner, .. } => alternatives_of(inner, out),
        _ => out.push(plan),
    }
}

/// A cheap stand-in for part of a character sequence's matches: the sequence as one word of
/// the zh field. A word there is a piece of the (normalized) text, so a document holding it
/// holds the characters in sequence; most documents holding a common word hold it as a word
/// (人民法院), which says yes without reading a position.
fn certificate(plan: &Plan) -> Option<Plan> {
    let Plan::Characters(chars) = plan else { return None };
    if chars.len() < 2 {
        return None;
    }
    let word: String = chars.iter().map(|forms| forms[0].as_str()).collect();
    Some(Plan::term(TextField::Zh, &word))
}

/// A plan of terms alone whose matches all match `plan` (a sure part of them), or `None`:
/// counting it is cheap, and when it already reaches the count limit, so does `plan`. A
/// character sequence is sure where its zh word is; of a union's terms, only the one in most
/// documents is kept (an intersection of unions refills their windows at every seek, which cost
/// more than the count it could save); scoring-only clauses beside required ones are left out,
/// exclusions kept.
pub(crate) fn sure_matches(plan: &Plan, stats: &dyn Statistics) -> Option<Plan> {
    match plan {
        Plan::Term { .. } | Plan::Dates { .. } | Plan::All | Plan::Nothing => Some(plan.clone()),
        Plan::Characters(chars) if chars.len() == 1 => Some(plan.clone()),
        Plan::Characters(_) => certificate(plan),
        Plan::Boost(inner, _) | Plan::Labeled { inner, .. } | Plan::Matching(inner) => sure_matches(inner, stats),
        Plan::Bool(clauses) if clauses.iter().any(|(occur, _)| *occur == Occur::Must) => {
            let mut sure = Vec::with_capacity(clauses.len());
            for (occur, clause) in clauses {
                match occur {
                    Occur::Must => sure.push((Occur::Must, sure_matches(clause, stats)?)),
                    Occur::MustNot => sure.push((Occur::MustNot, clause.clone())),
                    Occur::Should => {}
                }
            }
            Some(Plan::Bool(sure))
        }
        Plan::Bool(clauses) if clauses.iter().all(|(occur, _)| *occur == Occur::Should) => {
            let sure: Vec<Plan> = clauses.iter().filter_map(|(_, clause)| sure_matches(clause, stats)).collect();
            let terms: Option<Vec<(TextField, String)>> = sure
                .iter()
                .map(|part| match part {
                    Plan::Term { field, term } => Some((*field, term.clone())),
                    _ => None,
                })
                .collect();
            let most = terms.and_then(|terms| stats.doc_freqs(&terms).ok()).and_then(|freqs| {
                freqs.iter().enumerate().max_by_key(|(_, freq)| **freq).map(|(i, _)| sure[i].clone())
            });
            most.or_else(|| Plan::combine(sure, Occur::Should))
        }
        _ => None,
    }
}

fn same_term(a: &Plan, b: &Plan) -> bool {
    matches!((a, b), (Plan::Term { field: f, term: t }, Plan::Term { field: g, term: u }) if f == g && t == u)
}

impl Statistics for Index {
    fn num_docs(&self) -> Result<u64> {
        Ok(self.reader.searcher().num_docs())
    }

    fn doc_freqs(&self, terms: &[(TextField, String)]) -> Result<Vec<u64>> {
        let searcher = self.reader.searcher();
        let translator = Translator { index: self, explain: false };
        let mut out = Vec::with_capacity(terms.len());
        for (field, text) in terms {
            out.push(searcher.doc_freq(&translator.term(*field, text))?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matching_union_is_flattened_and_a_character_sequence_gets_its_word_as_a_stand_in() {
        let chars = Plan::Characters(vec![vec!["人".into()], vec!["民".into(), "名".into()]]);
        let word = Plan::term(TextField::Zh, "人民");
        let optional = Plan::term(TextField::Title, "人民");
        let inner = Plan::Bool(vec![
            (Occur::Must, Plan::Bool(vec![(Occur::Should, chars.clone().boosted(2.0)), (Occur::Should, word)])),
            (Occur::Should, optional),
        ]);
        let mut alternatives = Vec::new();
        alternatives_of(&inner, &mut alternatives);
        assert_eq!(alternatives.len(), 2, "{alternatives:?}");
        assert!(matches!(alternatives[0], Plan::Characters(_)));
        let stand_in = certificate(&chars).unwrap();
        assert!(same_term(&stand_in, alternatives[1]), "{stand_in:?}");
        assert!(certificate(&Plan::Characters(vec![vec!["人".into()]])).is_none());
    }

    struct Freqs;

    impl Statistics for Freqs {
        fn num_docs(&self) -> Result<u64> {
            Ok(100)
        }
        fn doc_freqs(&self, terms: &[(TextField, String)]) -> Result<Vec<u64>> {
            Ok(terms.iter().map(|(field, _)| if *field == TextField::Zh { 50 } else { 5 }).collect())
        }
    }

    #[test]
    fn sure_matches_keep_required_parts_by_their_words_and_drop_scoring_ones() {
        let chars = |s: &str| Plan::Characters(s.chars().map(|c| vec![c.to_string()]).collect());
        let word = |field, w: &str| Plan::term(field, w);
        let union = |parts: Vec<Plan>| Plan::Bool(parts.into_iter().map(|p| (Occur::Should, p)).collect());
        let theft = union(vec![word(TextField::Title, "盗窃"), word(TextField::Zh, "盗窃"), chars("盗窃")]);
        let plan = Plan::Bool(vec![
            (Occur::Must, Plan::Matching(Box::new(theft))),
            (Occur::Must, Plan::Matching(Box::new(chars("人民法院")))),
            (Occur::MustNot, chars("手机")),
            (Occur::Should, Plan::All),
        ]);
        let Some(Plan::Bool(sure)) = sure_matches(&plan, &Freqs) else { panic!("sure matches") };
        assert_eq!(sure.len(), 3, "{sure:?}");
        // The union's term in most documents; the sequence's word; the exclusion as it was.
        assert!(same_term(&sure[0].1, &word(TextField::Zh, "盗窃")), "{sure:?}");
        assert!(same_term(&sure[1].1, &word(TextField::Zh, "人民法院")), "{sure:?}");
        assert!(matches!(&sure[2], (Occur::MustNot, Plan::Characters(_))));
        // A phrase of words has no sure part.
        let phrase = Plan::phrase(TextField::En, &[(0, "oil".into()), (1, "price".into())]).unwrap();
        assert!(sure_matches(&Plan::Bool(vec![(Occur::Must, phrase)]), &Freqs).is_none());
    }
}
