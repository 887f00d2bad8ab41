"""SQLite FTS5 peers for sou's benchmark: the same JSON-lines corpus and queries.

usage: fts5.py CORPUS.jsonl DBDIR QUERIES.json
  - "fts5+jieba": Python jieba segments the Chinese text (as a user of SQLite would have to),
    words joined by spaces, FTS5's unicode61 tokenizer.
  - "fts5 trigram": raw text, FTS5's trigram tokenizer (no segmentation at all).
Prints one JSON object: build seconds, database bytes and per-query latencies (ms, warm).
"""
import json
import os
import sqlite3
import sys
import time

import jieba

jieba.setLogLevel(60)


def segment(text):
    return " ".join(w for w in jieba.cut(text) if w.strip())


def build(path, db, tokenizer, prepare):
    if os.path.exists(db):
        os.remove(db)
    started = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute(f"CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='{tokenizer}')")
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            rows.append((d["id"], prepare(d.get("title") or ""), prepare(d.get("text") or "")))
            if len(rows) >= 2000:
                con.executemany("INSERT INTO docs VALUES (?, ?, ?)", rows)
                rows.clear()
    con.executemany("INSERT INTO docs VALUES (?, ?, ?)", rows)
    con.commit()
    return con, time.perf_counter() - started


def fts_query(query, segmented):
    """sou syntax subset -> FTS5: words ANDed, "phrases" kept, long queries ORed."""
    words = []
    in_phrase = False
    for chunk in query.split('"'):
        if in_phrase and chunk.strip():
            words.append('"' + (segment(chunk) if segmented else chunk) + '"')
        elif not in_phrase:
            for w in chunk.split():
                pieces = segment(w).split() if segmented else [w]
                words.extend('"' + p.replace('"', "") + '"' for p in pieces if p.strip())
        in_phrase = not in_phrase
    joiner = " OR " if len(words) > 12 else " AND "
    return joiner.join(words)


def run(con, queries, segmented, runs=10):
    results = {}
    for q in queries:
        expr = fts_query(q, segmented)
        try:
            con.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10", (expr,)).fetchall()
        except sqlite3.OperationalError as e:
            results[q] = {"error": str(e)}
            continue
        times = []
        hits = 0
        for _ in range(runs):
            started = time.perf_counter()
            hits = len(con.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10", (expr,)).fetchall())
            times.append((time.perf_counter() - started) * 1000)
        results[q] = {"ms": times, "hits": hits}
    return results


def main():
    corpus, dbdir, queries_path = sys.argv[1:4]
    queries = json.load(open(queries_path, encoding="utf-8"))
    os.makedirs(dbdir, exist_ok=True)
    out = {}
    for name, tokenizer, prepare, segmented in [
        ("fts5+jieba", "unicode61", segment, True),
        ("fts5 trigram", "trigram", lambda t: t, False),
    ]:
        db = os.path.join(dbdir, name.replace(" ", "-").replace("+", "-") + ".db")
        con, seconds = build(corpus, db, tokenizer, prepare)
        out[name] = {"build_s": seconds, "bytes": os.path.getsize(db), "queries": run(con, queries, segmented)}
        con.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
