//! [`Catalog`]: the folder layout of a ferrotrade catalog and its instrument list.
//!
//! Layout (written by `python/ferrotrade/data/layout.py`):
//! `ROOT/<kind>/venue=<venue>/symbol=<symbol>/date=<YYYY-MM-DD>/part-*.parquet`, with `instruments.json`
//! at the root. Hive values are percent-encoded like Python's `urllib.parse.quote(value, safe="-_.+")`, so
//! a symbol with `/` cannot break the layout. The date is the UTC date of `ts_recv`: date folders in name
//! order hold rows in receive order, and part names sort in write order. Staging folders of imports in
//! progress (`.tmp-*`) live at the root and are never read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ferrotrade_model::{Instrument, Venue};

use crate::error::CatalogError;
use crate::instruments::{InstrumentInfo, read_instruments};
use crate::kind::TableKind;

/// Name of the instrument list at the catalog root.
pub const INSTRUMENTS_FILE: &str = "instruments.json";

/// An opened catalog: its root and instruments. Cheap to keep; files are opened by [`crate::EventStream`].
#[derive(Debug, Clone)]
pub struct Catalog {
    root: PathBuf,
    instruments: Vec<InstrumentInfo>,
}

/// One date partition of one table: its date and part files in name (write) order.
#[derive(Debug, Clone)]
pub(crate) struct DatePartition {
    pub(crate) date: String,
    pub(crate) parts: Vec<PathBuf>,
}

impl Catalog {
    /// Opens the catalog at `root` and reads its `instruments.json`.
    ///
    /// # Errors
    /// [`CatalogError::NoCatalog`] when `root` is not a folder; [`CatalogError::Instruments`] when
    /// `instruments.json` is missing or invalid (the message names the file).
    pub fn open(root: &Path) -> Result<Catalog, CatalogError> {
        if !root.is_dir() {
            return Err(CatalogError::NoCatalog { path: root.to_path_buf() });
        }
        let instruments = read_instruments(&root.join(INSTRUMENTS_FILE))?;
        Ok(Catalog { root: root.to_path_buf(), instruments })
    }

    /// The catalog's root folder.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every instrument of `instruments.json`, in file order (sorted by venue and symbol).
    #[must_use]
    pub fn instruments(&self) -> &[InstrumentInfo] {
        &self.instruments
    }

    /// The entry of `instruments.json` for `venue`/`symbol` (exact symbol first, then upper-cased).
    #[must_use]
    pub fn instrument_info(&self, venue: Venue, symbol: &str) -> Option<&InstrumentInfo> {
        let find = |wanted: &str| self.instruments.iter().find(|info| info.venue == venue && info.symbol == wanted);
        find(symbol).or_else(|| find(&symbol.to_ascii_uppercase()))
    }

    /// The model [`Instrument`] of `venue`/`symbol`, built from its `instruments.json` entry.
    #[must_use]
    pub fn instrument(&self, venue: Venue, symbol: &str) -> Option<Instrument> {
        self.instrument_info(venue, symbol).map(InstrumentInfo::to_instrument)
    }

    /// The dates (`YYYY-MM-DD`, ascending) that hold at least one part file of `kind` for `venue`/`symbol`.
    /// Empty when there are none or the folder cannot be read.
    #[must_use]
    pub fn dates(&self, kind: TableKind, venue: Venue, symbol: &str) -> Vec<String> {
        self.partitions(kind, venue, symbol).unwrap_or_default().into_iter().map(|partition| partition.date).collect()
    }

    /// The folder holding the date partitions of one table and instrument. The symbol is used as given,
    /// falling back to upper case when only that folder exists.
    #[must_use]
    pub fn instrument_folder(&self, kind: TableKind, venue: Venue, symbol: &str) -> PathBuf {
        let folder = |symbol: &str| {
            self.root
                .join(kind.as_str())
                .join(format!("venue={}", quote(venue.as_str())))
                .join(format!("symbol={}", quote(symbol)))
        };
        let exact = folder(symbol);
        let upper = folder(&symbol.to_ascii_uppercase());
        if !exact.is_dir() && upper.is_dir() { upper } else { exact }
    }

    /// The non-empty date partitions of one table and instrument, in date order.
    ///
    /// # Errors
    /// [`CatalogError::Io`] when an existing folder cannot be listed. A missing folder gives an empty list.
    pub(crate) fn partitions(
        &self,
        kind: TableKind,
        venue: Venue,
        symbol: &str,
    ) -> Result<Vec<DatePartition>, CatalogError> {
        let folder = self.instrument_folder(kind, venue, symbol);
        let mut partitions = Vec::new();
        for (name, path) in list(&folder)? {
            let Some(date) = name.strip_prefix("date=") else { continue };
            if !path.is_dir() {
                continue;
            }
            let mut parts: Vec<PathBuf> = list(&path)?
                .into_iter()
                .filter(|(name, path)| name.starts_with("part-") && name.ends_with(".parquet") && path.is_file())
                .map(|(_, path)| path)
                .collect();
            if parts.is_empty() {
                continue;
            }
            parts.sort();
            partitions.push(DatePartition { date: date.to_owned(), parts });
        }
        partitions.sort_by(|a, b| a.date.cmp(&b.date));
        Ok(partitions)
    }
}

/// `(file name, path)` of every entry of `folder`; empty when it does not exist.
fn list(folder: &Path) -> Result<Vec<(String, PathBuf)>, CatalogError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(CatalogError::Io { path: folder.to_path_buf(), source }),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CatalogError::Io { path: folder.to_path_buf(), source })?;
        if let Some(name) = entry.file_name().to_str() {
            names.push((name.to_owned(), entry.path()));
        }
    }
    Ok(names)
}

/// Percent-encodes a hive value as Python's `quote(value, safe="-_.+")` does.
pub(crate) fn quote(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~+".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quote_matches_python() {
        // urllib.parse.quote("BTC/USDT=x y", safe="-_.+") == "BTC%2FUSDT%3Dx%20y"
        assert_eq!(quote("BTC/USDT=x y"), "BTC%2FUSDT%3Dx%20y");
        assert_eq!(quote("1000PEPE-USDT_PERP.a+b~"), "1000PEPE-USDT_PERP.a+b~");
    }
}
