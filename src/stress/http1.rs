//! A lean keep-alive `GET` over plain HTTP/1.1, for the flat-out status scenario: one request
//! template built once, connections kept idle in a stack and reused, nothing parsed per request.
//! A general client (reqwest) re-parses the URL, clones its connector and consults its pool on
//! every request; at tens of thousands a second on the same two cores as the server, that is
//! the difference between keeping up with oha and not (docs/stress.md, "The generator").

use std::sync::Mutex;

use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST, HeaderValue};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

pub struct GetPool {
    /// `host:port`, to connect to.
    address: String,
    host: HeaderValue,
    path: http::uri::PathAndQuery,
    authorization: HeaderValue,
    idle: Mutex<Vec<SendRequest<Empty<Bytes>>>>,
}

impl GetPool {
    /// A pool for `GET url`, or `None` when the URL is not plain `http://` (TLS goes through the
    /// general client).
    pub fn new(url: &reqwest::Url, authorization: HeaderValue) -> Option<GetPool> {
        if url.scheme() != "http" {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        // An IPv6 host comes bracketed, as an address needs it.
        let address = format!("{host}:{port}");
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        Some(GetPool {
            host: HeaderValue::from_str(&address).ok()?,
            address,
            path: path.parse().ok()?,
            authorization,
            idle: Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(|e| format!("{}: {e}", self.address))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        // The connection runs until the sender is dropped or the server closes it.
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Connections open and waiting for a request.
    pub fn idle(&self) -> usize {
        self.idle.lock().expect("idle lock").len()
    }

    /// Send the GET, read the whole answer, return its status code.
    pub async fn get(&self) -> Result<u16, String> {
        let idle = self.idle.lock().expect("idle lock").pop();
        let mut sender = match idle {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender.ready().await.map_err(|e| e.to_string())?;
        let mut request = http::Request::new(Empty::<Bytes>::new());
        *request.uri_mut() = self.path.clone().into();
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(AUTHORIZATION, self.authorization.clone());
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status().as_u16();
        // A request is done when its whole answer has arrived.
        answer
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        self.idle.lock().expect("idle lock").push(sender);
        Ok(status)
    }
}
