//! The zsh script: `compdef`, every answer handed to `compadd` as array elements, never evaluated.

use super::shared::{Lists, NAME_RE, STORE_POSIX, STORE_SH, sh_arms, sh_words};

/// The zsh completion script.
pub(super) fn script() -> String {
    let Lists { commands, global, methods, shells, valued, paths, path_methods } = Lists::quoted(sh_words);
    let arms = sh_arms();
    format!(
        r#"#compdef sipgate-oauth
# zsh completion for sipgate-oauth. Load it with: source <(sipgate-oauth completions zsh)
# (after compinit), or save it as _sipgate-oauth in a directory of $fpath.
_sipgate_oauth_profiles() {{
    local store="{STORE_SH}" name valid='{NAME_RE}$'
    {STORE_POSIX}
    local -a names
    for name in "$store"/profiles/*.json(N:t:r); do
        [[ $name =~ $valid ]] && names+=("$name")
    done
    compadd -a names
}}

_sipgate_oauth_paths=({paths})
_sipgate_oauth_path_methods=({path_methods})

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
    if [[ $command == mock && ${{words[i+1]}} == call ]] && ((i + 1 < CURRENT)); then
        command="mock call"
    fi
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
    elif [[ $command == mock ]] && ((i + 1 == CURRENT)); then
        compadd -- call
    elif [[ $command == api ]]; then
        # The method given so far (a METHOD word, or -X/--method's value; HEAD as GET, OPTIONS any):
        # only the paths that answer it.
        local method="" given="" j
        local -a paths
        for ((j = i + 1; j < CURRENT; j++)); do
            word=${{words[j]}}
            case $word in
                -X | --method) ((j++)); word=${{words[j]}} ;;
                -*) continue ;;
            esac
            if (( ${{methods[(Ie)${{(U)word}}]}} )); then
                method=${{(U)word}}
                given=1
            fi
        done
        [[ $method == HEAD ]] && method=GET
        [[ $method == OPTIONS ]] && method=""
        for ((j = 1; j <= ${{#_sipgate_oauth_paths}}; j++)); do
            if [[ -z $method || ${{_sipgate_oauth_path_methods[j]}} == *" $method "* ]]; then
                paths+=("${{_sipgate_oauth_paths[j]}}")
            fi
        done
        [[ -n $given ]] || compadd -a methods
        compadd -a paths
    fi
}}

if (( $+functions[compdef] )); then
    compdef _sipgate_oauth sipgate-oauth
fi
"#
    )
}
