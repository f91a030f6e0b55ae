//! Walk the chain from the pruning checkpoint (or the start) and name the first record that does
//! not verify.

use rusqlite::Connection;

use super::head::HeadFile;
use super::{GENESIS, record_hash};
use crate::api::security::VerifyReport;
use crate::engine::clock::rfc3339;
use crate::engine::store::sqlite::{audit_rows, checkpoint};

pub fn verify(conn: &Connection) -> rusqlite::Result<VerifyReport> {
    verify_with_head(conn, None)
}

/// Walk the chain, check that every record's stored time is the one its hash covers, and compare
/// the end of the chain with the head kept outside the database (when there is one).
pub fn verify_with_head(
    conn: &Connection,
    head: Option<&HeadFile>,
) -> rusqlite::Result<VerifyReport> {
    let mut report = walk(conn)?;
    if report.intact
        && let Some((seq, problem)) = first_time_mismatch(conn)?
    {
        report.intact = false;
        report.first_bad_seq = Some(seq);
        report.problem = Some(problem);
    }
    let Some(head) = head else {
        report.trust = "chain only: edits, deletions and reordering inside the log are caught; deleting the newest records is not (no audit head)".into();
        return Ok(report);
    };
    report.trust = "chain and signed head: also catches deleting the newest records, unless audit.key was read too".into();
    let last = report.checkpoint_seq + report.records;
    match head.read() {
        Err(problem) => {
            if report.intact {
                report.intact = false;
                report.first_bad_seq = Some(last + 1);
                report.problem = Some(problem);
            }
        }
        Ok(None) => {}
        Ok(Some(h)) => {
            report.head_seq = Some(h.seq);
            if !report.intact {
                return Ok(report);
            }
            if h.seq > last {
                report.intact = false;
                report.first_bad_seq = Some(last + 1);
                report.problem = Some(format!(
                    "records {} to {} are missing: the signed head says the log reached {}",
                    last + 1,
                    h.seq,
                    h.seq
                ));
            } else if h.seq > report.checkpoint_seq {
                let stored: Option<String> = conn
                    .query_row(
                        "SELECT hash FROM audit WHERE seq = ?1",
                        [h.seq as i64],
                        |r| r.get(0),
                    )
                    .ok();
                if stored.as_deref() != Some(h.hash.as_str()) {
                    report.intact = false;
                    report.first_bad_seq = Some(h.seq);
                    report.problem = Some(format!(
                        "record {} is not the one the signed head names",
                        h.seq
                    ));
                }
            }
        }
    }
    Ok(report)
}

/// The record time is stored twice: as text (which the hash covers) and as a number (which
/// retention and filters use); they must agree, or the number was edited.
fn first_time_mismatch(conn: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    let mut stmt = conn.prepare("SELECT seq, at, at_text FROM audit ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (seq, at, text): (i64, i64, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if rfc3339(at) != text {
            return Ok(Some((
                seq as u64,
                format!("record {seq}'s time was altered after it was written"),
            )));
        }
    }
    Ok(None)
}

fn walk(conn: &Connection) -> rusqlite::Result<VerifyReport> {
    let (checkpoint_seq, checkpoint_hash) = checkpoint(conn)?.unwrap_or((0, GENESIS.to_string()));
    let mut report = VerifyReport {
        intact: true,
        records: 0,
        first_bad_seq: None,
        problem: None,
        checkpoint_seq,
        head_seq: None,
        trust: String::new(),
    };
    let mut prev_hash = checkpoint_hash;
    let fail = |report: &mut VerifyReport, seq: u64, problem: String| {
        report.intact = false;
        report.first_bad_seq = Some(seq);
        report.problem = Some(problem);
    };
    for (expected, record) in (checkpoint_seq + 1..).zip(audit_rows(conn, "", &[])?) {
        report.records += 1;
        if record.seq != expected {
            let problem = if record.seq > expected {
                format!("record {expected} is missing (next is {})", record.seq)
            } else {
                format!("record {} is out of order", record.seq)
            };
            fail(&mut report, expected, problem);
            break;
        }
        if record.prev_hash != prev_hash {
            fail(
                &mut report,
                record.seq,
                format!(
                    "record {} does not follow record {}",
                    record.seq,
                    record.seq - 1
                ),
            );
            break;
        }
        if record_hash(&prev_hash, &record) != record.hash {
            fail(
                &mut report,
                record.seq,
                format!("record {} was altered after it was written", record.seq),
            );
            break;
        }
        prev_hash = record.hash;
    }
    Ok(report)
}
