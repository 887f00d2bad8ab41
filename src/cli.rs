//! Command-line interface: clap definitions and their translation into library calls.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use sou::{Date, FileProblem, Index, OpenOptions, Query, Searchable, SortBy, SyncOptions, SyncProgress, output};

/// What a command tells the process to exit with.
pub enum Outcome {
    /// Success (hits found, everything indexed).
    Success,
    /// Completed, but nothing matched or something was skipped.
    Partial,
}

const DEFAULT_CORPUS: &str = "corpus";
const DEFAULT_INDEX: &str = "index";

#[derive(Parser)]
#[command(name = "sou", version, about = "Bilingual (Chinese + English) full-text search")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build or update an index from folders or files (.txt .md .json .jsonl).
    #[command(after_help = "Example:\n  sou index corpus/ notes/ --index index   # only changed files are read again")]
    Index(IndexArgs),
    /// Search an index. Exit status: 0 hits, 1 no hits, 2 error.
    #[command(after_help = "Example:\n  sou search '芬太尼 \"entity list\" -heroin' --since 2023-01-01 --json")]
    Search(SearchArgs),
    /// Show index statistics.
    Stats(StatsArgs),
    /// Show the tokens indexing and querying produce for a text.
    ///
    /// "words" are the word fields' tokens (title, source, zh, en); a FunctionWord (的, 了…) is
    /// in all of them but zh, which leaves it to "grams", the character recall field.
    Analyze(AnalyzeArgs),
    /// Score rankings against relevance judgments: nDCG@10, recall@100, MRR@10.
    Eval(EvalArgs),
    /// Serve an HTTP JSON API and a search page (loopback by default).
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
    /// Print a shell completion script: `sou completions bash > ~/.local/share/bash-completion/completions/sou`.
    Completions(CompletionsArgs),
}

#[derive(Args)]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

#[cfg(feature = "serve")]
#[derive(Args)]
struct ServeArgs {
    /// Index folder [default: index, built from corpus/ when missing].
    #[arg(long)]
    index: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:7700")]
    addr: std::net::SocketAddr,
    /// Allow an address other machines can reach (not loopback). Set a token too.
    #[arg(long)]
    public: bool,
    /// Require `Authorization: Bearer TOKEN` on every API request, the token being the first
    /// line of FILE (also: the SOU_TOKEN environment variable). Not an argument, which other
    /// users could read in the process list.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Also answer requests for this host name (a reverse proxy's, say); repeatable. Others
    /// are refused, so web pages cannot reach the server by rebinding their own domain.
    #[arg(long, value_name = "NAME")]
    allow_host: Vec<String>,
    /// Let web pages from this origin call the API (CORS), e.g. https://example.org; `*` for
    /// any; repeatable. Default: none.
    #[arg(long, value_name = "ORIGIN")]
    cors_origin: Vec<String>,
    /// No request log on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct IndexArgs {
    /// Folders (walked recursively) or files to index [default: corpus]
    paths: Vec<PathBuf>,
    /// Index folder, or an OpenSearch index (`http://127.0.0.1:9200/NAME`).
    #[arg(long, default_value = DEFAULT_INDEX)]
    index: PathBuf,
    /// Primary shards of a new cluster index.
    #[arg(long, default_value_t = 2)]
    shards: u32,
    /// Replicas of each shard of a new cluster index.
    #[arg(long, default_value_t = 1)]
    replicas: u32,
    /// Build the index again from scratch, aside: searches keep using the current index until
    /// the new one is complete. Keeps the stored user dictionary unless --dict or --no-dict.
    #[arg(long)]
    rebuild: bool,
    /// A jieba user dictionary (`word [freq] [tag]` per line), kept with the index.
    #[arg(long, value_name = "FILE")]
    dict: Option<PathBuf>,
    /// With --rebuild: drop the stored user dictionary.
    #[arg(long, requires = "rebuild", conflicts_with = "dict")]
    no_dict: bool,
    /// Give a new index the pair field (adjacent characters as terms): Chinese words and
    /// phrases several times faster in large indexes, for about a third more index and twice
    /// the indexing time (see BENCHMARKS.md). An existing index keeps its choice; --rebuild
    /// --pairs adds the field. Local indexes only.
    #[arg(long)]
    pairs: bool,
    /// With --rebuild: leave the pair field out.
    #[arg(long, requires = "rebuild", conflicts_with = "pairs")]
    no_pairs: bool,
    /// Skip files larger than this many MiB (.jsonl files are streamed and exempt).
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    max_file_mb: u64,
    /// Index writer memory budget in MiB (documents waiting to be indexed get a quarter as much again).
    #[arg(long, default_value_t = 256, value_name = "MIB")]
    memory_mb: usize,
    /// Commit after this much input, so an interrupted run keeps what it committed.
    #[arg(long, default_value_t = 64.0, value_name = "MIB")]
    commit_every_mb: f64,
    /// Indexing threads [default: cores, at most 4].
    #[arg(long)]
    threads: Option<usize>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// No progress bar or per-file warnings.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sort {
    Relevance,
    Date,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Ranked hits with snippets, for people.
    Human,
    /// One JSON object per hit per line.
    Json,
    /// TREC run lines: `qid Q0 docid rank score sou`.
    Trec,
}

