//! The commands that know sipgate's operations: `api` (with `{userId}` filled in, a warning for a path
//! or method that the operation table does not know, headers, a body from `--data`, `--input` or
//! fields, `--include` and `--paginate`), `api --list` and `scopes`.
//!
//! Results go to `out`, warnings to `err`. An operation the table does not know is still sent: the
//! table may be older than sipgate. An answer that is not 2xx is printed like any other, then reported
//! as the error it is (exit 1), so a script sees both sipgate's body and the failure.

use std::io::{Read, Write};

use serde_json::{Value, json};
use sipgate_oauth::operations::{self, Lookup, Operation};
use sipgate_oauth::paging::{Pages, Step};
use sipgate_oauth::{ApiRequest, Config, Error, Response, Session};

use super::command::Body;
use super::output::{note, pretty, write_out};

/// The placeholder `api` fills with the signed-in user's id.
const USER_ID: &str = "{userId}";

/// Items asked for per page by `--paginate` when the path sets no `limit` (less where sipgate allows less).
const PAGE_SIZE: u64 = 100;

/// `api [METHOD] PATH`: fills `{userId}`, warns about a path or method the table does not know, and
/// sends the call; with `include`, the status line and headers come before the body; with `paginate`,
/// follows the pages of a list and prints all items as one JSON array.
pub fn api(
    session: &Session,
    config: &Config,
    mut request: ApiRequest,
    (include, paginate): (bool, bool),
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    request.path = fill_user_id(session, &request.path)?;
    let (method, path) = (request.method.as_str(), request.path.as_str());
    let Some(relative) = operations::relative_path(&config.api_base, path) else {
        return match paginate {
            true => print_items(all_pages(session, &request, None)?, out),
            false => show(session, &request, include, out),
        };
    };
    let op = match operations::find(method, relative) {
        Lookup::Found { op, .. } => Some(op),
        Lookup::WrongMethod { allowed } => {
            note(
                err,
                &format!(
                    "warning: sipgate's API takes {} on {relative}, not {method}; sending it all the same",
                    allowed.join(", ")
                ),
            );
            None
        }
        Lookup::Unknown => {
            note(err, &unknown_path_warning(&config.api_base, relative));
            None
        }
    };
    if !paginate {
        return show(session, &request, include, out);
    }
    if let Some(op) = op.filter(|op| !op.is_paged()) {
        return Err(Error::Usage(format!(
            "--paginate follows the pages of a list (offset, limit, totalCount), and {} {} is not one — \
             `sipgate-oauth api --list` marks the lists as paged",
            op.method, op.path
        )));
    }
    print_items(all_pages(session, &request, op)?, out)
}

/// Sends `request` and prints the answer, whatever its status (with `include`, the status line and
/// headers first, as `curl -i` does); an answer that is not 2xx is then the error it stands for.
fn show(session: &Session, request: &ApiRequest, include: bool, out: &mut dyn Write) -> Result<(), Error> {
    let answer = session.send(request)?;
    let mut text = String::new();
    if include {
        text.push_str(&answer.status_line);
        text.push('\n');
        for (name, value) in &answer.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push('\n');
    }
    if !answer.response.body.is_empty() {
        text.push_str(&pretty(&answer.response.body));
        text.push('\n');
    }
    write_out(out, &text)?;
    answer.error.map_or(Ok(()), Err)
}

/// The bytes of `api`'s body: `--data` as given or from `@FILE`, `--input` from a file or `-` (`stdin`),
/// fields as one JSON object.
pub fn read_body(body: Body, stdin: &mut dyn Read) -> Result<Vec<u8>, Error> {
    match body {
        Body::Data(data) => match data.strip_prefix('@') {
            Some(path) => std::fs::read(path).map_err(|e| Error::Usage(format!("--data @{path}: {e}"))),
            None => Ok(data.into_bytes()),
        },
        Body::Input(path) if path.as_os_str() == "-" => {
            let mut bytes = Vec::new();
            stdin.read_to_end(&mut bytes).map_err(|e| Error::Usage(format!("--input -: cannot read stdin: {e}")))?;
            Ok(bytes)
        }
        Body::Input(path) => std::fs::read(&path).map_err(|e| Error::Usage(format!("--input {}: {e}", path.display()))),
        Body::Fields(fields) => Ok(Value::Object(fields).to_string().into_bytes()),
    }
}

