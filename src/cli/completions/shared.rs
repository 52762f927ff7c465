//! The words every script offers, gathered from the tables (`cli::words`, the operation table, the
//! stand-in's help), and the quoting of POSIX shell words.

pub(super) use super::super::words::{COMMANDS, GLOBAL_OPTIONS, METHODS, VALUED, command_options};

/// The shells, as `completions` takes them.
pub(super) const SHELLS: [&str; 4] = ["bash", "zsh", "fish", "powershell"];

/// A profile name ([`sipgate_oauth::is_profile_name`]) as a regular expression that bash's, zsh's, fish's
/// and .NET's matchers read alike (no ranges, which follow the locale, no `\d`, which is more than ASCII
/// in .NET); each shell adds its own end anchor.
pub(super) const NAME_RE: &str = "^[abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-]{1,64}";

/// The store directory, in shell syntax that bash and zsh share: where this build keeps profiles.
#[cfg(not(windows))]
pub(super) const STORE_SH: &str = r#"${SIPGATE_OAUTH_STORE:-${XDG_CONFIG_HOME:-$HOME/.config}/sipgate-oauth}"#;

/// The store directory, in shell syntax that bash and zsh share: where this build keeps profiles, as
/// Git Bash, MSYS2 or Cygwin see it (`STORE_POSIX` turns a `C:\…` path into theirs).
#[cfg(windows)]
pub(super) const STORE_SH: &str =
    r#"${SIPGATE_OAUTH_STORE:-${LOCALAPPDATA:-$USERPROFILE/AppData/Local}/sipgate-oauth}"#;

/// A line of bash and zsh that makes `$store` a path of the shell's own where `cygpath` converts one
/// (Git Bash, MSYS2, Cygwin); `cygpath` gets the path as an argument, nothing is evaluated.
pub(super) const STORE_POSIX: &str =
    r#"[[ $store == *\\* ]] && command -v cygpath >/dev/null 2>&1 && store=$(cygpath -u -- "$store")"#;

/// One path template of the operation table (`/history`, `/{userId}/sms`: `api` fills `{userId}` in
/// itself, any other `{name}` is for the user to replace) and the methods it answers.
pub(super) struct ApiPath {
    pub path: &'static str,
    pub methods: Vec<&'static str>,
}

/// The operation table's paths, each once, sorted.
pub(super) fn api_paths() -> Vec<ApiPath> {
    let mut paths: Vec<ApiPath> = Vec::new();
    for op in sipgate_oauth::operations::operations() {
        match paths.iter_mut().find(|known| known.path == op.path) {
            Some(known) => known.methods.push(&op.method),
            None => paths.push(ApiPath { path: &op.path, methods: vec![&op.method] }),
        }
    }
    paths.sort_unstable_by(|a, b| a.path.cmp(b.path));
    paths
}

/// The options `command` takes: the stand-in's own flags for `mock` (it takes no client option), those
/// of `mock call` for [`MOCK_CALL`], else the global ones and the command's.
pub(super) fn options_of(command: &str) -> Vec<&'static str> {
    match command {
        "mock" => sipgate_oauth::mock::flags(),
        MOCK_CALL => super::super::call::flags(),
        _ => GLOBAL_OPTIONS.iter().chain(command_options(command)).copied().collect(),
    }
}

/// `mock call`, which the scripts take for a command of its own once `call` follows `mock`; `call` is
/// offered as the first word after `mock`.
pub(super) const MOCK_CALL: &str = "mock call";

/// The commands with options of their own, besides the global ones (and `mock call`).
pub(super) fn commands_with_options() -> impl Iterator<Item = &'static str> {
    let own = COMMANDS.into_iter().filter(|command| *command == "mock" || !command_options(command).is_empty());
    own.chain([MOCK_CALL])
}

/// `word` as one POSIX shell word (bash, zsh): in single quotes, a `'` as `'\''`.
pub(super) fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `words` as one line of single-quoted shell words.
pub(super) fn sh_words(words: &[&str]) -> String {
    words.iter().map(|word| sh_quote(word)).collect::<Vec<_>>().join(" ")
}

/// The word lists every script embeds, each quoted for one shell.
pub(super) struct Lists {
    pub commands: String,
    pub global: String,
    pub methods: String,
    pub shells: String,
    pub valued: String,
    pub paths: String,
    /// For each of `paths`, the methods it answers between spaces (` GET PUT `).
    pub path_methods: String,
}

impl Lists {
    /// Each list as `list` quotes it.
    pub(super) fn quoted(list: impl Fn(&[&str]) -> String) -> Lists {
        let paths = api_paths();
        let path_methods: Vec<String> = paths.iter().map(|path| format!(" {} ", path.methods.join(" "))).collect();
        Lists {
            commands: list(&COMMANDS),
            global: list(&options_of("")),
            methods: list(&METHODS),
            shells: list(&SHELLS),
            valued: list(&VALUED),
            paths: list(&paths.iter().map(|path| path.path).collect::<Vec<_>>()),
            path_methods: list(&path_methods.iter().map(String::as_str).collect::<Vec<_>>()),
        }
    }
}

/// The `case` arms of bash and zsh: each command with the options it takes, as an array.
pub(super) fn sh_arms() -> String {
    commands_with_options()
        .map(|command| format!("        {}) options=({}) ;;\n", sh_quote(command), sh_words(&options_of(command))))
        .collect()
}
