//! The index schema: every field, its analyzer and options, in one place.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::analysis::script::ScriptCounts;
use crate::analysis::{self, GRAMS, LATIN, PAIRS, WORDS, ZH_WORDS};
use crate::document::Document;

/// Handles to the schema's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Document id (JSON `id`, else the path relative to the indexed folder); unique key.
    pub id: Field,
    /// Path of the file the document came from, as walked; used to sync files.
    pub path: Field,
    /// Fingerprint (size + mtime) of the file when it was indexed.
    pub fingerprint: Field,
    /// Where in its file the document was: the line of a JSON-lines record, the position of
    /// an array item (from 1); 0 for a whole file. Names both places of a repeated id.
    pub record: Field,
    pub source: Field,
    pub title: Field,
    /// Day number (days since 1970-01-01, see [`crate::Date::days_since_epoch`]).
    pub date: Field,
    pub zh: Field,
    pub en: Field,
    /// The Latin words of Chinese text (iPhone 15, COVID-19, 151.2mg), with positions: where
    /// their phrases are matched, zh keeping none. Each Han run between them is a gap, so no
    /// phrase runs across the Chinese (see [`analysis::LATIN`]). Not stored.
    pub latin: Field,
    /// Han characters of all text of the document: the recall field. With positions, unless
    /// the index has the pair field. Not stored.
    pub grams: Field,
    /// Adjacent pairs of the recall field's characters, with positions, in indexes made with
    /// it (`sou index --pairs`): a string of several characters is looked up as a phrase of
    /// the pairs covering it instead of a phrase of characters. Not stored.
    pub pairs: Option<Field>,
}

fn text_options(analyzer: &str, stored: bool) -> TextOptions {
    text_options_with(analyzer, stored, IndexRecordOption::WithFreqsAndPositions)
}

fn text_options_with(analyzer: &str, stored: bool, record: IndexRecordOption) -> TextOptions {
    let indexing = TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(record);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

/// Builds the schema and returns it with its field handles; `pairs`: with the pair field.
pub(crate) fn build(pairs: bool) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        path: b.add_text_field("path", STRING | STORED | tantivy::schema::FAST),
        fingerprint: b.add_u64_field("fingerprint", NumericOptions::default().set_fast()),
        record: b.add_u64_field("record", NumericOptions::default().set_fast()),
        source: b.add_text_field("source", text_options(WORDS, true)),
        title: b.add_text_field("title", text_options(WORDS, true)),
        date: b.add_i64_field("date", NumericOptions::default().set_indexed().set_stored().set_fast()),
        // Chinese words without positions: a string of characters is found exactly through
        // the character field, and a phrase of Latin words in Chinese text through `latin`.
        // (Positions of this field were 13 % of an index.)
        zh: b.add_text_field("zh", text_options_with(ZH_WORDS, true, IndexRecordOption::WithFreqs)),
        en: b.add_text_field("en", text_options(WORDS, true)),
        latin: b.add_text_field("latin", text_options(LATIN, false)),
        // With pairs, phrases of characters are phrases of pairs: the characters need no positions.
        grams: match pairs {
            true => b.add_text_field("grams", text_options_with(GRAMS, false, IndexRecordOption::WithFreqs)),
            false => b.add_text_field("grams", text_options(GRAMS, false)),
        },
        pairs: pairs.then(|| b.add_text_field("pairs", text_options(PAIRS, false))),
    };
    (b.build(), fields)
}

/// Looks the field handles up in an existing index's schema.
pub(crate) fn fields_of(schema: &Schema) -> Option<Fields> {
    let f = |name| schema.get_field(name).ok();
    Some(Fields {
        id: f("id")?,
        path: f("path")?,
        fingerprint: f("fingerprint")?,
        record: f("record")?,
        source: f("source")?,
        title: f("title")?,
        date: f("date")?,
        zh: f("zh")?,
        en: f("en")?,
        latin: f("latin")?,
        grams: f("grams")?,
        pairs: f("pairs"),
    })
}

/// The text a document gives each analyzed field, values in order: what the local index and a
/// cluster index both analyze, so the two hold the same terms at the same positions.
#[derive(Debug)]
pub(crate) struct TextValues<'a> {
    pub title: &'a str,
    pub source: Option<&'a str>,
    pub zh: Vec<&'a str>,
    pub en: Vec<&'a str>,
    /// The zh values, analyzed for their Latin words alone.
    pub latin: Vec<&'a str>,
    pub grams: Vec<&'a str>,
}

impl<'a> TextValues<'a> {
    pub fn of(doc: &'a Document) -> Self {
        let (mut zh, mut en) = (Vec::with_capacity(2), Vec::with_capacity(2));
        // The title is also the first value of the body field of its script: a title word then
        // counts in the body's BM25 too ("flat" scoring), which ranks better than adding a
        // separately normalized title field alone (SciFact train nDCG@10 0.694 vs 0.688).
        // The body itself is always the last value.
        if !doc.title.is_empty() {
            if ScriptCounts::of(&doc.title).is_chinese() {
                zh.push(doc.title.as_str())
            } else {
                en.push(doc.title.as_str())
            }
        }
        zh.push(&doc.zh);
        en.push(&doc.en);
        // The Chinese texts again, for their Latin words alone (the analyzer skips Han runs).
        let latin = zh.clone();
        let grams = [Some(&doc.title), doc.source.as_ref(), Some(&doc.zh), Some(&doc.en)]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|text| analysis::script::has_gram_chars(text))
            .collect();
        TextValues { title: &doc.title, source: doc.source.as_deref(), zh, en, latin, grams }
    }
}
