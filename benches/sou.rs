//! sou's benchmark harness: `cargo bench --bench sou [-- SECTION...]`.
//!
//! Sections: `index` (whole `sou index` processes: MB/s, docs/s, peak memory, index size),
//! `extras` (the Chinese-analysis extras against a plain jieba + tantivy baseline), `recall`
//! (random pieces of Traditional poems must find their poem), `eval`
//! (nDCG@10 on SciFact train and LeCaRD, with a jieba + BM25 baseline), `query`
//! (warm latency in-process), `cold` (whole `sou search` processes), `serve` (HTTP API under
//! load from this process), `peers` (SQLite FTS5 with jieba, FTS5 trigram, ripgrep; needs
//! `pip install jieba` and ripgrep). No section = all of these; `scale` (100 MB to 3 GB mixes,
//! about an hour) and `cluster` (bulk ingest into a two-node OpenSearch started for it, or the
//! one at `$SOU_OPENSEARCH_URL`) run only when named.
//!
//! Corpora come from `../shared/data` (or `$SOU_DATA`) and are unpacked once into
//! `target/tmp/bench-data`; without them only the bundled corpus is measured. Figures go to
//! stdout as Markdown tables for BENCHMARKS.md.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sou::{Document, Index, OpenOptions, Query};

#[path = "sou/cluster.rs"]
mod cluster;
#[path = "sou/scale.rs"]
mod scale;

const SOU: &str = env!("CARGO_BIN_EXE_sou");

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data")
}

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SOU_DATA").map(PathBuf::from).unwrap_or_else(|| manifest_dir().join("../shared/data"));
    dir.is_dir().then_some(dir)
}

fn open_compressed(path: &Path) -> Box<dyn Read> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match path.extension().and_then(|e| e.to_str()) {
        Some("zst") => Box::new(zstd::Decoder::new(file).expect("zstd")),
        Some("gz") => Box::new(flate2::read::GzDecoder::new(file)),
        _ => Box::new(file),
    }
}

fn json_lines(path: &Path) -> impl Iterator<Item = serde_json::Value> + use<> {
    BufReader::new(open_compressed(path)).lines().map(|l| serde_json::from_str(&l.expect("read")).expect("json"))
}

/// A corpus prepared for benchmarking.
struct Corpus {
    name: &'static str,
    path: PathBuf,
    bytes: u64,
    docs: usize,
}

/// Writes `{"id","title","text"[,"date"]}` lines; returns the corpus description.
fn write_jsonl(name: &'static str, docs: impl Iterator<Item = serde_json::Value>) -> Corpus {
    let path = work_dir().join(format!("{name}.jsonl"));
    let mut count = 0;
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let mut out = BufWriter::new(File::create(&tmp).unwrap());
        for doc in docs {
            serde_json::to_writer(&mut out, &doc).unwrap();
            out.write_all(b"\n").unwrap();
        }
        out.flush().unwrap();
        fs::rename(&tmp, &path).unwrap();
    }
    let bytes = fs::metadata(&path).unwrap().len();
    for line in BufReader::new(File::open(&path).unwrap()).lines() {
        count += usize::from(!line.unwrap().trim().is_empty());
    }
    Corpus { name, path, bytes, docs: count }
}

