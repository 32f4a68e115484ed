//! Request signing for Binance and Bybit, exactly as the venues verify it, and API credentials that never
//! print their secret.
//!
//! | venue | what is signed | algorithm | where the signature goes |
//! |---|---|---|---|
//! | Binance (spot, USD-M) | the query string (and form body) up to, not including, `&signature=` | HMAC-SHA256, lower-case hex; or Ed25519, base64 | `signature` parameter; key in `X-MBX-APIKEY` |
//! | Bybit v5 REST | `timestamp + api_key + recv_window + payload` (payload: the query string of a GET, the JSON body of a POST) | HMAC-SHA256, lower-case hex | `X-BAPI-SIGN`, with `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`, `X-BAPI-RECV-WINDOW` |
//! | Bybit v5 private WS | `"GET/realtime" + expires` | HMAC-SHA256, lower-case hex | `{"op":"auth","args":[api_key, expires, signature]}` |
//!
//! The local venue verifies with the same functions the engine signs with; the tests reproduce the
//! signature examples of the venues' own API documentation, so both sides are pinned to the venues' rules,
//! not only to each other.

use std::fmt;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signer as _, Verifier as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A secret that never appears in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for signing only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How requests are signed.
#[derive(Clone)]
pub enum SigningKey {
    /// HMAC-SHA256 with the API secret (Binance and Bybit).
    Hmac(Secret),
    /// Ed25519 with a private key (Binance only).
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigningKey::Hmac(_) => f.write_str("SigningKey::Hmac(***)"),
            SigningKey::Ed25519(_) => f.write_str("SigningKey::Ed25519(***)"),
        }
    }
}

/// An API key and the means to sign with it. `Debug` shows the key's first four characters only.
#[derive(Clone)]
pub struct Credentials {
    /// The API key sent in headers (not a secret by itself, but still shortened in output).
    pub api_key: String,
    /// The signing key.
    pub signing: SigningKey,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.api_key.chars().take(4).collect();
        f.debug_struct("Credentials").field("api_key", &format!("{shown}...")).field("signing", &self.signing).finish()
    }
}

/// Why a key could not be used.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// The Ed25519 key is not a PKCS#8 PEM key. The key itself is never part of the message.
    #[error("the Ed25519 key is not a valid PKCS#8 PEM key")]
    BadEd25519Key,
    /// Bybit signs with HMAC only.
    #[error("Bybit accepts only HMAC keys")]
    HmacOnly,
}

impl Credentials {
    /// HMAC credentials.
    #[must_use]
    pub fn hmac(api_key: impl Into<String>, secret: impl Into<String>) -> Credentials {
        Credentials { api_key: api_key.into(), signing: SigningKey::Hmac(Secret::new(secret)) }
    }

    /// Ed25519 credentials from a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    ///
    /// # Errors
    /// [`AuthError::BadEd25519Key`] when the PEM does not hold an Ed25519 private key.
    pub fn ed25519_pem(api_key: impl Into<String>, pem: &str) -> Result<Credentials, AuthError> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|_| AuthError::BadEd25519Key)?;
        Ok(Credentials { api_key: api_key.into(), signing: SigningKey::Ed25519(Box::new(key)) })
    }

    /// The Binance `signature` value for `payload` (the query string, and the form body appended without a
    /// separator when there is one).
    #[must_use]
    pub fn binance_signature(&self, payload: &str) -> String {
        match &self.signing {
            SigningKey::Hmac(secret) => hmac_hex(secret.expose().as_bytes(), payload.as_bytes()),
            SigningKey::Ed25519(key) => {
                base64::engine::general_purpose::STANDARD.encode(key.sign(payload.as_bytes()).to_bytes())
            }
        }
    }

    /// The Bybit v5 `X-BAPI-SIGN` value.
    ///
    /// # Errors
    /// [`AuthError::HmacOnly`] for an Ed25519 key.
    pub fn bybit_signature(&self, timestamp_ms: u64, recv_window_ms: u64, payload: &str) -> Result<String, AuthError> {
        let SigningKey::Hmac(secret) = &self.signing else { return Err(AuthError::HmacOnly) };
        Ok(bybit_rest_signature(secret.expose(), timestamp_ms, &self.api_key, recv_window_ms, payload))
    }

    /// The Bybit v5 private WebSocket `auth` signature for a request valid until `expires_ms`.
    ///
    /// # Errors
    /// [`AuthError::HmacOnly`] for an Ed25519 key.
    pub fn bybit_ws_signature(&self, expires_ms: u64) -> Result<String, AuthError> {
        let SigningKey::Hmac(secret) = &self.signing else { return Err(AuthError::HmacOnly) };
        Ok(bybit_ws_signature(secret.expose(), expires_ms))
    }
}

/// HMAC-SHA256 of `message` with `key`, in lower-case hex.
#[must_use]
pub fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    HmacKey::new(key).sign_hex(message).as_str().to_owned()
}

/// An HMAC-SHA256 key with its padded inner and outer states already hashed, for signing many requests
/// with one secret.
///
/// `Hmac::new_from_slice` costs two SHA-256 compressions (the key XOR ipad and XOR opad blocks) before a
/// byte of the message is hashed; an order's query string is three to four blocks more. Keeping the keyed
/// state and cloning it per message saves those two compressions on every signed request, and
/// [`HmacKey::sign_hex`] writes the hex digest on the stack, without an allocation.
#[derive(Clone)]
pub struct HmacKey {
    keyed: HmacSha256,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey(***)")
    }
}

