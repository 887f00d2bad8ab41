//! Table-driven tests of the analyzers: exact tokens, byte offsets and positions.

use super::*;

/// `(text, start, end, position)` of each word-field token; compounds are marked with `*`.
fn words(text: &str) -> Vec<(String, usize, usize, usize)> {
    let mut out = Vec::new();
    word_tokens(text, &Segmenter::default(), |t| {
        let mark = if t.kind == TokenKind::Compound { "*" } else { "" };
        out.push((format!("{mark}{}", t.text), t.start, t.end, t.position));
    });
    out
}

fn grams(text: &str) -> Vec<(String, usize, usize, usize)> {
    let mut out = Vec::new();
    gram_tokens(text, |t| out.push((t.text.to_string(), t.start, t.end, t.position)));
    out
}

macro_rules! token_table {
    ($($name:ident: $f:expr, $input:expr => [$(($t:expr, $s:expr, $e:expr, $p:expr)),* $(,)?];)*) => {
        $(
            #[test]
            fn $name() {
                let expected: Vec<(String, usize, usize, usize)> = vec![$(($t.to_string(), $s, $e, $p)),*];
                let got = $f($input);
                assert_eq!(got, expected, "\ninput: {:?}", $input);
            }
        )*
    };
}

token_table! {
    empty_input: words, "" => [];
    whitespace_only: words, " \t\n\u{3000} " => [];
    punctuation_only: words, "，。！？…—" => [];
    english_like_tantivy_default_then_stemmed: words, "Entity Lists, 2020!" => [
        ("entiti", 0, 6, 0), ("list", 7, 12, 1), ("2020", 14, 18, 2),
    ];
    chinese_words: words, "法医科学研究院" => [("法医", 0, 6, 0), ("科学", 6, 12, 1), ("研究院", 12, 21, 2)];
    no_sub_words_inside_longer_words: words, "美国政府计划" => [("美国政府", 0, 12, 0), ("计划", 12, 18, 1)];
    mixed_scripts_share_one_position_sequence: words, "COVID-19疫苗" => [
        ("covid", 0, 5, 0), ("19", 6, 8, 1), ("疫苗", 8, 14, 2),
    ];
    year_and_month: words, "2023年11月" => [("2023", 0, 4, 0), ("年", 4, 7, 1), ("11", 7, 9, 2), ("月", 9, 12, 3)];
    hyphenated_brand: words, "SK-II" => [("sk", 0, 2, 0), ("ii", 3, 5, 1)];
    letter_digit_compound: words, "iPhone15 Pro" => [
        ("*iphone15", 0, 8, 0), ("iphon", 0, 6, 0), ("15", 6, 8, 1), ("pro", 9, 12, 2),
    ];
    full_width_is_folded_with_original_offsets: words, "ＣＯＶＩＤ－１９" => [("covid", 0, 15, 0), ("19", 18, 24, 1)];
    traditional_is_simplified_with_original_offsets: words, "實體清單" => [("实体", 0, 6, 0), ("清单", 6, 12, 1)];
    chinese_punctuation_separates: words, "芬太尼，危机。" => [("芬太尼", 0, 9, 0), ("危机", 12, 18, 1)];
    token_of_40_bytes_is_dropped_but_keeps_its_place: words, "a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb c" => [
        ("a", 0, 1, 0), ("c", 43, 44, 2),
    ];
    grams_of_a_run: grams, "法医科学" => [("法", 0, 3, 0), ("医", 3, 6, 1), ("科", 6, 9, 2), ("学", 9, 12, 3)];
    grams_single_character_run: grams, "药" => [("药", 0, 3, 0)];
    grams_leave_a_gap_between_runs: grams, "法医 科学" => [("法", 0, 3, 0), ("医", 3, 6, 1), ("科", 7, 10, 3), ("学", 10, 13, 4)];
    grams_ignore_latin: grams, "COVID-19 vaccine" => [];
    grams_of_traditional_and_full_width: grams, "ＡＢ實體" => [("实", 6, 9, 0), ("体", 9, 12, 1)];
    grams_empty: grams, "" => [];
    grams_gap_after_punctuation_and_latin: grams, "药，a 品" => [("药", 0, 3, 0), ("品", 8, 11, 2)];
    grams_keep_a_character_alone_beside_its_phrase_conversion: grams, "計畫" => [
        ("计", 0, 3, 0), ("划", 3, 6, 1), ("画", 3, 6, 1),
    ];
    zh_field_leaves_function_words_to_the_grams: zh_words, "2023年11月的报告" => [
        ("2023", 0, 4, 0), ("年", 4, 7, 1), ("11", 7, 9, 2), ("月", 9, 12, 3), ("报告", 15, 21, 5),
    ];
}

