//! The commands that use a kept sign-in without signing in: `token`, `account`, `logout` (one profile
//! or all), `status`. Each is a function from the parsed command line to output on `out` (results) and
//! `err` (everything said to the user).

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use sipgate_oauth::{Config, Error, KeptProfile, Profiles, Session};

use super::command::Cli;
use super::output::{message, note, pretty, write_out};

/// `token`: a valid access token on stdout, and nothing else; with `--header` as an `Authorization`
/// header line, with `--json` with the fields `status --json` names the same way.
pub fn token(session: &Session, (json, header): (bool, bool), profile: &str, out: &mut dyn Write) -> Result<(), Error> {
    let tokens = session.valid_tokens()?;
    if header {
        return write_out(out, &format!("Authorization: Bearer {}\n", tokens.access_token.secret()));
    }
    if !json {
        return write_out(out, &format!("{}\n", tokens.access_token.secret()));
    }
    let shown = serde_json::json!({
        "access_token": tokens.access_token.secret(),
        "access_expires_at": unix_seconds(tokens.expires_at),
        "scope": tokens.scope,
        "profile": profile,
    });
    write_out(out, &format!("{shown}\n"))
}

/// `account` and `api`: one call with the kept tokens; the body on stdout.
pub fn api_call(
    session: &Session,
    method: &str,
    path: &str,
    body: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let response = session.call(method, path, body)?;
    if response.body.is_empty() {
        return Ok(());
    }
    write_out(out, &format!("{}\n", pretty(&response.body)))
}

/// `logout`: revoke at the server, delete here. Nothing kept is [`Error::NotSignedIn`] (exit 4, with the
/// `login --profile NAME` to run), as for `status`.
pub fn logout(session: &Session, err: &mut dyn Write) -> Result<(), Error> {
    report_sign_out(session.logout(), err)
}

/// What a sign-out did, said on `err`: revoked and deleted, or deleted only (and why).
fn report_sign_out(outcome: Result<Option<Error>, Error>, err: &mut dyn Write) -> Result<(), Error> {
    match outcome {
        Ok(None) => note(err, "Signed out: the tokens were revoked at the server and deleted here."),
        Ok(Some(error)) => note(
            err,
            &format!(
                "Signed out here: the tokens were deleted. But revoking them at the server failed ({error}), \
                 so the refresh token may stay valid until it expires."
            ),
        ),
        Err(error) => return Err(error),
    }
    Ok(())
}

/// `status`: every kept profile, whether it is signed in and when its tokens expire; never a secret. Needs
/// no configuration. After the report: exit 4 (sign in needed) when the selected profile has no usable
/// sign-in, as `gh auth status` does; exit 1 when the configuration here is for another client than the
/// selected profile signed in with (so every other command would refuse its tokens).
pub fn status(cli: &Cli, json: bool, out: &mut dyn Write) -> Result<(), Error> {
    let profiles = Profiles::locate(cli.env_file.as_deref(), cli.profile.as_deref())?;
    let selected = profiles.selected().to_owned();
    let mut names = profiles.names()?;
    if !names.contains(&selected) {
        names.insert(0, selected.clone());
    }
    // A profile that cannot be read is reported as such; the others are listed all the same.
    let kept: Vec<(String, Result<Option<KeptProfile>, Error>)> =
        names.into_iter().map(|name| (name.clone(), profiles.load(&name))).collect();
    let usable = |kept: &Result<Option<KeptProfile>, Error>| matches!(kept, Ok(Some(k)) if k.tokens.usable());
    // The configuration here is for another client than the selected profile's: the exit and the reason.
    let other_here = kept.iter().find(|(name, _)| *name == selected).and_then(|(_, kept)| match kept {
        Ok(Some(found)) => other_client_here(cli, found),
        _ => None,
    });
    if json {
        let entry = |name: &str, kept: &Result<Option<KeptProfile>, Error>| {
            let found = kept.as_ref().ok().and_then(Option::as_ref);
            let tokens = found.map(|k| &k.tokens);
            let other_here = other_here.as_ref().filter(|_| name == selected);
            serde_json::json!({
                "profile": name,
                "signed_in": usable(kept),
                "client_id": found.map(|k| &k.client_id),
                "scope": tokens.and_then(|t| t.scope.clone()),
                "access_expires_at": tokens.map(|t| unix_seconds(t.expires_at)),
                "refresh_expires_at": tokens.and_then(|t| t.refresh_expires_at.map(unix_seconds)),
                "has_refresh_token": tokens.is_some_and(|t| t.refresh_token.is_some()),
                "file": found.map(|k| &k.path),
                "error": kept.as_ref().err().or(other_here).map(message),
            })
        };
        let mut shown =
            kept.iter().find(|(name, _)| *name == selected).map_or(serde_json::Value::Null, |(n, k)| entry(n, k));
        shown["profiles"] = kept.iter().map(|(name, kept)| entry(name, kept)).collect();
        write_out(out, &format!("{shown}\n"))?;
    } else {
        let text: String = kept.iter().map(|(name, kept)| describe_profile(name, kept, *name == selected)).collect();
        write_out(out, &text)?;
    }
    let why = match kept.into_iter().find(|(name, _)| *name == selected) {
        Some((_, Err(error))) => return Err(error),
        Some((_, Ok(Some(found)))) => match other_here {
            Some(error) => return Err(error),
            None if found.tokens.usable() => return Ok(()),
            None => "its kept tokens have expired",
        },
        _ => return Err(not_signed_in(&selected)),
    };
    Err(Error::SignInNeeded { message: Profiles::sign_in_needed(&selected, why) })
}

