//! The integration tests, one binary: they drive the real `sipgate-oauth` binary and the library against
//! the in-repo stand-in on 127.0.0.1:0. The peer and browser tests (`#[ignore]`d: they need Node.js
//! packages and Chromium, which `.ci/peer-setup` installs) run with
//! `cargo test --test it -- --ignored peer:: browser::`.

mod common;
#[path = "../peer/support.rs"]
mod support;

mod browser;
mod browser_command;
mod calls;
mod cli_habits;
mod completion_injection;
#[cfg(unix)] // bash, zsh and fish
mod completion_words;
mod crafted_server;
mod device;
mod exits;
mod first_hour;
mod flow;
mod hostile;
mod input_bounds;
mod layers;
mod live_session;
#[cfg(unix)] // its test puts a symlink among the profiles
mod logout_all;
mod mcp;
mod mock;
mod mock_server;
mod operations_cli;
mod origin;
#[cfg(unix)]
mod paste;
mod peer;
mod profiles;
mod properties;
mod proxy;
mod proxy_edges;
mod proxy_refresh;
mod session;
mod stand_in_exact;
mod store_crash;
mod store_race;
#[cfg(unix)]
mod store_trust;
mod tls;
mod transport;
mod verbose;
mod whole_api;
#[cfg(windows)]
mod windows;
