//! Request parameters: `application/x-www-form-urlencoded` query strings and bodies, decoded, with
//! the raw text kept for signature checks.

/// Decoded `key=value` pairs in their order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses a query string and a form body (either may be empty).
    pub fn parse(query: &str, body: &str) -> Params {
        let pairs = [query, body]
            .iter()
            .flat_map(|text| text.split('&'))
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(key), decode(value))
            })
            .collect();
        Params { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The value of `key`, when present and not empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }
}

/// Percent-decoding with `+` as space (form encoding); invalid escapes are kept as written.
pub(crate) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `text` without its `signature=...` parameter, and the parameter's raw value.
pub(crate) fn strip_signature(text: &str) -> (String, Option<String>) {
    let mut kept = Vec::new();
    let mut signature = None;
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        match pair.strip_prefix("signature=") {
            Some(value) => signature = Some(value.to_owned()),
            None => kept.push(pair),
        }
    }
    (kept.join("&"), signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_query_and_body() {
        let params = Params::parse("symbol=BTCUSDT&limit=5", "side=BUY&newClientOrderId=ft-1%2B2&x=a+b");
        assert_eq!(params.get("symbol"), Some("BTCUSDT"));
        assert_eq!(params.get("side"), Some("BUY"));
        assert_eq!(params.get("newClientOrderId"), Some("ft-1+2"));
        assert_eq!(params.get("x"), Some("a b"));
        assert_eq!(params.get("missing"), None);
        assert_eq!(decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn strips_the_signature() {
        let (rest, signature) = strip_signature("a=1&timestamp=2&signature=abc");
        assert_eq!((rest.as_str(), signature.as_deref()), ("a=1&timestamp=2", Some("abc")));
        assert_eq!(strip_signature("a=1").1, None);
    }
}
