//! What an app's XML answer tells sipgate to do, read the way sipgate reads it (docs/stand-in.md,
//! "Simulated calls"): root `<Response>` with `onAnswer`/`onHangup`, and the actions `Dial`, `Play`,
//! `Gather`, `Reject` and `Hangup`.
//!
//! Anything sipgate would not accept (another root, an unknown element, a value out of range, more than
//! five numbers) makes the whole answer an XML error: the call then goes on as if there had been no
//! answer. Attributes sipgate does not know are ignored with a warning.

use super::xml::Element;

/// How many numbers one `Dial` may ring in parallel.
pub(crate) const MAX_DIAL_NUMBERS: usize = 5;

/// `Gather`'s defaults.
const DEFAULT_MAX_DIGITS: usize = 1;
const DEFAULT_GATHER_TIMEOUT_MS: u64 = 2000;

/// One instruction of a `<Response>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// `<Dial>`: forward to up to five numbers, or to the voicemail.
    Dial {
        /// The `<Number>`s, digits as written; empty for the voicemail.
        numbers: Vec<String>,
        /// `<Voicemail/>`.
        voicemail: bool,
        /// `callerId`: the number shown to the callee.
        caller_id: Option<String>,
        /// `anonymous`: hide the number.
        anonymous: bool,
    },
    /// `<Play><Url>…</Url></Play>`.
    Play {
        /// The sound file.
        url: String,
    },
    /// `<Gather>`: collect keypad digits, push them to `on_data`.
    Gather {
        /// `onData`.
        on_data: String,
        /// `maxDigits` (1).
        max_digits: usize,
        /// `timeout` in ms (2000).
        timeout_ms: u64,
        /// The URL of a nested `<Play>`.
        play: Option<String>,
    },
    /// `<Reject reason="busy|rejected"/>`.
    Reject {
        /// `reason="busy"`.
        busy: bool,
    },
    /// `<Hangup/>`.
    Hangup,
}

impl Action {
    /// The action in a timeline line.
    pub fn describe(&self) -> String {
        match self {
            Action::Play { url } => format!("Play {url}"),
            Action::Gather { on_data, max_digits, timeout_ms, play } => format!(
                "Gather maxDigits {max_digits}, timeout {timeout_ms} ms{}, onData {on_data}",
                play.as_ref().map(|url| format!(", Play {url}")).unwrap_or_default()
            ),
            Action::Dial { voicemail: true, .. } => "Dial Voicemail".to_owned(),
            Action::Dial { numbers, caller_id, anonymous, .. } => format!(
                "Dial {}{}{}",
                numbers.join(", "),
                caller_id.as_ref().map(|id| format!(" callerId {id}")).unwrap_or_default(),
                if *anonymous { " anonymous" } else { "" }
            ),
            Action::Reject { busy: true } => "Reject busy".to_owned(),
            Action::Reject { busy: false } => "Reject rejected".to_owned(),
            Action::Hangup => "Hangup".to_owned(),
        }
    }
}

/// A read `<Response>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Instructions {
    /// `onAnswer`.
    pub on_answer: Option<String>,
    /// `onHangup`.
    pub on_hangup: Option<String>,
    /// The actions, in document order.
    pub actions: Vec<Action>,
    /// What sipgate ignores without complaint but an app author should know.
    pub warnings: Vec<String>,
}

/// Where the app asked for `answer` and `hangup` pushes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subscriptions {
    /// `onAnswer`.
    pub on_answer: Option<String>,
    /// `onHangup`.
    pub on_hangup: Option<String>,
}

impl Subscriptions {
    /// Takes over the URLs a later answer names; those it leaves out stay.
    pub fn update(&mut self, read: &Instructions) {
        if read.on_answer.is_some() {
            self.on_answer.clone_from(&read.on_answer);
        }
        if read.on_hangup.is_some() {
            self.on_hangup.clone_from(&read.on_hangup);
        }
    }
}

/// Reads a parsed document. `outgoing`: the call was started by a user of the account (one `Dial`
/// number only). `Err` is the XML error text the log shows.
pub(crate) fn read(root: &Element, outgoing: bool) -> Result<Instructions, String> {
    if root.name != "Response" {
        return Err(format!("the root element must be <Response>, not <{}>", root.name));
    }
    let mut read = Instructions::default();
    for (name, value) in &root.attributes {
        match name.as_str() {
            "onAnswer" => read.on_answer = Some(url("Response", name, value)?),
            "onHangup" => read.on_hangup = Some(url("Response", name, value)?),
            _ => read.warnings.push(format!("<Response {name}=…> is not a sipgate attribute; ignored")),
        }
    }
    text_free(root)?;
    for child in &root.children {
        let action = match child.name.as_str() {
            "Dial" => dial(child, outgoing, &mut read.warnings)?,
            "Play" => Action::Play { url: play(child)? },
            "Gather" => gather(child, &mut read.warnings)?,
            "Reject" => reject(child)?,
            "Hangup" => {
                no_children(child)?;
                Action::Hangup
            }
            other => {
                return Err(format!("unknown element <{other}> (sipgate knows Dial, Play, Gather, Reject, Hangup)"));
            }
        };
        read.actions.push(action);
    }
    Ok(read)
}

