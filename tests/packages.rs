//! The OpenWrt packages: every `.ipk` must be laid out exactly as OpenWrt's `ipkg-build` makes
//! it, with the fields and files that `openwrt/Makefile` describes.
//!
//! - On every run: `scripts/pack-ipk` packs a stand-in binary into a temporary folder, and the
//!   result is unpacked (gzip by `gzip -dc`, tar by the reader below) and checked field by field
//!   and byte by byte. The expectations are read from `openwrt/Makefile` and `openwrt/files/`
//!   here, independently of the packer.
//! - After `scripts/build-packages` (CI, `scripts/check-ipk`): `DYNHOST_CHECK_DIST=DIR` checks
//!   every `dynhost_*.ipk` in DIR the same way, plus the binary inside (static, the right ELF
//!   machine and byte order for the architecture, a plain executable on MIPS, stripped), and
//!   `DYNHOST_CHECK_ARCHS="mips_24kc ..."` requires a package for each architecture named.

mod common;

use common::TempDir;
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PKG: &str = "dynhost";
/// The package's folder below an OpenWrt build tree (`SOURCE`), the feed's `net/dynhost`.
const SOURCE: &str = "feeds/packages/net/dynhost";
/// `libc` (package-defaults.mk) and the Makefile's `+ca-bundle`.
const DEPENDS: &str = "libc, ca-bundle";

const POSTINST: &str = "#!/bin/sh\n\
[ \"${IPKG_NO_SCRIPT}\" = \"1\" ] && exit 0\n\
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n\
. ${IPKG_INSTROOT}/lib/functions.sh\n\
default_postinst $0 $@\n";
const PRERM: &str = "#!/bin/sh\n\
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n\
. ${IPKG_INSTROOT}/lib/functions.sh\n\
default_prerm $0 $@\n";

// ---------------------------------------------------------------------------------------------
// What openwrt/Makefile says

/// One file of `define Package/dynhost/install`: where it comes from, where it goes, its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Installed {
    /// `None` for the program itself (`$(PKG_INSTALL_DIR)/bin/dynhost`), else a path below
    /// the openwrt folder (`./files/...`).
    source: Option<PathBuf>,
    /// Absolute path on the router.
    dest: String,
    mode: u32,
}

#[derive(Debug, Clone)]
struct Feed {
    pkg_version: String,
    pkg_release: String,
    maintainer: String,
    license: String,
    license_files: String,
    section: String,
    url: String,
    description: Vec<String>,
    conffiles: Vec<String>,
    dirs: Vec<String>,
    files: Vec<Installed>,
}

impl Feed {
    fn version(&self) -> String {
        format!("{}-r{}", self.pkg_version, self.pkg_release)
    }
}

fn block<'a>(lines: &[&'a str], name: &str) -> Vec<&'a str> {
    let start = lines
        .iter()
        .position(|line| *line == format!("define {name}"))
        .unwrap_or_else(|| panic!("openwrt/Makefile has no `define {name}`"));
    lines[start + 1..]
        .iter()
        .take_while(|line| **line != "endef")
        .copied()
        .collect()
}

fn assignment(lines: &[&str], name: &str) -> String {
    let prefix = format!("{name}:=");
    lines
        .iter()
        .filter_map(|line| line.trim_start().strip_prefix(&prefix))
        .next_back()
        .unwrap_or("")
        .trim()
        .to_string()
}

fn parse_feed(openwrt: &Path) -> Feed {
    let text = fs::read_to_string(openwrt.join("Makefile")).expect("read openwrt/Makefile");
    let lines: Vec<&str> = text.lines().collect();
    let top: Vec<&str> = lines
        .iter()
        .filter(|line| !line.starts_with(char::is_whitespace))
        .copied()
        .collect();
    let package = block(&lines, &format!("Package/{PKG}"));
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for line in block(&lines, &format!("Package/{PKG}/install")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((&macro_name, args)) = words.split_first() else {
            continue;
        };
        let dest = |word: &str| -> String {
            word.strip_prefix("$(1)")
                .unwrap_or_else(|| panic!("install destination not below $(1): {line}"))
                .to_string()
        };
        let mode = match macro_name {
            "$(INSTALL_DIR)" => {
                dirs.extend(args.iter().map(|word| dest(word)));
                continue;
            }
            "$(INSTALL_BIN)" => 0o755,
            "$(INSTALL_DATA)" => 0o644,
            "$(INSTALL_CONF)" => 0o600,
            other => panic!("install section: unexpected {other} in {line:?}"),
        };
        assert_eq!(args.len(), 2, "install line with one source: {line:?}");
        let source = if args[0] == "$(PKG_INSTALL_DIR)/bin/dynhost" {
            None
        } else {
            let relative = args[0]
                .strip_prefix("./")
                .unwrap_or_else(|| panic!("install source not in the feed folder: {line}"));
            Some(openwrt.join(relative))
        };
        files.push(Installed {
            source,
            dest: dest(args[1]),
            mode,
        });
    }
    Feed {
        pkg_version: assignment(&top, "PKG_VERSION"),
        pkg_release: assignment(&top, "PKG_RELEASE"),
        maintainer: assignment(&top, "PKG_MAINTAINER"),
        license: assignment(&top, "PKG_LICENSE"),
        license_files: assignment(&top, "PKG_LICENSE_FILES"),
        section: assignment(&package, "SECTION"),
        url: assignment(&package, "URL"),
        description: block(&lines, &format!("Package/{PKG}/description"))
            .into_iter()
            .map(String::from)
            .collect(),
        conffiles: block(&lines, &format!("Package/{PKG}/conffiles"))
            .into_iter()
            .map(|line| line.trim().to_string())
            .filter(|line| !line.is_empty())
            .collect(),
        dirs,
        files,
    }
}

