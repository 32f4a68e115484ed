//! One side of the book: a dense per-tick ladder over a window of prices, with an ordered sparse overflow
//! for the levels outside the window.
//!
//! The window is `slots` consecutive price mantissas `[base, base + slots)`. Slot `i` holds the size at
//! price `base + i` (0 = no level); a bitmap with one bit per slot marks the non-empty slots, so finding the
//! next level after removing the best, iterating depth and re-centering skip 64 empty slots per word.
//!
//! # Invariants (checked by [`Ladder::check`])
//! 1. Slot `i` is non-zero exactly when bit `i` of the bitmap is set; `dense_count` is the number of set bits.
//! 2. Every overflow key lies outside the window on the *worse* side of the touch (below `base` for bids, at
//!    or above `base + slots` for asks), and every overflow size is positive.
//! 3. The side is empty exactly when `dense_count == 0`; then the overflow is empty too.
//! 4. When the side is not empty, `best` is the best non-empty slot, hence (by 2) the best level overall.
//!
//! A level that would become the best from outside the window, or an empty window with overflow levels
//! left, re-centers the window on the new touch (see [`Ladder::recenter`]). The touch then sits a quarter of
//! the window away from the improving edge: the window mostly covers the depth behind the touch, with
//! room for the touch to move a quarter window before the next re-center.

use std::collections::BTreeMap;

/// Smallest window, in slots: one bitmap word.
pub(crate) const MIN_SLOTS: usize = 64;
/// Largest window, in slots (2^24 slots: 128 MiB of sizes per side).
pub(crate) const MAX_SLOTS: usize = 1 << 24;

/// One side of the book; `BID` selects the ordering (bids: higher is better; asks: lower is better).
#[derive(Debug, Clone)]
pub(crate) struct Ladder<const BID: bool> {
    /// Price mantissa of slot 0; kept `<= i64::MAX - (slots - 1)` so the last slot is a valid price.
    base: i64,
    /// Size per slot; 0 means no level.
    sizes: Vec<i64>,
    /// One bit per slot, set when the slot's size is non-zero.
    occupied: Vec<u64>,
    /// Number of non-empty slots.
    dense_count: usize,
    /// Levels outside the window, all on the worse side of the touch.
    overflow: BTreeMap<i64, i64>,
    /// Price of the best level; meaningful only when `dense_count > 0`.
    best: i64,
    /// Reused by [`Ladder::recenter`] so re-centering does not allocate after warm-up.
    scratch: Vec<(i64, i64)>,
}

/// A prefetch of the cache line holding `at` into every level of the cache (`prefetcht0`); never a
/// dereference, so any address is allowed. A no-op off x86-64.
#[inline(always)]
fn prefetch_line<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is part of SSE, which every x86-64 CPU has, and it never reads or writes the
    // address (an unmapped one is ignored).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Rewrites each value of `values` in place: a zeroed allocation's pages are then mapped, and later
/// writes to them fault no more. `black_box` keeps the rewrite from being optimized away.
fn touch_pages(values: &mut [impl Copy]) {
    for value in values.iter_mut() {
        *value = std::hint::black_box(*value);
    }
}

impl<const BID: bool> Ladder<BID> {
    /// An empty side whose window has `slots` slots (rounded up to a multiple of 64 within
    /// `[MIN_SLOTS, MAX_SLOTS]`).
    pub(crate) fn new(slots: usize) -> Self {
        let slots = slots.clamp(MIN_SLOTS, MAX_SLOTS).next_multiple_of(64);
        Ladder {
            base: 0,
            // `vec![0; n]` maps zeroed pages lazily: untouched parts of the window cost no physical memory.
            sizes: vec![0; slots],
            occupied: vec![0; slots / 64],
            dense_count: 0,
            overflow: BTreeMap::new(),
            best: 0,
            scratch: Vec::new(),
        }
    }

    /// Number of slots in the window.
    #[inline]
    pub(crate) fn slots(&self) -> usize {
        self.sizes.len()
    }

    /// Whether `a` is a better price than `b` on this side.
    #[inline(always)]
    fn better(a: i64, b: i64) -> bool {
        if BID { a > b } else { a < b }
    }

