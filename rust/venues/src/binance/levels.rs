//! The hot loop: Binance level arrays `[["price","size"], ...]` to levels, in one of two forms
//! ([`LevelForm`]): exact [`RawLevel`]s (the decimals as sent, for any instrument), or the fixed-point
//! [`Level`]s of an instrument whose precisions are known ([`Fixed`]), which the live feed's book messages
//! take so that no second pass converts them.
//!
//! Two callers: the `depthUpdate` and snapshot fast paths scan the arrays where they stand in the frame
//! ([`parse_levels_at`]); the general path gets them from sonic-rs as already-validated raw slices
//! ([`parse_levels`]). Either way the levels are pushed into a reused vector, so a message allocates
//! nothing once the scratch has grown.
//!
//! Each level first tries the exact compact shape `["p","q"]` with both numbers on the fused fast path:
//! the digits are read once, straight into a normalized [`Decimal`] or into the instrument's fixed point,
//! for the plain `digits[.digits]` texts Binance sends (at most 18 digits, at most [`MAX_PRECISION`]
//! decimals that are not zeros). Anything else (whitespace, sign, exponent, more digits, a bad byte) is
//! read token by token and its numbers go to [`Decimal::parse`], which decides and words the error.
//! `fast_path_equals_decimal_parse` and `fixed_path_equals_to_fixed` check the fast paths agree with it
//! on every text they accept.
//!
//! The scanner is strict: anything but arrays of exactly two strings is an error, never a panic. In the
//! fixed form a value with more decimals than the instrument's precision is an error too; the fast
//! decoders then leave the frame to the general path, whose converter words it.

use ferrotrade_model::{Decimal, Level, MAX_PRECISION, POW10, Price, Quantity};

use crate::decoded::RawLevel;

/// What a level array's numbers become.
pub(crate) trait LevelForm: Copy {
    /// One parsed level.
    type Level;

    /// The level `"p","q"` whose price text starts at `start`, read on the fast path, and the index of
    /// the size's closing quote; `None` leaves it to the token-by-token reading.
    fn fast(self, bytes: &[u8], start: usize) -> Option<(Self::Level, usize)>;

    /// A level from two decimals read token by token.
    ///
    /// # Errors
    /// A reason when the form cannot hold them.
    fn level(self, price: Decimal, size: Decimal) -> Result<Self::Level, String>;
}

/// Levels as the exact decimals sent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exact;

impl LevelForm for Exact {
    type Level = RawLevel;

    #[inline]
    fn fast(self, bytes: &[u8], start: usize) -> Option<(RawLevel, usize)> {
        let (price, quote) = fast_decimal(bytes, start)?;
        let (size, quote) = fast_decimal(bytes, after_separator(bytes, quote)?)?;
        Some((RawLevel { price, size }, quote))
    }

    fn level(self, price: Decimal, size: Decimal) -> Result<RawLevel, String> {
        Ok(RawLevel { price, size })
    }
}

/// Levels in an instrument's fixed point: `price` and `size` are its precisions (at most
/// [`MAX_PRECISION`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fixed {
    /// Decimals of a price.
    pub price: u8,
    /// Decimals of a size.
    pub size: u8,
}

impl LevelForm for Fixed {
    type Level = Level;

    #[inline]
    fn fast(self, bytes: &[u8], start: usize) -> Option<(Level, usize)> {
        let (price, quote) = fast_fixed(bytes, start, self.price)?;
        let (size, quote) = fast_fixed(bytes, after_separator(bytes, quote)?, self.size)?;
        Some((Level { price: Price(price), size: Quantity(size) }, quote))
    }

    fn level(self, price: Decimal, size: Decimal) -> Result<Level, String> {
        let fixed = |value: Decimal, precision| value.to_fixed(precision).map_err(|error| error.to_string());
        Ok(Level { price: Price(fixed(price, self.price)?), size: Quantity(fixed(size, self.size)?) })
    }
}

/// The index just past `","` at the closing quote `quote` of a level's price.
#[inline]
fn after_separator(bytes: &[u8], quote: usize) -> Option<usize> {
    (bytes.get(quote..quote + 3)? == b"\",\"").then_some(quote + 3)
}

/// Appends the levels of the JSON array `raw` to `out`.
///
/// # Errors
/// A reason when `raw` is not an array of `[price, size]` string pairs or a number is not a decimal.
pub(crate) fn parse_levels(raw: &[u8], out: &mut Vec<RawLevel>) -> Result<(), String> {
    let mut cursor = Cursor { bytes: raw, at: 0 };
    cursor.at = parse_levels_at(raw, 0, Exact, out)?;
    cursor.end()
}

