//! Nothing lost, nothing hidden: read-only and shared indexes, rebuilds that readers do not
//! notice, dates at the ends of the calendar, failed first uses, damaged indexes, a full
//! disk, and output that cannot be misread. Each test is the reproduction of a reported bug.

use std::process::Command;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use predicates::str::contains;

use crate::common::Fixture;

fn sou_bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("sou")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether this process may make a private mount namespace (root, or user namespaces).
fn can_unshare_mounts() -> bool {
    Command::new("unshare").args(["-m", "true"]).status().is_ok_and(|s| s.success())
}

fn documents(f: &Fixture, index: &str) -> u64 {
    let out = f.sou(&["stats", "--json", "--index", index]).output().unwrap();
    assert!(out.status.success(), "stats: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["documents"].as_u64().unwrap()
}

/// Runs `script` with `sh` in a private mount namespace, with `$SOU` set to the binary.
fn in_mount_namespace(f: &Fixture, script: &str) -> std::process::Output {
    Command::new("unshare")
        .args(["-m", "sh", "-euc", script])
        .current_dir(f.dir.path())
        .env("SOU", sou_bin())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn searches_and_stats_work_on_a_read_only_index() {
    let f = Fixture::standard();
    f.index();
    if is_root() && can_unshare_mounts() {
        // Read-only media for real: a read-only bind mount, which even root cannot write.
        let out = in_mount_namespace(
            &f,
            "mount --bind index index && mount -o remount,bind,ro index
             ! touch index/probe 2>/dev/null
             \"$SOU\" search 芬太尼 --json
             \"$SOU\" stats --json
             \"$SOU\" search '\"entity list\"' --json",
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("corpus/news/fentanyl.txt") && stdout.contains("\"documents\":6"), "{stdout}");
    } else {
        // Without root the permission bits are enough.
        let out = Command::new("chmod").args(["-R", "a-w", "index"]).current_dir(f.dir.path()).status().unwrap();
        assert!(out.success());
        f.sou(&["search", "芬太尼"]).assert().success().stdout(contains("fentanyl.txt"));
        f.sou(&["stats"]).assert().success();
        Command::new("chmod").args(["-R", "u+w", "index"]).current_dir(f.dir.path()).status().unwrap();
    }
}

#[cfg(feature = "serve")]
#[test]
fn serve_works_on_a_read_only_index() {
    let f = Fixture::standard();
    f.index();
    if !(is_root() && can_unshare_mounts()) {
        crate::common::skip("serve_works_on_a_read_only_index", "needs root and `unshare -m` for a read-only mount");
        return;
    }
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-m",
        "sh",
        "-euc",
        "mount --bind index index && mount -o remount,bind,ro index && exec \"$SOU\" serve --addr 127.0.0.1:0",
    ])
    .current_dir(f.dir.path())
    .env("SOU", sou_bin());
    let server = crate::common::Server::spawn(cmd);
    let (status, body) = server.get("/api/search?q=%E8%8A%AC%E5%A4%AA%E5%B0%BC");
    assert_eq!((status, body["total"].as_u64()), (200, Some(2)), "{body}");
    let (status, stats) = server.get("/api/stats");
    assert_eq!((status, stats["documents"].as_u64()), (200, Some(6)), "{stats}");
}

#[cfg(unix)]
#[test]
fn index_files_follow_the_umask_and_another_user_can_search() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::standard();
    let out = Command::new("sh")
        .args(["-c", "umask 022 && exec \"$SOU\" index -q"])
        .current_dir(f.dir.path())
        .env("SOU", sou_bin())
        .status()
        .unwrap();
    assert!(out.success());
    for entry in std::fs::read_dir(f.path("index")).unwrap().flatten() {
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o044, 0o044, "{:?} is mode {mode:o}: others cannot read it", entry.file_name());
    }
    // Searching as another user: the folder is theirs to read, not to write.
    let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let runs_as_nobody = is_root()
        && Command::new("setpriv").args(nobody).arg(sou_bin()).arg("--version").status().is_ok_and(|s| s.success());
    if !runs_as_nobody {
        // "Where the test environment allows": not a CI failure, but visible.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the other-user part of index_files_follow_the_umask_and_another_user_can_search: \
             needs root, setpriv and a binary user 65534 may run"
        );
        return;
    }
    std::fs::set_permissions(f.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args(nobody)
        .arg(sou_bin())
        .args(["search", "芬太尼", "--json"])
        .current_dir(f.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("corpus/news/fentanyl.txt"));
    // The other user cannot write, and says so in one line.
    let out = Command::new("setpriv")
        .args(nobody)
        .arg(sou_bin())
        .args(["index", "-q"])
        .current_dir(f.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1, "{}", String::from_utf8_lossy(&out.stderr));
}

