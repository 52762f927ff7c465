//! `completions bash|zsh|fish`: shell scripts that complete the commands, their options, and the names
//! of kept profiles.
//!
//! The scripts are built from the same tables the parser reads, so a new command or option is offered as
//! soon as it is parsed. Profile names come from a glob over `<store>/profiles/*.json` (the store as
//! `SIPGATE_OAUTH_STORE`, `XDG_CONFIG_HOME` or `HOME` place it): completing never runs the binary, never
//! reads a token file, and works offline.

use std::str::FromStr;

use sipgate_oauth::Error;

use super::words::{COMMANDS, GLOBAL_OPTIONS, METHODS, command_options};

/// A shell that `completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// GNU bash (`complete -F`).
    Bash,
    /// zsh (`compdef`).
    Zsh,
    /// fish (`complete -c`).
    Fish,
}

impl FromStr for Shell {
    type Err = Error;

    fn from_str(name: &str) -> Result<Shell, Error> {
        match name {
            "bash" => Ok(Shell::Bash),
            "zsh" => Ok(Shell::Zsh),
            "fish" => Ok(Shell::Fish),
            other => Err(Error::Usage(format!("completions are written for bash, zsh and fish, not {other:?}"))),
        }
    }
}

/// The options that take a value: after them, no option or command is offered.
const VALUED: &str = "--env-file --timeout --profile --data --input -H -f --raw-field -F --field";

/// A profile name ([`sipgate_oauth::is_profile_name`]) as a regular expression that bash's, zsh's and
/// fish's matchers read alike (no ranges, which follow the locale); each shell adds its own end anchor.
const NAME_RE: &str = "^[abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-]{1,64}";

/// The store directory, in shell syntax that bash, zsh and fish share no more of than this.
const STORE_SH: &str = r#"${SIPGATE_OAUTH_STORE:-${XDG_CONFIG_HOME:-$HOME/.config}/sipgate-oauth}"#;

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    match shell {
        Shell::Bash => bash(),
        Shell::Zsh => zsh(),
        Shell::Fish => fish(),
    }
}

/// `case` arms: each command with its own options.
fn option_arms(indent: &str, line: impl Fn(&str, &str) -> String) -> String {
    COMMANDS
        .iter()
        .filter(|command| !command_options(command).is_empty())
        .map(|command| format!("{indent}{}\n", line(command, &command_options(command).join(" "))))
        .collect()
}

fn bash() -> String {
    let arms = option_arms("        ", |command, options| format!("{command}) options+=\" {options}\" ;;"));
    format!(
        r#"# bash completion for sipgate-oauth. Load it with: source <(sipgate-oauth completions bash)
_sipgate_oauth_profiles() {{
    local file name store="{STORE_SH}" valid='{NAME_RE}$'
    for file in "$store"/profiles/*.json; do
        [[ -e $file ]] || continue
        name=${{file##*/}}
        name=${{name%.json}}
        [[ $name =~ $valid ]] && printf '%s\n' "$name"
    done
}}

_sipgate_oauth() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local command="" word i
    if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        case " {VALUED} " in
            *" $word "*) ((i++)); continue ;;
        esac
        case $word in
            -* | =) ;;
            *) command=$word; break ;;
        esac
    done
    case $prev in
        --profile)
            # Built word by word, never through compgen -W, which would expand $(…) in a name.
            local name
            COMPREPLY=()
            while IFS= read -r name; do
                [[ $name == "$cur"* ]] && COMPREPLY+=("$name")
            done < <(_sipgate_oauth_profiles)
            return ;;
        --env-file | --input)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --timeout | --data | -H | -f | --raw-field | -F | --field)
            return ;;
        --header)
            [[ $command == token ]] || return ;;
    esac
    local options="{global}"
    case $command in
{arms}    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
    elif [[ -z $command || $command == help ]]; then
        COMPREPLY=($(compgen -W "{commands}" -- "$cur"))
    elif [[ $command == completions ]]; then
        COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
    elif [[ $command == api ]]; then
        COMPREPLY=($(compgen -W "{methods}" -- "$cur"))
    fi
}}

complete -F _sipgate_oauth sipgate-oauth
"#,
        global = GLOBAL_OPTIONS.join(" "),
        commands = COMMANDS.join(" "),
        methods = METHODS.join(" "),
    )
}