#[derive(Args)]
struct SearchArgs {
    /// The query (see README: words, "phrases", OR, -not, title:, zh:, en:, date:[A TO B], fent*, oil^2).
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    query: Option<String>,
    /// Run every query of a JSON-lines file (`{"id", "text"}` per line) instead of QUERY.
    #[arg(long, value_name = "QUERIES.jsonl", conflicts_with = "query")]
    batch: Option<PathBuf>,
    /// Output format [default: human; json with --json].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Index folder [default: index, built from corpus/ when missing].
    #[arg(long)]
    index: Option<PathBuf>,
    /// Hits per page.
    #[arg(long, short = 'n', default_value_t = 10)]
    limit: usize,
    /// Hits to skip.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Match any term instead of all terms (the default with --batch).
    #[arg(long)]
    any: bool,
    /// With --batch: require all terms (by default a batch ranks by any term, as `sou eval`).
    #[arg(long, requires = "batch")]
    all_terms: bool,
    /// Only documents dated on or after this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    since: Option<Date>,
    /// Only documents dated on or before this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    until: Option<Date>,
    /// Result order.
    #[arg(long, value_enum, default_value_t = Sort::Relevance)]
    sort: Sort,
    /// Snippet length in characters.
    #[arg(long, default_value_t = 120)]
    snippet_chars: usize,
    /// Show how each hit's score was computed.
    #[arg(long)]
    explain: bool,
    /// One JSON object per hit per line (same as --format json).
    #[arg(long)]
    json: bool,
    /// Colour highlights.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Args)]
struct EvalArgs {
    /// Queries, JSON lines `{"id", "text"}`.
    #[arg(long, value_name = "Q.jsonl")]
    queries: PathBuf,
    /// Judgments, `qid<TAB>docid<TAB>grade` lines.
    #[arg(long, value_name = "QRELS.tsv")]
    qrels: PathBuf,
    /// Index folder.
    #[arg(long, default_value = DEFAULT_INDEX)]
    index: PathBuf,
    /// Require all query terms (default: any term, ranked by BM25, as reference runs do).
    #[arg(long)]
    all_terms: bool,
    /// Print per-query scores too.
    #[arg(long)]
    per_query: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct StatsArgs {
    /// Index folder, or an OpenSearch index (`http://127.0.0.1:9200/NAME`).
    #[arg(long, default_value = DEFAULT_INDEX)]
    index: PathBuf,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AnalyzeArgs {
    /// Text to analyze.
    text: String,
    /// Use the user dictionary of this index, if it has one.
    #[arg(long)]
    index: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("{text:?} is not a date (use YYYY-MM-DD)"))
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Index(args) => index(args),
        Command::Search(args) => search(args),
        Command::Stats(args) => stats(args),
        Command::Analyze(args) => analyze(args),
        Command::Eval(args) => eval(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve(args),
        Command::Completions(args) => {
            clap_complete::generate(args.shell, &mut Cli::command(), "sou", &mut io::stdout());
            Ok(Outcome::Success)
        }
    }
}

/// Draws a progress bar on stderr (only on a terminal) and prints file problems above it.
struct Progress {
    bar: ProgressBar,
    quiet: bool,
}

impl SyncProgress for Progress {
    fn started(&self, _files: usize, bytes: u64) {
        self.bar.set_length(bytes);
    }
    fn advanced(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
    fn problem(&self, problem: &FileProblem) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("sou: warning: {}: {}", problem.path, problem.reason));
        }
    }
}

fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let style =
        ProgressStyle::with_template("{spinner} indexing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> ");
    bar.set_style(style);
    bar
}

fn open_options(args: &IndexArgs) -> OpenOptions {
    OpenOptions {
        user_dict: args.dict.clone(),
        drop_user_dict: args.no_dict,
        writer_memory: Some(args.memory_mb << 20),
        threads: args.threads,
        pairs: if args.pairs {
            Some(true)
        } else if args.no_pairs {
            Some(false)
        } else {
            None
        },
        ..OpenOptions::default()
    }
}

/// Fails unless every input path exists, before anything is created: a typo must not leave an
/// empty index behind.
fn check_inputs(paths: &[PathBuf]) -> Result<()> {
    for path in paths {
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(())
}

/// The index location as given, when it is a cluster address.
fn cluster_url(index: &Path) -> Option<&str> {
    index.to_str().filter(|s| sou::cluster::is_cluster_url(s))
}

/// Syncs into a cluster index, creating it when missing.
fn index_cluster(
    url: &str,
    args: &IndexArgs,
    paths: &[PathBuf],
    sync: &SyncOptions,
    progress: &Progress,
) -> Result<sou::SyncReport> {
    if args.pairs || args.no_pairs {
        anyhow::bail!("--pairs and --no-pairs are for local indexes: a cluster index has no pair field");
    }
    let options = sou::cluster::ClusterOptions {
        layout: sou::cluster::Layout { shards: args.shards, replicas: args.replicas },
        user_dict: args.dict.clone(),
        drop_user_dict: args.no_dict,
    };
    let cannot_open = || format!("cannot open index {url}");
    if args.rebuild {
        let rebuild = sou::cluster::ClusterIndex::rebuild_with(url, &options).with_context(cannot_open)?;
        let report = rebuild.index().sync(paths, sync, progress)?;
        rebuild.finish().with_context(|| format!("cannot put the rebuilt index in place at {url}"))?;
        return Ok(report);
    }
    let index = sou::cluster::ClusterIndex::open_or_create_with(url, &options).with_context(cannot_open)?;
    Ok(index.sync(paths, sync, progress)?)
}

fn index(args: IndexArgs) -> Result<Outcome> {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(DEFAULT_CORPUS)] } else { args.paths.clone() };
    check_inputs(&paths)?;
    let options = open_options(&args);
    let progress = Progress { bar: progress_bar(args.quiet), quiet: args.quiet };
    let sync = SyncOptions {
        max_file_bytes: args.max_file_mb << 20,
        commit_every_bytes: (args.commit_every_mb.max(0.0) * (1 << 20) as f64) as u64,
        ..SyncOptions::default()
    };
    let cannot_open = || format!("cannot open index {}", args.index.display());
    let report = if let Some(url) = cluster_url(&args.index) {
        index_cluster(url, &args, &paths, &sync, &progress)?
    } else if args.rebuild {
        let rebuild = Index::rebuild(&args.index, options).with_context(cannot_open)?;
        let report = rebuild.index().sync(&paths, &sync, &progress)?;
        rebuild
            .finish()
            .with_context(|| format!("cannot put the rebuilt index in place at {}", args.index.display()))?;
        report
    } else {
        let index = Index::open_or_create_with(&args.index, options).with_context(cannot_open)?;
        index.sync(&paths, &sync, &progress)?
    };
    progress.bar.finish_and_clear();
    if args.json {
        let mut out = io::stdout().lock();
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    }
    let partial = report.skipped > 0 || report.bad_records > 0 || report.duplicate_ids > 0;
    if !args.quiet || partial {
        let mut extra = String::new();
        if report.bad_records > 0 {
            extra += &format!(", {} bad records", report.bad_records);
        }
        if report.duplicate_ids > 0 {
            extra += &format!(", {} records with repeated ids", report.duplicate_ids);
        }
        eprintln!(
            "sou: indexed {} documents from {} files ({:.1} MB) in {:.2} s: {} added, {} updated, {} removed, {} unchanged, {} skipped{}; index has {} documents",
            report.documents,
            report.added + report.updated,
            report.bytes as f64 / 1e6,
            report.elapsed.as_secs_f64(),
            report.added,
            report.updated,
            report.removed,
            report.unchanged,
            report.skipped,
            extra,
            report.total_documents,
        );
    }
    Ok(if partial { Outcome::Partial } else { Outcome::Success })
}

