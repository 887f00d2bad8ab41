//! Normalization before segmentation: full-width letters and digits → ASCII, Traditional →
//! Simplified, with a map from normalized byte offsets back to the original text.
//!
//! Index and query text go through the same function, so 實體清單 and 实体清单, ＣＯＶＩＤ－１９
//! and COVID-19 produce the same terms. Lowercasing is left to the Latin tokenizer, which
//! lowercases per token exactly like tantivy's `LowerCaser`. Full-width punctuation and the
//! ideographic space stay as they are: they separate tokens just like their ASCII forms, and
//! leaving them keeps ordinary Chinese text (full of ，and ：) byte-for-byte the same, so it
//! needs no offset map.

use std::borrow::Cow;

use super::script::{self, is_han};

/// Text after normalization, and how to get back to the original byte offsets.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    /// The normalized text.
    pub text: Cow<'a, str>,
    /// For every byte offset of `text` (and one past the end), the original byte offset of the
    /// character it belongs to. `None` when the two texts have identical byte layouts.
    map: Option<Vec<u32>>,
}

impl Normalized<'_> {
    /// The original byte offset that corresponds to byte `offset` of the normalized text.
    pub fn original_offset(&self, offset: usize) -> usize {
        match &self.map {
            None => offset,
            Some(map) => map[offset] as usize,
        }
    }
}

/// Maps one character to its normalized form, ignoring Traditional → Simplified: full-width
/// letters and digits become ASCII (by a fixed offset); everything else stays.
fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn needs_width_fold(c: char) -> bool {
    fold_width(c) != c
}

/// Normalizes `text`; borrows it unchanged when nothing needs folding or converting.
pub fn normalize(text: &str) -> Normalized<'_> {
    normalize_with(text, true)
}

/// Texts with Chinese remembered per thread, so the recall field reuses what the word field
/// computed for the same text moments before (tantivy indexes one document's fields in turn).
const RECENT_TEXTS: usize = 4;

/// An original text, its normalized form (`None`: the text itself) and offset map.
type Remembered = (Box<str>, Option<Box<str>>, Option<Vec<u32>>);

thread_local! {
    static RECENT: std::cell::RefCell<std::collections::VecDeque<Remembered>> = Default::default();
}

/// [`normalize`], remembering the last few converted texts of this thread: indexing normalizes
/// each Chinese text twice (word and character fields), and the second time is a copy.
pub fn normalize_recent(text: &str) -> Normalized<'_> {
    if text.is_ascii() {
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    RECENT.with_borrow_mut(|recent| {
        if let Some((_, normalized, map)) = recent.iter().find(|(original, _, _)| &**original == text) {
            let text = normalized.as_ref().map_or(Cow::Borrowed(text), |n| Cow::Owned(n.to_string()));
            return Normalized { text, map: map.clone() };
        }
        let result = normalize(text);
        if recent.len() == RECENT_TEXTS {
            recent.pop_back();
        }
        // Text that normalizes to itself is remembered too: copying and comparing it costs a
        // fraction of scanning it again.
        let normalized = match &result.text {
            Cow::Owned(normalized) => Some(normalized.as_str().into()),
            Cow::Borrowed(_) => None,
        };
        recent.push_front((text.into(), normalized, result.map.clone()));
        result
    })
}

/// Only full-width → half-width: enough to match Latin words, and it never initializes the
/// Traditional → Simplified tables (~3 ms), which an English-only query should not pay for.
pub fn fold_width_only(text: &str) -> Normalized<'_> {
    normalize_with(text, false)
}

