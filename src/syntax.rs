//! Query syntax: what a user types → clauses of atoms. Lenient by design: stray operators are
//! read the obvious way and a quote mark without its partner is ignored (a question pasted with
//! `“…"` must still find its words); only bad dates are errors.
//!
//! `a b` both required · `a OR b` either · `-a` / `NOT a` excluded · `"a b"` phrase ·
//! `title:` `zh:` `en:` `source:` field prefixes · `date:[2023-11-01 TO 2023-12-31]` ·
//! `fent*` prefix · `fentanil~` fuzzy (edit distance 1, `~2` for 2) · `oil^2`, `"entity list"^0.5`,
//! `(oil OR gas)^2` boost (the score times the number, as in Lucene).

use crate::date::Date;
use crate::error::{Error, Result};

/// Which fields an atom searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    All,
    Title,
    Zh,
    En,
    Source,
}

/// What an atom's score is multiplied by (`^N`); 1 without one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Boost(pub f32);

// Only finite positive numbers are parsed as boosts (see `boost_suffix`), so equality is total.
impl Eq for Boost {}

impl Boost {
    pub const NONE: Boost = Boost(1.0);
}

/// The largest boost taken as typed; larger ones are read as this.
const MAX_BOOST: f32 = 1000.0;

/// The smallest searchable unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Atom {
    /// A word or a quoted phrase.
    Text { scope: Scope, text: String, quoted: bool, prefix: bool, fuzzy: u8, boost: Boost },
    /// A date range, both ends inclusive.
    Dates { from: Option<Date>, to: Option<Date> },
}

/// Atoms joined by OR; a document must match one (or, negated, none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub negated: bool,
    pub any_of: Vec<Atom>,
}

enum Item {
    Or,
    And,
    Not,
    Atom { negated: bool, atom: Atom },
}

impl Item {
    /// Multiplies a text atom's boost (a group's boost reaching its words).
    fn boost_by(&mut self, by: Boost) {
        if let Item::Atom { atom: Atom::Text { boost, .. }, .. } = self {
            *boost = Boost((boost.0 * by.0).min(MAX_BOOST));
        }
    }
}

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '“' => Some('”'),
        '「' => Some('」'),
        '『' => Some('』'),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')' || closing_quote(c).is_some()
}

/// Whether the query holds a quote mark that [`parse`] ignores for want of its partner.
pub(crate) fn has_unpaired_quote(input: &str) -> bool {
    let chars: Vec<char> = input.chars().map(fold_query_char).collect();
    let mut i = 0;
    while i < chars.len() {
        if let Some(close) = closing_quote(chars[i]) {
            match chars[i + 1..].iter().position(|&c| c == close) {
                Some(p) => i += p + 2,
                None => return true,
            }
        } else {
            i += 1;
        }
    }
    false
}

/// Parses a query into clauses. Errors only for an empty query or a bad date; a query of
/// nothing searchable (`!!!`) gives no clauses, a search that finds nothing.
pub(crate) fn parse(input: &str) -> Result<Vec<Clause>> {
    let folded: String = input.chars().map(fold_query_char).collect();
    let items = lex(&folded)?;
    let mut clauses: Vec<Clause> = Vec::new();
    let (mut pending_or, mut pending_not) = (false, false);
    for item in items {
        match item {
            Item::Or => pending_or = !clauses.is_empty(),
            Item::And => pending_or = false,
            Item::Not => pending_not = true,
            Item::Atom { negated, atom } => {
                let negated = negated || pending_not;
                match clauses.last_mut() {
                    Some(last) if pending_or && !last.negated && !negated => last.any_of.push(atom),
                    _ => clauses.push(Clause { negated, any_of: vec![atom] }),
                }
                pending_or = false;
                pending_not = false;
            }
        }
    }
    if clauses.is_empty() && input.trim().is_empty() {
        return Err(Error::Query("empty query".into()));
    }
    Ok(clauses)
}

