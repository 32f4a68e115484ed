//! [`OrderLinks`]: a gateway's own HTTP/1.1 keep-alive connections to the venue's REST API, on which a
//! request is written *synchronously*, inside the engine's `send`, with one non-blocking write.
//!
//! # Why
//! Through an HTTP client library, the engine can only hand a request to a task: its bytes reach the socket
//! when the runtime next polls that task, after the engine has finished the rest of the frame (the other
//! side's order, the journal, the next frames already read). On the tick-to-trade path that wait is most of
//! the latency, and it is invisible to a timer stopped at the hand-off. Here the bytes are written before
//! `send` returns, and the time after the write is the order's wire time.
//!
//! # How
//! - [`LINKS`] connections per gateway, opened in the background at start (TCP with `TCP_NODELAY`, and
//!   TLS through tokio-rustls for `https`), each carrying one request at a time (no pipelining: a venue's
//!   load balancer may not keep the order of pipelined answers), reopened with a growing delay when lost.
//! - [`OrderLinks::try_write`] takes an idle link, encodes the request into the link's buffer and writes it
//!   with `poll_write`/`poll_flush` under a no-op waker: one `write` system call (plus the TLS record
//!   encryption) when the socket takes it, which a connected socket with an empty send buffer does. What it
//!   does not take is written by the answer's future.
//! - [`Sent::answer`] finishes the write, reads one HTTP/1.1 answer (`httparse`; `Content-Length` or
//!   chunked bodies) and puts the link back; an answer with `Connection: close`, a broken read or a
//!   malformed answer drops the link (it is reopened).
//! - No idle link (all busy, or none connected yet): `try_write` gives the request back, and the caller
//!   sends it through the HTTP client as before (its wire time is then not known, and not reported).
//!
//! # Secrets
//! Request bytes carry the API key and the signature; nothing here logs them or puts them in an error.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ferrotrade_venues::trading::SignedRequest;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::Wire;
use super::core::Answer;

/// Connections per gateway: one request in flight on each; a market maker's two quotes go out together.
pub const LINKS: usize = 2;
/// Longest answer accepted (a venue's open-orders list is far smaller).
const MAX_ANSWER: usize = 8 << 20;
/// Longest wait for an answer, as the HTTP client's timeout.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// A connection's byte stream: plain TCP (the local venue) or TLS over TCP (the venues).
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

/// One keep-alive connection.
struct Link {
    stream: Stream,
    /// The request being written (bytes from `written` on still to go).
    out: Vec<u8>,
    written: usize,
    /// Answer bytes read and not yet consumed.
    input: Vec<u8>,
}

/// Where the venue is: host, port, TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    host: String,
    port: u16,
    tls: bool,
    /// The `Host` header (`host` or `host:port`).
    authority: String,
}

impl Origin {
    /// The origin of a REST base URL (`http://127.0.0.1:9000`, `https://fapi.binance.com`); `None` for a
    /// base this client does not speak (another scheme, a path).
    pub(super) fn parse(base: &str) -> Option<Origin> {
        let (tls, rest) = if let Some(rest) = base.strip_prefix("https://") {
            (true, rest)
        } else {
            (false, base.strip_prefix("http://")?)
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (host, port.parse().ok()?),
            _ => (authority, if tls { 443 } else { 80 }),
        };
        Some(Origin { host: host.trim_matches(['[', ']']).to_owned(), port, tls, authority: authority.to_owned() })
    }
}

/// The pool of a gateway's links (see the module docs). Single-threaded: it lives on the engine's thread.
pub(super) struct OrderLinks {
    origin: Origin,
    idle: Vec<Link>,
    /// Links out (busy) or being opened, so the pool keeps [`LINKS`] of them.
    out: usize,
    tls: Option<tokio_rustls::TlsConnector>,
    /// Where [`OrderLinks::warm`] encodes (never written to a socket).
    scratch: Vec<u8>,
}

impl std::fmt::Debug for OrderLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderLinks").field("origin", &self.origin).field("idle", &self.idle.len()).finish()
    }
}

/// A request written (or partly written) on a link; its answer is awaited with [`Sent::answer`].
pub(super) struct Sent {
    link: Link,
    pool: Rc<RefCell<OrderLinks>>,
}

