//! Keep an index in step with a folder: the first sync reads every file, later ones only what
//! changed, and a progress callback hears about each file and every byte read.
//!
//! Run: `cargo run --example sync_folder`.

use std::cell::Cell;

/// Counts what the sync reports as it goes.
#[derive(Default)]
struct Progress {
    bytes: Cell<u64>,
    files: Cell<usize>,
}

impl sou::SyncProgress for Progress {
    fn advanced(&self, bytes: u64) {
        self.bytes.set(self.bytes.get() + bytes);
    }
    fn file_done(&self, path: &str) {
        self.files.set(self.files.get() + 1);
        println!("  done: {path}");
    }
    fn problem(&self, problem: &sou::FileProblem) {
        // `kind` is for programs, `reason` for people.
        println!("  problem: {} ({:?})", problem.reason, problem.kind);
    }
}

fn main() -> Result<(), sou::Error> {
    let dir = tempfile::tempdir()?;
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus)?;
    std::fs::write(corpus.join("a.txt"), "海关通报\n\n港口查获假冒药品。\n")?;
    std::fs::write(
        corpus.join("b.jsonl"),
        "{\"id\":\"b1\",\"title\":\"Port check\",\"text\":\"Inspectors seized pills.\"}\n",
    )?;
    std::fs::write(corpus.join("empty.txt"), "")?;

    let index = sou::Index::open_or_create(dir.path().join("index"))?;
    let progress = Progress::default();
    let report = index.sync(std::slice::from_ref(&corpus), &sou::SyncOptions::default(), &progress)?;
    println!("first: {} added, {} skipped, {} bytes read", report.added, report.skipped, progress.bytes.get());

    std::fs::write(corpus.join("a.txt"), "海关通报\n\n港口查获假冒药品和芬太尼。\n")?;
    let report = index.sync(&[corpus], &sou::SyncOptions::default(), &sou::NoProgress)?;
    println!("second: {} updated, {} unchanged", report.updated, report.unchanged);
    Ok(())
}
