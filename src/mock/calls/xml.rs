//! A small XML reader for the answers of a sipgate.io app: elements, attributes, text, character and
//! entity references, comments, CDATA and processing instructions. Enough for `<Response>` documents and
//! nothing more: no DTD (a `<!DOCTYPE` is refused, so no entity can expand), no namespaces (a prefix is part
//! of the name).
//!
//! Promises: it never panics, recursion is bounded ([`MAX_DEPTH`]), and so is the number of elements
//! ([`MAX_ELEMENTS`]); every error names what was wrong and where (byte offset).

/// How deep elements may nest.
pub(crate) const MAX_DEPTH: usize = 16;

/// How many elements a document may hold.
pub(crate) const MAX_ELEMENTS: usize = 512;

/// One element: its name, attributes in document order, child elements and the text directly inside it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Element {
    /// The element name, e.g. `Response`.
    pub name: String,
    /// The attributes, unescaped, in document order.
    pub attributes: Vec<(String, String)>,
    /// The child elements, in document order.
    pub children: Vec<Element>,
    /// The text content directly inside the element (children's text not included), unescaped.
    pub text: String,
}

impl Element {
    /// The value of attribute `name`, if present.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_str())
    }
}

/// The text of a document whose bytes came over the wire: UTF-8, or ISO-8859-1 when the XML declaration
/// says so. A byte-order mark is dropped.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let latin1 = head.starts_with("<?xml")
        && head.split("?>").next().is_some_and(|decl| decl.contains("iso-8859-1") || decl.contains("latin1"));
    if latin1 {
        return Ok(bytes.iter().map(|&b| char::from(b)).collect());
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|e| format!("the document is not UTF-8 (byte {})", e.utf8_error().valid_up_to()))
}

/// Parses a whole document into its root element.
pub(crate) fn parse(input: &str) -> Result<Element, String> {
    let mut reader = Reader { text: input, at: 0, elements: 0 };
    reader.at = usize::from(input.starts_with('\u{feff}')) * '\u{feff}'.len_utf8();
    reader.misc()?;
    if !reader.rest().starts_with('<') {
        return Err(reader.error("no root element"));
    }
    let root = reader.element(0)?;
    reader.misc()?;
    if !reader.rest().is_empty() {
        return Err(reader.error("content after the root element"));
    }
    Ok(root)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
    elements: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        self.text.get(self.at..).unwrap_or_default()
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    /// Skips past `end`, or fails with `what`.
    fn skip_past(&mut self, end: &str, what: &str) -> Result<(), String> {
        match self.rest().find(end) {
            Some(index) => {
                self.at += index + end.len();
                Ok(())
            }
            None => Err(self.error(what)),
        }
    }

    /// Whitespace, comments and processing instructions (the XML declaration among them).
    fn misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with("<!--") {
                self.skip_past("-->", "an unclosed comment")?;
            } else if rest.starts_with("<?") {
                self.skip_past("?>", "an unclosed processing instruction")?;
            } else if rest.starts_with("<!") {
                return Err(self.error("a DOCTYPE or other declaration (not allowed)"));
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let length = rest
            .char_indices()
            .find(|&(i, c)| {
                let allowed = c.is_alphanumeric() || matches!(c, '_' | ':') || (i > 0 && matches!(c, '-' | '.'));
                !allowed || (i == 0 && c.is_numeric())
            })
            .map_or(rest.len(), |(i, _)| i);
        if length == 0 {
            return Err(self.error("a name was expected"));
        }
        let name = rest[..length].to_owned();
        self.at += length;
        Ok(name)
    }

    /// An element starting at `<`.
    fn element(&mut self, depth: usize) -> Result<Element, String> {
        if depth >= MAX_DEPTH {
            return Err(self.error("elements nested too deeply"));
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(self.error("too many elements"));
        }
        self.at += 1;
        let mut element = Element { name: self.name()?, ..Element::default() };
        loop {
            let before = self.at;
            self.skip_space();
            let rest = self.rest();
            if let Some(after) = rest.strip_prefix("/>") {
                self.at = self.text.len() - after.len();
                return Ok(element);
            }
            if rest.starts_with('>') {
                self.at += 1;
                break;
            }
            if self.at == before {
                return Err(self.error("a space, `>` or `/>` was expected"));
            }
            let name = self.name()?;
            self.skip_space();
            if !self.rest().starts_with('=') {
                return Err(self.error("`=` was expected after an attribute name"));
            }
            self.at += 1;
            self.skip_space();
            let value = self.quoted()?;
            if element.attribute(&name).is_some() {
                return Err(self.error(&format!("attribute {name} given twice")));
            }
            element.attributes.push((name, value));
        }
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(self.error(&format!("<{}> is not closed", element.name)));
            }
            if let Some(after) = rest.strip_prefix("</") {
                self.at = self.text.len() - after.len();
                let name = self.name()?;
                self.skip_space();
                if name != element.name || !self.rest().starts_with('>') {
                    return Err(self.error(&format!("</{name}> does not close <{}>", element.name)));
                }
                self.at += 1;
                return Ok(element);
            }
            if rest.starts_with("<!--") {
                self.skip_past("-->", "an unclosed comment")?;
            } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let Some(end) = after.find("]]>") else { return Err(self.error("an unclosed CDATA section")) };
                element.text.push_str(&after[..end]);
                self.at = self.text.len() - after.len() + end + 3;
            } else if rest.starts_with("<?") {
                self.skip_past("?>", "an unclosed processing instruction")?;
            } else if rest.starts_with("<!") {
                return Err(self.error("a declaration inside an element"));
            } else if rest.starts_with('<') {
                let child = self.element(depth + 1)?;
                element.children.push(child);
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let raw = &rest[..end];
                let text = unescape(raw).map_err(|what| self.error(&what))?;
                element.text.push_str(&text);
                self.at += end;
            }
        }
    }

    fn quoted(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let quote = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => quote,
            _ => return Err(self.error("a quoted attribute value was expected")),
        };
        let Some(end) = rest[1..].find(quote) else { return Err(self.error("an unclosed attribute value")) };
        let raw = &rest[1..=end];
        if raw.contains('<') {
            return Err(self.error("`<` in an attribute value"));
        }
        let value = unescape(raw).map_err(|what| self.error(&what))?;
        self.at += end + 2;
        Ok(value)
    }
}

