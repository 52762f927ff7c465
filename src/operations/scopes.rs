//! sipgate's scopes: the names (`scopes.txt`, generated with the table and read without parsing it, so
//! that checking `OAUTH_SCOPE` on every run costs nothing), the closest to a mistyped one, and what each
//! allows, in our words.

use super::paths::edit_distance;

/// sipgate's scopes, one a line, generated with the table: read without parsing it, so that checking
/// `OAUTH_SCOPE` on every run costs nothing.
const SCOPES: &str = include_str!("../scopes.txt");

/// sipgate's scopes, in the order of its API description.
fn scope_names() -> impl Iterator<Item = &'static str> {
    SCOPES.lines()
}

/// Every scope sipgate knows, with a one-line meaning in our words.
pub fn scopes() -> impl Iterator<Item = (&'static str, String)> {
    scope_names().map(|scope| (scope, meaning(scope)))
}

/// Whether sipgate knows this scope (`openid` included).
pub fn is_known_scope(scope: &str) -> bool {
    scope_names().any(|known| known == scope)
}

/// The known scope closest to a mistyped `word` (`acount:read`, `account.read`, `read:account`), if
/// one is close enough to be what was meant.
pub fn closest_scope(word: &str) -> Option<&'static str> {
    let normal: String =
        word.trim().to_ascii_lowercase().chars().map(|c| if c == '.' || c == '-' { ':' } else { c }).collect();
    let flipped: String = normal.rsplit(':').collect::<Vec<_>>().join(":");
    let mut best: Option<(usize, &'static str)> = None;
    for scope in scope_names() {
        let distance = edit_distance(scope, &normal).min(edit_distance(scope, &flipped));
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, scope));
        }
    }
    let (distance, scope) = best?;
    (distance <= (normal.len() / 4).clamp(1, 3) && scope != word).then_some(scope)
}

/// What a scope allows, in our words, built from the parts of its name.
pub(super) fn meaning(scope: &str) -> String {
    match scope {
        "all" => return "everything the account may do (includes every other scope)".to_owned(),
        "openid" => return "confirm who you are when signing in (OpenID Connect)".to_owned(),
        "internal" => return "operations sipgate uses internally".to_owned(),
        "sessions:write" => return "start calls and send SMS and faxes".to_owned(),
        "sessions:calls:write" => return "start calls".to_owned(),
        "sessions:sms:write" => return "send SMS".to_owned(),
        "sessions:fax:write" => return "send faxes".to_owned(),
        "push_device:register" => return "register a device for push notifications".to_owned(),
        _ => {}
    }
    let parts: Vec<&str> = scope.split(':').collect();
    let (verb, nouns) = match parts.split_last() {
        Some((&"read", nouns)) => ("see", nouns),
        Some((&"write", nouns)) => ("change", nouns),
        Some((&"register", nouns)) => ("register", nouns),
        _ => ("use", parts.as_slice()),
    };
    match nouns {
        [] => format!("{verb} {}", noun(scope)),
        [owner] => format!("{verb} your {}", noun(owner)),
        [owner, rest @ ..] => {
            let narrowed: Vec<&str> = rest.iter().map(|part| noun(part)).collect();
            format!("{verb} the {} of your {}", narrowed.join(" "), noun(owner))
        }
    }
}

/// A scope name's part as a noun phrase.
fn noun(part: &str) -> &str {
    match part {
        "account" => "account details",
        "addresses" => "addresses",
        "authorization" => "sign-in settings",
        "autorecording" => "automatic call recording",
        "balance" => "credit balance",
        "blacklist" => "blocked numbers",
        "blockanonymous" => "anonymous call blocking",
        "busyonbusy" => "busy-on-busy setting",
        "callerid" => "caller ID",
        "callrestrictions" => "call restrictions",
        "calls" => "calls",
        "clients" => "clients",
        "conferencerooms" => "conference rooms",
        "contacts" => "contacts",
        "contingents" => "contingents",
        "contracts" => "contracts",
        "crm" => "CRM data",
        "defaultdevice" => "default device",
        "devices" => "devices",
        "events" => "events",
        "fax" => "fax",
        "faxlines" => "fax lines",
        "forwardings" => "call forwardings",
        "fqdn" => "domain name",
        "greeting" | "greetings" => "greetings",
        "groups" => "groups",
        "history" => "call, SMS and fax history",
        "ivrs" => "voice menus",
        "labels" => "labels",
        "localprefix" => "local area code",
        "log" => "log",
        "methods" => "methods",
        "microsoftteams" => "Microsoft Teams link",
        "notifications" => "notifications",
        "numbers" => "phone numbers",
        "oauth" => "OAuth",
        "oauth2" => "OAuth 2.0",
        "orders" => "orders",
        "parallelforwardings" => "parallel call forwardings",
        "payment" => "payment details",
        "phonelines" => "phone lines",
        "phones" => "phones",
        "portings" => "number portings",
        "products" => "products",
        "role" => "role",
        "rtcm" => "real-time call control",
        "sessions" => "calls, SMS and faxes",
        "settings" => "settings",
        "sim" | "sims" => "SIM cards",
        "singlerowdisplay" => "single-row display",
        "sipgateio" => "sipgate.io",
        "sms" => "SMS",
        "tacs" => "terms and conditions",
        "tariffannouncement" => "tariff announcement",
        "trunk" => "SIP trunk",
        "users" => "users",
        "voicemails" => "voicemail",
        "webhooks" => "webhooks",
        other => other,
    }
}