/// An absolute http(s) URL in attribute `name` of `element`.
fn url(element: &str, name: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    let rest = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !value.contains(char::is_whitespace) => {
            Ok(value.to_owned())
        }
        _ => Err(format!("<{element} {name}> must be an absolute http:// or https:// URL, not {value:?}")),
    }
}

fn text_free(element: &Element) -> Result<(), String> {
    if element.text.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("<{}> holds text, which sipgate does not expect", element.name))
    }
}

fn no_children(element: &Element) -> Result<(), String> {
    text_free(element)?;
    match element.children.first() {
        None => Ok(()),
        Some(child) => Err(format!("<{}> takes no child elements, found <{}>", element.name, child.name)),
    }
}

fn digits(what: &str, text: &str, warnings: &mut Vec<String>) -> Result<String, String> {
    let text = text.trim();
    let bare = text.strip_prefix('+').unwrap_or(text);
    if bare.is_empty() || !bare.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} must be digits in international form (4915799912345), not {text:?}"));
    }
    if bare.len() != text.len() {
        warnings.push(format!("{what} {text}: sipgate documents digits without + (whether + works is unconfirmed)"));
    }
    Ok(bare.to_owned())
}

fn dial(element: &Element, outgoing: bool, warnings: &mut Vec<String>) -> Result<Action, String> {
    let mut caller_id = None;
    let mut anonymous = false;
    for (name, value) in &element.attributes {
        match name.as_str() {
            "callerId" => caller_id = Some(digits("<Dial callerId>", value, warnings)?),
            "anonymous" => {
                anonymous = match value.trim() {
                    "true" => true,
                    "false" => false,
                    other => return Err(format!("<Dial anonymous> must be true or false, not {other:?}")),
                }
            }
            _ => warnings.push(format!("<Dial {name}=…> is not a sipgate attribute; ignored")),
        }
    }
    text_free(element)?;
    let mut numbers = Vec::new();
    let mut voicemail = false;
    for child in &element.children {
        match child.name.as_str() {
            "Number" => {
                if !child.children.is_empty() {
                    return Err("<Number> holds only the number".to_owned());
                }
                numbers.push(digits("<Number>", &child.text, warnings)?);
            }
            "Voicemail" => {
                no_children(child)?;
                voicemail = true;
            }
            other => return Err(format!("<Dial> holds <Number> or <Voicemail/>, not <{other}>")),
        }
    }
    match (numbers.len(), voicemail) {
        (0, false) => return Err("<Dial> needs a <Number> or <Voicemail/>".to_owned()),
        (1.., true) => return Err("<Dial> holds <Number>s or one <Voicemail/>, not both".to_owned()),
        (n, _) if n > MAX_DIAL_NUMBERS => {
            return Err(format!("<Dial> rings at most {MAX_DIAL_NUMBERS} numbers in parallel, not {n}"));
        }
        (2.., _) if outgoing => return Err("only incoming calls may ring several numbers in parallel".to_owned()),
        _ => {}
    }
    if element.children.iter().filter(|c| c.name == "Voicemail").count() > 1 {
        return Err("<Dial> holds one <Voicemail/>".to_owned());
    }
    Ok(Action::Dial { numbers, voicemail, caller_id, anonymous })
}

/// The URL of a `<Play>`.
fn play(element: &Element) -> Result<String, String> {
    if let Some((name, _)) = element.attributes.first() {
        return Err(format!("<Play> takes no attributes, found {name}"));
    }
    text_free(element)?;
    match element.children.as_slice() {
        [only] if only.name == "Url" && only.children.is_empty() => url("Play", "Url", &only.text),
        _ => Err("<Play> holds exactly one <Url>".to_owned()),
    }
}

fn number<T: std::str::FromStr + PartialOrd>(what: &str, value: &str, least: T) -> Result<T, String> {
    match value.trim().parse::<T>() {
        Ok(n) if n >= least => Ok(n),
        _ => Err(format!("{what} must be a whole number ≥ 1, not {value:?}")),
    }
}

fn gather(element: &Element, warnings: &mut Vec<String>) -> Result<Action, String> {
    let mut on_data = None;
    let mut max_digits = DEFAULT_MAX_DIGITS;
    let mut timeout_ms = DEFAULT_GATHER_TIMEOUT_MS;
    for (name, value) in &element.attributes {
        match name.as_str() {
            "onData" => on_data = Some(url("Gather", name, value)?),
            "maxDigits" => max_digits = number("<Gather maxDigits>", value, 1)?,
            // NODE's builder allows 0; sipgate's text says ≥ 1. 0 is taken as "at once".
            "timeout" => timeout_ms = number("<Gather timeout>", value, 0)?,
            "type" if value.trim() == "dtmf" => {}
            "type" => return Err(format!("<Gather type> must be dtmf, not {value:?}")),
            _ => warnings.push(format!("<Gather {name}=…> is not a sipgate attribute; ignored")),
        }
    }
    let on_data = on_data.ok_or("<Gather> needs onData (the URL the digits are pushed to)")?;
    text_free(element)?;
    let play = match element.children.as_slice() {
        [] => None,
        [only] if only.name == "Play" => Some(play(only)?),
        _ => return Err("<Gather> holds at most one <Play>".to_owned()),
    };
    Ok(Action::Gather { on_data, max_digits, timeout_ms, play })
}

