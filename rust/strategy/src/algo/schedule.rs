//! Schedules of the scheduled algorithms: at each slice time, how much should have been sent in all.
//!
//! A [`Schedule`] is a list of slice times with the cumulative quantity due by each; the executor sends
//! the difference between what is due and what is filled or working. Quantities are whole lots and the
//! last slice is due the whole quantity, whatever the weights: cumulative targets are rounded, never the
//! slices one by one, so rounding errors do not add up.

use ferrotrade_model::Quantity;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Slice times (strictly increasing, nanoseconds) and the cumulative quantity due by each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// When each slice is due.
    pub times: Vec<u64>,
    /// The quantity due in all by each slice; the last is the parent's quantity.
    pub cumulative: Vec<Quantity>,
}

impl Schedule {
    /// Builds a schedule from slice `times` and their `weights`, in lots of `lot` adding up to `quantity`.
    fn from_weights(times: Vec<u64>, weights: &[f64], quantity: Quantity, lot: i64) -> Option<Schedule> {
        let total: f64 = weights.iter().sum();
        if total.is_nan() || total <= 0.0 || times.len() != weights.len() {
            return None;
        }
        let lots = quantity.0 / lot;
        let mut running = 0.0;
        let mut cumulative = Vec::with_capacity(weights.len());
        for (index, weight) in weights.iter().enumerate() {
            running += weight;
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            let due = if index + 1 == weights.len() { lots } else { ((lots as f64) * running / total).round() as i64 };
            cumulative.push(Quantity(due.clamp(0, lots) * lot));
        }
        Some(Schedule { times, cumulative })
    }

    /// The quantity due by `now` (zero before the first slice).
    #[must_use]
    pub fn due_at(&self, now: u64) -> Quantity {
        match self.times.partition_point(|time| *time <= now) {
            0 => Quantity::ZERO,
            slices => self.cumulative[slices - 1],
        }
    }

    /// How many slices are due by `now`.
    #[must_use]
    pub fn slices_due(&self, now: u64) -> usize {
        self.times.partition_point(|time| *time <= now)
    }

    /// The first slice time after `now`.
    #[must_use]
    pub fn next_after(&self, now: u64) -> Option<u64> {
        self.times.get(self.times.partition_point(|time| *time <= now)).copied()
    }

    /// The smallest slice (what one slice adds to the cumulative quantity).
    #[must_use]
    pub fn smallest_slice(&self) -> Quantity {
        let mut previous = Quantity::ZERO;
        let mut smallest = Quantity(i64::MAX);
        for due in &self.cumulative {
            smallest = smallest.min(Quantity(due.0 - previous.0));
            previous = *due;
        }
        smallest
    }
}

/// `slices` slices over `[start, end)`, the first at `start`. With `randomize = r > 0`, each later slice
/// time moves by up to `r/2` of the interval and each size by up to `r` of the mean, drawn from `seed`;
/// times stay strictly increasing and before `end`, and sizes still add up to `quantity`.
#[must_use]
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn twap_schedule(
    start: u64,
    end: u64,
    slices: u32,
    quantity: Quantity,
    lot: i64,
    randomize: f64,
    seed: u64,
) -> Schedule {
    let slices = slices.max(1);
    let interval = (end - start) / u64::from(slices);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut times = Vec::with_capacity(slices as usize);
    let mut weights = Vec::with_capacity(slices as usize);
    for slice in 0..u64::from(slices) {
        let base = start + slice * interval;
        let jitter = if randomize > 0.0 && slice > 0 {
            (rng.random_range(-1.0..=1.0) * randomize * 0.5 * interval as f64) as i64
        } else {
            0
        };
        times.push(base.saturating_add_signed(jitter));
        weights.push(if randomize > 0.0 { 1.0 + randomize * rng.random_range(-1.0..=1.0) } else { 1.0 });
    }
    Schedule::from_weights(times, &weights, quantity, lot)
        .unwrap_or_else(|| Schedule { times: vec![start], cumulative: vec![quantity] })
}

