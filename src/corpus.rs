//! Walking a corpus folder and reading each file into documents: skip rules, per-file
//! problems as values (never errors that stop the walk), streaming `.jsonl`.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::document::{self, Document, Format};
use crate::encoding::{self, NotText};

/// Why a file (or part of one) was not indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// The file is empty or only whitespace.
    Empty,
    /// The file looks binary.
    Binary,
    /// The file is larger than the configured limit.
    TooLarge {
        /// File size in bytes.
        bytes: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file or folder could not be read.
    Unreadable {
        /// The operating system's message.
        message: String,
    },
    /// A symbolic link points back at one of its own parent folders.
    SymlinkLoop,
    /// The content could not be parsed (e.g. invalid JSON).
    Malformed {
        /// What was wrong.
        message: String,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Empty => write!(f, "empty file"),
            SkipReason::Binary => write!(f, "binary file"),
            SkipReason::TooLarge { bytes, limit } => {
                write!(f, "file too large ({} MiB > limit {} MiB)", bytes >> 20, limit >> 20)
            }
            SkipReason::Unreadable { message } => write!(f, "unreadable: {message}"),
            SkipReason::SymlinkLoop => write!(f, "symbolic link loop"),
            SkipReason::Malformed { message } => write!(f, "{message}"),
        }
    }
}

/// A file found by the walk that sou can read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path to open.
    pub path: PathBuf,
    /// The path as stored in the index (see [`file_key`]): the file's identity for sync and
    /// the id of its document unless JSON gives one. Unique per file, so two files never
    /// become one document.
    pub key: String,
    /// Format by extension.
    pub format: Format,
    /// Size in bytes.
    pub size: u64,
    /// Changes when the file's size or modification time changes.
    pub fingerprint: u64,
}

/// What the walk found at one path.
#[derive(Debug)]
pub enum Found {
    /// A file to read.
    File(SourceFile),
    /// A path that could not be walked or read.
    Skipped(PathBuf, SkipReason),
}

/// A path as stored in the index: `/`-separated, without a leading `./`.
pub(crate) fn slash_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    match text.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => text,
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved by name (symbolic links are
/// left as they are: a link is a path of its own).
fn lexically_absolute(path: &Path, cwd: Option<&Path>) -> PathBuf {
    let mut out = PathBuf::new();
    let joined;
    let path = match cwd {
        Some(cwd) if path.is_relative() => {
            joined = cwd.join(path);
            joined.as_path()
        }
        _ => path,
    };
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(part);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The key a file or folder is stored under: its path relative to the current folder when it
/// lies inside it, else its absolute path, `/`-separated and without `.` or `..`. However a
/// path is spelled (`corpus`, `./corpus/`, `corpus/./`, its absolute form), it gives one key,
/// so re-running with another spelling neither re-adds nor duplicates anything.
pub(crate) fn file_key(path: &Path, cwd: Option<&Path>) -> String {
    let absolute = lexically_absolute(path, cwd);
    let shown = match cwd.map(|c| lexically_absolute(c, None)) {
        Some(cwd) => match absolute.strip_prefix(&cwd) {
            Ok(inside) if !inside.as_os_str().is_empty() => inside.to_path_buf(),
            Ok(_) => PathBuf::from("."),
            Err(_) => absolute,
        },
        None => absolute,
    };
    slash_path(&shown)
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_str().is_some_and(|n| n.starts_with('.'))
}

/// Mixes size and modification time into one number (splitmix64 finalizer).
fn fingerprint(size: u64, mtime_nanos: u128) -> u64 {
    let mut x = size ^ (mtime_nanos as u64).rotate_left(17) ^ ((mtime_nanos >> 64) as u64);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Walks `root` (a folder, recursively, or a single file) in file-name order. Hidden entries,
/// files of unknown formats and anything under `exclude` (the index itself) are passed over.
pub fn walk<'a>(root: &'a Path, exclude: Option<&'a Path>) -> impl Iterator<Item = Found> + 'a {
    let exclude = exclude.and_then(|p| p.canonicalize().ok());
    let cwd = std::env::current_dir().ok();
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            let excluded = e.file_type().is_dir()
                && exclude.as_ref().is_some_and(|x| e.path().canonicalize().ok().as_ref() == Some(x));
            !is_hidden(e) && !excluded
        })
        .filter_map(move |entry| match entry {
            Err(err) => {
                let path = err.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
                let reason = if err.loop_ancestor().is_some() {
                    SkipReason::SymlinkLoop
                } else {
                    SkipReason::Unreadable { message: err.io_error().map_or(err.to_string(), |e| e.to_string()) }
                };
                Some(Found::Skipped(path, reason))
            }
            Ok(entry) if entry.file_type().is_file() => {
                let format = Format::of_path(entry.path())?;
                let meta = match entry.metadata() {
                    Ok(m) => m,
                    Err(e) => {
                        let reason = SkipReason::Unreadable { message: e.to_string() };
                        return Some(Found::Skipped(entry.into_path(), reason));
                    }
                };
                let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok());
                Some(Found::File(SourceFile {
                    key: file_key(entry.path(), cwd.as_deref()),
                    format,
                    size: meta.len(),
                    fingerprint: fingerprint(meta.len(), mtime.map_or(0, |d| d.as_nanos())),
                    path: entry.into_path(),
                }))
            }
            Ok(_) => None,
        })
}

