//! A strict reader and writer for UCI files (`/etc/config/*`).
//!
//! It follows libuci's own parser (`file.c`) in strict mode, the mode the `uci` tool uses, so a
//! file means here what it means on the router, and a file `uci` refuses is refused here too.
//! It knows nothing about what the sections mean.

use std::collections::BTreeMap;

/// One `config` block, with every later block of the same name merged into it.
#[derive(Debug, Clone)]
pub struct Section {
    pub section_type: String,
    /// `None` for an anonymous section (`config type` or `config type ''`).
    pub name: Option<String>,
    /// Where the section was first opened, 1-based.
    pub line: usize,
    /// In the order `uci export` writes them.
    pub options: Vec<Entry>,
}

/// One `option` or `list` of a section.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub value: Value,
    /// Where the value was last assigned, 1-based.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Never empty: an empty `option` deletes it.
    Single(String),
    /// Never empty, though an item can be.
    List(Vec<String>),
}

/// Lines say where the text was written, not what it means: equality ignores them, so a file
/// and its [`export`] compare equal.
impl PartialEq for Section {
    fn eq(&self, other: &Self) -> bool {
        self.section_type == other.section_type
            && self.name == other.name
            && self.options == other.options
    }
}

impl Eq for Section {}

/// Like [`Section`], equality ignores the line.
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}

impl Eq for Entry {}

impl Section {
    pub fn option(&self, name: &str) -> Option<&Entry> {
        self.options.iter().find(|entry| entry.name == name)
    }

    /// `uci_set` frees the old option and appends a new one, so a changed value moves to the
    /// end; an unchanged value is left where it is.
    fn set(&mut self, name: String, value: String, line: usize) {
        if let Some(index) = self.position(&name) {
            if matches!(&self.options[index].value, Value::Single(old) if *old == value) {
                self.options[index].line = line;
                return;
            }
            self.options.remove(index);
        }
        if !value.is_empty() {
            self.options.push(Entry {
                name,
                value: Value::Single(value),
                line,
            });
        }
    }