impl OrderLinks {
    /// A pool for the REST base `base`; `None` when the base is not a plain `http`/`https` origin.
    pub(super) fn new(base: &str) -> Option<OrderLinks> {
        let origin = Origin::parse(base)?;
        let tls = origin.tls.then(|| {
            let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            let config =
                rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
            config.ok().map(|config| tokio_rustls::TlsConnector::from(Arc::new(config)))
        });
        let tls = match tls {
            Some(None) => return None,
            Some(Some(connector)) => Some(connector),
            None => None,
        };
        Some(OrderLinks { origin, idle: Vec::new(), out: 0, tls, scratch: Vec::with_capacity(1024) })
    }

    /// Opens the missing links in the background (call once from the engine's runtime).
    pub(super) fn start(pool: &Rc<RefCell<OrderLinks>>) {
        let missing = {
            let mut links = pool.borrow_mut();
            let missing = LINKS.saturating_sub(links.idle.len() + links.out);
            links.out += missing;
            missing
        };
        for _ in 0..missing {
            tokio::task::spawn_local(reopen(Rc::clone(pool)));
        }
    }

    /// Encodes `request` as [`OrderLinks::try_write`] would, into a scratch buffer that is never written:
    /// the order path's warm-up (see [`super::Gateway::warm`]).
    pub(super) fn warm(pool: &Rc<RefCell<OrderLinks>>, request: &SignedRequest) {
        let mut links = pool.borrow_mut();
        let OrderLinks { origin, scratch, .. } = &mut *links;
        encode(request, &origin.authority, scratch);
        std::hint::black_box(&scratch);
    }

    /// Writes `request` on an idle link now; gives it back when no link is idle. `Ok` carries the times
    /// around the write and the handle of the answer.
    pub(super) fn try_write(pool: &Rc<RefCell<OrderLinks>>, request: &SignedRequest) -> Result<(Wire, Sent), ()> {
        let mut links = pool.borrow_mut();
        let mut link = loop {
            let Some(mut link) = links.idle.pop() else {
                drop(links);
                OrderLinks::start(pool);
                return Err(());
            };
            // A venue closes idle keep-alive connections: a link the peer closed (or that has bytes nobody
            // asked for) is dropped, not written to.
            if !closed_by_peer(&mut link) {
                break link;
            }
        };
        links.out += 1;
        encode(request, &links.origin.authority, &mut link.out);
        drop(links);
        link.written = 0;
        link.input.clear();
        // One non-blocking attempt: a connected socket with room takes the whole request now.
        let mut cx = Context::from_waker(Waker::noop());
        let mut broken = false;
        let write_started = crate::clock::now_instant();
        while link.written < link.out.len() {
            match Pin::new(&mut link.stream).poll_write(&mut cx, &link.out[link.written..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                    broken = true;
                    break;
                }
                Poll::Ready(Ok(n)) => link.written += n,
                Poll::Pending => break,
            }
        }
        if !broken && link.written == link.out.len() {
            // TLS: push the records out; plain TCP has nothing buffered.
            if let Poll::Ready(Err(_)) = Pin::new(&mut link.stream).poll_flush(&mut cx) {
                broken = true;
            }
        }
        let wire = crate::clock::now_instant();
        if broken && link.written == 0 {
            // The link died under us before a byte left: drop it (it is reopened) and give the request back
            // to the caller's other path. A request cut in the middle goes on as `Sent`: its answer fails,
            // and the caller treats its fate as unknown.
            pool.borrow_mut().out -= 1;
            OrderLinks::start(pool);
            return Err(());
        }
        Ok((Wire { write_started: Some(write_started), written: wire }, Sent { link, pool: Rc::clone(pool) }))
    }
}

impl Sent {
    /// Finishes writing the request and reads its answer; the link goes back to the pool (or is dropped
    /// and reopened). `Err` is a transport failure, worded without the request.
    ///
    /// # Cancel safety
    /// Not cancel safe: the request has left; dropping the future drops the link (and the answer).
    pub(super) async fn answer(self) -> Result<Answer, String> {
        let Sent { mut link, pool } = self;
        let outcome = tokio::time::timeout(ANSWER_TIMEOUT, exchange(&mut link)).await;
        let keep = matches!(&outcome, Ok(Ok((_, true))));
        {
            let mut links = pool.borrow_mut();
            links.out -= 1;
            if keep {
                links.idle.push(link);
            }
        }
        if !keep {
            OrderLinks::start(&pool);
        }
        match outcome {
            Ok(Ok((answer, _))) => Ok(answer),
            Ok(Err(error)) => Err(format!("order link: {error}")),
            Err(_) => Err("order link: timeout".into()),
        }
    }
}

/// Whether an idle link's peer closed it (or sent something unasked): a read under a no-op waker that does
/// not wait.
fn closed_by_peer(link: &mut Link) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut cx = Context::from_waker(Waker::noop());
    !matches!(Pin::new(&mut link.stream).poll_read(&mut cx, &mut buf), Poll::Pending)
}

