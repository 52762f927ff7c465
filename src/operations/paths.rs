//! The path matcher: which operation of the table a method and path name (a relative path or a full
//! URL below the API base), and the known path closest to a mistyped one.

use super::table::{Lookup, Table, Template, segments, table};

/// What the table is keyed by: `path` (a path like `/history?limit=5`, or a full URL) relative to the API
/// base `base`, without query or fragment. `None` for a full URL that is not below `base`.
pub fn relative_path<'p>(base: &str, path: &'p str) -> Option<&'p str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = match path.contains("://") {
        true => path.strip_prefix(base.trim_end_matches('/'))?,
        false => path,
    };
    Some(if path.is_empty() { "/" } else { path })
}

/// The operation that answers `method` on `path` (relative to the API base, without the query).
pub fn find<'p>(method: &str, path: &'p str) -> Lookup<'p> {
    let table = table();
    let mut parts = [""; 16];
    let mut count = 0;
    for part in segments_iter(path) {
        if count == parts.len() {
            return Lookup::Unknown;
        }
        parts[count] = part;
        count += 1;
    }
    let parts = &parts[..count];
    let mut known: Option<&Template> = None;
    for template in table.templates.iter().filter(|t| t.matches(parts)) {
        known.get_or_insert(template);
        if let Some(&index) = template.ops.iter().find(|&&i| table.ops[i].method.eq_ignore_ascii_case(method)) {
            let op = &table.ops[index];
            let params = template
                .segments
                .iter()
                .zip(segments(&op.path))
                .zip(parts)
                .filter(|((literal, _), _)| literal.is_none())
                .map(|((_, name), value)| (name.trim_start_matches('{').trim_end_matches('}'), *value))
                .collect();
            return Lookup::Found { op, params };
        }
    }
    match known {
        Some(template) => {
            Lookup::WrongMethod { allowed: template.ops.iter().map(|&i| table.ops[i].method.as_str()).collect() }
        }
        None => Lookup::Unknown,
    }
}

/// The segments of a path without allocating.
fn segments_iter(path: &str) -> impl Iterator<Item = &str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split('/').filter(move |_| !path.is_empty())
}

/// The known path template closest to `path`, for "did you mean …": the path without a doubled API
/// prefix (`/v2/v2/account`, or `/v2/account` given relative to the base) when that is known, else the
/// template with the fewest typing differences, if it is close enough to be what was meant.
pub fn suggest(path: &str) -> Option<&'static str> {
    let table = table();
    let path = path.split('?').next().unwrap_or_default();
    let mut bare = path;
    while let Some(rest) = bare.strip_prefix("/v2").filter(|rest| rest.is_empty() || rest.starts_with('/')) {
        bare = rest;
    }
    let parts = segments(bare);
    if bare != path
        && let Some(template) = table.templates.iter().find(|t| t.matches(&parts))
    {
        return Some(op_path(table, template));
    }
    let mut best: Option<(usize, &Template)> = None;
    for template in table.templates.iter().filter(|t| t.segments.len() == parts.len()) {
        let distance: usize = template
            .segments
            .iter()
            .zip(&parts)
            .map(|(literal, given)| match literal {
                Some(literal) => edit_distance(literal, given),
                None => usize::from(given.is_empty()),
            })
            .sum();
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, template));
        }
    }
    let (distance, template) = best?;
    let allowed = (bare.len() / 4).clamp(1, 3);
    (distance > 0 && distance <= allowed).then(|| op_path(table, template))
}

/// The path template of a template's operations.
fn op_path(table: &'static Table, template: &Template) -> &'static str {
    template.ops.first().map(|&i| table.ops[i].path.as_str()).unwrap_or_default()
}

/// Levenshtein distance of two short ASCII-ish words, counted in characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}