fn reject(element: &Element) -> Result<Action, String> {
    no_children(element)?;
    let mut busy = false;
    for (name, value) in &element.attributes {
        match (name.as_str(), value.trim()) {
            ("reason", "busy") => busy = true,
            ("reason", "rejected") => busy = false,
            ("reason", other) => return Err(format!("<Reject reason> must be rejected or busy, not {other:?}")),
            _ => return Err(format!("<Reject> takes only reason, found {name}")),
        }
    }
    Ok(Action::Reject { busy })
}

#[cfg(test)]
mod tests {
    use super::super::xml;
    use super::*;

    fn read_doc(doc: &str, outgoing: bool) -> Result<Instructions, String> {
        read(&xml::parse(doc).unwrap(), outgoing)
    }

    #[test]
    fn every_element_is_read_with_its_defaults() {
        let doc = r#"<Response onAnswer="http://a/answer" onHangup="https://a/h">
            <Play><Url>http://a/x.wav</Url></Play>
            <Gather onData="http://a/d"><Play><Url>http://a/menu.wav</Url></Play></Gather>
            <Gather onData="http://a/d" maxDigits="4" timeout="500" type="dtmf"/>
            <Dial callerId="492111234567" anonymous="true"><Number>4915799912345</Number><Number>+4921100000001</Number></Dial>
            <Dial><Voicemail/></Dial>
            <Reject/><Reject reason="busy"/><Hangup/></Response>"#;
        let read = read_doc(doc, false).unwrap();
        assert_eq!(read.on_answer.as_deref(), Some("http://a/answer"));
        assert_eq!(read.on_hangup.as_deref(), Some("https://a/h"));
        assert_eq!(
            read.actions,
            vec![
                Action::Play { url: "http://a/x.wav".into() },
                Action::Gather {
                    on_data: "http://a/d".into(),
                    max_digits: 1,
                    timeout_ms: 2000,
                    play: Some("http://a/menu.wav".into())
                },
                Action::Gather { on_data: "http://a/d".into(), max_digits: 4, timeout_ms: 500, play: None },
                Action::Dial {
                    numbers: vec!["4915799912345".into(), "4921100000001".into()],
                    voicemail: false,
                    caller_id: Some("492111234567".into()),
                    anonymous: true
                },
                Action::Dial { numbers: vec![], voicemail: true, caller_id: None, anonymous: false },
                Action::Reject { busy: false },
                Action::Reject { busy: true },
                Action::Hangup,
            ]
        );
        assert_eq!(read.warnings.len(), 1, "{:?}", read.warnings);
        assert!(read_doc("<Response/>", false).unwrap().actions.is_empty());
    }

    #[test]
    fn what_sipgate_would_refuse_is_an_error() {
        let six = "<Number>491</Number>".repeat(6);
        for (doc, what) in [
            ("<Answer/>", "root element"),
            ("<Response><Say>hi</Say></Response>", "unknown element <Say>"),
            ("<Response onAnswer='/relative'/>", "absolute"),
            ("<Response><Dial/></Response>", "needs a <Number>"),
            (&format!("<Response><Dial>{six}</Dial></Response>"), "at most 5"),
            ("<Response><Dial><Number>0211-123</Number></Dial></Response>", "digits"),
            ("<Response><Dial anonymous='yes'><Number>49</Number></Dial></Response>", "true or false"),
            ("<Response><Dial><Number>49</Number><Voicemail/></Dial></Response>", "not both"),
            ("<Response><Play/></Response>", "exactly one <Url>"),
            ("<Response><Gather/></Response>", "needs onData"),
            ("<Response><Gather onData='http://a/' maxDigits='0'/></Response>", "maxDigits"),
            ("<Response><Gather onData='http://a/' type='speech'/></Response>", "type"),
            ("<Response><Reject reason='later'/></Response>", "rejected or busy"),
            ("<Response><Hangup><Play/></Hangup></Response>", "no child"),
            ("<Response>text</Response>", "holds text"),
        ] {
            let error = read_doc(doc, false).unwrap_err();
            assert!(error.contains(what), "{doc}: {error}");
        }
        let two = "<Response><Dial><Number>491</Number><Number>492</Number></Dial></Response>";
        assert!(read_doc(two, true).unwrap_err().contains("only incoming"));
        assert!(read_doc(two, false).is_ok());
    }
}
