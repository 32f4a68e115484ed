//! [`AppendLog`]: the journal file, appended through a shared memory map instead of `write` calls.
//!
//! # Why
//! The engine writes an order's journal record before the order leaves (see the journal's group-commit
//! rule). As a `write` system call on ext4 that cost 20-25 us right after a sync, the largest single item
//! of a submit's path on the benchmark machine. Copying the bytes into a shared mapping of the file costs
//! a `memcpy`, and gives the same guarantee against a crashed process: the bytes are in the kernel's page
//! cache the moment they are copied, whatever happens to the process afterwards. (Against a power cut,
//! only a sync helps; [`AppendLog::sync`] is `msync`, as `fdatasync` was.)
//!
//! # Layout and invariants
//! - The file is extended in [`CHUNK`] steps ahead of the data; bytes past the logical end are zero.
//! - The logical end is the end of the last complete line. On a clean close the file is cut back to it, so
//!   a finished run leaves a plain JSONL file.
//! - After a crash the file ends with zeros, and possibly with a group whose copy was interrupted: such a
//!   line contains a NUL byte or lacks its newline (JSON text never contains a raw NUL, serde escapes it).
//!   The reader stops at the first such line and the journal is cut there on the next open, so a record
//!   is either wholly in the journal or not at all.
//! - One writer: the engine thread that owns the journal.
//! - The pages a record will land in are faulted in ahead ([`AppendLog::prepare`], [`AHEAD`] bytes past the
//!   end, called when the engine commits at the end of an input): the first write to a page of a sparse
//!   file mapping is a page fault that allocates the file's block, 20-30 us on the benchmark machine, once
//!   every ~20 records on a submit's path if left to the copy. Pre-faulting writes zeros where zeros
//!   already are, so the file's content and the crash rule above are unchanged.

use std::fs::File;
use std::io;

use memmap2::MmapMut;

/// Growth step of the file and its mapping.
pub const CHUNK: u64 = 4 << 20;
/// How far past the logical end [`AppendLog::prepare`] keeps the mapping's pages faulted in.
pub const AHEAD: u64 = 64 << 10;
/// The page size pre-faulting steps by (smaller than or equal to the system's: touching every 4 KiB
/// reaches every page of a larger size too).
const PAGE: u64 = 4 << 10;

/// An append-only file written through a memory map (see the module docs).
#[derive(Debug)]
pub(super) struct AppendLog {
    file: File,
    map: MmapMut,
    /// Logical end: bytes appended so far.
    len: u64,
    /// Bytes before this offset are synced to disk.
    synced: u64,
    /// Pages before this offset have been written to (faulted in).
    faulted: u64,
}

impl AppendLog {
    /// Maps `file` (opened for reading and writing), whose data ends at `len`, for appending.
    ///
    /// # Errors
    /// The error of extending or mapping the file.
    pub(super) fn new(file: File, len: u64) -> io::Result<AppendLog> {
        let capacity = len.div_ceil(CHUNK).max(1) * CHUNK + CHUNK;
        file.set_len(capacity)?;
        let map = map(&file)?;
        let mut log = AppendLog { file, map, len, synced: len, faulted: len };
        log.prepare()?;
        Ok(log)
    }

    /// Grows the file and faults in its pages up to [`AHEAD`] bytes past the logical end, so the next
    /// appends copy into resident pages (see the module docs); nothing to do most of the time.
    ///
    /// # Errors
    /// The error of extending or re-mapping the file.
    pub(super) fn prepare(&mut self) -> io::Result<()> {
        let target = self.len + AHEAD;
        if target <= self.faulted {
            return Ok(());
        }
        if target > self.map.len() as u64 {
            self.grow(target)?;
        }
        // Page-aligned, from the first page not yet written (a page written by an append is resident).
        let mut at = self.faulted.max(self.len).div_ceil(PAGE) * PAGE;
        while at < target {
            let offset = usize::try_from(at).map_err(io::Error::other)?;
            // Past the logical end the file holds zeros: writing one changes nothing but residency.
            self.map[offset] = 0;
            at += PAGE;
        }
        self.faulted = target;
        Ok(())
    }