/// The outcome of reading one file.
#[derive(Debug, Default)]
pub struct FileReport {
    /// Documents produced.
    pub documents: usize,
    /// Problems worth a warning that did not stop the file (decoding notes, bad JSON lines).
    pub warnings: Vec<String>,
    /// Records (JSON lines or array items) that were skipped.
    pub bad_records: usize,
    /// Where a JSON-lines file ended, when it was read to its end with its checksum known.
    pub end: Option<ReadEnd>,
}

/// The end of a JSON-lines file read to its end: enough for the next run to tell lines
/// appended since from a file changed otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadEnd {
    /// Bytes read.
    pub size: u64,
    /// Lines read.
    pub lines: u64,
    /// CRC-32 of those bytes.
    pub crc: u32,
    /// Whether they end with a line break: only then is an appended line a line of its own.
    pub whole_lines: bool,
}

/// Where a document was in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Line of a JSON-lines record, position of a JSON array item (from 1), 0 for a document
    /// that is the whole file.
    pub number: u64,
    /// Byte offset in the file just after the record: where reading would resume.
    pub end: u64,
    /// CRC-32 of the file's bytes before `end`, where known (JSON lines).
    pub crc: Option<u32>,
}

/// Where to start reading a JSON-lines file that a run indexed in part (an interrupted run,
/// or one before lines were appended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// Byte offset of the first line not yet indexed.
    pub offset: u64,
    /// Number of the last line already read.
    pub line: u64,
    /// CRC-32 of the bytes before `offset`, if known: reading on then knows the whole file's.
    pub crc: Option<u32>,
}

/// CRC-32 of the first `len` bytes of the file at `path`; `None` if it is shorter or cannot
/// be read. Reads in large blocks: this is the price of recognising an append to a big file.
pub fn prefix_crc(path: &Path, len: u64) -> Option<u32> {
    let mut file = File::open(path).ok()?.take(len);
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        read += n as u64;
    }
    (read == len).then(|| hasher.finalize())
}

/// What the receiver of documents tells the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Go on reading.
    More,
    /// Stop: the receiver failed and will report why.
    Stop,
}

