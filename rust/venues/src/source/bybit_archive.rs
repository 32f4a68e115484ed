//! Bybit's history archive (quote-saver.bycsi.com, `*_ob500.data`, plain or gzip): one v5 `orderbook`
//! message per line, exactly as the WebSocket sends it.
//!
//! The archive records no local receive time, so `ts_recv` is the message's own `ts` (exchange time,
//! ms). The archive's path says the market: a path with a `spot` or `inverse` component is read as
//! [`Venue::BybitSpot`] / [`Venue::BybitInverse`], anything else as [`Venue::BybitLinear`] (the
//! `contract` archive, where most files come from).
//!
//! A line that does not decode is handed to [`Visitor::bad_record`] with its file and line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrotrade_model::Venue;

use crate::decoded::Scratch;
use crate::error::{Origin, VenueError};
use crate::lines::LineReader;
use crate::source::{Format, FrameHint, Source, Visitor, visit_frame};

const FORMAT: &str = "bybit-archive";

/// Whether a first line looks like an archive line: a v5 topic message.
#[must_use]
pub fn sniff(line: &[u8]) -> bool {
    line.starts_with(br#"{"topic":"#)
}

/// A session of Bybit archive files, read in the given order.
#[derive(Debug)]
pub struct BybitArchiveSource {
    files: Vec<PathBuf>,
    scratch: Scratch,
}

impl BybitArchiveSource {
    /// A source over `files`.
    ///
    /// # Errors
    /// [`VenueError::Session`] when `files` is empty.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        if files.is_empty() {
            return Err(VenueError::Session {
                origin: Origin { file: Arc::default(), line: 0 },
                reason: "a Bybit archive session needs at least one file".into(),
            });
        }
        Ok(Self { files, scratch: Scratch::default() })
    }
}

/// The market an archive path belongs to (see the module docs).
#[must_use]
pub fn venue_from_path(path: &Path) -> Venue {
    let component = |name: &str| path.components().any(|c| c.as_os_str().to_string_lossy().eq_ignore_ascii_case(name));
    if component("spot") {
        Venue::BybitSpot
    } else if component("inverse") {
        Venue::BybitInverse
    } else {
        Venue::BybitLinear
    }
}

impl Source for BybitArchiveSource {
    fn format(&self) -> Format {
        Format::BybitArchive
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        let mut reader = LineReader::new(&self.files);
        let mut hint = FrameHint::default();
        let mut current_file: Option<Arc<PathBuf>> = None;
        while let Some((origin, line)) = reader.next_line()? {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if current_file.as_ref() != Some(&origin.file) {
                hint.venue = Some(venue_from_path(&origin.file));
                current_file = Some(Arc::clone(&origin.file));
            }
            // The archive has no receive time: each message counts as received at its own `ts`.
            visit_frame(line, &hint, &mut self.scratch, visitor, origin, None, FORMAT)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::UnixNanos;

    use super::*;
    use crate::bybit::counting::Counter;

    fn archive() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/bybit/2024-12-01_XRPUSDT_ob500.data"))
    }

    #[test]
    fn reads_the_real_archive_end_to_end() {
        let first = std::fs::read(archive()).unwrap();
        assert!(sniff(&first));
        assert_eq!(crate::source::detect_format(&archive()).unwrap(), Format::BybitArchive);
        let mut source = BybitArchiveSource::open(vec![archive()]).unwrap();
        let mut counter = Counter::default();
        source.read(&mut counter).unwrap();
        // `wc -l`: 50 lines; `grep -c '"type":"snapshot"'`: 1.
        assert_eq!((counter.messages(), counter.books), (50, 50));
        assert_eq!(counter.snapshots, 1);
        assert_eq!(counter.bad, 0);
        assert_eq!(counter.symbols(), vec![(Venue::BybitLinear, "XRPUSDT".to_owned())]);
        // u runs 20254869..=20254918 without gaps.
        assert_eq!(counter.first_sequence, Some(20_254_869));
        assert_eq!(counter.last_sequence, Some(20_254_918));
        assert_eq!(counter.first_ts_recv, Some(UnixNanos::from_millis(1_733_011_200_691)));
        assert_eq!(counter.last_ts_recv, Some(UnixNanos::from_millis(1_733_011_205_490)));
        // Levels: 500 + 500 in the snapshot; all counted with grep -o '\["[0-9.]*","[0-9.]*"\]'.
        assert_eq!(counter.levels, 3_966);
        // Reading twice gives the same counts (the pipeline reads each session twice).
        let mut again = Counter::default();
        source.read(&mut again).unwrap();
        assert_eq!(again.books, 50);
    }

    #[test]
    fn a_broken_line_is_reported_with_its_place() {
        let text = std::fs::read_to_string(archive()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[6] = r#"{"topic":"orderbook.500.XRPUSDT","type":"delta","ts":1733011200800,"data":{"s":"XRPUSDT","b":[["1.9x","1"]],"a":[],"u":1}}"#;
        let dir = std::env::temp_dir().join(format!("ft-bybit-archive-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broken_ob500.data");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let mut source = BybitArchiveSource::open(vec![path.clone()]).unwrap();
        let mut counter = Counter { keep_going: true, ..Counter::default() };
        source.read(&mut counter).unwrap();
        assert_eq!((counter.books, counter.bad), (49, 1));
        assert!(counter.errors[0].contains("broken_ob500.data:7"), "{}", counter.errors[0]);
        // The default visitor stops at the first bad record, with its place.
        let mut strict = Counter::default();
        let error = source.read(&mut strict).unwrap_err();
        assert!(error.to_string().contains("broken_ob500.data:7"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn path_tells_the_market() {
        assert_eq!(venue_from_path(Path::new("/a/spot/BTCUSDT/2024-12-01_BTCUSDT_ob200.data")), Venue::BybitSpot);
        assert_eq!(venue_from_path(Path::new("/a/contract/XRPUSDT/x_ob500.data")), Venue::BybitLinear);
    }
}