fn normalize_with(text: &str, simplify: bool) -> Normalized<'_> {
    if text.is_ascii() {
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    let (has_wide, convertible) = scan(text, simplify);
    if !has_wide && !convertible {
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    let converted: Cow<'_, str> = if convertible { simplify_runs(text) } else { Cow::Borrowed(text) };
    if !has_wide && converted == text {
        // Simplified text already: the common case.
        return Normalized { text: Cow::Borrowed(text), map: None };
    }
    // OpenCC converts phrases; one that changed length would break the character alignment
    // that highlighting relies on. Then convert run by run, character by character if needed.
    if converted.len() != text.len() || converted.chars().count() != text.chars().count() {
        return normalize_by_runs(text, has_wide);
    }
    if !has_wide {
        return Normalized { text: converted, map: None };
    }
    // Width folding changes byte lengths (3-byte full-width → 1-byte ASCII): map offsets.
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    for ((i, _), c) in text.char_indices().zip(converted.chars()) {
        let folded = fold_width(c);
        out.push(folded);
        map.extend(std::iter::repeat_n(i as u32, folded.len_utf8()));
    }
    map.push(text.len() as u32);
    Normalized { text: Cow::Owned(out), map: Some(map) }
}

/// Converts each Han run on its own, keeping an offset map.
fn normalize_by_runs(text: &str, has_wide: bool) -> Normalized<'_> {
    let mut out = String::with_capacity(text.len());
    let mut map: Option<Vec<u32>> = has_wide.then(|| Vec::with_capacity(text.len() + 1));
    for run in script::runs(text) {
        let piece = &text[run.start..run.end];
        if run.han {
            push_simplified(piece, run.start, &mut out, map.as_mut());
        } else {
            for (i, c) in piece.char_indices() {
                let folded = fold_width(c);
                out.push(folded);
                if let Some(map) = map.as_mut() {
                    map.extend(std::iter::repeat_n((run.start + i) as u32, folded.len_utf8()));
                }
            }
        }
    }
    if let Some(map) = map.as_mut() {
        map.push(text.len() as u32);
    }
    if map.is_none() && out.len() != text.len() {
        // A character outside the BMP mapped into it, or back: rebuild with an explicit map.
        return normalize_with_map(text);
    }
    Normalized { text: Cow::Owned(out), map }
}

/// Slow path: always builds the map, converting one character at a time.
fn normalize_with_map(text: &str) -> Normalized<'_> {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    for (i, c) in text.char_indices() {
        let before = out.len();
        if is_han(c) {
            let mut buf = [0u8; 4];
            out.push_str(&to_simplified(c.encode_utf8(&mut buf)));
        } else {
            out.push(fold_width(c));
        }
        map.extend(std::iter::repeat_n(i as u32, out.len() - before));
    }
    map.push(text.len() as u32);
    Normalized { text: Cow::Owned(out), map: Some(map) }
}

/// Converts a Han run to Simplified, character for character so offsets stay aligned.
fn push_simplified(han: &str, start: usize, out: &mut String, map: Option<&mut Vec<u32>>) {
    let converted = if has_trigger(han) { to_simplified(han) } else { han.to_string() };
    // zhconv converts phrases; a phrase that changes length would break the one-to-one
    // character alignment that highlighting relies on, so fall back to single characters.
    let aligned = converted.chars().count() == han.chars().count();
    let push_char = |orig_index: usize, c: char, out: &mut String, map: Option<&mut Vec<u32>>| {
        out.push(c);
        if let Some(map) = map {
            map.extend(std::iter::repeat_n((start + orig_index) as u32, c.len_utf8()));
        }
    };
    let mut map = map;
    if aligned {
        for ((i, _), c) in han.char_indices().zip(converted.chars()) {
            push_char(i, c, out, map.as_deref_mut());
        }
    } else {
        for (i, c) in han.char_indices() {
            let mut buf = [0u8; 4];
            let single = to_simplified(c.encode_utf8(&mut buf));
            let c = single.chars().next().unwrap_or(c);
            push_char(i, c, out, map.as_deref_mut());
        }
    }
}

