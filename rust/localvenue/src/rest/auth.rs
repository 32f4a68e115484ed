//! Authentication of signed requests, with the checks and error codes of the venues.
//!
//! | check | Binance | Bybit v5 |
//! |---|---|---|
//! | API key missing | 401 `-2014 API-key format invalid.` | `10003` |
//! | API key unknown | 401 `-2015 Invalid API-key, IP, or permissions for action.` | `10003 API key is invalid.` |
//! | `timestamp` / `signature` missing | 400 `-1102` | `10004` / `10002` |
//! | `recvWindow` above 60000 | 400 `-1131` | - |
//! | timestamp outside `[server - recvWindow, server + 1 s)` | 400 `-1021` | `10002` |
//! | signature wrong | 400 `-1022` | `10004 error sign!` |
//!
//! Binance signs `query + body` (without the `signature` parameter) with HMAC-SHA256 (hex) or Ed25519
//! (base64); Bybit signs `timestamp + key + recvWindow + payload` (payload: the query of a GET, the
//! body of a POST). Signatures are compared in constant time; no error message repeats a signature,
//! a secret or the signed text.
use axum::http::{HeaderMap, StatusCode};
use ferrotrade_venues::auth::{bybit_rest_signature, hmac_hex, signatures_equal, verify_binance_ed25519};

use super::Refusal;
use super::params::{Params, decode, strip_signature};
use crate::clock::wall_ms;
use crate::state::Shared;

/// The default and largest `recvWindow` (ms).
const DEFAULT_RECV_WINDOW: u64 = 5000;
const MAX_RECV_WINDOW: u64 = 60_000;

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

/// The account of the `X-MBX-APIKEY` header (endpoints that need the key only: listenKeys).
///
/// # Errors
/// The venue's 401 refusal.
pub(crate) fn binance_key(shared: &Shared, headers: &HeaderMap) -> Result<usize, Refusal> {
    let Some(key) = header(headers, "x-mbx-apikey") else {
        return Err(Refusal::new(StatusCode::UNAUTHORIZED, -2014, "API-key format invalid."));
    };
    shared
        .account(key)
        .ok_or_else(|| Refusal::new(StatusCode::UNAUTHORIZED, -2015, "Invalid API-key, IP, or permissions for action."))
}

/// Verifies a Binance `SIGNED` request; returns the account and the decoded parameters.
///
/// # Errors
/// The venue's refusal (see the module docs).
pub(crate) fn binance_signed(
    shared: &Shared,
    headers: &HeaderMap,
    query: &str,
    body: &str,
) -> Result<(usize, Params), Refusal> {
    let account = binance_key(shared, headers)?;
    let params = Params::parse(query, body);
    let Some(timestamp) = params.non_empty("timestamp") else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ));
    };
    let Ok(timestamp) = timestamp.parse::<u64>() else {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, -1100, "Illegal characters found in parameter 'timestamp'."));
    };
    let recv_window = match params.non_empty("recvWindow") {
        None => DEFAULT_RECV_WINDOW,
        Some(text) => match text.split('.').next().and_then(|whole| whole.parse::<u64>().ok()) {
            Some(window) if window <= MAX_RECV_WINDOW => window,
            _ => return Err(Refusal::new(StatusCode::BAD_REQUEST, -1131, "recvWindow must be less than 60000")),
        },
    };
    let now = wall_ms();
    let ahead = u64::try_from(shared.config.sessions.max_clock_ahead.as_millis()).unwrap_or(u64::MAX);
    if timestamp >= now.saturating_add(ahead) || now.saturating_sub(timestamp) > recv_window {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    let (query_rest, query_signature) = strip_signature(query);
    let (body_rest, body_signature) = strip_signature(body);
    let Some(signature) = query_signature.or(body_signature).map(|s| decode(&s)).filter(|s| !s.is_empty()) else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        ));
    };
    let payload = format!("{query_rest}{body_rest}");
    let owner = &shared.config.accounts[account];
    let hmac_ok = signatures_equal(&hmac_hex(owner.secret.expose().as_bytes(), payload.as_bytes()), &signature);
    let ed25519_ok =
        || owner.ed25519_public_pem.as_deref().is_some_and(|pem| verify_binance_ed25519(pem, &payload, &signature));
    if !hmac_ok && !ed25519_ok() {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, -1022, "Signature for this request is not valid."));
    }
    Ok((account, params))
}

/// A Bybit authentication failure: `(retCode, retMsg)`.
pub(crate) type BybitAuthError = (i64, &'static str);

/// Verifies a Bybit v5 signed request (`payload`: the query of a GET, the body of a POST); returns the
/// account.
///
/// # Errors
/// `(retCode, retMsg)` per the module docs.
pub(crate) fn bybit_signed(shared: &Shared, headers: &HeaderMap, payload: &str) -> Result<usize, BybitAuthError> {
    const INVALID_KEY: BybitAuthError = (10003, "API key is invalid.");
    const BAD_TIME: BybitAuthError =
        (10002, "invalid request, please check your server timestamp or recv_window param");
    let key = header(headers, "x-bapi-api-key").ok_or(INVALID_KEY)?;
    let account = shared.account(key).ok_or(INVALID_KEY)?;
    let timestamp = header(headers, "x-bapi-timestamp").and_then(|t| t.parse::<u64>().ok()).ok_or(BAD_TIME)?;
    let recv_window = match header(headers, "x-bapi-recv-window") {
        None => DEFAULT_RECV_WINDOW,
        Some(text) => text.parse::<u64>().map_err(|_| BAD_TIME)?,
    };
    let now = wall_ms();
    let ahead = u64::try_from(shared.config.sessions.max_clock_ahead.as_millis()).unwrap_or(u64::MAX);
    if timestamp >= now.saturating_add(ahead) || now.saturating_sub(timestamp) > recv_window {
        return Err(BAD_TIME);
    }
    let signature = header(headers, "x-bapi-sign").ok_or((10004, "error sign!"))?;
    let owner = &shared.config.accounts[account];
    let expected = bybit_rest_signature(owner.secret.expose(), timestamp, key, recv_window, payload);
    if !signatures_equal(&expected, signature) {
        return Err((10004, "error sign!"));
    }
    Ok(account)
}
