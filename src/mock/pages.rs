//! The HTML the stand-in shows a browser: the sign-in (consent) page, Keycloak's error page, and the
//! device verification pages (type the code, then the result). All are self-contained (inline CSS, no external resource) and every echoed value is escaped.

use crate::html::{escape, page as document};

/// What Allow leads to, said on the sign-in page.
pub(super) enum After<'a> {
    /// The browser is sent to this redirect URI with a code.
    Redirect(&'a str),
    /// The device showing this user code is signed in.
    Device(&'a str),
}

/// The sign-in page: a visible "stand-in, not sipgate" notice first, then who asks for which scopes (each
/// with what it allows), where Allow leads, and Allow / Deny buttons that post `hidden` back to `action`
/// with `decision=allow|deny`.
pub(super) fn sign_in(client_id: &str, scopes: &[&str], after: After, action: &str, hidden: &[(&str, &str)]) -> String {
    let mut body = String::from(
        "<p class=\"notice\" role=\"note\">Local sipgate <strong>stand-in</strong> for tests — not sipgate. \
         Nothing leaves this machine; you sign in as the test user <code>w0</code>.</p>\
         <h1>Sign in to sipgate (stand-in)</h1>",
    );
    body.push_str(&format!("<p>The application <code>{}</code> asks to access your account with ", escape(client_id)));
    if scopes.is_empty() {
        body.push_str("no scopes.</p>");
    } else {
        body.push_str("these scopes:</p><ul class=\"scopes\">");
        for scope in scopes {
            let meaning = crate::operations::scopes().find(|(name, _)| name == scope).map(|(_, meaning)| meaning);
            let meaning = meaning.unwrap_or_else(|| "a scope of OpenID Connect".to_owned());
            body.push_str(&format!("<li><code>{}</code>: {}</li>", escape(scope), escape(&meaning)));
        }
        body.push_str("</ul>");
    }
    body.push_str(&match after {
        After::Redirect(uri) => {
            format!("<p class=\"after\">Allow sends your browser back to <code>{}</code>.</p>", escape(uri))
        }
        After::Device(code) => format!(
            "<p class=\"after\">Allow signs in the device that shows the code <code class=\"user-code\">{}</code>.</p>",
            escape(code)
        ),
    });
    body.push_str(&format!("<form method=\"post\" action=\"{}\">", escape(action)));
    for (name, value) in hidden {
        body.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value)));
    }
    body.push_str(
        "<div class=\"buttons\"><button class=\"allow\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div></form>",
    );
    document("Sign in to sipgate (stand-in)", &body)
}

/// Keycloak's error page: "We are sorry…" and the message, and no way on.
pub(super) fn error(message: &str) -> String {
    let body = format!(
        "<h1>We are sorry...</h1><p id=\"kc-error-message\">{}</p>\
         <p class=\"note\">sipgate stand-in: the authorization request was rejected before any redirect.</p>",
        escape(message)
    );
    document("sipgate stand-in: error", &body)
}

/// The device verification page (RFC 8628 §3.3): a form to type the user code, sent with `GET` to
/// `action`; `problem` is said above it (e.g. an unknown code).
pub(super) fn device_form(action: &str, problem: Option<&str>) -> String {
    let mut body = String::from("<h1>sipgate stand-in: sign in a device</h1>");
    if let Some(problem) = problem {
        body.push_str(&format!("<p id=\"kc-error-message\">{}</p>", escape(problem)));
    }
    body.push_str(&format!(
        "<p>Enter the code your device shows.</p><form method=\"get\" action=\"{}\">\
         <input name=\"user_code\" autocomplete=\"off\" autofocus placeholder=\"ABCD-EFGH\">\
         <div class=\"buttons\"><button class=\"allow\" type=\"submit\">Submit</button></div></form>",
        escape(action)
    ));
    document("Sign in a device (stand-in)", &body)
}

/// The end of the device verification: the device is signed in, or it was denied.
pub(super) fn device_done(approved: bool) -> String {
    let body = if approved {
        "<h1>Device signed in</h1><p>You may close this page and return to your device.</p>"
    } else {
        "<h1>Access denied</h1><p>The device was not signed in. You may close this page.</p>"
    };
    document("Sign in a device (stand-in)", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_page_says_stand_in_first_and_what_each_scope_allows_and_where_allow_leads() {
        let page = sign_in("demo", &["account:read", "openid"], After::Redirect("http://127.0.0.1:5/oauth"), "/a", &[]);
        let notice = page.find("not sipgate").unwrap();
        assert!(notice < page.find("<h1>").unwrap(), "{page}");
        assert!(page.contains("<code>account:read</code>: "), "{page}");
        assert!(page.contains("back to <code>http://127.0.0.1:5/oauth</code>"), "{page}");
        let page = sign_in("demo", &[], After::Device("BCDF-GHJK"), "/d", &[]);
        assert!(page.contains("<code class=\"user-code\">BCDF-GHJK</code>"), "{page}");
    }

    #[test]
    fn sign_in_page_escapes_every_echoed_value() {
        let page = sign_in("<c>", &["<s>"], After::Redirect("<r>"), "/a?\"", &[("state", "\"><script>")]);
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<c>") && !page.contains("<s>") && !page.contains("<r>"));
        assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;\""));
        assert!(!page.contains("http"), "no external resource");
    }

    #[test]
    fn device_form_escapes_the_problem_and_the_action() {
        let page = device_form("/d?\"<x>", Some("<script>alert(1)</script>"));
        assert!(!page.contains("<script>") && !page.contains("<x>"), "{page}");
        assert!(page.contains("&lt;script&gt;") && page.contains("name=\"user_code\""), "{page}");
        assert!(!page.contains("http"), "no external resource");
    }
}
