//! API credentials from the environment or a key file, as [`ferrotrade_venues::auth::Credentials`].
//!
//! # Sources
//! - `{ env = "FT_BINANCE_USDM" }`: `FT_BINANCE_USDM_API_KEY` with either `FT_BINANCE_USDM_API_SECRET`
//!   (HMAC) or `FT_BINANCE_USDM_ED25519_KEY_FILE` (a PKCS#8 PEM file, Binance only).
//! - `{ file = "keys/binance.toml" }`: a TOML file with `api_key` and `api_secret` or `ed25519_key_file`.
//!
//! # Invariants
//! - A key file (the TOML file or a PEM file) that its group or others may read is refused: a secret
//!   readable by other users is already leaked, and refusing early is the only way to make that visible.
//! - No error message, log line or `Debug` output contains a secret: errors name the variable or the path.

use std::path::Path;

use ferrotrade_model::Venue;
use ferrotrade_venues::auth::Credentials;
use serde::Deserialize;

use crate::LiveError;
use crate::config::CredentialSource;

/// The key file's contents (never printed: no `Debug`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    api_key: String,
    #[serde(default)]
    api_secret: Option<String>,
    #[serde(default)]
    ed25519_key_file: Option<String>,
}

fn refuse(venue: Venue, reason: impl Into<String>) -> LiveError {
    LiveError::Credentials { venue: venue.as_str().to_owned(), reason: reason.into() }
}

/// Loads the credentials of `venue` from `source`; `env` reads an environment variable (injected so tests
/// need not touch the process environment).
///
/// # Errors
/// [`LiveError::Credentials`] when a variable or file is missing, a file is readable by group or others,
/// the file is malformed, or an Ed25519 key is used with Bybit or is not a PKCS#8 PEM key.
pub fn load_credentials(
    venue: Venue,
    source: &CredentialSource,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, LiveError> {
    let (api_key, secret, pem_path) = match source {
        CredentialSource::Provided(credentials) => return Ok(credentials.clone()),
        CredentialSource::Env(prefix) => {
            let var = |suffix: &str| format!("{prefix}_{suffix}");
            let api_key =
                env(&var("API_KEY")).ok_or_else(|| refuse(venue, format!("{} is not set", var("API_KEY"))))?;
            (api_key, env(&var("API_SECRET")), env(&var("ED25519_KEY_FILE")))
        }
        CredentialSource::File(path) => {
            let text = read_private(venue, path)?;
            let file: KeyFile = toml::from_str(&text)
                .map_err(|error| refuse(venue, format!("{}: {}", path.display(), error.message())))?;
            let pem = file.ed25519_key_file.map(|pem| match path.parent() {
                Some(dir) if Path::new(&pem).is_relative() => dir.join(pem).to_string_lossy().into_owned(),
                _ => pem,
            });
            (file.api_key, file.api_secret, pem)
        }
    };
    if api_key.trim().is_empty() {
        return Err(refuse(venue, "the API key is empty"));
    }
    match (secret, pem_path) {
        (Some(secret), None) => {
            if secret.is_empty() {
                return Err(refuse(venue, "the API secret is empty"));
            }
            Ok(Credentials::hmac(api_key, secret))
        }
        (None, Some(pem_path)) => {
            if !venue.is_binance() {
                return Err(refuse(venue, "Bybit signs with HMAC only: give an API secret"));
            }
            let pem = read_private(venue, Path::new(&pem_path))?;
            Credentials::ed25519_pem(api_key, &pem).map_err(|error| refuse(venue, format!("{pem_path}: {error}")))
        }
        (Some(_), Some(_)) => Err(refuse(venue, "give either an API secret or an Ed25519 key file, not both")),
        (None, None) => Err(refuse(venue, "no API secret and no Ed25519 key file")),
    }
}

/// Reads a file holding a secret, refusing it when group or others have any permission on it.
fn read_private(venue: Venue, path: &Path) -> Result<String, LiveError> {
    let metadata = std::fs::metadata(path).map_err(|error| refuse(venue, format!("{}: {error}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(refuse(
                venue,
                format!("{} has mode {mode:03o}; a key file must be private (chmod 600)", path.display()),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    std::fs::read_to_string(path).map_err(|error| refuse(venue, format!("{}: {error}", path.display())))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ft-credentials-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn env_hmac_credentials_load_and_never_print_the_secret() {
        let vars: BTreeMap<&str, &str> =
            [("FT_BYBIT_API_KEY", "abcdefgh"), ("FT_BYBIT_API_SECRET", "very-secret-value")].into();
        let env = |name: &str| vars.get(name).map(|value| (*value).to_owned());
        let credentials =
            load_credentials(Venue::BybitLinear, &CredentialSource::Env("FT_BYBIT".into()), &env).expect("loads");
        assert_eq!(credentials.api_key, "abcdefgh");
        assert!(!format!("{credentials:?}").contains("very-secret-value"));
    }

    #[test]
    fn missing_env_var_is_named() {
        let error = load_credentials(Venue::BinanceUsdm, &CredentialSource::Env("FT_X".into()), &|_| None)
            .expect_err("nothing set");
        assert!(error.to_string().contains("FT_X_API_KEY is not set"), "{error}");
    }

    #[test]
    fn key_file_readable_by_others_is_refused_and_private_one_loads() {
        let dir = temp_dir("perm");
        let path = dir.join("keys.toml");
        std::fs::write(&path, "api_key = \"k1\"\napi_secret = \"s3cr3t\"\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let source = CredentialSource::File(path.clone());
        let error = load_credentials(Venue::BinanceSpot, &source, &|_| None).expect_err("world readable");
        let text = error.to_string();
        assert!(text.contains("mode 644") && text.contains("chmod 600"), "{text}");
        assert!(!text.contains("s3cr3t"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let credentials = load_credentials(Venue::BinanceSpot, &source, &|_| None).expect("private file loads");
        assert_eq!(credentials.api_key, "k1");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn group_readable_pem_is_refused_and_bybit_refuses_ed25519() {
        let dir = temp_dir("pem");
        let pem = dir.join("key.pem");
        std::fs::write(&pem, "-----BEGIN PRIVATE KEY-----\n").expect("write");
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let pem_text = pem.to_string_lossy().into_owned();
        let env = |name: &str| match name {
            "P_API_KEY" => Some("key".to_owned()),
            "P_ED25519_KEY_FILE" => Some(pem_text.clone()),
            _ => None,
        };
        let source = CredentialSource::Env("P".into());
        let error = load_credentials(Venue::BinanceUsdm, &source, &env).expect_err("group readable");
        assert!(error.to_string().contains("mode 640"), "{error}");
        let error = load_credentials(Venue::BybitLinear, &source, &env).expect_err("bybit is hmac only");
        assert!(error.to_string().contains("HMAC only"), "{error}");
        std::fs::remove_dir_all(dir).ok();
    }
}
