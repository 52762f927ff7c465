//! The `pattern` keyword of sipgate's description: a matcher for the subset of ECMA-262 regular
//! expressions that JSON schemas use (no regex crate is in the tree).
//!
//! Supported: literals and escaped literals, `.`, `\d \D \w \W \s \S`, classes `[a-z_]` and `[^…]`
//! (with those escapes inside), groups `(…)` and `(?:…)`, alternation `|`, the quantifiers `? * +
//! {n} {n,} {n,m}` (greedy or lazy: the same for a yes/no answer), and the anchors `^` and `$`.
//! Anything else (look-arounds, back-references, flags) is refused when the pattern is read, never
//! guessed. As JSON Schema says, a pattern matches anywhere in the string unless anchored.
//!
//! Promises: matching takes time linear in the input (a Thompson NFA run without backtracking, so a
//! hostile value cannot stall the stand-in), uses no recursion over the input, and never panics.

/// The most a counted quantifier may repeat (`{1,14}` is expanded into copies).
const MAX_REPEAT: u32 = 1000;

/// The most instructions a compiled pattern may have.
const MAX_PROGRAM: usize = 100_000;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    program: Vec<Inst>,
}

/// One step of the compiled NFA.
#[derive(Debug, Clone)]
enum Inst {
    /// Consumes one character that the set allows.
    Char(Set),
    /// Goes on at both targets.
    Split(usize, usize),
    /// Goes on at the target.
    Jump(usize),
    /// Only at the start of the input.
    Start,
    /// Only at the end of the input.
    End,
    /// The pattern matched.
    Match,
}

/// Which characters one position allows.
#[derive(Debug, Clone, PartialEq)]
enum Set {
    /// Any but a line terminator (`.`).
    Dot,
    /// The characters of the ranges, or (negated) all others.
    Ranges { ranges: Vec<(char, char)>, negated: bool },
}

impl Set {
    fn one(c: char) -> Set {
        Set::Ranges { ranges: vec![(c, c)], negated: false }
    }

    fn allows(&self, c: char) -> bool {
        match self {
            Set::Dot => !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'),
            Set::Ranges { ranges, negated } => ranges.iter().any(|&(low, high)| low <= c && c <= high) != *negated,
        }
    }
}

/// The parsed pattern, before compiling.
#[derive(Debug, Clone)]
enum Node {
    Set(Set),
    Start,
    End,
    Concat(Vec<Node>),
    Alternation(Vec<Node>),
    Repeat { node: Box<Node>, min: u32, max: Option<u32> },
}

/// `\s` in ECMA-262: white space and line terminators.
const SPACE: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{feff}', '\u{feff}'),
];
const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];

impl Pattern {
    /// Reads an ECMA-262 pattern; `Err` says what it uses that this matcher does not support.
    pub(crate) fn new(source: &str) -> Result<Pattern, String> {
        let mut parser = Parser { chars: source.chars().collect(), at: 0 };
        let node = parser.alternation()?;
        if parser.at < parser.chars.len() {
            return Err(format!("unexpected `{}` at {}", parser.chars[parser.at], parser.at));
        }
        let mut program = Vec::new();
        compile(&node, &mut program)?;
        program.push(Inst::Match);
        Ok(Pattern { program })
    }