/// A corpus of `n` files whose text carries `marker`, large enough that indexing it in a
/// debug build takes a moment.
fn write_marked_corpus(f: &Fixture, n: usize, marker: &str) {
    let body = "海关与港口部门联合检查进口货物，发现多批申报不实的化学品，相关企业被要求说明来源。".repeat(6);
    for i in 0..n {
        f.write(&format!("corpus/{:02}/d{i:04}.txt", i % 20), &format!("文件{i}\n\n{marker}{body}编号{i}。\n"));
    }
}

fn total(f: &Fixture, query: &str) -> u64 {
    let out = f.sou(&["search", query, "--json", "--limit", "1"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // "sou: 1 of N hits in …"
    stderr
        .lines()
        .find_map(|l| l.split(" of ").nth(1)?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no hit count in {stderr:?}"))
}

#[cfg(all(feature = "serve", unix))]
#[test]
fn searches_during_a_rebuild_see_the_old_index_until_the_switch() {
    let f = Fixture::empty();
    let n = 400;
    write_marked_corpus(&f, n, "旧标记");
    f.index();
    let server = crate::common::Server::start(&f);
    let server_total = |q: &str| {
        let (status, body) = server.get(&format!("/api/search?q={q}&limit=1"));
        assert_eq!(status, 200, "{body}");
        body["total"].as_u64().unwrap()
    };
    let (old, new) = ("%E6%97%A7%E6%A0%87%E8%AE%B0", "%E6%96%B0%E6%A0%87%E8%AE%B0"); // 旧标记, 新标记
    assert_eq!(server_total(old), n as u64);
    write_marked_corpus(&f, n, "新标记");
    // Commits of the new index happen often; none may show before the switch.
    let mut rebuild = Command::new(sou_bin())
        .args(["index", "-q", "--rebuild", "--threads", "1", "--commit-every-mb", "0.01"])
        .current_dir(f.dir.path())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut checks_while_running = 0;
    // The switch replaces the folder: while its inode is the old one, nothing has switched.
    let folder = || {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(f.path("index")).map(|m| m.ino()).ok()
    };
    let before = folder();
    while rebuild.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(120), "rebuild did not finish");
        let (old_seen, new_seen) = (server_total(old), server_total(new));
        let cli_old = total(&f, "旧标记");
        if folder() == before {
            // Not switched yet after the checks: they must all have seen the old index.
            assert_eq!((old_seen, new_seen, cli_old), (n as u64, 0, n as u64), "mid-rebuild");
            checks_while_running += 1;
        }
    }
    assert!(rebuild.wait().unwrap().success());
    assert!(checks_while_running >= 2, "only {checks_while_running} checks ran during the rebuild: make it longer");
    assert_eq!((total(&f, "新标记"), total(&f, "旧标记")), (n as u64, 0));
    // The server switches to the new index on its own.
    let waited = Instant::now();
    while server_total(new) != n as u64 {
        assert!(waited.elapsed() < Duration::from_secs(20), "the server never saw the new index");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server_total(old), 0);
    let leftovers: Vec<String> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".index"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_rebuild_keeps_the_user_dictionary_unless_told_otherwise() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "报告\n\n中国法医科学研究院发布年度报告。\n");
    f.write("dict.txt", "法医科学研究院 100000 nt\n");
    f.write("other.txt", "年度报告 100000 n\n");
    f.sou(&["index", "-q", "--dict", "dict.txt"]).assert().success();
    let dictionary = |f: &Fixture| {
        let out = f.sou(&["stats", "--json"]).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["user_dictionary"].clone()
    };
    let stored = dictionary(&f);
    assert!(stored.is_string());
    // The refusal says what a rebuild will do.
    f.sou(&["index", "-q", "--dict", "other.txt"])
        .assert()
        .code(2)
        .stderr(contains("sou index --rebuild --dict FILE"))
        .stderr(contains("searches keep the current index"));
    std::fs::remove_file(f.path("dict.txt")).unwrap();
    f.sou(&["index", "-q", "--rebuild"]).assert().success();
    assert_eq!(dictionary(&f), stored, "a plain --rebuild keeps the stored dictionary");
    f.sou(&["analyze", "--index", "index", "法医科学研究院"]).assert().stdout(contains("words   0  法医科学研究院"));
    f.sou(&["index", "-q", "--rebuild", "--dict", "other.txt"]).assert().success();
    f.sou(&["analyze", "--index", "index", "年度报告"]).assert().stdout(contains("words   0  年度报告"));
    f.sou(&["index", "-q", "--rebuild", "--no-dict"]).assert().success();
    assert!(dictionary(&f).is_null());
}

