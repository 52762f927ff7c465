//! "Did you mean …?": the known word closest to a mistyped one, for options, settings, commands and
//! scopes alike.

/// The known word closest to `word`, if it is close enough to be a slip: at most one edit for short
/// words, two from five characters on (a swap of two neighbours is one edit; leading `-` do not count
/// towards the length). The first of equals wins; `word` itself is never suggested.
pub fn closest<'k>(word: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    let bare = |w: &str| w.trim_start_matches('-').chars().count();
    let most = if bare(word) >= 5 { 2 } else { 1 };
    known
        .into_iter()
        .map(|candidate| (distance(word, candidate), candidate))
        .filter(|&(d, candidate)| d > 0 && d <= most && d < bare(candidate))
        .min_by_key(|&(d, _)| d)
        .map(|(_, candidate)| candidate)
}

/// The options a help text lists (the first word of each line that starts with `--` once indented), each
/// once, in order: the known words for a command's "did you mean" and completion, so that neither drifts
/// from its help.
pub fn flags_in(help: &'static str) -> Vec<&'static str> {
    let mut flags: Vec<&'static str> = Vec::new();
    for line in help.lines().map(str::trim_start).filter(|line| line.starts_with("--")) {
        let flag = line.split_whitespace().next().unwrap_or_default().trim_end_matches([',', ')']);
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    flags
}

/// Edit distance with adjacent swaps (optimal string alignment), counted in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![(0..=b.len()).collect::<Vec<usize>>()];
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (rows[i - 1][j] + 1).min(row[j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(rows[i - 2][j - 2] + 1);
            }
        }
        rows.push(row);
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_is_one_edit_and_short_words_allow_one() {
        assert_eq!(distance("tokne", "token"), 1);
        assert_eq!(closest("tokne", ["token", "logout"]), Some("token"));
        assert_eq!(closest("CLIENT_SECERT", ["CLIENT_ID", "CLIENT_SECRET"]), Some("CLIENT_SECRET"));
        assert_eq!(closest("ab", ["xy"]), None);
        assert_eq!(closest("--json", ["--json"]), None, "the word itself is no suggestion");
        assert_eq!(closest("DATABASE_URL", ["AUTH_URL", "TOKEN_URL"]), None);
    }
}
