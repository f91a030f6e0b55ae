//! `GET /api/v1/agents/{id}/channel`: an agent's push channel (WebSocket). Reports come up as
//! frames and go to the engine exactly as `POST …/messages` bodies do; the commands they collect
//! come back on the socket, and so does anything the engine queues for the agent later, the
//! moment it is queued (the engine rings the agent's door). Pushing starts once a report on this
//! socket verified by MAC: the channel is then bound to that identity session, so a holder of a
//! shared token cannot open a channel for someone else's id and collect its commands.

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use std::time::Duration;

use super::auth::Caller;
use super::error::HttpError;
use super::state::AppState;
use crate::api::ApiError;
use crate::api::channel::{AgentReply, ChannelDown, MAX_UP_FRAME, open_frame};
use crate::engine::doors::AgentDoor;

/// How often the channel checks that its token is still valid and the engine still runs.
const TOKEN_CHECK: Duration = Duration::from_secs(1);
/// Reports are small; the buffer grows for a large one up to [`MAX_UP_FRAME`].
const READ_BUFFER: usize = 16 * 1024;

pub async fn channel(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    crate::api::bounds::agent_id("id", &id)?;
    // The token must open a session now (refused tokens get their 401 before any upgrade).
    state.session_of(&caller).await?;
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_UP_FRAME)
        .max_frame_size(MAX_UP_FRAME)
        .on_upgrade(move |socket| serve(socket, state, caller, id)))
}

async fn send(socket: &mut WebSocket, down: &ChannelDown) -> bool {
    match serde_json::to_string(down) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.to_string().into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// One frame from the socket: the report it carries, relayed as `POST …/messages` does it.
async fn relay_frame(
    state: &AppState,
    caller: &Caller,
    id: &str,
    text: &str,
) -> Result<AgentReply, ApiError> {
    super::agents::relay(state, caller, id, open_frame(text)?).await
}

async fn collect(
    state: &AppState,
    caller: &Caller,
    id: &str,
    serial: u64,
) -> Result<ChannelDown, ApiError> {
    let engine = state.engine().clone();
    let commands = state
        .0
        .sessions
        .run(&engine, caller, |session| {
            let engine = engine.clone();
            async move { engine.agent_collect(&session, id, serial).await }
        })
        .await?;
    Ok(ChannelDown {
        commands,
        error: None,
    })
}

/// The door's bell; never rings while no door is open.
async fn rung(door: &Option<AgentDoor>) {
    match door {
        Some(door) => door.bell.notified().await,
        None => std::future::pending().await,
    }
}

async fn serve(mut socket: WebSocket, state: AppState, caller: Caller, id: String) {
    let engine = state.engine().clone();
    // The identity session (credential serial) a verified report bound this channel to, and
    // the door it opened then: an unbound socket cannot take an agent's door away.
    let mut bound: Option<u64> = None;
    let mut door: Option<AgentDoor> = None;
    let mut check = tokio::time::interval(TOKEN_CHECK);
    check.tick().await;
    loop {
        let down = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => match relay_frame(&state, &caller, &id, text.as_str()).await {
                    Ok(reply) => {
                        if reply.verified.is_some() {
                            bound = reply.verified;
                            door.get_or_insert_with(|| engine.agent_door(&id));
                        }
                        ChannelDown { commands: reply.commands, error: None }
                    }
                    Err(e) => ChannelDown { commands: Vec::new(), error: Some(e) },
                },
                Some(Ok(Message::Binary(_))) => ChannelDown {
                    commands: Vec::new(),
                    error: Some(ApiError::bad_input("channel frames are text: MAC line, newline, report")),
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
            },
            _ = rung(&door), if bound.is_some() => {
                let serial = bound.unwrap_or_default();
                match collect(&state, &caller, &id, serial).await {
                    Ok(down) => down,
                    Err(e) => {
                        // The session ended (renewed, refused, expired): push nothing more until
                        // a report verifies again.
                        bound = None;
                        ChannelDown { commands: Vec::new(), error: Some(e) }
                    }
                }
            }
            _ = check.tick() => {
                if !engine.is_running() {
                    close(&mut socket, 1001, "the orchestrator is shutting down").await;
                    return;
                }
                if !engine.token_valid(&caller.token) {
                    close(&mut socket, 4001, "token no longer valid").await;
                    return;
                }
                continue;
            }
        };
        if (down.commands.is_empty() && down.error.is_none()) || send(&mut socket, &down).await {
            continue;
        }
        return;
    }
}