/// Opens the index to search: a cluster index, the given local one, or `index/`, built from
/// `corpus/` when missing.
fn open_searchable(path: Option<&Path>, options: OpenOptions) -> Result<Box<dyn Searchable>> {
    if let Some(url) = path.and_then(cluster_url) {
        let index = sou::cluster::ClusterIndex::open(url).with_context(|| format!("cannot open index {url}"))?;
        return Ok(Box::new(index));
    }
    Ok(Box::new(open_for_search(path, options)?))
}

/// Opens the local index to search: the given one, or `index/`, built from `corpus/` when
/// missing.
fn open_for_search(path: Option<&Path>, options: OpenOptions) -> Result<Index> {
    if let Some(path) = path {
        return Index::open_with(path, options).with_context(|| format!("cannot open index {}", path.display()));
    }
    let default = Path::new(DEFAULT_INDEX);
    // A clone of this repository has `index/.gitkeep` and nothing else: that is no index yet.
    let holds_something =
        std::fs::read_dir(default).is_ok_and(|entries| entries.flatten().any(|entry| entry.file_name() != ".gitkeep"));
    if default.join("meta.json").is_file() || holds_something {
        // An index, or something that is not one (a damaged index, other files): open it
        // and let the error say which; never build over it.
        return Index::open_with(default, options).context("cannot open index index/");
    }
    check_inputs(&[PathBuf::from(DEFAULT_CORPUS)])
        .context("no index yet, and no corpus/ folder to build one from (give --index, or run `sou index DIR`)")?;
    eprintln!("sou: no index yet; building {DEFAULT_INDEX}/ from {DEFAULT_CORPUS}/ first");
    let index = Index::open_or_create_with(default, options).context("cannot create index index/")?;
    let progress = Progress { bar: progress_bar(false), quiet: false };
    let report = index.sync(&[PathBuf::from(DEFAULT_CORPUS)], &SyncOptions::default(), &progress)?;
    progress.bar.finish_and_clear();
    eprintln!("sou: indexed {} documents in {:.2} s", report.documents, report.elapsed.as_secs_f64());
    Ok(index)
}

fn build_query(args: &SearchArgs, text: &str) -> Query {
    Query::new(text)
        .limit(args.limit)
        .offset(args.offset)
        .any(args.any)
        .since(args.since)
        .until(args.until)
        .sort(match args.sort {
            Sort::Relevance => SortBy::Relevance,
            Sort::Date => SortBy::Date,
        })
        .snippet_chars(args.snippet_chars)
        .explain(args.explain)
}