#[test]
fn the_pair_field_is_chosen_when_an_index_is_made_and_kept_by_a_rebuild() {
    let f = Fixture::empty();
    f.write("corpus/a.txt", "报告\n\n最高人民法院发布年度报告。\n");
    let fields = |f: &Fixture| {
        let out = f.sou(&["stats", "--json"]).output().unwrap();
        let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        stats["fields"].as_array().unwrap().iter().any(|name| name == "pairs")
    };
    f.sou(&["index", "-q", "--pairs"]).assert().success();
    assert!(fields(&f));
    assert_eq!(f.ids("\"人民法院\""), vec!["corpus/a.txt"]);
    // Later runs keep the choice; a plain rebuild too.
    f.sou(&["index", "-q"]).assert().success();
    f.sou(&["index", "-q", "--rebuild"]).assert().success();
    assert!(fields(&f), "a plain --rebuild keeps the pair field");
    f.sou(&["index", "-q", "--rebuild", "--no-pairs"]).assert().success();
    assert!(!fields(&f));
    assert_eq!(f.ids("\"人民法院\""), vec!["corpus/a.txt"]);
    // Asking for pairs on an index without them says how to get them, and changes nothing.
    f.sou(&["index", "-q", "--pairs"]).assert().code(2).stderr(contains("sou index --rebuild --pairs"));
    assert!(!fields(&f));
    f.sou(&["index", "-q", "--no-pairs"]).assert().code(2).stderr(contains("--rebuild"));
}

#[test]
fn dates_from_year_1_to_9999_round_trip_and_others_are_warned_about() {
    let f = Fixture::empty();
    f.write(
        "corpus/dates.jsonl",
        "{\"id\":\"last\",\"title\":\"末日\",\"date\":\"9999-12-31\",\"text\":\"日期测试\"}\n\
         {\"id\":\"first\",\"title\":\"元年\",\"date\":\"0001-01-01\",\"text\":\"日期测试\"}\n\
         {\"id\":\"now\",\"title\":\"今年\",\"date\":\"2024-05-01\",\"text\":\"日期测试\"}\n\
         {\"id\":\"bad\",\"title\":\"坏的\",\"date\":\"10000-01-01\",\"text\":\"日期测试\"}\n",
    );
    let out = f.sou(&["index"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dates.jsonl: line 4: date \"10000-01-01\""), "{stderr}");
    let dates: std::collections::HashMap<String, serde_json::Value> = f
        .search_json("日期测试")
        .into_iter()
        .map(|h| (h["id"].as_str().unwrap().to_string(), h["date"].clone()))
        .collect();
    assert_eq!(dates["last"], "9999-12-31");
    assert_eq!(dates["first"], "0001-01-01");
    assert!(dates["bad"].is_null(), "no wrong date: {:?}", dates["bad"]);
    assert_eq!(f.ids("日期测试 date:[9000-01-01 TO *]"), vec!["last"]);
    assert_eq!(f.ids("日期测试 date:[* TO 1000-01-01]"), vec!["first"]);
    assert_eq!(f.ids_with(&["日期测试", "--sort", "date"]), vec!["last", "now", "first", "bad"]);
}