    /// `uci_add_list` grows a list in place, but turns a string into a new list at the end.
    fn append(&mut self, name: String, item: String, line: usize) {
        let mut items = Vec::new();
        if let Some(index) = self.position(&name) {
            match &mut self.options[index].value {
                Value::List(existing) => {
                    existing.push(item);
                    self.options[index].line = line;
                    return;
                }
                Value::Single(previous) => {
                    items.push(std::mem::take(previous));
                    self.options.remove(index);
                }
            }
        }
        items.push(item);
        self.options.push(Entry {
            name,
            value: Value::List(items),
            line,
        });
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.options.iter().position(|entry| entry.name == name)
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
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

fn is_section_type(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| (33..=126).contains(&byte))
}

fn is_package_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

fn is_forbidden_in_value(character: char) -> bool {
    character < ' ' && !matches!(character, '\t' | '\n' | '\r')
}

/// C's `isspace` without the newline, which ends statements. A CR is blank, so CRLF files read
/// like LF files outside quotes.
fn is_blank(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\r' | '\x0b' | '\x0c')
}

fn ends_bare_word(character: char) -> bool {
    is_blank(character) || matches!(character, '\n' | ';' | '#')
}

/// Reads a whole file. Any error refuses the whole file, as `uci` does in strict mode.
pub fn parse(text: &str) -> Result<Vec<Section>, SyntaxError> {
    let mut parser = Parser {
        rest: text,
        line: 1,
        sections: Vec::new(),
        named: BTreeMap::new(),
        current: None,
    };
    parser.file()?;
    Ok(parser.sections)
}

struct Argument {
    /// Where the argument starts; quoted text can carry it over more lines.
    line: usize,
    text: String,
}

struct Parser<'a> {
    rest: &'a str,
    /// The line `rest` starts on.
    line: usize,
    sections: Vec<Section>,
    /// Index in `sections` of each named section: a name opened again continues its section,
    /// and looking it up by scanning made a file of many sections quadratic.
    named: BTreeMap<String, usize>,
    /// Index in `sections` of the section that `option` and `list` add to.
    current: Option<usize>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let character = self.peek()?;
        self.rest = &self.rest[character.len_utf8()..];
        if character == '\n' {
            self.line += 1;
        }
        Some(character)
    }

    fn skip_while(&mut self, skip: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&skip) {
            self.bump();
        }
    }

    fn file(&mut self) -> Result<(), SyntaxError> {
        loop {
            self.skip_while(|character| is_blank(character) || character == '\n');
            match self.peek() {
                None => return Ok(()),
                Some('#') => self.skip_while(|character| character != '\n'),
                Some(_) => self.statement()?,
            }
        }
    }

    fn statement(&mut self) -> Result<(), SyntaxError> {
        let line = self.line;
        // libuci splits the keyword off with strtok(" \t"): quotes, escapes and `;` are not
        // special in it, so `config;` is an unknown keyword, not `config` then `;`.
        let keyword = self.keyword();
        let arguments = self.arguments()?;
        match keyword {
            "config" | "c" => self.config(line, fixed(arguments)?)?,
            "option" | "o" => self.option(line, fixed(arguments)?, Section::set)?,
            "list" | "l" => self.option(line, fixed(arguments)?, Section::append)?,
            "package" | "p" => package(line, fixed(arguments)?)?,
            _ => {
                // Not quoted: after a stray `;` in an unquoted password, the keyword is a
                // piece of that password.
                return Err(SyntaxError::new(
                    line,
                    "unknown keyword: expected config, option, list or package",
                ));
            }
        }
        if self.peek() == Some(';') {
            self.bump();
        }
        Ok(())
    }

    fn keyword(&mut self) -> &'a str {
        let end = self
            .rest
            .find(|character| is_blank(character) || character == '\n')
            .unwrap_or(self.rest.len());
        let (keyword, rest) = self.rest.split_at(end);
        self.rest = rest;
        keyword
    }

    /// Reads up to the end of the statement: a newline, `;`, a comment or the end of the file.
    fn arguments(&mut self) -> Result<Vec<Argument>, SyntaxError> {
        let mut arguments = Vec::new();
        loop {
            self.skip_while(is_blank);
            match self.peek() {
                None | Some('\n' | ';' | '#') => return Ok(arguments),
                Some(_) => arguments.push(Argument {
                    line: self.line,
                    text: self.token()?,
                }),
            }
        }
    }

    /// One argument, made of adjacent bare, single-quoted and double-quoted pieces.
    fn token(&mut self) -> Result<String, SyntaxError> {
        let mut token = String::new();
        while let Some(character) = self.peek() {
            match character {
                '\'' => self.single_quoted(&mut token)?,
                '"' => self.double_quoted(&mut token)?,
                '\\' => self.escape(&mut token),
                // A `#` ends the token and starts a comment, even in the middle of a word.
                _ if ends_bare_word(character) => break,
                _ => {
                    self.bump();
                    token.push(character);
                }
            }
        }
        Ok(token)
    }

    fn single_quoted(&mut self, token: &mut String) -> Result<(), SyntaxError> {
        let line = self.line;
        self.bump();
        loop {
            match self.bump() {
                None => return Err(SyntaxError::new(line, "a ' quote is never closed")),
                Some('\'') => return Ok(()),
                Some(character) => token.push(character),
            }
        }
    }

    fn double_quoted(&mut self, token: &mut String) -> Result<(), SyntaxError> {
        let line = self.line;
        self.bump();
        loop {
            match self.peek() {
                None => return Err(SyntaxError::new(line, "a \" quote is never closed")),
                Some('"') => {
                    self.bump();
                    return Ok(());
                }
                Some('\\') => self.escape(token),
                Some(character) => {
                    self.bump();
                    token.push(character);
                }
            }
        }
    }

    /// libuci does no C-style decoding: `\n` is `n`. A backslash ending a line joins the next
    /// one, whose leading blanks then end a bare word.
    fn escape(&mut self, token: &mut String) {
        self.bump();
        if self.rest.starts_with("\r\n") {
            self.bump();
        }
        match self.bump() {
            None | Some('\n') => {}
            Some(character) => token.push(character),
        }
    }

    fn config(
        &mut self,
        line: usize,
        [section_type, name]: [Option<Argument>; 2],
    ) -> Result<(), SyntaxError> {
        let section_type = section_type
            .filter(|section_type| !section_type.text.is_empty())
            .ok_or_else(|| SyntaxError::new(line, "config without a section type"))?;
        if !is_section_type(&section_type.text) {
            return Err(SyntaxError::new(
                section_type.line,
                format!(
                    "invalid section type {:?}: only printable ASCII without spaces",
                    section_type.text
                ),
            ));
        }
        let Some(name) = name.filter(|name| !name.text.is_empty()) else {
            self.open(line, section_type.text, None);
            return Ok(());
        };
        if !is_name(&name.text) {
            return Err(SyntaxError::new(
                name.line,
                format!(
                    "invalid section name {:?}: only letters, digits and _",
                    name.text
                ),
            ));
        }
        match self.named.get(&name.text).copied() {
            None => self.open(line, section_type.text, Some(name.text)),
            Some(index) if self.sections[index].section_type == section_type.text => {
                self.current = Some(index);
            }
            Some(index) => {
                let earlier = &self.sections[index];
                return Err(SyntaxError::new(
                    line,
                    format!(
                        "section {:?} was opened on line {} with type {:?}, not {:?}",
                        name.text, earlier.line, earlier.section_type, section_type.text
                    ),
                ));
            }
        }
        Ok(())
    }

    fn open(&mut self, line: usize, section_type: String, name: Option<String>) {
        if let Some(name) = &name {
            self.named.insert(name.clone(), self.sections.len());
        }
        self.sections.push(Section {
            section_type,
            name,
            line,
            options: Vec::new(),
        });
        self.current = Some(self.sections.len() - 1);
    }

    fn option(
        &mut self,
        line: usize,
        [name, value]: [Option<Argument>; 2],
        assign: fn(&mut Section, String, String, usize),
    ) -> Result<(), SyntaxError> {
        let index = self
            .current
            .ok_or_else(|| SyntaxError::new(line, "option or list before the first config line"))?;
        let name = name
            .filter(|name| !name.text.is_empty())
            .ok_or_else(|| SyntaxError::new(line, "option or list without a name"))?;
        if !is_name(&name.text) {
            return Err(SyntaxError::new(
                name.line,
                format!(
                    "invalid option name {:?}: only letters, digits and _",
                    name.text
                ),
            ));
        }
        // A missing value is an empty one: it deletes an option and adds an empty list item.
        let value = value.unwrap_or(Argument {
            line,
            text: String::new(),
        });
        if let Some(character) = value.text.chars().find(|&c| is_forbidden_in_value(c)) {
            return Err(SyntaxError::new(
                value.line,
                format!(
                    "control character U+{:04X} in the value of {:?}",
                    u32::from(character),
                    name.text
                ),
            ));
        }
        assign(&mut self.sections[index], name.text, value.text, line);
        Ok(())
    }
}

