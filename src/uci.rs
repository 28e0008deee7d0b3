//! A reader for UCI files (`/etc/config/*`).
//!
//! It is a port of libuci's own parser (`file.c` at 66127cd) in strict mode, the mode the `uci`
//! tool uses, down to its quirks, so that a file means here what `uci show` says it means:
//! - libuci parses each line in a buffer it rewrites as it goes, and a `;` that ends a bare word
//!   is overwritten by that word's end: `option a abc;option b c` sets `a` and ignores the rest
//!   of the line, while `option a 'abc';option b c` sets both. The port keeps that buffer.
//! - an empty `option` never deletes an earlier value, and a value set again keeps its place;
//! - any byte but NUL is a value's byte: text that is not UTF-8, and control characters, are
//!   kept here and judged by the reader of the value (`config`), which refuses them only in the
//!   values dynhost uses, naming the section and option.
//!
//! Stricter than libuci, on purpose: a file holding a NUL byte is refused. libuci reads lines
//! with `fgets` and `strlen`, so a NUL silently drops the rest of its line and joins the next
//! one to what came before; a file read differently here than there would be worse than a
//! refusal. It knows nothing about what the sections mean.
//!
//! Names and values borrow from the file's text wherever they are written in it as they read
//! (unquoted, or quoted without escapes): copying each was two allocations an option, a tenth
//! of loading 1,000 records.
//!
//! `tests/uci_libuci.rs` compares it with the real `uci show` on thousands of files.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// One `config` block, with every later block of the same name merged into it.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    /// Printable ASCII.
    pub section_type: Cow<'a, str>,
    /// `None` for an anonymous section (`config type` or `config type ''`).
    pub name: Option<Cow<'a, str>>,
    /// Where the section was first opened, 1-based.
    pub line: usize,
    /// In the order `uci show` lists them.
    pub options: Vec<Entry<'a>>,
}

/// One `option` or `list` of a section.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub name: Cow<'a, str>,
    pub value: Value<'a>,
    /// Where the value was last assigned, 1-based.
    pub line: usize,
}

/// Bytes as the file holds them, after unquoting: never NUL, possibly not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// Never empty: an empty `option` changes nothing.
    Single(Cow<'a, [u8]>),
    /// Never empty, though an item can be.
    List(Vec<Cow<'a, [u8]>>),
}

/// Lines say where the text was written, not what it means: equality ignores them, so a file
/// and its export compare equal.
impl PartialEq for Section<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.section_type == other.section_type
            && self.name == other.name
            && self.options == other.options
    }
}

impl Eq for Section<'_> {}

/// Like [`Section`], equality ignores the line.
impl PartialEq for Entry<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}

impl Eq for Entry<'_> {}

impl<'a> Section<'a> {
    /// Readers look options up their own way (`config` puts them in slots by name once).
    #[cfg(test)]
    pub fn option(&self, name: &str) -> Option<&Entry<'a>> {
        self.options.iter().find(|entry| entry.name == name)
    }

    /// `uci_set` while parsing: an empty value is no change (the parser's pointer is never a
    /// complete lookup, so nothing is deleted), and a new value takes the old one's place,
    /// `at`, where the option is if it is there.
    fn set(&mut self, at: Option<usize>, name: Cow<'a, str>, value: Cow<'a, [u8]>, line: usize) {
        if value.is_empty() {
            return;
        }
        match at {
            Some(index) => {
                self.options[index].value = Value::Single(value);
                self.options[index].line = line;
            }
            None => self.options.push(Entry {
                name,
                value: Value::Single(value),
                line,
            }),
        }
    }

    /// `uci_add_list` grows a list, or turns a string into a list in the string's place.
    fn append(&mut self, at: Option<usize>, name: Cow<'a, str>, item: Cow<'a, [u8]>, line: usize) {
        let Some(index) = at else {
            self.options.push(Entry {
                name,
                value: Value::List(vec![item]),
                line,
            });
            return;
        };
        let entry = &mut self.options[index];
        match &mut entry.value {
            Value::List(items) => items.push(item),
            Value::Single(previous) => {
                entry.value = Value::List(vec![std::mem::take(previous), item]);
            }
        }
        entry.line = line;
    }
}

/// Why a file was refused. Messages never quote a value: values hold passwords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl SyntaxError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        SyntaxError {
            line,
            message: message.into(),
        }
    }
}

/// Whether `text` can name a section or an option: `[A-Za-z0-9_]+`, shell-safe.
pub fn is_name(text: &str) -> bool {
    is_name_bytes(text.as_bytes())
}

fn is_name_bytes(text: &[u8]) -> bool {
    !text.is_empty()
        && text
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'_')
}

fn is_section_type(text: &[u8]) -> bool {
    !text.is_empty() && text.iter().all(u8::is_ascii_graphic)
}

fn is_package_name(text: &[u8]) -> bool {
    !text.is_empty()
        && text
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
}

/// C's `isspace` in the C locale.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// The delimiters of the `strtok` that splits a keyword off: a vertical tab or a form feed
/// after a keyword makes it an unknown one.
fn ends_keyword(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t')
}

/// Reads a whole file. Any error refuses the whole file, as `uci` does in strict mode.
pub fn parse<T: AsRef<[u8]> + ?Sized>(text: &T) -> Result<Vec<Section<'_>>, SyntaxError> {
    parse_bytes(text.as_ref())
}

fn parse_bytes(text: &[u8]) -> Result<Vec<Section<'_>>, SyntaxError> {
    if let Some(index) = text.iter().position(|&byte| byte == 0) {
        let line = 1 + text[..index].iter().filter(|&&byte| byte == b'\n').count();
        return Err(SyntaxError::new(
            line,
            "a NUL byte, which uci would misread",
        ));
    }
    let mut parser = Parser {
        text,
        input: text,
        origin: 0,
        verbatim: 0,
        copied: Copied::Nothing,
        buf: Vec::new(),
        pos: 0,
        line: 0,
        sections: Vec::new(),
        current: None,
        named: HashMap::new(),
        options: HashMap::new(),
    };
    while !parser.input.is_empty() {
        parser.pos = 0;
        parser.getln(0);
        parser.statements()?;
    }
    Ok(parser.sections)
}