/// The control file package-pack.mk writes (ipkg-build then fills in Installed-Size).
fn expected_control(feed: &Feed, arch: &str, epoch: u64, installed_size: usize) -> String {
    let mut control = format!(
        "Package: {PKG}\nVersion: {}\nDepends: {DEPENDS}\nSource: {SOURCE}\nSourceName: {PKG}\n\
         License: {}\n",
        feed.version(),
        feed.license
    );
    if !feed.license_files.is_empty() {
        control += &format!("LicenseFiles: {}\n", feed.license_files);
    }
    control += &format!("Section: {}\nSourceDateEpoch: {epoch}\n", feed.section);
    if !feed.url.is_empty() {
        control += &format!("URL: {}\n", feed.url);
    }
    control += &format!(
        "Maintainer: {}\nArchitecture: {arch}\nInstalled-Size: {installed_size}\nDescription: ",
        feed.maintainer
    );
    // printf "Description: "; echo "$DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g'
    for line in &feed.description {
        control += &format!(" {}\n", line.trim_start());
    }
    control
}

// ---------------------------------------------------------------------------------------------
// gzip and tar

/// Checks the header `gzip -n` writes (no name, no time stamp, Unix) and inflates with gzip.
fn gunzip(what: &str, data: &[u8], errors: &mut Vec<String>) -> Vec<u8> {
    if data.len() < 10 || data[..3] != [0x1f, 0x8b, 8] {
        errors.push(format!("{what}: not gzip"));
        return Vec::new();
    }
    if data[3] != 0 {
        errors.push(format!(
            "{what}: gzip flags {:#x}, not 0 (a name or comment: not `gzip -n`)",
            data[3]
        ));
    }
    if data[4..8] != [0, 0, 0, 0] {
        errors.push(format!("{what}: gzip time stamp set (not `gzip -n`)"));
    }
    if data[9] != 3 {
        errors.push(format!("{what}: gzip OS byte {}, not 3 (Unix)", data[9]));
    }
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gzip");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = data.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("gzip -dc");
    writer.join().expect("writer");
    if !output.status.success() {
        errors.push(format!(
            "{what}: gzip -dc failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    output.stdout
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    kind: u8,
    uname: String,
    gname: String,
    data: Vec<u8>,
}

fn field(header: &[u8], start: usize, len: usize) -> &[u8] {
    let raw = &header[start..start + len];
    let end = raw.iter().position(|&b| b == 0).unwrap_or(len);
    &raw[..end]
}

fn octal(what: &str, header: &[u8], start: usize, len: usize, errors: &mut Vec<String>) -> u64 {
    let text = String::from_utf8_lossy(field(header, start, len))
        .trim()
        .to_string();
    u64::from_str_radix(&text, 8).unwrap_or_else(|_| {
        errors.push(format!("{what}: bad octal field {text:?}"));
        0
    })
}

/// Reads a tar archive, checking that it is GNU format (`--format=gnu`), that every header's
/// checksum holds, and that it ends with the two zero blocks.
fn untar(what: &str, data: &[u8], errors: &mut Vec<String>) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut offset = 0;
    loop {
        if offset + 512 > data.len() {
            errors.push(format!("{what}: archive ends without its two zero blocks"));
            break;
        }
        let header = &data[offset..offset + 512];
        if header.iter().all(|&b| b == 0) {
            let next = data.get(offset + 512..offset + 1024);
            if next.is_none_or(|block| block.iter().any(|&b| b != 0)) {
                errors.push(format!("{what}: one zero block, not two, at the end"));
            }
            break;
        }
        let name = String::from_utf8_lossy(field(header, 0, 100)).into_owned();
        let at = format!("{what}: {name}");
        let sum: u64 = header
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        if octal(&at, header, 148, 8, errors) != sum {
            errors.push(format!("{at}: header checksum does not match"));
        }
        if &header[257..265] != b"ustar  \0" {
            errors.push(format!(
                "{at}: not a GNU tar header ({:?})",
                &header[257..265]
            ));
        }
        let size = usize::try_from(octal(&at, header, 124, 12, errors)).expect("size");
        let start = offset + 512;
        let body = data.get(start..start + size).unwrap_or_else(|| {
            errors.push(format!("{at}: data cut short"));
            &[]
        });
        entries.push(Entry {
            name,
            mode: u32::try_from(octal(&at, header, 100, 8, errors)).expect("mode"),
            uid: octal(&at, header, 108, 8, errors),
            gid: octal(&at, header, 116, 8, errors),
            mtime: octal(&at, header, 136, 12, errors),
            kind: header[156],
            uname: String::from_utf8_lossy(field(header, 265, 32)).into_owned(),
            gname: String::from_utf8_lossy(field(header, 297, 32)).into_owned(),
            data: body.to_vec(),
        });
        offset = start + size.div_ceil(512) * 512;
    }
    entries
}

/// What every ipkg-build tar shares: entries named `./...`, plain files and folders only,
/// owned by 0:0 without names (--numeric-owner under fakeroot), all stamped `epoch`.
fn check_common(what: &str, entries: &[Entry], epoch: u64, errors: &mut Vec<String>) {
    for entry in entries {
        let at = format!("{what}: {}", entry.name);
        if !entry.name.starts_with("./") {
            errors.push(format!("{at}: name does not start with ./"));
        }
        if entry.uid != 0 || entry.gid != 0 {
            errors.push(format!(
                "{at}: owned by {}:{}, not 0:0",
                entry.uid, entry.gid
            ));
        }
        if !entry.uname.is_empty() || !entry.gname.is_empty() {
            errors.push(format!(
                "{at}: owner names {:?}:{:?} (not --numeric-owner)",
                entry.uname, entry.gname
            ));
        }
        if entry.mtime != epoch {
            errors.push(format!("{at}: mtime {}, not {epoch}", entry.mtime));
        }
        let is_dir = entry.name.ends_with('/');
        match (entry.kind, is_dir) {
            (b'5', true) | (b'0', false) => {}
            (kind, _) => errors.push(format!("{at}: entry type {:?}", kind as char)),
        }
    }
}

fn check_names(
    what: &str,
    entries: &[Entry],
    expected: &[(String, u32)],
    errors: &mut Vec<String>,
) {
    let got: Vec<(String, u32)> = entries
        .iter()
        .map(|e| (e.name.clone(), e.mode & 0o7777))
        .collect();
    if got != expected {
        let show = |list: &[(String, u32)]| {
            list.iter()
                .map(|(name, mode)| format!("  {mode:04o} {name}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        errors.push(format!(
            "{what}: entries (in order, with modes) differ\ngot:\n{}\nexpected:\n{}",
            show(&got),
            show(expected)
        ));
    }
}

fn entry<'a>(entries: &'a [Entry], name: &str) -> Option<&'a Entry> {
    entries.iter().find(|e| e.name == name)
}

// ---------------------------------------------------------------------------------------------
// ELF

/// The ELF facts an architecture's binary must show.
struct ElfWant {
    class: u8,
    data: u8,
    machine: u16,
    /// MIPS must be a plain static executable (ET_EXEC): static-PIE crashes in TLS code there.
    exec_only: bool,
}

fn elf_want(arch: &str) -> Option<ElfWant> {
    let (class, data, machine, exec_only) = match arch {
        "mips_24kc" => (1, 2, 8, true),
        "mipsel_24kc" => (1, 1, 8, true),
        "arm_cortex-a7_neon-vfpv4" => (1, 1, 40, false),
        "aarch64_cortex-a53" => (2, 1, 183, false),
        "x86_64" => (2, 1, 62, false),
        _ => return None,
    };
    Some(ElfWant {
        class,
        data,
        machine,
        exec_only,
    })
}

fn check_elf(arch: &str, bin: &[u8], errors: &mut Vec<String>) {
    let at = format!("{arch}: /usr/bin/dynhost");
    let Some(want) = elf_want(arch) else {
        errors.push(format!("{arch}: an architecture this test does not know"));
        return;
    };
    if bin.len() < 64 || &bin[..4] != b"\x7fELF" {
        errors.push(format!("{at}: not an ELF file"));
        return;
    }
    let (class, data) = (bin[4], bin[5]);
    if class != want.class || data != want.data {
        errors.push(format!(
            "{at}: ELF class {class} data {data}, not class {} data {}",
            want.class, want.data
        ));
        return;
    }
    let big = data == 2;
    let u16_at = |off: usize| {
        let b = [bin[off], bin[off + 1]];
        if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let u32_at = |off: usize| {
        let b = [bin[off], bin[off + 1], bin[off + 2], bin[off + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let u64_at = |off: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bin[off..off + 8]);
        if big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        }
    };
    let word = |off: usize| -> usize {
        let value = if class == 1 {
            u64::from(u32_at(off))
        } else {
            u64_at(off)
        };
        usize::try_from(value).expect("offset")
    };
    let e_type = u16_at(16);
    let machine = u16_at(18);
    if machine != want.machine {
        errors.push(format!("{at}: e_machine {machine}, not {}", want.machine));
    }
    if want.exec_only && e_type != 2 {
        errors.push(format!(
            "{at}: e_type {e_type}: not a plain executable (ET_EXEC)"
        ));
    }
    if !want.exec_only && e_type != 2 && e_type != 3 {
        errors.push(format!("{at}: e_type {e_type}: not an executable"));
    }
    let (phoff, shoff, rest) = if class == 1 {
        (word(28), word(32), 40)
    } else {
        (word(32), word(40), 52)
    };
    let (phentsize, phnum) = (usize::from(u16_at(rest + 2)), usize::from(u16_at(rest + 4)));
    let (shentsize, shnum, shstrndx) = (
        usize::from(u16_at(rest + 6)),
        usize::from(u16_at(rest + 8)),
        usize::from(u16_at(rest + 10)),
    );
    for i in 0..phnum {
        let off = phoff + i * phentsize;
        if off + 4 > bin.len() {
            errors.push(format!("{at}: program headers out of the file"));
            break;
        }
        if u32_at(off) == 3 {
            errors.push(format!(
                "{at}: has PT_INTERP: dynamically linked, not static"
            ));
        }
    }
    // Section names: stripped means no .symtab; llvm-strip also dropped MIPS's .pdr.
    let sh = |i: usize| shoff + i * shentsize;
    if shnum == 0 || sh(shnum) > bin.len() || shstrndx >= shnum {
        errors.push(format!("{at}: section headers out of the file"));
        return;
    }
    let (name_off, offset_off, size_off) = if class == 1 { (0, 16, 20) } else { (0, 24, 32) };
    let strtab = word(sh(shstrndx) + offset_off);
    let (mut hot_text, mut other_text) = (None, 0);
    for i in 0..shnum {
        let name_at = strtab + u32_at(sh(i) + name_off) as usize;
        let name: Vec<u8> = bin[name_at.min(bin.len())..]
            .iter()
            .take_while(|&&b| b != 0)
            .copied()
            .collect();
        match name.as_slice() {
            b".symtab" => errors.push(format!("{at}: not stripped (.symtab)")),
            b".pdr" => errors.push(format!("{at}: still holds MIPS .pdr (not llvm-stripped)")),
            b".debug_info" => errors.push(format!("{at}: holds debug information")),
            b".text.hot" => hot_text = Some(word(sh(i) + size_off)),
            b".text" => other_text = word(sh(i) + size_off),
            _ => {}
        }
    }
    check_hot_text(&at, hot_text, other_text, errors);
}

/// The functions an update runs are linked first (scripts/lib/hot-text.ld): more than half of
/// the code on every architecture (55 to 63 % at 3a3ba98). A list that no longer matches the
/// code's names, after a compiler or crate update, leaves a binary that works but maps all of
/// its code again: it shows here as a small hot section.
fn check_hot_text(at: &str, hot_text: Option<usize>, other_text: usize, errors: &mut Vec<String>) {
    let Some(hot_text) = hot_text else {
        errors.push(format!(
            "{at}: no .text.hot section: built without scripts/lib/hot-text.ld"
        ));
        return;
    };
    let all = hot_text + other_text;
    if hot_text * 10 < all * 4 {
        errors.push(format!(
            "{at}: .text.hot holds {hot_text} of {all} bytes of code, less than 40 %: \
             scripts/lib/hot-text.ld is stale (DYNHOST_BENCH_HOT_TEXT=1 scripts/bench writes it)"
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// The whole package

struct Checked {
    arch: String,
    binary: Vec<u8>,
}

/// An .ipk taken apart, its outer layout checked: the three members in ipkg-build's order, each
/// 0644, and `./debian-binary` "2.0".
struct Opened {
    what: String,
    control_what: String,
    control_entries: Vec<Entry>,
    /// The text of `./control`.
    control: String,
    epoch: u64,
    data_what: String,
    data_tar: Vec<u8>,
    data_entries: Vec<Entry>,
}

impl Opened {
    /// The text of a file of control.tar.gz, empty when it is not there.
    fn control_file(&self, name: &str) -> String {
        entry(&self.control_entries, name)
            .map(|e| String::from_utf8_lossy(&e.data).into_owned())
            .unwrap_or_default()
    }
}

/// `epoch`: the time stamp expected, or `None` to take the control file's SourceDateEpoch.
fn open_ipk(path: &Path, epoch: Option<u64>, errors: &mut Vec<String>) -> Option<Opened> {
    let what = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let raw = fs::read(path).expect("read the ipk");
    let outer = untar(&what, &gunzip(&what, &raw, errors), errors);
    let names: Vec<&str> = outer.iter().map(|e| e.name.as_str()).collect();
    if names != ["./debian-binary", "./data.tar.gz", "./control.tar.gz"] {
        errors.push(format!(
            "{what}: holds {names:?}, not ./debian-binary, ./data.tar.gz, ./control.tar.gz"
        ));
        return None;
    }
    let member = |name: &str| entry(&outer, name).expect("member").data.clone();
    let control_what = format!("{what}: control.tar.gz");
    let control_entries = untar(
        &control_what,
        &gunzip(&control_what, &member("./control.tar.gz"), errors),
        errors,
    );
    let control = entry(&control_entries, "./control")
        .map(|e| String::from_utf8_lossy(&e.data).into_owned())
        .unwrap_or_default();
    let epoch = epoch.unwrap_or_else(|| {
        control
            .lines()
            .find_map(|line| line.strip_prefix("SourceDateEpoch: "))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    });
    check_common(&what, &outer, epoch, errors);
    for e in &outer {
        if e.mode & 0o7777 != 0o644 {
            errors.push(format!(
                "{what}: {} has mode {:04o}, not 0644",
                e.name,
                e.mode & 0o7777
            ));
        }
    }
    if member("./debian-binary") != b"2.0\n" {
        errors.push(format!("{what}: debian-binary is not \"2.0\\n\""));
    }
    check_common(&control_what, &control_entries, epoch, errors);
    let data_what = format!("{what}: data.tar.gz");
    let data_tar = gunzip(&data_what, &member("./data.tar.gz"), errors);
    let data_entries = untar(&data_what, &data_tar, errors);
    check_common(&data_what, &data_entries, epoch, errors);
    Some(Opened {
        what,
        control_what,
        control_entries,
        control,
        epoch,
        data_what,
        data_tar,
        data_entries,
    })
}

/// The entries of a data.tar.gz that installs `files` and makes `dirs`, as GNU tar
/// --sort=name lists them: a folder, then its entries sorted by name, depth first; every folder
/// 0755.
fn data_layout(dirs: &[String], files: &[Installed]) -> Vec<(String, u32)> {
    let components = |path: &str| -> Vec<String> {
        path.trim_matches('/')
            .split('/')
            .map(String::from)
            .collect()
    };
    let mut paths: BTreeSet<(Vec<String>, u32)> = BTreeSet::new();
    for dir in dirs {
        let parts = components(dir);
        for n in 1..=parts.len() {
            paths.insert((parts[..n].to_vec(), 0o755));
        }
    }
    for file in files {
        let parts = components(&file.dest);
        for n in 1..parts.len() {
            paths.insert((parts[..n].to_vec(), 0o755));
        }
        paths.insert((parts, file.mode));
    }
    let mut layout = vec![("./".to_string(), 0o755)];
    for (parts, mode) in &paths {
        let is_file = files.iter().any(|f| components(&f.dest) == *parts);
        let slash = if is_file { "" } else { "/" };
        layout.push((format!("./{}{slash}", parts.join("/")), *mode));
    }
    layout
}

/// Checks that data.tar.gz holds exactly `dirs` and `files`, with their modes, each file with
/// the bytes of its source; returns the bytes of the file without a source (the program).
fn check_data(
    opened: &Opened,
    dirs: &[String],
    files: &[Installed],
    errors: &mut Vec<String>,
) -> Vec<u8> {
    let at = &opened.data_what;
    check_names(at, &opened.data_entries, &data_layout(dirs, files), errors);
    let mut program = Vec::new();
    for file in files {
        let name = format!(".{}", file.dest);
        let Some(got) = entry(&opened.data_entries, &name) else {
            continue; // reported by check_names
        };
        match &file.source {
            None => program = got.data.clone(),
            Some(source) => {
                let want =
                    fs::read(source).unwrap_or_else(|e| panic!("read {}: {e}", source.display()));
                if got.data != want {
                    errors.push(format!("{at}: {name} is not {}", source.display()));
                }
            }
        }
    }
    program
}

/// Checks one dynhost .ipk against the feed; returns its architecture and the binary it
/// carries. `epoch` as for [`open_ipk`].
fn check_ipk(
    path: &Path,
    feed: &Feed,
    epoch: Option<u64>,
    errors: &mut Vec<String>,
) -> Option<Checked> {
    let file_name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let prefix = format!("{PKG}_{}_", feed.version());
    let Some(arch) = file_name
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(".ipk"))
        .map(String::from)
    else {
        errors.push(format!("{file_name}: not named {prefix}<arch>.ipk"));
        return None;
    };
    let opened = open_ipk(path, epoch, errors)?;
    let Opened {
        what,
        control_what,
        control_entries,
        control,
        epoch,
        data_tar,
        ..
    } = &opened;

    // control.tar.gz
    check_names(
        control_what,
        control_entries,
        &[
            ("./".into(), 0o755),
            ("./conffiles".into(), 0o644),
            ("./control".into(), 0o644),
            ("./postinst".into(), 0o755),
            ("./prerm".into(), 0o755),
        ],
        errors,
    );
    let text_of = |name: &str| opened.control_file(name);
    let mut conffiles = feed.conffiles.clone();
    conffiles.sort();
    let conffiles_text: String = conffiles.iter().map(|c| format!("{c}\n")).collect();
    if text_of("./conffiles") != conffiles_text {
        errors.push(format!(
            "{what}: conffiles {:?}, not {conffiles_text:?}",
            text_of("./conffiles")
        ));
    }
    if text_of("./postinst") != POSTINST {
        errors.push(format!(
            "{what}: postinst differs:\n{}",
            text_of("./postinst")
        ));
    }
    if text_of("./prerm") != PRERM {
        errors.push(format!("{what}: prerm differs:\n{}", text_of("./prerm")));
    }

    // data.tar.gz
    let binary = check_data(&opened, &feed.dirs, &feed.files, errors);
    for conffile in &feed.conffiles {
        if !feed.files.iter().any(|f| &f.dest == conffile) {
            errors.push(format!(
                "{what}: conffile {conffile} is not installed by the package"
            ));
        }
    }

    // The control file, whole: field order and values as package-pack.mk writes them, and
    // Installed-Size as ipkg-build measures it (the uncompressed data.tar).
    let want = expected_control(feed, &arch, *epoch, data_tar.len());
    if *control != want {
        errors.push(format!(
            "{what}: control differs\ngot:\n{control}\nexpected:\n{want}"
        ));
    }
    Some(Checked { arch, binary })
}

/// Checks an apk tree made beside the .ipk: the same files, plus apk's metadata files.
fn check_apk_tree(tree: &Path, feed: &Feed, arch: &str, binary: &[u8], errors: &mut Vec<String>) {
    let at = tree.display().to_string();
    let files = tree.join("files");
    let mut listed = Vec::new();
    for file in &feed.files {
        let path = files.join(file.dest.trim_start_matches('/'));
        let Ok(meta) = fs::metadata(&path) else {
            errors.push(format!("{at}: no {}", file.dest));
            continue;
        };
        if meta.permissions().mode() & 0o7777 != file.mode {
            errors.push(format!(
                "{at}: {} mode {:o}",
                file.dest,
                meta.permissions().mode()
            ));
        }
        let want = match &file.source {
            None => binary.to_vec(),
            Some(source) => fs::read(source).expect("read source"),
        };
        if fs::read(&path).expect("read") != want {
            errors.push(format!("{at}: {} differs from the .ipk's", file.dest));
        }
        listed.push(file.dest.clone());
    }
    listed.sort();
    let meta_dir = files.join("lib/apk/packages");
    let read = |name: &str| fs::read_to_string(meta_dir.join(name)).unwrap_or_default();
    let list: String = listed.iter().map(|l| format!("{l}\n")).collect();
    if read(&format!("{PKG}.list")) != list {
        errors.push(format!(
            "{at}: {PKG}.list is {:?}, not {list:?}",
            read(&format!("{PKG}.list"))
        ));
    }
    let conffiles: String = feed.conffiles.iter().map(|c| format!("{c}\n")).collect();
    if read(&format!("{PKG}.conffiles")) != conffiles {
        errors.push(format!("{at}: {PKG}.conffiles differs"));
    }
    for conffile in &feed.conffiles {
        let output = Command::new("sha256sum")
            .arg(files.join(conffile.trim_start_matches('/')))
            .output()
            .expect("sha256sum");
        let text = String::from_utf8_lossy(&output.stdout);
        let sum = text.split_whitespace().next().unwrap_or("");
        let line = format!("{conffile} {sum}\n");
        if !read(&format!("{PKG}.conffiles_static")).contains(&line) {
            errors.push(format!("{at}: {PKG}.conffiles_static lacks {line:?}"));
        }
    }
    let mkpkg = fs::read_to_string(tree.join("mkpkg.sh")).unwrap_or_default();
    for info in [
        format!("'name:{PKG}'"),
        format!("'version:{}'", feed.version()),
        format!("'arch:{arch}'"),
        format!("'license:{}'", feed.license),
        format!("'origin:{SOURCE}'"),
        "'depends:libc ca-bundle'".to_string(),
    ] {
        if !mkpkg.contains(&info) {
            errors.push(format!("{at}: mkpkg.sh lacks --info {info}"));
        }
    }
    for script in ["post-install", "post-upgrade", "pre-deinstall"] {
        let text = fs::read_to_string(tree.join(script)).unwrap_or_default();
        let call = if script == "pre-deinstall" {
            "default_prerm"
        } else {
            "default_postinst"
        };
        if !text.starts_with("#!/bin/sh\n") || !text.contains(&format!("\n{call}\n")) {
            errors.push(format!("{at}: {script} does not call {call}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The LuCI page (luci-app-dynhost): packed as the LuCI feed's luci.mk installs it

const LUCI_PKG: &str = "luci-app-dynhost";
/// luci.mk's default postinst: LuCI rebuilds its menu and rpcd re-reads the ACLs.
const LUCI_POSTINST: &str = "#!/bin/sh\n\
[ -n \"${IPKG_INSTROOT}\" ] || {\n\
\trm -f /tmp/luci-indexcache.*\n\
\trm -rf /tmp/luci-modulecache/\n\
\tkillall -HUP rpcd 2>/dev/null\n\
\texit 0\n\
}\n";

/// What openwrt/luci-app-dynhost/Makefile says, and what luci.mk makes of it.
struct LuciFeed {
    version: String,
    variables: Vec<(String, String)>,
    /// htdocs/* below /www, root/* below /, every file 0644.
    files: Vec<Installed>,
}

impl LuciFeed {
    fn read() -> LuciFeed {
        let app = openwrt_dir().join(LUCI_PKG);
        let text = fs::read_to_string(app.join("Makefile")).expect("read the LuCI Makefile");
        let lines: Vec<&str> = text.lines().collect();
        let variables: Vec<(String, String)> = [
            "PKG_VERSION",
            "PKG_RELEASE",
            "PKG_MAINTAINER",
            "PKG_LICENSE",
            "LUCI_TITLE",
            "LUCI_DESCRIPTION",
            "LUCI_DEPENDS",
            "LUCI_PKGARCH",
        ]
        .iter()
        .map(|name| (name.to_string(), assignment(&lines, name)))
        .collect();
        let mut files = Vec::new();
        for (folder, below) in [("htdocs", "/www"), ("root", "")] {
            let mut pending = vec![app.join(folder)];
            while let Some(dir) = pending.pop() {
                for item in fs::read_dir(&dir).expect("read the app's folder") {
                    let path = item.expect("entry").path();
                    if path.is_dir() {
                        pending.push(path);
                        continue;
                    }
                    let relative = path.strip_prefix(app.join(folder)).expect("below");
                    files.push(Installed {
                        dest: format!("{below}/{}", relative.display()),
                        source: Some(path),
                        mode: 0o644,
                    });
                }
            }
        }
        let mut feed = LuciFeed {
            version: String::new(),
            variables,
            files,
        };
        feed.version = format!("{}-r{}", feed.get("PKG_VERSION"), feed.get("PKG_RELEASE"));
        feed
    }

    fn get(&self, name: &str) -> &str {
        &self
            .variables
            .iter()
            .find(|(n, _)| n == name)
            .expect(name)
            .1
    }

    /// The control file of package-pack.mk for luci.mk's package definition.
    fn control(&self, epoch: u64, installed_size: usize) -> String {
        let depends: Vec<&str> = std::iter::once("libc")
            .chain(
                self.get("LUCI_DEPENDS")
                    .split_whitespace()
                    .map(|word| word.trim_start_matches('+')),
            )
            .collect();
        format!(
            "Package: {LUCI_PKG}\nVersion: {}\nDepends: {}\n\
             Source: feeds/luci/applications/{LUCI_PKG}\nSourceName: {LUCI_PKG}\n\
             License: {}\nSection: luci\nSourceDateEpoch: {epoch}\n\
             URL: https://github.com/openwrt/luci\nMaintainer: {}\nArchitecture: all\n\
             Installed-Size: {installed_size}\nDescription:  {}\n",
            self.version,
            depends.join(", "),
            self.get("PKG_LICENSE"),
            self.get("PKG_MAINTAINER"),
            self.get("LUCI_DESCRIPTION"),
        )
    }
}

fn check_luci_ipk(path: &Path, feed: &LuciFeed, epoch: Option<u64>, errors: &mut Vec<String>) {
    let want_name = format!("{LUCI_PKG}_{}_all.ipk", feed.version);
    if path.file_name() != Some(want_name.as_ref()) {
        errors.push(format!("{}: not named {want_name}", path.display()));
    }
    let Some(opened) = open_ipk(path, epoch, errors) else {
        return;
    };
    check_names(
        &opened.control_what,
        &opened.control_entries,
        &[
            ("./".into(), 0o755),
            ("./control".into(), 0o644),
            ("./postinst".into(), 0o755),
        ],
        errors,
    );
    if opened.control_file("./postinst") != LUCI_POSTINST {
        errors.push(format!(
            "{}: postinst differs:\n{}",
            opened.what,
            opened.control_file("./postinst")
        ));
    }
    check_data(&opened, &[], &feed.files, errors);
    let want = feed.control(opened.epoch, opened.data_tar.len());
    if opened.control != want {
        errors.push(format!(
            "{}: control differs\ngot:\n{}\nexpected:\n{want}",
            opened.what, opened.control
        ));
    }
}

fn report(errors: &[String]) {
    assert!(
        errors.is_empty(),
        "{} problem(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers

const EPOCH: u64 = 1_700_000_000;

fn pack(binary: &Path, arch: &str, out: &Path, openwrt: Option<&Path>) -> std::process::Output {
    let mut command = Command::new(Path::new(ROOT).join("scripts/pack-ipk"));
    command
        .arg(binary)
        .arg(arch)
        .arg(out)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .env_remove("DYNHOST_OPENWRT_DIR");
    if let Some(dir) = openwrt {
        command.env("DYNHOST_OPENWRT_DIR", dir);
    }
    command.output().expect("run scripts/pack-ipk")
}

fn pack_ok(binary: &Path, arch: &str, out: &Path, openwrt: Option<&Path>) -> PathBuf {
    let output = pack(binary, arch, out, openwrt);
    assert!(
        output.status.success(),
        "scripts/pack-ipk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let feed = parse_feed(openwrt.unwrap_or(&Path::new(ROOT).join("openwrt")));
    out.join(format!("{PKG}_{}_{arch}.ipk", feed.version()))
}

fn openwrt_dir() -> PathBuf {
    Path::new(ROOT).join("openwrt")
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn feed_makefile_matches_the_crate() {
    let feed = parse_feed(&openwrt_dir());
    assert_eq!(
        feed.pkg_version,
        env!("CARGO_PKG_VERSION"),
        "PKG_VERSION is Cargo.toml's"
    );
    assert!(
        feed.pkg_release.parse::<u32>().is_ok(),
        "PKG_RELEASE {:?}",
        feed.pkg_release
    );
    let dests: Vec<(&str, u32)> = feed
        .files
        .iter()
        .map(|f| (f.dest.as_str(), f.mode))
        .collect();
    for want in [
        ("/usr/bin/dynhost", 0o755),
        ("/etc/init.d/dynhost", 0o755),
        ("/etc/config/dynhost", 0o600),
    ] {
        assert!(
            dests.contains(&want),
            "the package installs {want:?}: {dests:?}"
        );
    }
    assert!(
        dests
            .iter()
            .any(|(dest, _)| *dest == "/etc/hotplug.d/iface/95-dynhost"),
        "{dests:?}"
    );
    assert_eq!(feed.conffiles, ["/etc/config/dynhost"]);
}

#[test]
fn a_packed_binary_is_laid_out_as_ipkg_build_makes_it() {
    let tmp = TempDir::new("fake");
    let binary = tmp.path().join("dynhost");
    fs::write(&binary, b"\x7fELF stand-in for the router binary\n").expect("write");
    let feed = parse_feed(&openwrt_dir());
    let mut errors = Vec::new();
    for arch in ["mips_24kc", "x86_64"] {
        let ipk = pack_ok(&binary, arch, &tmp.path().join("dist"), None);
        let checked = check_ipk(&ipk, &feed, Some(EPOCH), &mut errors).expect("checked");
        assert_eq!(checked.arch, arch);
        assert_eq!(
            checked.binary,
            fs::read(&binary).expect("read"),
            "the binary, unchanged"
        );
        let tree = tmp.path().join("dist/apk-tree").join(arch);
        check_apk_tree(&tree, &feed, arch, &checked.binary, &mut errors);
    }
    report(&errors);
}

#[test]
fn packing_is_reproducible() {
    let tmp = TempDir::new("repro");
    let binary = tmp.path().join("dynhost");
    fs::write(&binary, vec![0x5a; 4096]).expect("write");
    let first = fs::read(pack_ok(&binary, "mipsel_24kc", &tmp.path().join("a"), None)).expect("a");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = fs::read(pack_ok(&binary, "mipsel_24kc", &tmp.path().join("b"), None)).expect("b");
    assert!(first == second, "two packings of the same input differ");
}

#[test]
fn modes_come_from_the_install_section_not_from_the_checkout() {
    // A checkout with odd modes (a umask of 077, a script made executable by hand) must still
    // give 0755 / 0644 / 0600, as $(INSTALL_BIN) / $(INSTALL_DATA) / $(INSTALL_CONF) do.
    let tmp = TempDir::new("modes");
    let openwrt = tmp.path().join("openwrt");
    fs::create_dir_all(openwrt.join("files")).expect("mkdir");
    fs::copy(openwrt_dir().join("Makefile"), openwrt.join("Makefile")).expect("copy");
    for (name, mode) in [
        ("dynhost.init", 0o700),
        ("dynhost.hotplug", 0o777),
        ("dynhost.config", 0o666),
    ] {
        let to = openwrt.join("files").join(name);
        fs::copy(openwrt_dir().join("files").join(name), &to).expect("copy");
        fs::set_permissions(&to, fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let binary = tmp.path().join("dynhost");
    fs::write(&binary, b"binary").expect("write");
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o600)).expect("chmod");
    let ipk = pack_ok(
        &binary,
        "aarch64_cortex-a53",
        &tmp.path().join("dist"),
        Some(&openwrt),
    );
    let mut errors = Vec::new();
    check_ipk(&ipk, &parse_feed(&openwrt), Some(EPOCH), &mut errors).expect("checked");
    report(&errors);
}

#[test]
fn a_makefile_version_other_than_the_crates_is_refused() {
    let tmp = TempDir::new("version");
    let openwrt = tmp.path().join("openwrt");
    fs::create_dir_all(&openwrt).expect("mkdir");
    let status = Command::new("cp")
        .arg("-r")
        .arg(openwrt_dir().join("files"))
        .arg(&openwrt)
        .status()
        .expect("cp");
    assert!(status.success());
    let makefile = fs::read_to_string(openwrt_dir().join("Makefile")).expect("read");
    let changed = makefile.replace(
        &format!("PKG_VERSION:={}", env!("CARGO_PKG_VERSION")),
        "PKG_VERSION:=9.9.9",
    );
    assert_ne!(
        changed, makefile,
        "the Makefile names PKG_VERSION:=<Cargo.toml's version>"
    );
    fs::write(openwrt.join("Makefile"), changed).expect("write");
    let binary = tmp.path().join("dynhost");
    fs::write(&binary, b"binary").expect("write");
    let output = pack(&binary, "x86_64", &tmp.path().join("dist"), Some(&openwrt));
    assert!(
        !output.status.success(),
        "packed a package with another version"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Cargo.toml"), "{stderr}");
    assert!(
        !tmp.path().join("dist").exists()
            || fs::read_dir(tmp.path().join("dist"))
                .expect("ls")
                .next()
                .is_none()
    );
}

#[test]
fn the_luci_page_is_packed_as_luci_mk_installs_it() {
    let feed = LuciFeed::read();
    assert_eq!(feed.get("PKG_VERSION"), env!("CARGO_PKG_VERSION"));
    assert!(
        feed.files
            .iter()
            .any(|f| f.dest == "/www/luci-static/resources/view/dynhost/overview.js"),
        "the view is installed"
    );
    let tmp = TempDir::new("luci");
    let output = Command::new(Path::new(ROOT).join("scripts/pack-luci-ipk"))
        .arg(tmp.path())
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .output()
        .expect("run scripts/pack-luci-ipk");
    assert!(
        output.status.success(),
        "scripts/pack-luci-ipk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ipk = tmp
        .path()
        .join(format!("{LUCI_PKG}_{}_all.ipk", feed.version));
    let mut errors = Vec::new();
    check_luci_ipk(&ipk, &feed, Some(EPOCH), &mut errors);
    report(&errors);
}

/// The packages `scripts/build-packages` made: `DYNHOST_CHECK_DIST=dist` (CI sets it).
#[test]
fn built_packages() {
    let Some(dist) = std::env::var_os("DYNHOST_CHECK_DIST") else {
        eprintln!("skipped: DYNHOST_CHECK_DIST is not set (scripts/check-ipk sets it)");
        return;
    };
    let dist = PathBuf::from(dist);
    let feed = parse_feed(&openwrt_dir());
    let mut ipks: Vec<PathBuf> = fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e}", dist.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().expect("name").to_string_lossy();
            name.starts_with(&format!("{PKG}_")) && name.ends_with(".ipk")
        })
        .collect();
    ipks.sort();
    assert!(!ipks.is_empty(), "no {PKG}_*.ipk in {}", dist.display());
    let mut errors = Vec::new();
    let mut archs = BTreeSet::new();
    for ipk in &ipks {
        let Some(checked) = check_ipk(ipk, &feed, None, &mut errors) else {
            continue;
        };
        check_elf(&checked.arch, &checked.binary, &mut errors);
        let tree = dist.join("apk-tree").join(&checked.arch);
        if tree.exists() {
            check_apk_tree(&tree, &feed, &checked.arch, &checked.binary, &mut errors);
        }
        eprintln!("checked {}", ipk.display());
        archs.insert(checked.arch);
    }
    let luci_feed = LuciFeed::read();
    let luci_ipk = dist.join(format!("{LUCI_PKG}_{}_all.ipk", luci_feed.version));
    if luci_ipk.exists() {
        check_luci_ipk(&luci_ipk, &luci_feed, None, &mut errors);
        eprintln!("checked {}", luci_ipk.display());
    } else {
        errors.push(format!("no {} in {}", luci_ipk.display(), dist.display()));
    }
    if let Ok(wanted) = std::env::var("DYNHOST_CHECK_ARCHS") {
        for arch in wanted.split_whitespace() {
            if !archs.contains(arch) {
                errors.push(format!("no package for {arch} in {}", dist.display()));
            }
        }
    }
    report(&errors);
}

#[test]
fn hot_text_is_required_and_must_hold_most_of_the_code() {
    let check = |hot_text, other_text| {
        let mut errors = Vec::new();
        check_hot_text("x86_64", hot_text, other_text, &mut errors);
        errors
    };
    assert!(check(Some(613_791), 354_720).is_empty());
    assert!(check(None, 968_511)[0].contains("no .text.hot section"));
    // A stale list: musl's assembly and a few names still match.
    assert!(check(Some(40_000), 928_511)[0].contains("is stale"));
}
