//! Ingestion that never loses data: encodings, bad files, ids, incremental sync, the writer
//! lock and crash safety.

use std::time::{Duration, Instant};

use predicates::str::contains;

use crate::common::{Fixture, highlighted};

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
    }
    bytes
}

fn report(f: &Fixture, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut full = vec!["index", "--json"];
    full.extend_from_slice(args);
    let out = f.sou(&full).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), json, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn legacy_encodings_are_decoded_and_searchable() {
    let f = Fixture::empty();
    let gbk_text = "国标编码\n\n这份文件使用国标编码保存，内容涉及芬太尼前体化学品的管制。\n";
    let big5_text = "繁體編碼\n\n這份文件使用大五碼保存，內容涉及實體清單的最新變化。\n";
    f.write_bytes("corpus/gbk.txt", &encoding_rs::GBK.encode(gbk_text).0);
    f.write_bytes("corpus/big5.txt", &encoding_rs::BIG5.encode(big5_text).0);
    f.write_bytes("corpus/utf16le.txt", &utf16("小端编码\n\n这份文件是小端字节序的统一码，提到疫苗接种。\n", false));
    f.write_bytes("corpus/utf16be.txt", &utf16("大端编码\n\n这份文件是大端字节序的统一码，提到关税审查。\n", true));
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice("带签名\n\n带字节顺序标记的文件提到稀土出口。\n".as_bytes());
    f.write_bytes("corpus/bom.txt", &bom);
    let (code, report, stderr) = report(&f, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report["added"], 5);
    assert!(stderr.contains("gbk.txt: decoded as GB"), "{stderr}");
    assert!(stderr.contains("big5.txt: decoded as Big5"), "{stderr}");
    for (query, file, expected) in [
        ("芬太尼", "corpus/gbk.txt", "芬太尼"),
        ("实体清单", "corpus/big5.txt", "實體清單"),
        ("疫苗接种", "corpus/utf16le.txt", "疫苗接种"),
        ("关税", "corpus/utf16be.txt", "关税"),
        ("稀土", "corpus/bom.txt", "稀土"),
    ] {
        let hits = f.search_json(query);
        assert_eq!(hits.len(), 1, "{query}");
        assert_eq!(hits[0]["id"], file);
        let zh = &hits[0]["snippets"]["zh"];
        assert!(highlighted(zh).contains(&expected.to_string()), "{query}: {zh}");
        assert!(!zh["text"].as_str().unwrap().contains('\u{FFFD}'));
    }
}