/// Opens one link, retrying with a growing delay, and adds it to the pool.
async fn reopen(pool: Rc<RefCell<OrderLinks>>) {
    let mut delay = RECONNECT_MIN;
    loop {
        let (origin, tls) = {
            let links = pool.borrow();
            (links.origin.clone(), links.tls.clone())
        };
        if let Ok(stream) = connect(&origin, tls.as_ref()).await {
            let link = Link { stream, out: Vec::with_capacity(1024), written: 0, input: Vec::with_capacity(4096) };
            let mut links = pool.borrow_mut();
            links.out -= 1;
            links.idle.push(link);
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX);
        if Rc::strong_count(&pool) == 1 {
            // The gateway is gone.
            return;
        }
    }
}

async fn connect(origin: &Origin, tls: Option<&tokio_rustls::TlsConnector>) -> io::Result<Stream> {
    let tcp = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect((origin.host.as_str(), origin.port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timeout"))??;
    tcp.set_nodelay(true)?;
    match tls {
        None => Ok(Stream::Plain(tcp)),
        Some(connector) => {
            let name = rustls::pki_types::ServerName::try_from(origin.host.clone())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad server name"))?;
            Ok(Stream::Tls(Box::new(connector.connect(name, tcp).await?)))
        }
    }
}

/// `METHOD path?query HTTP/1.1`, the headers, the body: copied piece by piece into the link's buffer (no
/// formatting machinery, no intermediate `String`; the buffer keeps its capacity from request to request).
fn encode(request: &SignedRequest, authority: &str, out: &mut Vec<u8>) {
    out.clear();
    let body = request.body.as_deref().unwrap_or("");
    for piece in [request.method, " ", request.path] {
        out.extend_from_slice(piece.as_bytes());
    }
    if !request.query.is_empty() {
        out.push(b'?');
        out.extend_from_slice(request.query.as_bytes());
    }
    for piece in [" HTTP/1.1\r\nHost: ", authority, "\r\n"] {
        out.extend_from_slice(piece.as_bytes());
    }
    for (name, value) in &request.headers {
        for piece in [*name, ": ", value.as_str(), "\r\n"] {
            out.extend_from_slice(piece.as_bytes());
        }
    }
    if !body.is_empty() || request.method != "GET" {
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(out, body.len());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"User-Agent: ferrotrade\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
}

/// `value` in decimal digits.
fn push_decimal(out: &mut Vec<u8>, value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Writes what remains of the link's request and reads one answer; `true` when the link can be reused.
async fn exchange(link: &mut Link) -> io::Result<(Answer, bool)> {
    if link.written < link.out.len() {
        let rest = link.out[link.written..].to_vec();
        link.stream.write_all(&rest).await?;
        link.written = link.out.len();
    }
    link.stream.flush().await?;
    loop {
        if let Some((answer, used, reusable)) = parse(&link.input)? {
            link.input.drain(..used);
            return Ok((answer, reusable && link.input.is_empty()));
        }
        if link.input.len() > MAX_ANSWER {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "answer too large"));
        }
        let mut chunk = [0u8; 8192];
        let n = link.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed before the answer"));
        }
        link.input.extend_from_slice(&chunk[..n]);
    }
}

/// One complete HTTP/1.1 answer at the start of `input`: the answer, the bytes it used and whether the
/// connection stays open; `None` while incomplete.
fn parse(input: &[u8]) -> io::Result<Option<(Answer, usize, bool)>> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(input).map_err(|_| invalid("malformed answer"))? {
        httparse::Status::Complete(head) => head,
        httparse::Status::Partial => return Ok(None),
    };
    let status = response.code.ok_or_else(|| invalid("no status"))?;
    let mut map = reqwest::header::HeaderMap::new();
    let (mut length, mut chunked, mut close) = (None, false, response.version == Some(0));
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| invalid("bad content-length"))?);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if header.name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(header.name.as_bytes()),
            reqwest::header::HeaderValue::from_bytes(header.value),
        ) {
            map.append(name, value);
        }
    }
    let rest = &input[head..];
    let (body, used) = if chunked {
        match dechunk(rest)? {
            Some((body, used)) => (body, used),
            None => return Ok(None),
        }
    } else {
        let length = length.unwrap_or(0);
        if rest.len() < length {
            return Ok(None);
        }
        (rest[..length].to_vec(), length)
    };
    let body = String::from_utf8(body).map_err(|_| invalid("answer body is not UTF-8"))?;
    Ok(Some((Answer { status, headers: map, body }, head + used, !close)))
}

