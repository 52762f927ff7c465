//! The help text: what `--help` prints.

/// The text of `--help`.
pub const HELP: &str = "\
sipgate-oauth — sign in to sipgate with OAuth 2.0, keep the tokens, call the API

USAGE:
    sipgate-oauth [OPTIONS] [COMMAND]

COMMANDS:
    (none)           sign in in the browser, GET TEST_API_ENDPOINT, refresh, GET it again; keep the tokens
    demo             the same flow against a built-in sipgate stand-in: offline, no .env needed
    login            sign in in the browser and keep the tokens
    token [--json]   print a valid access token (refreshed when needed) on stdout
    account          GET TEST_API_ENDPOINT with the kept tokens
    api [METHOD] PATH [--data JSON|@FILE] [--paginate]
                     call any API path below API_BASE_URL with the kept tokens;
                     {userId} in PATH is the signed-in user; --paginate gathers
                     every page of a list (GET) into one JSON array
                     (METHOD: GET, or POST when --data is given)
    api --list [WORD] [--json]
                     list the API's operations (method, path, scopes), those matching WORD
    scopes [WORD] [--json]
                     list sipgate's scopes with what each allows, those matching WORD
    status [--json]  show whether tokens are kept and when they expire (no secrets)
    logout           revoke the tokens at the server and delete them here
    mock [OPTIONS]   run the sipgate stand-in on 127.0.0.1 (see `sipgate-oauth mock --help`)

OPTIONS (before or after the command; --name=value works too):
    --env-file PATH      read configuration from PATH instead of ./.env
    --timeout SECONDS    how long to wait for the browser's sign-in [default: 300]
    --no-browser         only print the sign-in URL, do not open a browser
    --device             (none), login, demo: sign in on another device with a code (device flow)
    -v, --verbose        trace every HTTP exchange on stderr, secrets replaced by [redacted]
    -h, --help           print this help
    -V, --version        print the version

ENVIRONMENT (the keys of sipgate's Python example; the environment wins over .env):
    AUTH_URL, TOKEN_URL      sipgate's authorization and token endpoints
    TEST_API_ENDPOINT        the API URL called after sign-in (https://api.sipgate.com/v2/account)
    CLIENT_ID, CLIENT_SECRET your client from https://console.sipgate.com
    OAUTH_SCOPE              space-separated scopes, e.g. account:read
    REDIRECT_URI             the registered loopback redirect, e.g. http://localhost:8080/oauth
    PORT                     optional; must equal REDIRECT_URI's port
    API_BASE_URL             base of `api` paths [default: TEST_API_ENDPOINT without its last segment]
    REVOKE_URL, LOGOUT_URL   logout endpoints [default: next to TOKEN_URL]
    DEVICE_AUTH_URL          device authorization endpoint for --device [default: from discovery]
    SIPGATE_OAUTH_STORE      where tokens are kept [default: $XDG_CONFIG_HOME/sipgate-oauth]
    BROWSER                  the program that opens the sign-in URL [default: xdg-open / open / start]
    HTTPS_PROXY, NO_PROXY    proxy settings

EXIT CODES:
    0 success, 1 the run failed, 2 usage or configuration error
";
