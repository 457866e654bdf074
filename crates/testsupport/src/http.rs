//! A tiny blocking HTTP/1.0 client over `std::net`, enough for readiness
//! probes and test assertions against ClickHouse and OpenBao on loopback.
//!
//! HTTP/1.0 without keep-alive makes the server close the connection after
//! the response and never use chunked encoding, so "read to end of stream,
//! split at the blank line" is a complete parser.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::error::{Error, Result};

/// A response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
}

impl HttpResponse {
    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends one request to `127.0.0.1:port`.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> std::io::Result<HttpResponse> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout.min(Duration::from_secs(5)))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("malformed HTTP response: {:?}", String::from_utf8_lossy(&raw)),
        )
    })
}

/// Like [`request`], but a non-2xx status is [`Error::Http`].
pub(crate) fn request_ok(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<HttpResponse> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let response = request(port, method, path, headers, body, Duration::from_secs(60))
        .map_err(Error::io(format!("{method} {url}")))?;
    if response.is_success() {
        Ok(response)
    } else {
        Err(Error::Http { url, status: response.status, body: response.body })
    }
}

/// True if `GET path` answers 200 within a short timeout: a readiness probe.
pub(crate) fn get_is_ok(port: u16, path: &str) -> bool {
    request(port, "GET", path, &[], "", Duration::from_secs(2)).is_ok_and(|r| r.status == 200)
}

fn parse(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let status = head.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
    let body = String::from_utf8_lossy(&raw[split + 4..]).into_owned();
    Some(HttpResponse { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let r = parse(b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope\n").unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.body, "nope\n");
        assert!(parse(b"garbage").is_none());
    }
}
