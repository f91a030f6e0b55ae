//! `GET /api/v1/events`: the live event stream over WebSocket. A client resumes with
//! `?since=SEQ&epoch=E`; events it missed are replayed from what the engine keeps. When that is
//! not enough (it lagged too far, or the server restarted: another epoch) it is told to resync
//! from a snapshot. The token is checked at upgrade and the stream closes when the session expires.

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query as UrlQuery, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

use super::auth::Caller;
use super::error::HttpError;
use super::state::AppState;
use crate::api::EventEnvelope;
use crate::api::ask;
use crate::api::stream::Control;

#[derive(Debug, Deserialize)]
pub struct Resume {
    since: Option<u64>,
    epoch: Option<String>,
}

/// How often the stream checks that its session is still alive.
const SESSION_CHECK: Duration = Duration::from_secs(5);

/// A subscriber sends nothing but control frames: a small read buffer (the default, 128 KiB
/// allocated per socket up front, was 1.3 GB at 10,000 subscribers) and a small message limit.
const READ_BUFFER: usize = 4 * 1024;
const MAX_INCOMING_MESSAGE: usize = 4 * 1024;

pub async fn events(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    caller: Caller,
    resume: Result<UrlQuery<Resume>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, HttpError> {
    let UrlQuery(resume) = resume?;
    // A client that named its session (the remote console) streams in it; others get one of
    // their own. Either way the gate must let it view the fleet.
    let session = match &caller.session {
        Some(named) => {
            state
                .engine()
                .check_session_token(named, &caller.token)
                .await?;
            named.clone()
        }
        None => {
            state
                .engine()
                .open_token_session(&caller.token, &caller.source)
                .await?
                .id
        }
    };
    state.engine().ask(&session, ask::session()).await?;
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_INCOMING_MESSAGE)
        .max_frame_size(MAX_INCOMING_MESSAGE)
        .on_upgrade(move |socket| stream(socket, state, session, resume)))
}

async fn send_json<T: Serialize>(socket: &mut WebSocket, value: &T) -> bool {
    match serde_json::to_string(value) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

fn control(epoch: &str, kind: &str, reason: Option<&str>, missed: Option<u64>) -> Control {
    Control {
        control: kind.into(),
        epoch: epoch.into(),
        reason: reason.map(str::to_string),
        missed,
    }
}

async fn stream(mut socket: WebSocket, state: AppState, session: String, resume: Resume) {
    let engine = state.engine().clone();
    let epoch = engine.epoch().to_string();
    // Subscribe before reading the backlog so nothing falls between the two.
    let mut live = engine.subscribe();
    if !send_json(&mut socket, &control(&epoch, "hello", None, None)).await {
        return;
    }
    let restarted = resume.epoch.as_deref().is_some_and(|e| e != epoch);
    let since = if restarted { Some(0) } else { resume.since };
    let mut last = 0;
    if let Some(since) = since {
        let backlog = engine
            .ask(&session, ask::events_since(since))
            .await
            .unwrap_or_default();
        let gap = backlog.first().is_some_and(|e| e.seq > since + 1);
        if restarted || gap {
            let reason = if restarted { "restarted" } else { "gap" };
            if !send_json(&mut socket, &control(&epoch, "resync", Some(reason), None)).await {
                return;
            }
        }
        last = since;
        for event in backlog {
            last = event.seq;
            if !send_json(&mut socket, &event).await {
                return;
            }
        }
    }
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.tick().await;
    loop {
        tokio::select! {
            event = live.recv() => match event {
                Ok(event) => {
                    if event.seq <= last {
                        continue;
                    }
                    last = event.seq;
                    if !send_json::<EventEnvelope>(&mut socket, &event).await {
                        return;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    // Too slow for the engine (which never waits): resync from a snapshot.
                    if !send_json(&mut socket, &control(&epoch, "resync", Some("lagged"), Some(missed))).await {
                        return;
                    }
                }
                Err(RecvError::Closed) => break,
            },
            _ = check.tick() => {
                if engine.session_expired(&session).await {
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: 4001,
                            reason: "session expired".into(),
                        })))
                        .await;
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