    fn grow(&mut self, end: u64) -> io::Result<()> {
        let capacity = end.div_ceil(CHUNK) * CHUNK + CHUNK;
        self.file.set_len(capacity)?;
        // The old mapping's pages stay in the page cache; only the view is replaced.
        self.map = map(&self.file)?;
        Ok(())
    }

    /// Copies `bytes` after the logical end, growing the file when needed.
    ///
    /// # Errors
    /// The error of extending or re-mapping the file (nothing is appended then).
    pub(super) fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let end = self.len + bytes.len() as u64;
        if end > self.map.len() as u64 {
            self.grow(end)?;
        }
        let start = usize::try_from(self.len).map_err(io::Error::other)?;
        self.map[start..start + bytes.len()].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Forces the bytes appended since the last sync to disk (`msync`).
    ///
    /// # Errors
    /// The error of the sync.
    pub(super) fn sync(&mut self) -> io::Result<()> {
        if self.synced < self.len {
            let (from, to) = (usize::try_from(self.synced), usize::try_from(self.len));
            let (Ok(from), Ok(to)) = (from, to) else { return Err(io::Error::other("journal offset overflow")) };
            self.map.flush_range(from, to - from)?;
            self.synced = self.len;
        }
        Ok(())
    }

    /// Syncs and cuts the file back to its logical end (a clean close).
    ///
    /// # Errors
    /// The error of the sync or of the truncation.
    pub(super) fn close(&mut self) -> io::Result<()> {
        self.sync()?;
        self.file.set_len(self.len)?;
        self.file.sync_data()
    }
}

fn map(file: &File) -> io::Result<MmapMut> {
    // SAFETY: the mapping is of the run's own journal, written only by this process's engine thread through
    // this `AppendLog`; a second engine on the same run directory is refused by the exclusive lock
    // `Journal::open` takes on the file before mapping it. The file is never truncated below the mapped
    // length while mapped: `close` cuts it only at the end of the run.
    unsafe { MmapMut::map_mut(file) }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use super::{AHEAD, AppendLog, CHUNK};

    fn temp(name: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("ft-appendlog-{name}-{}", std::process::id()));
        std::fs::remove_file(&path).ok();
        path
    }

    #[test]
    fn appends_land_in_the_file_at_once_and_a_close_cuts_the_zero_tail() {
        let path = temp("close");
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).expect("open");
        let mut log = AppendLog::new(file, 0).expect("map");
        log.append(b"{\"a\":1}\n").expect("append");
        // Visible to a reader before any sync or close: the page cache holds it.
        let text = std::fs::read(&path).expect("read");
        assert!(text.starts_with(b"{\"a\":1}\n\0"), "zero tail until the close");
        assert_eq!(text.len() as u64, 2 * CHUNK);
        log.append(b"{\"b\":2}\n").expect("append");
        log.close().expect("close");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "{\"a\":1}\n{\"b\":2}\n");
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn a_group_larger_than_the_mapping_grows_it() {
        let path = temp("grow");
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).expect("open");
        let mut log = AppendLog::new(file, 0).expect("map");
        let line = vec![b'x'; usize::try_from(CHUNK).expect("chunk") * 3];
        log.append(&line).expect("append");
        log.append(b"\n").expect("append");
        log.sync().expect("sync");
        log.close().expect("close");
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 3 * CHUNK + 1);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn prepare_keeps_the_pages_ahead_faulted_without_changing_the_file() {
        let path = temp("prepare");
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).expect("open");
        let mut log = AppendLog::new(file, 0).expect("map");
        assert_eq!(log.faulted, AHEAD, "the first pages are faulted in at open");
        // Appends up to near the end of the mapping: prepare grows it ahead of the next record.
        let line = vec![b'y'; usize::try_from(2 * CHUNK - AHEAD / 2).expect("size")];
        log.append(&line).expect("append");
        log.prepare().expect("prepare");
        assert!(log.map.len() as u64 >= log.len + AHEAD, "grown ahead of the data");
        assert_eq!(log.faulted, log.len + AHEAD);
        log.append(b"\n").expect("append");
        log.close().expect("close");
        let text = std::fs::read(&path).expect("read");
        assert_eq!(text.len(), line.len() + 1, "the zero tail is cut at the close");
        assert!(text[..line.len()].iter().all(|&byte| byte == b'y'));
        std::fs::remove_file(&path).ok();
    }
}
