//! The catalog's event stream as the backtest loop's [`ChunkSource`], counting rows for the progress bar.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use ferrotrade_catalog::{Catalog, CatalogError, EventStream, StreamSpec};
use ferrotrade_model::EventChunk;
use ferrotrade_sim::engine::ChunkSource;

/// Reads chunks from a catalog stream.
pub struct CatalogSource<'a> {
    stream: EventStream,
    rows_read: &'a AtomicU64,
}

impl<'a> CatalogSource<'a> {
    /// Opens the stream of `specs`; publishes its total row count in `total`.
    pub fn open(
        catalog: &Catalog,
        specs: &[StreamSpec],
        chunk_rows: usize,
        rows_read: &'a AtomicU64,
        total: &AtomicU64,
    ) -> Result<CatalogSource<'a>, CatalogError> {
        let stream = EventStream::open(catalog, specs, chunk_rows)?;
        total.store(stream.total_rows(), Ordering::Relaxed);
        Ok(CatalogSource { stream, rows_read })
    }
}

impl ChunkSource for CatalogSource<'_> {
    fn next_chunk(&mut self) -> Option<Result<EventChunk, String>> {
        let chunk = self.stream.next()?;
        Some(match chunk {
            Ok(chunk) => {
                self.rows_read.fetch_add(chunk.rows.len() as u64, Ordering::Relaxed);
                Ok(chunk)
            }
            Err(error) => Err(error.to_string()),
        })
    }

    fn recycle(&mut self, chunk: EventChunk) {
        self.stream.recycle(chunk);
    }
}

impl CatalogSource<'_> {
    /// Reads the rest of the stream into memory.
    ///
    /// # Errors
    /// The first read error.
    pub fn preload(mut self) -> Result<MemorySource, String> {
        let mut chunks = VecDeque::new();
        while let Some(chunk) = self.next_chunk() {
            chunks.push_back(chunk?);
        }
        Ok(MemorySource { chunks })
    }
}

/// Chunks read into memory beforehand (`[backtest] preload = true`).
pub struct MemorySource {
    chunks: VecDeque<EventChunk>,
}

impl ChunkSource for MemorySource {
    fn next_chunk(&mut self) -> Option<Result<EventChunk, String>> {
        self.chunks.pop_front().map(Ok)
    }
}