#[test]
fn a_failed_first_use_leaves_no_index_behind() {
    let f = Fixture::empty();
    std::fs::remove_dir(f.path("corpus")).unwrap();
    let out = f.sou(&["search", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
    assert!(!f.path("index").exists(), "no empty index/ left behind");
    std::fs::create_dir(f.path("corpus")).unwrap();
    f.write("corpus/a.txt", "标题\n\n芬太尼问题。\n");
    f.sou(&["index", "corpus", "/typo/nowhere"]).assert().code(2).stderr(contains("/typo/nowhere"));
    assert!(!f.path("index").exists());
    // Once the corpus is there, the first search builds the index and finds it.
    f.sou(&["search", "芬太尼"]).assert().success().stdout(contains("corpus/a.txt"));
}

#[test]
fn a_text_file_with_a_stray_nul_byte_keeps_its_text() {
    let f = Fixture::empty();
    let mut bytes =
        "空字节\n\n这份文件中间有一个空字节，但其余内容都是正常的中文文本，应当被索引。\n".repeat(3).into_bytes();
    bytes.insert(40, 0);
    f.write_bytes("corpus/nul.txt", &bytes);
    f.sou(&["index"]).assert().success().stderr(contains("nul.txt: 1 NUL byte(s) dropped"));
    assert_eq!(f.ids("正常的中文文本"), vec!["corpus/nul.txt"]);
}

#[test]
fn huge_limits_and_offsets_give_results_or_nothing() {
    let f = Fixture::standard();
    f.index();
    f.sou(&["search", "芬太尼", "--limit", "2000000000"]).assert().success();
    f.sou(&["search", "芬太尼", "--offset", "18446744073709551615"]).assert().code(1);
    f.sou(&["search", "芬太尼", "--limit", "18446744073709551615", "--offset", "1"]).assert().success();
    f.sou(&["search", "芬太尼", "--limit", "99999999999999999999"]).assert().code(2).stderr(contains("limit"));
}

#[test]
fn a_damaged_index_says_which_file_and_what_to_run() {
    let f = Fixture::standard();
    f.index();
    let segment_file = std::fs::read_dir(f.path("index"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    let bytes = std::fs::read(&segment_file).unwrap();
    std::fs::write(&segment_file, &bytes[..bytes.len() / 3]).unwrap();
    let name = segment_file.file_name().unwrap().to_string_lossy().into_owned();
    for args in [&["search", "芬太尼"][..], &["stats"]] {
        let out = f.sou(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&name) && stderr.contains("sou index --rebuild"), "{stderr}");
        assert!(stderr.len() < 400, "{stderr}");
    }
    f.sou(&["index", "-q", "--rebuild"]).assert().success();
    assert_eq!(documents(&f, "index"), 6);
    // Without meta.json: said so, and --rebuild still works.
    std::fs::remove_file(f.path("index/meta.json")).unwrap();
    f.sou(&["search", "芬太尼"])
        .assert()
        .code(2)
        .stderr(contains("meta.json is missing").and(contains("sou index --rebuild")));
    f.sou(&["index", "-q", "--rebuild"]).assert().success();
    f.sou(&["search", "芬太尼"]).assert().success();
}

#[test]
fn a_full_disk_keeps_the_last_commit_and_no_partial_files() {
    let f = Fixture::empty();
    if !can_unshare_mounts() {
        crate::common::skip(
            "a_full_disk_keeps_the_last_commit_and_no_partial_files",
            "`unshare -m` is not allowed here",
        );
        return;
    }
    f.write("small/a.txt", "小文件\n\n港口检查。\n");
    // Text that does not compress well, so its index cannot fit in what is left.
    let han: Vec<char> = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严".chars().collect();
    let mut seed: u64 = 7;
    for i in 0..600 {
        let text: String = (0..1500)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                han[(seed >> 33) as usize % han.len()]
            })
            .collect();
        f.write(&format!("big/d{i:04}.txt"), &format!("文件{i}\n\n{text}\n"));
    }
    // A 16 MB disk, filled up but for 256 KB once the first index is in.
    let out = in_mount_namespace(
        &f,
        "mkdir mnt && mount -t tmpfs -o size=16m tmpfs mnt
         \"$SOU\" index -q --index mnt/index small
         dd if=/dev/zero of=mnt/filler bs=64k 2>/dev/null || true
         truncate -s -256K mnt/filler
         before=$(df -k mnt | tail -1 | awk '{print $4}')
         if \"$SOU\" index -q --index mnt/index small big 2>err.txt; then echo full-run-passed; fi
         after=$(df -k mnt | tail -1 | awk '{print $4}')
         echo \"free before=$before after=$after\"
         \"$SOU\" stats --json --index mnt/index
         rm mnt/filler
         \"$SOU\" index -q --index mnt/index small big
         \"$SOU\" stats --json --index mnt/index",
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains("full-run-passed"), "the disk was not full: {stdout}");
    let err = std::fs::read_to_string(f.path("err.txt")).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    let free: Vec<u64> = stdout
        .lines()
        .find(|l| l.starts_with("free "))
        .unwrap()
        .split(' ')
        .filter_map(|w| w.split('=').nth(1)?.parse().ok())
        .collect();
    assert!(free[1] + 16 >= free[0], "partial files stay behind: {free:?} KB free before/after {stdout}");
    let stats: Vec<serde_json::Value> =
        stdout.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(stats[0]["documents"], 1, "the last commit survives");
    assert_eq!(stats[1]["documents"], 601, "the next run works once there is room");
}

#[test]
fn output_cannot_be_misread() {
    let f = Fixture::empty();
    f.write(
        "corpus/odd.jsonl",
        "{\"id\":\"two words\\nand a line\",\"title\":\"Clear\\u001b[2J\\u001b]0;owned\\u0007 screen\",\"text\":\"终端控制字符测试。\"}\n\
         {\"id\":\"zw\",\"title\":\"零宽\",\"text\":\"\\u200b\\u200b\\u200b\\n零宽空格段落之后的正文。\"}\n",
    );
    f.index();
    let out = f.sou(&["search", "终端控制字符"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\x1b') && !stdout.contains('\x07'), "{stdout:?}");
    assert!(stdout.contains("Clear\u{fffd}[2J"), "{stdout}");
    f.write("q.jsonl", "{\"id\":\"q 1\",\"text\":\"终端控制字符\"}\n");
    let out = f.sou(&["search", "--batch", "q.jsonl", "--format", "trec"]).output().unwrap();
    let run = String::from_utf8(out.stdout).unwrap();
    assert_eq!(run.lines().count(), 1, "{run}");
    assert_eq!(run.split_whitespace().collect::<Vec<_>>()[..3], ["q%201", "Q0", "two%20words%0Aand%20a%20line"]);
    let hit = &f.search_json("零宽空格")[0];
    assert!(hit["snippets"].get("en").is_none(), "no empty-looking English snippet: {hit}");
}

#[test]
fn a_progress_callback_hears_bytes_as_a_big_file_is_read() {
    use std::cell::RefCell;
    struct Recorder(RefCell<Vec<u64>>, RefCell<Vec<String>>);
    impl sou::SyncProgress for Recorder {
        fn advanced(&self, bytes: u64) {
            self.0.borrow_mut().push(bytes);
        }
        fn file_done(&self, path: &str) {
            self.1.borrow_mut().push(path.to_string());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.jsonl");
    let lines: String =
        (0..2000).map(|i| format!("{{\"id\":\"{i}\",\"text\":\"第{i}行的内容，用来测试进度。\"}}\n")).collect();
    std::fs::write(&file, &lines).unwrap();
    let index = sou::Index::create(dir.path().join("index")).unwrap();
    let progress = Recorder(RefCell::new(Vec::new()), RefCell::new(Vec::new()));
    let report = index.sync(std::slice::from_ref(&file), &sou::SyncOptions::default(), &progress).unwrap();
    assert_eq!(report.documents, 2000);
    let steps = progress.0.borrow();
    assert!(steps.len() >= 2000, "{} progress calls", steps.len());
    assert_eq!(steps.iter().sum::<u64>(), lines.len() as u64);
    assert_eq!(progress.1.borrow().len(), 1);
    assert!(progress.1.borrow()[0].ends_with("big.jsonl"));
}
