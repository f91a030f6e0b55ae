//! A loopback TCP proxy between agents and a server that can cut every connection through it
//! and refuse WebSocket upgrades to the agents' push channel (a middlebox that blocks them), so
//! tests can take the channel away while plain HTTP still gets through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    pub url: String,
    block_channels: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    /// Forward a free loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let block_channels = Arc::new(AtomicBool::new(false));
        let (cut, cuts) = watch::channel(0u64);
        let (target, blocked) = (target.to_string(), block_channels.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (target, blocked, cuts) = (target.clone(), blocked.clone(), cuts.clone());
                tokio::spawn(forward(client, target, blocked, cuts));
            }
        });
        Proxy {
            url,
            block_channels,
            cut,
        }
    }

    /// Drop every connection open now (the agents' sockets and keep-alive connections).
    pub fn cut_all(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    /// Refuse (close at once) new connections whose request opens a push channel.
    pub fn block_channels(&self, blocked: bool) {
        self.block_channels.store(blocked, Ordering::SeqCst);
    }
}

async fn forward(
    mut client: TcpStream,
    target: String,
    blocked: Arc<AtomicBool>,
    mut cuts: watch::Receiver<u64>,
) {
    let mut first = vec![0u8; 4096];
    let Ok(n) = client.read(&mut first).await else {
        return;
    };
    first.truncate(n);
    let head = String::from_utf8_lossy(&first);
    if blocked.load(Ordering::SeqCst) && head.contains("/channel ") {
        return;
    }
    let Ok(mut server) = TcpStream::connect(&target).await else {
        return;
    };
    if server.write_all(&first).await.is_err() {
        return;
    }
    cuts.borrow_and_update();
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cuts.changed() => {}
    }
}
