//! The `scale` section: sou on 100 MB, 1 GB and 3 GB of mixed Chinese + English input, built
//! from the third-party pool (LeCaRD, laws, poetry, Reuters, SciFact) and, past the pool's
//! ~330 MB, perturbed replicas of it. Prints indexing time, memory and size, warm (server) and
//! cold (fresh process) query latency per size, the cost of appending to a big file, the growth
//! table, and draws `scale.png`.
//!
//! `SOU_SCALE_MB` picks the sizes (default `100,1000,3000`). `SOU_SCALE_QUERIES_ONLY=1` keeps
//! the indexes of an earlier run (same analyzer version) and measures only the queries, to
//! compare query code on the same data. `SOU_SCALE_PAIRS=1` builds the indexes with the pair
//! field (`sou index --pairs`), beside the default ones (`index-pairs/`, `scale-pairs.png`).

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{SOU, Server, dir_size, json_lines, mb, percentile, url_encode, work_dir};

/// The query kinds measured at every size (the table and four more kinds).
fn scale_queries(paragraph: &str) -> Vec<(&'static str, &'static str, String)> {
    // (table label, plot label in ASCII — the plot's font has no Han glyphs —, query)
    vec![
        ("法律", "falv (a common word)", "法律".into()),
        ("人民", "renmin (a very common word)", "人民".into()),
        ("\"人民法院\"", "\"renmin fayuan\" (phrase)", "\"人民法院\"".into()),
        ("盗窃 手机", "daoqie shouji (two words)", "盗窃 手机".into()),
        ("法 (one character)", "fa (one character)", "法".into()),
        ("穿山甲 (rare word)", "chuanshanjia (rare word)", "穿山甲".into()),
        ("pasted 300 characters", "pasted 300 characters", paragraph.to_string()),
        ("oil", "oil", "oil".into()),
        ("\"oil prices\"", "\"oil prices\"", "\"oil prices\"".into()),
        ("酒精 mg (mixed)", "jiujing mg (mixed)", "酒精 mg".into()),
    ]
}

/// A fixed, cheap pseudo-random sequence (splitmix64), so every run builds the same mix.
fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn hash_str(text: &str, seed: u64) -> u64 {
    text.bytes().fold(mix64(seed), |h, b| mix64(h ^ u64::from(b)))
}

/// The real documents: `(id, title, text)`, ids prefixed by their set, in a fixed shuffled order.
fn pool(data: &Path) -> Vec<(String, String, String)> {
    let sets = [
        ("lecard", "lecard/corpus.jsonl.zst"),
        ("law", "zh-laws/corpus.jsonl.zst"),
        ("poem", "zh-poetry/corpus.jsonl.zst"),
        ("reuters", "en-reuters21578/corpus.jsonl.gz"),
        ("scifact", "beir-scifact/corpus.jsonl.gz"),
    ];
    let mut docs = Vec::new();
    for (prefix, file) in sets {
        for v in json_lines(&data.join(file)) {
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let id = match &v["id"] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let (title, text) = (field("title"), field("text"));
            if title.trim().is_empty() && text.trim().is_empty() {
                continue;
            }
            docs.push((format!("{prefix}-{id}"), title, text));
        }
    }
    // Fisher–Yates with a fixed seed: every prefix of the mix holds every kind of text.
    for i in (1..docs.len()).rev() {
        let j = (mix64(i as u64) % (i as u64 + 1)) as usize;
        docs.swap(i, j);
    }
    docs
}