/// Whether `text` has full-width letters or digits, and (when `simplify`) a character that a
/// Traditional → Simplified rule needs. Every text indexed passes through here, so it reads
/// bytes: both kinds are three-byte characters, except Han beyond the BMP (four bytes).
fn scan(text: &str, simplify: bool) -> (bool, bool) {
    let bytes = text.as_bytes();
    // Width folding alone never builds the trigger set (an English query need not pay for it).
    let triggers: Option<&CharSet> = simplify.then(|| &*CONVERSION_TRIGGERS);
    let (mut has_wide, mut convertible) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        if lead < 0xE0 {
            // ASCII, or a byte of a two-byte character: skip to the next wider character.
            i = script::next_wide_char(bytes, i);
            continue;
        }
        let len = if lead < 0xF0 {
            // Three bytes, decoded here: the hot case (all of Chinese text).
            let code = script::three_byte_code(bytes, i);
            has_wide |= code >= 0xFF10 && char::from_u32(code).is_some_and(needs_width_fold);
            convertible |= triggers.is_some_and(|t| t.contains_bmp(code));
            3
        } else {
            let (c, len) = script::char_at(text, i);
            convertible |= triggers.is_some_and(|t| t.contains(c));
            len
        };
        if has_wide && (convertible || !simplify) {
            break;
        }
        i += len;
    }
    (has_wide, convertible)
}