/// The tokens the zh field's analyzer (as registered on an index) makes of `text`.
fn zh_words(text: &str) -> Vec<(String, usize, usize, usize)> {
    streamed_words(text, false)
}

/// The tokens a word analyzer as registered on an index makes of `text`.
fn streamed_words(text: &str, function_words: bool) -> Vec<(String, usize, usize, usize)> {
    let mut analyzer = tantivy::tokenizer::TextAnalyzer::from(WordTokenizer {
        segmenter: Segmenter::default(),
        buffer: TokenBuffer::default(),
        function_words,
        latin_only: false,
    });
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(t) = stream.next() {
        out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
    }
    out
}

#[test]
fn one_character_words_are_marked() {
    let kinds: Vec<(String, TokenKind)> =
        analyze("药的报告", &Segmenter::default()).into_iter().map(|t| (t.text, t.kind)).collect();
    assert!(kinds.contains(&("的".to_string(), TokenKind::FunctionWord)), "{kinds:?}");
    assert!(kinds.contains(&("报告".to_string(), TokenKind::Word)), "{kinds:?}");
    assert!(kinds.contains(&("的".to_string(), TokenKind::Gram)), "{kinds:?}");
}

#[test]
fn long_chinese_runs_are_segmented_not_dropped() {
    let text = "这是一个没有任何标点符号而且长度超过二十个汉字的中文句子用来测试分析器";
    let tokens = words(text);
    assert!(tokens.len() > 10, "{tokens:?}");
    let joined: String = tokens.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(joined, text);
    assert!(tokens.iter().all(|t| t.0.len() < latin::MAX_TOKEN_BYTES));
    // Positions are consecutive and offsets cover the text in order.
    for (i, t) in tokens.iter().enumerate() {
        assert_eq!(t.3, i);
        assert_eq!(&text[t.1..t.2], t.0);
    }
}

#[test]
fn offsets_always_point_at_the_original_text() {
    for text in ["ＣＯＶＩＤ－１９疫苗 實體清單", "法醫科學研究院，ＳＫ－ＩＩ", "mixed 中文 and English 文本"]
    {
        for t in analyze(text, &Segmenter::default()) {
            let original = &text[t.start..t.end];
            let normalized = normalize::normalize(original).text.to_lowercase();
            let term = t.text.as_str();
            assert!(normalized.contains(term) || term.contains(normalized.as_str()), "{t:?} vs {original:?}");
        }
    }
}

#[test]
fn function_words_are_sorted_for_binary_search() {
    assert!(FUNCTION_WORDS.windows(2).all(|w| w[0] < w[1]));
    assert!(FUNCTION_WORDS.iter().all(|c| c.len_utf8() == 3));
    assert!(is_function_word("的") && !is_function_word("罪") && !is_function_word("的确"));
}

#[test]
fn long_texts_stream_in_pieces_without_splitting_a_token() {
    let text = "abcdefghij ".repeat(1000) + "中文" + &"x1,".repeat(2000) + &"z".repeat(5000);
    let tokens = streamed_words(&text, true);
    let mut expected = Vec::new();
    word_tokens(&text, &Segmenter::default(), |t| expected.push((t.text.to_string(), t.start, t.end, t.position)));
    assert_eq!(tokens, expected);
    for (i, t) in tokens.iter().take(1000).enumerate() {
        assert_eq!(t, &("abcdefghij".to_string(), 11 * i, 11 * i + 10, i));
    }
    assert_eq!(tokens[1000], ("中文".to_string(), 11_000, 11_006, 1000));
    // x1 is a compound: the whole and its two parts, two positions each.
    assert_eq!(tokens.len(), 1001 + 3 * 2000);
    assert_eq!(tokens.last().unwrap().3, 1000 + 2 * 2000);
}

#[test]
fn the_latin_analyzer_keeps_latin_words_with_a_gap_for_each_han_run() {
    let mut analyzer = analyzer(LATIN, &Segmenter::default());
    let mut stream = analyzer.token_stream("列入entity list，Apple发布Watch上市");
    let mut tokens = Vec::new();
    while let Some(t) = stream.next() {
        tokens.push((t.text.clone(), t.position));
    }
    let words: Vec<&str> = tokens.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(words, ["entiti", "list", "appl", "watch"], "{tokens:?}");
    let at = |w: &str| tokens.iter().find(|(t, _)| t == w).unwrap().1;
    assert_eq!(at("list"), at("entiti") + 1);
    assert!(at("watch") > at("appl") + 1, "{tokens:?}");
}
