//! The bridge's wire format: one ZeroMQ frame per request and per reply, fixed little-endian layouts.
//!
//! The engine's DEALER socket sends request frames; the server's ROUTER socket receives them behind the
//! engine's identity frame and answers with a reply frame behind the same identity. All integers and floats
//! are little-endian.
//!
//! Request (`32 + 8 n` bytes):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `FTRQ` |
//! | 4 | 1 | version, 1 |
//! | 5 | 3 | zero |
//! | 8 | 8 | `seq`: u64, increasing per client |
//! | 16 | 8 | `ts`: u64, the sample's time (ns since the epoch) |
//! | 24 | 4 | `n`: u32, number of features |
//! | 28 | 4 | zero |
//! | 32 | 8 n | the features, f64 each, in the model card's order (`NaN` = missing) |
//!
//! Reply (`24` bytes, then the error text for status 1):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `FTRP` |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | status: 0 = ok, 1 = the model failed (UTF-8 message from offset 24) |
//! | 6 | 2 | zero |
//! | 8 | 8 | `seq` of the request answered |
//! | 16 | 8 | `signal`: f64 (meaningless when status is 1) |
//!
//! The same fields (seq, ts, features; seq, status, signal, message) map one to one onto a protobuf message
//! when `proto/` defines the process contract; the version byte lets a server tell the two framings apart.

/// Magic of a request frame.
pub const REQUEST_MAGIC: &[u8; 4] = b"FTRQ";
/// Magic of a reply frame.
pub const REPLY_MAGIC: &[u8; 4] = b"FTRP";
/// Framing version.
pub const VERSION: u8 = 1;
/// Bytes before the features of a request.
pub const REQUEST_HEADER: usize = 32;
/// Bytes of a reply before its error text.
pub const REPLY_HEADER: usize = 24;

/// Writes a request frame into `out` (cleared first).
pub fn encode_request(out: &mut Vec<u8>, seq: u64, ts: u64, features: &[f64]) {
    out.clear();
    out.extend_from_slice(REQUEST_MAGIC);
    out.extend_from_slice(&[VERSION, 0, 0, 0]);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&ts.to_le_bytes());
    out.extend_from_slice(&u32::try_from(features.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    for value in features {
        out.extend_from_slice(&value.to_le_bytes());
    }
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The request answered.
    pub seq: u64,
    /// The signal, or the server's error message.
    pub outcome: Result<f64, String>,
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(word)
}

/// Decodes a reply frame.
///
/// # Errors
/// A description of what is wrong with the frame (length, magic, version, status).
pub fn decode_reply(bytes: &[u8]) -> Result<Reply, String> {
    if bytes.len() < REPLY_HEADER {
        return Err(format!("a reply frame has at least {REPLY_HEADER} bytes, got {}", bytes.len()));
    }
    if &bytes[..4] != REPLY_MAGIC || bytes[4] != VERSION {
        return Err(format!("not a version {VERSION} reply frame (starts {:?})", &bytes[..5]));
    }
    let seq = u64_at(bytes, 8);
    let outcome = match bytes[5] {
        0 => Ok(f64::from_bits(u64_at(bytes, 16))),
        1 => Err(String::from_utf8_lossy(&bytes[REPLY_HEADER..]).into_owned()),
        other => return Err(format!("unknown reply status {other}")),
    };
    Ok(Reply { seq, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let mut frame = Vec::new();
        encode_request(&mut frame, 7, 9, &[1.5, f64::NAN]);
        assert_eq!(frame.len(), REQUEST_HEADER + 16);
        assert_eq!(&frame[..5], b"FTRQ\x01");
        assert_eq!(u64_at(&frame, 8), 7);
        assert_eq!(u64_at(&frame, 16), 9);
        assert_eq!(&frame[24..28], &2u32.to_le_bytes());
        assert_eq!(f64::from_bits(u64_at(&frame, 32)), 1.5);
        assert!(f64::from_bits(u64_at(&frame, 40)).is_nan());
    }

    #[test]
    fn replies_decode_or_say_why() {
        let mut ok = b"FTRP\x01\x00\x00\x00".to_vec();
        ok.extend_from_slice(&5u64.to_le_bytes());
        ok.extend_from_slice(&0.25f64.to_le_bytes());
        assert_eq!(decode_reply(&ok), Ok(Reply { seq: 5, outcome: Ok(0.25) }));
        let mut failed = ok.clone();
        failed[5] = 1;
        failed.extend_from_slice(b"boom");
        assert_eq!(decode_reply(&failed).unwrap().outcome, Err("boom".into()));
        assert!(decode_reply(&ok[..10]).is_err());
        assert!(decode_reply(b"XXXX\x01\x00\x00\x00xxxxxxxxxxxxxxxx").is_err());
    }
}
