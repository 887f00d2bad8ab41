//! Search semantics on small in-memory fixtures, and a property test of Chinese recall and
//! phrase precision over the bundled corpus.

use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::analysis::{normalize, script};
use crate::{Document, Index, Query};

/// `PROPTEST_CASES` when set (longer fuzzing runs), else the given default.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn index_of(docs: &[(&str, &str, &str)]) -> (tempfile::TempDir, Index) {
    index_of_documents(docs.iter().map(|(id, title, text)| Document::new(*id, *title).with_text(text)))
}

fn index_of_documents(docs: impl IntoIterator<Item = Document>) -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();
    index.add_documents(docs).unwrap();
    (dir, index)
}

fn ids(index: &Index, query: &str) -> Vec<String> {
    index.search(&Query::new(query).limit(100)).unwrap().hits.into_iter().map(|h| h.id).collect()
}

fn id_set(index: &Index, query: &str) -> BTreeSet<String> {
    ids(index, query).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Common words in Simplified and Traditional script, written for this test (checked against
/// OpenCC's own t2s conversion): the pairs reported with a character both scripts use first.
const CROSS_SCRIPT_PAIRS: &[(&str, &str)] = &[
    ("关于", "關於"),
    ("由于", "由於"),
    ("对于", "對於"),
    ("终于", "終於"),
    ("处于", "處於"),
    ("属于", "屬於"),
    ("等于", "等於"),
    ("至于", "至於"),
    ("特征", "特徵"),
    ("象征", "象徵"),
    ("征收", "徵收"),
    ("饼干", "餅乾"),
    ("干净", "乾淨"),
    ("干脆", "乾脆"),
    ("干燥", "乾燥"),
    ("步步高升", "步步高陞"),
    ("公厘", "公釐"),
    ("厘米", "釐米"),
    ("秘密", "祕密"),
    ("搜集", "蒐集"),
    ("修长", "脩長"),
    ("克服", "剋服"),
    ("泛滥", "氾濫"),
    ("苏醒", "甦醒"),
    ("借由", "藉由"),
    ("沉厚", "沈厚"),
    ("国家", "國家"),
    ("经济", "經濟"),
    ("学习", "學習"),
    ("发展", "發展"),
    ("问题", "問題"),
    ("时间", "時間"),
    ("历史", "歷史"),
    ("语言", "語言"),
    ("电脑", "電腦"),
    ("网络", "網絡"),
    ("银行", "銀行"),
    ("医院", "醫院"),
    ("药品", "藥品"),
    ("检查", "檢查"),
    ("报告", "報告"),
    ("会议", "會議"),
    ("选举", "選舉"),
    ("议员", "議員"),
    ("总统", "總統"),
    ("军队", "軍隊"),
    ("战争", "戰爭"),
    ("贸易", "貿易"),
    ("关税", "關稅"),
    ("进口", "進口"),
    ("价格", "價格"),
    ("货币", "貨幣"),
    ("汇率", "匯率"),
    ("资金", "資金"),
    ("证券", "證券"),
    ("投资", "投資"),
    ("债务", "債務"),
    ("税收", "稅收"),
    ("财政", "財政"),
    ("农业", "農業"),
    ("工业", "工業"),
    ("环境", "環境"),
    ("气候", "氣候"),
    ("温度", "溫度"),
    ("节约", "節約"),
    ("电力", "電力"),
    ("铁路", "鐵路"),
    ("飞机", "飛機"),
    ("机场", "機場"),
    ("汽车", "汽車"),
    ("运输", "運輸"),
    ("车辆", "車輛"),
    ("桥梁", "橋樑"),
    ("乡村", "鄉村"),
    ("县长", "縣長"),
    ("区域", "區域"),
    ("东方", "東方"),
    ("华人", "華人"),
    ("台湾", "臺灣"),
    ("广东", "廣東"),
    ("苏州", "蘇州"),
    ("长江", "長江"),
    ("黄河", "黃河"),
    ("图书馆", "圖書館"),
    ("大学", "大學"),
    ("老师", "老師"),
    ("学生", "學生"),
    ("课程", "課程"),
    ("考试", "考試"),
    ("成绩", "成績"),
    ("毕业", "畢業"),
    ("专业", "專業"),
    ("实验", "實驗"),
    ("科学", "科學"),
    ("技术", "技術"),
    ("软件", "軟件"),
    ("数据", "數據"),
    ("通讯", "通訊"),
    ("电话", "電話"),
    ("手机", "手機"),
    ("视频", "視頻"),
    ("电视", "電視"),
    ("新闻", "新聞"),
    ("记者", "記者"),
    ("报纸", "報紙"),
    ("杂志", "雜誌"),
    ("书籍", "書籍"),
    ("写作", "寫作"),
    ("阅读", "閱讀"),
    ("文学", "文學"),
    ("艺术", "藝術"),
    ("音乐", "音樂"),
    ("电影", "電影"),
    ("剧场", "劇場"),
    ("演员", "演員"),
    ("体育", "體育"),
    ("运动", "運動"),
    ("篮球", "籃球"),
    ("医生", "醫生"),
    ("护士", "護士"),
    ("卫生", "衛生"),
    ("营养", "營養"),
    ("饮食", "飲食"),
    ("鸡蛋", "雞蛋"),
    ("猪肉", "豬肉"),
    ("鱼类", "魚類"),
    ("面包", "麵包"),
    ("米饭", "米飯"),
    ("饮料", "飲料"),
    ("茶叶", "茶葉"),
    ("厨房", "廚房"),
    ("餐厅", "餐廳"),
    ("宾馆", "賓館"),
    ("旅游", "旅遊"),
    ("护照", "護照"),
    ("签证", "簽證"),
    ("边境", "邊境"),
    ("海关", "海關"),
    ("律师", "律師"),
    ("诉讼", "訴訟"),
    ("判决", "判決"),
    ("监狱", "監獄"),
    ("盗窃", "盜竊"),
    ("诈骗", "詐騙"),
    ("赔偿", "賠償"),
    ("保险", "保險"),
    ("签署", "簽署"),
    ("协议", "協議"),
    ("谈判", "談判"),
    ("领导", "領導"),
    ("干部", "幹部"),
    ("党员", "黨員"),
    ("组织", "組織"),
    ("团体", "團體"),
    ("协会", "協會"),
    ("工会", "工會"),
    ("劳动", "勞動"),
    ("职业", "職業"),
    ("工资", "工資"),
    ("员工", "員工"),
    ("雇主", "僱主"),
    ("失业", "失業"),
    ("养老", "養老"),
    ("儿童", "兒童"),
    ("妇女", "婦女"),
    ("亲戚", "親戚"),
    ("邻居", "鄰居"),
    ("爱情", "愛情"),
    ("结婚", "結婚"),
    ("离婚", "離婚"),
    ("父亲", "父親"),
    ("母亲", "母親"),
    ("历程", "歷程"),
    ("将来", "將來"),
    ("过去", "過去"),
    ("现在", "現在"),
    ("开始", "開始"),
    ("结束", "結束"),
    ("继续", "繼續"),
    ("变化", "變化"),
    ("发现", "發現"),
    ("认为", "認為"),
    ("觉得", "覺得"),
    ("应该", "應該"),
    ("办法", "辦法"),
    ("说明", "說明"),
    ("讨论", "討論"),
    ("听说", "聽說"),
    ("准备", "準備"),
    ("帮助", "幫助"),
    ("联系", "聯繫"),
    ("关系", "關係"),
    ("读书", "讀書"),
    ("图片", "圖片"),
    ("地图", "地圖"),
    ("颜色", "顏色"),
    ("声音", "聲音"),
    ("问候", "問候"),
    ("习惯", "習慣"),
    ("礼物", "禮物"),
    ("节日", "節日"),
    ("气温", "氣溫"),
    ("风险", "風險"),
    ("压力", "壓力"),
    ("动物", "動物"),
    ("鸟类", "鳥類"),
    ("树木", "樹木"),
    ("发票", "發票"),
    ("设备", "設備"),
    ("网站", "網站"),
];

#[test]
fn two_hundred_common_words_are_found_in_either_script_quoted_and_unquoted() {
    assert!(CROSS_SCRIPT_PAIRS.len() >= 200);
    let docs: Vec<Document> = CROSS_SCRIPT_PAIRS
        .iter()
        .enumerate()
        .flat_map(|(i, (simplified, traditional))| {
            [
                Document::new(format!("s{i}"), "简体").with_text(&format!("这一段写到{simplified}，别的内容。")),
                Document::new(format!("t{i}"), "繁體").with_text(&format!("這一段寫到{traditional}，別的內容。")),
            ]
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();
    index.add_documents(docs).unwrap();
    let mut missed = Vec::new();
    for (i, (simplified, traditional)) in CROSS_SCRIPT_PAIRS.iter().enumerate() {
        for query in
            [simplified.to_string(), traditional.to_string(), format!("\"{simplified}\""), format!("\"{traditional}\"")]
        {
            let found = ids_limit(&index, &query, 1000);
            for id in [format!("s{i}"), format!("t{i}")] {
                if !found.contains(&id) {
                    missed.push(format!("{query} misses {id}"));
                }
            }
        }
    }
    assert!(missed.is_empty(), "{} misses: {missed:#?}", missed.len());
    // And the words both scripts use keep their own meaning: 乾隆 finds 乾隆, 於 as a name.
    let (_d, names) = index_of(&[("q", "t", "乾隆皇帝下江南。"), ("k", "t", "乾坤未定。"), ("y", "t", "於先生来了。")]);
    assert_eq!(ids(&names, "乾隆"), vec!["q"]);
    assert_eq!(ids(&names, "\"乾坤\""), vec!["k"]);
    assert_eq!(ids(&names, "於先生"), vec!["y"]);
}

fn ids_limit(index: &Index, query: &str, limit: usize) -> Vec<String> {
    index.search(&Query::new(query).limit(limit)).unwrap().hits.into_iter().map(|h| h.id).collect()
}

#[test]
fn simplified_finds_traditional_and_back() {
    let (_d, index) = index_of(&[
        ("trad", "疫苗", "衛生福利部疾病管制署宣布流感疫苗接種計畫正式開跑。"),
        ("simp", "清单", "美国商务部扩大实体清单。"),
    ]);
    assert_eq!(ids(&index, "卫生福利部"), vec!["trad"]);
    assert_eq!(ids(&index, "\"接种计划\""), vec!["trad"]);
    assert_eq!(ids(&index, "實體清單"), vec!["simp"]);
    assert_eq!(ids(&index, "\"實體清單\""), vec!["simp"]);
    // The snippet highlights the original Traditional characters.
    let hit = &index.search(&Query::new("接种")).unwrap().hits[0];
    let zh = hit.snippets.zh.as_ref().unwrap();
    let [s, e] = zh.highlights[0];
    assert_eq!(&zh.text[s..e], "接種");
}

#[test]
fn a_piece_of_a_longer_word_is_found() {
    let (_d, index) = index_of(&[
        ("lab", "t", "中国法医科学研究院发布报告"),
        ("app", "t", "这个软件安装简单方便"),
        ("none", "t", "科学家发布新报告"),
    ]);
    assert_eq!(ids(&index, "法医"), vec!["lab"]);
    assert_eq!(ids(&index, "\"法医科学\""), vec!["lab"]);
    assert_eq!(ids(&index, "医科"), vec!["lab"]);
    assert_eq!(ids(&index, "究院"), vec!["lab"]);
    assert_eq!(ids(&index, "简单"), vec!["app"]);
    assert_eq!(ids(&index, "装简"), vec!["app"]);
    assert_eq!(id_set(&index, "院"), set(&["lab"]));
    assert_eq!(id_set(&index, "报告"), set(&["lab", "none"]));
}

#[test]
fn one_character_words_are_found_through_the_character_field() {
    // The zh field holds no function words: 的 is answered from the characters; 药 is a word.
    let (_d, index) = index_of(&[
        ("word", "t", "这种药的价格上涨"),
        ("inside", "t", "药品监管部门发布报告"),
        ("none", "t", "价格监管部门发布报告"),
    ]);
    assert_eq!(id_set(&index, "药"), set(&["word", "inside"]));
    assert_eq!(id_set(&index, "zh:药"), set(&["word", "inside"]));
    assert_eq!(id_set(&index, "药 价格"), set(&["word"]));
    assert_eq!(id_set(&index, "药 -价格"), set(&["inside"]));
    assert_eq!(id_set(&index, "\"药的价格\""), set(&["word"]));
    assert_eq!(id_set(&index, "药的价格"), set(&["word"]));
    // Single characters in titles still match the title field.
    let (_d, index) = index_of(&[("titled", "药", "正文"), ("other", "报告", "正文")]);
    assert_eq!(id_set(&index, "title:药"), set(&["titled"]));
}

#[test]
fn pieces_of_phrases_that_conversion_tables_know_are_found() {
    // OpenCC's tables rewrite 打坏 (as if Traditional) to 打坯; sou leaves Simplified text alone,
    // so 坏 finds it, and Traditional 打壞 still converts.
    let (_d, index) = index_of(&[("simp", "t", "他打坏了车"), ("trad", "t", "他打壞了車")]);
    assert_eq!(id_set(&index, "坏"), set(&["simp", "trad"]));
    assert_eq!(id_set(&index, "\"打坏\""), set(&["simp", "trad"]));
    assert_eq!(id_set(&index, "壞"), set(&["simp", "trad"]));
}

#[test]
fn every_piece_of_traditional_text_is_found() {
    // Phrase conversion turns 計畫 into 计划, while 畫 alone is 画: both must find it.
    let traditional = "衛生福利部疾病管制署宣布流感疫苗接種計畫正式開跑頭髮乾燥";
    let (_d, index) = index_of(&[("trad", "t", traditional), ("other", "t", "价格监管部门发布报告")]);
    let chars: Vec<char> = traditional.chars().collect();
    for len in 1..=4 {
        for start in 0..=chars.len() - len {
            let piece: String = chars[start..start + len].iter().collect();
            assert!(id_set(&index, &piece).contains("trad"), "unquoted {piece}");
            assert!(id_set(&index, &format!("\"{piece}\"")).contains("trad"), "quoted {piece}");
        }
    }
    assert_eq!(id_set(&index, "画"), set(&["trad"]));
    assert_eq!(id_set(&index, "计划"), set(&["trad"]));
}

#[test]
fn whole_word_matches_rank_above_character_matches() {
    let (_d, index) =
        index_of(&[("inside", "t", "中国法医科学研究院发布报告"), ("word", "t", "这所医科大学的医科专业很有名")]);
    assert_eq!(ids(&index, "医科"), vec!["word", "inside"]);
}

#[test]
fn quoted_chinese_is_exact_unquoted_is_not() {
    let (_d, index) = index_of(&[("apart", "t", "法医 与 科学"), ("together", "t", "法医科学研究")]);
    assert_eq!(ids(&index, "\"法医科学\""), vec!["together"]);
    assert_eq!(id_set(&index, "法医科学"), set(&["apart", "together"]));
    assert_eq!(ids(&index, "法医科学")[0], "together");
}

#[test]
fn mixed_tokens_are_found_by_parts_and_whole_in_both_fields() {
    let (_d, index) = index_of(&[
        ("zh", "t", "新版COVID-19疫苗于2023年11月上市，SK-II和iPhone15也有促销。"),
        ("en", "t", "The COVID-19 vaccine launched in November 2023. SK-II and the iPhone15 were on sale."),
    ]);
    for (query, expected) in [
        ("covid-19", &["en", "zh"][..]),
        ("COVID-19疫苗", &["zh"][..]),
        ("\"COVID-19疫苗\"", &["zh"][..]),
        ("疫苗", &["zh"][..]),
        ("covid", &["en", "zh"][..]),
        ("2023年", &["zh"][..]),
        ("\"2023年11月\"", &["zh"][..]),
        ("11月", &["zh"][..]),
        ("2023", &["en", "zh"][..]),
        ("sk-ii", &["en", "zh"][..]),
        ("SK", &["en", "zh"][..]),
        ("iphone15", &["en", "zh"][..]),
        ("iphone", &["en", "zh"][..]),
        ("\"iphone 15\"", &["en", "zh"][..]),
        ("vaccine", &["en"][..]),
    ] {
        assert_eq!(id_set(&index, query), set(expected), "query {query}");
    }
}

#[test]
fn full_width_query_matches_half_width_text() {
    let (_d, index) = index_of(&[("a", "t", "COVID-19 vaccine"), ("b", "t", "ＣＯＶＩＤ－１９疫苗")]);
    assert_eq!(id_set(&index, "ＣＯＶＩＤ－１９"), set(&["a", "b"]));
    assert_eq!(id_set(&index, "covid-19"), set(&["a", "b"]));
}

/// Documents of the bundled corpus, read with the same code as `sou index`.
fn bundled_corpus() -> Vec<Document> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut docs = Vec::new();
    for found in crate::corpus::walk(&root, None) {
        if let crate::corpus::Found::File(file) = found {
            crate::corpus::read_file(&file, u64::MAX, None, &mut |d, _| {
                docs.push(d);
                crate::corpus::Next::More
            })
            .unwrap();
        }
    }
    assert!(docs.len() >= 15);
    docs
}

/// All Han text of a document, normalized: what the recall field indexes.
fn han_text(doc: &Document) -> String {
    let all = [doc.title.as_str(), doc.source.as_deref().unwrap_or(""), &doc.zh, &doc.en].join("\n");
    normalize::normalize(&all).text.into_owned()
}

/// Runs of Han characters in the corpus (normalized), to draw substrings from.
fn han_runs(docs: &[Document]) -> Vec<Vec<char>> {
    let mut runs = Vec::new();
    for doc in docs {
        let text = han_text(doc);
        for run in script::runs(&text).filter(|r| r.han && r.end - r.start >= 6) {
            runs.push(text[run.start..run.end].chars().collect());
        }
    }
    runs
}

/// An index of `docs`, with the pair field or without.
fn index_with_layout(docs: Vec<Document>, pairs: bool) -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let options = crate::OpenOptions { pairs: Some(pairs), ..Default::default() };
    let index = Index::create_with(dir.path().join("i"), options).unwrap();
    index.add_documents(docs).unwrap();
    (dir, index)
}

#[test]
fn chinese_recall_is_complete_and_phrases_are_exact() {
    recall_is_complete_and_phrases_are_exact(false);
}

#[test]
fn chinese_recall_is_complete_and_phrases_are_exact_with_the_pair_field() {
    recall_is_complete_and_phrases_are_exact(true);
}

fn recall_is_complete_and_phrases_are_exact(pairs: bool) {
    let docs = bundled_corpus();
    let (_dir, index) = index_with_layout(docs.clone(), pairs);
    let texts: Vec<(String, String)> = docs.iter().map(|d| (d.id.clone(), han_text(d))).collect();
    let runs = han_runs(&docs);
    let containing = |needle: &str| -> BTreeSet<String> {
        texts.iter().filter(|(_, t)| t.contains(needle)).map(|(id, _)| id.clone()).collect()
    };

    let config = ProptestConfig { cases: cases(200), failure_persistence: None, ..ProptestConfig::default() };
    let strategy = (0..runs.len(), 0usize..1000, 1usize..=6, 0..runs.len(), 0usize..1000);
    proptest!(config, |((run_index, start, len, other_run, other_start) in strategy)| {
        let run = &runs[run_index];
        let len = len.min(run.len());
        let start = start % (run.len() - len + 1);
        let needle: String = run[start..start + len].iter().collect();
        let expected = containing(&needle);
        prop_assert!(!expected.is_empty());
        let unquoted = id_set(&index, &needle);
        prop_assert!(expected.is_subset(&unquoted), "unquoted {needle}: missing {:?}", expected.difference(&unquoted).collect::<Vec<_>>());
        let quoted = id_set(&index, &format!("\"{needle}\""));
        prop_assert_eq!(&quoted, &expected, "quoted {}", needle);

        // A string spliced from two places usually occurs nowhere: quoted must say so exactly.
        let other = &runs[other_run];
        let cut = other_start % other.len();
        let spliced: String = run[start..start + len].iter().chain(&other[cut..(cut + 2).min(other.len())]).collect();
        let quoted = id_set(&index, &format!("\"{spliced}\""));
        prop_assert_eq!(&quoted, &containing(&spliced), "quoted spliced {}", spliced);
    });
}

#[test]
fn quoted_strings_mixing_han_digits_latin_and_punctuation_are_exact() {
    let docs = bundled_corpus();
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create(dir.path().join("i")).unwrap();
    index.add_documents(docs.clone()).unwrap();
    // Each field as verification compares it: a string spanning two fields is no match.
    let fields: Vec<(String, Vec<String>)> = docs
        .iter()
        .map(|d| {
            let texts = [d.title.as_str(), d.source.as_deref().unwrap_or(""), &d.zh, &d.en];
            (d.id.clone(), texts.iter().map(|t| super::verify::comparable(t)).collect())
        })
        .collect();
    let containing = |needle: &str| -> BTreeSet<String> {
        fields.iter().filter(|(_, ts)| ts.iter().any(|t| t.contains(needle))).map(|(id, _)| id.clone()).collect()
    };
    // Pieces of the texts that hold Han and something else (digits, letters, punctuation):
    // around each place where Han meets a character of another kind.
    let texts: Vec<Vec<char>> = fields.iter().flat_map(|(_, ts)| ts.iter().map(|t| t.chars().collect())).collect();
    let quote = |c: char| matches!(c, '"' | '“' | '”' | '「' | '」' | '『' | '』');
    let boundaries: Vec<(usize, usize)> = texts
        .iter()
        .enumerate()
        .flat_map(|(t, chars)| {
            (0..chars.len().saturating_sub(1))
                .filter(|&i| {
                    let (a, b) = (chars[i], chars[i + 1]);
                    let other = |c: char| !script::is_han(c) && !c.is_whitespace() && !quote(c);
                    (script::is_han(a) && other(b)) || (other(a) && script::is_han(b))
                })
                .map(move |i| (t, i))
        })
        .collect();
    assert!(boundaries.len() > 100, "{}", boundaries.len());
    let config = ProptestConfig { cases: cases(300), failure_persistence: None, ..ProptestConfig::default() };
    let strategy = (0..boundaries.len(), 0usize..5, 1usize..6);
    proptest!(config, |((b, before, after) in strategy)| {
        let (t, i) = boundaries[b];
        let text = &texts[t];
        let (start, end) = (i.saturating_sub(before), (i + 1 + after).min(text.len()));
        let needle: String = text[start..end].iter().collect();
        let needle = needle.trim();
        prop_assume!(!needle.chars().any(|c| quote(c) || c == '\n'));
        let expected = containing(needle);
        prop_assert!(!expected.is_empty());
        let found = id_set(&index, &format!("\"{needle}\""));
        prop_assert_eq!(&found, &expected, "quoted {:?}", needle);
    });
}

#[test]
fn the_exact_string_ranks_first() {
    // The reported case: an unspaced query whose words also occur apart.
    let (_d, index) = index_of(&[
        ("apart", "t", "行政区由省决定，省与行政区的关系，行政区与省的关系，省管行政区。"),
        ("exact", "t", "设立省行政区的条件由法律规定。"),
        ("also", "t", "省行政区与特别行政区的比较研究，兼论省行政区的历史沿革和今后的改革方向。"),
    ]);
    let hits = ids(&index, "省行政区");
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[2], "apart", "{hits:?}");
}

#[test]
fn documents_holding_the_exact_query_string_rank_above_the_rest() {
    exact_string_holders_rank_first(false);
}

#[test]
fn documents_holding_the_exact_query_string_rank_above_the_rest_with_the_pair_field() {
    exact_string_holders_rank_first(true);
}

fn exact_string_holders_rank_first(pairs: bool) {
    let docs = bundled_corpus();
    let (_dir, index) = index_with_layout(docs.clone(), pairs);
    let texts: std::collections::HashMap<String, String> = docs.iter().map(|d| (d.id.clone(), han_text(d))).collect();
    let runs = han_runs(&docs);
    let config = ProptestConfig { cases: cases(200), failure_persistence: None, ..ProptestConfig::default() };
    let strategy = (0..runs.len(), 0usize..1000, 3usize..=6);
    proptest!(config, |((run_index, start, len) in strategy)| {
        let run = &runs[run_index];
        let len = len.min(run.len());
        let start = start % (run.len() - len + 1);
        let needle: String = run[start..start + len].iter().collect();
        let hits = ids(&index, &needle);
        let holds: Vec<bool> = hits.iter().map(|id| texts[id].contains(&needle)).collect();
        // Every document with the string, then every document without it.
        let first_without = holds.iter().position(|h| !h).unwrap_or(holds.len());
        prop_assert!(holds[first_without..].iter().all(|h| !h), "{needle}: {hits:?} {holds:?}");
        prop_assert!(holds.iter().any(|h| *h), "{needle} finds the document it came from");
    });
}

#[test]
fn the_pair_field_finds_what_phrases_of_characters_find() {
    // The bundled corpus, and texts where the character field holds two tokens at a place: a
    // second reading (於 / 于), a character converted alone (畫 in 計畫), a conversion-table word.
    let mut docs = bundled_corpus();
    for (id, text) in
        [("reading", "关於此事的报告，乾燥的天气"), ("variant", "流感疫苗接種計畫正式開跑"), ("table", "他打壞了車")]
    {
        docs.push(Document::new(id, "t").with_text(text));
    }
    let (_p, pairs) = index_with_layout(docs.clone(), true);
    let (_c, chars) = index_with_layout(docs.clone(), false);
    let answers = |index: &Index, query: &str| {
        let results = index.search(&Query::new(query).limit(1000)).unwrap();
        (results.total, results.hits.into_iter().map(|h| h.id).collect::<BTreeSet<_>>())
    };
    let mut queries: Vec<String> =
        ["關於", "关于此事", "\"關於此事\"", "畫", "計畫", "\"接種計畫\"", "打坏", "\"打坏了车\"", "乾燥 报告"]
            .iter()
            .map(|q| q.to_string())
            .collect();
    // Every string of one to five characters at every fifth place of the corpus's Han runs.
    for run in han_runs(&docs) {
        for start in (0..run.len()).step_by(5) {
            for len in 1..=5.min(run.len() - start) {
                let piece: String = run[start..start + len].iter().collect();
                queries.push(format!("\"{piece}\""));
                queries.push(piece);
            }
        }
    }
    assert!(queries.len() > 1000, "{}", queries.len());
    for query in &queries {
        assert_eq!(answers(&pairs, query), answers(&chars, query), "{query}");
    }
    assert!(pairs.stats().unwrap().fields.contains(&"pairs".to_string()));
    assert!(!chars.stats().unwrap().fields.contains(&"pairs".to_string()));
}

#[test]
fn a_quoted_string_never_runs_from_one_text_into_the_next_with_the_pair_field() {
    // Title and body are two values of the character field: a pair spans two positions, so
    // the body starts where it does among the characters, not one place early.
    let docs = vec![Document::new("a", "环球周刊").with_text("美国发布报告")];
    let (_d, index) = index_with_layout(docs, true);
    assert!(ids(&index, "\"周刊美国\"").is_empty());
    assert!(ids(&index, "\"刊美\"").is_empty());
    assert_eq!(ids(&index, "\"环球周刊\""), vec!["a"]);
    assert_eq!(ids(&index, "\"美国发布\""), vec!["a"]);
}

mod fuzz {
    //! Property tests: any query against any documents returns results or a clean error, and
    //! every highlight range lies on character boundaries of its snippet. Longer runs:
    //! `PROPTEST_CASES=20000 cargo test --release fuzz`.
    use super::*;

    fn doc_text() -> impl Strategy<Value = String> {
        "[a-z0-9 .,\n\u{4e00}-\u{4e20}\u{3002}\u{ff0c}\u{ff21}-\u{ff30}-]{0,300}"
    }

    #[test]
    fn any_query_on_any_documents_is_safe() {
        let config = ProptestConfig { cases: cases(64), failure_persistence: None, ..ProptestConfig::default() };
        let docs = proptest::collection::vec((doc_text(), doc_text()), 1..6);
        let query = "([\"()\\-*~: ]|OR|NOT|title:|zh:|date:\\[2020-01-01 TO \\*\\]|[a-z0-9]{1,4}|[\u{4e00}-\u{4e20}]{1,4}){1,8}";
        proptest!(config, |(docs in docs, query in query, chars in 1usize..200)| {
            let dir = tempfile::tempdir().unwrap();
            let index = Index::create(dir.path().join("i")).unwrap();
            index.add_documents(docs.iter().enumerate().map(|(i, (t, b))| Document::new(i.to_string(), t.as_str()).with_text(b))).unwrap();
            if let Ok(results) = index.search(&Query::new(query.as_str()).snippet_chars(chars).limit(10).explain(chars % 2 == 0)) {
                for hit in &results.hits {
                    for snippet in [&hit.snippets.zh, &hit.snippets.en].into_iter().flatten() {
                        for [s, e] in &snippet.highlights {
                            prop_assert!(s < e && snippet.text.is_char_boundary(*s) && snippet.text.is_char_boundary(*e));
                        }
                        prop_assert_eq!(snippet.highlights.len(), snippet.char_highlights.len());
                    }
                }
            }
        });
    }
}

#[test]
fn explaining_a_document_before_the_first_exact_run_is_no_trouble() {
    // Found by the fuzz test: explaining a hit sought the exact run's phrase scorer back from
    // a later document, which tantivy asserts against.
    let (_d, index) = index_of_documents([Document::new("0", "").with_text("一")]);
    let query = Query::new("OR一丂date:[2020-01-01 TO *]丂一丌一OR").explain(true);
    let _ = index.search(&query);
    let results = index.search(&Query::new("一 丌一").any(true).explain(true)).unwrap();
    assert!(results.hits.iter().all(|h| h.explanation.is_some()));
}

#[test]
fn a_negated_phrase_that_matches_nothing_is_no_trouble() {
    // Found by the fuzz test: a pure exclusion whose character phrase matches nothing tripped
    // a debug assertion inside tantivy.
    let (_d, index) = index_of(&[("a", "丟.y。-yh169f6", "ＬＭ丒。t 丐。8j,丄丑6 与84 三 丕")]);
    assert_eq!(ids(&index, "-丟三丕丒"), vec!["a"]);
    assert!(ids(&index, "-丐").is_empty());
}

#[test]
fn latin_phrases_in_chinese_text_are_exact_without_word_positions_in_zh() {
    // zh keeps no positions; the Latin words of Chinese text are in en too, stretch by stretch.
    let (_d, index) = index_of(&[
        ("together", "t", "美国商务部把这些公司列入entity list，引起关注。"),
        ("apart", "t", "这份entity名单很长，另一份list也不短。"),
        ("across", "t", "苹果公司发布Apple新品Watch上市。"),
        ("english", "t", "The entity list grew again."),
    ]);
    assert_eq!(id_set(&index, "\"entity list\""), set(&["together", "english"]));
    assert_eq!(id_set(&index, "zh:\"entity list\""), set(&["together"]));
    assert!(id_set(&index, "\"apple watch\"").is_empty());
    assert_eq!(id_set(&index, "apple watch"), set(&["across"]));
    // Unquoted, the words of Chinese text are found in either field.
    assert_eq!(id_set(&index, "entity"), set(&["together", "apart", "english"]));
    assert_eq!(id_set(&index, "zh:entity"), set(&["together", "apart"]));
}

#[test]
fn adjacent_chinese_words_rank_above_the_same_words_apart() {
    let (_d, index) = index_of(&[
        ("apart", "t", "芬太尼的来源十分复杂，这场危机仍在加剧，官员表示担忧。"),
        ("together", "t", "美国的芬太尼危机仍在加剧，官员表示担忧。"),
    ]);
    for query in ["芬太尼 危机", "芬太尼 危机 官员 担忧"] {
        assert_eq!(ids(&index, query), vec!["together", "apart"], "{query}");
        let any = index.search(&Query::new(query).any(true)).unwrap();
        assert_eq!(any.hits[0].id, "together", "{query} --any");
    }
    let explained = index.search(&Query::new("芬太尼 危机").explain(true)).unwrap();
    let parts: Vec<&str> = explained.hits[0].explanation.as_ref().unwrap().iter().map(|p| p.part.as_str()).collect();
    assert!(parts.contains(&"zh:芬太尼") && parts.contains(&"grams:芬"), "{parts:?}");
}

/// Documents made of sentences of the bundled corpus, a few per document, in a fixed
/// pseudo-random choice: enough documents for many cells of the top-k search.
fn sentence_mix(count: usize) -> Vec<Document> {
    let sentences: Vec<String> = bundled_corpus()
        .iter()
        .flat_map(|d| {
            d.zh.split(['。', '；', '\n'])
                .map(str::trim)
                .filter(|s| s.chars().count() >= 4)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    (0..count)
        .map(|i| {
            let text: Vec<&str> = (0..1 + next(6)).map(|_| sentences[next(sentences.len())].as_str()).collect();
            Document::new(format!("d{i}"), "").with_text(&text.join("。"))
        })
        .collect()
}

#[test]
fn top_chinese_hits_are_those_of_scoring_every_match() {
    let docs = sentence_mix(3000);
    let (_d, index) = index_of_documents(docs.clone());
    // Deleted documents inside the cells: replaced ones.
    index.add_documents(docs.iter().step_by(7).cloned().map(|d| d.with_text("替换后的文本，人民法院审理。"))).unwrap();
    let runs = han_runs(&docs);
    let config = ProptestConfig { cases: cases(150), failure_persistence: None, ..ProptestConfig::default() };
    let strategy = (0..runs.len(), 0usize..1000, 1usize..=5, 0..runs.len(), 0usize..6, 0usize..3);
    proptest!(config, |((run_index, start, len, other, shape, page) in strategy)| {
        let piece = |run: &[char], start: usize, len: usize| -> String {
            let len = len.min(run.len());
            let start = start % (run.len() - len + 1);
            run[start..start + len].iter().collect()
        };
        let needle = piece(&runs[run_index], start, len);
        let second = piece(&runs[other], start / 3, 2);
        let query = match shape {
            0 => needle.clone(),
            1 => format!("{needle} {second}"),
            2 => format!("{needle} -{second}"),
            3 => format!("{needle} OR {second}"),
            // Quoted Chinese: an exact filter, ranked by the Chinese evidence too.
            4 => format!("\"{needle}\""),
            _ => format!("\"{needle}\" {second}"),
        };
        let (limit, offset) = [(10, 0), (3, 0), (10, 5)][page];
        let ask = |prune: bool| {
            let mut request = Query::new(query.as_str()).limit(limit).offset(offset).snippet_chars(0);
            request.prune = prune;
            index.search(&request).unwrap()
        };
        let (pruned, every) = (ask(true), ask(false));
        let scores = |r: &crate::SearchResults| r.hits.iter().map(|h| h.score).collect::<Vec<_>>();
        prop_assert_eq!(pruned.hits.len(), every.hits.len(), "{}", query);
        for (a, b) in scores(&pruned).iter().zip(scores(&every)) {
            prop_assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{}: {:?} against {:?}", query, scores(&pruned), scores(&every));
        }
        // Same documents, except among those tied with the last score shown.
        let last = every.hits.last().map_or(0.0, |h| h.score);
        let firm = |r: &crate::SearchResults| -> Vec<String> {
            r.hits.iter().filter(|h| (h.score - last).abs() > 1e-4 * last.abs().max(1.0)).map(|h| h.id.clone()).collect()
        };
        prop_assert_eq!(firm(&pruned), firm(&every), "{}", query);
        prop_assert_eq!(pruned.total, every.total, "{}", query);
    });
}

/// English words for the pruning tests: a few common, most rare (Zipf-like draws).
const ENGLISH_WORDS: &[&str] = &[
    "oil", "price", "bank", "rate", "trade", "market", "share", "profit", "coffee", "tonne", "dividend", "export",
    "wheat", "copper", "yield", "bond", "crude", "grain", "sugar", "steel", "cargo", "tariff", "quota", "harvest",
];

#[test]
fn top_hits_of_any_term_unions_are_those_of_scoring_every_match() {
    // Unions of terms that are not ranked by the Chinese evidence alone (English words, mixed
    // queries, --any): pruned by tantivy's block-max WAND, counted up to the limit.
    let mut docs = sentence_mix(2000);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for doc in &mut docs {
        let count = 1 + next(30);
        let mut words = Vec::with_capacity(count);
        for _ in 0..count {
            let common = 1 + next(ENGLISH_WORDS.len());
            words.push(ENGLISH_WORDS[next(common)]);
        }
        doc.en = words.join(" ");
    }
    let (_d, index) = index_of_documents(docs.clone());
    index.add_documents(docs.iter().step_by(9).cloned().map(|d| d.with_text("oil 替换后的文本。"))).unwrap();
    let runs = han_runs(&docs);
    let config = ProptestConfig { cases: cases(100), failure_persistence: None, ..ProptestConfig::default() };
    let strategy =
        (prop::collection::vec(0..ENGLISH_WORDS.len(), 1..6), 0..runs.len(), 0usize..3, any::<bool>(), 0usize..3);
    proptest!(config, |((words, run, han, any, page) in strategy)| {
        let mut query: Vec<String> = words.iter().map(|&w| ENGLISH_WORDS[w].to_string()).collect();
        if han > 0 {
            query.push(runs[run].iter().take(han + 1).collect());
        }
        let query = query.join(" ");
        let (limit, offset) = [(10, 0), (3, 0), (10, 5)][page];
        let ask = |prune: bool| {
            let mut request = Query::new(query.as_str()).limit(limit).offset(offset).any(any).snippet_chars(0);
            request.prune = prune;
            index.search(&request).unwrap()
        };
        let (pruned, every) = (ask(true), ask(false));
        let scores = |r: &crate::SearchResults| r.hits.iter().map(|h| h.score).collect::<Vec<_>>();
        prop_assert_eq!(pruned.hits.len(), every.hits.len(), "{}", query);
        for (a, b) in scores(&pruned).iter().zip(scores(&every)) {
            prop_assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{}: {:?} against {:?}", query, scores(&pruned), scores(&every));
        }
        let last = every.hits.last().map_or(0.0, |h| h.score);
        let firm = |r: &crate::SearchResults| -> Vec<String> {
            r.hits.iter().filter(|h| (h.score - last).abs() > 1e-4 * last.abs().max(1.0)).map(|h| h.id.clone()).collect()
        };
        prop_assert_eq!(firm(&pruned), firm(&every), "{}", query);
        prop_assert_eq!(pruned.total, every.total, "{}", query);
    });
}

#[test]
fn a_limited_count_is_the_exact_count_up_to_the_limit() {
    // Counting stops at the limit, through the query's words alone where they reach it (a
    // quoted string's word) or through the whole query.
    let docs = sentence_mix(1500);
    let (_d, index) = index_of_documents(docs.clone());
    index.add_documents(docs.iter().step_by(11).cloned().map(|d| d.with_text("替换后的文本，人民法院审理。"))).unwrap();
    let runs = han_runs(&docs);
    let config = ProptestConfig { cases: cases(100), failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |((run, start, len, shape, limit) in (0..runs.len(), 0usize..1000, 1usize..=4, 0usize..3, 1usize..300))| {
        let chars = &runs[run];
        let len = len.min(chars.len());
        let start = start % (chars.len() - len + 1);
        let needle: String = chars[start..start + len].iter().collect();
        let query = match shape {
            0 => needle.clone(),
            1 => format!("\"{needle}\""),
            _ => format!("{needle} 人民"),
        };
        let mut exact = Query::new(query.as_str()).limit(1);
        exact.prune = false;
        let exact = index.search(&exact).unwrap().total;
        let limited = index.search(&Query::new(query.as_str()).limit(1).count_limit(limit)).unwrap();
        prop_assert_eq!(limited.total, exact.min(limit), "{}", query);
        prop_assert_eq!(limited.total_is_lower_bound, exact > limit, "{}", query);
    });
}

#[test]
fn totals_past_the_count_limit_are_lower_bounds() {
    let (_d, index) =
        index_of(&[("a", "t", "人民法院"), ("b", "t", "人民政府"), ("c", "t", "人民代表"), ("d", "t", "人民群众")]);
    let results = index.search(&Query::new("人民").count_limit(2)).unwrap();
    assert_eq!((results.total, results.total_is_lower_bound, results.hits.len()), (2, true, 4));
    let results = index.search(&Query::new("人民").count_limit(4)).unwrap();
    assert_eq!((results.total, results.total_is_lower_bound), (4, false));
    let results = index.search(&Query::new("人民")).unwrap();
    assert_eq!((results.total, results.total_is_lower_bound), (4, false));
    // A quoted Chinese string is counted the same way.
    let results = index.search(&Query::new("\"人民\"").count_limit(2)).unwrap();
    assert_eq!((results.total, results.total_is_lower_bound, results.hits.len()), (2, true, 4));
}

#[test]
fn a_quoted_chinese_string_ranks_its_matches_by_the_chinese_evidence() {
    // Every match holds the string; the one where it is most of the text ranks first, as for
    // the same words unquoted, and only matches are returned.
    let (_d, index) = index_of(&[
        ("long", "t", "今天的新闻很多，其中一条说人民法院发布了一份关于审判工作的年度报告和统计。"),
        ("short", "t", "人民法院"),
        ("apart", "t", "人民的法院"),
    ]);
    assert_eq!(ids(&index, "\"人民法院\""), vec!["short", "long"]);
    assert_eq!(ids(&index, "人民法院")[..2], ["short", "long"]);
}

#[test]
fn an_excluded_phrase_excludes_only_documents_holding_it() {
    // Found by comparing the top-k search with scoring every match: once the exclusion's
    // phrase scorer had missed a document holding its characters apart, the next candidate
    // was answered from where the scorer stood and excluded without holding the phrase.
    let docs = sentence_mix(3000);
    let (_d, index) = index_of_documents(docs.clone());
    let texts: std::collections::HashMap<String, String> = docs.iter().map(|d| (d.id.clone(), han_text(d))).collect();
    for (wanted, excluded) in [("研发", "哥投"), ("中国", "美国"), ("发展", "经济"), ("的", "和")] {
        let all = index.search(&Query::new(wanted).limit(3000).snippet_chars(0)).unwrap();
        let query = format!("{wanted} -{excluded}");
        let kept: BTreeSet<String> = index
            .search(&Query::new(query.as_str()).limit(3000).snippet_chars(0))
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect();
        let expected: BTreeSet<String> =
            all.hits.into_iter().map(|h| h.id).filter(|id| !texts[id].contains(excluded)).collect();
        assert!(!expected.is_empty(), "{query}");
        assert_eq!(kept, expected, "{query}");
    }
}

#[test]
fn rankings_compare_ties_aside() {
    let (_dir, index) = index_of(&[
        ("strong", "t", "apple apple pie"),
        ("tie-1", "t", "apple pie"),
        ("tie-2", "t", "apple pie"),
        ("weak", "t", "apple pie with a much longer crust of many more words"),
    ]);
    let results = index.search(&Query::new("apple")).unwrap();
    let order: Vec<&str> = results.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!((order[0], order[3]), ("strong", "weak"), "{order:?}");
    assert!(results.ranks_like(&results));
    let reordered = |a: usize, b: usize| {
        let mut other = results.clone();
        other.hits.swap(a, b);
        other
    };
    assert!(results.ranks_like(&reordered(1, 2)), "equal scores in either order");
    assert!(!results.ranks_like(&reordered(0, 1)), "a higher score after a lower one");
    let mut fewer = results.clone();
    fewer.hits.pop();
    assert!(!results.ranks_like(&fewer));
    // One page of more: its last group may go on past the page, on the other side in other hits.
    let page = index.search(&Query::new("apple").limit(2)).unwrap();
    let mut other = page.clone();
    other.hits[1].id = if page.hits[1].id == "tie-1" { "tie-2" } else { "tie-1" }.to_string();
    assert!(page.ranks_like(&other));
    assert!(!results.ranks_like(&{
        let mut whole = results.clone();
        whole.hits[3].id = "elsewhere".into();
        whole
    }));
}

#[test]
fn a_boost_reorders_english_chinese_and_quoted_atoms() {
    let (_d, index) = index_of(&[
        ("oil", "Oil", "Oil prices rose. 石油价格上涨。"),
        ("gas", "Gas", "Gas prices fell. 天然气价格下跌。"),
    ]);
    // Each pair: the same two alternatives, either one boosted, and the boosted one ranks first.
    let pairs =
        [("oil", "gas"), ("石油", "天然气"), ("\"oil prices\"", "\"gas prices\""), ("\"石油价格\"", "\"天然气价格\"")];
    for (left, right) in pairs {
        let first = |query: String| ids(&index, &query)[0].clone();
        assert_eq!(first(format!("{left}^10 OR {right}")), "oil", "{left}");
        assert_eq!(first(format!("{left} OR {right}^10")), "gas", "{right}");
    }
    // A boost multiplies the score.
    let score = |query: &str| index.search(&Query::new(query)).unwrap().hits[0].score;
    let (plain, boosted) = (score("oil"), score("oil^3"));
    assert!((boosted / plain - 3.0).abs() < 1e-3, "{plain} {boosted}");
    // The matches are the same.
    assert_eq!(id_set(&index, "价格^5"), id_set(&index, "价格"));
}

#[test]
fn in_all_terms_mode_the_exact_string_still_ranks_above_a_boosted_alternative() {
    let (_d, index) = index_of(&[
        ("exact", "进展", "芬太尼合作取得进展。"),
        ("boosted", "供应", "天然气供应充足。"),
        ("apart", "无关", "合作与芬太尼无关。"),
    ]);
    // The documented rule: a boost weighs words, the exact string of an unspaced run of several
    // words (芬太尼 合作) comes first.
    assert_eq!(ids(&index, "芬太尼合作 OR 天然气^50")[0], "exact");
    // Without an exact run among the alternatives, the boost decides.
    assert_eq!(ids(&index, "芬太尼 OR 天然气^50")[0], "boosted");
}