/// A file read on its own is its own package, so libuci checks the name and ignores it.
fn package(line: usize, [name]: [Option<Argument>; 1]) -> Result<(), SyntaxError> {
    let name = name
        .filter(|name| !name.text.is_empty())
        .ok_or_else(|| SyntaxError::new(line, "package without a name"))?;
    if !is_package_name(&name.text) {
        return Err(SyntaxError::new(
            name.line,
            format!(
                "invalid package name {:?}: only letters, digits, _ and -",
                name.text
            ),
        ));
    }
    Ok(())
}

/// The arguments of a statement that takes at most `N`, each `None` when left out.
fn fixed<const N: usize>(arguments: Vec<Argument>) -> Result<[Option<Argument>; N], SyntaxError> {
    if let Some(extra) = arguments.get(N) {
        return Err(SyntaxError::new(extra.line, "too many arguments"));
    }
    let mut arguments = arguments.into_iter();
    Ok(std::array::from_fn(|_| arguments.next()))
}

/// Writes the `uci export` form: every value single-quoted, a tab before each option, an empty
/// line before each section and at the end.
pub fn export(sections: &[Section]) -> String {
    let mut text = String::new();
    for section in sections {
        text += &format!("\nconfig {}", type_word(&section.section_type));
        if let Some(name) = &section.name {
            text += &format!(" {}", quoted(name));
        }
        text.push('\n');
        for entry in &section.options {
            match &entry.value {
                Value::Single(value) => {
                    text += &format!("\toption {} {}\n", entry.name, quoted(value));
                }
                Value::List(items) => {
                    for item in items {
                        text += &format!("\tlist {} {}\n", entry.name, quoted(item));
                    }
                }
            }
        }
    }
    text.push('\n');
    text
}