/// Replaces the five predefined entities and character references.
fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find(';').filter(|&end| end <= 10) else {
            return Err("a `&` that starts no reference".to_owned());
        };
        let name = &after[..end];
        let replaced = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = name.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).ok_or_else(|| format!("an unknown reference &{name};"))?
            }
        };
        out.push(replaced);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_with_children_attributes_and_text() {
        let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi -->\n<Response onAnswer='http://a/?x=1&amp;y=2'>\n\
                   <Dial callerId=\"492111234567\"><Number>4915799912345</Number><Number><![CDATA[49211]]>&#x31;&#50;</Number></Dial>\n\
                   <Hangup/></Response>\n";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Response");
        assert_eq!(root.attribute("onAnswer"), Some("http://a/?x=1&y=2"));
        assert_eq!(root.children.len(), 2);
        let dial = &root.children[0];
        assert_eq!(dial.children[1].text, "4921112");
        assert_eq!(root.children[1].name, "Hangup");
    }

    #[test]
    fn broken_documents_are_errors_that_say_where() {
        for (doc, what) in [
            ("", "no root element"),
            ("<Response>", "not closed"),
            ("<Response></Respons>", "does not close"),
            ("<Response a=1/>", "quoted"),
            ("<Response a='1' a='2'/>", "twice"),
            ("<Response/><Response/>", "after the root"),
            ("<!DOCTYPE x [<!ENTITY a 'b'>]><Response/>", "DOCTYPE"),
            ("<Response>&bogus;</Response>", "unknown reference"),
            ("<Response>a & b</Response>", "starts no reference"),
            ("<Response a='<'/>", "`<`"),
            ("<1a/>", "name"),
            ("<Response><!-- x</Response>", "comment"),
        ] {
            let error = parse(doc).unwrap_err();
            assert!(error.contains(what), "{doc}: {error}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().contains("deeply"));
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert!(parse(&wide).unwrap_err().contains("too many"));
    }

    #[test]
    fn latin1_is_read_when_declared_and_bad_utf8_is_an_error() {
        let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><Response a='\xe4'/>";
        assert_eq!(parse(&decode(latin1).unwrap()).unwrap().attribute("a"), Some("ä"));
        assert!(decode(b"<Response a='\xe4'/>").unwrap_err().contains("not UTF-8"));
    }

    #[test]
    fn never_panics_on_cut_or_mangled_documents() {
        let doc = "<?xml version=\"1.0\"?><Response onHangup=\"http://x/\"><Gather maxDigits=\"3\" timeout=\"10\"><Play><Url>http://x/a.wav</Url></Play></Gather><!-- c --><![CDATA[z]]>&lt;&#233;</Response>";
        for end in 0..=doc.len() {
            if let Some(cut) = doc.get(..end) {
                let _ = parse(cut);
            }
        }
        let bytes = doc.as_bytes();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..5000 {
            let mut mangled = bytes.to_vec();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = usize::try_from(seed % mangled.len() as u64).unwrap();
                mangled[at] = b"<>/='\"&;!?[]- a"[usize::try_from((seed >> 32) % 15).unwrap()];
            }
            if let Ok(text) = decode(&mangled) {
                let _ = parse(&text);
            }
        }
    }

    /// A document of the element tree, attributes and text escaped.
    fn write(element: &Element) -> String {
        let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
        let mut out = format!("<{}", element.name);
        for (name, value) in &element.attributes {
            out.push_str(&format!(" {name}=\"{}\"", escape(value)));
        }
        out.push('>');
        out.push_str(&escape(&element.text));
        for child in &element.children {
            out.push_str(&write(child));
        }
        out.push_str(&format!("</{}>", element.name));
        out
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Element> {
        use proptest::prelude::*;
        let name = "[A-Za-z_][A-Za-z0-9._-]{0,8}";
        let leaf = (name, proptest::collection::vec((name, "[^\\x00]{0,12}"), 0..3), "[^<\\x00]{0,12}").prop_map(
            |(name, mut attributes, text)| {
                attributes.sort();
                attributes.dedup_by(|a, b| a.0 == b.0);
                Element { name, attributes, children: Vec::new(), text }
            },
        );
        leaf.prop_recursive(4, 24, 4, |inner| {
            (inner.clone(), proptest::collection::vec(inner, 0..4)).prop_map(|(mut parent, children)| {
                parent.children = children;
                parent
            })
        })
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_or_refused_never_a_panic(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn written_trees_read_back_the_same(root in tree()) {
            // Text is kept as one string per element, so the tree round-trips when the text comes first.
            let read = parse(&write(&root)).unwrap();
            proptest::prop_assert_eq!(read, root);
        }
    }
}