fn search(args: SearchArgs) -> Result<Outcome> {
    let index = open_searchable(args.index.as_deref(), OpenOptions::default())?;
    let format = args.format.unwrap_or(if args.json { Format::Json } else { Format::Human });
    let stdout = io::stdout();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut out = io::BufWriter::new(stdout.lock());
    if let Some(batch) = &args.batch {
        let (queries, problems) = sou::read_queries_lenient(batch)?;
        for problem in &problems {
            eprintln!("sou: warning: skipped {problem}");
        }
        let mut any_hits = false;
        for query in &queries {
            // Ranked like `sou eval`: by any term, unless told otherwise.
            let request = build_query(&args, &query.text).any(!args.all_terms);
            let results = match index.search(&request) {
                Ok(results) => results,
                Err(sou::Error::Query(message)) => {
                    eprintln!("sou: query {}: {message}", query.id);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            any_hits |= !results.hits.is_empty();
            write_results(&mut out, &results, format, color, &query.id)?;
        }
        out.flush()?;
        let skipped =
            if problems.is_empty() { String::new() } else { format!(", skipped {} bad lines", problems.len()) };
        eprintln!("sou: ran {} queries{skipped}", queries.len());
        return Ok(if any_hits && problems.is_empty() { Outcome::Success } else { Outcome::Partial });
    }
    let text = args.query.as_deref().unwrap_or_default();
    let results = index.search(&build_query(&args, text))?;
    for notice in &results.notices {
        eprintln!("sou: {notice}");
    }
    write_results(&mut out, &results, format, color, "1")?;
    out.flush()?;
    let more = if results.total_is_lower_bound { "+" } else { "" };
    eprintln!("sou: {} of {}{more} hits in {:.1} ms", results.hits.len(), results.total, results.elapsed_ms);
    Ok(if results.hits.is_empty() { Outcome::Partial } else { Outcome::Success })
}

fn write_results(
    out: &mut dyn Write,
    results: &sou::SearchResults,
    format: Format,
    color: bool,
    qid: &str,
) -> io::Result<()> {
    match format {
        Format::Human => output::write_human(out, results, color),
        Format::Json => output::write_json_lines(out, results),
        Format::Trec => output::write_trec(out, qid, results, "sou"),
    }
}

fn eval(args: EvalArgs) -> Result<Outcome> {
    let index = open_searchable(Some(&args.index), OpenOptions::default())?;
    let (queries, problems) = sou::read_queries_lenient(&args.queries)?;
    for problem in &problems {
        eprintln!("sou: warning: skipped {problem}");
    }
    let qrels = sou::Qrels::read(&args.qrels)?;
    let any = !args.all_terms;
    let report =
        sou::evaluate(index.as_ref(), &queries, &qrels, |text| Query::new(text).limit(100).any(any).snippet_chars(0))?;
    let mut out = io::stdout().lock();
    if args.json {
        if !args.per_query {
            let summary = serde_json::json!({
                "queries": report.queries, "ndcg_10": report.ndcg_10,
                "recall_100": report.recall_100, "mrr_10": report.mrr_10,
            });
            serde_json::to_writer(&mut out, &summary)?;
        } else {
            serde_json::to_writer(&mut out, &report)?;
        }
        writeln!(out)?;
    } else {
        if args.per_query {
            for q in &report.per_query {
                writeln!(out, "{}\t{:.4}\t{:.4}\t{:.4}", q.id, q.ndcg_10, q.recall_100, q.mrr_10)?;
            }
        }
        writeln!(out, "queries     {}", report.queries)?;
        writeln!(out, "nDCG@10     {:.4}", report.ndcg_10)?;
        writeln!(out, "recall@100  {:.4}", report.recall_100)?;
        writeln!(out, "MRR@10      {:.4}", report.mrr_10)?;
    }
    Ok(if report.queries > 0 { Outcome::Success } else { Outcome::Partial })
}

fn stats(args: StatsArgs) -> Result<Outcome> {
    let cannot_open = || format!("cannot open index {}", args.index.display());
    let stats = match cluster_url(&args.index) {
        Some(url) => sou::cluster::ClusterIndex::open(url).with_context(cannot_open)?.stats()?,
        None => Index::open(&args.index).with_context(cannot_open)?.stats()?,
    };
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &stats)?;
        writeln!(out)?;
    } else {
        writeln!(out, "index:     {}", stats.path)?;
        writeln!(out, "documents: {}", stats.documents)?;
        writeln!(out, "segments:  {}", stats.segments)?;
        writeln!(out, "size:      {:.2} MB", stats.size_bytes as f64 / 1e6)?;
        writeln!(out, "fields:    {}", stats.fields.join(", "))?;
        writeln!(out, "analyzer:  v{}", stats.analyzer_version)?;
        writeln!(out, "user dict: {}", stats.user_dictionary.as_deref().unwrap_or("none"))?;
        for part in &stats.space {
            writeln!(out, "{}", space_line(part))?;
        }
    }
    Ok(Outcome::Success)
}

