//! Runs one query many times against an index (for profiling): `query_loop INDEX QUERY N`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let index = sou::Index::open(&args[1]).expect("index");
    let n: usize = args[3].parse().unwrap();
    let started = std::time::Instant::now();
    for _ in 0..n {
        index.search(&sou::Query::new(args[2].as_str()).snippet_chars(0)).unwrap();
    }
    eprintln!("{:.3} ms per query", started.elapsed().as_secs_f64() * 1e3 / n as f64);
}