#[test]
fn invalid_utf8_is_replaced_and_reported() {
    let f = Fixture::empty();
    let mut bytes = "损坏的文件\n\n".as_bytes().to_vec();
    bytes.extend_from_slice("这一段完好无损，提到芬太尼。".repeat(20).as_bytes());
    bytes.extend_from_slice(&[0xFF, 0xFE, 0x80]);
    bytes.extend_from_slice("后面还有实体清单。\n".as_bytes());
    f.write_bytes("corpus/broken.txt", &bytes);
    let (code, report, stderr) = report(&f, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(report["added"], 1);
    assert!(stderr.contains("broken.txt: 3 invalid UTF-8 sequence(s) replaced"), "{stderr}");
    assert_eq!(f.ids("实体清单"), vec!["corpus/broken.txt"]);
}

#[test]
fn bad_files_are_skipped_with_a_reason_and_counted() {
    let f = Fixture::standard();
    f.write("corpus/bad/empty.txt", "");
    f.write_bytes("corpus/bad/binary.txt", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0");
    f.write("corpus/bad/huge.txt", &"芬太尼".repeat(400_000));
    f.write("corpus/bad/lines.jsonl", "{\"id\":\"ok1\",\"text\":\"完好的一行\"}\n{not json\n[1,2]\n");
    f.write("corpus/bad/broken.json", "{\"id\": ");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(f.path("corpus/nowhere"), f.path("corpus/bad/dangling.txt")).unwrap();
        std::os::unix::fs::symlink(f.path("corpus"), f.path("corpus/bad/loop")).unwrap();
    }
    let (code, report, stderr) = report(&f, &["--max-file-mb", "1"]);
    assert_eq!(code, Some(1), "skips make the exit code 1: {stderr}");
    for (file, reason) in [
        ("empty.txt", "skipped: empty file"),
        ("binary.txt", "skipped: binary file"),
        ("huge.txt", "skipped: file too large"),
        ("lines.jsonl", "line 2: invalid JSON"),
        ("lines.jsonl", "line 3: expected a JSON object"),
        ("broken.json", "skipped: invalid JSON"),
    ] {
        assert!(stderr.lines().any(|l| l.contains(file) && l.contains(reason)), "{file}: {reason}\n{stderr}");
    }
    #[cfg(unix)]
    {
        assert!(stderr.lines().any(|l| l.contains("dangling.txt") && l.contains("unreadable")), "{stderr}");
        assert!(stderr.lines().any(|l| l.contains("loop") && l.contains("symbolic link loop")), "{stderr}");
        assert_eq!(report["skipped"], 6);
    }
    assert_eq!(report["bad_records"], 2);
    // Everything good was indexed: the standard five files plus the good JSON line.
    assert_eq!(report["added"], 6);
    assert_eq!(f.ids("完好的一行"), vec!["ok1"]);
    assert_eq!(f.ids("\"entity list\"").len(), 2);
}

#[test]
fn a_repeated_json_id_keeps_the_later_record_and_says_so() {
    let f = Fixture::empty();
    f.write("corpus/a.jsonl", "{\"id\":\"1\",\"text\":\"旧版本芬太尼\"}\n{\"id\":\"2\",\"text\":\"第二篇\"}\n");
    f.write("corpus/b.jsonl", "{\"id\":\"2\",\"text\":\"新版本第二篇\"}\n{\"id\":\"3\",\"text\":\"第三篇\"}\n");
    let (code, report, stderr) = report(&f, &[]);
    assert_eq!(code, Some(1), "a record was left out: {stderr}");
    assert_eq!(report["duplicate_ids"], 1);
    let warning = stderr.lines().find(|l| l.contains("\"2\"")).expect("a warning names the id");
    assert!(warning.contains("corpus/a.jsonl:2") && warning.contains("corpus/b.jsonl:1"), "{warning}");
    assert!(stderr.contains("1 records with repeated ids"), "{stderr}");
    assert_eq!(documents(&f), 3);
    assert_eq!(f.ids("第二篇"), vec!["2"], "b.jsonl comes later: its record wins");
    assert_eq!(f.ids("新版本"), vec!["2"]);
    // Nothing changed: nothing to say, nothing duplicated.
    f.index();
    f.sou(&["index", "-q", "corpus/a.jsonl"]).assert().success();
    assert_eq!(documents(&f), 3);
    // The winner goes away: the other record is back.
    std::fs::remove_file(f.path("corpus/b.jsonl")).unwrap();
    f.index();
    assert_eq!(f.ids("第二篇"), vec!["2"]);
    assert!(f.ids("新版本").is_empty());
    assert_eq!(documents(&f), 2);
}

#[test]
fn a_repeated_id_inside_one_file_keeps_the_later_line() {
    let f = Fixture::empty();
    f.write(
        "corpus/a.jsonl",
        "{\"id\":\"x\",\"text\":\"第一版\"}\n{\"id\":\"y\",\"text\":\"别的\"}\n{\"id\":\"x\",\"text\":\"第二版\"}\n",
    );
    let (code, report, stderr) = report(&f, &[]);
    assert_eq!((code, report["duplicate_ids"].as_u64()), (Some(1), Some(1)), "{stderr}");
    assert!(stderr.contains("corpus/a.jsonl:1") && stderr.contains("corpus/a.jsonl:3"), "{stderr}");
    assert_eq!(f.ids("第二版"), vec!["x"]);
    assert!(f.ids("第一版").is_empty());
}

#[test]
fn two_files_of_one_name_in_two_folders_stay_two_documents() {
    let f = Fixture::empty();
    f.write("a/x.txt", "A\n\n甲文件。\n");
    f.write("b/x.txt", "B\n\n乙文件。\n");
    f.sou(&["index", "-q", "a", "b"]).assert().success();
    assert_eq!(documents(&f), 2);
    assert_eq!(f.ids("甲文件"), vec!["a/x.txt"]);
    assert_eq!(f.ids("乙文件"), vec!["b/x.txt"]);
    // Every later run agrees, whatever the order or spelling of the folders.
    f.sou(&["index", "-q", "b", "./a/"]).assert().success();
    f.sou(&["index", "-q", "a/./", "b"]).assert().success();
    assert_eq!(documents(&f), 2);
    let abs = f.path("a");
    f.sou(&["index", "-q", abs.to_str().unwrap()]).assert().success();
    assert_eq!(documents(&f), 2);
    assert_eq!(f.ids("甲文件"), vec!["a/x.txt"]);
}

#[test]
fn incremental_sync_handles_edit_delete_add_and_rename() {
    let f = Fixture::standard();
    let (_, first, _) = report(&f, &[]);
    assert_eq!(first["added"], 5);

    // Edit (content and size change), delete, add, rename.
    f.write("corpus/notes.md", "Notes on vaccines\n\n新版疫苗已经获批。\n\nThe new vaccine was approved today.\n");
    std::fs::remove_file(f.path("corpus/long.txt")).unwrap();
    f.write("corpus/new.txt", "新文件\n\n新增的文件提到稀土出口管制。\n");
    std::fs::rename(f.path("corpus/news/chips.txt"), f.path("corpus/news/semiconductors.txt")).unwrap();

    let (code, second, stderr) = report(&f, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(second["updated"], 1, "{second}");
    assert_eq!(second["added"], 2, "new.txt and the renamed file: {second}");
    assert_eq!(second["removed"], 2, "long.txt and the old name: {second}");
    assert_eq!(second["unchanged"], 2, "{second}");
    assert_eq!(second["total_documents"], 6);

    assert_eq!(f.ids("获批"), vec!["corpus/notes.md"]);
    assert!(f.ids("变异株").is_empty(), "old content of the edited file is gone");
    assert!(f.ids("标点符号").is_empty(), "deleted file is gone");
    assert_eq!(f.ids("稀土"), vec!["corpus/new.txt"]);
    assert_eq!(f.ids("芯片企业"), vec!["corpus/news/semiconductors.txt"]);

    let (_, third, _) = report(&f, &[]);
    assert_eq!((third["unchanged"].as_u64(), third["documents"].as_u64()), (Some(5), Some(0)));

    // --rebuild starts over.
    let (_, rebuilt, _) = report(&f, &["--rebuild"]);
    assert_eq!((rebuilt["added"].as_u64(), rebuilt["total_documents"].as_u64()), (Some(5), Some(6)));
}

#[test]
fn indexing_one_folder_does_not_remove_another() {
    let f = Fixture::standard();
    f.write("other/x.txt", "其他\n\n另一个文件夹里的文件。\n");
    f.sou(&["index", "-q", "corpus", "other"]).assert().success();
    f.sou(&["index", "-q", "other"]).assert().success();
    assert_eq!(f.ids("另一个文件夹").len(), 1);
    assert_eq!(f.ids("芬太尼").len(), 2, "corpus/ documents stay");
}

#[cfg(unix)]
#[test]
fn a_second_writer_gets_a_clear_error_and_searches_keep_working() {
    let f = Fixture::standard();
    f.index();
    // Hold the writer lock as a running `sou index` would (tantivy uses flock).
    let lock = std::fs::OpenOptions::new().write(true).open(f.path("index/.tantivy-writer.lock")).unwrap();
    lock.lock().unwrap();
    f.write("corpus/new.txt", "新\n\n新文件。\n");
    f.sou(&["index"]).assert().code(2).stderr(contains("being written by another process"));
    f.sou(&["index", "--rebuild"]).assert().code(2).stderr(contains("being written by another process"));
    f.sou(&["search", "芬太尼"]).assert().success().stdout(contains("fentanyl.txt"));
    lock.unlock().unwrap();
    f.sou(&["index", "-q"]).assert().success();
    assert_eq!(f.ids("新文件"), vec!["corpus/new.txt"]);
}

fn documents(f: &Fixture) -> u64 {
    let out = f.sou(&["stats", "--json"]).output().unwrap();
    if !out.status.success() {
        return 0;
    }
    serde_json::from_slice::<serde_json::Value>(&out.stdout).map_or(0, |s| s["documents"].as_u64().unwrap_or(0))
}

#[cfg(unix)]
#[test]
fn a_killed_index_run_leaves_the_last_commit_readable_and_a_rerun_completes() {
    let f = Fixture::empty();
    let paragraph = "调查显示前体化学品经由多个中转国家抵达制毒工厂，海关需要共享物流数据。".repeat(8);
    let total = 1200;
    for i in 0..total {
        f.write(&format!("corpus/{:02}/doc{i:05}.txt", i % 40), &format!("文件{i}\n\n{paragraph}编号{i}。\n"));
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sou"))
        .current_dir(f.dir.path())
        .args(["index", "-q", "--threads", "1", "--commit-every-mb", "0.05"])
        .spawn()
        .unwrap();
    // Wait for a commit with documents, then search while the run goes on, then kill it.
    let started = Instant::now();
    let mut committed = 0;
    while committed == 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "no commit seen");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("index run finished before it could be killed ({status}); make the corpus larger");
        }
        std::thread::sleep(Duration::from_millis(50));
        committed = documents(&f);
    }
    f.sou(&["search", "制毒工厂"]).assert().success();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let after_kill = documents(&f);
    assert!(after_kill >= committed && after_kill < total, "{after_kill} documents after the kill");
    f.sou(&["search", "前体化学品"]).assert().success();
    f.sou(&["index", "-q"]).assert().success();
    assert_eq!(documents(&f), total);
    assert_eq!(f.search_json("编号1199").len(), 1);
}

