//! Binance listenKeys: one per account and market, valid for [`crate::SessionLimits::listen_key_ttl`]
//! after its creation or last keepalive.
//!
//! As on Binance, creating a key while the account's key is still valid returns that key and extends
//! it; deleting it closes its streams; an expired key sends `listenKeyExpired` on its streams, which
//! are then closed, and keepalives for it fail with `-1125`.
use std::collections::BTreeMap;
use std::time::Duration;

use ferrotrade_model::Venue;
use rand::Rng;
use tokio::time::Instant;

/// One listenKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListenKey {
    pub account: usize,
    pub venue: Venue,
    pub expires: Instant,
}

/// Every valid listenKey.
#[derive(Debug, Default)]
pub(crate) struct ListenKeys {
    keys: BTreeMap<String, ListenKey>,
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl ListenKeys {
    /// The account's key for `venue`, created or extended.
    pub fn create(&mut self, account: usize, venue: Venue, ttl: Duration, now: Instant, rng: &mut impl Rng) -> String {
        if let Some((key, entry)) = self.keys.iter_mut().find(|(_, k)| k.account == account && k.venue == venue) {
            entry.expires = now + ttl;
            return key.clone();
        }
        let key: String = (0..64).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
        self.keys.insert(key.clone(), ListenKey { account, venue, expires: now + ttl });
        key
    }

    /// Extends `key` of `account`; `false` when it does not exist (or belongs to someone else).
    pub fn keepalive(
        &mut self,
        account: usize,
        venue: Venue,
        key: Option<&str>,
        ttl: Duration,
        now: Instant,
    ) -> Option<String> {
        let found = self.keys.iter_mut().find(|(k, entry)| {
            entry.account == account && entry.venue == venue && key.is_none_or(|wanted| wanted == k.as_str())
        })?;
        found.1.expires = now + ttl;
        Some(found.0.clone())
    }

    /// Deletes the account's key; returns it when it existed.
    pub fn close(&mut self, account: usize, venue: Venue, key: Option<&str>) -> Option<String> {
        let found = self
            .keys
            .iter()
            .find(|(k, entry)| entry.account == account && entry.venue == venue && key.is_none_or(|w| w == k.as_str()))
            .map(|(k, _)| k.clone())?;
        self.keys.remove(&found);
        Some(found)
    }

    /// The key's owner, when it is valid.
    pub fn get(&self, key: &str) -> Option<&ListenKey> {
        self.keys.get(key)
    }

    /// Removes and returns the keys expired at `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<(String, ListenKey)> {
        let expired: Vec<String> =
            self.keys.iter().filter(|(_, k)| k.expires <= now).map(|(key, _)| key.clone()).collect();
        expired.into_iter().filter_map(|key| self.keys.remove(&key).map(|entry| (key, entry))).collect()
    }

    /// When the next key expires.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.keys.values().map(|k| k.expires).min()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;

    #[test]
    fn create_returns_the_valid_key_and_expiry_removes_it() {
        let mut keys = ListenKeys::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let now = Instant::now();
        let ttl = Duration::from_secs(60);
        let key = keys.create(0, Venue::BinanceUsdm, ttl, now, &mut rng);
        assert_eq!(key.len(), 64);
        assert_eq!(keys.create(0, Venue::BinanceUsdm, ttl, now + Duration::from_secs(30), &mut rng), key);
        assert_ne!(keys.create(0, Venue::BinanceSpot, ttl, now, &mut rng), key);
        assert!(keys.expire(now + Duration::from_secs(80)).iter().any(|(k, _)| *k != key));
        assert!(keys.get(&key).is_some(), "extended at +30 s, valid until +90 s");
        assert_eq!(keys.expire(now + Duration::from_secs(90)).len(), 1);
        assert!(keys.keepalive(0, Venue::BinanceUsdm, Some(&key), ttl, now).is_none());
    }
}