/// A replica of a text: its sentences, about one in six dropped, rotated by a random amount.
fn perturb(text: &str, seed: u64) -> String {
    let mut sentences = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '。' | '！' | '？' | '；' | '\n' | '.' | '!' | '?') {
            let end = i + c.len_utf8();
            sentences.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        sentences.push(&text[start..]);
    }
    let kept: Vec<&str> = sentences
        .iter()
        .enumerate()
        .filter(|(i, _)| !mix64(seed ^ *i as u64).is_multiple_of(6))
        .map(|(_, s)| *s)
        .collect();
    let kept = if kept.is_empty() { sentences } else { kept };
    if kept.is_empty() {
        return text.to_string();
    }
    let rotate = (mix64(seed) % kept.len() as u64) as usize;
    let replica: String = kept[rotate..].iter().chain(&kept[..rotate]).copied().collect();
    // A replica left with nothing but line breaks would be a blank record, which sou rightly
    // refuses (two such poems made the 3 GB run end with "2 bad records").
    if replica.trim().is_empty() { text.to_string() } else { replica }
}

fn write_doc(out: &mut impl Write, id: &str, title: &str, text: &str) -> u64 {
    let line = serde_json::to_string(&serde_json::json!({"id": id, "title": title, "text": text})).unwrap();
    writeln!(out, "{line}").unwrap();
    line.len() as u64 + 1
}

/// The mix of `size_mb` MB: the shuffled pool, then replicas round after round, until full.
fn build_mix(pool: &[(String, String, String)], size_mb: u64) -> PathBuf {
    let dir = work_dir().join(format!("scale-{size_mb}mb"));
    let path = dir.join("mix.jsonl");
    if path.exists() {
        return path;
    }
    fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    let tmp = dir.join("mix.tmp");
    let mut out = BufWriter::new(File::create(&tmp).unwrap());
    let (target, mut written) = (size_mb * 1_000_000, 0u64);
    'rounds: for round in 0u64.. {
        for (id, title, text) in pool {
            if written >= target {
                break 'rounds;
            }
            written += if round == 0 {
                write_doc(&mut out, id, title, text)
            } else {
                let seed = hash_str(id, round);
                write_doc(&mut out, &format!("{id}~{round}"), title, &perturb(text, seed))
            };
        }
    }
    out.flush().unwrap();
    drop(out);
    fs::rename(&tmp, &path).unwrap();
    eprintln!("bench: scale mix {size_mb} MB written in {:.0} s", started.elapsed().as_secs_f64());
    path
}

/// What one `sou index` run took.
#[derive(Default)]
struct IndexRun {
    wall: Duration,
    /// User + system CPU of the whole process: steadier than wall time on a machine whose
    /// speed drifts, and what two cores at full use divide by two.
    cpu: Duration,
    peak_anon: u64,
    peak_rss: u64,
}

/// The indexing figures of a size, kept beside its index so a queries-only run
/// (`SOU_SCALE_QUERIES_ONLY`) still prints and plots them.
struct SavedRuns {
    index: IndexRun,
    low_memory: Option<IndexRun>,
    append: Option<Duration>,
}

impl SavedRuns {
    /// `indexing-figures.txt` beside `index/`, `index-pairs-figures.txt` beside `index-pairs/`.
    fn file(index: &Path) -> PathBuf {
        match index.file_name().and_then(|n| n.to_str()) {
            Some("index") | None => index.with_file_name("indexing-figures.txt"),
            Some(name) => index.with_file_name(format!("{name}-figures.txt")),
        }
    }

    fn save(index: &Path, run: &IndexRun, low_memory: Option<&IndexRun>, append: Option<Duration>) {
        let line = |name: &str, r: &IndexRun| {
            format!("{name} {} {} {} {}\n", r.wall.as_secs_f64(), r.peak_anon, r.peak_rss, r.cpu.as_secs_f64())
        };
        let mut text = line("default", run);
        text += &low_memory.map(|r| line("low-memory", r)).unwrap_or_default();
        text += &append.map(|d| format!("append {}\n", d.as_secs_f64())).unwrap_or_default();
        fs::write(Self::file(index), text).unwrap();
    }

