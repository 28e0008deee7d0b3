//! dynhost's UCI reader against the real one: the `uci` program built from OpenWrt's sources
//! (libuci 66127cd) by `scripts/openwrt-box build`, run with `show` on the same files.
//!
//! Every file that `uci` refuses must be refused by `dynhost::uci::parse`, and every file it
//! reads must give the same sections, options, values and order, byte for byte. The files are
//! hand-written edge cases, the package's default config, the config files of libuci's own
//! tests (read from the uci source tarball in `../shared/openwrt-userland/sources`, or
//! `$DYNHOST_OPENWRT_USERLAND/sources`), and a few thousand generated from the pieces that
//! matter to the grammar. The one refusal of ours that `uci` does not make (a NUL byte) is left
//! out.
//!
//! Without the built root the test prints `skipped: <reason>` and passes, unless
//! `DYNHOST_REQUIRE_BOX` or `DYNHOST_REQUIRE_TOOLS` is set (CI builds the box before `cargo test`,
//! which it runs with the latter): then it fails.

mod common;

use common::TempDir;
use dynhost::uci::{self, Section, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// When one of them is set (to anything), a missing root fails the test instead of skipping.
const REQUIRE_ENV: [&str; 2] = ["DYNHOST_REQUIRE_BOX", "DYNHOST_REQUIRE_TOOLS"];

/// Where `scripts/openwrt-box build` puts the root it builds.
fn box_root() -> PathBuf {
    std::env::var_os("DYNHOST_BOX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/openwrt-box"))
        .join("root")
}

/// Runs `uci show` on each file; `None` after printing `skipped: ...` without the box.
struct Uci {
    root: PathBuf,
    dir: TempDir,
}

impl Uci {
    fn find() -> Option<Uci> {
        let root = box_root();
        if root.join("sbin/uci").is_file() {
            return Some(Uci {
                root,
                dir: TempDir::new("uci-libuci"),
            });
        }
        let reason = format!(
            "no {} (run scripts/openwrt-box build)",
            root.join("sbin/uci").display()
        );
        if let Some(set) = REQUIRE_ENV.iter().find(|v| std::env::var_os(v).is_some()) {
            panic!("{reason} (and {set} is set)");
        }
        let _ = writeln!(std::io::stderr(), "skipped: {reason}");
        None
    }

    /// What `uci show` prints for `text`, or `None` when it refuses the file.
    fn show(&self, text: &[u8]) -> Option<Vec<u8>> {
        std::fs::write(self.dir.path().join("dynhost"), text).unwrap();
        let libraries = format!(
            "{}:{}",
            self.root.join("usr/lib").display(),
            self.root.join("lib").display()
        );
        let output = Command::new(self.root.join("sbin/uci"))
            .env("LD_LIBRARY_PATH", libraries)
            .arg("-c")
            .arg(self.dir.path())
            .args(["show", "dynhost"])
            .output()
            .unwrap();
        output.status.success().then_some(output.stdout)
    }
}

/// `uci show`'s form of parsed sections: anonymous ones as `@type[index among its type]`,
/// every value single-quoted with `'\''` for a quote, list items joined by a space.
fn show(sections: &[Section]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for section in sections {
        let index = seen.iter().filter(|&&t| t == section.section_type).count();
        seen.push(&section.section_type);
        let reference = section.name.as_deref().map_or_else(
            || format!("@{}[{index}]", section.section_type),
            str::to_string,
        );
        out.extend(format!("dynhost.{reference}={}\n", section.section_type).bytes());
        for entry in &section.options {
            out.extend(format!("dynhost.{reference}.{}=", entry.name).bytes());
            let values = match &entry.value {
                Value::Single(value) => vec![&**value],
                Value::List(items) => items.iter().map(|item| &**item).collect(),
            };
            let quoted: Vec<Vec<u8>> = values
                .iter()
                .map(|value| {
                    let pieces: Vec<&[u8]> = value.split(|&b| b == b'\'').collect();
                    [b"'".as_slice(), &pieces.join(&b"'\\''"[..]), b"'"].concat()
                })
                .collect();
            out.extend(quoted.join(&b' '));
            out.push(b'\n');
        }
    }
    out
}

fn compare(uci: &Uci, text: &[u8]) {
    let ours = uci::parse(text);
    let theirs = uci.show(text);
    let shown = String::from_utf8_lossy(text);
    match (ours, theirs) {
        // Bytes, not text: two different invalid sequences would print alike.
        (Ok(sections), Some(expected)) => assert!(
            show(&sections) == expected,
            "read differently: {shown:?}\ndynhost:\n{}uci:\n{}",
            String::from_utf8_lossy(&show(&sections)),
            String::from_utf8_lossy(&expected)
        ),
        (Err(_), None) => {}
        (Ok(sections), None) => panic!("uci refuses, dynhost reads {sections:?}: {shown:?}"),
        (Err(error), Some(expected)) => panic!(
            "dynhost refuses ({error:?}), uci reads {:?}: {shown:?}",
            String::from_utf8_lossy(&expected)
        ),
    }
}