/// Appends the levels of the JSON array starting at `start` in `bytes` to `out`, in `form`; returns the
/// index just past the array's `]`.
///
/// # Errors
/// As [`parse_levels`], and a value `form` cannot hold.
#[inline]
pub(crate) fn parse_levels_at<F: LevelForm>(
    bytes: &[u8],
    start: usize,
    form: F,
    out: &mut Vec<F::Level>,
) -> Result<usize, String> {
    let mut cursor = Cursor { bytes, at: start };
    cursor.expect(b'[')?;
    if cursor.peek() == Some(b']') {
        cursor.at += 1;
        return Ok(cursor.at);
    }
    loop {
        let level = match cursor.compact_level(form) {
            Some(level) => level,
            None => {
                cursor.expect(b'[')?;
                let price = cursor.decimal()?;
                cursor.expect(b',')?;
                let size = cursor.decimal()?;
                cursor.expect(b']')?;
                form.level(price, size)?
            }
        };
        out.push(level);
        match cursor.next_byte() {
            Some(b',') => {}
            Some(b']') => return Ok(cursor.at),
            other => return Err(cursor.unexpected(other, "',' or ']' in a level array")),
        }
    }
}

/// Parses a JSON string holding a decimal (`"61800.20"`), as in `bookTicker` `b`/`a`.
///
/// # Errors
/// A reason when `raw` is not a quoted decimal.
pub(crate) fn parse_quoted_decimal(raw: &[u8]) -> Result<Decimal, String> {
    let mut cursor = Cursor { bytes: raw, at: 0 };
    let value = cursor.decimal()?;
    cursor.end()?;
    Ok(value)
}

/// Parses a decimal text field, naming the field in the error.
///
/// # Errors
/// A reason naming `field` when `text` is not a decimal.
#[inline]
pub(crate) fn decimal(field: &str, text: &str) -> Result<Decimal, String> {
    Decimal::parse(text.as_bytes()).map_err(|error| format!("field {field}: {error}"))
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    #[inline]
    fn skip_whitespace(&mut self) {
        while let Some(byte) = self.bytes.get(self.at) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.at += 1;
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        // Binance sends compact JSON: test the byte itself before looking for whitespace.
        match self.bytes.get(self.at) {
            Some(&byte) if byte > b' ' => Some(byte),
            _ => {
                self.skip_whitespace();
                self.bytes.get(self.at).copied()
            }
        }
    }

    #[inline]
    fn next_byte(&mut self) -> Option<u8> {
        let byte = self.peek();
        self.at += 1;
        byte
    }

    #[inline]
    fn expect(&mut self, wanted: u8) -> Result<(), String> {
        match self.next_byte() {
            Some(byte) if byte == wanted => Ok(()),
            other => Err(self.unexpected_byte(other, wanted)),
        }
    }

    /// `["price","size"]` exactly as Binance writes it, both numbers on the fast path; `None` (with the
    /// cursor unmoved) leaves the level to the general token-by-token reading.
    #[inline]
    fn compact_level<F: LevelForm>(&mut self, form: F) -> Option<F::Level> {
        let bytes = self.bytes;
        let at = self.at;
        if bytes.get(at..at + 2)? != b"[\"" {
            return None;
        }
        let (level, quote) = form.fast(bytes, at + 2)?;
        if bytes.get(quote..quote + 2)? != b"\"]" {
            return None;
        }
        self.at = quote + 2;
        Some(level)
    }

    /// A quoted decimal. An escape inside the quotes makes the text an invalid decimal, so escapes need
    /// no special case.
    #[inline]
    fn decimal(&mut self) -> Result<Decimal, String> {
        self.expect(b'"')?;
        let start = self.at;
        if let Some((value, quote)) = fast_decimal(self.bytes, start) {
            self.at = quote + 1;
            return Ok(value);
        }
        self.slow_decimal(start)
    }

    /// Texts the fast path leaves: [`Decimal::parse`] decides (and words the error).
    #[inline(never)]
    fn slow_decimal(&mut self, start: usize) -> Result<Decimal, String> {
        let rest = self.bytes.get(start..).unwrap_or_default();
        let Some(length) = rest.iter().position(|byte| *byte == b'"') else {
            return Err("unterminated string in a level array".into());
        };
        self.at = start + length + 1;
        Decimal::parse(&rest[..length]).map_err(|error| error.to_string())
    }

    fn end(&mut self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            other => Err(self.unexpected(other, "the end of the value")),
        }
    }

    #[cold]
    #[inline(never)]
    fn unexpected_byte(&self, found: Option<u8>, wanted: u8) -> String {
        self.unexpected(found, &format!("'{}'", char::from(wanted)))
    }

    #[cold]
    #[inline(never)]
    fn unexpected(&self, found: Option<u8>, wanted: &str) -> String {
        match found {
            Some(byte) => {
                format!("expected {wanted} at byte {} of a level array, found {:?}", self.at, char::from(byte))
            }
            None => format!("expected {wanted}, found the end of a level array"),
        }
    }
}

