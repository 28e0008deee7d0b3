//! The UCI reader (`uci::parse`) and the config built on it (`Config::parse`). What the reader
//! accepts must keep the promises of its types, and must export (`uci::export`) to text that
//! reads back as the same sections.
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use dynhost::config::Config;
use dynhost::uci::{self, Section, Value};
use dynhost_fuzz::assert_error_is_one_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `Config::load` reads the file into a `String`: text that is not UTF-8 never gets parsed.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match uci::parse(text) {
        Ok(sections) => {
            check_sections(&sections);
            let exported = uci::export(&sections);
            let again = uci::parse(&exported)
                .unwrap_or_else(|error| panic!("the export is refused: {error:?}\n{exported}"));
            assert_eq!(again, sections, "the export reads differently:\n{exported}");
            assert_eq!(uci::export(&again), exported, "the export is not stable");
        }
        Err(error) => {
            let lines = text.split('\n').count();
            assert!(
                (1..=lines).contains(&error.line),
                "line {} of a {lines}-line file",
                error.line
            );
        }
    }
    if let Err(error) = Config::parse(Path::new("dynhost.conf"), text) {
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
                assert!(
                    !value
                        .chars()
                        .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')),
                    "control character in {value:?}"
                );
            }
        }
    }
}
