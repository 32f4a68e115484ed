//! Dropping messages that were delivered already, without allocating.
//!
//! Duplicates reach the feed when two connections overlap (rollover, reconnect) or when a venue resends.
//! Book diffs are deduplicated by update id in `venues::sync::BookSync`; this module handles the rest:
//! - [`IdWindow`]: numeric trade ids. It remembers every id within 1024 of the largest seen, so a trade
//!   that arrives out of order is still delivered once; an id older than that window is taken as seen
//!   (a trade that late is useless to a strategy, and re-delivering it would be worse).
//! - [`FrameRing`]: messages without a usable id (Bybit linear trades have UUIDs, tickers, candles) are
//!   recognized by a 64-bit hash of the frame bytes among the last [`FrameRing::CAPACITY`] such frames.
//!   Both connections of an overlap receive byte-identical frames, so the hash is enough.

use std::hash::{DefaultHasher, Hasher};

/// The ids seen within a window below the largest id.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdWindow {
    /// Largest id seen plus one (0: none seen yet).
    top: u64,
    /// Bit `i` set: id `top - 1 - i` was seen.
    seen: [u64; IdWindow::WORDS],
}

impl IdWindow {
    const WORDS: usize = 16;
    /// How far below the largest id reordered ids are still recognized.
    pub(crate) const SPAN: u64 = (IdWindow::WORDS * 64) as u64;

    /// Records `id`; `true` the first time, `false` for a duplicate (or an id older than the window).
    pub(crate) fn first_time(&mut self, id: u64) -> bool {
        let Some(next) = id.checked_add(1) else { return false };
        if self.top == 0 {
            self.top = next;
            self.seen = [0; IdWindow::WORDS];
            self.seen[0] = 1;
            return true;
        }
        if next > self.top {
            self.shift(next - self.top);
            self.top = next;
            self.seen[0] |= 1;
            return true;
        }
        let offset = self.top - next;
        if offset >= IdWindow::SPAN {
            return false;
        }
        let (word, bit) = ((offset / 64) as usize, offset % 64);
        let fresh = self.seen[word] & (1 << bit) == 0;
        self.seen[word] |= 1 << bit;
        fresh
    }

    /// Moves the window up by `by` ids (bit `i` becomes bit `i + by`).
    fn shift(&mut self, by: u64) {
        if by >= IdWindow::SPAN {
            self.seen = [0; IdWindow::WORDS];
            return;
        }
        let (words, bits) = ((by / 64) as usize, (by % 64) as u32);
        for i in (0..IdWindow::WORDS).rev() {
            let low = i.checked_sub(words).map_or(0, |j| self.seen[j]);
            let carry = if bits == 0 { 0 } else { i.checked_sub(words + 1).map_or(0, |j| self.seen[j] >> (64 - bits)) };
            self.seen[i] = (low << bits) | carry;
        }
    }
}

/// Hashes of the most recent frames whose messages carry no id.
#[derive(Debug, Clone)]
pub(crate) struct FrameRing {
    hashes: Box<[u64; FrameRing::CAPACITY]>,
    next: usize,
}

impl Default for FrameRing {
    fn default() -> Self {
        FrameRing { hashes: Box::new([0; FrameRing::CAPACITY]), next: 0 }
    }
}

impl FrameRing {
    /// Frames remembered.
    pub(crate) const CAPACITY: usize = 1024;

    /// The hash of a frame (deterministic: the standard SipHash with fixed keys).
    pub(crate) fn hash(frame: &[u8]) -> u64 {
        let mut hasher = DefaultHasher::new();
        hasher.write(frame);
        // 0 marks an empty slot.
        hasher.finish().max(1)
    }

    /// Records `hash`; `true` the first time it is seen among the remembered frames.
    pub(crate) fn first_time(&mut self, hash: u64) -> bool {
        if self.hashes.contains(&hash) {
            return false;
        }
        self.hashes[self.next] = hash;
        self.next = (self.next + 1) % FrameRing::CAPACITY;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_order_duplicates_and_reordering() {
        let mut window = IdWindow::default();
        assert!(window.first_time(100));
        assert!(window.first_time(101));
        assert!(!window.first_time(101));
        assert!(!window.first_time(100));
        assert!(window.first_time(105));
        // 102..104 arrive late: each once.
        for id in [103, 102, 104] {
            assert!(window.first_time(id), "{id}");
            assert!(!window.first_time(id), "{id} twice");
        }
        assert!(!window.first_time(105));
        assert!(!window.first_time(u64::MAX));
    }

    #[test]
    fn window_shifts_across_words_and_forgets_far_ids() {
        let mut window = IdWindow::default();
        let ids: Vec<u64> = (0..3000).step_by(7).collect();
        for &id in &ids {
            assert!(window.first_time(id));
        }
        let top = *ids.last().expect("ids");
        // Every id still within the window is remembered, every gap in it is not.
        for id in (top - IdWindow::SPAN + 1)..=top {
            let was_sent = id % 7 == 0;
            assert_eq!(window.first_time(id), !was_sent, "{id}");
        }
        // Below the window: taken as seen.
        assert!(!window.first_time(top - IdWindow::SPAN - 3));
        // A jump larger than the window clears it.
        assert!(window.first_time(top + 10_000));
        assert!(window.first_time(top + 10_000 - 1));
    }

    #[test]
    fn shift_by_word_multiples_keeps_bits() {
        let mut window = IdWindow::default();
        assert!(window.first_time(10));
        assert!(window.first_time(10 + 128));
        assert!(!window.first_time(10));
        assert!(window.first_time(11));
    }

    #[test]
    fn frame_ring_remembers_the_last_frames() {
        let mut ring = FrameRing::default();
        let frame = |i: usize| format!(r#"{{"topic":"publicTrade.XRPUSDT","i":{i}}}"#);
        assert!(ring.first_time(FrameRing::hash(frame(0).as_bytes())));
        assert!(!ring.first_time(FrameRing::hash(frame(0).as_bytes())));
        for i in 1..=FrameRing::CAPACITY {
            assert!(ring.first_time(FrameRing::hash(frame(i).as_bytes())));
        }
        // Frame 0 was pushed out by CAPACITY newer ones.
        assert!(ring.first_time(FrameRing::hash(frame(0).as_bytes())));
        assert_eq!(FrameRing::hash(b"abc"), FrameRing::hash(b"abc"));
    }
}
