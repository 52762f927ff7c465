//! The fish script: `complete -c`; names and paths come from functions whose output fish splits on
//! lines and does not expand.

use super::shared::{
    COMMANDS, GLOBAL_OPTIONS, METHODS, MOCK_CALL, NAME_RE, SHELLS, api_paths, command_options, options_of,
};

/// `word` as one fish word: in single quotes, where only `\` and `'` are special.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\\', r"\\").replace('\'', r"\'"))
}

/// The fish completion script.
pub(super) fn script() -> String {
    let api_paths = api_paths();
    let paths: Vec<String> = api_paths.iter().map(|path| quote(path.path)).collect();
    let path_methods: Vec<String> = api_paths.iter().map(|path| quote(&path.methods.join(" "))).collect();
    let not_mock = "-n 'not __fish_seen_subcommand_from mock'";
    let mut lines = format!(
        "# fish completion for sipgate-oauth. Load it with: sipgate-oauth completions fish | source\n\
         # (or save it as ~/.config/fish/completions/sipgate-oauth.fish)\n\
         function __sipgate_oauth_profiles\n    \
             set -l store $SIPGATE_OAUTH_STORE\n    \
             test -n \"$store\"; or set store (set -q XDG_CONFIG_HOME; and echo $XDG_CONFIG_HOME; or echo $HOME/.config)/sipgate-oauth\n    \
             for file in $store/profiles/*.json\n        \
                 string match -rq -- '/{name}\\.json\\z' $file; and string replace -r -- '^.*/(.*)\\.json$' '$1' $file\n    \
             end\n\
         end\n\
         # The operation table's paths that answer the method given so far (a METHOD word, or -X/--method's\n\
         # value; HEAD as GET, OPTIONS any), each with the methods it answers as its description.\n\
         function __sipgate_oauth_paths\n    \
             set -l paths {paths}\n    \
             set -l methods {path_methods}\n    \
             set -l method\n    \
             set -l after_api 0\n    \
             set -l take 0\n    \
             for token in (commandline -opc)\n        \
                 set -l upper (string upper -- $token)\n        \
                 if test $take = 1\n            \
                     set method $upper\n            \
                     set take 0\n        \
                 else if test $after_api = 0\n            \
                     test \"$token\" = api; and set after_api 1\n        \
                 else if contains -- $token -X --method\n            \
                     set take 1\n        \
                 else if contains -- $upper {method_words}\n            \
                     set method $upper\n        \
                 end\n    \
             end\n    \
             test \"$method\" = HEAD; and set method GET\n    \
             test \"$method\" = OPTIONS; and set method\n    \
             for k in (seq (count $paths))\n        \
                 if test -z \"$method\"; or contains -- $method (string split ' ' -- $methods[$k])\n            \
                     printf '%s\\t%s\\n' $paths[$k] $methods[$k]\n        \
                 end\n    \
             end\n\
         end\n\
         complete -c sipgate-oauth -f\n\
         complete -c sipgate-oauth -n __fish_use_subcommand -a {commands}\n\
         complete -c sipgate-oauth -n '__fish_seen_subcommand_from completions' -a {shells}\n\
         complete -c sipgate-oauth -n '__fish_seen_subcommand_from help' -a {commands}\n\
         complete -c sipgate-oauth -n '__fish_seen_subcommand_from api' -a {methods}\n\
         complete -c sipgate-oauth -n '__fish_seen_subcommand_from api' -a '(__sipgate_oauth_paths)'\n\
         complete -c sipgate-oauth {not_mock} -l profile -x -a '(__sipgate_oauth_profiles)'\n\
         complete -c sipgate-oauth {not_mock} -l env-file -r -F\n\
         complete -c sipgate-oauth {not_mock} -l timeout -x\n",
        paths = paths.join(" "),
        path_methods = path_methods.join(" "),
        method_words = METHODS.join(" "),
        commands = quote(&COMMANDS.join(" ")),
        shells = quote(&SHELLS.join(" ")),
        methods = quote(&METHODS.join(" ")),
        name = &NAME_RE[1..],
    );
    let switches = GLOBAL_OPTIONS.iter().filter(|option| !["--profile", "--env-file", "--timeout"].contains(option));
    for option in switches {
        lines.push_str(&format!("complete -c sipgate-oauth {not_mock} -l {}\n", &option[2..]));
    }
    for command in COMMANDS {
        for option in command_options(command) {
            let valued = match *option {
                "--input" => " -r -F".to_owned(),
                "--method" => format!(" -x -a {}", quote(&METHODS.join(" "))),
                "--data" | "--raw-field" | "--field" | "--port" | "--allow-origin" | "--tools" => " -x".to_owned(),
                "--header" if command == "api" => " -x".to_owned(),
                _ => String::new(),
            };
            let short = match (command, *option) {
                ("api", "--method") => " -s X",
                ("api", "--data") => " -s d",
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
    let (mock, call) = ("__fish_seen_subcommand_from mock", "__fish_seen_subcommand_from call");
    lines.push_str(&format!(
        "complete -c sipgate-oauth -n '{mock}; and not {call}; and test (commandline -opc)[-1] = mock' -a call\n"
    ));
    for flag in options_of("mock") {
        let files = if ["--account-file", "--webhook-key"].contains(&flag) { " -r -F" } else { "" };
        lines.push_str(&format!("complete -c sipgate-oauth -n '{mock}; and not {call}' -l {}{files}\n", &flag[2..]));
    }
    for flag in options_of(MOCK_CALL) {
        lines.push_str(&format!("complete -c sipgate-oauth -n '{mock}; and {call}' -l {}\n", &flag[2..]));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fish_words_escape_backslash_and_quote() {
        assert_eq!(quote(r"a'b\c $(x)"), r"'a\'b\\c $(x)'");
    }
}