    /// The size at `price` (0 when there is no level). `O(1)` inside the window, `O(log n)` outside.
    #[inline]
    pub(crate) fn get(&self, price: i64) -> i64 {
        let offset = price.wrapping_sub(self.base) as u64;
        if offset < self.sizes.len() as u64 {
            self.sizes[offset as usize]
        } else {
            self.overflow.get(&price).copied().unwrap_or(0)
        }
    }

    /// Asks the CPU to bring the cache lines [`Ladder::set`] of `price` touches (its size and its bitmap
    /// word) into L1 ahead of the store: a hint, no effect on the contents. A price outside the window
    /// asks for nothing (its overflow path is rare).
    #[inline]
    pub(crate) fn prefetch(&self, price: i64) {
        let offset = price.wrapping_sub(self.base) as u64;
        if offset < self.sizes.len() as u64 {
            let index = offset as usize;
            prefetch_line(self.sizes.as_ptr().wrapping_add(index));
            prefetch_line(self.occupied.as_ptr().wrapping_add(index >> 6));
        }
    }

    /// Sets the size at `price`; `size == 0` removes the level. The caller guarantees `size >= 0`.
    #[inline]
    pub(crate) fn set(&mut self, price: i64, size: i64) {
        // Exact because `base <= i64::MAX - (slots - 1)`: a price outside the window maps to an offset
        // >= slots even when the subtraction wraps.
        let offset = price.wrapping_sub(self.base) as u64;
        if offset >= self.sizes.len() as u64 {
            self.set_outside(price, size);
            return;
        }
        let index = offset as usize;
        let old = self.sizes[index];
        self.sizes[index] = size;
        // Branch-free bookkeeping: whether a level appears, changes or disappears is data-dependent and
        // would mispredict on a real stream; only removing the best level (rare) branches.
        let was = usize::from(old != 0);
        let is = usize::from(size != 0);
        let emptied = self.dense_count == 0;
        self.dense_count = self.dense_count + is - was;
        let bit = 1u64 << (index & 63);
        let word = &mut self.occupied[index >> 6];
        *word = (*word & !bit) | (bit & (is as u64).wrapping_neg());
        let improves = is != 0 && (emptied || Self::better(price, self.best));
        self.best = if improves { price } else { self.best };
        if price == self.best && is < was {
            self.refind_best(index);
        }
    }

    /// The best level was removed from slot `index`: the next best is the next non-empty slot behind it,
    /// or, when the window is empty, the best overflow level (the window re-centers on it).
    fn refind_best(&mut self, index: usize) {
        let next = if BID { self.scan_down(index) } else { self.scan_up(index) };
        match next {
            Some(slot) => self.best = self.price_at(slot),
            None => {
                let anchor = if BID { self.overflow.last_key_value() } else { self.overflow.first_key_value() };
                if let Some((&price, _)) = anchor {
                    self.recenter(price);
                }
            }
        }
    }

    /// A price outside the window: an overflow insert or delete, or a new touch that re-centers the window.
    #[cold]
    #[inline(never)]
    fn set_outside(&mut self, price: i64, size: i64) {
        if size == 0 {
            self.overflow.remove(&price);
            return;
        }
        if self.dense_count == 0 || Self::better(price, self.best) {
            // A new touch (or the first level of an empty side): bring it inside the window, where
            // `recenter` puts it by construction; the overflow branch only keeps this total.
            self.recenter(price);
            let offset = price.wrapping_sub(self.base) as u64;
            if offset < self.sizes.len() as u64 {
                let index = offset as usize;
                if self.sizes[index] == 0 {
                    self.occupied[index >> 6] |= 1 << (index & 63);
                    self.dense_count += 1;
                }
                self.sizes[index] = size;
                self.best = price;
            } else {
                self.overflow.insert(price, size);
            }
        } else {
            // Not better than the touch, so it lies behind the window: invariant 2 holds.
            self.overflow.insert(price, size);
        }
    }