/// The items of all pages as one pretty JSON array; then why the pages stopped early, if they did.
fn print_items((items, stopped): (Vec<Value>, Option<Error>), out: &mut dyn Write) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(&Value::Array(items)).unwrap_or_else(|_| "[]".to_owned());
    write_out(out, &format!("{text}\n"))?;
    stopped.map_or(Ok(()), Err)
}

/// `path` with `{userId}` replaced by the signed-in user's id (asked once per sign-in, kept with the
/// tokens). Any other placeholder left is a usage error: it has no value.
fn fill_user_id(session: &Session, path: &str) -> Result<String, Error> {
    let mut path = path.to_owned();
    if path.contains(USER_ID) {
        path = path.replace(USER_ID, &session.user_id()?);
    }
    let template = path.split('?').next().unwrap_or_default();
    if let Some(start) = template.find('{') {
        let name = template[start..].split_inclusive('}').next().unwrap_or_default();
        return Err(Error::Usage(format!(
            "the path still has {name} — write its value in its place (only {USER_ID} is filled in)"
        )));
    }
    Ok(path)
}

/// The warning for a path that no operation has: a doubled `/v2`, a close known path, or neither.
fn unknown_path_warning(base: &str, relative: &str) -> String {
    let relative = if relative.starts_with('/') { relative.to_owned() } else { format!("/{relative}") };
    let sent_anyway = "sending it all the same (the table may be older than sipgate)";
    let doubled = relative == "/v2" || relative.starts_with("/v2/");
    match operations::suggest(&relative) {
        Some(known) if doubled => format!(
            "warning: paths are relative to the API base {base}, which has /v2 already, so {relative} \
             becomes …/v2{relative} — did you mean {known}? {sent_anyway}"
        ),
        Some(known) => format!("warning: sipgate's API has no {relative} — did you mean {known}? {sent_anyway}"),
        None => format!(
            "warning: {relative} is not in sipgate's API (`sipgate-oauth api --list` shows what is); {sent_anyway}"
        ),
    }
}

/// Every item of a paged list: `GET path` with `offset` and `limit` until `totalCount` items came (or a
/// page came empty). The path's own `offset` and `limit` are where to start and the page size. A list
/// that does not advance or has no end ([`paging`]) stops early: the items so far, and why.
fn all_pages(
    session: &Session,
    request: &ApiRequest,
    op: Option<&Operation>,
) -> Result<(Vec<Value>, Option<Error>), Error> {
    let path = request.path.as_str();
    let (bare, query) = path.split_once('?').unwrap_or((path, ""));
    let mut kept = Vec::new();
    let (mut offset, mut limit) = (0, None);
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number =
            || value.parse::<u64>().map_err(|_| Error::Usage(format!("--paginate needs {key} to be a whole number")));
        match key {
            "offset" => offset = number()?,
            "limit" => limit = Some(number()?).filter(|&n| n > 0),
            _ => kept.push(pair),
        }
    }
    let most = op.and_then(|op| op.query_param("limit")).and_then(|p| p.schema.get("maximum")).and_then(Value::as_u64);
    let limit = limit.unwrap_or(PAGE_SIZE.min(most.unwrap_or(PAGE_SIZE)));
    let mut items = Vec::new();
    let mut pages = Pages::new(offset);
    loop {
        let mut query = kept.clone();
        let paging = [format!("offset={}", pages.offset()), format!("limit={limit}")];
        query.extend(paging.iter().map(String::as_str));
        let url = format!("{bare}?{}", query.join("&"));
        let response = get(session, request, &url)?;
        let not_a_page = || Error::BadApiAnswer {
            what: format!("GET {url}"),
            reason: "not with a page of a list (`items` and `totalCount`) — call it without --paginate".into(),
        };
        let mut page: Value = serde_json::from_str(&response.body).map_err(|_| not_a_page())?;
        let total = page.get("totalCount").and_then(Value::as_u64).ok_or_else(not_a_page)?;
        let Some(Value::Array(got)) = page.get_mut("items").map(Value::take) else { return Err(not_a_page()) };
        let step = pages.add(response.body.len(), &got, total);
        if !matches!(step, Step::Drop(_)) {
            items.extend(got);
        }
        match step {
            Step::Next => {}
            Step::Done => return Ok((items, None)),
            Step::Stop(reason) | Step::Drop(reason) => {
                let reason = format!("--paginate stopped: {reason} ({} items so far are printed)", items.len());
                return Ok((items, Some(Error::BadApiAnswer { what: format!("GET {url}"), reason })));
            }
        }
    }
}

