//! The agent's side of its push channel: one WebSocket to the server that carries its reports up
//! and brings commands down the moment the engine queues them. A reader task turns frames into
//! [`ChannelDown`]s; when the socket drops, the agent falls back to `POST …/messages` and
//! reconnects with back-off (see `agent.rs`).

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::api::channel::{self, ChannelDown};
use crate::api::identity::ReportAuth;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long an upgrade may take before the agent gives up and keeps reporting over HTTP.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Frames from the server not yet handled; a server that floods waits on the socket.
const DOWN_QUEUE: usize = 64;

pub struct Channel {
    sink: SplitSink<Socket, Message>,
    downs: mpsc::Receiver<ChannelDown>,
    reader: tokio::task::JoinHandle<()>,
}

/// `http://host:port` → `ws://host:port/api/v1/agents/ID/channel` (and https → wss).
pub fn url(server: &str, id: &str) -> String {
    let base = server.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    format!("{ws}{}", channel::path(id))
}

impl Channel {
    pub async fn connect(server: &str, id: &str, token: &str) -> Result<Channel, String> {
        let target = url(server, id);
        let mut request = target
            .as_str()
            .into_client_request()
            .map_err(|e| format!("{target}: {e}"))?;
        let bearer = format!("Bearer {token}")
            .parse()
            .map_err(|_| "the token is not a valid header value".to_string())?;
        request.headers_mut().insert("authorization", bearer);
        let (socket, _) =
            tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request))
                .await
                .map_err(|_| format!("{target}: no answer in {} s", CONNECT_TIMEOUT.as_secs()))?
                .map_err(|e| format!("{target}: {e}"))?;
        let (sink, mut stream) = socket.split();
        let (tx, downs) = mpsc::channel(DOWN_QUEUE);
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(_) => break,
                    _ => continue,
                };
                let down =
                    serde_json::from_str::<ChannelDown>(&text).unwrap_or_else(|e| ChannelDown {
                        commands: Vec::new(),
                        error: Some(crate::api::ApiError::failed(format!(
                            "unreadable channel frame: {e}"
                        ))),
                    });
                if tx.send(down).await.is_err() {
                    break;
                }
            }
        });
        Ok(Channel {
            sink,
            downs,
            reader,
        })
    }

    /// Send one report (its exact bytes and MAC). An error means the socket is gone.
    pub async fn send(&mut self, body: &[u8], auth: Option<&ReportAuth>) -> Result<(), String> {
        let frame = channel::seal_frame(body, auth);
        self.sink
            .send(Message::Text(frame.into()))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next frame from the server; `None` once the socket closed.
    pub async fn next(&mut self) -> Option<ChannelDown> {
        self.downs.recv().await
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_url_follows_the_server_scheme() {
        assert_eq!(
            url("http://127.0.0.1:7070/", "lab-1"),
            "ws://127.0.0.1:7070/api/v1/agents/lab-1/channel"
        );
        assert_eq!(
            url("https://plexus.example", "lab-1"),
            "wss://plexus.example/api/v1/agents/lab-1/channel"
        );
    }
}