    /// Moves the window so that `anchor` lies a quarter window from the improving edge, moving levels
    /// between the window and the overflow. `O(slots / 64 + levels moved x log overflow)`.
    pub(crate) fn recenter(&mut self, anchor: i64) {
        let slots = self.sizes.len();
        let behind = (slots - slots / 4) as i64;
        let ahead = (slots / 4) as i64;
        let wanted = if BID { anchor.saturating_sub(behind) } else { anchor.saturating_sub(ahead) };
        let last = slots as i64 - 1;
        let new_base = wanted.min(i64::MAX - last);
        let mut moved = std::mem::take(&mut self.scratch);
        moved.clear();
        let drained = self.drain_dense(|price, size| moved.push((price, size)));
        self.base = new_base;
        // Overflow levels now inside the window move into it.
        moved.extend(self.overflow.range(new_base..=new_base + last).map(|(&price, &size)| (price, size)));
        for &(price, _) in &moved[drained..] {
            self.overflow.remove(&price);
        }
        for &(price, size) in &moved {
            let offset = price.wrapping_sub(new_base) as u64;
            if offset < slots as u64 {
                let index = offset as usize;
                self.sizes[index] = size;
                self.occupied[index >> 6] |= 1 << (index & 63);
                self.dense_count += 1;
            } else {
                self.overflow.insert(price, size);
            }
        }
        self.scratch = moved;
        let best_slot = if BID { self.scan_down(slots - 1) } else { self.scan_up(0) };
        if let Some(slot) = best_slot {
            self.best = self.price_at(slot);
        }
    }