/// `text` with its Han runs converted to Simplified. Only runs with a trigger character are
/// converted (every conversion rule is Han characters only, so none spans two runs): a
/// judgment that names a 沈 converts that clause, not the whole judgment.
fn simplify_runs(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    for run in script::runs(text).filter(|run| run.han) {
        let piece = &text[run.start..run.end];
        if !has_trigger(piece) {
            continue;
        }
        let converted = to_simplified(piece);
        if converted != piece {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..run.start]);
            out.push_str(&converted);
            copied = run.end;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Whether `han` has a character that some conversion rule needs (a Traditional one).
fn has_trigger(han: &str) -> bool {
    han.chars().any(|c| CONVERSION_TRIGGERS.contains(c))
}

/// A set of characters: a bitmap over the Basic Multilingual Plane, a sorted list beyond it.
struct CharSet {
    bmp: Vec<u64>,
    beyond: Vec<char>,
}

impl CharSet {
    fn new(chars: impl IntoIterator<Item = char>) -> Self {
        let mut set = CharSet { bmp: vec![0; 0x1_0000 / 64], beyond: Vec::new() };
        for c in chars {
            match usize::try_from(c as u32).ok().filter(|&code| code < 0x1_0000) {
                Some(code) => set.bmp[code / 64] |= 1 << (code % 64),
                None => set.beyond.push(c),
            }
        }
        set.beyond.sort_unstable();
        set.beyond.dedup();
        set
    }

    /// Whether the set has the BMP character with this code point (below 0x10000).
    #[inline]
    fn contains_bmp(&self, code: u32) -> bool {
        let code = code as usize;
        self.bmp[code / 64] & (1 << (code % 64)) != 0
    }

    #[inline]
    fn contains(&self, c: char) -> bool {
        if (c as u32) < 0x1_0000 { self.contains_bmp(c as u32) } else { self.beyond.binary_search(&c).is_ok() }
    }
}

/// zhconv's Traditional → Simplified rules, split by whether they can change Simplified text.
struct Rules {
    /// Rules with at least one Traditional character (one that a one-character rule converts).
    kept: Vec<(String, String)>,
    /// Rules made only of characters valid in Simplified text (打坏 → 打坯, 沈默 → 沉默). They
    /// are left out: they would rewrite Simplified documents, so that a query for a piece of
    /// the phrase (坏 in 打坏) no longer finds them.
    simplified_only: Vec<(String, String)>,
}

/// Read once from zhconv's tables (~1.3 ms); the trigger set, the one-character map and the
/// converter all derive from it.
static RULES: std::sync::LazyLock<Rules> = std::sync::LazyLock::new(rules);

fn rules() -> Rules {
    use zhconv::{Variant, ZhConverterBuilder, get_builtin_tables};
    let mapping =
        ZhConverterBuilder::new().target(Variant::ZhHans).tables(get_builtin_tables(Variant::ZhHans)).build_mapping();
    let traditional: std::collections::HashSet<char> = mapping
        .iter()
        .filter(|(from, to)| from != to && from.chars().count() == 1)
        .flat_map(|(f, _)| f.chars())
        .collect();
    let (kept, simplified_only) = mapping
        .into_iter()
        .filter(|(from, to)| from != to)
        .partition(|(from, _)| from.chars().any(|c| traditional.contains(&c)));
    Rules { kept, simplified_only }
}

/// The Traditional characters: text without any converts to itself, so the conversion
/// (~0.6 GB/s, and ~3 ms to set up) is skipped for the Simplified text that most Chinese
/// corpora are. Every rule kept has one. Shipped as a list (`data/zhconv/`) rather than
/// derived from zhconv's tables at run time, which took 1.4–1.7 ms of every query process
/// that normalized a Chinese text, most of a cold Chinese query's 8 ms; a test checks that the
/// list is what the tables give ([`derived_conversion_triggers`]).
static CONVERSION_TRIGGERS: std::sync::LazyLock<CharSet> = std::sync::LazyLock::new(|| {
    CharSet::new(include_str!("../../data/zhconv/traditional.txt").chars().filter(|c| !c.is_whitespace()))
});

/// The trigger characters as zhconv's tables give them: the `from` side of every one-character
/// rule kept.
#[cfg(test)]
fn derived_conversion_triggers() -> std::collections::BTreeSet<char> {
    RULES.kept.iter().filter(|(from, _)| from.chars().count() == 1).flat_map(|(f, _)| f.chars()).collect()
}

/// The one-character rules: each Traditional character's Simplified form on its own.
static SIMPLIFIED_CHARS: std::sync::LazyLock<std::collections::HashMap<char, char>> = std::sync::LazyLock::new(|| {
    let one = |s: &str| {
        let mut chars = s.chars();
        chars.next().filter(|_| chars.next().is_none())
    };
    RULES.kept.iter().filter_map(|(from, to)| Some((one(from)?, one(to)?))).collect()
});

/// `c` converted to Simplified on its own, without the phrases around it.
pub fn simplified_char(c: char) -> char {
    SIMPLIFIED_CHARS.get(&c).copied().unwrap_or(c)
}

/// zhconv's converter without the rules that only rewrite Simplified characters.
static CONVERTER: std::sync::LazyLock<zhconv::ZhConverter> = std::sync::LazyLock::new(|| {
    use zhconv::{Variant, ZhConverterBuilder, get_builtin_tables};
    ZhConverterBuilder::new()
        .target(Variant::ZhHans)
        .tables(get_builtin_tables(Variant::ZhHans))
        .unconv_pairs(RULES.simplified_only.iter().cloned())
        .build()
});

fn to_simplified(han: &str) -> String {
    CONVERTER.convert(han)
}

/// Characters OpenCC's table gives a Simplified reading first and also keeps as themselves
/// (`於 → 于 於`): valid in Simplified text, so zhconv leaves them, and with them the most common
/// Traditional words never met their Simplified form (關於 was indexed as 关於, not 关于).
/// Each maps to its Simplified reading, which the character field also holds at its place.
/// Derived from the shipped table (data/opencc/TSCharacters.txt).
static SHARED_CHARS: std::sync::LazyLock<rustc_hash::FxHashMap<char, char>> = std::sync::LazyLock::new(|| {
    let table = include_str!("../../data/opencc/TSCharacters.txt");
    let mut shared = rustc_hash::FxHashMap::default();
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let Some((key, values)) = line.split_once('\t') else { continue };
        let mut key_chars = key.chars();
        let (Some(c), None) = (key_chars.next(), key_chars.next()) else { continue };
        let targets: Vec<char> = values.split(' ').filter_map(|v| v.chars().next()).collect();
        if targets.len() > 1 && targets[0] != c && targets.contains(&c) {
            shared.insert(c, targets[0]);
        }
    }
    shared
});

