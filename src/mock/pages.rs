//! The HTML the stand-in shows a browser: the sign-in (consent) page and Keycloak's error page.
//! Both are self-contained (inline CSS, no external resource) and every echoed value is escaped.

use crate::html::{escape, page as document};

/// The sign-in page: who asks for which scopes, and Allow / Deny buttons that post `hidden` back to
/// `action` with `decision=allow|deny`.
pub(super) fn sign_in(client_id: &str, scopes: &[&str], action: &str, hidden: &[(&str, &str)]) -> String {
    let mut body = String::from("<h1>sipgate stand-in: sign in</h1>");
    body.push_str(&format!("<p>The application <code>{}</code> asks to access your account with ", escape(client_id)));
    if scopes.is_empty() {
        body.push_str("no scopes.</p>");
    } else {
        body.push_str("these scopes:</p><ul>");
        for scope in scopes {
            body.push_str(&format!("<li><code>{}</code></li>", escape(scope)));
        }
        body.push_str("</ul>");
    }
    body.push_str(&format!("<form method=\"post\" action=\"{}\">", escape(action)));
    for (name, value) in hidden {
        body.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value)));
    }
    body.push_str(
        "<div class=\"buttons\"><button class=\"allow\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div></form>\
         <p class=\"note\">This is a local test server, not sipgate. You are signed in as test user <code>w0</code>.</p>",
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

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn sign_in_page_escapes_every_echoed_value() {
        let page = sign_in("<c>", &["<s>"], "/a?\"", &[("state", "\"><script>")]);
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<c>") && !page.contains("<s>"));
        assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;\""));
        assert!(!page.contains("http"), "no external resource");
    }
}
