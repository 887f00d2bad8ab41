//! The `sou` binary: parse arguments, run, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// The error and its causes on one line, leaving out a cause whose text the line already holds
/// (many errors repeat their source in their own message).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(cli::Outcome::Success) => ExitCode::SUCCESS,
        Ok(cli::Outcome::Partial) => ExitCode::from(1),
        Err(err) => {
            // A closed pipe (`sou search x | head`) is how a reader says it has enough.
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("sou: error: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}