/// Full-width ASCII and the ideographic space become ASCII, so `ｔｉｔｌｅ：` and `－` work.
fn fold_query_char(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

fn lex(input: &str) -> Result<Vec<Item>> {
    let chars: Vec<char> = input.chars().collect();
    let mut items: Vec<Item> = Vec::new();
    // Where each open parenthesis's items start: `(a OR b)^2` boosts a and b.
    let mut groups: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '(' {
            groups.push(items.len());
        }
        if c == ')'
            && let Some(start) = groups.pop()
            && let Some((boost, after)) = boost_after(&chars, i)
        {
            items[start..].iter_mut().for_each(|item| item.boost_by(boost));
            i = after;
            continue;
        }
        if c.is_whitespace() || c == '(' || c == ')' {
            i += 1;
            continue;
        }
        let negated = c == '-' && chars.get(i + 1).is_some_and(|n| !n.is_whitespace());
        if negated {
            i += 1;
        }
        // A field prefix is a known name followed by ':'.
        let mut scope = Scope::All;
        let mut is_date = false;
        if let Some(colon) = chars[i..].iter().take(8).position(|&c| c == ':') {
            let name: String = chars[i..i + colon].iter().collect::<String>().to_ascii_lowercase();
            let known = match name.as_str() {
                "title" => Some(Scope::Title),
                "zh" => Some(Scope::Zh),
                "en" => Some(Scope::En),
                "source" => Some(Scope::Source),
                "date" => {
                    is_date = true;
                    Some(Scope::All)
                }
                _ => None,
            };
            if let Some(s) = known {
                scope = s;
                i += colon + 1;
            }
        }
        let Some(&first) = chars.get(i) else { break };
        if is_date {
            let (atom, next) = lex_date(&chars, i)?;
            items.push(Item::Atom { negated, atom });
            i = next;
            continue;
        }
        if let Some(close) = closing_quote(first) {
            let Some(end) = chars[i + 1..].iter().position(|&c| c == close).map(|p| i + 1 + p) else {
                // No partner: not a phrase, and not part of a word either.
                i += 1;
                continue;
            };
            let text: String = chars[i + 1..end].iter().collect();
            let boosted = boost_after(&chars, end);
            if !text.trim().is_empty() {
                let boost = boosted.map_or(Boost::NONE, |(boost, _)| boost);
                let atom = Atom::Text { scope, text, quoted: true, prefix: false, fuzzy: 0, boost };
                items.push(Item::Atom { negated, atom });
            }
            i = boosted.map_or(end + 1, |(_, after)| after);
            continue;
        }
        let end = chars[i..].iter().position(|&c| is_separator(c)).map_or(chars.len(), |p| i + p);
        let word: String = chars[i..end].iter().collect();
        i = end;
        match word.as_str() {
            "OR" | "||" if !negated && scope == Scope::All => items.push(Item::Or),
            "AND" | "&&" if !negated && scope == Scope::All => items.push(Item::And),
            "NOT" if !negated && scope == Scope::All => items.push(Item::Not),
            _ => {
                if let Some(atom) = word_atom(scope, &word) {
                    items.push(Item::Atom { negated, atom });
                }
            }
        }
    }
    Ok(items)
}

/// The `^N` boost written right after `chars[at]`, a closing quote or parenthesis
/// (`"entity list"^2`, `(a OR b)^2`), and where the query goes on after it.
fn boost_after(chars: &[char], at: usize) -> Option<(Boost, usize)> {
    let end = chars[at + 1..].iter().position(|&c| is_separator(c)).map_or(chars.len(), |p| at + 1 + p);
    boost_suffix(&chars[at + 1..end].iter().collect::<String>()).map(|boost| (boost, end))
}

/// `N` of a `^N` suffix (`^2`, `^0.5`) as a boost; `None` when `suffix` is not one.
fn boost_suffix(suffix: &str) -> Option<Boost> {
    let number = suffix.strip_prefix('^')?;
    let well_formed = number.starts_with(|c: char| c.is_ascii_digit())
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.matches('.').count() <= 1;
    let value: f32 = number.parse().ok().filter(|_| well_formed)?;
    (value > 0.0 && value.is_finite()).then(|| Boost(value.min(MAX_BOOST)))
}

/// A bare word with its `*` (prefix) or `~N` (fuzzy) suffix, then its `^N` (boost) suffix.
fn word_atom(scope: Scope, word: &str) -> Option<Atom> {
    let (mut text, mut boost) = (word, Boost::NONE);
    // Not a boost alone (`^2` is a search for the symbol and the number, as before).
    if let Some(caret) = text.rfind('^').filter(|&caret| caret > 0)
        && let Some(found) = boost_suffix(&text[caret..])
    {
        text = &text[..caret];
        boost = found;
    }
    let (mut prefix, mut fuzzy) = (false, 0);
    if let Some(stripped) = text.strip_suffix('*') {
        text = stripped;
        prefix = true;
    } else if let Some(tilde) = text.rfind('~') {
        let distance = &text[tilde + 1..];
        if distance.is_empty() || distance.chars().all(|c| c.is_ascii_digit()) {
            fuzzy = distance.parse::<u8>().unwrap_or(1).clamp(1, 2);
            text = &text[..tilde];
        }
    }
    // Symbols the character field holds (😀, ★) are something to search for, too.
    let has_content = text.chars().any(|c| c.is_alphanumeric() || crate::analysis::script::is_gram_extra(c));
    has_content.then(|| Atom::Text { scope, text: text.to_string(), quoted: false, prefix, fuzzy, boost })
}

