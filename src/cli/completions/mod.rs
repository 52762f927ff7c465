//! `completions bash|zsh|fish|powershell`: shell scripts that complete the commands, their options, the
//! names of kept profiles, `api`'s methods and paths, and the stand-in's (`mock`) flags.
//!
//! The scripts are built from the same tables the parser reads (`words`), the operation table
//! (`sipgate_oauth::operations`) and the stand-in's help text, so a new command, option, path or flag is
//! offered as soon as it exists. Profile names come from a glob over `<store>/profiles/*.json` (the store
//! as `SIPGATE_OAUTH_STORE`, `XDG_CONFIG_HOME` or `HOME` place it; on Windows `%LOCALAPPDATA%`): completing
//! never runs the binary, never reads a token file, and works offline.
//!
//! No file name is ever run as code: a script offers only names that pass
//! [`sipgate_oauth::is_profile_name`], and builds its answer word by word (never through an expanding
//! word list such as bash's `compgen -W`). Every word a script embeds is quoted for its shell here.
//!
//! In files: one per shell, each a function of the words in `shared`, which gathers them from the tables.

mod bash;
mod fish;
mod powershell;
mod shared;
mod zsh;

use std::str::FromStr;

use sipgate_oauth::Error;

/// A shell that `completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// GNU bash (`complete -F`).
    Bash,
    /// zsh (`compdef`).
    Zsh,
    /// fish (`complete -c`).
    Fish,
    /// PowerShell 5.1 and 7 (`Register-ArgumentCompleter -Native`).
    Powershell,
}

impl FromStr for Shell {
    type Err = Error;

    fn from_str(name: &str) -> Result<Shell, Error> {
        match name {
            "bash" => Ok(Shell::Bash),
            "zsh" => Ok(Shell::Zsh),
            "fish" => Ok(Shell::Fish),
            "powershell" | "pwsh" => Ok(Shell::Powershell),
            other => {
                Err(Error::Usage(format!("completions are written for bash, zsh, fish and powershell, not {other:?}")))
            }
        }
    }
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    match shell {
        Shell::Bash => bash::script(),
        Shell::Zsh => zsh::script(),
        Shell::Fish => fish::script(),
        Shell::Powershell => powershell::script(),
    }
}

#[cfg(test)]
mod tests {
    use super::shared::*;
    use super::*;

    #[test]
    fn every_command_option_path_and_mock_flag_is_offered_by_every_shell() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell] {
            let script = script(shell);
            for word in COMMANDS.iter().chain(&GLOBAL_OPTIONS).chain(&METHODS) {
                assert!(script.contains(word.trim_start_matches('-')), "{shell:?} lacks {word}");
            }
            for command in COMMANDS {
                for option in options_of(command) {
                    assert!(script.contains(option.trim_start_matches('-')), "{shell:?} lacks {command} {option}");
                }
            }
            for path in api_paths() {
                assert!(script.contains(path.path), "{shell:?} lacks the path {}", path.path);
            }
            assert!(script.contains("profiles"), "{shell:?} completes profile names");
        }
    }

    #[test]
    fn paths_come_from_the_operation_table_once_each() {
        let paths = api_paths();
        assert!(paths.iter().any(|p| p.path == "/history" && p.methods.contains(&"GET")));
        assert!(paths.iter().any(|p| p.path == "/{userId}/sms"));
        assert!(paths.windows(2).all(|pair| pair[0].path < pair[1].path), "sorted, no repeats");
        assert_eq!(paths.iter().map(|p| p.methods.len()).sum::<usize>(), sipgate_oauth::operations::operations().len());
    }

    #[test]
    fn mock_offers_the_stand_ins_flags_not_the_clients() {
        let mock = options_of("mock");
        assert!(mock.contains(&"--auto-approve") && mock.contains(&"--port") && mock.contains(&"--webhook-key"));
        assert!(!mock.contains(&"--profile") && !mock.contains(&"--no-browser"));
        assert!(options_of("api").contains(&"--paginate") && options_of("api").contains(&"--profile"));
    }

    #[test]
    fn shell_words_are_quoted_whole() {
        assert_eq!(sh_quote("/a b"), "'/a b'");
        assert_eq!(sh_quote("it's $(x)"), r"'it'\''s $(x)'");
        assert_eq!(sh_words(&["-a", "b"]), "'-a' 'b'");
    }

    #[test]
    fn shells_are_named_as_typed() {
        assert_eq!("zsh".parse::<Shell>().unwrap(), Shell::Zsh);
        assert_eq!("powershell".parse::<Shell>().unwrap(), Shell::Powershell);
        assert_eq!("pwsh".parse::<Shell>().unwrap(), Shell::Powershell);
        assert!(matches!("tcsh".parse::<Shell>(), Err(Error::Usage(_))));
        assert_eq!(SHELLS.map(|name| name.parse::<Shell>().is_ok()), [true; 4]);
    }
}
