//! Helpers shared by the local venue's integration tests: bundled captures, WebSocket clients, signed
//! requests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig};
use ferrotrade_model::Decimal;
use ferrotrade_venues::auth::{Secret, hmac_hex};
use ferrotrade_venues::lines::LineReader;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
pub const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// A bundled capture.
pub fn data(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(relative)
}

pub fn usdm_capture() -> PathBuf {
    data("sessions/binance-usdm/btcusdt_20240808.gz")
}

pub fn bybit_capture() -> PathBuf {
    data("bybit/2024-12-01_XRPUSDT_ob500.data")
}

/// A config with one HMAC account holding 100 000 USDT and 10 BTC.
pub fn config(replay: Vec<PathBuf>) -> LocalVenueConfig {
    LocalVenueConfig {
        replay,
        accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
        balances: vec![
            ("USDT".into(), Decimal::parse_str("100000").expect("decimal")),
            ("BTC".into(), Decimal::parse_str("10").expect("decimal")),
        ],
        start_paused: true,
        ..LocalVenueConfig::default()
    }
}

/// The recorded frames of a collector capture that have a combined-stream envelope, in order.
pub fn recorded_stream_frames(path: &PathBuf) -> Vec<String> {
    let mut reader = LineReader::new(std::slice::from_ref(path));
    let mut frames = Vec::new();
    while let Some((_, line)) = reader.next_line().expect("read") {
        let line = std::str::from_utf8(line).expect("utf8");
        let Some((_, json)) = line.split_once(' ') else { continue };
        if json.starts_with("{\"stream\"") {
            frames.push(json.trim().to_owned());
        }
    }
    frames
}

pub async fn connect(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url).await.expect("connect").0
}

/// The next text frame (pings are answered by the library), or `None` when the connection closed.
pub async fn next_text(socket: &mut Socket) -> Option<String> {
    loop {
        let message =
            tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a frame within 10 s")?;
        match message.ok()? {
            Message::Text(text) => return Some(text.to_string()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

pub async fn send(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.expect("send");
}

/// Milliseconds now: signed requests carry the client's wall clock, as a real client's do.
#[allow(clippy::disallowed_methods)]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as u64
}

/// `params&timestamp=..&signature=..` signed with [`SECRET`].
pub fn binance_signed(params: &str, timestamp: u64) -> String {
    let payload =
        if params.is_empty() { format!("timestamp={timestamp}") } else { format!("{params}&timestamp={timestamp}") };
    let signature = hmac_hex(SECRET.as_bytes(), payload.as_bytes());
    format!("{payload}&signature={signature}")
}

/// A Binance request: `(status, JSON body, used-weight header)`.
pub async fn binance(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
) -> (u16, serde_json::Value, Option<String>) {
    let response = client.request(method, url).header("X-MBX-APIKEY", KEY).send().await.expect("request");
    let status = response.status().as_u16();
    let weight = response.headers().get("x-mbx-used-weight-1m").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)), weight)
}
