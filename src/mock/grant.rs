//! What every grant at the token endpoint shares (the code, refresh and device-code grants): the
//! client's authentication by form fields or HTTP Basic (RFC 6749 §2.3.1) and the token answer (§5.1).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::config::MockClient;
use super::params::{Incoming, param};
use super::reply::Reply;
use super::shared::Shared;
use super::state::Issued;

/// The success body of RFC 6749 §5.1 in Keycloak's shape.
pub(super) fn token_response(shared: &Shared, issued: &Issued) -> Reply {
    let mut body = json!({
        "access_token": issued.access,
        "expires_in": shared.config.access_ttl.as_secs(),
        "refresh_expires_in": shared.config.refresh_ttl.as_secs(),
        "refresh_token": issued.refresh,
        "token_type": "bearer",
        "not-before-policy": 0,
        "session_state": issued.session,
        "scope": issued.scope,
    });
    if let (Some(id_token), Value::Object(map)) = (&issued.id_token, &mut body) {
        map.insert("id_token".to_owned(), Value::String(id_token.clone()));
    }
    Reply::json(200, &body).with_header("Pragma", "no-cache".to_owned())
}

/// Authenticates the client by HTTP Basic or by `client_id`/`client_secret` in the form.
pub(super) fn authenticate<'s>(
    shared: &'s Shared,
    realm: &str,
    request: &Incoming<'_>,
    pairs: &[(String, String)],
) -> Result<&'s MockClient, Reply> {
    let form_id = param(pairs, "client_id")?;
    let (id, secret) = match request.authorization.map(basic_credentials) {
        Some(Some(Ok((id, secret)))) => {
            if form_id.is_some_and(|form_id| form_id != id) {
                return Err(Reply::invalid_request("client_id differs from the Authorization header"));
            }
            (id, Some(secret))
        }
        Some(Some(Err(()))) => return Err(Reply::invalid_request("Invalid Basic Authorization header")),
        // No Authorization header, or another scheme: use the form.
        Some(None) | None => {
            let id = form_id.ok_or_else(|| Reply::missing("client_id"))?.to_owned();
            (id, param(pairs, "client_secret")?.map(str::to_owned))
        }
    };
    let unauthorized = |description: &str| {
        Reply::oauth_error(401, "unauthorized_client", description)
            .with_header("WWW-Authenticate", format!("Basic realm=\"{realm}\""))
    };
    let client = shared.client(&id).ok_or_else(|| unauthorized("Invalid client credentials"))?;
    let secret = secret.ok_or_else(|| unauthorized("Client secret not provided in request"))?;
    if !bool::from(secret.as_bytes().ct_eq(client.secret.as_bytes())) {
        return Err(unauthorized("Invalid client secret"));
    }
    Ok(client)
}

/// The credentials of an `Authorization: Basic` header: `None` if the scheme is another, `Err` if
/// malformed. Both parts are form-urlencoded before base64 (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Option<Result<(String, String), ()>> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decode = |part: &str| {
        percent_decode_str(&part.replace('+', " ")).decode_utf8().map(|value| value.into_owned()).map_err(|_| ())
    };
    Some((|| {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| ())?;
        let text = String::from_utf8(bytes).map_err(|_| ())?;
        let (id, secret) = text.split_once(':').ok_or(())?;
        Ok((decode(id)?, decode(secret)?))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded_per_rfc6749() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret+x"));
        assert_eq!(basic_credentials(&header), Some(Ok(("my app".into(), "s:cret x".into()))));
        assert_eq!(basic_credentials("basic !!!"), Some(Err(())));
        assert_eq!(basic_credentials(&format!("Basic {}", STANDARD.encode("no-colon"))), Some(Err(())));
        assert_eq!(basic_credentials("Bearer abc"), None);
    }
}