/// Reads `file` and calls `emit` for each document. Files over `max_bytes` are refused, except
/// `.jsonl`, which is streamed line by line (from `resume` when given) and so never held in
/// memory whole.
pub fn read_file(
    file: &SourceFile,
    max_bytes: u64,
    resume: Option<Resume>,
    emit: &mut dyn FnMut(Document, Record) -> Next,
) -> Result<FileReport, SkipReason> {
    let unreadable = |e: std::io::Error| SkipReason::Unreadable { message: e.to_string() };
    let mut report = FileReport::default();
    let stem = file.path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let mut stamp = |mut doc: Document, record: Record, report: &mut FileReport| {
        doc.path = file.key.clone();
        report.documents += 1;
        emit(doc, record)
    };
    if file.format == Format::JsonLines {
        let mut reader = BufReader::new(File::open(&file.path).map_err(unreadable)?);
        let start = resume.unwrap_or(Resume { offset: 0, line: 0, crc: Some(0) });
        if start.offset > 0 {
            reader.seek(SeekFrom::Start(start.offset)).map_err(unreadable)?;
        }
        read_json_lines(reader, &file.key, start, &mut report, &mut stamp).map_err(unreadable)?;
        return finish(report, resume.is_some());
    }
    if file.size > max_bytes {
        return Err(SkipReason::TooLarge { bytes: file.size, limit: max_bytes });
    }
    let mut bytes = Vec::with_capacity(file.size as usize);
    File::open(&file.path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(unreadable)?;
    let decoded = encoding::decode(&bytes).map_err(|e| match e {
        NotText::Empty => SkipReason::Empty,
        NotText::Binary => SkipReason::Binary,
    })?;
    report.warnings.extend(decoded.note());
    let text = decoded.into_text();
    let whole = Record { number: 0, end: bytes.len() as u64, crc: None };
    match file.format {
        Format::Text => {
            stamp(document::parse_text(&text, &file.key, &stem), whole, &mut report);
        }
        Format::Markdown => {
            let (doc, warning) = document::parse_markdown(&text, &file.key, &stem);
            report.warnings.extend(warning);
            stamp(doc, whole, &mut report);
        }
        Format::Json => match document::parse_json(&text, &file.key) {
            Ok(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Ok((doc, warning)) => {
                            report.warnings.extend(warning.map(|w| format!("item {}: {w}", i + 1)));
                            let record = Record { number: i as u64 + 1, ..whole };
                            if stamp(doc, record, &mut report) == Next::Stop {
                                break;
                            }
                        }
                        Err(problem) => {
                            report.bad_records += 1;
                            report.warnings.push(problem.0);
                        }
                    }
                }
            }
            // A .json file that is really JSON lines is common enough to accept.
            Err(problem) if text.lines().filter(|l| !l.trim().is_empty()).count() > 1 => {
                let before = report.documents;
                let start = Resume { offset: 0, line: 0, crc: None };
                read_json_lines(text.as_bytes(), &file.key, start, &mut report, &mut stamp).map_err(unreadable)?;
                if report.documents == before {
                    return Err(SkipReason::Malformed { message: problem.0 });
                }
            }
            Err(problem) => return Err(SkipReason::Malformed { message: problem.0 }),
        },
        Format::JsonLines => unreachable!("streamed above"),
    }
    finish(report, false)
}

/// A file that gave nothing is empty or malformed, unless it was resumed past everything it
/// had (its documents were committed before).
fn finish(report: FileReport, resumed: bool) -> Result<FileReport, SkipReason> {
    if resumed || report.documents > 0 {
        return Ok(report);
    }
    if report.bad_records == 0 {
        return Err(SkipReason::Empty);
    }
    let message = report.warnings.first().cloned().unwrap_or_default();
    Err(SkipReason::Malformed { message })
}