/// The most digits the fast path accepts: 18 digits always fit an `i64`.
const FAST_DIGITS: usize = 18;

/// The fast path looks at most this many bytes for the closing quote: 19 digits (or 18 and a dot) fit a
/// `u64` while reading, so the loop needs no overflow check.
const FAST_WINDOW: usize = 19;

/// Reads `digits[.digits]"` at `start` into a normalized [`Decimal`] and the index of the closing quote;
/// `None` sends the text to [`Decimal::parse`]. Fractional zeros are counted and only multiplied in when a
/// non-zero digit follows, so the result needs no normalizing division.
#[inline]
fn fast_decimal(bytes: &[u8], start: usize) -> Option<(Decimal, usize)> {
    let rest = bytes.get(start..)?;
    let window = &rest[..rest.len().min(FAST_WINDOW)];
    let mut at = 0;
    let mut mantissa: u64 = 0;
    while at < window.len() {
        let digit = window[at].wrapping_sub(b'0');
        if digit >= 10 {
            break;
        }
        mantissa = mantissa * 10 + u64::from(digit);
        at += 1;
    }
    let mut digits = at;
    let mut scale: usize = 0;
    if at < window.len() && window[at] == b'.' {
        at += 1;
        let fraction_start = at;
        let mut pending_zeros: usize = 0;
        while at < window.len() {
            let digit = window[at].wrapping_sub(b'0');
            if digit >= 10 {
                break;
            }
            if digit == 0 {
                pending_zeros += 1;
            } else {
                // The window holds at most 18 fractional digits, so the index stays within the table, and every
                // entry is positive.
                mantissa = mantissa * POW10[pending_zeros + 1] as u64 + u64::from(digit);
                scale += pending_zeros + 1;
                pending_zeros = 0;
            }
            at += 1;
        }
        if at == fraction_start {
            return None;
        }
        digits += at - fraction_start;
    }
    if at >= window.len()
        || window[at] != b'"'
        || digits == 0
        || digits > FAST_DIGITS
        || scale > usize::from(MAX_PRECISION)
    {
        return None;
    }
    let mantissa = i64::try_from(mantissa).ok()?;
    let scale = if mantissa == 0 { 0 } else { u8::try_from(scale).ok()? };
    Some((Decimal { mantissa, scale }, start + at))
}