/// Whether an argument can borrow from the text: what its unquoted bytes were before they
/// were copied down.
enum Copied {
    Nothing,
    /// One run, as read: the argument is `buf[run]` of the line as read.
    Run(Range<usize>),
    /// Pieces, or bytes that escapes left out, in between.
    Pieces,
}

struct Argument<'a> {
    /// Where the argument starts; quoted text can carry it over more lines.
    line: usize,
    text: Cow<'a, [u8]>,
}

#[derive(Clone, Copy)]
enum Keyword {
    Config,
    Option,
    List,
    Package,
}

/// libuci's parse context: `buf` holds the current line, joined with the next ones while a
/// quote or a trailing backslash is open, and is rewritten in place as arguments are unquoted
/// (each argument is copied down to where it started, then ended with a 0).
struct Parser<'a> {
    /// The whole file, which arguments borrow from.
    text: &'a [u8],
    /// What is left to read.
    input: &'a [u8],
    /// Where in `text` the line in `buf` starts.
    origin: usize,
    /// How much of `buf` was read as `text` holds it from `origin` on: all of it until a
    /// backslash joins the next line to a shortened one.
    verbatim: usize,
    /// Where the bytes unquoted so far for the current argument were in `buf` when read.
    copied: Copied,
    buf: Vec<u8>,
    pos: usize,
    /// The line the end of `buf` is on, 1-based.
    line: usize,
    sections: Vec<Section<'a>>,
    /// Index in `sections` of the section that `option` and `list` add to.
    current: Option<usize>,
    /// Where each named section is: looking them up in a list would make a large file cost
    /// the square of its size.
    named: HashMap<Cow<'a, str>, usize>,
    /// Where each option is, for each section of at least [`INDEXED_FROM`] options, for the
    /// same reason. A smaller section (every real one) is searched in order, which costs less
    /// than hashing the name (hashing and copying each was a tenth of a 1,000-record config
    /// load, when names were copies).
    options: HashMap<usize, HashMap<Cow<'a, str>, usize>>,
}

/// [`Section::set`] or [`Section::append`]: what `option` or `list` does with a value.
type Assign<'a> = fn(&mut Section<'a>, Option<usize>, Cow<'a, str>, Cow<'a, [u8]>, usize);

/// How many options a section has room for when it opens: most have fewer.
const OPTIONS_ROOM: usize = 8;

/// How many options make a section's option names worth an index.
const INDEXED_FROM: usize = 32;

impl<'a> Parser<'a> {
    /// The byte at `index`; past the end is the string's end, a 0.
    fn at(&self, index: usize) -> u8 {
        self.buf.get(index).copied().unwrap_or(0)
    }

    fn cur(&self) -> u8 {
        self.at(self.pos)
    }

    /// Ends a C string in `buf`; past the end it already is one.
    fn terminate(&mut self, index: usize) {
        if let Some(byte) = self.buf.get_mut(index) {
            *byte = 0;
        }
    }

    /// `uci_getln`: the next line, newline included, replaces whatever follows `offset`.
    fn getln(&mut self, offset: usize) {
        // The next line follows in `text` only where the last one ended.
        let follows = offset == self.buf.len() && offset == self.verbatim;
        self.buf.truncate(offset);
        self.verbatim = self.verbatim.min(offset);
        if self.input.is_empty() {
            return;
        }
        if offset == 0 {
            self.origin = self.text.len() - self.input.len();
        }
        let end = self
            .input
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(self.input.len(), |newline| newline + 1);
        self.buf.extend_from_slice(&self.input[..end]);
        self.input = &self.input[end..];
        if offset == 0 || follows {
            self.verbatim = self.buf.len();
        }
        self.line += 1;
    }

    fn skip_whitespace(&mut self) {
        while self.cur() != 0 && is_space(self.cur()) {
            self.pos += 1;
        }
    }

    /// `addc`: copies the current byte down to the argument being unquoted.
    fn addc(&mut self, target: &mut usize) {
        self.note_copy(1);
        self.buf[*target] = self.buf[self.pos];
        *target += 1;
        self.pos += 1;
    }

    /// Keeps `copied` up to date before `length` bytes at `pos` are copied down.
    fn note_copy(&mut self, length: usize) {
        let from = self.pos;
        self.copied = match &self.copied {
            _ if length == 0 => return,
            Copied::Nothing => Copied::Run(from..from + length),
            Copied::Run(run) if run.end == from => Copied::Run(run.start..from + length),
            Copied::Run(_) | Copied::Pieces => Copied::Pieces,
        };
    }

    /// `addc` for each byte up to the first that `stops` or the string's end: what libuci does
    /// a byte at a time, one copy (`target` is never past `pos`, so it is a memmove).
    fn addc_until(&mut self, target: &mut usize, stops: impl Fn(u8) -> bool) {
        let run = self.buf[self.pos..]
            .iter()
            .take_while(|&&byte| byte != 0 && !stops(byte))
            .count();
        self.note_copy(run);
        // A bare word's first piece is where it is.
        if *target != self.pos {
            self.buf.copy_within(self.pos..self.pos + run, *target);
        }
        *target += run;
        self.pos += run;
    }

    /// `uci_parse_line`: the statements of one line, split by `;`.
    fn statements(&mut self) -> Result<(), SyntaxError> {
        self.skip_whitespace();
        loop {
            // strtok(" \t") on the rest of the C string, which ends at a 0 or the buffer's end.
            let mut start = self.pos;
            while self.at(start) != 0 && ends_keyword(self.at(start)) {
                start += 1;
            }
            if self.at(start) == 0 {
                return Ok(());
            }
            let mut end = start;
            while self.at(end) != 0 && !ends_keyword(self.at(end)) {
                end += 1;
            }
            let line = self.line;
            let keyword = match &self.buf[start..end] {
                [b'#', ..] => return Ok(()),
                b"config" | b"c" => Keyword::Config,
                b"option" | b"o" => Keyword::Option,
                b"list" | b"l" => Keyword::List,
                b"package" | b"p" => Keyword::Package,
                _ => {
                    // Not quoted: after a stray `;` in an unquoted password, the keyword can
                    // be a piece of that password.
                    return Err(SyntaxError::new(
                        line,
                        "unknown keyword: expected config, option, list or package",
                    ));
                }
            };
            if matches!(keyword, Keyword::Option | Keyword::List) && self.current.is_none() {
                return Err(SyntaxError::new(
                    line,
                    "option or list before the first config line",
                ));
            }
            // strtok ended the keyword with a 0 in place of its delimiter, and libuci steps
            // past both, which it refuses to do past the end of the buffer.
            if end + 1 > self.buf.len() {
                return Err(SyntaxError::new(line, "a keyword without arguments"));
            }
            self.terminate(end);
            self.pos = end + 1;
            match keyword {
                Keyword::Config => self.config(line)?,
                Keyword::Option => self.option(line, Section::set)?,
                Keyword::List => self.option(line, Section::append)?,
                Keyword::Package => self.package(line)?,
            }
        }
    }