/// Exit 4 with the `login --profile NAME` to run: `profile` keeps nothing.
fn not_signed_in(profile: &str) -> Error {
    Error::SignInNeeded { message: Profiles::sign_in_needed(profile, "nothing is kept for it") }
}

/// For `logout` whose configuration does not load (nothing of it is in the environment or `.env`): when
/// the selected profile keeps nothing either, that is the answer (exit 4, as `status`), not the missing
/// setting.
pub fn nothing_kept(cli: &Cli) -> Option<Error> {
    let profiles = Profiles::locate(cli.env_file.as_deref(), cli.profile.as_deref()).ok()?;
    matches!(profiles.load(profiles.selected()), Ok(None)).then(|| not_signed_in(profiles.selected()))
}

/// [`Error::OtherClient`] when the configuration here (the environment, `--env-file` or `./.env`, the
/// profile's own filling the rest) is for another client than `kept`: every other command would refuse
/// its tokens. A configuration that does not load is not such a case: `status` needs none.
fn other_client_here(cli: &Cli, kept: &KeptProfile) -> Option<Error> {
    let config = Config::load(cli.env_file.as_deref(), Some(&kept.name)).ok()?;
    kept.other_client_than(&config)
}

/// One profile for `status`: a heading line, then its details indented.
fn describe_profile(name: &str, kept: &Result<Option<KeptProfile>, Error>, selected: bool) -> String {
    let marker = if selected { " (selected)" } else { "" };
    let kept = match kept {
        Err(error) => return format!("{name}{marker}: cannot be read — {}\n", message(error)),
        Ok(None) => return format!("{name}{marker}: not signed in\n"),
        Ok(Some(kept)) => kept,
    };
    let tokens = &kept.tokens;
    let now = unix_seconds(SystemTime::now());
    let expiry = |time: SystemTime| match unix_seconds(time).saturating_sub(now) {
        0 => "expired".to_owned(),
        secs => format!("in {}", human_duration(secs)),
    };
    let refresh = match (&tokens.refresh_token, tokens.refresh_expires_at) {
        (None, _) => "no refresh token".to_owned(),
        (Some(_), None) => "unknown".to_owned(),
        (Some(_), Some(at)) => expiry(at),
    };
    let state = if tokens.usable() { "signed in" } else { "signed out: the kept tokens have expired" };
    format!(
        "{name}{marker}: {state}\n  client: {}\n  scope: {}\n  access token expires: {}\n  refresh token expires: \
         {refresh}\n  file: {}\n",
        kept.client_id,
        tokens.scope.as_deref().unwrap_or("(not reported)"),
        expiry(tokens.expires_at),
        kept.path.display()
    )
}

/// `logout --all`: every kept profile signed out with its own kept configuration, and every token file of
/// the first version with a configuration for its client (`.env` and the environment, else a profile's).
pub fn logout_all(cli: &Cli, err: &mut dyn Write) -> Result<(), Error> {
    let profiles = Profiles::locate(cli.env_file.as_deref(), None)?;
    let names = profiles.names()?;
    let legacy = profiles.legacy_sign_ins()?;
    if names.is_empty() && legacy.is_empty() {
        note(err, "No profile is kept: nothing to do.");
    }
    // Every sign-in is tried: one that cannot be signed out is named, and the next one is signed out. The
    // first version's go first, while the profiles' configurations are there to revoke their tokens.
    let mut failed = Vec::new();
    let configs: Vec<Config> = Config::load(cli.env_file.as_deref(), None)
        .into_iter()
        .chain(names.iter().filter_map(|name| profiles.config(name).ok()))
        .collect();
    for file in legacy {
        note(err, &format!("{} (kept by the first version):", file.name()));
        if let Err(error) = report_sign_out(file.sign_out(&configs, &|config| cli.http(config)), err) {
            note(err, &format!("  not signed out: {}", message(&error)));
            failed.push(file.name());
        }
    }
    // Listed again: a `token` that carried a first version's file over into a profile before it was signed
    // out above has made that profile since.
    for name in profiles.names()? {
        note(err, &format!("profile {name}:"));
        let signed_out =
            profiles.config(&name).and_then(|config| logout(&Session::new(&cli.http(&config), &config)?, err));
        if let Err(Error::NotSignedIn) = signed_out {
            note(err, "  not signed in: nothing to do");
        } else if let Err(error) = signed_out {
            note(err, &format!("  not signed out: {}", message(&error)));
            failed.push(name);
        }
    }
    if let Err(error) = profiles.remove_stale_legacy_locks() {
        note(err, &format!("  a lock file of the first version stays: {}", message(&error)));
    }
    if failed.is_empty() {
        return Ok(());
    }
    let why = format!("{} could not be signed out: {} — see why above", failed.len(), failed.join(", "));
    Err(Error::Store { path: profiles.path(), source: std::io::Error::other(why) })
}

/// Seconds since the Unix epoch (0 for earlier times).
fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `4 min 32 s`, `29 d 23 h`.
fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        3600..86400 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86400, secs % 86400 / 3600),
    }
}