/// `uci export` writes a single quote as `'\''`: close, escaped quote, reopen.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `uci export` writes the type bare, which would not read back when it holds a character that
/// ends or changes a bare word; only those types are quoted.
fn type_word(section_type: &str) -> String {
    if section_type.contains(['\'', '"', '\\', '#', ';']) {
        quoted(section_type)
    } else {
        section_type.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(text: &str) -> Value {
        Value::Single(text.to_string())
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|item| item.to_string()).collect())
    }

    fn parsed(text: &str) -> Vec<Section> {
        parse(text).unwrap_or_else(|error| panic!("{text:?} refused: {error:?}"))
    }

    /// The value of `option` in the only section of `text`.
    fn value_of(text: &str, option: &str) -> Option<Value> {
        let sections = parsed(text);
        assert_eq!(sections.len(), 1, "{sections:?}");
        sections[0].option(option).map(|entry| entry.value.clone())
    }

    /// The value of `option x` written as `raw` in a section.
    fn raw_value(raw: &str) -> Option<Value> {
        value_of(&format!("config t\noption x {raw}\n"), "x")
    }

    fn option_names(section: &Section) -> Vec<&str> {
        section
            .options
            .iter()
            .map(|entry| entry.name.as_str())
            .collect()
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
        let again = parse(&exported)
            .unwrap_or_else(|error| panic!("export of {text:?} refused: {error:?}\n{exported}"));
        assert_eq!(again, sections, "export of {text:?}:\n{exported}");
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
    fn semicolons_separate_statements() {
        let sections = parsed("config t 'a'; option x 1;option y 2 ; list z 3\n");
        assert_eq!(option_names(&sections[0]), ["x", "y", "z"]);
        assert_eq!(raw_value("'v';"), Some(single("v")));
        assert_eq!(raw_value("v; # comment"), Some(single("v")));
    }

    #[test]
    fn an_empty_statement_is_refused() {
        assert_eq!(error_line("config t;;\n"), 1);
        assert_eq!(error_line("config t\n; option x y\n"), 2);
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
    fn an_empty_option_deletes_an_earlier_value() {
        assert_eq!(value_of("config t\noption x a\noption x ''\n", "x"), None);
        assert_eq!(value_of("config t\nlist x a\noption x\n", "x"), None);
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
        assert_eq!(option_names(&sections[0]), ["y", "x"]);
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
    fn the_last_duplicate_option_wins_and_moves_to_the_end() {
        let sections = parsed("config t\noption x a\noption y b\noption x c\n");
        assert_eq!(
            sections[0].option("x").map(|e| &e.value),
            Some(&single("c"))
        );
        assert_eq!(option_names(&sections[0]), ["y", "x"]);
        assert_eq!(sections[0].options[1].line, 4);
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
        let error = parse("config t\noption password ab;secretpart\n").unwrap_err();
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

    #[test]
    fn control_characters_in_values_are_refused() {
        assert_eq!(raw_value("'a\tb'"), Some(single("a\tb")));
        for character in ['\0', '\x01', '\x1b', '\x1f'] {
            let text = format!("config t\noption x 'a{character}b'\n");
            assert_eq!(error_line(&text), 2, "{character:?}");
            let text = format!("config t\nlist x \"{character}\"\n");
            assert_eq!(error_line(&text), 2, "{character:?}");
        }
    }

    #[test]
    fn control_character_errors_do_not_quote_the_value() {
        let error = parse("config t\noption password 'secret\x01'\n").unwrap_err();
        assert!(!error.message.contains("secret"), "{}", error.message);
        assert!(error.message.contains("password"), "{}", error.message);
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
        assert_eq!(error_line("config t\nlist x y ''\n"), 2);
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
            export(&sections),
            "\nconfig dynhost 'global'\n\toption check_interval '600'\n\
             \nconfig record\n\tlist ip 'a'\n\tlist ip 'it'\\''s'\n\n"
        );
        assert_eq!(export(&[]), "\n");
    }

    #[test]
    fn export_quotes_types_that_would_not_read_back() {
        let sections = parsed(r#"config "a#b;c'd\"e\\f""#);
        assert_eq!(export(&sections), "\nconfig 'a#b;c'\\''d\"e\\f'\n\n");
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
            parsed("\n\nc t a; o x y")
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