/// Reads JSON lines from `start`, one document each; bad lines are counted and described, not
/// fatal.
fn read_json_lines(
    mut reader: impl BufRead,
    key: &str,
    start: Resume,
    report: &mut FileReport,
    stamp: &mut dyn FnMut(Document, Record, &mut FileReport) -> Next,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let (mut line_no, mut offset) = (start.line, start.offset);
    // The checksum of everything before `offset`, carried on line by line (CRC-32 can go on
    // from a known value), so a commit inside the file and the end both know theirs.
    let mut hasher = start.crc.map(|crc| crc32fast::Hasher::new_with_initial_len(crc, start.offset));
    let mut whole_lines = true;
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf)?;
        if read == 0 {
            report.end = hasher.map(|h| ReadEnd { size: offset, lines: line_no, crc: h.finalize(), whole_lines });
            return Ok(());
        }
        line_no += 1;
        offset += read as u64;
        whole_lines = buf.ends_with(b"\n");
        if let Some(h) = &mut hasher {
            h.update(&buf);
        }
        let line = String::from_utf8_lossy(&buf);
        match document::parse_json_line(&line, key, line_no as usize) {
            None => {}
            Some(Ok((doc, warning))) => {
                report.warnings.extend(warning);
                let record =
                    Record { number: line_no, end: offset, crc: hasher.as_ref().map(|h| h.clone().finalize()) };
                if stamp(doc, record, report) == Next::Stop {
                    return Ok(());
                }
            }
            Some(Err(problem)) => {
                report.bad_records += 1;
                // Cap the noise from a file that is not JSON lines at all.
                if report.bad_records <= 5 {
                    report.warnings.push(problem.0);
                } else if report.bad_records == 6 {
                    report.warnings.push("more bad lines not shown".into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn read(file: &SourceFile) -> (Result<FileReport, SkipReason>, Vec<Document>) {
        let mut docs = Vec::new();
        let result = read_file(file, 1 << 20, None, &mut |d, _| {
            docs.push(d);
            Next::More
        });
        (result, docs)
    }

    fn files(root: &Path) -> Vec<SourceFile> {
        walk(root, None)
            .filter_map(|f| match f {
                Found::File(f) => Some(f),
                Found::Skipped(..) => None,
            })
            .collect()
    }

    #[test]
    fn walks_supported_files_in_order_skipping_hidden_and_index() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.txt", b"B");
        write(dir.path(), "a/c.md", b"C");
        write(dir.path(), "image.png", b"\x89PNG");
        write(dir.path(), ".hidden/x.txt", b"X");
        write(dir.path(), "index/meta.json", b"{}");
        let index = dir.path().join("index");
        let found: Vec<String> = walk(dir.path(), Some(&index))
            .map(|f| match f {
                Found::File(f) => f.path.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned(),
                Found::Skipped(p, r) => panic!("{p:?} {r}"),
            })
            .collect();
        assert_eq!(found, vec!["a/c.md", "b.txt"]);
    }

    #[test]
    fn every_spelling_of_a_path_gives_one_key() {
        let cwd = Path::new("/work/here");
        for spelling in ["corpus/a.txt", "./corpus/a.txt", "corpus/./a.txt", "corpus//a.txt", "x/../corpus/a.txt"] {
            assert_eq!(file_key(Path::new(spelling), Some(cwd)), "corpus/a.txt", "{spelling}");
        }
        assert_eq!(file_key(Path::new("/work/here/corpus/a.txt"), Some(cwd)), "corpus/a.txt");
        assert_eq!(file_key(Path::new("/elsewhere/a.txt"), Some(cwd)), "/elsewhere/a.txt");
        assert_eq!(file_key(Path::new("../there/a.txt"), Some(cwd)), "/work/there/a.txt");
        assert_eq!(file_key(Path::new("corpus/"), Some(cwd)), "corpus");
        assert_eq!(file_key(Path::new("."), Some(cwd)), ".");
        assert_eq!(file_key(Path::new("a/./b.txt"), None), "a/b.txt");
    }

    #[test]
    fn bad_files_are_reasons_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "empty.txt", b"");
        write(dir.path(), "bin.txt", b"\0\x01\x02ELF");
        write(dir.path(), "bad.json", b"{nope");
        write(dir.path(), "big.txt", &vec![b'a'; (1 << 20) + 1]);
        let reasons: Vec<String> = files(dir.path()).iter().map(|f| read(f).0.unwrap_err().to_string()).collect();
        assert!(reasons[0].starts_with("invalid JSON"), "{}", reasons[0]);
        assert_eq!(reasons[1], "file too large (1 MiB > limit 1 MiB)");
        assert_eq!(reasons[2], "binary file");
        assert_eq!(reasons[3], "empty file");
    }

    #[test]
    fn json_lines_keep_good_lines_and_count_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "d.jsonl",
            b"{\"id\":\"1\",\"title\":\"a\",\"text\":\"x\"}\n{broken\n\n{\"id\":\"2\",\"text\":\"y\"}\n",
        );
        let (report, docs) = read(&files(dir.path())[0]);
        let report = report.unwrap();
        assert_eq!(docs.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), vec!["1", "2"]);
        assert_eq!(report.bad_records, 1);
        assert!(report.warnings[0].starts_with("line 2"), "{:?}", report.warnings);
        assert!(docs.iter().all(|d| d.path.ends_with("d.jsonl")));
    }

    #[test]
    fn json_lines_resume_at_an_offset_and_count_lines_on() {
        let dir = tempfile::tempdir().unwrap();
        let lines = ["{\"id\":\"1\",\"text\":\"x\"}\n", "{\"id\":\"2\",\"text\":\"y\"}\n", "{\"text\":\"z\"}\n"];
        let whole = lines.concat();
        write(dir.path(), "d.jsonl", whole.as_bytes());
        let file = &files(dir.path())[0];
        let mut seen = Vec::new();
        let first = lines[0].len();
        let resume = Resume { offset: first as u64, line: 1, crc: Some(crc32fast::hash(&whole.as_bytes()[..first])) };
        let report = read_file(file, 1 << 20, Some(resume), &mut |d, r| {
            seen.push((d.id, r));
            Next::More
        })
        .unwrap();
        assert_eq!(report.documents, 2);
        let ends = [first + lines[1].len(), whole.len()];
        let crc_to = |end: usize| Some(crc32fast::hash(&whole.as_bytes()[..end]));
        assert_eq!(seen[0], ("2".to_string(), Record { number: 2, end: ends[0] as u64, crc: crc_to(ends[0]) }));
        assert!(seen[1].0.ends_with("d.jsonl#3"), "{:?}", seen[1]);
        assert_eq!(seen[1].1, Record { number: 3, end: ends[1] as u64, crc: crc_to(ends[1]) });
        // The checksum went on from the resumed one to the whole file's.
        let end =
            ReadEnd { size: whole.len() as u64, lines: 3, crc: crc32fast::hash(whole.as_bytes()), whole_lines: true };
        assert_eq!(report.end, Some(end));
        // Resumed at the very end: nothing new, and that is not an empty file.
        let at_end = Resume { offset: ends[1] as u64, line: 3, crc: None };
        let report = read_file(file, 1 << 20, Some(at_end), &mut |_, _| Next::More).unwrap();
        assert_eq!(report.end, None, "no checksum to go on from");
    }

    #[test]
    fn a_json_lines_prefix_checksum_matches_reading_the_file_and_knows_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = "{\"id\":\"1\",\"text\":\"x\"}\n{\"id\":\"2\",\"text\":\"y\"}";
        write(dir.path(), "d.jsonl", text.as_bytes());
        let file = &files(dir.path())[0];
        let (report, docs) = read(file);
        let end = report.unwrap().end.unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((end.size, end.lines, end.whole_lines), (text.len() as u64, 2, false));
        assert_eq!(prefix_crc(&file.path, end.size), Some(end.crc));
        assert_eq!(prefix_crc(&file.path, 10), Some(crc32fast::hash(&text.as_bytes()[..10])));
        assert_eq!(prefix_crc(&file.path, end.size + 1), None, "the file is shorter");
    }

    #[test]
    fn json_file_holding_lines_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "d.json", b"{\"id\":\"1\",\"text\":\"x\"}\n{\"id\":\"2\",\"text\":\"y\"}\n");
        let (report, docs) = read(&files(dir.path())[0]);
        assert!(report.is_ok());
        assert_eq!(docs.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a/x.txt", b"x");
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("a/loop")).unwrap();
        let loops = walk(dir.path(), None).filter(|f| matches!(f, Found::Skipped(_, SkipReason::SymlinkLoop))).count();
        assert_eq!(loops, 1);
    }
}