/// `date:[A TO B]` (either end `*`), `date:{A TO B}`, or `date:A` (that day).
fn lex_date(chars: &[char], start: usize) -> Result<(Atom, usize)> {
    let bracket = matches!(chars[start], '[' | '{');
    let end = if bracket {
        chars[start..].iter().position(|&c| c == ']' || c == '}').map_or(chars.len(), |p| start + p + 1)
    } else {
        chars[start..].iter().position(|c| c.is_whitespace()).map_or(chars.len(), |p| start + p)
    };
    let raw: String = chars[start..end].iter().collect();
    let bound = |s: &str| -> Result<Option<Date>> {
        match s.trim() {
            "" | "*" => Ok(None),
            s => Date::parse_strict(s).map(Some),
        }
    };
    let atom = if bracket {
        let inner = raw.trim_start_matches(['[', '{']).trim_end_matches([']', '}']);
        let (from, to) = inner
            .split_once(" TO ")
            .or_else(|| inner.split_once(" to "))
            .or_else(|| inner.split_once(".."))
            .ok_or_else(|| Error::Query(format!("date range {raw:?} needs the form [2023-11-01 TO 2023-12-31]")))?;
        Atom::Dates { from: bound(from)?, to: bound(to)? }
    } else {
        let day = bound(&raw)?;
        Atom::Dates { from: day, to: day }
    };
    Ok((atom, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(scope: Scope, t: &str) -> Atom {
        Atom::Text { scope, text: t.into(), quoted: false, prefix: false, fuzzy: 0, boost: Boost::NONE }
    }

    fn clause(negated: bool, atoms: Vec<Atom>) -> Clause {
        Clause { negated, any_of: atoms }
    }

    #[test]
    fn words_are_separate_required_clauses() {
        assert_eq!(
            parse("芬太尼 entity").unwrap(),
            vec![clause(false, vec![text(Scope::All, "芬太尼")]), clause(false, vec![text(Scope::All, "entity")])]
        );
    }

    #[test]
    fn or_groups_neighbours_and_not_negates() {
        let got = parse("a OR b -c NOT d").unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], clause(false, vec![text(Scope::All, "a"), text(Scope::All, "b")]));
        assert_eq!(got[1], clause(true, vec![text(Scope::All, "c")]));
        assert_eq!(got[2], clause(true, vec![text(Scope::All, "d")]));
    }

    #[test]
    fn phrases_fields_prefix_and_fuzzy() {
        let got = parse("title:\"entity list\" zh:芬太尼 fent* fentanil~ opioid~2").unwrap();
        assert_eq!(
            got[0].any_of[0],
            Atom::Text {
                scope: Scope::Title,
                text: "entity list".into(),
                quoted: true,
                prefix: false,
                fuzzy: 0,
                boost: Boost::NONE
            }
        );
        assert_eq!(got[1].any_of[0], text(Scope::Zh, "芬太尼"));
        assert!(matches!(&got[2].any_of[0], Atom::Text { prefix: true, text, .. } if text == "fent"));
        assert!(matches!(&got[3].any_of[0], Atom::Text { fuzzy: 1, text, .. } if text == "fentanil"));
        assert!(matches!(&got[4].any_of[0], Atom::Text { fuzzy: 2, .. }));
    }

    #[test]
    fn boosts_follow_words_phrases_prefixes_and_fuzzy_words() {
        let boost_of = |atom: &Atom| match atom {
            Atom::Text { boost, .. } => boost.0,
            Atom::Dates { .. } => panic!("a text atom"),
        };
        let got = parse("oil^2 \"entity list\"^0.5 title:芬太尼^3 fent*^4 fentanil~2^1.5 big^5000").unwrap();
        let boosts: Vec<f32> = got.iter().map(|c| boost_of(&c.any_of[0])).collect();
        assert_eq!(boosts, vec![2.0, 0.5, 3.0, 4.0, 1.5, MAX_BOOST]);
        assert!(matches!(&got[0].any_of[0], Atom::Text { text, .. } if text == "oil"));
        assert!(matches!(&got[1].any_of[0], Atom::Text { text, quoted: true, .. } if text == "entity list"));
        assert!(matches!(&got[2].any_of[0], Atom::Text { scope: Scope::Title, text, .. } if text == "芬太尼"));
        assert!(matches!(&got[3].any_of[0], Atom::Text { text, prefix: true, .. } if text == "fent"));
        assert!(matches!(&got[4].any_of[0], Atom::Text { text, fuzzy: 2, .. } if text == "fentanil"));
    }

    #[test]
    fn a_group_boost_reaches_each_word_of_the_group() {
        let got = parse("(oil OR gas^2)^3 coal (\"entity list\")^0.5").unwrap();
        let boosts: Vec<(String, f32)> = got
            .iter()
            .flat_map(|c| &c.any_of)
            .map(|a| match a {
                Atom::Text { text, boost, .. } => (text.clone(), boost.0),
                Atom::Dates { .. } => panic!("a text atom"),
            })
            .collect();
        let expected = [("oil", 3.0), ("gas", 6.0), ("coal", 1.0), ("entity list", 0.5)];
        assert_eq!(boosts, expected.map(|(t, b)| (t.to_string(), b)).to_vec());
        // A closing parenthesis without its partner boosts nothing.
        assert!(matches!(&parse("oil)^2").unwrap()[0].any_of[0], Atom::Text { boost: Boost::NONE, .. }));
    }

    #[test]
    fn what_is_not_a_boost_is_searched_as_before() {
        // No number, zero, a bare caret, a second dot: the text stays as typed.
        for query in ["oil^", "oil^x", "oil^0", "^2", "oil^1.2.3", "oil^-1", "\"entity list\"^"] {
            let got = parse(query).unwrap();
            assert!(
                got.iter().flat_map(|c| &c.any_of).all(|a| matches!(a, Atom::Text { boost: Boost::NONE, .. })),
                "{query}: {got:?}"
            );
        }
        assert!(matches!(&parse("oil^x").unwrap()[0].any_of[0], Atom::Text { text, .. } if text == "oil^x"));
    }

    #[test]
    fn chinese_quotes_and_full_width_syntax() {
        let got = parse("“实体清单” ｔｉｔｌｅ：芬太尼").unwrap();
        assert!(matches!(&got[0].any_of[0], Atom::Text { quoted: true, text, .. } if text == "实体清单"));
        assert_eq!(got[1].any_of[0], text(Scope::Title, "芬太尼"));
    }

    #[test]
    fn dates() {
        let got = parse("date:[2023-11-01 TO *] date:2023-11-14").unwrap();
        assert_eq!(got[0].any_of[0], Atom::Dates { from: Date::new(2023, 11, 1), to: None });
        let day = Date::new(2023, 11, 14);
        assert_eq!(got[1].any_of[0], Atom::Dates { from: day, to: day });
        assert!(parse("date:[2023-13-01 TO *]").unwrap_err().to_string().contains("2023-13-01"));
        assert!(parse("date:[2023-11-01]").unwrap_err().to_string().contains("TO"));
    }

    #[test]
    fn lenient_with_malformed_input() {
        // A quote mark without its partner is ignored: the words are searched.
        assert_eq!(
            parse("\"unclosed phrase").unwrap(),
            vec![clause(false, vec![text(Scope::All, "unclosed")]), clause(false, vec![text(Scope::All, "phrase")])]
        );
        let question = "“吾无汗马劳，后当献于上。\"这句话是什么意思？";
        assert!(has_unpaired_quote(question) && has_unpaired_quote("a \" b"));
        assert!(
            parse(question)
                .unwrap()
                .iter()
                .all(|c| c.any_of.iter().all(|a| matches!(a, Atom::Text { quoted: false, .. })))
        );
        assert!(!has_unpaired_quote("\"entity list\" “实体清单”"));
        assert_eq!(parse("OR a OR").unwrap(), vec![clause(false, vec![text(Scope::All, "a")])]);
        assert_eq!(parse("http://x.org").unwrap()[0].any_of[0], text(Scope::All, "http://x.org"));
        assert_eq!(parse("((a))").unwrap()[0].any_of[0], text(Scope::All, "a"));
        for empty in ["", "   "] {
            assert!(parse(empty).is_err(), "{empty:?}");
        }
        // Something typed, nothing searchable in it: a search that finds nothing, not an error.
        for nothing in ["OR", "-", "\"\"", "!!!", "NOT"] {
            assert_eq!(parse(nothing).unwrap(), vec![], "{nothing:?}");
        }
    }

    mod fuzz {
        //! Property tests: any query text parses or fails cleanly. Longer runs:
        //! `PROPTEST_CASES=200000 cargo test --release fuzz`.
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parsing_never_panics(query in any::<String>()) {
                let _ = parse(&query);
            }

            #[test]
            fn syntax_soup_never_panics(query in "([\"“”「」()\\-*~:\\[\\]{} ]|OR|AND|NOT|TO|date:|title:|zh:|en|2023-11-01|芬太尼|fent|\u{3000}|：){0,20}") {
                if let Ok(clauses) = parse(&query) {
                    prop_assert!(!clauses.is_empty() || !query.trim().is_empty());
                    prop_assert!(clauses.iter().all(|c| !c.any_of.is_empty()));
                }
            }
        }
    }
}