/// Reads `digits[.digits]"` at `start` into the fixed point of `precision` decimals and the index of the
/// closing quote; `None` sends the text to [`Decimal::parse`] (and a value with more decimals than
/// `precision` that are not zeros to [`Decimal::to_fixed`], which words the error). Decimals past the
/// precision must be zeros and are skipped; the value is scaled up by the ones missing.
#[inline]
fn fast_fixed(bytes: &[u8], start: usize, precision: u8) -> Option<(i64, usize)> {
    if precision > MAX_PRECISION {
        return None;
    }
    let precision = usize::from(precision);
    let rest = bytes.get(start..)?;
    let window = &rest[..rest.len().min(FAST_WINDOW)];
    let mut at = 0;
    let mut value: u64 = 0;
    while at < window.len() {
        let digit = window[at].wrapping_sub(b'0');
        if digit >= 10 {
            break;
        }
        value = value * 10 + u64::from(digit);
        at += 1;
    }
    let mut digits = at;
    let mut decimals: usize = 0;
    if at < window.len() && window[at] == b'.' {
        at += 1;
        let fraction_start = at;
        while at < window.len() {
            let digit = window[at].wrapping_sub(b'0');
            if digit >= 10 {
                break;
            }
            if decimals < precision {
                value = value * 10 + u64::from(digit);
                decimals += 1;
            } else if digit != 0 {
                return None;
            }
            at += 1;
        }
        if at == fraction_start {
            return None;
        }
        digits += at - fraction_start;
    }
    if at >= window.len() || window[at] != b'"' || digits == 0 || digits > FAST_DIGITS {
        return None;
    }
    // `precision - decimals` is at most MAX_PRECISION, within the table, whose entries are positive.
    let value = value.checked_mul(POW10[precision - decimals] as u64)?;
    Some((i64::try_from(value).ok()?, start + at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(text: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        parse_levels(text.as_bytes(), &mut out)?;
        Ok(out.iter().map(|level| (level.price.to_string(), level.size.to_string())).collect())
    }

    #[test]
    fn parses_compact_and_spaced_arrays() {
        assert_eq!(
            levels(r#"[["61800.20","2.507"],["61800.10","0.000"]]"#).unwrap(),
            vec![("61800.2".to_owned(), "2.507".to_owned()), ("61800.1".to_owned(), "0".to_owned())]
        );
        assert_eq!(levels(r#" [ [ "28145.10" , "3.818" ] ] "#).unwrap().len(), 1);
        assert!(levels("[]").unwrap().is_empty());
        assert!(levels(" [ ] ").unwrap().is_empty());
    }

    #[test]
    fn rejects_malformed_arrays() {
        for bad in [
            r#"[["1","2"]"#,
            r#"[["1","2","3"]]"#,
            r#"[["1"]]"#,
            r#"[["1","x"]]"#,
            r#"[["1","2"]]x"#,
            r#"[["1","2"],]"#,
            r#"[[1,2]]"#,
            r#"[["1\"","2"]]"#,
            r#"[["1","2"#,
            "",
        ] {
            assert!(levels(bad).is_err(), "{bad}");
        }
        assert!(parse_quoted_decimal(br#""1.5""#).is_ok());
        assert!(parse_quoted_decimal(b"15").is_err());
    }

    fn both(text: &str) -> (Option<Decimal>, Result<Decimal, String>) {
        let quoted = format!("\"{text}\"");
        let fast = fast_decimal(quoted.as_bytes(), 1).map(|(value, quote)| {
            assert_eq!(quote, quoted.len() - 1);
            value
        });
        (fast, Decimal::parse(text.as_bytes()).map_err(|e| e.to_string()))
    }

    #[test]
    fn fast_path_on_wire_texts() {
        for text in
            ["61800.20", "61737.63000000", "0.00000000", "0.00100000", "1200", ".5", "000.0100", "999999999999999999"]
        {
            let (fast, slow) = both(text);
            assert_eq!(fast, Some(slow.unwrap()), "{text}");
        }
        for text in ["-1.5", "+1", "1e5", "1.", ".", "", "1234567890.123456789", "0.00000000000000001", "1.2.3"] {
            assert_eq!(both(text).0, None, "{text} goes to Decimal::parse");
        }
    }

    #[test]
    fn fixed_form_on_wire_texts() {
        let fixed = |text: &str, precision| {
            let quoted = format!("\"{text}\"");
            fast_fixed(quoted.as_bytes(), 1, precision).map(|(value, quote)| {
                assert_eq!(quote, quoted.len() - 1);
                value
            })
        };
        assert_eq!(fixed("61800.20", 1), Some(618_002));
        assert_eq!(fixed("61800.20", 2), Some(6_180_020));
        assert_eq!(fixed("61800", 3), Some(61_800_000));
        assert_eq!(fixed("0.00000000", 3), Some(0));
        assert_eq!(fixed("0.00100000", 3), Some(1));
        assert_eq!(fixed(".5", 1), Some(5));
        // More decimals than the precision, an overflow of the rescaled value, and a precision above the
        // maximum go to the general path.
        assert_eq!(fixed("61800.25", 1), None);
        assert_eq!(fixed("999999999999999999", 2), None);
        assert_eq!(fixed("1", MAX_PRECISION + 1), None);

        let levels = |text: &str| {
            let mut out = Vec::new();
            parse_levels_at(text.as_bytes(), 0, Fixed { price: 1, size: 3 }, &mut out).map(|_| out)
        };
        let level = |price, size| Level { price: Price(price), size: Quantity(size) };
        assert_eq!(
            levels(r#"[["61800.20","2.507"],[ "61800.1" , "0.000" ]]"#).unwrap(),
            vec![level(618_002, 2507), level(618_001, 0)]
        );
        let error = levels(r#"[["61800.25","2.507"]]"#).unwrap_err();
        assert!(error.contains("precision"), "{error}");
        assert!(levels(r#"[[ "61800.25" ,"2.507"]]"#).is_err());
    }

    proptest::proptest! {
        #[test]
        fn fixed_path_equals_to_fixed(text in "[-+]?[0-9]{0,20}(\\.[0-9]{0,20})?(e-?[0-9])?", precision in 0u8..=17) {
            let quoted = format!("\"{text}\"");
            if let Some((fast, _)) = fast_fixed(quoted.as_bytes(), 1, precision) {
                let exact = Decimal::parse(text.as_bytes()).ok().and_then(|value| value.to_fixed(precision).ok());
                proptest::prop_assert_eq!(Some(fast), exact);
            }
        }

        #[test]
        fn fast_path_equals_decimal_parse(text in "[-+]?[0-9]{0,20}(\\.[0-9]{0,20})?(e-?[0-9])?") {
            let (fast, slow) = both(&text);
            if let Some(fast) = fast {
                proptest::prop_assert_eq!(Ok(fast), slow);
            }
        }
    }
}
