//! The lines a user pastes in paste mode, read with bounds: a line that is not UTF-8 or is longer than
//! any sign-in address is reported and skipped (the next line is read all the same), and after
//! [`MAX_TOTAL`] bytes reading stops, so endless input (`cat /dev/zero |`) costs no more memory than one
//! line and ends.

use std::io::{BufRead, ErrorKind};

/// The longest line read: a sign-in address is a few hundred bytes; 16 KiB leaves room for any server's.
pub const MAX_LINE: usize = 16 * 1024;

/// The most bytes read in all; then paste mode ends (the browser's callback can still arrive).
pub const MAX_TOTAL: u64 = 1024 * 1024;

/// One pasted line, or why it cannot be one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line of text, without its line ending.
    Text(String),
    /// A line that is not UTF-8.
    NotText,
    /// A line longer than [`MAX_LINE`] (what came of it is dropped).
    TooLong,
    /// [`MAX_TOTAL`] bytes came; nothing more is read.
    TooMuch,
}

impl Line {
    /// What to tell the user about a line that is no text, `None` for text.
    pub fn problem(&self) -> Option<String> {
        match self {
            Line::Text(_) => None,
            Line::NotText => Some("that line is not text (not UTF-8)".to_owned()),
            Line::TooLong => {
                Some(format!("that line is longer than {} KiB, far longer than an address", MAX_LINE / 1024))
            }
            Line::TooMuch => Some(format!(
                "more than {} MiB came in, so no more is read; the sign-in in the browser can still complete",
                MAX_TOTAL / 1024 / 1024
            )),
        }
    }
}

/// Reads pasted lines from `input` until it ends, fails, or [`MAX_TOTAL`] bytes came (then the last
/// item is [`Line::TooMuch`]).
pub struct Lines<R> {
    input: R,
    total: u64,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    /// The lines of `input`.
    pub fn new(input: R) -> Lines<R> {
        Lines { input, total: 0, done: false }
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            if self.total >= MAX_TOTAL {
                self.done = true;
                return Some(Line::TooMuch);
            }
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => &[],
            };
            if chunk.is_empty() {
                self.done = true;
                // A last line without a line ending counts too.
                return (!line.is_empty() || too_long).then(|| finish(line, too_long));
            }
            let room = usize::try_from(MAX_TOTAL - self.total).unwrap_or(usize::MAX);
            let chunk = &chunk[..chunk.len().min(room)];
            let (taken, ended) = match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => (at + 1, true),
                None => (chunk.len(), false),
            };
            let content = &chunk[..if ended { taken - 1 } else { taken }];
            if !too_long && line.len() + content.len() <= MAX_LINE {
                line.extend_from_slice(content);
            } else {
                too_long = true;
                line = Vec::new();
            }
            self.input.consume(taken);
            self.total += taken as u64;
            if ended {
                return Some(finish(line, too_long));
            }
        }
    }
}

/// The line of `bytes` (a trailing `\r` dropped).
fn finish(mut bytes: Vec<u8>, too_long: bool) -> Line {
    if too_long {
        return Line::TooLong;
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    String::from_utf8(bytes).map_or(Line::NotText, Line::Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Line> {
        Lines::new(std::io::BufReader::with_capacity(7, input)).collect()
    }

    #[test]
    fn a_bad_line_is_reported_and_the_next_one_read() {
        let text = |s: &str| Line::Text(s.to_owned());
        assert_eq!(lines(b"a\r\n\xff\xfe\nb"), [text("a"), Line::NotText, text("b")]);
        let long = [vec![b'x'; MAX_LINE + 1], b"\ncode=1\n".to_vec()].concat();
        assert_eq!(lines(&long), [Line::TooLong, text("code=1")]);
        let exact = [vec![b'x'; MAX_LINE], b"\n".to_vec()].concat();
        assert_eq!(lines(&exact), [text(&"x".repeat(MAX_LINE))]);
        assert_eq!(lines(b""), []);
    }

    #[test]
    fn endless_input_ends_after_the_total() {
        let zeros = std::io::BufReader::new(std::io::repeat(0));
        let read: Vec<Line> = Lines::new(zeros).collect();
        assert_eq!(read, [Line::TooMuch], "one line that never ends, and no more");
        let newlines = std::io::BufReader::new(std::io::repeat(b'\n'));
        assert_eq!(Lines::new(newlines).count() as u64, MAX_TOTAL + 1);
    }
}
