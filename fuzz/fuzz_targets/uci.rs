//! The UCI reader (`uci::parse`) and the config built on it (`Config::parse`). What the reader
//! accepts must keep the promises of its types, must export (`uci::export`) to text that reads
//! back as the same sections, and must read as libuci reads: comments may hold any byte, and a
//! later empty `option` changes nothing.
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use dynhost::config::Config;
use dynhost::uci::{self, Section, Value};
use dynhost_fuzz::assert_error_is_one_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match uci::parse(data) {
        Ok(sections) => {
            check_sections(&sections);
            let exported = uci::export(&sections);
            let shown = String::from_utf8_lossy(&exported);
            let again = uci::parse(&exported)
                .unwrap_or_else(|error| panic!("the export is refused: {error:?}\n{shown}"));
            assert_eq!(again, sections, "the export reads differently:\n{shown}");
            assert_eq!(uci::export(&again), exported, "the export is not stable");
            check_libuci_rules(data, &sections);
        }
        Err(error) => {
            let lines = data.split(|&byte| byte == b'\n').count();
            assert!(
                (1..=lines).contains(&error.line),
                "line {} of a {lines}-line file",
                error.line
            );
        }
    }
    if let Err(error) = Config::parse(Path::new("dynhost.conf"), data) {
        assert_error_is_one_line(&error);
    }
});

/// What `Section` and `Value` promise their readers.
fn check_sections(sections: &[Section]) {
    let mut names = HashSet::new();
    for section in sections {
        assert!(
            !section.section_type.is_empty()
                && section.section_type.bytes().all(|b| b.is_ascii_graphic()),
            "section type {:?}",
            section.section_type
        );
        if let Some(name) = &section.name {
            assert!(uci::is_name(name), "section name {name:?}");
            assert!(names.insert(name), "two sections named {name:?}");
        }
        let mut options = HashSet::new();
        for entry in &section.options {
            assert!(uci::is_name(&entry.name), "option name {:?}", entry.name);
            assert!(options.insert(&entry.name), "option {:?} twice", entry.name);
            let values = match &entry.value {
                Value::Single(value) => {
                    assert!(!value.is_empty(), "empty option {:?}", entry.name);
                    std::slice::from_ref(value)
                }
                Value::List(items) => {
                    assert!(!items.is_empty(), "empty list {:?}", entry.name);
                    items.as_slice()
                }
            };
            for value in values {
                assert!(!value.contains(&0), "NUL in {value:?}");
            }
        }
    }
}

/// Properties of libuci's reading that hold for any file it accepts.
fn check_libuci_rules(data: &[u8], sections: &[Section]) {
    // A comment line of any bytes but NUL and newline, in front, changes nothing.
    let comment: Vec<u8> = data
        .iter()
        .map(|&byte| if matches!(byte, 0 | b'\n') { b'?' } else { byte })
        .take(64)
        .collect();
    let commented = [b"#".as_slice(), &comment, b"\n", data].concat();
    assert_eq!(
        uci::parse(&commented).as_ref().ok(),
        Some(&sections.to_vec()),
        "a comment changed the reading"
    );
    // An empty option after the file never deletes nor moves anything, whatever section it
    // lands in; the text may not read at all (the file may end in a `;`). Only after a whole
    // last line: a backslash and a CR ending the file keep the CR, and lose it before a LF.
    if !data.ends_with(b"\n") {
        return;
    }
    for empty in [&b"\noption x ''\n"[..], b"\noption x\n"] {
        if let Ok(again) = uci::parse(&[data, empty].concat()) {
            assert_eq!(again, sections, "an empty option changed the reading");
        }
    }
}