/// Children every `interval` over `[start, end)`, the first at `start`, each due the profile's volume of
/// its interval: `profile` holds the weights of equal buckets covering the UTC day (24 buckets are
/// hours), spread evenly within a bucket. `None` when the profile has no volume in `[start, end)`.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn vwap_schedule(
    start: u64,
    end: u64,
    interval: u64,
    profile: &[f64],
    quantity: Quantity,
    lot: i64,
) -> Option<Schedule> {
    const DAY: u64 = 86_400_000_000_000;
    if profile.is_empty() || interval == 0 || end <= start {
        return None;
    }
    let bucket = DAY / profile.len() as u64;
    // The profile's volume over [from, to): whole buckets plus the covered parts of the two ends.
    let volume = |from: u64, to: u64| -> f64 {
        let mut sum = 0.0;
        let mut at = from;
        while at < to {
            let index = ((at % DAY) / bucket) as usize;
            let bucket_end = at - (at % DAY) % bucket + bucket;
            let upto = bucket_end.min(to);
            sum += profile[index.min(profile.len() - 1)] * (upto - at) as f64 / bucket as f64;
            at = upto;
        }
        sum
    };
    let mut times = Vec::new();
    let mut weights = Vec::new();
    let mut at = start;
    while at < end {
        let next = at.saturating_add(interval).min(end);
        times.push(at);
        weights.push(volume(at, next));
        at = next;
    }
    Schedule::from_weights(times, &weights, quantity, lot)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn twap_slices_are_even_and_add_up() {
        let schedule = twap_schedule(10 * SECOND, 70 * SECOND, 6, Quantity(61), 1, 0.0, 0);
        assert_eq!(schedule.times, (0..6).map(|i| (10 + 10 * i) * SECOND).collect::<Vec<_>>());
        let sizes: Vec<i64> = std::iter::once(schedule.cumulative[0].0)
            .chain(schedule.cumulative.windows(2).map(|pair| pair[1].0 - pair[0].0))
            .collect();
        assert_eq!(sizes.iter().sum::<i64>(), 61);
        assert!(sizes.iter().all(|size| (10..=11).contains(size)), "{sizes:?}");
        assert_eq!(schedule.due_at(9 * SECOND), Quantity(0));
        assert_eq!(schedule.due_at(10 * SECOND), schedule.cumulative[0]);
        assert_eq!(schedule.next_after(10 * SECOND), Some(20 * SECOND));
        assert_eq!(schedule.due_at(u64::MAX), Quantity(61));
    }

    #[test]
    fn randomized_twap_stays_ordered_within_bounds_and_is_reproducible() {
        let make = |seed| twap_schedule(0, 100 * SECOND, 10, Quantity(1_000), 5, 0.5, seed);
        let schedule = make(7);
        assert_eq!(schedule, make(7));
        assert_ne!(schedule, make(8));
        assert!(schedule.times.windows(2).all(|pair| pair[0] < pair[1]));
        for (slice, time) in schedule.times.iter().enumerate() {
            let nominal = slice as u64 * 10 * SECOND;
            assert!(time.abs_diff(nominal) <= 10 * SECOND / 4, "slice {slice} at {time}");
        }
        assert_eq!(schedule.cumulative.last(), Some(&Quantity(1_000)));
        assert!(schedule.cumulative.iter().all(|due| due.0 % 5 == 0));
        assert!(schedule.smallest_slice().0 >= 100 / 2 - 5, "{schedule:?}");
    }

    #[test]
    fn vwap_follows_the_profile_across_bucket_edges() {
        // Hours: 0:00-1:00 weight 1, 1:00-2:00 weight 3. From 0:30 to 1:30 in 30-minute children.
        let mut profile = vec![0.0; 24];
        profile[0] = 1.0;
        profile[1] = 3.0;
        let hour = 3_600 * SECOND;
        let schedule = vwap_schedule(hour / 2, 3 * hour / 2, hour / 2, &profile, Quantity(400), 1).unwrap();
        assert_eq!(schedule.times, vec![hour / 2, hour]);
        // 0:30-1:00 holds 0.5 of volume, 1:00-1:30 holds 1.5: a quarter, then the rest.
        assert_eq!(schedule.cumulative, vec![Quantity(100), Quantity(400)]);
        assert!(vwap_schedule(2 * hour, 3 * hour, hour, &profile, Quantity(4), 1).is_none());
    }
}
