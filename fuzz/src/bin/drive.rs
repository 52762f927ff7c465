//! A stable-toolchain stand-in for libFuzzer: runs one target (or all) on N inputs made from a seed
//! corpus by random mutation (byte flips, inserts, deletes, splices, interesting tokens). No coverage
//! feedback, so it finds less than libFuzzer, but it runs anywhere `cargo` does.
//!
//! `cargo run --release --bin drive -- TARGET|all EXECUTIONS [SEED]`

use std::time::Instant;

use sipgate_oauth_fuzz::TARGETS;

/// Tokens that steer inputs towards the parsers' interesting paths.
const DICTIONARY: &[&str] = &[
    "GET ",
    "POST ",
    " HTTP/1.1\r\n",
    "\r\n\r\n",
    "/oauth?",
    "state=",
    "code=",
    "error=",
    "&",
    "=",
    "%",
    "%zz",
    "%ff",
    "+",
    "Content-Length: ",
    "Transfer-Encoding: chunked",
    "{",
    "}",
    "\"access_token\":",
    "\"token_type\":\"bearer\"",
    "\"refresh_token\":",
    "\"expires_in\":",
    "\"error\":",
    "\"error_description\":",
    "http://",
    "https://",
    "localhost",
    "127.0.0.1",
    "[::1]",
    ":8080",
    "/token",
    "grant_type=authorization_code",
    "grant_type=refresh_token",
    "client_id=sipgate-oauth-demo",
    "client_secret=demo-secret",
    "Basic ",
    "redirect_uri=",
    "\n",
    "\"device_code\":\"d\",",
    "\"user_code\":",
    "\"verification_uri\":\"https://x/d\",",
    "\"interval\":",
    "\"expires_in\":1000",
    "\"authorization_pending\"",
    "\"slow_down\"",
    "\u{0}",
    "\u{1b}[",
    "\r\n",
    "\u{ff}",
    "===",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !input.is_empty() => {
                let at = rng.below(input.len());
                input[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(input.len() + 1);
                input.insert(at, rng.next() as u8);
            }
            2 if !input.is_empty() => {
                let at = rng.below(input.len());
                let len = rng.below(input.len() - at + 1);
                input.drain(at..at + len);
            }
            3 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                let at = rng.below(input.len() + 1);
                input.splice(at..at, word.iter().copied());
            }
            4 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                let at = rng.below(input.len() + 1);
                input.splice(at.., other[from..].iter().copied());
            }
            _ => input.truncate(4096),
        }
    }
    input.truncate(4096);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let executions: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let seed: u64 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0x5eed);
    let corpus: Vec<Vec<u8>> = DICTIONARY.iter().map(|w| w.as_bytes().to_vec()).chain([Vec::new()]).collect();
    for (name, target) in TARGETS.iter().filter(|(name, _)| which == "all" || which == *name) {
        let mut rng = Rng(seed | 1);
        let started = Instant::now();
        let mut input = Vec::new();
        for n in 0..executions {
            if n % 64 == 0 {
                input = corpus[rng.below(corpus.len())].clone();
            }
            mutate(&mut rng, &mut input, &corpus);
            target(&input);
        }
        println!("{name}: {executions} executions, 0 crashes, {:.1} s", started.elapsed().as_secs_f64());
    }
}