    /// `next_arg`: one argument, made of adjacent bare, single-quoted and double-quoted pieces;
    /// empty when the statement has ended.
    fn argument(&mut self) -> Result<Argument<'a>, SyntaxError> {
        self.skip_whitespace();
        let line = self.line;
        let start = self.pos;
        if self.cur() == b';' {
            self.terminate(self.pos);
            self.pos += 1;
            return Ok(Argument {
                line,
                text: Cow::Borrowed(&[]),
            });
        }
        self.copied = Copied::Nothing;
        let mut target = start;
        self.word(&mut target)?;
        Ok(Argument {
            line,
            text: self.unquoted(start..target),
        })
    }

    /// The argument unquoted into `buf[unquoted]`: borrowed from the text when it was one run
    /// there (one piece, no escapes; a quote may span lines), else copied.
    fn unquoted(&self, unquoted: Range<usize>) -> Cow<'a, [u8]> {
        match &self.copied {
            Copied::Nothing => Cow::Borrowed(&[]),
            Copied::Run(run) if run.end <= self.verbatim => {
                let written = &self.text[self.origin + run.start..self.origin + run.end];
                // Tests and fuzzing hold the bookkeeping to what was copied.
                debug_assert_eq!(written, &self.buf[unquoted]);
                Cow::Borrowed(written)
            }
            Copied::Run(_) | Copied::Pieces => Cow::Owned(self.buf[unquoted].to_vec()),
        }
    }

    /// `parse_str`.
    fn word(&mut self, target: &mut usize) -> Result<(), SyntaxError> {
        let mut next = true;
        loop {
            match self.cur() {
                b'\'' => self.single_quoted(target)?,
                b'"' => self.double_quoted(target)?,
                // A `#` ends the word and starts a comment, even in the middle of a word.
                b'#' => {
                    self.terminate(self.pos);
                    break;
                }
                0 => break,
                b';' => {
                    next = false;
                    break;
                }
                b'\\' => {
                    if self.backslash() {
                        self.addc(target);
                    }
                }
                _ => self.addc_until(target, |byte| {
                    matches!(byte, b'\'' | b'"' | b'#' | b';' | b'\\') || is_space(byte)
                }),
            }
            if self.cur() == 0 || is_space(self.cur()) {
                break;
            }
        }
        // A blank that ended the word is stepped over; a `;` is left for the next argument,
        // unless the 0 that ends this one lands on it.
        if self.cur() != 0 && next {
            self.pos += 1;
        }
        self.terminate(*target);
        Ok(())
    }

    /// `parse_backslash`: whether the escaped byte is to be kept. A backslash ending a line
    /// joins the next one; libuci does no C-style decoding, so `\n` is `n`.
    fn backslash(&mut self) -> bool {
        self.pos += 1;
        let byte = self.cur();
        if byte == 0
            || byte == b'\n'
            || (byte == b'\r' && self.at(self.pos + 1) == b'\n' && self.at(self.pos + 2) == 0)
        {
            self.getln(self.pos);
            return false;
        }
        true
    }

    fn single_quoted(&mut self, target: &mut usize) -> Result<(), SyntaxError> {
        let line = self.line;
        self.pos += 1;
        loop {
            match self.cur() {
                b'\'' => {
                    self.pos += 1;
                    return Ok(());
                }
                0 => self.more(line, "a ' quote is never closed")?,
                _ => self.addc_until(target, |byte| byte == b'\''),
            }
        }
    }

    fn double_quoted(&mut self, target: &mut usize) -> Result<(), SyntaxError> {
        let line = self.line;
        self.pos += 1;
        loop {
            match self.cur() {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                0 => self.more(line, "a \" quote is never closed")?,
                b'\\' => {
                    if self.backslash() {
                        self.addc(target);
                    }
                }
                _ => self.addc_until(target, |byte| matches!(byte, b'"' | b'\\')),
            }
        }
    }

    /// A quote continues on the next line; the end of the file leaves it open.
    fn more(&mut self, line: usize, unclosed: &str) -> Result<(), SyntaxError> {
        self.getln(self.pos);
        if self.cur() == 0 {
            return Err(SyntaxError::new(line, unclosed));
        }
        Ok(())
    }

    /// `assert_eol`.
    fn end_of_statement(&mut self) -> Result<(), SyntaxError> {
        // The usual end, a line's: reading an argument there changes nothing and finds none.
        self.skip_whitespace();
        if self.cur() == 0 {
            return Ok(());
        }
        let extra = self.argument()?;
        if !extra.text.is_empty() {
            return Err(SyntaxError::new(extra.line, "too many arguments"));
        }
        Ok(())
    }

    fn config(&mut self, line: usize) -> Result<(), SyntaxError> {
        let section_type = self.required(
            line,
            is_section_type,
            "config without a section type",
            "invalid section type: only printable ASCII without spaces",
        )?;
        let name = self.argument()?;
        if !name.text.is_empty() && !is_name_bytes(&name.text) {
            return Err(SyntaxError::new(
                name.line,
                "invalid section name: only letters, digits and _",
            ));
        }
        self.end_of_statement()?;
        let section_type = ascii(section_type);
        if name.text.is_empty() {
            self.open(line, section_type, None);
            return Ok(());
        }
        let name = ascii(name.text);
        let next = self.sections.len();
        let index = *self.named.entry(name.clone()).or_insert(next);
        if index == next {
            self.open(line, section_type, Some(name));
            return Ok(());
        }
        let earlier = &self.sections[index];
        if earlier.section_type != section_type {
            return Err(SyntaxError::new(
                line,
                format!(
                    "section {name:?} was opened on line {} with type {:?}, not {section_type:?}",
                    earlier.line, earlier.section_type
                ),
            ));
        }
        self.current = Some(index);
        Ok(())
    }

    /// A new section; a named one is already in `named`.
    fn open(&mut self, line: usize, section_type: Cow<'a, str>, name: Option<Cow<'a, str>>) {
        self.sections.push(Section {
            section_type,
            name,
            line,
            // Room for a usual section's options: growing to it took two reallocations.
            options: Vec::with_capacity(OPTIONS_ROOM),
        });
        self.current = Some(self.sections.len() - 1);
    }

    fn option(&mut self, line: usize, assign: Assign<'a>) -> Result<(), SyntaxError> {
        let name = self.required(
            line,
            is_name_bytes,
            "option or list without a name",
            "invalid option name: only letters, digits and _",
        )?;
        let value = self.argument()?;
        self.end_of_statement()?;
        let index = self.current.expect("checked before the keyword was taken");
        let name = ascii(name);
        let section = &mut self.sections[index];
        // A section has an index from the moment it reached INDEXED_FROM options: options are
        // never taken away, so its size says which way to look.
        let at = if section.options.len() < INDEXED_FROM {
            section.options.iter().position(|entry| entry.name == name)
        } else {
            self.options
                .get(&index)
                .and_then(|positions| positions.get(&name).copied())
        };
        assign(section, at, name, value.text, line);
        if section.options.len() >= INDEXED_FROM {
            // All of them when the section just reached the size, later only a new one.
            let positions = self.options.entry(index).or_default();
            for (at, entry) in section.options.iter().enumerate().skip(positions.len()) {
                positions.insert(entry.name.clone(), at);
            }
        }
        Ok(())
    }

    /// A file read on its own is its own package, so libuci checks the name and ignores it.
    fn package(&mut self, line: usize) -> Result<(), SyntaxError> {
        self.required(
            line,
            is_package_name,
            "package without a name",
            "invalid package name: only letters, digits, _ and -",
        )?;
        self.end_of_statement()
    }

    /// `next_arg` with `required`: an argument that must be there and pass `valid`.
    fn required(
        &mut self,
        line: usize,
        valid: fn(&[u8]) -> bool,
        missing: &str,
        invalid: &str,
    ) -> Result<Cow<'a, [u8]>, SyntaxError> {
        let argument = self.argument()?;
        if argument.text.is_empty() {
            return Err(SyntaxError::new(line, missing));
        }
        if !valid(&argument.text) {
            return Err(SyntaxError::new(argument.line, invalid));
        }
        Ok(argument.text)
    }
}

