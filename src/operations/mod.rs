//! The sipgate REST API as data: every operation of sipgate's published description (method, path
//! template, parameters, accepted scopes, request and response schemas, examples), looked up by method
//! and path.
//!
//! The table is `operations.json`, generated from `swagger.json` by `tools/operations.py` and embedded
//! in the binary; it is parsed once, on first use, and never changes afterwards. It holds data only:
//! the one-line scope meanings shown to users are written here, not copied from sipgate. Paths are
//! relative to the API base (`/account`, `/{userId}/sms`), which is `https://api.sipgate.com/v2`.
//! Lookups allocate nothing but the list of path parameters they return.
//!
//! In files: `table` (the operations as data, and the loader that reads them once), `paths` (which
//! operation a method and path name), `scopes` (the scope names and what each allows, in words), `schema`
//! (building a value that fits a schema). Each imports only those before it.

mod paths;
mod schema;
mod scopes;
mod table;

pub use paths::{find, relative_path, suggest};
pub use schema::{example, example_with};
pub use scopes::{closest_scope, is_known_scope, scopes};
pub use table::{Location, Lookup, Operation, Param, Response, definition, definition_names, operations, resolve};

#[cfg(test)]
mod tests {
    use super::scopes::meaning;
    use super::*;

    #[test]
    fn paths_are_looked_up_relative_to_the_api_base_without_query() {
        const BASE: &str = "https://api.sipgate.com/v2";
        assert_eq!(relative_path(BASE, "/history?limit=5"), Some("/history"));
        assert_eq!(relative_path(BASE, "https://api.sipgate.com/v2/account"), Some("/account"));
        assert_eq!(relative_path(BASE, "https://api.sipgate.com/v2"), Some("/"));
        assert_eq!(relative_path(BASE, "account"), Some("account"));
        assert_eq!(relative_path(BASE, "https://elsewhere.example/v2/account"), None);
    }

    #[test]
    fn table_has_every_operation_of_the_spec() {
        assert_eq!(operations().len(), 179);
        assert_eq!(operations().iter().filter(|op| op.method == "GET").count(), 73);
        assert!(is_known_scope("history:read"));
        assert!(!is_known_scope("history:reed"));
    }

    #[test]
    fn literal_segments_win_over_variables() {
        let Lookup::Found { op, params } = find("POST", "/numbers/quickdial") else { panic!("not found") };
        assert_eq!(op.path, "/numbers/quickdial");
        assert!(params.is_empty());
        let Lookup::Found { op, params } = find("GET", "/w0/sms") else { panic!("not found") };
        assert_eq!(op.path, "/{userId}/sms");
        assert_eq!(params, [("userId", "w0")]);
        let Lookup::Found { op, .. } = find("GET", "/") else { panic!("not found") };
        assert_eq!(op.id, "getUrls");
    }

    #[test]
    fn known_path_with_another_method_lists_the_allowed_ones() {
        let Lookup::WrongMethod { allowed } = find("PATCH", "/history") else { panic!("not a wrong method") };
        assert_eq!(allowed, ["GET", "PUT", "DELETE"]);
        assert!(matches!(find("GET", "/nothing/here"), Lookup::Unknown));
        assert!(matches!(find("GET", "/w0//sms"), Lookup::Unknown));
    }

    #[test]
    fn scope_checks_accept_any_listed_scope_or_all() {
        let Lookup::Found { op, .. } = find("POST", "/sessions/sms") else { panic!("not found") };
        assert!(op.accepts("openid sessions:sms:write"));
        assert!(op.accepts("all"));
        assert!(!op.accepts("sms:write history:read"));
        assert_eq!(op.narrow_scopes().collect::<Vec<_>>(), ["sessions:write", "sessions:sms:write"]);
        let Lookup::Found { op, .. } = find("GET", "/authorization/userinfo") else { panic!("not found") };
        assert!(op.accepts(""));
    }