/// A chunked body at the start of `input`: the body and the bytes it used; `None` while incomplete.
fn dechunk(input: &[u8]) -> io::Result<Option<(Vec<u8>, usize)>> {
    let invalid = || io::Error::new(io::ErrorKind::InvalidData, "malformed chunked body");
    let (mut at, mut body) = (0, Vec::new());
    loop {
        let Some(line_end) = input[at..].windows(2).position(|pair| pair == b"\r\n") else { return Ok(None) };
        let line = std::str::from_utf8(&input[at..at + line_end]).map_err(|_| invalid())?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).map_err(|_| invalid())?;
        at += line_end + 2;
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            let Some(end) = input[at..].windows(2).position(|pair| pair == b"\r\n") else { return Ok(None) };
            return Ok(Some((body, at + end + 2)));
        }
        if input.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&input[at..at + size]);
        at += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_the_venues_and_the_local_venue() {
        let binance = Origin::parse("https://fapi.binance.com").expect("origin");
        assert_eq!((binance.host.as_str(), binance.port, binance.tls), ("fapi.binance.com", 443, true));
        let local = Origin::parse("http://127.0.0.1:9000/").expect("origin");
        assert_eq!(
            (local.host.as_str(), local.port, local.tls, local.authority.as_str()),
            ("127.0.0.1", 9000, false, "127.0.0.1:9000")
        );
        assert_eq!(Origin::parse("https://stream.binance.com:9443").map(|o| o.port), Some(9443));
        assert!(Origin::parse("ws://127.0.0.1:9000").is_none());
        assert!(Origin::parse("http://127.0.0.1:9000/api").is_none(), "a base with a path is not an origin");
    }

    #[test]
    fn requests_are_encoded_as_http_1_1_with_their_headers_and_body() {
        let request = SignedRequest {
            method: "POST",
            path: "/v5/order/create",
            query: String::new(),
            body: Some("{\"a\":1}".into()),
            headers: vec![("X-BAPI-API-KEY", "key".into())],
        };
        let mut out = Vec::new();
        encode(&request, "api.bybit.com", &mut out);
        assert_eq!(
            String::from_utf8(out).expect("text"),
            "POST /v5/order/create HTTP/1.1\r\nHost: api.bybit.com\r\nX-BAPI-API-KEY: key\r\nContent-Length: 7\r\n\
             User-Agent: ferrotrade\r\n\r\n{\"a\":1}"
        );
        let signed = SignedRequest {
            method: "DELETE",
            path: "/fapi/v1/order",
            query: "symbol=BTCUSDT&signature=ab".into(),
            body: None,
            headers: vec![("X-MBX-APIKEY", "k".into())],
        };
        let mut out = Vec::new();
        encode(&signed, "127.0.0.1:9000", &mut out);
        assert_eq!(
            String::from_utf8(out).expect("text"),
            "DELETE /fapi/v1/order?symbol=BTCUSDT&signature=ab HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\
             X-MBX-APIKEY: k\r\nContent-Length: 0\r\nUser-Agent: ferrotrade\r\n\r\n"
        );
        let mut digits = Vec::new();
        for value in [0, 7, 10, 1234, usize::MAX] {
            digits.clear();
            push_decimal(&mut digits, value);
            assert_eq!(digits, value.to_string().into_bytes());
        }
    }

    #[test]
    fn answers_parse_with_a_length_or_chunked_and_say_whether_the_link_stays() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-MBX-USED-WEIGHT-1M: 7\r\n\r\n{}rest";
        let (answer, used, keep) = parse(plain).expect("valid").expect("complete");
        assert_eq!((answer.status, answer.body.as_str(), used, keep), (200, "{}", plain.len() - 4, true));
        assert_eq!(answer.headers.get("x-mbx-used-weight-1m").and_then(|v| v.to_str().ok()), Some("7"));
        assert!(parse(&plain[..plain.len() - 6]).expect("valid").is_none(), "incomplete body");
        let chunked = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\n{\"c\r\n2\r\n\":\r\n1\r\n1\r\n1\r\n}\r\n0\r\n\r\n";
        let (answer, used, keep) = parse(chunked).expect("valid").expect("complete");
        assert_eq!((answer.status, answer.body.as_str(), used, keep), (400, "{\"c\":1}", chunked.len(), false));
        assert!(parse(&chunked[..chunked.len() - 3]).expect("valid").is_none());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    }
}