/// Names and types were checked to be ASCII.
fn ascii(text: Cow<'_, [u8]>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(bytes) => {
            Cow::Borrowed(std::str::from_utf8(bytes).expect("checked to be ASCII"))
        }
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8(bytes).expect("checked to be ASCII")),
    }
}

/// Writes the `uci export` form: every value single-quoted, a tab before each option, an empty
/// line before each section and at the end. Only tests and fuzzing compare files with it.
#[cfg(any(test, fuzzing))]
pub fn export(sections: &[Section]) -> Vec<u8> {
    let mut text = Vec::new();
    for section in sections {
        text.extend_from_slice(b"\nconfig ");
        text.extend_from_slice(&type_word(&section.section_type));
        if let Some(name) = &section.name {
            text.push(b' ');
            text.extend_from_slice(&quoted(name.as_bytes()));
        }
        text.push(b'\n');
        for entry in &section.options {
            let (keyword, values) = match &entry.value {
                Value::Single(value) => ("option", std::slice::from_ref(value)),
                Value::List(items) => ("list", items.as_slice()),
            };
            for value in values {
                text.extend_from_slice(format!("\t{keyword} {} ", entry.name).as_bytes());
                text.extend_from_slice(&quoted(value));
                text.push(b'\n');
            }
        }
    }
    text.push(b'\n');
    text
}

/// `uci export` writes a single quote as `'\''`: close, escaped quote, reopen.
#[cfg(any(test, fuzzing))]
fn quoted(text: &[u8]) -> Vec<u8> {
    let mut quoted = vec![b'\''];
    for &byte in text {
        if byte == b'\'' {
            quoted.extend_from_slice(br"'\''");
        } else {
            quoted.push(byte);
        }
    }
    quoted.push(b'\'');
    quoted
}

/// `uci export` writes the type bare, which would not read back when it holds a character that
/// ends or changes a bare word; only those types are quoted.
#[cfg(any(test, fuzzing))]
fn type_word(section_type: &str) -> Vec<u8> {
    if section_type.contains(['\'', '"', '\\', '#', ';']) {
        quoted(section_type.as_bytes())
    } else {
        section_type.as_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(text: &str) -> Value<'_> {
        Value::Single(text.as_bytes().into())
    }

    fn list<'a>(items: &[&'a str]) -> Value<'a> {
        Value::List(items.iter().map(|item| item.as_bytes().into()).collect())
    }

    fn parsed(text: &str) -> Vec<Section<'_>> {
        parse(text).unwrap_or_else(|error| panic!("{text:?} refused: {error:?}"))
    }

    /// The value of `option` in the only section of `text`.
    fn value_of(text: &str, option: &str) -> Option<Value<'static>> {
        let sections = parsed(text);
        assert_eq!(sections.len(), 1, "{sections:?}");
        let owned = |bytes: &Cow<[u8]>| Cow::Owned(bytes.to_vec());
        sections[0].option(option).map(|entry| match &entry.value {
            Value::Single(value) => Value::Single(owned(value)),
            Value::List(items) => Value::List(items.iter().map(owned).collect()),
        })
    }

    /// The value of `option x` written as `raw` in a section.
    fn raw_value(raw: &str) -> Option<Value<'static>> {
        value_of(&format!("config t\noption x {raw}\n"), "x")
    }

    fn option_names<'a>(section: &'a Section) -> Vec<&'a str> {
        section.options.iter().map(|entry| &*entry.name).collect()
    }

    fn error_line(text: &str) -> usize {
        match parse(text) {
            Ok(sections) => panic!("{text:?} accepted: {sections:?}"),
            Err(error) => error.line,
        }
    }

    fn assert_round_trip(text: &str) {
        let sections = parsed(text);
        let exported = export(&sections);
        let shown = String::from_utf8_lossy(&exported);
        let again = parse(&exported)
            .unwrap_or_else(|error| panic!("export of {text:?} refused: {error:?}\n{shown}"));
        assert_eq!(again, sections, "export of {text:?}:\n{shown}");
    }

    const DOC_VECTORS: &str = "config record 'main'          # section main, type record
