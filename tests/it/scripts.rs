//! Text the way people write it: other scripts, symbols, letter–digit compounds, stray bytes,
//! jieba's own dictionaries. Table-driven: each row is a document, a query and whether the
//! query must find the document (the reported reproductions are the first rows).

use predicates::str::contains;

use crate::common::Fixture;

/// `(document text, query, found)`.
const ROWS: &[(&str, &str, bool)] = &[
    ("今天很开心😀，天气不错。", "😀", true),
    ("日本語とEnglish混在のテキスト。", "English", true),
    ("ひらがなとカタカナの練習。", "ひらがな", true),
    ("서울은 대한민국의 수도입니다.", "서울", true),
    ("The COVID-19 vaccine works.", "covid19", true),
    ("About covid19 cases today.", "COVID-19", true),
    ("The covid 19 wave.", "covid19", true),
    ("About covid19 cases today.", "covid 19", true),
    ("New iPhone15 on sale.", "iPhone 15", true),
    ("New iPhone 15 on sale.", "iphone15", true),
    ("天气☀️很好。", "☀", true),
    ("天气☀️很好。", "☀️", true),
    ("温度25℃，湿度高。", "℃", true),
    ("★ 五星好评 ★", "★", true),
    ("日本語とEnglish混在のテキスト。", "日本語", true),
    ("日本語とEnglish混在のテキスト。", "テキスト", true),
    ("ひらがなとカタカナの練習。", "カタカナ", true),
    ("서울은 대한민국의 수도입니다.", "수도", true),
    ("서울은 대한민국의 수도입니다.", "\"대한민국의\"", true),
    // And nothing else: the parts of these do not appear in one another.
    ("今天很开心😀，天气不错。", "😢", false),
    ("서울은 대한민국의 수도입니다.", "부산", false),
    ("The COVID-19 vaccine works.", "covid20", false),
    ("ひらがなとカタカナの練習。", "かたかな", false),
];

#[test]
fn other_scripts_symbols_and_compounds_are_found_by_their_parts() {
    let f = Fixture::empty();
    for (i, (text, _, _)) in ROWS.iter().enumerate() {
        f.write(&format!("corpus/r{i:02}.txt"), &format!("第{i}行\n\n{text}\n"));
    }
    f.index();
    let mut wrong = Vec::new();
    for (i, (text, query, found)) in ROWS.iter().enumerate() {
        let id = format!("corpus/r{i:02}.txt");
        if f.ids(query).contains(&id) != *found {
            wrong.push(format!("{query:?} in {text:?}: expected found={found}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_query_of_only_symbols_is_a_search() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "表情\n\n今天很开心😀。\n");
    f.index();
    f.sou(&["search", "😀"]).assert().success().stdout(contains("开心"));
    // Nothing searchable at all: no hits and a notice, not an error.
    f.sou(&["search", "!!!"]).assert().code(1).stderr(contains("nothing searchable"));
}

#[test]
fn a_small_utf8_file_with_one_bad_byte_is_read_as_utf8() {
    let f = Fixture::empty();
    f.write_bytes("corpus/bad.txt", b"\xe5\x8c\x97\xe4\xba\xac\xe6\xac\xa2\xe8\xbf\x8e\xe4\xbd\xa0\xff\xe4\xbb\x8a\xe5\xa4\xa9\xe5\xa4\xa9\xe6\xb0\x94\xe5\xbe\x88\xe5\xa5\xbd\xe3\x80\x82\n");
    let out = f.sou(&["index"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 invalid UTF-8 sequence(s) replaced"), "{stderr}");
    assert!(!stderr.contains("windows-1252"), "{stderr}");
    assert_eq!(f.ids("北京"), vec!["corpus/bad.txt"]);
}

#[test]
fn jiebas_own_test_dictionary_is_accepted() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "测试\n\n凱特琳是一位角色，Edu Trust认证很重要，云计算正在发展。\n");
    // Lines of jieba's test/userdict.txt (a tag without a frequency, a word with a space).
    f.write("userdict.txt", "云计算 5\n李小福 2 nr\n创新办 3 i\neasy_install 3 eng\n好用 300\n韩玉赏鉴 3 nz\n八一双鹿 3 nz\n台中\n凱特琳 nz\nEdu Trust认证 2000\n");
    f.sou(&["index", "-q", "--dict", "userdict.txt"]).assert().success();
    f.sou(&["analyze", "--index", "index", "凱特琳是一位角色"]).assert().stdout(contains("words   0  凯特琳"));
    f.sou(&["search", "凯特琳"]).assert().success();
}

/// `(query, documents that hold the string)` over the documents of [`QUOTED_DOCS`].
const QUOTED_DOCS: &[&str] = &[
    "2023年的年度报告显示增长。",
    "报告发布于2023，新的一年开始。",
    "违法所得，可以处以罚款。",
    "违法所得可以处以罚款。",
    "根据第182条的规定，超过10天的部分另计。",
    "第18条和第2条，超过100天。",
    "New iPhone15新品上市。",
    "ＣＯＶＩＤ－１９疫苗接种开始。",
];

#[test]
fn quoted_strings_with_digits_letters_and_punctuation_are_exact() {
    let f = Fixture::empty();
    for (i, text) in QUOTED_DOCS.iter().enumerate() {
        f.write(&format!("corpus/q{i}.txt"), &format!("第{i}篇\n\n{text}\n"));
    }
    f.index();
    let ids = |q: &str| {
        let mut ids = f.ids(&format!("\"{q}\""));
        ids.sort();
        ids
    };
    let docs = |ns: &[usize]| ns.iter().map(|n| format!("corpus/q{n}.txt")).collect::<Vec<_>>();
    assert_eq!(ids("2023年"), docs(&[0]));
    assert_eq!(ids("法所得，可以处"), docs(&[2]));
    assert_eq!(ids("法所得,可以处"), docs(&[2]), "full-width and ASCII punctuation are one");
    assert_eq!(ids("第182条"), docs(&[4]));
    assert_eq!(ids("超过10天"), docs(&[4]));
    assert_eq!(ids("iphone15新品"), docs(&[6]));
    assert_eq!(ids("covid-19疫苗"), docs(&[7]), "width and case folded");
    assert_eq!(ids("第18条"), docs(&[5]));
}