    /// Whether the pattern matches somewhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let mut current: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        // The position each instruction was last added at (plus one), so that each is added once a step.
        let mut seen = vec![0usize; self.program.len()];
        for position in 0..=chars.len() {
            // Unanchored: a new attempt starts at every position.
            if self.add(0, position, chars.len(), &mut current, &mut seen) {
                return true;
            }
            let Some(&c) = chars.get(position) else { break };
            next.clear();
            for &pc in &current {
                if let Inst::Char(set) = &self.program[pc]
                    && set.allows(c)
                    && self.add(pc + 1, position + 1, chars.len(), &mut next, &mut seen)
                {
                    return true;
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Follows the empty steps from `pc` at `position`, putting the character steps reached into
    /// `list`; `true` when `Match` is reached.
    fn add(&self, pc: usize, position: usize, len: usize, list: &mut Vec<usize>, seen: &mut [usize]) -> bool {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] == position + 1 {
                continue;
            }
            seen[pc] = position + 1;
            match &self.program[pc] {
                Inst::Char(_) => list.push(pc),
                Inst::Split(first, second) => {
                    stack.push(*second);
                    stack.push(*first);
                }
                Inst::Jump(target) => stack.push(*target),
                Inst::Start if position == 0 => stack.push(pc + 1),
                Inst::End if position == len => stack.push(pc + 1),
                Inst::Start | Inst::End => {}
                Inst::Match => return true,
            }
        }
        false
    }
}

/// Appends the instructions of `node` to `program`.
fn compile(node: &Node, program: &mut Vec<Inst>) -> Result<(), String> {
    if program.len() > MAX_PROGRAM {
        return Err("the pattern is too large".into());
    }
    match node {
        Node::Set(set) => program.push(Inst::Char(set.clone())),
        Node::Start => program.push(Inst::Start),
        Node::End => program.push(Inst::End),
        Node::Concat(nodes) => {
            for node in nodes {
                compile(node, program)?;
            }
        }
        Node::Alternation(branches) => {
            let mut jumps = Vec::new();
            for (n, branch) in branches.iter().enumerate() {
                let split = program.len();
                let last = n + 1 == branches.len();
                if !last {
                    program.push(Inst::Split(split + 1, 0));
                }
                compile(branch, program)?;
                if !last {
                    jumps.push(program.len());
                    program.push(Inst::Jump(0));
                    let after = program.len();
                    program[split] = Inst::Split(split + 1, after);
                }
            }
            let end = program.len();
            for jump in jumps {
                program[jump] = Inst::Jump(end);
            }
        }
        Node::Repeat { node, min, max } => {
            for _ in 0..*min {
                compile(node, program)?;
            }
            match max {
                None => {
                    let split = program.len();
                    program.push(Inst::Split(split + 1, 0));
                    compile(node, program)?;
                    program.push(Inst::Jump(split));
                    let after = program.len();
                    program[split] = Inst::Split(split + 1, after);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(program.len());
                        program.push(Inst::Split(0, 0));
                        compile(node, program)?;
                    }
                    let end = program.len();
                    for split in splits {
                        program[split] = Inst::Split(split + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
}

/// A recursive-descent reader of the pattern (nesting is bounded by the pattern, which is the spec's).
struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        self.at += usize::from(found);
        found
    }

    fn alternation(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.concat()?];
        while self.eat('|') {
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 { branches.remove(0) } else { Node::Alternation(branches) })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek()
            && c != '|'
            && c != ')'
        {
            let atom = self.atom()?;
            nodes.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(nodes))
    }

    fn atom(&mut self) -> Result<Node, String> {
        let Some(c) = self.peek() else { return Err("the pattern ends early".into()) };
        self.at += 1;
        Ok(match c {
            '^' => Node::Start,
            '$' => Node::End,
            '.' => Node::Set(Set::Dot),
            '(' => {
                if self.eat('?') && !self.eat(':') {
                    return Err("look-arounds and named groups are not supported".into());
                }
                let inner = self.alternation()?;
                if !self.eat(')') {
                    return Err("a group is not closed".into());
                }
                inner
            }
            '[' => Node::Set(self.class()?),
            '\\' => Node::Set(self.escape(false)?),
            '*' | '+' | '?' => return Err(format!("nothing to repeat before `{c}`")),
            ')' | ']' => return Err(format!("unmatched `{c}`")),
            c => Node::Set(Set::one(c)),
        })
    }

    /// The quantifier after an atom, if any.
    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => match self.counted() {
                Some(bounds) => bounds,
                None => return Ok(atom),
            },
            _ => return Ok(atom),
        };
        // The quantifier's last character (`*`, `+`, `?` or the `}` of a count), then a lazy `?`.
        self.at += 1;
        self.eat('?');
        if matches!(atom, Node::Start | Node::End) {
            return Err("an anchor cannot be repeated".into());
        }
        if max.is_some_and(|max| max < min) || min > MAX_REPEAT || max.is_some_and(|max| max > MAX_REPEAT) {
            return Err("a repeat count is out of range".into());
        }
        Ok(Node::Repeat { node: Box::new(atom), min, max })
    }

    /// `{n}`, `{n,}` or `{n,m}` at the cursor, leaving the cursor on the `}`; `None` (cursor kept) when
    /// the brace is a literal.
    fn counted(&mut self) -> Option<(u32, Option<u32>)> {
        let start = self.at;
        self.at += 1;
        let number = |parser: &mut Parser| {
            let begin = parser.at;
            while parser.peek().is_some_and(|c| c.is_ascii_digit()) {
                parser.at += 1;
            }
            parser.chars[begin..parser.at].iter().collect::<String>().parse::<u32>().ok()
        };
        let bounds = number(self).and_then(|min| match self.peek() {
            Some('}') => Some((min, Some(min))),
            Some(',') => {
                self.at += 1;
                match (self.peek(), number(self)) {
                    (Some('}'), _) => Some((min, None)),
                    (_, Some(max)) if self.peek() == Some('}') => Some((min, Some(max))),
                    _ => None,
                }
            }
            _ => None,
        });
        if bounds.is_none() {
            self.at = start;
        }
        bounds
    }

    /// A `[…]` class, the cursor after the `[`.
    fn class(&mut self) -> Result<Set, String> {
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.peek() else { return Err("a class is not closed".into()) };
            self.at += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = match c {
                '\\' => match self.escape(true)? {
                    Set::Ranges { ranges: escaped, negated: false }
                        if escaped.len() == 1 && escaped[0].0 == escaped[0].1 =>
                    {
                        escaped[0].0
                    }
                    Set::Ranges { ranges: escaped, negated: false } => {
                        ranges.extend(escaped);
                        continue;
                    }
                    _ => return Err("a negated escape inside a class is not supported".into()),
                },
                c => c,
            };
            if self.peek() == Some('-') && self.chars.get(self.at + 1).is_some_and(|&next| next != ']') {
                self.at += 1;
                let high = match self.peek() {
                    Some('\\') => {
                        self.at += 1;
                        match self.escape(true)? {
                            Set::Ranges { ranges: r, negated: false } if r.len() == 1 && r[0].0 == r[0].1 => r[0].0,
                            _ => return Err("a class range ends in a class".into()),
                        }
                    }
                    Some(high) => {
                        self.at += 1;
                        high
                    }
                    None => return Err("a class is not closed".into()),
                };
                if high < low {
                    return Err("a class range is out of order".into());
                }
                ranges.push((low, high));
            } else {
                ranges.push((low, low));
            }
        }
        Ok(Set::Ranges { ranges, negated })
    }