/// A lower-case hex HMAC-SHA256 digest (64 ASCII characters), held inline.
#[derive(Clone, Copy)]
pub struct HexDigest([u8; 64]);

impl fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A request signature authorizes that request: never printed.
        f.write_str("HexDigest(***)")
    }
}

impl HexDigest {
    /// The digest as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Hex digits are ASCII; the buffer is always filled by `hex::encode_to_slice`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl HmacKey {
    /// The keyed state of `secret` (any length: HMAC hashes a longer key first).
    #[must_use]
    pub fn new(secret: &[u8]) -> HmacKey {
        // HMAC accepts keys of any length, so this cannot fail.
        let keyed =
            <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        HmacKey { keyed }
    }

    /// HMAC-SHA256 of `message`, in lower-case hex.
    #[must_use]
    pub fn sign_hex(&self, message: &[u8]) -> HexDigest {
        self.sign_hex_parts(&[message])
    }

    /// HMAC-SHA256 of the concatenation of `parts` (signed as one message, never joined in memory), in
    /// lower-case hex.
    #[must_use]
    pub fn sign_hex_parts(&self, parts: &[&[u8]]) -> HexDigest {
        let mut mac = self.keyed.clone();
        for part in parts {
            mac.update(part);
        }
        let mut out = [0u8; 64];
        // 32 bytes always fit 64 hex digits.
        let _ = hex::encode_to_slice(mac.finalize().into_bytes(), &mut out);
        HexDigest(out)
    }
}

/// Bybit v5 REST signature: `hex(HMAC(secret, timestamp + api_key + recv_window + payload))`.
#[must_use]
pub fn bybit_rest_signature(
    secret: &str,
    timestamp_ms: u64,
    api_key: &str,
    recv_window_ms: u64,
    payload: &str,
) -> String {
    let message = format!("{timestamp_ms}{api_key}{recv_window_ms}{payload}");
    hmac_hex(secret.as_bytes(), message.as_bytes())
}

/// Bybit v5 WebSocket auth signature: `hex(HMAC(secret, "GET/realtime" + expires))`.
#[must_use]
pub fn bybit_ws_signature(secret: &str, expires_ms: u64) -> String {
    hmac_hex(secret.as_bytes(), format!("GET/realtime{expires_ms}").as_bytes())
}

/// Constant-time comparison of two signatures (what a verifier must use).
#[must_use]
pub fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies a Binance Ed25519 `signature` (base64) of `payload` against a PKCS#8 PEM public key.
#[must_use]
pub fn verify_binance_ed25519(public_key_pem: &str, payload: &str, signature_b64: &str) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(public_key_pem) else { return false };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(signature_b64) else { return false };
    let Ok(signature) = ed25519_dalek::Signature::from_slice(&bytes) else { return false };
    key.verify(payload.as_bytes(), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binance, "SIGNED Endpoint Examples for POST /api/v3/order - HMAC Keys" (spot API docs).
    #[test]
    fn binance_hmac_reproduces_the_documented_example() {
        let credentials = Credentials::hmac(
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        );
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            credentials.binance_signature(query),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    /// Bybit v5 "Integration guidance", Authentication: the documented plain text (`param_str`) of a GET
    /// and of a POST. The docs publish no secret, so the test pins what is signed, in which order.
    #[test]
    fn bybit_signs_the_documented_param_str() {
        let credentials = Credentials::hmac("XXXXXXXXXX", "secret");
        let get = "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C";
        assert_eq!(
            credentials.bybit_signature(1_658_384_314_791, 5_000, "category=option&symbol=BTC-29JUL22-25000-C"),
            Ok(hmac_hex(b"secret", get.as_bytes()))
        );
        let post = "1658385579423XXXXXXXXXX5000{\n\"category\": \"option\"\n}";
        assert_eq!(
            credentials.bybit_signature(1_658_385_579_423, 5_000, "{\n\"category\": \"option\"\n}"),
            Ok(hmac_hex(b"secret", post.as_bytes()))
        );
    }

    #[test]
    fn a_kept_key_signs_as_a_fresh_one() {
        let key = HmacKey::new(b"secret");
        for message in [&b""[..], b"symbol=BTCUSDT", &[b'x'; 300][..]] {
            let fresh = <HmacSha256 as Mac>::new_from_slice(b"secret").map(|mut mac| {
                mac.update(message);
                hex::encode(mac.finalize().into_bytes())
            });
            assert_eq!(Ok(key.sign_hex(message).as_str().to_owned()), fresh.map_err(|_| ()));
        }
        let long_secret = [7u8; 100];
        assert_eq!(HmacKey::new(&long_secret).sign_hex(b"m").as_str(), hmac_hex(&long_secret, b"m"));
        assert_eq!(key.sign_hex_parts(&[b"symbol=", b"BTC", b"USDT"]).as_str(), hmac_hex(b"secret", b"symbol=BTCUSDT"));
        assert_eq!(format!("{key:?}"), "HmacKey(***)");
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let credentials = Credentials::hmac("abcdefgh", "topsecretvalue");
        let shown = format!("{credentials:?}");
        assert!(!shown.contains("topsecretvalue"), "{shown}");
        assert!(!shown.contains("abcdefgh"), "{shown}");
    }

    #[test]
    fn signature_comparison_is_exact() {
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "abcd"));
    }
}
