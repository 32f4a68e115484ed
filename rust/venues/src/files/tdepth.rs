//! PLACEHOLDER: being written.

use std::path::PathBuf;

use crate::error::{Origin, VenueError};
use crate::source::{Format, Source, Visitor};

/// Whether a first line looks like this format.
#[must_use]
pub fn sniff(line: &[u8]) -> bool {
    let _ = line;
    false
}

/// A session of this format.
#[derive(Debug)]
pub struct DepthCsvSource {
    files: Vec<PathBuf>,
}

impl DepthCsvSource {
    /// Opens a session.
    ///
    /// # Errors
    /// Not yet implemented.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        Ok(Self { files })
    }
}

impl Source for DepthCsvSource {
    fn format(&self) -> Format {
        Format::BinanceDepthCsv
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, _visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        Err(VenueError::Session { origin: Origin::new(&std::sync::Arc::new(self.files[0].clone()), 0), reason: "not implemented yet".into() })
    }
}
