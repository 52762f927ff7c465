//! The bash script: `complete -F`, every answer built word by word into `COMPREPLY`.

use super::shared::{Lists, NAME_RE, STORE_POSIX, STORE_SH, sh_arms, sh_words};

/// The bash completion script.
pub(super) fn script() -> String {
    let Lists { commands, global, methods, shells, valued, paths, path_methods } = Lists::quoted(sh_words);
    let arms = sh_arms();
    format!(
        r#"# bash completion for sipgate-oauth. Load it with: source <(sipgate-oauth completions bash)
_sipgate_oauth_profiles() {{
    local file name store="{STORE_SH}" valid='{NAME_RE}$'
    {STORE_POSIX}
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
_sipgate_oauth_path_methods=({path_methods})

# The paths that answer the method of `api` words $1.. (a METHOD word, or -X/--method's value; HEAD as
# GET, OPTIONS any), into _sipgate_oauth_matching; returns 1 when no method was given.
_sipgate_oauth_api_paths() {{
    local method="" given=1 word j
    while (($#)); do
        word=$1
        shift
        case $word in
            -X | --method) word=${{1:-}}; shift ;;
            -*) continue ;;
        esac
        word=$(printf '%s' "$word" | tr '[:lower:]' '[:upper:]')
        for j in {methods}; do
            [[ $word == "$j" ]] && method=$word given=0
        done
    done
    [[ $method == HEAD ]] && method=GET
    [[ $method == OPTIONS ]] && method=""
    _sipgate_oauth_matching=()
    for ((j = 0; j < ${{#_sipgate_oauth_paths[@]}}; j++)); do
        if [[ -z $method || ${{_sipgate_oauth_path_methods[j]}} == *" $method "* ]]; then
            _sipgate_oauth_matching+=("${{_sipgate_oauth_paths[j]}}")
        fi
    done
    return $given
}}

# Whether the word is an option followed by its value.
_sipgate_oauth_valued() {{
    local option
    for option in {valued}; do
        [[ $1 == "$option" ]] && return 0
    done
    return 1
}}

_sipgate_oauth() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local command="" word i name
    local -a names options
    if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if _sipgate_oauth_valued "$word"; then
            ((i++))
            continue
        fi
        case $word in
            -* | =) ;;
            *) command=$word; break ;;
        esac
    done
    if [[ $command == mock && $((i + 1)) -lt $COMP_CWORD && ${{COMP_WORDS[i+1]}} == call ]]; then
        command="mock call"
    fi
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
    elif [[ $command == mock ]] && ((i + 1 == COMP_CWORD)); then
        _sipgate_oauth_offer "$cur" call
    elif [[ $command == api ]]; then
        if _sipgate_oauth_api_paths "${{COMP_WORDS[@]:i+1:COMP_CWORD-i-1}}"; then
            _sipgate_oauth_offer "$cur" "${{_sipgate_oauth_matching[@]}}"
        else
            _sipgate_oauth_offer "$cur" {methods} "${{_sipgate_oauth_matching[@]}}"
        fi
    fi
}}

complete -F _sipgate_oauth sipgate-oauth
"#
    )
}
