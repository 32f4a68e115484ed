//! [`Token`]: the secret a command must carry, read from an environment variable or a private file, never
//! printed.

use std::fmt;
use std::path::Path;

use crate::BusError;

/// The control token. `Debug` and `Display` print `Token(***)`; comparison takes the same time whatever
/// the guess.
#[derive(Clone)]
pub struct Token(Vec<u8>);

impl Token {
    /// A token with this value (at least 16 bytes: a short token is refused).
    ///
    /// # Errors
    /// [`BusError::Token`] for a token shorter than 16 bytes.
    pub fn new(value: &str) -> Result<Token, BusError> {
        let value = value.trim();
        if value.len() < 16 {
            return Err(BusError::Token(format!("too short ({} bytes, at least 16)", value.len())));
        }
        Ok(Token(value.as_bytes().to_vec()))
    }

    /// Reads the token from `file` (which must not be readable by group or others) or else from the
    /// environment variable `env`.
    ///
    /// # Errors
    /// [`BusError::Token`]: no token, an unreadable or too open file, a short token. The message never
    /// holds the token.
    pub fn load(file: Option<&Path>, env: &str) -> Result<Token, BusError> {
        if let Some(path) = file {
            let shown = path.display();
            let metadata = std::fs::metadata(path).map_err(|error| BusError::Token(format!("{shown}: {error}")))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = metadata.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(BusError::Token(format!(
                        "{shown} is readable by others (mode {:o}): chmod 600 it",
                        mode & 0o777
                    )));
                }
            }
            let _ = metadata;
            let text = std::fs::read_to_string(path).map_err(|error| BusError::Token(format!("{shown}: {error}")))?;
            return Token::new(&text).map_err(|error| BusError::Token(format!("{shown}: {error}")));
        }
        match std::env::var(env) {
            Ok(value) => Token::new(&value).map_err(|error| BusError::Token(format!("${env}: {error}"))),
            Err(_) => Err(BusError::Token(format!(
                "commands are enabled but ${env} is not set (set it, set bus.token_file, or disable bus.control and \
                 bus.http with \"\")"
            ))),
        }
    }

    /// Whether `candidate` is the token, in time independent of where they differ.
    #[must_use]
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let mut difference = u8::from(candidate.len() != self.0.len());
        for (index, byte) in self.0.iter().enumerate() {
            difference |= byte ^ candidate.get(index).copied().unwrap_or(!byte);
        }
        difference == 0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_token() {
        let token = Token::new("0123456789abcdef-secret").expect("token");
        assert!(token.matches(b"0123456789abcdef-secret"));
        assert!(!token.matches(b"0123456789abcdef-secreT"));
        assert!(!token.matches(b"0123456789abcdef-secret!"));
        assert!(!token.matches(b"0123456789abcdef"));
        assert!(!token.matches(b""));
        assert_eq!(format!("{token:?}"), "Token(***)");
    }

    #[test]
    fn short_and_missing_tokens_are_refused_without_echo() {
        let error = Token::new("short-secret").expect_err("short").to_string();
        assert!(!error.contains("short-secret"), "{error}");
        let error = Token::load(None, "FERROTRADE_TEST_UNSET_TOKEN_VARIABLE").expect_err("unset").to_string();
        assert!(error.contains("$FERROTRADE_TEST_UNSET_TOKEN_VARIABLE is not set"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_token_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ft-bus-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("token");
        std::fs::write(&path, "file-token-0123456789\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = Token::load(Some(&path), "UNUSED").expect_err("open file").to_string();
        assert!(error.contains("readable by others") && !error.contains("file-token"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(Token::load(Some(&path), "UNUSED").expect("private file").matches(b"file-token-0123456789"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
