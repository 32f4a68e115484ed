//! Where a venue is reached: REST base, public (market data) WebSocket base and private WebSocket base.
//!
//! | venue | REST (mainnet / testnet) | public WS (mainnet / testnet) | private WS |
//! |---|---|---|---|
//! | binance-spot | `https://api.binance.com` / `https://testnet.binance.vision` | `wss://stream.binance.com:9443` / `wss://stream.testnet.binance.vision` | the public base (`<base>/ws/<listenKey>`) |
//! | binance-usdm | `https://fapi.binance.com` / `https://testnet.binancefuture.com` | `wss://fstream.binance.com` / `wss://stream.binancefuture.com` | the public base |
//! | bybit-linear | `https://api.bybit.com` / `https://api-testnet.bybit.com` | `wss://stream.bybit.com/v5/public/linear` (testnet `stream-testnet`) | `wss://stream.bybit.com/v5/private` |
//! | bybit-spot | as linear | `.../v5/public/spot` | as linear |
//!
//! Binance bases carry no path: the feed appends `/stream?streams=...`, the user-data stream `/ws/<key>`.
//! Bybit public bases are the full per-category URL. The local venue serves every venue on one port with
//! the same layout ([`Endpoints::local`]). Bases never end with `/`.

use ferrotrade_model::Venue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Read buffer of the engine's WebSocket connections. tungstenite zero-fills the free part of its read
/// buffer before every socket read, including the reads that find the socket empty, so its 128 KiB
/// default cost a 128 KiB memset per wake-up of a connection (a profile of the replay benchmark showed
/// it). Market-data frames are a few KiB; a larger frame just takes more than one read.
pub const WS_READ_BUFFER: usize = 8 * 1024;

/// The configuration every WebSocket connection of the engine uses (see [`WS_READ_BUFFER`]).
#[must_use]
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(WS_READ_BUFFER)
}

/// The three base URLs of one venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// REST base, e.g. `https://fapi.binance.com` (paths such as `/fapi/v1/depth` are appended).
    pub rest: String,
    /// Public market-data WebSocket base.
    pub ws_public: String,
    /// Private (user data) WebSocket base.
    pub ws_private: String,
}

impl Endpoints {
    /// The production endpoints of `venue`. Venues the live engine does not trade (COIN-M, Binance.US,
    /// Bybit inverse) get their production hosts by analogy, so a configuration error surfaces when the
    /// feed or gateway refuses the venue, not here.
    #[must_use]
    pub fn mainnet(venue: Venue) -> Endpoints {
        match venue {
            Venue::BinanceSpot => binance("https://api.binance.com", "wss://stream.binance.com:9443"),
            Venue::BinanceUsdm => binance("https://fapi.binance.com", "wss://fstream.binance.com"),
            Venue::BinanceCoinm => binance("https://dapi.binance.com", "wss://dstream.binance.com"),
            Venue::BinanceUs => binance("https://api.binance.us", "wss://stream.binance.us:9443"),
            Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse => {
                bybit("https://api.bybit.com", "wss://stream.bybit.com", venue)
            }
        }
    }

    /// The testnet endpoints of `venue` (Binance.US has no testnet: its production hosts are returned).
    #[must_use]
    pub fn testnet(venue: Venue) -> Endpoints {
        match venue {
            Venue::BinanceSpot => binance("https://testnet.binance.vision", "wss://stream.testnet.binance.vision"),
            Venue::BinanceUsdm => binance("https://testnet.binancefuture.com", "wss://stream.binancefuture.com"),
            Venue::BinanceCoinm => binance("https://testnet.binancefuture.com", "wss://dstream.binancefuture.com"),
            Venue::BinanceUs => Endpoints::mainnet(venue),
            Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse => {
                bybit("https://api-testnet.bybit.com", "wss://stream-testnet.bybit.com", venue)
            }
        }
    }

    /// The local venue's endpoints: `rest_base` is `http://127.0.0.1:P`; `ws_base` is what
    /// `LocalVenue::ws_base(venue)` returns (`ws://127.0.0.1:P/binance-usdm`, or for Bybit the public
    /// URL `ws://127.0.0.1:P/v5/public/linear`). Bybit's private URL is derived from the public one.
    #[must_use]
    pub fn local(rest_base: &str, ws_base: &str, venue: Venue) -> Endpoints {
        let rest = rest_base.trim_end_matches('/').to_owned();
        let ws_public = ws_base.trim_end_matches('/').to_owned();
        let ws_private = if venue.is_binance() {
            ws_public.clone()
        } else {
            match ws_public.find("/v5/public") {
                Some(at) => format!("{}/v5/private", &ws_public[..at]),
                None => format!("{ws_public}/v5/private"),
            }
        };
        Endpoints { rest, ws_public, ws_private }
    }
}

fn binance(rest: &str, ws: &str) -> Endpoints {
    Endpoints { rest: rest.to_owned(), ws_public: ws.to_owned(), ws_private: ws.to_owned() }
}

fn bybit(rest: &str, ws_host: &str, venue: Venue) -> Endpoints {
    let category = venue.contract_type().as_str();
    Endpoints {
        rest: rest.to_owned(),
        ws_public: format!("{ws_host}/v5/public/{category}"),
        ws_private: format!("{ws_host}/v5/private"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_and_testnet_hosts_follow_the_venue_docs() {
        let usdm = Endpoints::mainnet(Venue::BinanceUsdm);
        assert_eq!(usdm.rest, "https://fapi.binance.com");
        assert_eq!(usdm.ws_public, "wss://fstream.binance.com");
        assert_eq!(Endpoints::mainnet(Venue::BinanceSpot).ws_public, "wss://stream.binance.com:9443");
        assert_eq!(Endpoints::testnet(Venue::BinanceSpot).rest, "https://testnet.binance.vision");
        assert_eq!(Endpoints::testnet(Venue::BinanceUsdm).ws_public, "wss://stream.binancefuture.com");
        let linear = Endpoints::mainnet(Venue::BybitLinear);
        assert_eq!(linear.ws_public, "wss://stream.bybit.com/v5/public/linear");
        assert_eq!(linear.ws_private, "wss://stream.bybit.com/v5/private");
        assert_eq!(Endpoints::mainnet(Venue::BybitSpot).ws_public, "wss://stream.bybit.com/v5/public/spot");
        assert_eq!(Endpoints::testnet(Venue::BybitSpot).ws_public, "wss://stream-testnet.bybit.com/v5/public/spot");
        assert_eq!(Endpoints::testnet(Venue::BybitLinear).rest, "https://api-testnet.bybit.com");
    }

    #[test]
    fn local_endpoints_share_one_port() {
        let binance =
            Endpoints::local("http://127.0.0.1:9000/", "ws://127.0.0.1:9000/binance-usdm", Venue::BinanceUsdm);
        assert_eq!(binance.rest, "http://127.0.0.1:9000");
        assert_eq!(binance.ws_private, "ws://127.0.0.1:9000/binance-usdm");
        let bybit =
            Endpoints::local("http://127.0.0.1:9000", "ws://127.0.0.1:9000/v5/public/linear", Venue::BybitLinear);
        assert_eq!(bybit.ws_public, "ws://127.0.0.1:9000/v5/public/linear");
        assert_eq!(bybit.ws_private, "ws://127.0.0.1:9000/v5/private");
    }
}
