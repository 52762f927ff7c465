//! The PowerShell script (Windows PowerShell 5.1 and PowerShell 7, on Windows, macOS and Linux):
//! `Register-ArgumentCompleter -Native`. Every word it embeds is a single-quoted literal (PowerShell
//! expands nothing in those), every answer it gives is a `CompletionResult` whose text is quoted unless it
//! is made of characters PowerShell reads literally, and profile names are listed with `-LiteralPath`,
//! filtered case-sensitively against [`NAME_RE`] up to `\z` (not `$`, which .NET lets match before a
//! final line break). The script is ASCII, as Windows PowerShell 5.1 reads a file without a byte order
//! mark in the ANSI code page.

use super::shared::{Lists, NAME_RE, commands_with_options, options_of};

/// The characters PowerShell reads as a single quote: `'` and the typographic ones (U+2018–U+201B).
const QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201a}', '\u{201b}'];

/// `word` as a PowerShell single-quoted string: each quote character doubled, nothing else special.
fn quote(word: &str) -> String {
    let mut quoted = String::from("'");
    for c in word.chars() {
        quoted.push(c);
        if QUOTES.contains(&c) {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    quoted
}

/// `words` as a PowerShell array expression of single-quoted strings.
fn array(words: &[&str]) -> String {
    format!("@({})", words.iter().map(|word| quote(word)).collect::<Vec<_>>().join(", "))
}

/// The PowerShell completion script.
pub(super) fn script() -> String {
    let Lists { commands, global, methods, shells, valued, paths, path_methods } = Lists::quoted(array);
    let options = commands_with_options()
        .map(|command| format!("{} = {}", quote(command), array(&options_of(command))))
        .collect::<Vec<_>>()
        .join("\n        ");
    format!(
        r#"# PowerShell completion for sipgate-oauth (Windows PowerShell 5.1, PowerShell 7). Load it with
#     sipgate-oauth completions powershell | Out-String | Invoke-Expression
# (in $PROFILE), or save it as a .ps1 file and dot-source that.
Register-ArgumentCompleter -Native -CommandName 'sipgate-oauth', 'sipgate-oauth.exe' -ScriptBlock {{
    param($wordToComplete, $commandAst, $cursorPosition)
    $commands = {commands}
    $common = {global}
    $methods = {methods}
    $shells = {shells}
    $valued = {valued}
    $files = @('--env-file', '--input', '--account-file', '--webhook-key')
    $free = @('--timeout', '--data', '-d', '-f', '--raw-field', '-F', '--field', '--tools', '--port', '--allow-origin')
    $commandOptions = @{{
        {options}
    }}
    $paths = {paths}
    $pathMethods = {path_methods}

    # The kept profiles: file names of <store>/profiles that are profile names, never run or expanded.
    $profileNames = {{
        $store = $env:SIPGATE_OAUTH_STORE
        if (-not $store) {{
            if ([System.IO.Path]::DirectorySeparatorChar -eq '\') {{
                if ($env:LOCALAPPDATA) {{ $store = Join-Path $env:LOCALAPPDATA 'sipgate-oauth' }}
                elseif ($env:USERPROFILE) {{ $store = Join-Path $env:USERPROFILE 'AppData\Local\sipgate-oauth' }}
            }} elseif ($env:XDG_CONFIG_HOME -and $env:XDG_CONFIG_HOME.StartsWith('/')) {{
                $store = Join-Path $env:XDG_CONFIG_HOME 'sipgate-oauth'
            }} elseif ($env:HOME) {{
                $store = Join-Path $env:HOME '.config/sipgate-oauth'
            }}
        }}
        if (-not $store) {{ return }}
        Get-ChildItem -LiteralPath (Join-Path $store 'profiles') -File -ErrorAction SilentlyContinue | ForEach-Object {{
            $file = $_.Name
            if ($file.EndsWith('.json', [System.StringComparison]::Ordinal)) {{
                $name = $file.Substring(0, $file.Length - 5)
                if ($name -cmatch '{NAME_RE}\z') {{ $name }}
            }}
        }}
    }}

    # A word as the command line takes it: bare when PowerShell reads it literally, else single-quoted.
    $quote = {{
        param([string]$text)
        if ($text -cmatch '^[A-Za-z0-9_./:=+-]+\z') {{ return $text }}
        $quotes = "['" + [char]0x2018 + [char]0x2019 + [char]0x201A + [char]0x201B + "]"
        return "'" + ($text -replace $quotes, '$0$0') + "'"
    }}

    # The words before the one being completed: which command, and the word just before.
    $words = @()
    foreach ($element in $commandAst.CommandElements) {{
        if ($element.Extent.EndOffset -ge $cursorPosition) {{ break }}
        if ($element -is [System.Management.Automation.Language.StringConstantExpressionAst]) {{
            $words += $element.Value
        }} else {{
            $words += $element.Extent.Text
        }}
    }}
    $command = ''
    $commandAt = $words.Count
    for ($i = 1; $i -lt $words.Count; $i++) {{
        $word = [string]$words[$i]
        if ($valued -ccontains $word) {{ $i++; continue }}
        if ($word.StartsWith('-')) {{ continue }}
        $command = $word
        $commandAt = $i
        break
    }}
    if ($command -ceq 'mock' -and $commandAt + 1 -lt $words.Count -and [string]$words[$commandAt + 1] -ceq 'call') {{
        $command = 'mock call'
    }}
    $prev = ''
    if ($words.Count -gt 1) {{ $prev = [string]$words[$words.Count - 1] }}
    $prefix = ([string]$wordToComplete) -replace "^['""]", ''
    $lead = ''
    if ($prefix.StartsWith('--profile=', [System.StringComparison]::Ordinal)) {{
        $lead = '--profile='
        $prefix = $prefix.Substring($lead.Length)
        $prev = '--profile'
    }}

    $kind = 'ParameterValue'
    $candidates = @()
    if ($prev -ceq '--profile') {{
        $candidates = & $profileNames
    }} elseif ($files -ccontains $prev) {{
        return  # PowerShell's own file name completion
    }} elseif ($prev -ceq '-X' -or $prev -ceq '--method') {{
        $candidates = $methods
    }} elseif ($free -ccontains $prev -or (($prev -ceq '-H' -or $prev -ceq '--header') -and $command -cne 'token')) {{
        return
    }} elseif ($prefix.StartsWith('-')) {{
        $kind = 'ParameterName'
        $candidates = $common
        if ($commandOptions.ContainsKey($command)) {{ $candidates = $commandOptions[$command] }}
    }} elseif ($command -ceq '' -or $command -ceq 'help') {{
        $candidates = $commands
    }} elseif ($command -ceq 'completions') {{
        $candidates = $shells
    }} elseif ($command -ceq 'mock') {{
        if ($commandAt + 1 -eq $words.Count) {{ $candidates = @('call') }}
    }} elseif ($command -ceq 'api') {{
        # The method given so far (a METHOD word, or -X/--method's value; HEAD as GET, OPTIONS any):
        # only the paths that answer it.
        $method = ''
        $given = $false
        for ($j = $commandAt + 1; $j -lt $words.Count; $j++) {{
            $word = [string]$words[$j]
            if ($word -ceq '-X' -or $word -ceq '--method') {{
                $j++
                if ($j -lt $words.Count) {{ $word = [string]$words[$j] }} else {{ break }}
            }} elseif ($word.StartsWith('-')) {{
                continue
            }}
            if ($methods -contains $word) {{ $method = $word.ToUpperInvariant(); $given = $true }}
        }}
        if ($method -ceq 'HEAD') {{ $method = 'GET' }}
        if ($method -ceq 'OPTIONS') {{ $method = '' }}
        if (-not $given) {{ $candidates = $methods }}
        for ($k = 0; $k -lt $paths.Count; $k++) {{
            if ($method -ceq '' -or $pathMethods[$k].Contains(' ' + $method + ' ')) {{ $candidates += $paths[$k] }}
        }}
    }}
    foreach ($candidate in $candidates) {{
        if ($candidate.StartsWith($prefix, [System.StringComparison]::OrdinalIgnoreCase)) {{
            [System.Management.Automation.CompletionResult]::new($lead + (& $quote $candidate), $candidate, $kind, $candidate)
        }}
    }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The string a PowerShell single-quoted literal at the start of `source` denotes, and the rest:
    /// the language's rule (a quote character ends it unless the next one is a quote character too).
    fn read_literal(source: &str) -> (String, &str) {
        let mut chars = source.char_indices();
        assert_eq!(chars.next().map(|(_, c)| QUOTES.contains(&c)), Some(true), "starts with a quote: {source}");
        let mut value = String::new();
        let mut chars = chars.peekable();
        while let Some((at, c)) = chars.next() {
            if QUOTES.contains(&c) {
                match chars.peek() {
                    Some((_, next)) if QUOTES.contains(next) => {
                        value.push(c);
                        chars.next();
                    }
                    _ => return (value, &source[at + c.len_utf8()..]),
                }
            } else {
                value.push(c);
            }
        }
        panic!("unterminated literal: {source}");
    }

    #[test]
    fn hostile_words_stay_one_literal_that_denotes_themselves() {
        let hostile = [
            "$(calc)",
            "`whoami`",
            "a;b",
            "'x'",
            "it's",
            "\u{2018}calc\u{2019}",
            "\u{201a}\u{201b}",
            "''",
            "$env:USERNAME",
            "@(1)",
            "x\ny",
            "",
        ];
        for word in hostile {
            let quoted = quote(word);
            let (value, rest) = read_literal(&quoted);
            assert_eq!(value, word, "{quoted} denotes the word");
            assert_eq!(rest, "", "{quoted} is one literal, nothing after it");
            // And followed by code, the code stays outside the literal.
            let followed = format!("{quoted}; calc");
            let (value, rest) = read_literal(&followed);
            assert_eq!((value.as_str(), rest), (word, "; calc"));
        }
        assert_eq!(array(&["a", "b'c"]), "@('a', 'b''c')");
    }

    #[test]
    fn the_script_is_ascii_and_registers_a_native_completer() {
        let script = script();
        assert!(script.is_ascii(), "Windows PowerShell 5.1 reads a file without BOM in the ANSI code page");
        assert!(
            script.contains("Register-ArgumentCompleter -Native -CommandName 'sipgate-oauth', 'sipgate-oauth.exe'")
        );
        assert_eq!(script.matches('{').count(), script.matches('}').count(), "braces balance");
        assert_eq!(script.matches('(').count(), script.matches(')').count(), "parentheses balance");
    }

    #[test]
    fn profile_names_are_listed_literally_and_filtered_to_the_end() {
        let script = script();
        assert!(script.contains("Get-ChildItem -LiteralPath (Join-Path $store 'profiles') -File"));
        assert!(script.contains(&format!("$name -cmatch '{NAME_RE}\\z'")), "case-sensitive, anchored at \\z");
        assert_eq!(script.matches("Get-ChildItem").count(), 1, "the one listing is the literal one");
        for evaluates in
            ["Invoke-Expression $", "iex ", "ExpandString", "ScriptBlock]::Create", "-Filter", "Resolve-Path"]
        {
            assert!(!script.contains(evaluates), "the script never uses {evaluates}");
        }
        // The only `&` calls are of the script's own blocks.
        let calls: Vec<&str> = script.match_indices("& $").map(|(at, _)| &script[at..at + 8]).collect();
        assert!(calls.iter().all(|call| call.starts_with("& $profi") || call.starts_with("& $quote")), "{calls:?}");
    }

    #[test]
    fn every_embedded_word_is_a_literal() {
        // The word lists are arrays of single-quoted literals only: nothing between them but ", ".
        for line in script().lines().filter(|line| line.contains("= @(")) {
            let mut rest = line.split_once("@(").unwrap().1;
            while !rest.starts_with(')') {
                let (_, after) = read_literal(rest);
                rest = after.strip_prefix(", ").unwrap_or(after);
            }
            assert!(rest == ")" || rest.starts_with(')'), "{line}");
        }
    }
}
