//! sou's benchmark harness: `cargo bench --bench sou [-- SECTION...]`.
//!
//! Sections: `index` (whole `sou index` processes: MB/s, docs/s, peak memory, index size),
//! `extras` (the Chinese-analysis extras against a plain jieba + tantivy baseline), `query`
//! (warm latency in-process), `cold` (whole `sou search` processes). No section = all.
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

use sou::{Document, Index, OpenOptions};

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
    println!("\n### Indexing: whole `sou index` process (start to exit)\n");
    println!("| corpus | input MB | docs | threads | wall s | MB/s | docs/s | peak RSS MB | index MB | index/input |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for corpus in corpora {
        for threads in [1, 2] {
            let index_dir = work_dir().join(format!("idx-{}-{threads}", corpus.name.replace(['/', ' '], "")));
            let _ = fs::remove_dir_all(&index_dir);
            let (wall, rss, stdout) = timed(
                Command::new(SOU)
                    .args(["index", "-q", "--json", "--threads", &threads.to_string(), "--index"])
                    .arg(&index_dir)
                    .arg(&corpus.path),
            );
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

fn read_docs(corpus: &Corpus) -> Vec<Document> {
    BufReader::new(File::open(&corpus.path).unwrap())
        .lines()
        .map(|l| Document::from_json_line(&l.unwrap()).expect("valid line"))
        .collect()
}

/// The core pipeline without sou's Chinese extras: jieba words for Chinese, tantivy's default
/// analyzer for English, no normalization, no sub-words, no recall field.
mod baseline {
    use jieba_rs::Jieba;
    use std::sync::{Arc, LazyLock};
    use tantivy::schema::{IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
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

    pub fn index(docs: &[sou::Document], dir: &std::path::Path, threads: usize) -> tantivy::Result<()> {
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
        let title = b.add_text_field("title", text("jieba"));
        let zh = b.add_text_field("zh", text("jieba"));
        let en = b.add_text_field("en", text("default"));
        let index = tantivy::Index::create_in_dir(dir, b.build())?;
        index.tokenizers().register("jieba", TextAnalyzer::from(JiebaTokenizer(Vec::new())));
        let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(threads, sou::DEFAULT_WRITER_MEMORY)?;
        for doc in docs {
            let mut d = tantivy::TantivyDocument::new();
            d.add_text(id, &doc.id);
            d.add_text(title, &doc.title);
            d.add_text(zh, &doc.zh);
            d.add_text(en, &doc.en);
            writer.add_document(d)?;
        }
        writer.commit()?;
        writer.wait_merging_threads()
    }
}

/// Sou's full analysis against the core baseline, on the same parsed documents, in-process.
fn extras_section(corpora: &[Corpus]) {
    println!("\n### Chinese extras vs core baseline (in-process, documents parsed beforehand, 2 threads)\n");
    println!("| corpus | MB | core baseline s | core MB/s | sou (extras on) s | sou MB/s | sou / core time |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for corpus in corpora.iter().filter(|c| matches!(c.name, "news-mix" | "lecard")) {
        let docs = read_docs(corpus);
        // Load jieba in both before timing; the process-level section measures loading.
        let _ = sou::analysis::analyze("预热", &sou::Segmenter::default(), sou::analysis::Mode::Index);
        let base_dir = work_dir().join("extras-baseline");
        let _ = fs::remove_dir_all(&base_dir);
        fs::create_dir_all(&base_dir).unwrap();
        let started = Instant::now();
        baseline::index(&docs, &base_dir, 2).expect("baseline index");
        let base = started.elapsed().as_secs_f64();

        let sou_dir = work_dir().join("extras-sou");
        let _ = fs::remove_dir_all(&sou_dir);
        let options = OpenOptions { threads: Some(2), ..OpenOptions::default() };
        let index = Index::create_with(&sou_dir, options).unwrap();
        let started = Instant::now();
        index.add_documents(docs).unwrap();
        let full = started.elapsed().as_secs_f64();
        println!(
            "| {} | {:.1} | {base:.2} | {:.1} | {full:.2} | {:.1} | {:.2} |",
            corpus.name,
            mb(corpus.bytes),
            mb(corpus.bytes) / base,
            mb(corpus.bytes) / full,
            full / base
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
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
    let _ = (percentile, BTreeMap::<(), ()>::new);
}
