//! The zsh script: `compdef`, every answer handed to `compadd` as array elements, never evaluated.

use super::shared::sh_words;
use super::shared::{
    COMMANDS, METHODS, NAME_RE, SHELLS, STORE_SH, VALUED, api_paths, commands_with_options, options_of,
};

/// The zsh completion script.
pub(super) fn script() -> String {
    let arms: String = commands_with_options()
        .map(|command| format!("        {command}) options=({}) ;;\n", sh_words(options_of(command))))
        .collect();
    let paths = sh_words(api_paths().iter().map(|path| path.path));
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

_sipgate_oauth_paths=({paths})

_sipgate_oauth() {{
    local command="" word i
    local -a valued options methods
    valued=({valued})
    methods=({methods})
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
        --env-file | --input | --account-file | --webhook-key) _files; return ;;
        -X | --method) compadd -a methods; return ;;
        --timeout | --data | -d | -H | -f | --raw-field | -F | --field | --tools | --port | --allow-origin) return ;;
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
        compadd -- {commands}
    elif [[ $command == completions ]]; then
        compadd -- {shells}
    elif [[ $command == api ]]; then
        compadd -a methods
        compadd -a _sipgate_oauth_paths
    fi
}}

if (( $+functions[compdef] )); then
    compdef _sipgate_oauth sipgate-oauth
fi
"#,
        valued = sh_words(VALUED),
        global = sh_words(options_of("")),
        commands = sh_words(COMMANDS),
        methods = sh_words(METHODS),
        shells = sh_words(SHELLS),
    )
}