\toption enabled 1              # \"1\"
\toption hostname \"home.example.com\"
\toption password 'p@ss'\\''w0rd#1'   # p@ss'w0rd#1
\toption note \"a \\\"quoted\\\" word\"    # a \"quoted\" word
\toption empty ''               # -> option NOT present
\tlist   ip_source 'ubus'
\tlist   ip_source 'netlink'    # list [\"ubus\",\"netlink\"]
\toption inline foo#bar         # \"foo\" (rest is a comment)

config record                 # anonymous -> cfgXXXXXX ; @record[1]
\toption multi 'line1
line2'                            # \"line1\\nline2\"
c record 'b'; o x 'y'         # two statements on one line, abbreviated keywords
";

    #[test]
    fn doc_test_vectors() {
        let sections = parsed(DOC_VECTORS);
        assert_eq!(sections.len(), 3);

        let main = &sections[0];
        assert_eq!(main.section_type, "record");
        assert_eq!(main.name.as_deref(), Some("main"));
        assert_eq!(
            option_names(main),
            [
                "enabled",
                "hostname",
                "password",
                "note",
                "ip_source",
                "inline"
            ]
        );
        let value = |name: &str| main.option(name).map(|entry| entry.value.clone());
        assert_eq!(value("enabled"), Some(single("1")));
        assert_eq!(value("hostname"), Some(single("home.example.com")));
        assert_eq!(value("password"), Some(single("p@ss'w0rd#1")));
        assert_eq!(value("note"), Some(single("a \"quoted\" word")));
        assert_eq!(value("empty"), None);
        assert_eq!(value("ip_source"), Some(list(&["ubus", "netlink"])));
        assert_eq!(value("inline"), Some(single("foo")));

        let anonymous = &sections[1];
        assert_eq!(anonymous.section_type, "record");
        assert_eq!(anonymous.name, None);
        assert_eq!(anonymous.line, 11);
        assert_eq!(
            anonymous.option("multi").map(|entry| &entry.value),
            Some(&single("line1\nline2"))
        );

        let b = &sections[2];
        assert_eq!(b.name.as_deref(), Some("b"));
        assert_eq!(b.line, 14);
        assert_eq!(b.option("x").map(|entry| &entry.value), Some(&single("y")));
    }

    #[test]
    fn doc_invalid_vectors() {
        for text in [
            "config t 'bad-name'\n",
            "config t\noption bad.name x\n",
            "config t\nfoo bar\n",
            "config t\noption x 'unterminated\n",
        ] {
            assert!(parse(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn doc_multi_line_double_quotes() {
        assert_eq!(
            raw_value("\"\\\"Hello, \\\nWorld.\n\\'\""),
            Some(single("\"Hello, World.\n'"))
        );
    }

    #[test]
    fn full_and_abbreviated_keywords() {
        let full = parsed("package dynhost\nconfig t 'n'\noption a 'x'\nlist b 'y'\n");
        let short = parsed("p dynhost\nc t 'n'\no a 'x'\nl b 'y'\n");
        assert_eq!(full, short);
        assert_eq!(full[0].option("a").map(|e| &e.value), Some(&single("x")));
        assert_eq!(full[0].option("b").map(|e| &e.value), Some(&list(&["y"])));
    }

    #[test]
    fn keywords_are_whole_words() {
        for text in [
            "conf t\n",
            "configs t\n",
            "Config t\n",
            "config;\n",
            "'config' t\n",
            "config#x t\n",
        ] {
            assert_eq!(error_line(text), 1, "{text:?}");
        }
    }

    #[test]
    fn semicolons_separate_statements_after_quotes_and_blanks() {
        let sections = parsed("config t 'a'; option x '1';option y 2 ; list z \"3\"\n");
        assert_eq!(option_names(&sections[0]), ["x", "y", "z"]);
        assert_eq!(
            value_of("config t\noption a a\\bc;option b c\n", "b"),
            Some(single("c"))
        );
    }

    /// libuci ends a bare word with a 0 written where it stops; when nothing was unquoted
    /// before it, that is where the `;` was, and the rest of the line is gone.
    #[test]
    fn a_semicolon_right_after_a_plain_bare_word_ends_the_line() {
        let sections = parsed("config t\noption a abc;option b c\n");
        assert_eq!(option_names(&sections[0]), ["a"]);
        assert_eq!(sections[0].options[0].value, single("abc"));
        assert_eq!(raw_value("abc;def"), Some(single("abc")));
        assert_eq!(raw_value("v; # comment"), Some(single("v")));
        assert!(parsed("config t; option x 1\n")[0].options.is_empty());
        assert_eq!(parsed("config t;;\n").len(), 1);
    }

    /// What follows a surviving `;` is read with `strtok(" \t")`, which takes a newline for a
    /// keyword.
    #[test]
    fn a_statement_ending_in_a_surviving_semicolon_is_refused() {
        assert_eq!(error_line("config t\noption x 'v';\n"), 2);
        assert_eq!(error_line("config t 'a';;\n"), 1);
        assert_eq!(error_line("config t\n; option x y\n"), 2);
        assert!(parse("config t\noption x 'v';").is_ok());
    }

    /// A `;` where an argument could start ends it empty, and the statement reads on.
    #[test]
    fn a_semicolon_in_place_of_an_argument_does_not_end_the_statement() {
        assert_eq!(error_line("config t ; option x y\n"), 1);
        assert_eq!(error_line("config t\noption a ;option b c\n"), 2);
        assert_eq!(
            value_of("config t\noption a b ; option c d\n", "c"),
            Some(single("d"))
        );
    }

    #[test]
    fn comments_outside_quotes() {
        let sections = parsed("# header\n  # indented\nconfig t 'n' # after\n#option x y\n");
        assert_eq!(sections.len(), 1);
        assert!(sections[0].options.is_empty());
        assert_eq!(raw_value("foo#bar"), Some(single("foo")));
        assert_eq!(raw_value("'a'#b"), Some(single("a")));
        assert_eq!(raw_value("#all of it"), None);
    }

    #[test]
    fn a_comment_is_not_continued_by_a_backslash() {
        assert_eq!(
            value_of("config t # comment \\\noption x y\n", "x"),
            Some(single("y"))
        );
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(raw_value(r#"'a\b#c;d"e'"#), Some(single(r#"a\b#c;d"e"#)));
        assert_eq!(raw_value("'a\n  b'"), Some(single("a\n  b")));
        assert_eq!(raw_value(r"'it'\''s'"), Some(single("it's")));
    }

    #[test]
    fn double_quotes_unescape_every_character() {
        assert_eq!(
            raw_value(r#""a \"b\" \\ \n \t""#),
            Some(single(r#"a "b" \ n t"#))
        );
        assert_eq!(raw_value(r##""#;'""##), Some(single("#;'")));
        assert_eq!(raw_value("\"a\nb\""), Some(single("a\nb")));
        assert_eq!(
            raw_value("\"joined \\\nline\""),
            Some(single("joined line"))
        );
    }

    #[test]
    fn bare_words_unescape_every_character() {
        assert_eq!(raw_value(r"a\nb"), Some(single("anb")));
        assert_eq!(raw_value(r"a\ b\#c\;d\'e\\"), Some(single(r"a b#c;d'e\")));
        assert_eq!(raw_value("joined\\\nline"), Some(single("joinedline")));
    }

    #[test]
    fn a_joined_line_starting_with_a_blank_ends_the_bare_word() {
        assert!(parse("config t\noption x joined\\\n  line\n").is_err());
        assert_eq!(
            value_of("config t\noption x \\\nvalue\n", "x"),
            Some(single("value"))
        );
    }

    #[test]
    fn a_backslash_at_the_end_of_the_file_is_dropped() {
        assert_eq!(value_of("config t\noption x a\\", "x"), Some(single("a")));
    }

    #[test]
    fn adjacent_pieces_concatenate() {
        assert_eq!(raw_value(r#"'abc'"def"ghi"#), Some(single("abcdefghi")));
        assert_eq!(raw_value(r#"a'b c'"d e"f"#), Some(single("ab cd ef")));
    }

    /// What is written as it reads is borrowed from the text; anything unquoted or joined
    /// differently is a copy, and reads the same.
    #[test]
    fn values_written_as_they_read_are_borrowed() {
        let text = "config t 'n'\noption plain abc\noption single 'a b'\noption double \"c d\"\n\
                    option escaped a\\bc\noption pieces 'a'b\noption joined 'x\ny'\n\
                    option continued ab\\\ncd\n";
        let sections = parsed(text);
        let borrowed = |option: &str| match &sections[0].option(option).unwrap().value {
            Value::Single(Cow::Borrowed(bytes)) => Some(String::from_utf8(bytes.to_vec()).unwrap()),
            Value::Single(Cow::Owned(_)) => None,
            Value::List(_) => panic!("{option} is a list"),
        };
        assert_eq!(borrowed("plain").as_deref(), Some("abc"));
        assert_eq!(borrowed("single").as_deref(), Some("a b"));
        assert_eq!(borrowed("double").as_deref(), Some("c d"));
        assert_eq!(borrowed("joined").as_deref(), Some("x\ny"));
        assert_eq!(borrowed("escaped"), None);
        assert_eq!(borrowed("pieces"), None);
        assert_eq!(borrowed("continued"), None);
        assert_eq!(sections[0].option("escaped").unwrap().value, single("abc"));
        assert_eq!(sections[0].option("pieces").unwrap().value, single("ab"));
        assert_eq!(
            sections[0].option("continued").unwrap().value,
            single("abcd")
        );
        assert!(matches!(sections[0].name, Some(Cow::Borrowed("n"))));
        assert!(matches!(sections[0].section_type, Cow::Borrowed("t")));
    }

    #[test]
    fn non_ascii_text_is_kept() {
        assert_eq!(raw_value("'café ☕'"), Some(single("café ☕")));
        assert_eq!(raw_value("caf\\é"), Some(single("café")));
    }

    #[test]
    fn crlf_files_read_like_lf_files() {
        let lf = "config t 'n'\n\toption a 'x' # c\n\tlist b y\n\toption c \"z\"\n";
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(parsed(&crlf), parsed(lf));
        assert_eq!(parsed(&crlf)[0].options[2].line, 4);
    }

    #[test]
    fn a_cr_inside_quotes_is_kept() {
        assert_eq!(raw_value("'a\r\nb'\r"), Some(single("a\r\nb")));
        assert_eq!(raw_value("\"a\r\nb\"\r"), Some(single("a\r\nb")));
    }

    #[test]
    fn a_backslash_before_crlf_joins_lines() {
        assert_eq!(raw_value("a\\\r\nb\r"), Some(single("ab")));
        assert_eq!(raw_value("\"a\\\r\nb\"\r"), Some(single("ab")));
    }

    #[test]
    fn an_empty_option_is_absent() {
        assert_eq!(raw_value("''"), None);
        assert_eq!(raw_value("\"\""), None);
        assert_eq!(raw_value(""), None);
        assert_eq!(value_of("config t\noption x\n", "x"), None);
    }

    #[test]
    fn an_empty_option_keeps_an_earlier_value() {
        assert_eq!(
            value_of("config t\noption x a\noption x ''\n", "x"),
            Some(single("a"))
        );
        assert_eq!(
            value_of("config t\noption x a\noption x\n", "x"),
            Some(single("a"))
        );
        assert_eq!(
            value_of("config t\nlist x a\noption x \"\"\n", "x"),
            Some(list(&["a"]))
        );
    }

    #[test]
    fn an_empty_list_item_is_kept() {
        assert_eq!(
            value_of("config t\nlist x ''\nlist x a\nlist x\n", "x"),
            Some(list(&["", "a", ""]))
        );
    }

    #[test]
    fn option_then_list_makes_the_string_the_first_item() {
        let sections = parsed("config t\noption x a\noption y b\nlist x c\n");
        assert_eq!(
            sections[0].option("x").map(|e| &e.value),
            Some(&list(&["a", "c"]))
        );
        assert_eq!(option_names(&sections[0]), ["x", "y"]);
    }

    #[test]
    fn list_then_option_replaces_the_list() {
        assert_eq!(
            value_of("config t\nlist x a\nlist x b\noption x c\n", "x"),
            Some(single("c"))
        );
    }

    #[test]
    fn a_list_grows_in_place() {
        let sections = parsed("config t\nlist x a\noption y b\nlist x c\n");
        assert_eq!(option_names(&sections[0]), ["x", "y"]);
        assert_eq!(sections[0].options[0].line, 4);
    }

    #[test]
    fn a_large_section_finds_its_options_as_a_small_one_does() {
        // Past INDEXED_FROM options a section's names are looked up in an index: options
        // named again before and after that point must land where a small section puts them.
        let count = INDEXED_FROM + 8;
        let mut text = String::from("config t\n");
        for n in 0..count {
            text.push_str(&format!("option o{n} v{n}\n"));
            if n == INDEXED_FROM {
                text.push_str("option o3 early\nlist o5 x\n");
            }
        }
        text.push_str(&format!(
            "option o3 late\nlist o5 y\noption o{} last\n",
            count - 1
        ));
        let sections = parsed(&text);
        let names: Vec<String> = (0..count).map(|n| format!("o{n}")).collect();
        assert_eq!(option_names(&sections[0]), names);
        assert_eq!(value_of(&text, "o3"), Some(single("late")));
        assert_eq!(value_of(&text, "o5"), Some(list(&["v5", "x", "y"])));
        assert_eq!(
            value_of(&text, &format!("o{}", count - 1)),
            Some(single("last"))
        );
    }

    #[test]
    fn the_last_duplicate_option_wins_and_keeps_the_first_place() {
        let sections = parsed("config t\noption x a\noption y b\noption x cd\nlist y e\n");
        assert_eq!(
            sections[0].option("x").map(|e| &e.value),
            Some(&single("cd"))
        );
        assert_eq!(option_names(&sections[0]), ["x", "y"]);
        assert_eq!(sections[0].options[0].line, 4);
        let sections = parsed("config t\nlist x a\noption y b\noption x c\n");
        assert_eq!(option_names(&sections[0]), ["x", "y"]);
    }

    #[test]
    fn repeating_the_same_value_keeps_the_place() {
        let sections = parsed("config t\noption x a\noption y b\noption x a\n");
        assert_eq!(option_names(&sections[0]), ["x", "y"]);
        assert_eq!(sections[0].options[0].line, 4);
    }

    #[test]
    fn sections_with_the_same_name_merge() {
        let sections = parsed("config t 'a'\noption x 1\nconfig t 'b'\nconfig t 'a'\noption y 2\n");
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].name.as_deref(), Some("a"));
        assert_eq!(sections[0].line, 1);
        assert_eq!(option_names(&sections[0]), ["x", "y"]);
        assert!(sections[1].options.is_empty());
    }

    #[test]
    fn a_merged_section_cannot_change_type() {
        let error = parse("config t 'a'\nconfig u 'a'\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("line 1"), "{}", error.message);
    }

    #[test]
    fn anonymous_sections_never_merge() {
        let sections = parsed("config t\noption x 1\nconfig t ''\noption x 2\nconfig t\n");
        assert_eq!(sections.len(), 3);
        assert!(sections.iter().all(|section| section.name.is_none()));
        assert_eq!(
            sections[1].option("x").map(|e| &e.value),
            Some(&single("2"))
        );
    }

    #[test]
    fn lines_of_sections_and_options() {
        let sections = parsed("\n# c\nconfig t 'a'\n\toption x 'one\ntwo'\n\toption y z\n");
        assert_eq!(sections[0].line, 3);
        assert_eq!(sections[0].options[0].line, 4);
        assert_eq!(sections[0].options[1].line, 6);
    }

    #[test]
    fn option_or_list_before_the_first_section() {
        assert_eq!(error_line("# c\noption x y\nconfig t\n"), 2);
        assert_eq!(error_line("list x y\n"), 1);
    }

    #[test]
    fn unknown_keywords_are_refused_without_quoting_them() {
        let error = parse("config t\noption password 'ab';secretpart\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(!error.message.contains("secretpart"), "{}", error.message);
    }

    #[test]
    fn section_names_are_letters_digits_and_underscores() {
        assert_eq!(
            parsed("config t 'A_z09'\n")[0].name.as_deref(),
            Some("A_z09")
        );
        for name in ["bad-name", "a.b", "'a b'", "é", "@t[0]"] {
            assert_eq!(
                error_line(&format!("config t\nconfig t {name}\n")),
                2,
                "{name}"
            );
        }
    }

    #[test]
    fn option_names_are_letters_digits_and_underscores() {
        assert_eq!(
            parsed("config t\noption A_z09 v\n")[0].options[0].name,
            "A_z09"
        );
        for name in ["bad.name", "a-b", "'a b'", "é"] {
            assert_eq!(
                error_line(&format!("config t\noption {name} v\n")),
                2,
                "{name}"
            );
            assert_eq!(
                error_line(&format!("config t\nlist {name} v\n")),
                2,
                "{name}"
            );
        }
        assert_eq!(error_line("config t\noption '' v\n"), 2);
        assert_eq!(error_line("config t\noption\n"), 2);
    }

    #[test]
    fn section_types_are_printable_ascii() {
        assert_eq!(parsed("config 'a-b.c@d!~'\n")[0].section_type, "a-b.c@d!~");
        for section_type in ["'a b'", "é", "'a\tb'", "'\u{7f}'"] {
            assert_eq!(error_line(&format!("\nconfig {section_type}\n")), 2);
        }
        assert_eq!(error_line("config\n"), 1);
        assert_eq!(error_line("config ''\n"), 1);
    }

    /// libuci keeps them; `config` refuses them in the values dynhost uses.
    #[test]
    fn control_characters_in_values_are_kept() {
        assert_eq!(raw_value("'a\tb'"), Some(single("a\tb")));
        for character in ['\x01', '\x1b', '\x1f', '\x7f'] {
            let value = format!("a{character}b");
            assert_eq!(raw_value(&format!("'{value}'")), Some(single(&value)));
            let text = format!("config t\nlist x \"{character}\"\n");
            assert_eq!(value_of(&text, "x"), Some(list(&[&character.to_string()])));
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_kept() {
        let sections =
            parse(b"# caf\xe9\nconfig t 'n'\noption x '\xe9\xff'\nlist y \xfe\n").unwrap();
        assert_eq!(
            sections[0].options[0].value,
            Value::Single(b"\xe9\xff"[..].into())
        );
        assert_eq!(
            sections[0].options[1].value,
            Value::List(vec![b"\xfe"[..].into()])
        );
        assert!(parse(b"config t\noption \xe9 x\n").is_err());
        assert!(parse(b"config \xe9\n").is_err());
    }

    /// Stricter than libuci, which would join the rest of the file differently.
    #[test]
    fn a_nul_byte_refuses_the_file() {
        assert_eq!(error_line("config t\n# a\0b\n"), 2);
        assert_eq!(error_line("config t\noption x 'a\0b'\n"), 2);
    }

    #[test]
    fn a_vertical_tab_or_form_feed_after_a_keyword_is_refused() {
        for blank in ['\x0b', '\x0c', '\r'] {
            assert_eq!(error_line(&format!("config{blank}t\n")), 1, "{blank:?}");
            assert_eq!(error_line(&format!("config t\noption{blank}x y\n")), 2);
        }
        assert_eq!(
            value_of("config t\noption\tx\x0by\n", "x"),
            Some(single("y"))
        );
    }

    #[test]
    fn unterminated_quotes_name_the_line_they_open() {
        assert_eq!(error_line("config t\noption x 'abc\n\n"), 2);
        assert_eq!(error_line("config t\n\noption x \"abc\\\"\n"), 3);
        assert_eq!(error_line("config t 'a"), 1);
        assert_eq!(error_line("config t\noption x y\nlist z \"ab\\"), 3);
    }

    #[test]
    fn too_many_arguments() {
        assert_eq!(error_line("config t a b\n"), 1);
        assert_eq!(error_line("config t\noption x y z\n"), 2);
        assert_eq!(error_line("config t\nlist x y z\n"), 2);
        assert_eq!(value_of("config t\nlist x y ''\n", "x"), Some(list(&["y"])));
        assert_eq!(error_line("config t\noption x y \"\" ''\n"), 2);
        assert_eq!(error_line("package a b\n"), 1);
        assert_eq!(error_line("config t\noption x 'a\nb' c\n"), 3);
    }

    #[test]
    fn package_names() {
        assert!(parse("package my-pkg_1\nconfig t\n").is_ok());
        assert_eq!(error_line("package\n"), 1);
        assert_eq!(error_line("package a.b\n"), 1);
    }

    #[test]
    fn empty_and_comment_only_files_have_no_sections() {
        assert_eq!(parsed(""), []);
        assert_eq!(parsed("\n \t\r\n# only a comment"), []);
    }

    #[test]
    fn export_writes_the_uci_commit_form() {
        let sections = parsed(
            "config dynhost global\noption check_interval 600\n\
             config record\nlist ip a\nlist ip \"it's\"\n",
        );
        assert_eq!(
            String::from_utf8(export(&sections)).unwrap(),
            "\nconfig dynhost 'global'\n\toption check_interval '600'\n\
             \nconfig record\n\tlist ip 'a'\n\tlist ip 'it'\\''s'\n\n"
        );
        assert_eq!(export(&[]), b"\n");
    }

    #[test]
    fn export_quotes_types_that_would_not_read_back() {
        let sections = parsed(r#"config "a#b;c'd\"e\\f""#);
        assert_eq!(export(&sections), b"\nconfig 'a#b;c'\\''d\"e\\f'\n\n");
        assert_round_trip(r#"config "a#b;c'd\"e\\f""#);
    }

    #[test]
    fn export_round_trips() {
        for text in [
            DOC_VECTORS,
            "",
            "config t\n",
            "config t 'n'\noption x 'a\r\nb'\nlist y ''\nlist y \"\\\\'\"\n",
            "config t\noption x \"\t'\"\nconfig t 'n'\nconfig t\nlist x a\n",
            "config t 'n'\noption x a\noption y b\noption x c\nlist y d\n",
        ] {
            assert_round_trip(text);
        }
    }

    /// Every short file over pieces that matter to the grammar: whatever parses must export to
    /// text that parses to the same sections.
    #[test]
    fn export_round_trips_for_every_short_file() {
        const PIECES: [&str; 12] = [
            "config t ",
            "option x ",
            "list x ",
            "c n ",
            "'",
            "\"",
            "\\",
            "\n",
            "#",
            ";",
            "a",
            "\r",
        ];
        let mut indices = [0; 5];
        loop {
            let text: String = indices.iter().map(|&i| PIECES[i]).collect();
            if parse(&text).is_ok() {
                assert_round_trip(&text);
            }
            let Some(position) = indices.iter().rposition(|&i| i + 1 < PIECES.len()) else {
                break;
            };
            indices[position] += 1;
            indices[position + 1..].fill(0);
        }
    }

    #[test]
    fn equality_ignores_lines() {
        assert_eq!(
            parsed("config t 'a'\noption x y\n"),
            parsed("\n\nc t 'a'; o x y")
        );
        assert_ne!(parsed("config t 'a'\n"), parsed("config t 'b'\n"));
        assert_ne!(
            parsed("config t\noption x y\n"),
            parsed("config t\nlist x y\n")
        );
    }

    #[test]
    fn names_for_callers() {
        assert!(is_name("wan_6"));
        assert!(!is_name(""));
        assert!(!is_name("wan-6"));
    }
}