    /// Zeros where nothing was saved (the table then shows 0 and the plot skips the rate).
    fn load(index: &Path) -> SavedRuns {
        let text = fs::read_to_string(Self::file(index)).unwrap_or_default();
        let mut saved = SavedRuns { index: IndexRun::default(), low_memory: None, append: None };
        for line in text.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let secs = |i: usize| Duration::from_secs_f64(fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0.0));
            let bytes = |i: usize| fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0);
            // Figures saved before the CPU was measured have no fifth field: 0 then.
            let run = || IndexRun { wall: secs(1), cpu: secs(4), peak_anon: bytes(2), peak_rss: bytes(3) };
            match fields[0] {
                "default" => saved.index = run(),
                "low-memory" => saved.low_memory = Some(run()),
                "append" => saved.append = Some(secs(1)),
                _ => {}
            }
        }
        saved
    }
}

/// Reads `RssAnon` and `VmRSS` (bytes) of a running process.
fn rss_of(pid: u32) -> Option<(u64, u64)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
    };
    Some((field("RssAnon:")?, field("VmRSS:")?))
}

/// User + system CPU a process has used so far, all its threads, from `/proc/PID/stat`: still
/// readable once it has exited and until it is reaped, so the last reading before `try_wait`
/// reaps it misses at most one polling interval.
fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: utime and
    // stime are the 12th and 13th, in clock ticks (100 per second on Linux).
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Runs `sou index` to completion, sampling its memory every 20 ms.
fn run_index(args: &[&str], index: &Path, input: &Path) -> IndexRun {
    let started = Instant::now();
    let mut child = Command::new(SOU)
        .arg("index")
        .args(args)
        .arg("--index")
        .arg(index)
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sou index");
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let (mut peak_anon, mut peak_rss, mut cpu) = (0, 0, Duration::ZERO);
    let status = loop {
        if let Some((anon, rss)) = rss_of(child.id()) {
            peak_anon = peak_anon.max(anon);
            peak_rss = peak_rss.max(rss);
        }
        cpu = cpu_of(child.id()).unwrap_or(cpu);
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = started.elapsed();
    let errors = errors.join().unwrap();
    assert!(status.code().is_some_and(|c| c <= 1), "sou index failed: {errors}");
    IndexRun { wall, cpu, peak_anon, peak_rss }
}

/// The index's segments and documents, as `sou stats` counts them.
fn index_counts(index: &Path) -> (u64, u64) {
    let out = Command::new(SOU).args(["stats", "--json", "--index"]).arg(index).output().unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (stats["segments"].as_u64().unwrap_or(0), stats["documents"].as_u64().unwrap_or(0))
}

/// p50 and p99 in ms of sorted durations.
fn p50_p99(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// Warm latency through the server: sequential requests, after a few unmeasured ones.
fn warm(server: &Server, query: &str, runs: usize) -> (f64, f64, String) {
    let agent = ureq::Agent::new_with_defaults();
    let url = format!("{}/api/search?q={}&limit=10", server.base, url_encode(query));
    let get = || -> serde_json::Value {
        let mut response = agent.get(&url).call().expect("request");
        serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("json")
    };
    let mut total = String::new();
    for _ in 0..3 {
        let answer = get();
        let more = if answer["total_is_lower_bound"].as_bool() == Some(true) { "+" } else { "" };
        total = format!("{}{more}", answer["total"].as_u64().unwrap_or(0));
    }
    let times = (0..runs)
        .map(|_| {
            let started = Instant::now();
            get();
            started.elapsed()
        })
        .collect();
    let (p50, p99) = p50_p99(times);
    (p50, p99, total)
}

/// Cold latency: a fresh `sou search` process per run.
fn cold(index: &Path, query: &str, runs: usize) -> (f64, f64) {
    let times = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(SOU)
                .args(["search", query, "--index"])
                .arg(index)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.code().is_some_and(|c| c <= 1));
            started.elapsed()
        })
        .collect();
    p50_p99(times)
}

fn measure_queries(server: &Server, index: &Path, paragraph: &str) -> Vec<QueryFigures> {
    scale_queries(paragraph)
        .into_iter()
        .map(|(label, plot_label, q)| {
            let long = q.chars().count() > 100;
            let (w50, w99, total) = warm(server, &q, if long { 20 } else { 60 });
            let (c50, c99) = cold(index, &q, if long { 5 } else { 11 });
            QueryFigures { label, plot_label, warm: (w50, w99), cold: (c50, c99), total }
        })
        .collect()
}

