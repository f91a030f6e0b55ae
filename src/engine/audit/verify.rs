//! Walk the chain from the pruning checkpoint (or the start) and name the first record that does
//! not verify.

use rusqlite::Connection;

use super::{GENESIS, record_hash};
use crate::api::security::VerifyReport;
use crate::engine::store::sqlite::{audit_rows, checkpoint};

pub fn verify(conn: &Connection) -> rusqlite::Result<VerifyReport> {
    let (checkpoint_seq, checkpoint_hash) = checkpoint(conn)?.unwrap_or((0, GENESIS.to_string()));
    let mut report = VerifyReport {
        intact: true,
        records: 0,
        first_bad_seq: None,
        problem: None,
        checkpoint_seq,
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
