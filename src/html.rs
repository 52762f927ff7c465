//! The HTML pages a browser sees: the callback's result page and the stand-in's pages share one
//! document frame, one escaper and one set of headers.
//!
//! Promises: every page is self-contained (inline CSS, nothing loaded from elsewhere), every value a
//! caller echoes goes through [`escape`], and every page is sent with [`HEADERS`]: not cached, not
//! framed, and its URL (which may hold `state` or a code) never sent on as a referrer.

/// The headers every HTML page is sent with.
pub(crate) const HEADERS: [(&str, &str); 5] = [
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#222}\
main{max-width:30rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.3rem;margin-top:0}code{background:#eee;padding:0 .2rem}\
.buttons{display:flex;gap:1rem;margin-top:1.5rem}button{flex:1;padding:.6rem;font-size:1rem;border-radius:4px;\
border:1px solid #888;cursor:pointer}button.allow{background:#1c6dd0;color:#fff;border-color:#1c6dd0}\
input[type=text]{font-size:1.2rem;padding:.4rem;width:100%;box-sizing:border-box}\
.note{color:#666;font-size:.85rem}\
.notice{background:#fff3cd;border:1px solid #e0c36a;padding:.6rem;border-radius:4px;margin-top:0}";

/// A whole page: `title` is text (escaped here), `body` is markup the caller built with [`escape`].
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>\n",
        escape(title)
    )
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;"
        );
    }

    #[test]
    fn a_page_escapes_its_title_and_loads_nothing_from_elsewhere() {
        let page = page("<t>", "<p>body</p>");
        assert!(page.contains("<title>&lt;t&gt;</title>") && page.contains("<main><p>body</p></main>"));
        assert!(!page.contains("http") && !page.contains("src="), "{page}");
    }
}
