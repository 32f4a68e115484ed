//! Run-time parameter changes (the live engine's `set` command, [`crate::Strategy::set_parameter`]): the
//! text an operator sends, read as the TOML value of the configuration key it changes.
//!
//! Every built-in strategy changes a parameter the same way: it reads the value here (an error names the
//! key and what was expected), applies it to a copy of its configuration, validates and resolves that copy
//! exactly as at construction and `on_start`, and only then replaces its own. A refused change leaves the
//! strategy as it was. A key that exists but cannot change while running is refused with the reason, not
//! reported as unknown.

use ferrotrade_model::Decimal;

use crate::traits::StrategyError;

/// One `set` request: the key and its value as written in TOML (`12.5`, `true`, `1000`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamText<'a> {
    name: &'a str,
    value: &'a str,
}

impl<'a> ParamText<'a> {
    pub(crate) fn new(name: &'a str, value: &'a str) -> ParamText<'a> {
        ParamText { name, value: value.trim() }
    }

    fn refuse(&self, expected: &str) -> StrategyError {
        StrategyError::new(format!("{}: {:?} is not {expected}", self.name, self.value))
    }

    /// An exact decimal (`0.01`, `2`).
    pub(crate) fn decimal(&self) -> Result<Decimal, StrategyError> {
        Decimal::parse_str(self.value).map_err(|error| {
            StrategyError::new(format!("{}: {:?} is not a decimal number: {error}", self.name, self.value))
        })
    }

    /// A signed integer.
    pub(crate) fn integer(&self) -> Result<i64, StrategyError> {
        self.value.parse::<i64>().map_err(|_| self.refuse("an integer"))
    }

    /// A count (an integer >= 0).
    pub(crate) fn count(&self) -> Result<u64, StrategyError> {
        self.value.parse::<u64>().map_err(|_| self.refuse("a count"))
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&self) -> Result<bool, StrategyError> {
        match self.value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.refuse("true or false")),
        }
    }

    /// A finite floating-point number (a model's threshold).
    pub(crate) fn number(&self) -> Result<f64, StrategyError> {
        self.value.parse::<f64>().ok().filter(|value| value.is_finite()).ok_or_else(|| self.refuse("a finite number"))
    }

    /// The refusal of a key `strategy` cannot change: `fixed` lists the keys that exist but stay as started
    /// (with why), `settable` the ones that can change.
    pub(crate) fn not_settable(&self, strategy: &str, settable: &[&str], fixed: &[&str], why: &str) -> StrategyError {
        let list = settable.join(", ");
        if fixed.contains(&self.name) {
            StrategyError::new(format!(
                "{strategy}: {} cannot change at run time ({why}); these can: {list}",
                self.name
            ))
        } else {
            StrategyError::new(format!("{strategy}: unknown parameter {:?} ({list})", self.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_toml_writes_them_and_errors_name_the_key() {
        assert_eq!(ParamText::new("size", " 0.010 ").decimal().unwrap().to_string(), "0.01");
        assert_eq!(ParamText::new("ticks", "-2").integer().unwrap(), -2);
        assert_eq!(ParamText::new("ms", "1000").count().unwrap(), 1000);
        assert!(ParamText::new("short", "false").boolean().is_ok_and(|value| !value));
        assert!((ParamText::new("entry", "0.55").number().unwrap() - 0.55).abs() < 1e-12);
        for (error, wanted) in [
            (ParamText::new("size", "big").decimal().unwrap_err(), "size: \"big\" is not a decimal"),
            (ParamText::new("ms", "-5").count().unwrap_err(), "ms: \"-5\" is not a count"),
            (ParamText::new("short", "yes").boolean().unwrap_err(), "short: \"yes\" is not true or false"),
            (ParamText::new("entry", "inf").number().unwrap_err(), "entry: \"inf\" is not a finite number"),
            (ParamText::new("entry", "NaN").number().unwrap_err(), "entry: \"NaN\" is not a finite number"),
        ] {
            assert!(error.message.starts_with(wanted), "{}", error.message);
        }
        let text = ParamText::new("fast", "5");
        let fixed = text.not_settable("trend:X", &["order_size"], &["fast"], "the averages would start over");
        assert_eq!(
            fixed.message,
            "trend:X: fast cannot change at run time (the averages would start over); these can: order_size"
        );
        let unknown = ParamText::new("fats", "5").not_settable("trend:X", &["order_size"], &["fast"], "");
        assert_eq!(unknown.message, "trend:X: unknown parameter \"fats\" (order_size)");
    }
}