/// Appends 1,000 new lines to the mix, times the sync that follows, and restores the file.
fn append_run(index: &Path, input: &Path, pool: &[(String, String, String)]) -> Duration {
    let length = fs::metadata(input).unwrap().len();
    {
        let mut out = BufWriter::new(fs::OpenOptions::new().append(true).open(input).unwrap());
        for (id, title, text) in pool.iter().take(1000) {
            write_doc(&mut out, &format!("{id}~appended"), title, &perturb(text, hash_str(id, 999)));
        }
    }
    let run = run_index(&["-q"], index, input);
    File::options().write(true).open(input).unwrap().set_len(length).unwrap();
    run.wall
}

/// Latency of one query kind at one size, ms.
struct QueryFigures {
    label: &'static str,
    plot_label: &'static str,
    warm: (f64, f64),
    cold: (f64, f64),
    /// Matches, `10000+` where counting stopped.
    total: String,
}

/// Figures of one size.
struct SizeFigures {
    mb: f64,
    /// Documents in the index, as `sou stats` counts them.
    docs: u64,
    index: IndexRun,
    low_memory: Option<IndexRun>,
    index_bytes: u64,
    segments: u64,
    queries: Vec<QueryFigures>,
    append: Option<Duration>,
}

pub fn scale_section(data: &Path) {
    let sizes: Vec<u64> = std::env::var("SOU_SCALE_MB")
        .unwrap_or_else(|_| "100,1000,3000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let pairs = std::env::var_os("SOU_SCALE_PAIRS").is_some();
    let layout: &[&str] = if pairs { &["--pairs"] } else { &[] };
    let started = Instant::now();
    let pool = pool(data);
    let paragraph: String = json_lines(&data.join("lecard/queries.jsonl"))
        .next()
        .and_then(|v| v["text"].as_str().map(|t| t.chars().take(300).collect()))
        .unwrap_or_default();
    eprintln!("bench: scale pool of {} documents read in {:.0} s", pool.len(), started.elapsed().as_secs_f64());
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let append_size = sizes.iter().copied().min_by_key(|s| s.abs_diff(1000)).unwrap_or(0);
    let mut figures = Vec::new();
    for &size in &sizes {
        let input = build_mix(&pool, size);
        let index = input.with_file_name(if pairs { "index-pairs" } else { "index" });
        let queries_only = std::env::var_os("SOU_SCALE_QUERIES_ONLY").is_some() && index.is_dir();
        if queries_only {
            let server = Server::start(SOU, &[], &index);
            let queries = measure_queries(&server, &index, &paragraph);
            drop(server);
            let saved = SavedRuns::load(&index);
            let (index_bytes, (segments, docs)) = (dir_size(&index), index_counts(&index));
            let mb = mb(fs::metadata(&input).unwrap().len());
            let SavedRuns { index, low_memory, append } = saved;
            figures.push(SizeFigures { mb, docs, index, low_memory, index_bytes, segments, queries, append });
            continue;
        }
        let _ = fs::remove_dir_all(&index);
        let low_memory = (size == largest).then(|| {
            let run = run_index(&[&["-q", "--threads", "2", "--memory-mb", "64"], layout].concat(), &index, &input);
            fs::remove_dir_all(&index).unwrap();
            run
        });
        let run = run_index(&[&["-q", "--threads", "2"], layout].concat(), &index, &input);
        eprintln!("bench: scale {size} MB indexed in {:.0} s", run.wall.as_secs_f64());
        let (index_bytes, (segments, docs)) = (dir_size(&index), index_counts(&index));
        let server = Server::start(SOU, &[], &index);
        let queries = measure_queries(&server, &index, &paragraph);
        drop(server);
        let append = (size == append_size).then(|| append_run(&index, &input, &pool));
        SavedRuns::save(&index, &run, low_memory.as_ref(), append);
        figures.push(SizeFigures {
            mb: mb(fs::metadata(&input).unwrap().len()),
            docs,
            index: run,
            low_memory,
            index_bytes,
            segments,
            queries,
            append,
        });
    }
    if pairs {
        println!("\n(Indexes with the pair field: `sou index --pairs`.)");
    }
    print_tables(&figures);
    draw(&figures, &work_dir().join(if pairs { "scale-pairs.png" } else { "scale.png" }));
}

fn print_tables(figures: &[SizeFigures]) {
    println!("\n### Scale: indexing (`sou index --threads 2`, default `--memory-mb 256`)\n");
    println!(
        "| input MB | docs | wall s | MB/s | CPU s | peak anon MB | peak RSS MB | index MB | index/input | segments |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for f in figures {
        let secs = f.index.wall.as_secs_f64();
        println!(
            "| {:.0} | {} | {secs:.1} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {:.2} | {} |",
            f.mb,
            f.docs,
            f.mb / secs,
            f.index.cpu.as_secs_f64(),
            mb(f.index.peak_anon),
            mb(f.index.peak_rss),
            mb(f.index_bytes),
            mb(f.index_bytes) / f.mb,
            f.segments
        );
    }
    for f in figures {
        if let Some(low) = &f.low_memory {
            println!(
                "\nAt `--memory-mb 64`, {:.0} MB: {:.1} s ({:.1} CPU s), peak anon {:.0} MB, peak RSS {:.0} MB.",
                f.mb,
                low.wall.as_secs_f64(),
                low.cpu.as_secs_f64(),
                mb(low.peak_anon),
                mb(low.peak_rss)
            );
        }
        if let Some(append) = f.append {
            println!(
                "\nAppending 1,000 lines to the {:.0} MB `.jsonl` and re-running `sou index`: {:.2} s.",
                f.mb,
                append.as_secs_f64()
            );
        }
    }
    println!("\n### Scale: queries (top 10; warm = `sou serve`, sequential; cold = fresh `sou search`)\n");
    let header: Vec<String> = figures.iter().map(|f| format!("{:.0} MB", f.mb)).collect();
    println!("| query | measure | {} |", header.join(" | "));
    println!("|---|---|{}", "---:|".repeat(figures.len()));
    let kinds = figures.first().map_or(0, |f| f.queries.len());
    for k in 0..kinds {
        let label = figures[0].queries[k].label;
        let row = |name: &str, pick: &dyn Fn(&QueryFigures) -> String| {
            let cells: Vec<String> = figures.iter().map(|f| pick(&f.queries[k])).collect();
            println!("| {label} | {name} | {} |", cells.join(" | "));
        };
        row("warm p50 / p99 ms", &|q| format!("{:.2} / {:.2}", q.warm.0, q.warm.1));
        row("cold p50 / p99 ms", &|q| format!("{:.1} / {:.1}", q.cold.0, q.cold.1));
        row("hits", &|q| q.total.clone());
    }
    if let (Some(first), Some(last)) = (figures.first(), figures.last())
        && figures.len() > 1
    {
        println!(
            "\n### Scale: growth, {:.0} MB over {:.0} MB ({:.0}× the data)\n",
            last.mb,
            first.mb,
            last.mb / first.mb
        );
        println!("| measure | {:.0} MB | {:.0} MB | ratio |", first.mb, last.mb);
        println!("|---|---:|---:|---:|");
        let line = |name: &str, a: f64, b: f64| println!("| {name} | {a:.2} | {b:.2} | {:.1}× |", b / a);
        line("indexing s", first.index.wall.as_secs_f64(), last.index.wall.as_secs_f64());
        line("indexing CPU s", first.index.cpu.as_secs_f64(), last.index.cpu.as_secs_f64());
        line("peak anon MB", mb(first.index.peak_anon), mb(last.index.peak_anon));
        line("index MB", mb(first.index_bytes), mb(last.index_bytes));
        for (a, b) in first.queries.iter().zip(&last.queries) {
            line(&format!("{} warm p50 ms", a.label), a.warm.0, b.warm.0);
            line(&format!("{} cold p50 ms", a.label), a.cold.0, b.cold.0);
        }
    }
}

/// Axes with the x labels at the measured sizes only: a log axis's own labels overlap.
fn draw_mesh<X, Y>(
    chart: &mut plotters::chart::ChartContext<
        '_,
        plotters::prelude::BitMapBackend<'_>,
        plotters::coord::cartesian::Cartesian2d<X, Y>,
    >,
    sizes: usize,
    y_desc: &str,
) where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: plotters::coord::ranged1d::Ranged + plotters::coord::ranged1d::ValueFormatter<Y::ValueType>,
{
    let sizes_only = |v: &f64| format!("{v:.0}");
    chart
        .configure_mesh()
        .x_labels(sizes)
        .x_label_formatter(&sizes_only)
        .light_line_style(plotters::style::WHITE)
        .x_desc("input MB")
        .y_desc(y_desc)
        .draw()
        .unwrap();
}

/// Warm p50 per query kind against input size (log–log), and indexing MB/s.
fn draw(figures: &[SizeFigures], path: &Path) {
    use plotters::prelude::*;
    if figures.len() < 2 {
        return;
    }
    // plotters draws text with a font it is given: DejaVu Sans where the system has it.
    let font = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"].iter().find_map(|p| fs::read(p).ok());
    let Some(font) = font else {
        eprintln!("bench: no DejaVu Sans font; scale.png not drawn");
        return;
    };
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    if plotters::style::register_font("sans-serif", FontStyle::Normal, font).is_err() {
        eprintln!("bench: font not usable; scale.png not drawn");
        return;
    }
    let root = BitMapBackend::new(path, (1200, 560)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let (left, right) = root.split_horizontally(760);
    let (min_mb, max_mb) = (figures[0].mb, figures[figures.len() - 1].mb);
    let all_ms = figures.iter().flat_map(|f| f.queries.iter().map(|q| q.warm.0));
    // Room above the highest line for the legend, drawn top left, so it hides no point.
    let max_ms = all_ms.fold(1.0f64, f64::max) * 40.0;
    let mut chart = ChartBuilder::on(&left)
        .caption("warm query p50 (ms) against input size (MB)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((min_mb * 0.8..max_mb * 1.25).log_scale(), (0.05f64..max_ms).log_scale())
        .unwrap();
    draw_mesh(&mut chart, figures.len(), "p50 ms");
    let kinds = figures[0].queries.len();
    for k in 0..kinds {
        let color = Palette99::pick(k).mix(0.9);
        let points: Vec<(f64, f64)> = figures.iter().map(|f| (f.mb, f.queries[k].warm.0.max(0.05))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .unwrap()
            .label(figures[0].queries[k].plot_label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled()))).unwrap();
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .unwrap();
    let rates: Vec<(f64, f64)> = figures
        .iter()
        .filter(|f| f.index.wall > Duration::ZERO)
        .map(|f| (f.mb, f.mb / f.index.wall.as_secs_f64()))
        .collect();
    let max_rate = rates.iter().map(|r| r.1).fold(1.0f64, f64::max) * 1.3;
    let mut chart = ChartBuilder::on(&right)
        .caption("indexing MB/s (2 threads)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d((min_mb * 0.8..max_mb * 1.25).log_scale(), 0f64..max_rate)
        .unwrap();
    draw_mesh(&mut chart, figures.len(), "MB/s");
    chart.draw_series(LineSeries::new(rates.clone(), BLUE.stroke_width(2))).unwrap();
    chart.draw_series(rates.iter().map(|&p| Circle::new(p, 4, BLUE.filled()))).unwrap();
    root.present().unwrap();
    println!("\nPlot: {}", path.display());
}