    #[test]
    fn all_does_not_open_the_internal_operations() {
        let internal: Vec<String> = operations()
            .iter()
            .filter(|op| !op.accepts("all") && !op.scopes.is_empty())
            .map(|op| format!("{} {}", op.method, op.path))
            .collect();
        let expected = ["GET /restrictions", "GET /app/events", "DELETE /app/events/{id}", "GET /app/tacs"];
        assert_eq!(internal[..4], expected);
        assert_eq!(internal[4..], ["GET /app/users", "GET /identityVerification"]);
        let Lookup::Found { op, .. } = find("GET", "/app/tacs") else { panic!("not found") };
        assert!(op.accepts("internal"));
        assert_eq!(op.accepted_scopes().collect::<Vec<_>>(), ["internal"]);
        let Lookup::Found { op, .. } = find("GET", "/app/properties") else { panic!("not found") };
        assert!(op.accepts("all"), "listed with `all` too");
        assert_eq!(op.accepted_scopes().collect::<Vec<_>>(), ["internal", "all"]);
    }

    #[test]
    fn paged_lists_are_those_with_offset_limit_and_total_count() {
        let paged = |path| match find("GET", path) {
            Lookup::Found { op, .. } => op.is_paged(),
            _ => panic!("{path} not found"),
        };
        assert!(paged("/history"));
        assert!(paged("/contacts"));
        assert!(!paged("/account"));
    }

    #[test]
    fn suggestions_fix_a_doubled_prefix_and_typos() {
        assert_eq!(suggest("/v2/v2/account"), Some("/account"));
        assert_eq!(suggest("/v2/history"), Some("/history"));
        assert_eq!(suggest("/acount"), Some("/account"));
        assert_eq!(suggest("/w0/smss"), Some("/{userId}/sms"));
        assert_eq!(suggest("/account"), None, "a known path needs no suggestion");
        assert_eq!(suggest("/completely/different/thing"), None);
    }

    #[test]
    fn closest_scope_forgives_typos_and_other_separators() {
        assert_eq!(closest_scope("acount:read"), Some("account:read"));
        assert_eq!(closest_scope("history.read"), Some("history:read"));
        assert_eq!(closest_scope("read:contacts"), Some("contacts:read"));
        assert_eq!(closest_scope("account:read"), None);
        assert_eq!(closest_scope("pizza"), None);
    }

    #[test]
    fn every_scope_has_a_meaning_in_plain_words() {
        let all: Vec<(&str, String)> = scopes().collect();
        assert!(all.len() > 100);
        for (name, meaning) in &all {
            assert!(!meaning.contains(':') && !meaning.contains('_'), "{name}: {meaning}");
            assert!(meaning.split(' ').count() >= 2, "{name}: {meaning}");
        }
        assert_eq!(meaning("history:read"), "see your call, SMS and fax history");
        assert_eq!(meaning("devices:callerid:write"), "change the caller ID of your devices");
    }

    /// (That every example fits its schema is tested where schemas are checked: `mock::validate`.)
    #[test]
    fn examples_start_from_the_spec() {
        let Lookup::Found { op, .. } = find("POST", "/sessions/sms") else { panic!("not found") };
        let body = example(op.body.as_ref().unwrap());
        assert_eq!(body["smsId"], "s0", "the spec's own example");
    }
}

#[cfg(test)]
mod generated {
    use std::path::Path;
    use std::process::Command;

    /// The committed table is what `tools/operations.py` makes of `swagger.json` today. Skipped (and
    /// says so) where python3 or the spec (`../shared/sipgate-api/swagger.json`) is missing.
    #[test]
    fn committed_table_matches_the_generator() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let swagger = root.join("../shared/sipgate-api/swagger.json");
        if !swagger.is_file() {
            eprintln!("skipped: {} not found", swagger.display());
            return;
        }
        let output =
            match Command::new("python3").arg(root.join("tools/operations.py")).arg("--check").arg(&swagger).output() {
                Ok(output) => output,
                Err(error) => {
                    eprintln!("skipped: python3 does not run ({error})");
                    return;
                }
            };
        assert!(
            output.status.success(),
            "src/operations.json is out of date: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