    /// The escape after a `\`.
    fn escape(&mut self, in_class: bool) -> Result<Set, String> {
        let Some(c) = self.peek() else { return Err("the pattern ends in `\\`".into()) };
        self.at += 1;
        let class = |ranges: &[(char, char)], negated| Set::Ranges { ranges: ranges.to_vec(), negated };
        Ok(match c {
            'd' => class(DIGIT, false),
            'D' => class(DIGIT, true),
            'w' => class(WORD, false),
            'W' => class(WORD, true),
            's' => class(SPACE, false),
            'S' => class(SPACE, true),
            't' => Set::one('\t'),
            'n' => Set::one('\n'),
            'r' => Set::one('\r'),
            'f' => Set::one('\u{c}'),
            'v' => Set::one('\u{b}'),
            'b' if in_class => Set::one('\u{8}'),
            c if c.is_ascii_punctuation() || c == ' ' => Set::one(c),
            c => return Err(format!("the escape `\\{c}` is not supported")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn phone_numbers_of_the_description() {
        let pattern = r"^\+?[1-9]\d{1,14}$";
        for good in ["+4921100000000", "4921100000000", "12", "+123456789012345"] {
            assert!(matches(pattern, good), "{good}");
        }
        for bad in ["", "+", "+0211", "1", "+1234567890123456", "+49 211", "+49211x", "0049211", "+4921\n"] {
            assert!(!matches(pattern, bad), "{bad:?}");
        }
    }

    #[test]
    fn unanchored_patterns_match_anywhere() {
        assert!(matches("b+", "abbc"));
        assert!(!matches("^b+", "abbc"));
        assert!(matches("c$", "abc"));
        assert!(matches("", "anything"));
    }

    #[test]
    fn classes_groups_alternation_and_counts() {
        assert!(matches("^[a-z_]{2,3}$", "a_b"));
        assert!(!matches("^[a-z_]{2,3}$", "abcd"));
        assert!(matches(r"^[^\s]+$", "no-space"));
        assert!(!matches(r"^[^\s]+$", "a space"));
        assert!(matches("^(?:ab|cd)+$", "abcdab"));
        assert!(!matches("^(ab|cd)+$", "abc"));
        assert!(matches(r"^\w+@\w+\.de$", "ada@example.de"));
        assert!(matches("^a{2,}$", "aaaa"));
        assert!(!matches("^a{2,}$", "a"));
        assert!(matches("^x{,2}$", "x{,2}"), "a brace that is no count is a literal");
        assert!(matches("^.$", "é"));
        assert!(!matches("^.$", "\n"));
        assert!(matches("^a*?b$", "aab"));
    }

    #[test]
    fn unsupported_syntax_is_refused_not_guessed() {
        for pattern in ["(?=a)", r"(a)\1", "(a", "[a", "*a", r"\p{L}", "a{3,1}", "^*"] {
            assert!(Pattern::new(pattern).is_err(), "{pattern}");
        }
    }

    #[test]
    fn a_long_hostile_value_is_answered_in_linear_time() {
        let pattern = Pattern::new("^(a+)+$").unwrap();
        let text = format!("{}!", "a".repeat(100_000));
        assert!(!pattern.is_match(&text));
    }

    /// Every pattern of the description reads and matches the spec's own examples (the matcher's test
    /// "against every pattern in the file").
    #[test]
    fn every_pattern_of_the_description_is_supported() {
        let mut found = 0;
        let mut check = |schema: &serde_json::Value| {
            if let Some(source) = schema.get("pattern").and_then(serde_json::Value::as_str) {
                let pattern = Pattern::new(source).unwrap_or_else(|e| panic!("{source}: {e}"));
                if let Some(example) = schema.get("example").and_then(serde_json::Value::as_str) {
                    assert!(pattern.is_match(example), "{source} does not match its example {example}");
                }
                found += 1;
            }
        };
        crate::mock::validate::each_schema(&mut check);
        assert!(found >= 1, "the description has a pattern (`IncomingEntry.phoneNumber`)");
    }
}
