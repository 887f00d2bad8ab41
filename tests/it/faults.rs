//! The fault harness: `sou index` killed with SIGKILL at many points of real runs (a folder
//! of many files, one big JSON-lines file committed inside, a rebuild). After every kill the
//! index must open and hold exactly the documents of one completed commit, and a rerun must
//! converge to the full set with no duplicates.
//!
//! Kill times are spread over the length of an uninterrupted run of the same work, measured
//! first; where they land differs from run to run, and the assertions hold wherever they do.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::Fixture;

/// Kill points per scenario (three scenarios).
const KILLS: usize = 8;
/// Commit after this much input (`--commit-every-mb 0.02`).
const COMMIT_MB: &str = "0.02";
const COMMIT_BYTES: u64 = (0.02 * (1u64 << 20) as f64) as u64;

fn sou(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("sou"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

/// Ids of every document holding `marker`, and the index's document count; `None` when the
/// index does not open.
fn contents(dir: &Path, marker: &str) -> Option<(Vec<String>, u64)> {
    let stats = sou(dir).args(["stats", "--json"]).output().unwrap();
    if !stats.status.success() {
        return None;
    }
    let documents = serde_json::from_slice::<serde_json::Value>(&stats.stdout).unwrap()["documents"].as_u64()?;
    let out = sou(dir)
        .args(["search", marker, "--json", "--limit", "100000", "--snippet-chars", "0", "--index", "index"])
        .output()
        .unwrap();
    let ids = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    Some((ids, documents))
}

/// A copy of `template` (a folder) in a new temporary folder.
fn copy_of(template: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status =
        Command::new("cp").arg("-a").arg(format!("{}/.", template.display())).arg(dir.path()).status().unwrap();
    assert!(status.success());
    dir
}

/// Every `meta.json` of an index folder or of a rebuild beside it, as text: a commit changes
/// one of them.
fn metas(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "index" || name.starts_with(".index.") {
            found.extend(std::fs::read_to_string(entry.path().join("meta.json")));
        }
    }
    found
}

/// Runs `args` in `dir` and calls `tick(commits seen so far)` every millisecond or so until
/// the run ends or `tick` says stop (true); returns whether the run was still going then.
fn watch_commits(dir: &Path, args: &[&str], mut tick: impl FnMut(usize) -> bool) -> bool {
    let mut child = sou(dir).args(args).spawn().unwrap();
    let (mut seen, mut last) = (0, metas(dir));
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the run did not end");
        let now = metas(dir);
        if now != last {
            seen += 1;
            last = now;
        }
        if tick(seen) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Commits an uninterrupted run of `args` makes, from a copy of `template`.
fn full_run(template: &Path, args: &[&str]) -> usize {
    let dir = copy_of(template);
    let mut commits = 0;
    assert!(!watch_commits(dir.path(), args, |seen| {
        commits = seen;
        false
    }));
    commits
}

/// Runs `args` in a fresh copy of `template` and kills it (SIGKILL) `jitter` after it made
/// `commits` commits; returns the folder and whether the run was still going when killed.
fn killed_run(template: &Path, args: &[&str], (commits, jitter): (usize, Duration)) -> (tempfile::TempDir, bool) {
    let dir = copy_of(template);
    let mut reached: Option<Instant> = None;
    let running = watch_commits(dir.path(), args, |seen| {
        if seen >= commits && reached.is_none() {
            reached = Some(Instant::now());
        }
        reached.is_some_and(|at| at.elapsed() >= jitter)
    });
    (dir, running)
}

/// The kill points: after commit 1, 2, … spread over the `commits` of a whole run (one
/// before the first commit with documents too), each a few milliseconds later than the last
/// so they land at different places between commits.
fn kill_times(commits: usize) -> Vec<(usize, Duration)> {
    (0..KILLS).map(|i| (i * commits.saturating_sub(1) / KILLS, Duration::from_millis(2 + 3 * i as u64))).collect()
}

/// Document counts after each commit of a run that reads records of these sizes in order and
/// commits once `COMMIT_BYTES` have gone by (the initial empty commit included).
fn commit_points(sizes: impl IntoIterator<Item = u64>) -> Vec<usize> {
    let (mut points, mut since, mut count) = (vec![0], 0, 0);
    for size in sizes {
        count += 1;
        since += size;
        if since >= COMMIT_BYTES {
            points.push(count);
            since = 0;
        }
    }
    points.push(count);
    points
}

/// Asserts that `ids` are exactly the first `n` of `expected` for a commit point `n`, once each.
fn assert_one_commit(ids: &[String], documents: u64, expected: &[String], points: &[usize], context: &str) {
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{context}: duplicate ids");
    assert_eq!(ids.len() as u64, documents, "{context}: every document is one of ours");
    assert!(points.contains(&ids.len()), "{context}: {} documents is no commit point of {points:?}", ids.len());
    let prefix: HashSet<&String> = expected[..ids.len()].iter().collect();
    assert_eq!(distinct, prefix, "{context}: not the documents of a completed commit");
}

fn converges(dir: &Path, args: &[&str], marker: &str, expected: &[String], context: &str) {
    let out = sou(dir).args(args).output().unwrap();
    assert!(out.status.success(), "{context}: rerun failed: {}", String::from_utf8_lossy(&out.stderr));
    let (mut ids, documents) = contents(dir, marker).expect("the index opens after the rerun");
    ids.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(documents, expected.len() as u64, "{context}: rerun count");
    assert_eq!(ids, want, "{context}: rerun documents");
}

/// A folder `corpus/` of `n` files with `marker` and the ids sou gives them, in its order.
fn file_corpus(n: usize, marker: &str) -> (Fixture, Vec<String>, Vec<u64>) {
    let f = Fixture::empty();
    let mut files = Vec::new();
    for i in 0..n {
        let name = format!("corpus/{:02}/d{i:04}.txt", i % 12);
        let text = format!(
            "文件{i}\n\n{marker}{}编号{i}。{}\n",
            "调查显示前体化学品经由多个中转国家抵达工厂，海关需要共享物流数据。".repeat(4),
            "补充说明。".repeat(i % 7)
        );
        f.write(&name, &text);
        files.push((name, text.len() as u64));
    }
    files.sort();
    let (ids, sizes) = files.into_iter().unzip();
    (f, ids, sizes)
}

fn report_state(label: &str, landed: usize, kept: &[usize], total: usize) {
    eprintln!(
        "faults: {label}: {KILLS} kill points, {landed} mid-run, documents kept {kept:?} of {total}; all converged"
    );
}

#[cfg(unix)]
#[test]
fn killed_syncs_of_many_files_keep_a_commit_and_converge() {
    let (f, expected, sizes) = file_corpus(360, "共同标记");
    let points = commit_points(sizes);
    let args = ["index", "-q", "--threads", "1", "--commit-every-mb", COMMIT_MB];
    let commits = full_run(f.dir.path(), &args);
    let (mut landed, mut kept) = (0, Vec::new());
    for (i, after) in kill_times(commits).into_iter().enumerate() {
        let (dir, running) = killed_run(f.dir.path(), &args, after);
        let context = format!("sync killed at {after:?} after commits (point {i})");
        match contents(dir.path(), "共同标记") {
            Some((ids, documents)) => {
                assert_one_commit(&ids, documents, &expected, &points, &context);
                kept.push(ids.len());
            }
            None => {
                assert!(!dir.path().join("index/meta.json").exists(), "{context}: the index does not open");
                kept.push(0);
            }
        }
        landed += running as usize;
        converges(dir.path(), &["index", "-q"], "共同标记", &expected, &context);
    }
    assert!(landed >= KILLS / 2, "only {landed} of {KILLS} kills landed mid-run");
    report_state("multi-file sync", landed, &kept, expected.len());
}

#[cfg(unix)]
#[test]
fn killed_runs_over_one_big_json_lines_file_resume_where_they_committed() {
    let f = Fixture::empty();
    let mut lines = String::new();
    let mut sizes = Vec::new();
    let mut expected = Vec::new();
    for i in 1..=3000 {
        let line = format!(
            "{{\"id\":\"l{i}\",\"title\":\"第{i}条\",\"text\":\"共同标记 第{i}条记录，关于港口检查与物流数据共享。{}\"}}\n",
            "补充。".repeat(i % 5)
        );
        sizes.push(line.len() as u64);
        expected.push(format!("l{i}"));
        lines.push_str(&line);
    }
    f.write("corpus/big.jsonl", &lines);
    let points = commit_points(sizes);
    assert!(points.len() > 10, "commits inside the file: {points:?}");
    let args = ["index", "-q", "--threads", "1", "--commit-every-mb", COMMIT_MB];
    let commits = full_run(f.dir.path(), &args);
    let (mut landed, mut resumed, mut kept_counts) = (0, 0, Vec::new());
    for (i, after) in kill_times(commits).into_iter().enumerate() {
        let (dir, running) = killed_run(f.dir.path(), &args, after);
        let context = format!("JSON-lines run killed at {after:?} (point {i})");
        let kept = match contents(dir.path(), "共同标记") {
            Some((ids, documents)) => {
                assert_one_commit(&ids, documents, &expected, &points, &context);
                ids.len()
            }
            None => 0,
        };
        kept_counts.push(kept);
        landed += running as usize;
        // The rerun reads only what was not committed.
        let out = sou(dir.path()).args(["index", "-q", "--json"]).output().unwrap();
        assert!(out.status.success(), "{context}: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let read = report["bytes"].as_u64().unwrap();
        if kept > 0 && kept < expected.len() {
            assert!(read < lines.len() as u64, "{context}: the rerun read the whole file again ({read} bytes)");
            resumed += 1;
        }
        converges(dir.path(), &["index", "-q"], "共同标记", &expected, &context);
    }
    assert!(landed >= KILLS / 2, "only {landed} of {KILLS} kills landed mid-run");
    assert!(resumed >= 2, "only {resumed} kills landed after a commit inside the file");
    report_state("single JSON-lines file", landed, &kept_counts, expected.len());
}

#[cfg(unix)]
#[test]
fn killed_rebuilds_leave_the_old_index_or_the_new_one_whole() {
    let (f, expected, _) = file_corpus(300, "版本甲");
    f.index();
    // The same files, new text: the rebuilt index is told apart by its marker.
    for (i, id) in expected.iter().enumerate() {
        f.write(id, &format!("文件{i}\n\n版本乙的内容，调查显示前体化学品经由多个中转国家抵达工厂。编号{i}。\n"));
    }
    let args = ["index", "-q", "--rebuild", "--threads", "1", "--commit-every-mb", COMMIT_MB];
    let commits = full_run(f.dir.path(), &args);
    let (mut landed, mut states) = (0, Vec::new());
    for (i, after) in kill_times(commits).into_iter().enumerate() {
        let (dir, running) = killed_run(f.dir.path(), &args, after);
        let context = format!("rebuild killed at {after:?} (point {i})");
        let (old, documents) = contents(dir.path(), "版本甲").expect("the index opens");
        let (new, _) = contents(dir.path(), "版本乙").unwrap();
        let whole_old = old.len() == expected.len() && new.is_empty();
        let whole_new = new.len() == expected.len() && old.is_empty();
        assert!(whole_old || whole_new, "{context}: {} old and {} new documents", old.len(), new.len());
        assert_eq!(documents, expected.len() as u64, "{context}");
        states.push(if whole_old { 0 } else { expected.len() });
        if running {
            landed += 1;
        }
        converges(dir.path(), &["index", "-q", "--rebuild"], "版本乙", &expected, &context);
        let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".index."))
            .collect();
        assert!(leftovers.is_empty(), "{context}: {leftovers:?}");
    }
    assert!(landed >= KILLS / 2, "only {landed} of {KILLS} kills landed mid-run");
    report_state("rebuild (kept: 0 = the whole old index, else the whole new one)", landed, &states, expected.len());
}
