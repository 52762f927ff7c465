//! The bash script: `complete -F`, every answer built word by word into `COMPREPLY`.

use super::shared::sh_words;
use super::shared::{
    COMMANDS, METHODS, NAME_RE, SHELLS, STORE_SH, VALUED, api_paths, commands_with_options, options_of,
};

/// The bash completion script.
pub(super) fn script() -> String {
    let arms: String = commands_with_options()
        .map(|command| format!("        {command}) options=({}) ;;\n", sh_words(options_of(command))))
        .collect();
    let paths = sh_words(api_paths().iter().map(|path| path.path));
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

# COMPREPLY: those of the words after the first that start with the first. Built word by word, never
# through compgen -W, which would expand $(…) in a word.
_sipgate_oauth_offer() {{
    local prefix=$1 word
    shift
    COMPREPLY=()
    for word in "$@"; do
        [[ $word == "$prefix"* ]] && COMPREPLY+=("$word")
    done
}}

_sipgate_oauth_paths=({paths})

_sipgate_oauth() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local command="" word i name
    local -a names options
    if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        case " {valued} " in
            *" $word "*) ((i++)); continue ;;
        esac
        case $word in
            -* | =) ;;
            *) command=$word; break ;;
        esac
    done
    case $prev in
        --profile)
            while IFS= read -r name; do
                names+=("$name")
            done < <(_sipgate_oauth_profiles)
            _sipgate_oauth_offer "$cur" "${{names[@]}}"
            return ;;
        --env-file | --input | --account-file | --webhook-key)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        -X | --method)
            _sipgate_oauth_offer "$cur" {methods}
            return ;;
        --timeout | --data | -d | -f | --raw-field | -F | --field | --tools | --port | --allow-origin)
            return ;;
        -H | --header)
            [[ $command == token ]] || return ;;
    esac
    options=({global})
    case $command in
{arms}    esac
    if [[ $cur == -* ]]; then
        _sipgate_oauth_offer "$cur" "${{options[@]}}"
    elif [[ -z $command || $command == help ]]; then
        _sipgate_oauth_offer "$cur" {commands}
    elif [[ $command == completions ]]; then
        _sipgate_oauth_offer "$cur" {shells}
    elif [[ $command == api ]]; then
        _sipgate_oauth_offer "$cur" {methods} "${{_sipgate_oauth_paths[@]}}"
    fi
}}

complete -F _sipgate_oauth sipgate-oauth
"#,
        valued = VALUED.join(" "),
        global = sh_words(options_of("")),
        commands = sh_words(COMMANDS),
        methods = sh_words(METHODS),
        shells = sh_words(SHELLS),
    )
}