fn pick(value: &serde_json::Value, keys: &[&str]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for key in keys {
        if let Some(v) = value.get(*key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    serde_json::Value::Object(out)
}

/// Reuters dates look like `26-FEB-1987 15:01:01.79`.
fn reuters_date(raw: &str) -> Option<String> {
    const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    let mut parts = raw.trim().split(['-', ' ']);
    let day: u32 = parts.next()?.parse().ok()?;
    let month = MONTHS.iter().position(|m| Some(*m) == parts.clone().next())? + 1;
    parts.next();
    let year: u32 = parts.next()?.parse().ok()?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// Unpacks the evaluation corpora and builds the bilingual news mix: every Reuters story with
/// a body, preceded by a ~800-character Chinese passage taken in order from the laws corpus
/// (the shape of the seed documents: a Chinese summary and an English body).
fn prepare(data: &Path) -> Vec<Corpus> {
    fs::create_dir_all(work_dir()).unwrap();
    let mut corpora = Vec::new();
    corpora.push(write_jsonl("news-mix", {
        let law_lines: Vec<String> = json_lines(&data.join("zh-laws/corpus.jsonl.zst"))
            .flat_map(|v| {
                let text = v["text"].as_str().unwrap_or_default().to_string();
                text.lines()
                    .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut laws = law_lines.into_iter().cycle();
        json_lines(&data.join("en-reuters21578/corpus.jsonl.gz")).filter_map(move |v| {
            let body = v["text"].as_str().unwrap_or_default();
            if body.trim().is_empty() {
                return None;
            }
            let mut zh = String::new();
            while zh.chars().count() < 800 {
                zh.push_str(&laws.next()?);
            }
            let mut doc = serde_json::json!({
                "id": format!("r{}", v["id"].as_str().unwrap_or_default()),
                "title": v["title"],
                "text": format!("{zh}\n{body}"),
            });
            if let Some(date) = v["date"].as_str().and_then(reuters_date) {
                doc["date"] = date.into();
            }
            Some(doc)
        })
    }));
    corpora.push(write_jsonl(
        "lecard",
        json_lines(&data.join("lecard/corpus.jsonl.zst")).map(|v| pick(&v, &["id", "title", "text"])),
    ));
    corpora.push(write_jsonl(
        "zh-laws",
        json_lines(&data.join("zh-laws/corpus.jsonl.zst")).map(|v| pick(&v, &["id", "title", "text"])),
    ));
    corpora.push(write_jsonl(
        "zh-poetry",
        json_lines(&data.join("zh-poetry/corpus.jsonl.zst")).map(|v| pick(&v, &["id", "title", "text"])),
    ));
    corpora.push(write_jsonl(
        "reuters",
        json_lines(&data.join("en-reuters21578/corpus.jsonl.gz"))
            // 737 stories have neither title nor body: nothing to index.
            .filter(|v| [&v["title"], &v["text"]].iter().any(|f| !f.as_str().unwrap_or_default().trim().is_empty()))
            .map(|v| pick(&v, &["id", "title", "text"])),
    ));
    corpora
}

fn bundled() -> Corpus {
    let path = manifest_dir().join("corpus");
    let mut bytes = 0;
    for entry in walk_files(&path) {
        bytes += fs::metadata(entry).unwrap().len();
    }
    Corpus { name: "bundled corpus/", path, bytes, docs: 20 }
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn dir_size(dir: &Path) -> u64 {
    walk_files(dir).iter().filter_map(|p| fs::metadata(p).ok()).map(|m| m.len()).sum()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Runs a command under `/usr/bin/time`; returns (wall time, peak RSS bytes, stdout).
fn timed(cmd: &mut Command) -> (Duration, u64, String) {
    let mut time = Command::new("/usr/bin/time");
    time.arg("-f").arg("@@ %e %M").arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        time.current_dir(dir);
    }
    let out = time.output().expect("run /usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().rev().find(|l| l.starts_with("@@ ")).unwrap_or_else(|| panic!("no timing: {stderr}"));
    let mut parts = line[3..].split_whitespace();
    let secs: f64 = parts.next().unwrap().parse().unwrap();
    let kb: u64 = parts.next().unwrap().parse().unwrap();
    (Duration::from_secs_f64(secs), kb * 1024, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn index_section(corpora: &[Corpus]) {
    println!("\n### Indexing: whole `sou index` process (start to exit, best of 2)\n");
    println!("| corpus | input MB | docs | threads | wall s | MB/s | docs/s | peak RSS MB | index MB | index/input |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for corpus in corpora {
        for threads in [1, 2] {
            let index_dir = work_dir().join(format!("idx-{}-{threads}", corpus.name.replace(['/', ' '], "")));
            // Best of two runs: this machine's timings vary by ~10% between runs.
            let (wall, rss, stdout) = (0..2)
                .map(|_| {
                    let _ = fs::remove_dir_all(&index_dir);
                    timed(
                        Command::new(SOU)
                            .args(["index", "-q", "--json", "--threads", &threads.to_string(), "--index"])
                            .arg(&index_dir)
                            .arg(&corpus.path),
                    )
                })
                .min_by_key(|run| run.0)
                .unwrap();
            let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("report");
            let docs = report["documents"].as_u64().unwrap_or(0) as usize;
            let size = dir_size(&index_dir);
            let secs = wall.as_secs_f64().max(1e-3);
            println!(
                "| {} | {:.1} | {} | {threads} | {:.2} | {:.1} | {:.0} | {:.0} | {:.1} | {:.2} |",
                corpus.name,
                mb(corpus.bytes),
                docs,
                secs,
                mb(corpus.bytes) / secs,
                docs as f64 / secs,
                mb(rss),
                mb(size),
                size as f64 / corpus.bytes as f64
            );
            assert_eq!(docs, corpus.docs, "{}: every document indexed", corpus.name);
        }
    }
}

/// CPU time (user + system) of this process so far, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum();
    ticks / 100.0
}

fn read_docs(corpus: &Corpus) -> Vec<Document> {
    BufReader::new(File::open(&corpus.path).unwrap())
        .lines()
        .map(|l| Document::from_json_line(&l.unwrap()).expect("valid line"))
        .collect()
}

/// The core pipeline without sou's Chinese extras: the core issue's schema (id, path, source,
/// title, date, zh, en), jieba words for Chinese, tantivy's default analyzer for English, no
/// normalization, no stemming, no recall field.
mod baseline {
    use jieba_rs::Jieba;
    use std::sync::{Arc, LazyLock};
    use tantivy::schema::{DateOptions, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
    use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

    static JIEBA: LazyLock<Arc<Jieba>> = LazyLock::new(|| Arc::new(Jieba::new()));

    #[derive(Clone)]
    pub struct JiebaTokenizer(Vec<Token>);

    pub struct Stream<'a>(&'a mut Vec<Token>, usize);

    impl Tokenizer for JiebaTokenizer {
        type TokenStream<'a> = Stream<'a>;
        fn token_stream<'a>(&'a mut self, text: &'a str) -> Stream<'a> {
            self.0.clear();
            for (position, t) in JIEBA.cut(text, true).into_iter().filter(|t| t.word.trim() != "").enumerate() {
                self.0.push(Token {
                    offset_from: t.byte_start,
                    offset_to: t.byte_end,
                    position,
                    text: t.word.to_lowercase(),
                    position_length: 1,
                });
            }
            Stream(&mut self.0, 0)
        }
    }

    impl TokenStream for Stream<'_> {
        fn advance(&mut self) -> bool {
            self.1 += 1;
            self.1 <= self.0.len()
        }
        fn token(&self) -> &Token {
            &self.0[self.1 - 1]
        }
        fn token_mut(&mut self) -> &mut Token {
            &mut self.0[self.1 - 1]
        }
    }

    /// Indexes the documents' title, Chinese and English text; returns the index.
    pub fn index(docs: &[sou::Document], dir: &std::path::Path, threads: usize) -> tantivy::Result<tantivy::Index> {
        let mut b = Schema::builder();
        let text = |tokenizer: &str| {
            TextOptions::default()
                .set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer(tokenizer)
                        .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                )
                .set_stored()
        };
        let id = b.add_text_field("id", STRING | STORED);
        let path = b.add_text_field("path", STRING | STORED);
        let source = b.add_text_field("source", text("jieba"));
        let title = b.add_text_field("title", text("jieba"));
        let date = b.add_date_field("date", DateOptions::default().set_indexed().set_stored());
        let zh = b.add_text_field("zh", text("jieba"));
        let en = b.add_text_field("en", text("default"));
        let index = tantivy::Index::create_in_dir(dir, b.build())?;
        index.tokenizers().register("jieba", TextAnalyzer::from(JiebaTokenizer(Vec::new())));
        let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(threads, sou::DEFAULT_WRITER_MEMORY)?;
        for doc in docs {
            let mut d = tantivy::TantivyDocument::new();
            d.add_text(id, &doc.id);
            d.add_text(path, &doc.path);
            if let Some(text) = &doc.source {
                d.add_text(source, text);
            }
            d.add_text(title, &doc.title);
            if let Some(day) = doc.date {
                d.add_date(date, tantivy::DateTime::from_timestamp_secs(day.unix_seconds()));
            }
            d.add_text(zh, &doc.zh);
            d.add_text(en, &doc.en);
            writer.add_document(d)?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        Ok(index)
    }

    /// Jieba + BM25 ranking: the query's jieba words (stop words removed) as alternatives in
    /// the Chinese text field, as in the LeCaRD paper's baseline.
    pub fn search(
        index: &tantivy::Index,
        query: &str,
        stop_words: &std::collections::HashSet<String>,
        limit: usize,
    ) -> tantivy::Result<Vec<String>> {
        use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
        use tantivy::schema::Value;
        let schema = index.schema();
        let (zh, id) = (schema.get_field("zh")?, schema.get_field("id")?);
        let terms: Vec<(Occur, Box<dyn Query>)> = JIEBA
            .cut(query, true)
            .into_iter()
            .map(|t| t.word.trim().to_lowercase())
            .filter(|w| !w.is_empty() && w.chars().any(char::is_alphanumeric) && !stop_words.contains(w))
            .map(|w| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(tantivy::Term::from_field_text(zh, &w), IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        let searcher = index.reader()?.searcher();
        let top = searcher
            .search(&BooleanQuery::new(terms), &tantivy::collector::TopDocs::with_limit(limit).order_by_score())?;
        top.into_iter()
            .map(|(_, addr)| {
                let doc: tantivy::TantivyDocument = searcher.doc(addr)?;
                Ok(doc.get_first(id).and_then(|v| v.as_str()).unwrap_or_default().to_string())
            })
            .collect()
    }
}

/// Sou's full analysis against the core baseline, on the same parsed documents, in-process.
fn extras_section(corpora: &[Corpus]) {
    println!(
        "\n### Chinese extras vs core baseline (in-process, documents parsed beforehand, 2 threads, median of 9)\n"
    );
    println!(
        "| corpus | MB | core s | core MB/s | sou s | sou MB/s | sou / core wall | core CPU s | sou CPU s | sou / core CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for corpus in corpora.iter().filter(|c| matches!(c.name, "news-mix" | "lecard")) {
        let docs = read_docs(corpus);
        // Load jieba in both before timing; the process-level section measures loading.
        let _ = sou::analysis::analyze("预热", &sou::Segmenter::default());
        // Median of nine alternating runs of each, wall and CPU time (CPU time is steadier on
        // this shared virtual machine).
        let (mut base_runs, mut full_runs) = (Vec::new(), Vec::new());
        for _ in 0..9 {
            let base_dir = work_dir().join("extras-baseline");
            let _ = fs::remove_dir_all(&base_dir);
            fs::create_dir_all(&base_dir).unwrap();
            let (started, cpu) = (Instant::now(), cpu_seconds());
            baseline::index(&docs, &base_dir, 2).expect("baseline index");
            base_runs.push((started.elapsed().as_secs_f64(), cpu_seconds() - cpu));

            let sou_dir = work_dir().join("extras-sou");
            let _ = fs::remove_dir_all(&sou_dir);
            let options = OpenOptions { threads: Some(2), ..OpenOptions::default() };
            let index = Index::create_with(&sou_dir, options).unwrap();
            let (started, cpu) = (Instant::now(), cpu_seconds());
            index.add_documents(docs.iter().cloned()).unwrap();
            full_runs.push((started.elapsed().as_secs_f64(), cpu_seconds() - cpu));
        }
        let median = |runs: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
            let mut v: Vec<f64> = runs.iter().map(pick).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (base, full) = (median(&base_runs, |r| r.0), median(&full_runs, |r| r.0));
        let (base_cpu, full_cpu) = (median(&base_runs, |r| r.1), median(&full_runs, |r| r.1));
        println!(
            "| {} | {:.1} | {base:.2} | {:.1} | {full:.2} | {:.1} | {:.2} | {base_cpu:.2} | {full_cpu:.2} | {:.2} |",
            corpus.name,
            mb(corpus.bytes),
            mb(corpus.bytes) / base,
            mb(corpus.bytes) / full,
            full / base,
            full_cpu / base_cpu
        );
    }
}

/// Chinese recall on Traditional text: random pieces (1–4 characters) of the first 30,000 poems
/// of zh-poetry, searched unquoted and quoted; every piece must find the poem it came from.
fn recall_section(corpora: &[Corpus]) {
    let Some(corpus) = corpora.iter().find(|c| c.name == "zh-poetry") else { return };
    let docs: Vec<Document> = read_docs(corpus).into_iter().take(30_000).collect();
    let dir = work_dir().join("recall-poetry");
    let _ = fs::remove_dir_all(&dir);
    let index = Index::create(&dir).unwrap();
    index.add_documents(docs.iter().cloned()).unwrap();
    // A fixed xorshift sequence: the same pieces every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let ids = |q: &str| -> std::collections::HashSet<String> {
        let query = Query::new(q).limit(100_000).snippet_chars(0);
        index.search(&query).unwrap().hits.into_iter().map(|h| h.id).collect()
    };
    let (mut tried, mut missed, mut missed_quoted) = (0, 0, 0);
    for _ in 0..20_000 {
        let doc = &docs[(next() % docs.len() as u64) as usize];
        let text = format!("{} {}", doc.title, doc.zh);
        let runs: Vec<Vec<char>> = sou::analysis::script::runs(&text)
            .filter(|r| r.han)
            .map(|r| text[r.start..r.end].chars().collect())
            .collect();
        if runs.is_empty() {
            continue;
        }
        let run = &runs[(next() % runs.len() as u64) as usize];
        let len = 1 + (next() % 4) as usize;
        if run.len() < len {
            continue;
        }
        let start = (next() % (run.len() - len + 1) as u64) as usize;
        let piece: String = run[start..start + len].iter().collect();
        tried += 1;
        missed += usize::from(!ids(&piece).contains(&doc.id));
        missed_quoted += usize::from(!ids(&format!("\"{piece}\"")).contains(&doc.id));
    }
    println!("\n### Chinese recall on Traditional text: zh-poetry, first {} poems\n", docs.len());
    println!("| pieces (1–4 characters) | missed unquoted | missed quoted |");
    println!("|---:|---:|---:|");
    println!("| {tried} | {missed} | {missed_quoted} |");
}

/// Mean nDCG@10, recall@100, MRR@10 of a ranking function over judged queries.
fn score_runs(
    queries: &[sou::QueryLine],
    qrels: &sou::Qrels,
    rank: impl Fn(&str) -> Vec<String>,
) -> (f64, f64, f64, usize) {
    let (mut ndcg, mut recall, mut mrr, mut n) = (0.0, 0.0, 0.0, 0);
    for q in queries {
        let Some(judged) = qrels.of(&q.id).filter(|j| j.values().any(|&g| g > 0)) else { continue };
        let ranking = rank(&q.text);
        ndcg += sou::ndcg_at(&ranking, judged, 10);
        recall += sou::recall_at(&ranking, judged, 100);
        mrr += sou::mrr_at(&ranking, judged, 10);
        n += 1;
    }
    let n_f = n.max(1) as f64;
    (ndcg / n_f, recall / n_f, mrr / n_f, n)
}

/// Reference BM25 runs of the CMRC 2018 README (plain Python BM25, not measured here), nDCG@10 /
/// R@100 per (level, split): the rows sou is measured against.
const CMRC_REFERENCE: &[(&str, &str, &str, f64, f64)] = &[
    ("sentences", "tune", "jieba + bigrams, one field, k1 0.9 b 0.4", 0.7441, 0.9321),
    ("sentences", "tune", "jieba + bigrams, k1 1.2 b 0.75", 0.7305, 0.9317),
    ("sentences", "tune", "bigrams only, k1 0.9 b 0.4", 0.7265, 0.9287),
    ("sentences", "tune", "jieba only, k1 1.2 b 0.75", 0.7032, 0.9130),
    ("sentences", "check", "jieba + bigrams, one field, k1 0.9 b 0.4", 0.7421, 0.9362),
    ("sentences", "check", "jieba + bigrams, k1 1.2 b 0.75", 0.7299, 0.9361),
    ("sentences", "check", "bigrams only, k1 0.9 b 0.4", 0.7287, 0.9359),
    ("sentences", "check", "jieba only, k1 1.2 b 0.75", 0.6992, 0.9171),
    ("paragraphs", "tune", "jieba + bigrams, one field, k1 0.9 b 0.4", 0.9854, 0.9993),
    ("paragraphs", "check", "jieba + bigrams, one field, k1 0.9 b 0.4", 0.9860, 1.0000),
];

/// CMRC 2018 (short Chinese questions): sentence level on `tune` and `check`, paragraph level as
/// a sanity line, each beside the data set's reference rows. Reading `check` here is reading it:
/// BENCHMARKS.md counts how often that happened.
fn cmrc_rows(data: &Path) {
    let dir = data.join("cmrc2018");
    if !dir.exists() {
        return;
    }
    for level in ["sentences", "paragraphs"] {
        let corpus = work_dir().join(format!("cmrc-{level}.jsonl"));
        if !corpus.exists() {
            let mut out = BufWriter::new(File::create(&corpus).unwrap());
            std::io::copy(&mut open_compressed(&dir.join(format!("corpus.{level}.jsonl.zst"))), &mut out).unwrap();
        }
        let index_dir = work_dir().join(format!("eval-cmrc-{level}"));
        let _ = fs::remove_dir_all(&index_dir);
        let index = Index::create(&index_dir).unwrap();
        index.sync(std::slice::from_ref(&corpus), &sou::SyncOptions::default(), &sou::NoProgress).unwrap();
        for split in ["tune", "check"] {
            let queries = sou::read_queries(&dir.join(format!("queries.{split}.jsonl"))).unwrap();
            let qrels = sou::Qrels::read(&dir.join(format!("qrels.{level}.{split}.tsv"))).unwrap();
            let (ndcg, recall, mrr, n) = score_runs(&queries, &qrels, |text| {
                let query = Query::new(text).limit(100).any(true).snippet_chars(0);
                index.search(&query).map(|r| r.hits.into_iter().map(|h| h.id).collect()).unwrap_or_default()
            });
            let label = format!("CMRC 2018 {level}, {split}");
            println!("| {label} | sou | {n} | {ndcg:.4} | {recall:.4} | {mrr:.4} |");
            for (_, _, system, ndcg, recall) in CMRC_REFERENCE.iter().filter(|r| r.0 == level && r.1 == split) {
                println!("| {label} | {system} (reference run, data README) | {n} | {ndcg:.4} | {recall:.4} | |");
            }
        }
    }
}

/// Retrieval quality on the third-party sets: sou's own ranking, and for LeCaRD a plain jieba
/// + BM25 baseline over the same documents.
fn eval_section(data: &Path, corpora: &[Corpus]) {
    println!("\n### Retrieval quality (`sou eval` path: any-term BM25, top 100)\n");
    println!("| set | system | queries | nDCG@10 | recall@100 | MRR@10 |");
    println!("|---|---|---:|---:|---:|---:|");
    cmrc_rows(data);
    let sets = [
        (
            "SciFact train",
            "scifact",
            data.join("beir-scifact/queries.train.jsonl"),
            data.join("beir-scifact/qrels/train.tsv"),
        ),
        ("LeCaRD (87 q, 9,088-doc union)", "lecard", data.join("lecard/queries.jsonl"), data.join("lecard/qrels.tsv")),
    ];
    for (label, name, queries_path, qrels_path) in sets {
        let corpus_path = if name == "scifact" {
            let path = work_dir().join("scifact.jsonl");
            if !path.exists() {
                let mut out = BufWriter::new(File::create(&path).unwrap());
                std::io::copy(&mut open_compressed(&data.join("beir-scifact/corpus.jsonl.gz")), &mut out).unwrap();
            }
            path
        } else {
            corpora.iter().find(|c| c.name == name).expect("prepared").path.clone()
        };
        let queries = sou::read_queries(&queries_path).unwrap();
        let qrels = sou::Qrels::read(&qrels_path).unwrap();
        let dir = work_dir().join(format!("eval-{name}"));
        let _ = fs::remove_dir_all(&dir);
        let index = Index::create(&dir).unwrap();
        index.sync(std::slice::from_ref(&corpus_path), &sou::SyncOptions::default(), &sou::NoProgress).unwrap();
        let (ndcg, recall, mrr, n) = score_runs(&queries, &qrels, |text| {
            let query = Query::new(text).limit(100).any(true).snippet_chars(0);
            index.search(&query).map(|r| r.hits.into_iter().map(|h| h.id).collect()).unwrap_or_default()
        });
        println!("| {label} | sou | {n} | {ndcg:.4} | {recall:.4} | {mrr:.4} |");
        if name == "lecard" {
            let docs = read_docs(corpora.iter().find(|c| c.name == name).unwrap());
            let base_dir = work_dir().join("eval-lecard-baseline");
            let _ = fs::remove_dir_all(&base_dir);
            fs::create_dir_all(&base_dir).unwrap();
            let base = baseline::index(&docs, &base_dir, 2).unwrap();
            let stop: std::collections::HashSet<String> = fs::read_to_string(data.join("lecard/stopwords.txt"))
                .unwrap_or_default()
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect();
            for (system, stop_words) in
                [("jieba + BM25 baseline, stop words removed", &stop), ("jieba + BM25 baseline", &Default::default())]
            {
                let (ndcg, recall, mrr, n) =
                    score_runs(&queries, &qrels, |text| baseline::search(&base, text, stop_words, 100).unwrap());
                println!("| {label} | {system} | {n} | {ndcg:.4} | {recall:.4} | {mrr:.4} |");
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// Query sets per kind, for the news mix (Chinese from the laws, English from Reuters).
fn query_kinds() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("1 term zh", vec!["法律", "人民政府", "管理", "责任", "条例", "监督", "企业", "安全"]),
        ("1 term en", vec!["oil", "dividend", "shares", "tonnes", "bank", "trade", "profit", "coffee"]),
        ("2 terms", vec!["人民政府 管理", "oil prices", "bank rates", "安全 生产", "trade deficit", "监督 检查"]),
        ("phrase", vec!["\"trade deficit\"", "\"人民政府\"", "\"oil prices\"", "\"安全生产\"", "\"net profit\""]),
        ("mixed zh+en", vec!["管理 oil", "人民政府 bank", "安全 trade", "企业 profit", "监督 shares"]),
        (
            "long (any)",
            vec![
                "the company said it expects net profit to rise this year as oil prices recover and demand for its products improves",
                "县级以上地方人民政府应当加强对安全生产工作的领导，建立健全安全生产工作协调机制，及时协调、解决安全生产监督管理中存在的重大问题",
            ],
        ),
    ]
}

/// The news-mix index for query benchmarks, built on first use (and after analyzer changes).
fn news_mix_index(corpora: &[Corpus]) -> Option<PathBuf> {
    let corpus = corpora.iter().find(|c| c.name == "news-mix")?;
    let dir = work_dir().join("query-news-mix");
    if Index::open(&dir).is_err() {
        let _ = fs::remove_dir_all(&dir);
        let index = Index::create(&dir).unwrap();
        index.sync(std::slice::from_ref(&corpus.path), &sou::SyncOptions::default(), &sou::NoProgress).unwrap();
    }
    Some(dir)
}

/// Warm query latency in-process: each query run repeatedly on an open index.
fn query_section(corpora: &[Corpus]) {
    let Some(dir) = news_mix_index(corpora) else { return };
    let index = Index::open(&dir).unwrap();
    println!("\n### Warm queries: news-mix ({} docs), in-process, 10 hits\n", index.num_docs());
    println!("| kind | snippets | runs | p50 ms | p99 ms | mean hits |");
    println!("|---|---|---:|---:|---:|---:|");
    for (kind, queries) in query_kinds() {
        for snippets in [false, true] {
            let chars = if snippets { 120 } else { 0 };
            // Warm up: dictionary, caches.
            for q in &queries {
                let _ = index.search(&Query::new(*q).snippet_chars(chars));
            }
            let mut times = Vec::new();
            let mut hits = 0;
            for _ in 0..30 {
                for q in &queries {
                    let started = Instant::now();
                    let results = index.search(&Query::new(*q).snippet_chars(chars)).unwrap();
                    times.push(started.elapsed());
                    hits += results.hits.len();
                }
            }
            times.sort();
            println!(
                "| {kind} | {} | {} | {:.3} | {:.3} | {:.1} |",
                if snippets { "yes" } else { "no" },
                times.len(),
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                hits as f64 / times.len() as f64
            );
        }
    }
}

/// Whole `sou search` processes on the news-mix index (process start to exit), and Jieba's
/// dictionary load measured in this process for comparison.
fn cold_section(corpora: &[Corpus]) {
    let Some(dir) = news_mix_index(corpora) else { return };
    let Some(dict_dir) = news_mix_dict_index(corpora) else { return };
    let started = Instant::now();
    let jieba = jieba_rs::Jieba::new();
    let jieba_load = started.elapsed().as_secs_f64() * 1e3;
    drop(jieba);
    println!("\n### Cold queries: whole `sou search` process, news-mix index, 10 hits with snippets\n");
    println!("`Jieba::new()` in this run: {jieba_load:.1} ms\n");
    println!("| query | index | runs | p50 ms | min ms |");
    println!("|---|---|---:|---:|---:|");
    for query in ["法律", "人民政府 管理", "oil", "oil prices", "管理 oil"] {
        // Alternating, so drift of the machine hits both indexes alike.
        let mut times = [Vec::new(), Vec::new()];
        for _ in 0..15 {
            for (slot, dir) in [&dir, &dict_dir].into_iter().enumerate() {
                let started = Instant::now();
                let status = Command::new(SOU)
                    .args(["search", query, "--index"])
                    .arg(dir)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status()
                    .unwrap();
                times[slot].push(started.elapsed());
                assert!(status.code().is_some_and(|c| c <= 1));
            }
        }
        for (times, label) in times.iter_mut().zip(["plain", "user dictionary"]) {
            times.sort();
            println!(
                "| `{query}` | {label} | {} | {:.1} | {:.1} |",
                times.len(),
                percentile(times, 0.5),
                times[0].as_secs_f64() * 1e3
            );
        }
    }
}

/// The news-mix index built with a user dictionary of 3,000 words taken from its own Chinese
/// text (Han runs of 4–8 characters, every 7th one), so the dictionary changes segmentation.
fn news_mix_dict_index(corpora: &[Corpus]) -> Option<PathBuf> {
    let corpus = corpora.iter().find(|c| c.name == "news-mix")?;
    let dir = work_dir().join("query-news-mix-dict");
    if Index::open(&dir).is_err() {
        let _ = fs::remove_dir_all(&dir);
        let text = fs::read_to_string(&corpus.path).unwrap();
        let mut words = std::collections::BTreeSet::new();
        let runs = text.split(|c: char| !('\u{4e00}'..='\u{9fff}').contains(&c));
        for run in runs.filter(|r| (4..=8).contains(&r.chars().count())).step_by(7) {
            if words.len() == 3000 {
                break;
            }
            words.insert(run.to_string());
        }
        let dict = work_dir().join("news-mix-userdict.txt");
        fs::write(&dict, words.iter().map(|w| format!("{w} 2000\n")).collect::<String>()).unwrap();
        let options = sou::OpenOptions { user_dict: Some(dict), ..sou::OpenOptions::default() };
        let index = Index::create_with(&dir, options).unwrap();
        index.sync(std::slice::from_ref(&corpus.path), &sou::SyncOptions::default(), &sou::NoProgress).unwrap();
    }
    Some(dir)
}

/// A running `sou serve` (`binary`, with `extra` arguments) on a free port, stopped on drop.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    fn start(binary: &str, extra: &[&str], index: &Path) -> Server {
        let mut child = Command::new(binary)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .arg("--index")
            .arg(index)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("server output").unwrap();
            if let Some(rest) = line.split("on http://").nth(1) {
                break format!("http://{}", rest.split('/').next().unwrap());
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes every byte but ASCII letters and digits, for a query parameter.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Requests per second and latency of `sou serve` under load from this (second) process: 4
/// client threads on loopback, a mixed query set, for 10 seconds.
///
/// `SOU_SERVE_BIN` and `SOU_SERVE_INDEX` measure another build (a previous release, with an
/// index of its own analyzer version) the same way; `SOU_SERVE_ARGS` adds arguments.
fn serve_section(corpora: &[Corpus]) {
    let Some(own_index) = news_mix_index(corpora) else { return };
    let binary = std::env::var("SOU_SERVE_BIN").unwrap_or_else(|_| SOU.to_string());
    let dir = std::env::var_os("SOU_SERVE_INDEX").map(PathBuf::from).unwrap_or(own_index);
    let extra = std::env::var("SOU_SERVE_ARGS").unwrap_or_default();
    eprintln!("bench: serving {} with {binary} {extra}", dir.display());
    let server = Server::start(&binary, &extra.split_whitespace().collect::<Vec<_>>(), &dir);
    let base = server.base.clone();
    let queries: Vec<String> = query_kinds().into_iter().flat_map(|(_, qs)| qs).map(url_encode).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let (base, queries) = (base.clone(), queries.clone());
            std::thread::spawn(move || {
                let agent = ureq::Agent::new_with_defaults();
                let mut times = Vec::new();
                let mut i = worker;
                while Instant::now() < deadline {
                    let url = format!("{base}/api/search?q={}&limit=10", queries[i % queries.len()]);
                    let started = Instant::now();
                    let mut response = agent.get(&url).call().expect("request");
                    let _ = response.body_mut().read_to_string().expect("body");
                    times.push(started.elapsed());
                    i += 1;
                }
                times
            })
        })
        .collect();
    let mut times: Vec<Duration> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    drop(server);
    times.sort();
    println!("\n### `sou serve` under load: news-mix index, {} queries mixed, 4 client threads, 10 s\n", queries.len());
    println!("| requests | req/s | p50 ms | p99 ms |");
    println!("|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.2} | {:.2} |",
        times.len(),
        times.len() as f64 / 10.0,
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
}

/// sou against what a user would otherwise pick, on the news mix and the same queries:
/// SQLite FTS5 with Python jieba pre-segmentation, FTS5's trigram tokenizer, and ripgrep.
fn peers_section(corpora: &[Corpus]) {
    let Some(corpus) = corpora.iter().find(|c| c.name == "news-mix") else { return };
    let python_ready =
        Command::new("python3").args(["-c", "import jieba, sqlite3"]).status().is_ok_and(|s| s.success());
    let rg_ready = Command::new("rg").arg("--version").output().is_ok_and(|o| o.status.success());
    if !python_ready || !rg_ready {
        eprintln!("bench: peers need python3 with jieba (pip install jieba) and ripgrep; skipped");
        return;
    }
    let kinds = query_kinds();
    let all: Vec<&str> = kinds.iter().flat_map(|(_, qs)| qs.iter().copied()).collect();
    let queries_path = work_dir().join("peer-queries.json");
    fs::write(&queries_path, serde_json::to_string(&all).unwrap()).unwrap();

    // sou: whole-process indexing on 2 threads (best of 2), warm queries in-process.
    let sou_dir = work_dir().join("peers-sou");
    let (sou_index, _, _) = (0..2)
        .map(|_| {
            let _ = fs::remove_dir_all(&sou_dir);
            timed(Command::new(SOU).args(["index", "-q", "--threads", "2", "--index"]).arg(&sou_dir).arg(&corpus.path))
        })
        .min_by_key(|r| r.0)
        .unwrap();
    let sou_bytes = dir_size(&sou_dir);
    let index = Index::open(&sou_dir).unwrap();
    let mut sou_times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for q in &all {
        let _ = index.search(&Query::new(*q).snippet_chars(0));
        for _ in 0..10 {
            let started = Instant::now();
            index.search(&Query::new(*q).snippet_chars(0)).unwrap();
            sou_times.entry(q).or_default().push(started.elapsed());
        }
    }

    let started = Instant::now();
    let out = Command::new("python3")
        .arg(manifest_dir().join("benches/peers/fts5.py"))
        .arg(&corpus.path)
        .arg(work_dir().join("peers-fts5"))
        .arg(&queries_path)
        .output()
        .expect("python3");
    eprintln!("bench: fts5 peers ran in {:.0} s", started.elapsed().as_secs_f64());
    let peers: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));

    println!(
        "\n### Against peers: news-mix ({:.1} MB, {} docs), same queries, warm, top 10 without snippets\n",
        mb(corpus.bytes),
        corpus.docs
    );
    println!("| system | index s | index+db MB | query kind | p50 ms | p99 ms | note |");
    println!("|---|---:|---:|---|---:|---:|---|");
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let stats = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
        (at(0.5), at(0.99))
    };
    for (kind, queries) in &kinds {
        let mut times: Vec<f64> = queries.iter().flat_map(|q| sou_times[q].iter().map(ms)).collect();
        let (p50, p99) = stats(&mut times);
        println!("| sou | {:.2} | {:.1} | {kind} | {p50:.3} | {p99:.3} | |", sou_index.as_secs_f64(), mb(sou_bytes));
    }
    for (name, peer) in peers.as_object().unwrap() {
        for (kind, queries) in &kinds {
            let mut times = Vec::new();
            let mut errors = 0;
            let mut empty = 0;
            for q in queries {
                let r = &peer["queries"][*q];
                if r.get("error").is_some() {
                    errors += 1;
                    continue;
                }
                empty += usize::from(r["hits"] == 0);
                times.extend(r["ms"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()));
            }
            let note = match (errors, empty) {
                (0, 0) => String::new(),
                (e, n) => format!("{e} errors, {n} with no hits of {}", queries.len()),
            };
            let (p50, p99) = if times.is_empty() { (f64::NAN, f64::NAN) } else { stats(&mut times) };
            println!(
                "| {name} | {:.2} | {:.1} | {kind} | {p50:.3} | {p99:.3} | {note} |",
                peer["build_s"].as_f64().unwrap(),
                mb(peer["bytes"].as_u64().unwrap())
            );
        }
    }
    // ripgrep: a fresh process per search over the raw corpus file (in the page cache).
    println!("\n| single term | ripgrep p50 ms | sou cold (process) p50 ms |");
    println!("|---|---:|---:|");
    for term in ["法律", "人民政府", "oil", "dividend"] {
        let run = |cmd: &mut Command| {
            let mut times: Vec<f64> = (0..11)
                .map(|_| {
                    let started = Instant::now();
                    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().unwrap();
                    started.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            stats(&mut times).0
        };
        let rg = run(Command::new("rg").args(["-c", "-F", "-i", term]).arg(&corpus.path));
        let sou = run(Command::new(SOU).args(["search", term, "--index"]).arg(&sou_dir));
        println!("| `{term}` | {rg:.1} | {sou:.1} |");
    }
}

fn main() {
    let sections: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wants = |s: &str| sections.is_empty() || sections.iter().any(|x| x == s);
    println!("sou benchmarks on {} cores\n", std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut corpora = Vec::new();
    match shared_data() {
        Some(data) => {
            let started = Instant::now();
            corpora = prepare(&data);
            eprintln!("bench: data ready in {:.1} s", started.elapsed().as_secs_f64());
        }
        None => eprintln!("bench: ../shared/data not found (set SOU_DATA); measuring the bundled corpus only"),
    }
    corpora.push(bundled());
    if wants("index") {
        index_section(&corpora);
    }
    if wants("extras") && corpora.len() > 1 {
        extras_section(&corpora);
    }
    if let Some(data) = shared_data().filter(|_| wants("eval")) {
        eval_section(&data, &corpora);
    }
    if wants("recall") {
        recall_section(&corpora);
    }
    if wants("query") {
        query_section(&corpora);
    }
    if wants("cold") {
        cold_section(&corpora);
    }
    if wants("serve") {
        serve_section(&corpora);
    }
    if wants("peers") {
        peers_section(&corpora);
    }
    if sections.iter().any(|s| s == "cluster") {
        cluster::cluster_section(&corpora);
    }
    if let Some(data) = shared_data().filter(|_| sections.iter().any(|s| s == "scale")) {
        scale::scale_section(&data);
    }
}