fn zsh() -> String {
    let arms = option_arms("        ", |command, options| format!("{command}) options+=({options}) ;;"));
    format!(
        r#"#compdef sipgate-oauth
# zsh completion for sipgate-oauth. Load it with: source <(sipgate-oauth completions zsh)
# (after compinit), or save it as _sipgate-oauth in a directory of $fpath.
_sipgate_oauth_profiles() {{
    local store="{STORE_SH}" name valid='{NAME_RE}$'
    local -a names
    for name in "$store"/profiles/*.json(N:t:r); do
        [[ $name =~ $valid ]] && names+=("$name")
    done
    compadd -a names
}}

_sipgate_oauth() {{
    local command="" word i
    local -a valued options
    valued=({VALUED})
    for ((i = 2; i < CURRENT; i++)); do
        word=${{words[i]}}
        if (( ${{valued[(Ie)$word]}} )); then
            ((i++))
            continue
        fi
        case $word in
            -*) ;;
            *) command=$word; break ;;
        esac
    done
    case ${{words[CURRENT-1]}} in
        --profile) _sipgate_oauth_profiles; return ;;
        --env-file | --input) _files; return ;;
        --timeout | --data | -H | -f | --raw-field | -F | --field) return ;;
    esac
    case ${{words[CURRENT]}} in
        --profile=*) compset -P '--profile='; _sipgate_oauth_profiles; return ;;
    esac
    options=({global})
    case $command in
{arms}    esac
    if [[ ${{words[CURRENT]}} == -* ]]; then
        compadd -a options
    elif [[ -z $command || $command == help ]]; then
        compadd {commands}
    elif [[ $command == completions ]]; then
        compadd bash zsh fish
    elif [[ $command == api ]]; then
        compadd {methods}
    fi
}}

if (( $+functions[compdef] )); then
    compdef _sipgate_oauth sipgate-oauth
fi
"#,
        global = GLOBAL_OPTIONS.join(" "),
        commands = COMMANDS.join(" "),
        methods = METHODS.join(" "),
    )
}

fn fish() -> String {
    let mut lines = String::from(
        "# fish completion for sipgate-oauth. Load it with: sipgate-oauth completions fish | source\n\
         # (or save it as ~/.config/fish/completions/sipgate-oauth.fish)\n",
    );
    lines.push_str(&format!(
        "function __sipgate_oauth_profiles\n    \
             set -l store $SIPGATE_OAUTH_STORE\n    \
             test -n \"$store\"; or set store (set -q XDG_CONFIG_HOME; and echo $XDG_CONFIG_HOME; or echo $HOME/.config)/sipgate-oauth\n    \
             for file in $store/profiles/*.json\n        \
                 string match -rq -- '/{name}\\.json\\z' $file; and string replace -r -- '^.*/(.*)\\.json$' '$1' $file\n    \
             end\n\
         end\n\
         complete -c sipgate-oauth -f\n\
         complete -c sipgate-oauth -n __fish_use_subcommand -a '{}'\n\
         complete -c sipgate-oauth -n '__fish_seen_subcommand_from completions' -a 'bash zsh fish'\n\
         complete -c sipgate-oauth -n '__fish_seen_subcommand_from help' -a '{}'\n\
         complete -c sipgate-oauth -l profile -x -a '(__sipgate_oauth_profiles)'\n\
         complete -c sipgate-oauth -l env-file -r -F\n\
         complete -c sipgate-oauth -l timeout -x\n",
        COMMANDS.join(" "),
        COMMANDS.join(" "),
        name = &NAME_RE[1..],
    ));
    let switches = GLOBAL_OPTIONS.iter().filter(|option| !["--profile", "--env-file", "--timeout"].contains(option));
    for option in switches {
        lines.push_str(&format!("complete -c sipgate-oauth -l {}\n", &option[2..]));
    }
    for command in COMMANDS {
        for option in command_options(command) {
            let valued = match *option {
                "--input" => " -r -F",
                "--data" | "--raw-field" | "--field" => " -x",
                "--header" if command == "api" => " -x",
                _ => "",
            };
            let short = match (command, *option) {
                ("api", "--header") => " -s H",
                ("api", "--raw-field") => " -s f",
                ("api", "--field") => " -s F",
                ("api", "--include") => " -s i",
                _ => "",
            };
            lines.push_str(&format!(
                "complete -c sipgate-oauth -n '__fish_seen_subcommand_from {command}' -l {}{short}{valued}\n",
                &option[2..]
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_and_option_is_offered_by_every_shell() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = script(shell);
            for word in COMMANDS.iter().chain(&GLOBAL_OPTIONS) {
                assert!(script.contains(word.trim_start_matches('-')), "{shell:?} lacks {word}");
            }
            for command in COMMANDS {
                for option in command_options(command) {
                    assert!(script.contains(option.trim_start_matches('-')), "{shell:?} lacks {command} {option}");
                }
            }
            assert!(script.contains("profiles"), "{shell:?} completes profile names");
        }
    }

    #[test]
    fn shells_are_named_as_typed() {
        assert_eq!("zsh".parse::<Shell>().unwrap(), Shell::Zsh);
        assert!(matches!("powershell".parse::<Shell>(), Err(Error::Usage(_))));
    }
}