/// The Simplified reading of a character that Simplified text also uses as it is (see
/// `SHARED_CHARS`): 於 → 于, 乾 → 干, 徵 → 征.
pub fn shared_reading(c: char) -> Option<char> {
    // All are Han and reading triggers; most characters are ruled out without the table, which
    // is only read in when a query or text holds one of them.
    if !is_han(c) || !is_reading_trigger(c) {
        return None;
    }
    SHARED_CHARS.get(&c).copied()
}

/// Phrase rules that zhconv's converter leaves out because they only hold characters valid in
/// Simplified text (沈厚 → 沉厚, 甦醒 → 苏醒, 藉由 → 借由; see [`Rules::simplified_only`]), kept
/// as readings instead: where one matches, the character field holds the converted characters
/// beside the originals. By first character.
static PHRASE_READINGS: std::sync::LazyLock<PhrasesByFirst> = std::sync::LazyLock::new(|| {
    let mut by_first = PhrasesByFirst::default();
    for (from, to) in &RULES.simplified_only {
        let (from, to): (Vec<char>, Vec<char>) = (from.chars().collect(), to.chars().collect());
        if from.len() == to.len() && from.len() > 1 {
            by_first.entry(from[0]).or_default().push((from, to));
        }
    }
    by_first
});

/// The characters second readings can start at ([`is_reading_trigger`]): shared characters and
/// first characters of phrase rules kept as readings, as a bitmap. Shipped as a list like
/// [`CONVERSION_TRIGGERS`], for the same reason: every Chinese query asks it of its characters,
/// and deriving it builds zhconv's rules (1.4–1.7 ms); a test checks the list
/// ([`derived_reading_triggers`]).
static READING_TRIGGERS: std::sync::LazyLock<CharSet> = std::sync::LazyLock::new(|| {
    CharSet::new(include_str!("../../data/zhconv/reading-triggers.txt").chars().filter(|c| !c.is_whitespace()))
});

/// The reading triggers as the tables give them.
#[cfg(test)]
fn derived_reading_triggers() -> std::collections::BTreeSet<char> {
    SHARED_CHARS.keys().chain(PHRASE_READINGS.keys()).copied().collect()
}

/// Phrase rules (`from`, `to`, as characters) by the first character of `from`.
type PhrasesByFirst = rustc_hash::FxHashMap<char, Vec<(Vec<char>, Vec<char>)>>;

/// Second readings of the characters of a normalized Han run: `(index of the character in the
/// run, reading)` in order, for shared characters (於 → 于) and characters of phrase rules kept
/// as readings (沈厚 → 沉厚). Empty for almost every run.
pub fn readings(run: &str) -> Vec<(usize, char)> {
    let mut out = Vec::new();
    // Indexing asks this of every Han run: one bitmap look-up per character rules out all but
    // the few that have a reading or start a phrase rule (打 starts one: 打坏 → 打坯).
    for (i, (at, c)) in run.char_indices().enumerate().filter(|(_, (_, c))| is_reading_trigger(*c)) {
        readings_from(c, &run[at..], |j, reading| out.push((i + j, reading)));
    }
    if out.len() > 1 {
        out.sort_unstable();
        out.dedup();
    }
    out
}

/// Whether second readings can start at `c` (see [`readings_from`]): a bitmap look-up.
#[inline]
pub fn is_reading_trigger(c: char) -> bool {
    READING_TRIGGERS.contains(c)
}