    /// Empties the window, handing each level to `sink`; returns how many levels were drained.
    fn drain_dense(&mut self, mut sink: impl FnMut(i64, i64)) -> usize {
        let mut drained = 0;
        for (word_index, word) in self.occupied.iter_mut().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let index = word_index * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                sink(self.base + index as i64, self.sizes[index]);
                self.sizes[index] = 0;
                drained += 1;
            }
            *word = 0;
        }
        self.dense_count = 0;
        drained
    }

    /// Writes every slot of the window and its bitmap once (their values unchanged), so no later update
    /// is the first touch of one of their pages. `O(slots)`.
    pub(crate) fn make_resident(&mut self) {
        touch_pages(&mut self.sizes);
        touch_pages(&mut self.occupied);
    }

    /// How many of the pages of the window's sizes are resident, and how many there are (`mincore`).
    #[cfg(test)]
    pub(crate) fn resident_pages(&self) -> (usize, usize) {
        let page = 4096;
        let start = self.sizes.as_ptr() as usize / page * page;
        let end = (self.sizes.as_ptr() as usize + std::mem::size_of_val(self.sizes.as_slice())).next_multiple_of(page);
        let mut flags = vec![0u8; (end - start) / page];
        // SAFETY: the range covers the vector's live allocation, rounded out to whole pages, and `flags`
        // has one byte per page, as mincore requires.
        let status = unsafe { libc::mincore(start as *mut libc::c_void, end - start, flags.as_mut_ptr()) };
        assert_eq!(status, 0, "mincore");
        (flags.iter().filter(|flag| **flag & 1 == 1).count(), flags.len())
    }

    /// Removes every level. `O(slots / 64 + levels)`.
    pub(crate) fn clear(&mut self) {
        let _ = self.drain_dense(|_, _| {});
        self.overflow.clear();
    }

    /// Prepares an empty side for a snapshot whose best price is `anchor`, so loading it does not
    /// re-center level by level.
    pub(crate) fn place_window(&mut self, anchor: i64) {
        if self.dense_count == 0 {
            self.recenter(anchor);
        }
    }

    #[inline]
    fn price_at(&self, slot: usize) -> i64 {
        self.base + slot as i64
    }

    /// The highest non-empty slot `<= from`.
    #[inline]
    pub(crate) fn scan_down(&self, from: usize) -> Option<usize> {
        let mut word_index = from >> 6;
        let bit = from & 63;
        let mask = if bit == 63 { u64::MAX } else { (1u64 << (bit + 1)) - 1 };
        let mut bits = *self.occupied.get(word_index)? & mask;
        loop {
            if bits != 0 {
                return Some(word_index * 64 + 63 - bits.leading_zeros() as usize);
            }
            if word_index == 0 {
                return None;
            }
            word_index -= 1;
            bits = self.occupied[word_index];
        }
    }

    /// The lowest non-empty slot `>= from`.
    #[inline]
    pub(crate) fn scan_up(&self, from: usize) -> Option<usize> {
        let mut word_index = from >> 6;
        let mut bits = *self.occupied.get(word_index)? & (u64::MAX << (from & 63));
        loop {
            if bits != 0 {
                return Some(word_index * 64 + bits.trailing_zeros() as usize);
            }
            word_index += 1;
            bits = *self.occupied.get(word_index)?;
        }
    }

    /// The best level as `(price, size)`. `O(1)`.
    #[inline]
    pub(crate) fn best(&self) -> Option<(i64, i64)> {
        if self.dense_count == 0 {
            return None;
        }
        let size = self.sizes.get(self.best.wrapping_sub(self.base) as usize).copied().unwrap_or(0);
        Some((self.best, size))
    }

    /// Number of levels. `O(1)`.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.dense_count + self.overflow.len()
    }

    /// A best-first cursor over the levels.
    pub(crate) fn levels(&self) -> Levels<'_, BID> {
        let next_slot = if self.dense_count == 0 { None } else { Some(self.best.wrapping_sub(self.base) as usize) };
        Levels { ladder: self, next_slot, overflow: self.overflow.range(..) }
    }

    /// Checks invariants 1–4 of the module doc; the message names the first one broken.
    pub(crate) fn check(&self) -> Result<(), String> {
        let slots = self.sizes.len();
        let top = i128::from(self.base) + slots as i128;
        let mut count = 0;
        let mut best: Option<i64> = None;
        for (index, &size) in self.sizes.iter().enumerate() {
            let bit = self.occupied[index >> 6] >> (index & 63) & 1 == 1;
            if size < 0 {
                return Err(format!("negative size {size} at price {}", self.price_at(index)));
            }
            if bit != (size != 0) {
                return Err(format!("bitmap disagrees with size {size} at price {}", self.price_at(index)));
            }
            if size != 0 {
                count += 1;
                let price = self.price_at(index);
                if best.is_none_or(|b| Self::better(price, b)) {
                    best = Some(price);
                }
            }
        }
        if count != self.dense_count {
            return Err(format!("window holds {count} levels, counted {}", self.dense_count));
        }
        for (&price, &size) in &self.overflow {
            if size <= 0 {
                return Err(format!("overflow level {price} has size {size}"));
            }
            let behind = if BID { price < self.base } else { i128::from(price) >= top };
            if !behind {
                return Err(format!("overflow level {price} is not behind the window [{}, {top})", self.base));
            }
        }
        match best {
            None if !self.overflow.is_empty() => Err("empty window with overflow levels".to_owned()),
            Some(price) if price != self.best => Err(format!("best is {}, should be {price}", self.best)),
            _ => Ok(()),
        }
    }
}

/// Best-first cursor over one side: the window's slots from the touch outwards, then the overflow.
#[derive(Debug, Clone)]
pub(crate) struct Levels<'a, const BID: bool> {
    ladder: &'a Ladder<BID>,
    /// Next slot to look at (inclusive), `None` once the window is exhausted.
    next_slot: Option<usize>,
    overflow: std::collections::btree_map::Range<'a, i64, i64>,
}

impl<const BID: bool> Iterator for Levels<'_, BID> {
    type Item = (i64, i64);

    #[inline]
    fn next(&mut self) -> Option<(i64, i64)> {
        if let Some(from) = self.next_slot {
            let found = if BID { self.ladder.scan_down(from) } else { self.ladder.scan_up(from) };
            if let Some(slot) = found {
                self.next_slot = if BID { slot.checked_sub(1) } else { Some(slot + 1) };
                return Some((self.ladder.price_at(slot), self.ladder.sizes[slot]));
            }
            self.next_slot = None;
        }
        // Overflow keys all lie behind the window: bids descend from the highest, asks ascend.
        let entry = if BID { self.overflow.next_back() } else { self.overflow.next() };
        entry.map(|(&price, &size)| (price, size))
    }
}
