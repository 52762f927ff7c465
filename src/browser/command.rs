//! `BROWSER` read as the command lines it names, by the conventions of Python's `webbrowser` and git,
//! and without a shell.
//!
//! `BROWSER` is a list of candidates separated by `:` (`;` on Windows: Python's `os.pathsep`), tried in
//! turn until one starts. A candidate that is, as a whole, the path of an existing file is the program
//! (a path with spaces needs no quotes). Otherwise it is split into words, the first being the program:
//! - words are separated by spaces and tabs outside quotes;
//! - `'…'` keeps everything up to the next `'` as it is;
//! - `"…"` keeps everything up to the next `"` as it is, except that `\"` and `\\` stand for `"` and `\`;
//! - outside quotes, `\` keeps the next character as it is (`\ ` is a space inside a word) — except on
//!   Windows, where `\` is an ordinary character (paths) and a path with spaces is put in `"…"`.
//!
//! Nothing else of a shell applies: no variables, `~`, globs, `;`, `|` or redirections. Every `%s` in an
//! argument is replaced by the URL; if no argument has one, the URL is appended as the last argument.
//! Either way the URL is inside one argument, byte for byte, and never parsed again.

/// What separates the candidates of `BROWSER`.
#[cfg(windows)]
pub(super) const SEPARATOR: char = ';';
/// What separates the candidates of `BROWSER`.
#[cfg(not(windows))]
pub(super) const SEPARATOR: char = ':';

/// Whether `\` outside `'…'` quotes keeps the next character as it is (not on Windows: paths).
const BACKSLASH_ESCAPES: bool = cfg!(not(windows));

/// The candidates of a `BROWSER` value, in order, empty ones skipped.
pub(super) fn candidates(list: &str, separator: char) -> impl Iterator<Item = &str> {
    list.split(separator).filter(|candidate| !candidate.trim().is_empty())
}

/// The program and its arguments for one candidate, with `url` put in (see the module's rules).
/// `is_file` says whether a path names an existing file. The error says what is wrong with the line.
pub(super) fn command_line(
    candidate: &str,
    url: &str,
    is_file: &dyn Fn(&str) -> bool,
) -> Result<(String, Vec<String>), String> {
    let whole = candidate.trim();
    if is_file(whole) {
        return Ok((whole.to_owned(), vec![url.to_owned()]));
    }
    let mut words = split(whole, BACKSLASH_ESCAPES)?.into_iter();
    let program = words.next().ok_or_else(|| "it names no program".to_owned())?;
    let mut args: Vec<String> = words.collect();
    if args.iter().any(|arg| arg.contains("%s")) {
        for arg in &mut args {
            *arg = arg.replace("%s", url);
        }
    } else {
        args.push(url.to_owned());
    }
    Ok((program, args))
}

/// Splits `line` into words by the module's quoting rules; `escapes`: whether `\` outside quotes
/// keeps the next character as it is.
pub(super) fn split(line: &str, escapes: bool) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a ' quote is not closed".to_owned()),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') if escapes => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => word.extend(['\\', c]),
                            None => return Err("a \" quote is not closed".to_owned()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a \" quote is not closed".to_owned()),
                    }
                }
            }
            '\\' if escapes => match chars.next() {
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("it ends in a lone \\".to_owned()),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line, true).unwrap()
    }

    #[test]
    fn quotes_and_backslashes_as_in_a_posix_shell() {
        assert_eq!(words("firefox --new-window"), ["firefox", "--new-window"]);
        assert_eq!(words("  a\t b  "), ["a", "b"]);
        assert_eq!(
            words(r#"'/opt/my browser/run' "--profile=a b" x\ y"#),
            ["/opt/my browser/run", "--profile=a b", "x y"]
        );
        assert_eq!(words(r#"a'b'"c" '' """#), ["abc", "", ""]);
        assert_eq!(words(r#""say \"hi\" \\ \n" 'no \escape'"#), [r#"say "hi" \ \n"#, r"no \escape"]);
        assert_eq!(words("a;b $(x) `y` |z"), ["a;b", "$(x)", "`y`", "|z"], "no shell");
        assert_eq!(split(r"C:\Program\ Files\x.exe", false).unwrap(), [r"C:\Program\", r"Files\x.exe"]);
        assert_eq!(
            split(r#""C:\Program Files\x.exe" -new-window"#, false).unwrap(),
            [r"C:\Program Files\x.exe", "-new-window"]
        );
        for (line, problem) in [("'a", "' quote"), ("\"a", "\" quote"), ("\"a\\", "\" quote"), ("a\\", "lone")] {
            assert!(split(line, true).unwrap_err().contains(problem), "{line}");
        }
    }

    #[test]
    fn percent_s_is_replaced_by_the_url_else_the_url_is_appended() {
        let no_file = |_: &str| false;
        let url = "http://127.0.0.1:1/start-x?a=1&b=2";
        let line = |candidate| command_line(candidate, url, &no_file).unwrap();
        assert_eq!(line("firefox --new-window"), ("firefox".into(), vec!["--new-window".into(), url.into()]));
        assert_eq!(line("b --url=%s --x"), ("b".into(), vec![format!("--url={url}"), "--x".into()]));
        assert_eq!(line("b %s %s"), ("b".into(), vec![url.to_owned(), url.to_owned()]));
        // A URL holding %s (or quotes) is put in once and never looked at again.
        let odd = "http://h/%s'\"";
        assert_eq!(command_line("b '%s'", odd, &no_file).unwrap().1, [odd]);
        assert!(command_line("''", url, &no_file).is_ok_and(|(program, _)| program.is_empty()));
        assert!(command_line("'a", url, &no_file).is_err());
        // An existing path with spaces is the program, unsplit.
        let file = |path: &str| path == "/opt/My Browser/run";
        assert_eq!(
            command_line(" /opt/My Browser/run ", url, &file).unwrap(),
            ("/opt/My Browser/run".into(), vec![url.into()])
        );
    }

    #[test]
    fn candidates_are_separated_and_empty_ones_skipped() {
        assert_eq!(candidates("a --x:b %s::  :c", ':').collect::<Vec<_>>(), ["a --x", "b %s", "c"]);
        assert_eq!(candidates(r"C:\a.exe;b", ';').collect::<Vec<_>>(), [r"C:\a.exe", "b"]);
        assert_eq!(candidates("", ':').count(), 0);
    }
}
