//! Patched (see PATCHED.md): the decoder of a chunked request body. It reads as `chunked_transfer`
//! 1.5's `Decoder`, which 0.12.0 used, except that a chunk-size line, with any extensions, may take at
//! most [`MAX_SIZE_LINE`] bytes: 1.5 collected it without a bound, so a body of endless hex digits grew
//! the server's memory without end.

use std::io::{Error, ErrorKind, Read, Result};

/// The longest chunk-size line read, with its extensions and the `CR` that ends it.
pub const MAX_SIZE_LINE: usize = 4096;

/// Reads the chunks of `source` as one body; the end is the chunk of size 0 (trailers are not read).
pub struct Decoder<R> {
    source: R,
    /// What is left of the chunk being read; `None` between chunks.
    remaining: Option<usize>,
}

impl<R: Read> Decoder<R> {
    pub fn new(source: R) -> Decoder<R> {
        Decoder {
            source,
            remaining: None,
        }
    }

    /// The chunk size from its line (hex digits, then `;` and extensions, which are skipped), with the
    /// line's `CR LF`.
    fn size_line(&mut self) -> Result<usize> {
        let mut digits = Vec::new();
        let mut extension = false;
        for _ in 0..MAX_SIZE_LINE {
            match self.byte()? {
                b'\r' => {
                    self.expect(b'\n')?;
                    return std::str::from_utf8(&digits)
                        .ok()
                        .and_then(|size| usize::from_str_radix(size.trim(), 16).ok())
                        .ok_or_else(invalid);
                }
                b';' => extension = true,
                byte if !extension => digits.push(byte),
                _ => {}
            }
        }
        Err(invalid())
    }

    fn byte(&mut self) -> Result<u8> {
        let mut byte = [0];
        match self.source.read_exact(&mut byte) {
            Ok(()) => Ok(byte[0]),
            Err(err) if err.kind() == ErrorKind::UnexpectedEof => Err(invalid()),
            Err(err) => Err(err),
        }
    }

    fn expect(&mut self, expected: u8) -> Result<()> {
        match self.byte()? {
            byte if byte == expected => Ok(()),
            _ => Err(invalid()),
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let remaining = match self.remaining {
            Some(remaining) => remaining,
            None => match self.size_line()? {
                0 => {
                    self.expect(b'\r')?;
                    self.expect(b'\n')?;
                    return Ok(0);
                }
                size => size,
            },
        };
        let wanted = buf.len().min(remaining);
        let read = self.source.read(&mut buf[..wanted])?;
        self.remaining = match remaining - read {
            0 => {
                self.expect(b'\r')?;
                self.expect(b'\n')?;
                None
            }
            left => Some(left),
        };
        Ok(read)
    }
}

fn invalid() -> Error {
    Error::new(ErrorKind::InvalidInput, "Error while decoding chunks")
}

#[cfg(test)]
mod tests {
    use super::{Decoder, MAX_SIZE_LINE};
    use std::io::Read;

    fn decode(body: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Decoder::new(body).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn chunks_with_extensions_make_one_body() {
        let body = decode(b"3;name=value\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n").unwrap();
        assert_eq!(body, b"hello");
    }

    #[test]
    fn a_size_line_without_end_is_an_error_after_its_bound() {
        let endless = vec![b'f'; 10 * MAX_SIZE_LINE];
        let mut decoder = Decoder::new(&endless[..]);
        assert!(decoder.read(&mut [0; 16]).is_err());
        assert_eq!(decoder.source.len(), endless.len() - MAX_SIZE_LINE);
    }

    #[test]
    fn bad_sizes_and_missing_line_ends_are_errors() {
        for body in [
            &b"zz\r\n"[..],
            b"3\rhel",
            b"3\r\nhelXY0\r\n\r\n",
            b"3\r\nhel",
        ] {
            assert!(decode(body).is_err(), "{body:?}");
        }
    }
}