/// `lines` JSON lines of about 330 bytes each (4,000 make 1.3 MB, past the size from which sou
/// keeps a JSON-lines file's indexed end), numbered from `from`.
fn json_lines(from: usize, lines: usize) -> String {
    let filler = "Shipping routes and customs records were compared across ports. ".repeat(4);
    (from..from + lines).map(|i| format!("{{\"id\":\"r{i}\",\"text\":\"record {i} word{i} {filler}\"}}\n")).collect()
}

fn append(f: &Fixture, rel: &str, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(f.path(rel)).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

#[test]
fn appending_lines_to_a_big_json_lines_file_reads_only_the_appended_lines() {
    let f = Fixture::empty();
    f.write("corpus/big.jsonl", &json_lines(0, 4000));
    let (code, first, stderr) = report(&f, &[]);
    assert_eq!((code, first["documents"].as_u64()), (Some(0), Some(4000)), "{stderr}");

    // Two new records and a new version of an early one: the later line wins, as in a full read.
    let added = format!("{}{}", json_lines(4000, 2), "{\"id\":\"r5\",\"text\":\"record five rewritten\"}\n");
    append(&f, "corpus/big.jsonl", &added);
    // Commits between the appended lines, too: each carries the checksum read so far.
    let (_, second, stderr) = report(&f, &["--commit-every-mb", "0.0002"]);
    assert_eq!(second["updated"].as_u64(), Some(1), "{stderr}");
    assert_eq!(second["documents"].as_u64(), Some(3), "only the appended lines are indexed: {second}");
    assert_eq!(second["bytes"].as_u64(), Some(added.len() as u64), "only the appended bytes are read: {second}");
    assert_eq!(second["duplicate_ids"].as_u64(), Some(1), "{stderr}");
    assert!(stderr.contains("corpus/big.jsonl:6") && stderr.contains("corpus/big.jsonl:4003"), "{stderr}");
    assert_eq!(second["total_documents"].as_u64(), Some(4002));
    assert_eq!(f.ids("word4001"), vec!["r4001"]);
    assert_eq!(f.ids("word3999"), vec!["r3999"]);
    assert_eq!(f.ids("rewritten"), vec!["r5"]);
    assert!(f.ids("word5").is_empty(), "the old r5 is gone");

    let (_, third, _) = report(&f, &[]);
    assert_eq!((third["unchanged"].as_u64(), third["documents"].as_u64()), (Some(1), Some(0)), "{third}");
}

#[test]
fn a_big_json_lines_file_changed_before_its_end_is_read_again_whole() {
    let f = Fixture::empty();
    let text = json_lines(0, 4000);
    f.write("corpus/big.jsonl", &text);
    f.index();
    // The same length, one word changed in an early line, and a line appended.
    let edited = text.replacen("word10 ", "wordXY ", 1) + &json_lines(4000, 1);
    f.write("corpus/big.jsonl", &edited);
    let (_, report, stderr) = report(&f, &[]);
    assert_eq!(report["updated"].as_u64(), Some(1), "{stderr}");
    assert_eq!(report["documents"].as_u64(), Some(4001), "{report}");
    assert_eq!(report["bytes"].as_u64(), Some(edited.len() as u64));
    assert_eq!(f.ids("wordXY"), vec!["r10"]);
    assert!(f.ids("word10").is_empty());
}

#[test]
fn a_line_appended_to_a_big_file_without_a_final_line_break_is_read_as_a_full_read_would() {
    let f = Fixture::empty();
    let text = json_lines(0, 4000);
    f.write("corpus/big.jsonl", text.trim_end());
    f.index();
    // Glued to the unterminated last line, the new record makes that line malformed: a full
    // read would not index either, so reading on from the old end must not either.
    append(&f, "corpus/big.jsonl", "{\"id\":\"glued\",\"text\":\"glued on\"}\n");
    let (code, report, stderr) = report(&f, &[]);
    assert_eq!((code, report["bad_records"].as_u64()), (Some(1), Some(1)), "{stderr}");
    assert_eq!(report["documents"].as_u64(), Some(3999), "read again whole: {report}");
    assert!(f.ids("glued").is_empty());
    assert!(f.ids("word3999").is_empty());
}