/// `GET url` with the headers of `request`; an answer that is not 2xx is an error.
fn get(session: &Session, request: &ApiRequest, url: &str) -> Result<Response, Error> {
    let page = ApiRequest { method: "GET".into(), path: url.to_owned(), headers: request.headers.clone(), body: None };
    let answer = session.send(&page)?;
    answer.error.map_or(Ok(answer.response), Err)
}

/// `api --list [WORD]`: the operations whose method, path, name or scopes contain `filter` (any case):
/// aligned columns for people, an array for scripts.
pub fn list(filter: Option<&str>, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let word = filter.map(str::to_lowercase);
    let shown: Vec<&Operation> = operations::operations()
        .iter()
        .filter(|op| {
            word.as_ref().is_none_or(|word| {
                let text = format!("{} {} {} {}", op.method, op.path, op.id, op.scopes.join(" "));
                text.to_lowercase().contains(word)
            })
        })
        .collect();
    if json {
        let ops: Vec<Value> = shown
            .iter()
            .map(|op| {
                json!({"method": op.method, "path": op.path, "id": op.id, "scopes": accepted(op),
                       "paged": op.is_paged(), "deprecated": op.deprecated})
            })
            .collect();
        return write_out(out, &format!("{}\n", Value::Array(ops)));
    }
    if shown.is_empty() {
        note(err, &format!("no operation matches {:?} — `sipgate-oauth api --list` shows all", filter.unwrap_or("")));
        return Ok(());
    }
    let width = shown.iter().map(|op| op.path.len()).max().unwrap_or(0);
    let mut text = String::new();
    for op in &shown {
        let scopes = accepted(op);
        let scopes = if scopes.is_empty() { "(any token)".to_owned() } else { scopes.join(", ") };
        let paged = if op.is_paged() { "  [paged]" } else { "" };
        let deprecated = if op.deprecated { "  [deprecated]" } else { "" };
        text.push_str(&format!("{:<7}{:<width$}  {scopes}{paged}{deprecated}\n", op.method, op.path));
    }
    write_out(out, &text)
}

/// The scopes that allow an operation, narrow ones first and `all` last; none when any token does.
fn accepted(op: &Operation) -> Vec<&str> {
    op.accepted_scopes().collect()
}

/// `scopes [WORD]`: the scopes whose name or meaning contains `filter` (any case), each with a one-line
/// meaning: aligned columns for people, an array for scripts.
pub fn scopes(filter: Option<&str>, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let word = filter.map(str::to_lowercase);
    let shown: Vec<(&str, String)> = operations::scopes()
        .filter(|(name, meaning)| {
            word.as_ref().is_none_or(|word| name.to_lowercase().contains(word) || meaning.to_lowercase().contains(word))
        })
        .collect();
    if json {
        let scopes: Vec<Value> =
            shown.iter().map(|(name, meaning)| json!({"scope": name, "meaning": meaning})).collect();
        return write_out(out, &format!("{}\n", Value::Array(scopes)));
    }
    if shown.is_empty() {
        let word = filter.unwrap_or("");
        let hint = match operations::closest_scope(word) {
            Some(known) => format!("did you mean `{known}`?"),
            None => "`sipgate-oauth scopes` shows all".to_owned(),
        };
        note(err, &format!("no scope matches {word:?} — {hint}"));
        return Ok(());
    }
    let width = shown.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let text: String = shown.iter().map(|(name, meaning)| format!("{name:<width$}  {meaning}\n")).collect();
    write_out(out, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://api.sipgate.com/v2";

    #[test]
    fn unknown_paths_get_a_hint() {
        assert_eq!(
            unknown_path_warning(BASE, "/v2/account"),
            "warning: paths are relative to the API base https://api.sipgate.com/v2, which has /v2 already, so \
             /v2/account becomes …/v2/v2/account — did you mean /account? sending it all the same (the table \
             may be older than sipgate)"
        );
        assert!(unknown_path_warning(BASE, "acount").contains("has no /acount — did you mean /account?"));
        assert!(unknown_path_warning(BASE, "/nothing/here").contains("/nothing/here is not in sipgate's API"));
    }
}