/// `  positions  1771.2 MB  grams 1500.1, zh 200.3, en 70.8`: one part of the index's bytes.
fn space_line(part: &sou::SpacePart) -> String {
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let fields: Vec<String> = part.fields.iter().map(|f| format!("{} {:.1}", f.field, mb(f.bytes))).collect();
    format!("  {:<10}{:>9.1} MB  {}", part.part, mb(part.bytes), fields.join(", ")).trim_end().to_string()
}

fn analyze(args: AnalyzeArgs) -> Result<Outcome> {
    let cannot_open = |path: &Path| format!("cannot open index {}", path.display());
    let segmenter = match &args.index {
        Some(path) => match cluster_url(path) {
            Some(url) => sou::cluster::ClusterIndex::open(url).with_context(|| cannot_open(path))?.segmenter().clone(),
            None => Index::open(path).with_context(|| cannot_open(path))?.segmenter().clone(),
        },
        None => sou::Segmenter::default(),
    };
    let tokens = sou::analysis::analyze(&args.text, &segmenter);
    let mut out = io::stdout().lock();
    for token in &tokens {
        if args.json {
            serde_json::to_writer(&mut out, token)?;
            writeln!(out)?;
        } else {
            let field = if token.kind == sou::analysis::TokenKind::Gram { "grams" } else { "words" };
            writeln!(
                out,
                "{field:<5} {:>3}  {:<12} {:>4}..{:<4} {:?}",
                token.position, token.text, token.start, token.end, token.kind
            )?;
        }
    }
    Ok(if tokens.is_empty() { Outcome::Partial } else { Outcome::Success })
}

#[cfg(feature = "serve")]
fn serve(args: ServeArgs) -> Result<Outcome> {
    let token = match &args.token_file {
        Some(file) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            Some(text.lines().next().unwrap_or_default().trim().to_string())
        }
        None => std::env::var("SOU_TOKEN").ok(),
    };
    if token.as_deref() == Some("") {
        anyhow::bail!("the access token is empty");
    }
    let public = !args.addr.ip().is_loopback();
    if public && !args.public {
        anyhow::bail!(
            "{} is reachable from other machines: add --public to serve there (and --token-file to require a token)",
            args.addr
        );
    }
    let options = OpenOptions { reload_on_commit: true, ..OpenOptions::default() };
    let location = args.index.as_deref().unwrap_or(Path::new(DEFAULT_INDEX)).display().to_string();
    let index = open_searchable(args.index.as_deref(), options)?;
    if public {
        let protection = if token.is_some() {
            "a token is required"
        } else {
            "WITHOUT a token: anyone who can reach it can read the index"
        };
        eprintln!("sou: warning: serving on {}, reachable from other machines; {protection}", args.addr);
    }
    let options = sou::serve::ServeOptions {
        allowed_hosts: args.allow_host,
        token,
        cors_origins: args.cors_origin,
        log_requests: !args.quiet,
        allow_public: args.public,
        ..sou::serve::ServeOptions::default()
    };
    sou::serve::serve(index, args.addr, options, move |addr| {
        eprintln!("sou: serving {location} on http://{addr}/ (Ctrl-C to stop)");
    })
    .with_context(|| format!("cannot serve on {}", args.addr))?;
    Ok(Outcome::Success)
}