/// The second readings that start at `c`, the first character of `rest` (normalized text from
/// `c` on): `emit(j, reading)` for the character `j` places after `c` (0: `c` itself), in no
/// particular order and possibly twice. A phrase rule matches within Han text only, as its
/// characters are all Han.
pub fn readings_from(c: char, rest: &str, mut emit: impl FnMut(usize, char)) {
    if let Some(reading) = shared_reading(c) {
        emit(0, reading);
    }
    for (from, to) in PHRASE_READINGS.get(&c).into_iter().flatten() {
        if rest.chars().take(from.len()).eq(from.iter().copied()) {
            from.iter().zip(to).enumerate().filter(|(_, (a, b))| a != b).for_each(|(j, (_, &b))| emit(j, b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped list (see `CONVERSION_TRIGGERS`), 64 characters a line.
    fn trigger_list(chars: &std::collections::BTreeSet<char>) -> String {
        let chars: Vec<char> = chars.iter().copied().collect();
        chars.chunks(64).map(|line| line.iter().collect::<String>() + "\n").collect()
    }

    /// `data/zhconv/NAME` holds `expected`; with `SOU_WRITE_TRIGGERS` set (after a zhconv or
    /// table upgrade) it is written first.
    fn check_shipped_list(name: &str, expected: &std::collections::BTreeSet<char>, shipped: &CharSet) {
        let path = format!("{}/data/zhconv/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = trigger_list(expected);
        if std::env::var_os("SOU_WRITE_TRIGGERS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        assert!(
            std::fs::read_to_string(&path).unwrap() == text,
            "{path} is stale (zhconv or the table changed?): regenerate it with \
             `SOU_WRITE_TRIGGERS=1 cargo test the_shipped_`"
        );
        // What the code reads is what the file holds.
        assert!(expected.iter().all(|&c| shipped.contains(c)));
    }

    #[test]
    fn the_shipped_conversion_triggers_are_what_zhconvs_tables_give() {
        check_shipped_list("traditional.txt", &derived_conversion_triggers(), &CONVERSION_TRIGGERS);
    }

    #[test]
    fn the_shipped_reading_triggers_are_what_the_tables_give() {
        check_shipped_list("reading-triggers.txt", &derived_reading_triggers(), &READING_TRIGGERS);
    }

    #[test]
    fn shared_characters_come_from_the_table_and_zhconv_leaves_them() {
        // The characters reported, and more: about twenty common ones (obscure ones besides).
        for (c, reading) in [
            ('於', '于'),
            ('乾', '干'),
            ('徵', '征'),
            ('釐', '厘'),
            ('昇', '升'),
            ('陞', '升'),
            ('祕', '秘'),
            ('蒐', '搜'),
            ('脩', '修'),
            ('谿', '溪'),
            ('剋', '克'),
            ('氾', '泛'),
        ] {
            assert_eq!(shared_reading(c), Some(reading), "{c}");
        }
        assert!(SHARED_CHARS.len() >= 15, "{}", SHARED_CHARS.len());
        for &c in SHARED_CHARS.keys() {
            let text = c.to_string();
            assert_eq!(normalize(&text).text, text, "zhconv converts {c} after all");
        }
        assert_eq!(shared_reading('关'), None);
        assert_eq!(shared_reading('a'), None);
    }

    #[test]
    fn runs_get_second_readings_of_shared_characters_and_kept_phrases() {
        assert_eq!(readings("关於"), vec![(1, '于')]);
        assert_eq!(readings("乾隆皇帝"), vec![(0, '干')]);
        assert_eq!(readings("沈厚"), vec![(0, '沉')]);
        assert_eq!(readings("他藉由"), vec![(1, '借')]);
        assert!(readings("实体清单").is_empty());
    }

    #[test]
    fn plain_text_is_borrowed() {
        let n = normalize("entity list");
        assert!(matches!(n.text, Cow::Borrowed(_)));
        let n = normalize("实体清单");
        assert!(matches!(n.text, Cow::Borrowed(_)));
    }

    #[test]
    fn folds_full_width_and_maps_offsets_back() {
        let original = "ＣＯＶＩＤ－１９疫苗";
        let n = normalize(original);
        assert_eq!(n.text, "COVID－19疫苗");
        // "疫" starts at normalized byte 10, original byte 24.
        assert_eq!(n.original_offset(10), 24);
        assert_eq!(n.original_offset(n.text.len()), original.len());
        assert_eq!(n.original_offset(1), 3);
    }

    #[test]
    fn converts_traditional_to_simplified() {
        assert_eq!(normalize("實體清單").text, "实体清单");
        assert_eq!(normalize("法醫科學研究院").text, "法医科学研究院");
        // Phrase-level tables (OpenCC): 計畫 is 计划, not the character-by-character 计画.
        assert_eq!(normalize("頭髮 and 計畫").text, "头发 and 计划");
    }

    #[test]
    fn remembered_texts_normalize_the_same() {
        for text in
            ["ＣＯＶＩＤ－１９疫苗", "實體清單", "实体清单", "plain", "ＣＯＶＩＤ－１９疫苗", "实体清单", "實體清單"]
        {
            let (a, b) = (normalize(text), normalize_recent(text));
            assert_eq!(a.text, b.text);
            for i in 0..=a.text.len() {
                if a.text.is_char_boundary(i) {
                    assert_eq!(a.original_offset(i), b.original_offset(i));
                }
            }
        }
    }

    #[test]
    fn width_only_leaves_han_alone() {
        let n = fold_width_only("實體ＡＢ");
        assert_eq!(n.text, "實體AB");
        assert_eq!(n.original_offset(7), 9);
    }

    #[test]
    fn simplified_text_is_never_rewritten() {
        // OpenCC's tables would turn 打坏 into 打坯: then 坏 would not find the document.
        for text in ["他打坏了车", "一坏土", "沈默寡言的沈先生", "借口和藉口"] {
            assert_eq!(normalize(text).text, text);
        }
        // Traditional text still converts, phrases included.
        assert_eq!(normalize("打壞").text, "打坏");
        assert_eq!(normalize("計畫").text, "计划");
        assert!(!RULES.simplified_only.is_empty());
    }

    #[test]
    fn conversion_rules_are_han_only_so_runs_convert_alone() {
        assert!(RULES.kept.iter().chain(&RULES.simplified_only).all(|(from, _)| from.chars().all(is_han)));
        let text = "沈默是金，實體清單 and 沈默寡言。计划";
        assert_eq!(simplify_runs(text), to_simplified(text));
    }

    #[test]
    fn text_without_trigger_characters_converts_to_itself() {
        // Every BMP Han character outside the trigger set, in runs, converts to itself.
        let plain: Vec<char> = (0x3400..0xA000u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_han(c) && !CONVERSION_TRIGGERS.contains(c))
            .collect();
        assert!(plain.len() > 20_000, "{}", plain.len());
        for chunk in plain.chunks(4000) {
            let text: String = chunk.iter().collect();
            assert_eq!(to_simplified(&text), text);
        }
        // Every pair of them too, for the most common Simplified characters.
        let common: Vec<char> = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
            .chars()
            .filter(|&c| !CONVERSION_TRIGGERS.contains(c))
            .collect();
        let pairs: String = common.iter().flat_map(|&a| common.iter().flat_map(move |&b| [a, b, '，'])).collect();
        assert_eq!(to_simplified(&pairs), pairs);
        assert!(CONVERSION_TRIGGERS.contains('實'));
        assert!(!CONVERSION_TRIGGERS.contains('实') && !CONVERSION_TRIGGERS.contains('坏'));
    }

    #[test]
    fn scanning_bytes_agrees_with_scanning_characters() {
        for text in ["plain", "中文，ＡＢ", "沈默 é", "ＡＢ", "𠀀實", "ascii then 實體 and ｘ", "ÿ中ÿ", "實"]
        {
            let wide = text.chars().any(needs_width_fold);
            let trigger = text.chars().any(|c| CONVERSION_TRIGGERS.contains(c));
            let (w, t) = scan(text, true);
            // The scan may stop early once both are found.
            assert!(w == wide && (t == trigger || (w && t)), "{text}: {:?} vs {:?}", (w, t), (wide, trigger));
            assert_eq!(scan(text, false).0, wide, "{text}");
        }
    }

    #[test]
    fn punctuation_and_ideographic_space_stay() {
        // They separate tokens as their ASCII forms do; Chinese text then needs no offset map.
        let n = normalize("芬太尼\u{3000}危机，（实体清单）");
        assert!(matches!(n.text, Cow::Borrowed(_)));
    }
}
