//! Line-by-line reading of plain or gzip files, several files as one stream, in bounded memory.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::error::{Origin, VenueError};

const BUFFER_BYTES: usize = 256 * 1024;

/// Opens a file for reading, transparently decompressing gzip (told by its magic bytes, not its name).
///
/// # Errors
/// [`VenueError::Io`] when the file cannot be opened.
pub fn open_maybe_gzip(path: &Path) -> Result<Box<dyn BufRead + Send>, VenueError> {
    let origin = || Origin { file: Arc::new(path.to_path_buf()), line: 0 };
    let mut file = File::open(path).map_err(|source| VenueError::Io { origin: origin(), source })?;
    let mut magic = [0u8; 2];
    let read = read_up_to(&mut file, &mut magic).map_err(|source| VenueError::Io { origin: origin(), source })?;
    let file = counted(File::open(path).map_err(|source| VenueError::Io { origin: origin(), source })?);
    if read == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            MultiGzDecoder::new(BufReader::with_capacity(BUFFER_BYTES, file)),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(BUFFER_BYTES, file)))
    }
}

fn read_up_to(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Reads the lines of one or more files in order, as one stream.
///
/// Lines are returned without their `\n` / `\r\n`; empty lines are returned too (callers skip them).
/// Memory is one reusable line buffer plus the decompressor's window, whatever the file sizes.
pub struct LineReader {
    files: Vec<Arc<PathBuf>>,
    next_file: usize,
    reader: Option<Box<dyn BufRead + Send>>,
    buffer: Vec<u8>,
    origin: Origin,
}

impl std::fmt::Debug for LineReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineReader").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl LineReader {
    /// A reader over `files`, read one after the other.
    ///
    /// # Panics
    /// Never; an empty list yields no lines.
    #[must_use]
    pub fn new(files: &[PathBuf]) -> LineReader {
        let files: Vec<Arc<PathBuf>> = files.iter().map(|path| Arc::new(path.clone())).collect();
        let origin = Origin { file: files.first().cloned().unwrap_or_default(), line: 0 };
        LineReader { files, next_file: 0, reader: None, buffer: Vec::with_capacity(64 * 1024), origin }
    }

    /// Where the last returned line came from.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The next line, or `None` after the last line of the last file.
    ///
    /// # Errors
    /// [`VenueError::Io`] on a read error, [`VenueError::TruncatedGzip`] when a gzip stream ends early.
    pub fn next_line(&mut self) -> Result<Option<(&Origin, &[u8])>, VenueError> {
        loop {
            if self.reader.is_none() {
                let Some(path) = self.files.get(self.next_file) else { return Ok(None) };
                self.origin = Origin { file: Arc::clone(path), line: 0 };
                self.reader = Some(open_maybe_gzip(path)?);
                self.next_file += 1;
            }
            let Some(reader) = self.reader.as_mut() else { continue };
            self.buffer.clear();
            match reader.read_until(b'\n', &mut self.buffer) {
                Ok(0) => {
                    self.reader = None;
                }
                Ok(_) => {
                    self.origin.line += 1;
                    let mut end = self.buffer.len();
                    while end > 0 && matches!(self.buffer[end - 1], b'\n' | b'\r') {
                        end -= 1;
                    }
                    return Ok(Some((&self.origin, &self.buffer[..end])));
                }
                Err(error) if error.kind() == ErrorKind::UnexpectedEof => {
                    return Err(VenueError::TruncatedGzip { origin: self.origin.clone() });
                }
                Err(error) if error.kind() == ErrorKind::InvalidInput || error.kind() == ErrorKind::InvalidData => {
                    return Err(VenueError::Malformed {
                        origin: self.origin.clone(),
                        format: "gzip",
                        reason: format!("corrupt compressed data: {error}"),
                    });
                }
                Err(source) => return Err(VenueError::Io { origin: self.origin.clone(), source }),
            }
        }
    }
}

/// The first non-empty line of a file (decompressed), for format detection; at most `limit` bytes.
///
/// # Errors
/// As [`LineReader::next_line`].
pub fn first_line(path: &Path, limit: usize) -> Result<Vec<u8>, VenueError> {
    let mut reader = open_maybe_gzip(path)?;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader).take(limit as u64).read_until(b'\n', &mut line);
        match read {
            Ok(0) => return Ok(line),
            Ok(_) => {
                while line.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                    line.pop();
                }
                if !line.iter().all(u8::is_ascii_whitespace) {
                    return Ok(line);
                }
            }
            Err(error) if error.kind() == ErrorKind::UnexpectedEof => {
                return Err(VenueError::TruncatedGzip {
                    origin: Origin { file: Arc::new(path.to_path_buf()), line: 1 },
                });
            }
            Err(source) => {
                return Err(VenueError::Io { origin: Origin { file: Arc::new(path.to_path_buf()), line: 1 }, source });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn collect(reader: &mut LineReader) -> Result<Vec<(u64, String)>, VenueError> {
        let mut out = Vec::new();
        while let Some((origin, line)) = reader.next_line()? {
            out.push((origin.line, String::from_utf8_lossy(line).into_owned()));
        }
        Ok(out)
    }

    #[test]
    fn reads_plain_and_gzip_files_as_one_stream() {
        let dir = std::env::temp_dir().join(format!("ft-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = dir.join("a_20240808.gz");
        let second = dir.join("a_20240809.txt");
        std::fs::write(&first, gzip(b"one\r\ntwo\n")).unwrap();
        std::fs::write(&second, b"three\n\nfour").unwrap();
        let mut reader = LineReader::new(&[first.clone(), second]);
        let lines = collect(&mut reader).unwrap();
        assert_eq!(
            lines,
            vec![(1, "one".into()), (2, "two".into()), (1, "three".into()), (2, String::new()), (3, "four".into())]
        );
        assert_eq!(first_line(&first, 1024).unwrap(), b"one");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncated_gzip_is_an_error_with_its_place() {
        let dir = std::env::temp_dir().join(format!("ft-lines-trunc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cut.gz");
        let body: String = (0..5000).map(|i| format!("{i} some line of text\n")).collect();
        let compressed = gzip(body.as_bytes());
        std::fs::write(&path, &compressed[..compressed.len() / 2]).unwrap();
        let mut reader = LineReader::new(&[path]);
        let error = collect(&mut reader).unwrap_err();
        assert!(matches!(error, VenueError::TruncatedGzip { .. }), "{error}");
        assert!(error.to_string().contains("cut.gz:"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

thread_local! {
    /// Bytes read from disk by readers opened on this thread, for progress reporting.
    static PROGRESS: std::cell::RefCell<Option<std::sync::Arc<std::sync::atomic::AtomicU64>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `work` with every file opened on this thread (through [`open_maybe_gzip`] or [`LineReader`])
/// adding the bytes it reads from disk to `counter`.
pub fn with_progress<T>(counter: std::sync::Arc<std::sync::atomic::AtomicU64>, work: impl FnOnce() -> T) -> T {
    let previous = PROGRESS.with(|slot| slot.replace(Some(counter)));
    let result = work();
    PROGRESS.with(|slot| *slot.borrow_mut() = previous);
    result
}

/// A reader that adds what it reads to the thread's progress counter.
struct Counting<R> {
    inner: R,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.counter.fetch_add(read as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(read)
    }
}

fn counted(file: File) -> Box<dyn Read + Send> {
    match PROGRESS.with(|slot| slot.borrow().clone()) {
        Some(counter) => Box::new(Counting { inner: file, counter }),
        None => Box::new(file),
    }
}
