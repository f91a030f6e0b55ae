//! The agent push channel (`GET /api/v1/agents/{id}/channel`, WebSocket): one socket per agent
//! that carries its reports up and the orchestrator's commands down the moment they exist. See
//! docs/neuron-protocol.md.
//!
//! Up, one text frame per report: the `X-Plexus-Auth` value (empty for an enrolment or a
//! handshake), a newline, then the report's exact JSON bytes — the bytes the MAC covers, so the
//! channel needs no second encoding. Down, one JSON object per frame: [`ChannelDown`].

use serde::{Deserialize, Serialize};

use super::ApiError;
use super::identity::ReportAuth;
use super::wire::{MAX_REPORT_BYTES, NeuronCommand, SealedReport};

/// The path of an agent's channel.
pub fn path(id: &str) -> String {
    format!("/api/v1/agents/{id}/channel")
}

/// The largest frame an agent may send: a report and its MAC line.
pub const MAX_UP_FRAME: usize = MAX_REPORT_BYTES + 256;

/// A frame from the orchestrator: commands, or the error a report met (the socket stays open).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelDown {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<NeuronCommand>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

/// A report as one up frame.
pub fn seal_frame(body: &[u8], auth: Option<&ReportAuth>) -> String {
    let mut frame = auth.map(ReportAuth::header).unwrap_or_default();
    frame.push('\n');
    frame.push_str(&String::from_utf8_lossy(body));
    frame
}

/// An up frame back into the report it carries; errors name what is wrong.
pub fn open_frame(frame: &str) -> Result<SealedReport, ApiError> {
    if frame.len() > MAX_UP_FRAME {
        return Err(ApiError::bad_input(format!(
            "channel frame of {} bytes is larger than {MAX_UP_FRAME}",
            frame.len()
        )));
    }
    let Some((auth, body)) = frame.split_once('\n') else {
        return Err(ApiError::bad_input(
            "channel frame: expected the MAC line, a newline, then the report",
        ));
    };
    let auth = if auth.is_empty() {
        None
    } else {
        Some(
            ReportAuth::parse(auth)
                .map_err(|e| ApiError::bad_input(format!("channel frame MAC line: {e}")))?,
        )
    };
    Ok(SealedReport {
        body: body.as_bytes().to_vec(),
        auth,
    })
}

/// What the engine answers a report with: the commands waiting, and the credential serial the
/// report's MAC verified under (`None`: not verified by MAC — an enrolment, a handshake or a
/// refused report), which is what a channel is bound to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentReply {
    pub commands: Vec<NeuronCommand>,
    pub verified: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::identity::Bytes32;
    use proptest::prelude::*;

    #[test]
    fn a_frame_carries_the_exact_bytes_and_the_mac() {
        let auth = ReportAuth {
            serial: 3,
            counter: 9,
            mac: Bytes32([7; 32]),
        };
        let body = br#"{"message":{"type":"probe_ack","nonce":0},"logs":[]}"#;
        let opened = open_frame(&seal_frame(body, Some(&auth))).unwrap();
        assert_eq!(opened.body, body);
        assert_eq!(opened.auth, Some(auth));
        let unsigned = open_frame(&seal_frame(body, None)).unwrap();
        assert_eq!(unsigned.auth, None);
        assert_eq!(unsigned.body, body);
    }

    #[test]
    fn bad_frames_are_named() {
        assert!(
            open_frame("no newline")
                .unwrap_err()
                .message
                .contains("MAC line")
        );
        let bad_mac = open_frame("1.2.zz\n{}").unwrap_err();
        assert!(bad_mac.message.contains("MAC line"), "{}", bad_mac.message);
        let huge = format!("\n{}", "x".repeat(MAX_UP_FRAME));
        assert!(open_frame(&huge).unwrap_err().message.contains("larger"));
    }

    proptest! {
        #[test]
        fn any_text_opens_or_is_refused_without_panicking(frame in ".{0,300}") {
            let _ = open_frame(&frame);
        }
    }
}