const CASES: &[&[u8]] = &[
    b"config t 'a'\n\toption x 'b'\n\toption x ''\n\toption x\n",
    b"config t\nlist x a\noption y b\noption x ''\n",
    b"config t\noption a abc;option b c\n",
    b"config t\noption password abc;def\n",
    b"config t\noption a a\\bc;option b c\n",
    b"config t\noption a 'abc';option b c\n",
    b"config t 'a'; option x 1;option y 2 ; list z 3\n",
    b"config t\noption x 'v';\n",
    b"config t\noption x 'v';",
    b"config t;;\n",
    b"config t 'x';;\n",
    b"config t ; option x y\n",
    b"config t\noption a b ; option c d\n",
    b"config t\nlist x y ''\n",
    b"config t\noption x y \"\" ''\n",
    b"# caf\xe9\nconfig t\noption x 'caf\xe9'\nlist y \xff\xfe\n",
    b"config t\noption \xe9 x\n",
    b"config \xe9\n",
    b"config\x0bt\n",
    b"config\x0ct\n",
    b"config t\noption\x0bx y\n",
    b"config t\noption\tx\x0by\n",
    b"config t\noption x 'a\x01b'\nlist y \"\x1b\"\n",
    b"config t\noption x a\noption y b\noption x cd\noption y\nlist x e\n",
    b"config t\nlist x a\nlist x b\noption x c\noption z d\n",
    b"config t 'a'\noption x 1\nconfig t 'b'\nconfig t 'a'\noption y 2\n",
    b"config t 'a'\nconfig u 'a'\n",
    b"config t\noption x 'a\r\nb'\r\n\toption y \"c\\\r\nd\"\r\n",
    b"config t\noption x joined\\\n  line\n",
    b"config t\noption x a\\",
    b"config t\noption x 'unterminated\n",
    b"config",
    b"config\n",
    b"package dynhost\nconfig t\n",
    b"package a.b\n",
    b"config t\n; option x y\n",
    b"option x y\nconfig t\n",
    b"config t 'n' # c \\\noption x y\n",
];

#[test]
fn hand_written_cases_read_as_uci_reads_them() {
    let Some(uci) = Uci::find() else { return };
    for text in CASES {
        compare(&uci, text);
    }
}

/// The userland folder: `$DYNHOST_OPENWRT_USERLAND`, else the nearest
/// `shared/openwrt-userland` above the repository, as `scripts/openwrt-box` finds it.
fn userland() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DYNHOST_OPENWRT_USERLAND") {
        return Some(PathBuf::from(dir));
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/openwrt-userland"))
        .find(|dir| dir.is_dir())
}

#[test]
fn libucis_own_test_files_and_our_default_config_read_as_uci_reads_them() {
    let Some(uci) = Uci::find() else { return };
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("openwrt/files/dynhost.config");
    compare(&uci, &std::fs::read(default).unwrap());
    let Some(tarball) = userland().map(|dir| dir.join("sources/uci.tar.gz")) else {
        panic!("the box is built, but no shared/openwrt-userland is found: set DYNHOST_OPENWRT_USERLAND");
    };
    let sources = TempDir::new("uci-sources");
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(sources.path())
        .status()
        .unwrap();
    assert!(untar.success(), "tar -xzf {}", tarball.display());
    let mut compared = 0;
    for dir in [
        "tests/cram/config",
        "tests/fuzz/corpus",
        "tests/fuzz/inputs",
        "tests/shunit2/config",
        "tests/shunit2/references",
    ] {
        for entry in std::fs::read_dir(sources.path().join(dir)).unwrap() {
            let text = std::fs::read(entry.unwrap().path()).unwrap();
            if !text.contains(&0) {
                compare(&uci, &text);
                compared += 1;
            }
        }
    }
    assert!(compared > 40, "only {compared} files from libuci's tests");
}

/// Files made of the pieces that matter to the grammar, from a fixed seed.
#[test]
fn generated_files_read_as_uci_reads_them() {
    const PIECES: &[&[u8]] = &[
        b"config t ",
        b"config t n ",
        b"option x ",
        b"list x ",
        b"o y ",
        b"option",
        b"c",
        b"package p",
        b"\x0c",
        b"\r",
        b"'",
        b"\"",
        b"\\",
        b"\n",
        b"\r\n",
        b"#",
        b";",
        b" ",
        b"\t",
        b"\x0b",
        b"a",
        b"bc",
        b"''",
        b"\xe9",
        b"\x01",
    ];
    let Some(uci) = Uci::find() else { return };
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..4000 {
        let length = 2 + next() % 10;
        let mut text = b"config t\n".to_vec();
        for _ in 0..length {
            text.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
        }
        compare(&uci, &text);
    }
}
