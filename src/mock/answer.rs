//! Answer building: a [`Reply`] turned into the bytes of an HTTP/1.1 answer (status line, `Server`,
//! `Date`, `Cache-Control: no-store`, the reply's headers, `Content-Length`, body), or into a tiny_http
//! response for a request whose body is still to be drained.

use std::time::SystemTime;

use super::reply::Reply;

/// The whole HTTP/1.1 answer for `reply` in one buffer: status line, `Server`, `Date`,
/// `Cache-Control: no-store` (every answer), the content type, the reply's own headers,
/// `Content-Length`, and the body unless `head`. `None` if a header value holds a byte a header cannot
/// carry (only a redirect URI from the configuration could).
pub(super) fn encode(reply: &Reply, date: &str, head: bool) -> Option<Vec<u8>> {
    let reason = tiny_http::StatusCode(reply.status).default_reason_phrase();
    let mut out = Vec::with_capacity(256 + reply.body.len());
    // Appended piece by piece rather than through `write!`: this runs for every answer.
    out.extend_from_slice(b"HTTP/1.1 ");
    push_number(&mut out, reply.status.into());
    for piece in [" ", reason, "\r\nServer: sipgate-stand-in\r\nDate: ", date, "\r\nCache-Control: no-store\r\n"] {
        out.extend_from_slice(piece.as_bytes());
    }
    let extra = reply.content_type.map(|value| ("Content-Type", value)).into_iter();
    for (name, value) in extra.chain(reply.headers.iter().map(|(name, value)| (*name, value.as_str()))) {
        if !value.bytes().all(|byte| byte == b'\t' || (b' '..=b'~').contains(&byte)) {
            return None;
        }
        for piece in [name, ": ", value, "\r\n"] {
            out.extend_from_slice(piece.as_bytes());
        }
    }
    // RFC 9110 §8.6: no Content-Length in a 1xx or 204 answer; 304 is never sent.
    if !(reply.status < 200 || reply.status == 204) {
        out.extend_from_slice(b"Content-Length: ");
        push_number(&mut out, reply.body.len());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head && reply.status != 204 {
        out.extend_from_slice(&reply.body);
    }
    Some(out)
}

/// Appends `n` in decimal.
fn push_number(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10` is below 10: the cast cannot truncate.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// The tiny_http response for a reply, for a request whose body was not read to its end; every answer
/// is `Cache-Control: no-store`.
pub(super) fn response(reply: Reply) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut headers: Vec<(&str, &str)> = vec![("Cache-Control", "no-store")];
    if let Some(content_type) = reply.content_type {
        headers.push(("Content-Type", content_type));
    }
    headers.extend(reply.headers.iter().map(|(name, value)| (*name, value.as_str())));
    let parsed: Result<Vec<tiny_http::Header>, ()> =
        headers.iter().map(|(name, value)| tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())).collect();
    match parsed {
        Ok(parsed) => {
            let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
            for header in parsed {
                response.add_header(header);
            }
            response
        }
        // Only a redirect URI from the configuration could hold a byte a header cannot carry.
        Err(()) => {
            tiny_http::Response::from_data(b"a header value could not be encoded".to_vec()).with_status_code(500)
        }
    }
}

/// The `Date` header's value (RFC 9110 §5.6.7, IMF-fixdate), formatted once per second per thread.
#[derive(Default)]
pub(super) struct HttpDate {
    second: u64,
    text: String,
}

impl HttpDate {
    /// The current time as an HTTP date. A clock before 1970 reads as 1970.
    pub fn now(&mut self) -> &str {
        let second = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs());
        if self.text.is_empty() || second != self.second {
            self.second = second;
            self.text = http_date(second);
        }
        &self.text
    }
}

/// Seconds since 1970 as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(seconds: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = seconds / 86_400;
    let (hour, minute, second) = (seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    // Civil date from a day count (Howard Hinnant's algorithm), in eras of 400 years from 0000-03-01.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 2 } else { month_index - 10 }; // 0 = January
    let year = year_of_era + era * 400 + u64::from(month < 2);
    let weekday = WEEKDAYS[(days % 7) as usize];
    let month = MONTHS[month as usize];
    format!("{weekday}, {day:02} {month} {year} {hour:02}:{minute:02}:{second:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(4_107_542_399), "Sun, 28 Feb 2100 23:59:59 GMT");
    }

    #[test]
    fn encoded_answer_has_status_headers_length_and_body() {
        let reply = Reply::redirect("http://127.0.0.1:9/cb?code=x".into());
        let bytes = encode(&reply, "Thu, 01 Jan 1970 00:00:00 GMT", false).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "HTTP/1.1 302 Found\r\nServer: sipgate-stand-in\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             Cache-Control: no-store\r\nLocation: http://127.0.0.1:9/cb?code=x\r\nContent-Length: 0\r\n\r\n"
        );
        let json = Reply::text(404, "gone");
        let head = String::from_utf8(encode(&json, "D", true).unwrap()).unwrap();
        assert!(
            head.starts_with("HTTP/1.1 404 Not Found\r\n") && head.ends_with("Content-Length: 4\r\n\r\n"),
            "{head}"
        );
        assert!(String::from_utf8(encode(&json, "D", false).unwrap()).unwrap().ends_with("\r\n\r\ngone"));
        let empty = String::from_utf8(encode(&Reply::empty(204), "D", false).unwrap()).unwrap();
        assert!(!empty.contains("Content-Length") && empty.ends_with("no-store\r\n\r\n"), "{empty}");
        for n in [0, 7, 10, 404, usize::MAX] {
            let mut out = Vec::new();
            push_number(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
        let injected = Reply::redirect("http://127.0.0.1/\r\nSet-Cookie: x".into());
        assert_eq!(encode(&injected, "D", false), None);
    }
}
