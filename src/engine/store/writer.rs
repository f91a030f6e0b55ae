//! The single writer: batches arrive on a channel and are committed in order, off the engine's
//! hot path. A batch may carry an acknowledgement sent only after its commit.

use std::sync::mpsc;
use std::thread::JoinHandle;

use super::{Store, StoreOp};

/// Called once the batch it came with has committed (or failed to).
pub type Ack = Box<dyn FnOnce(Result<(), String>) + Send>;

enum Job {
    Batch(Vec<StoreOp>, Option<Ack>),
    Flush(mpsc::Sender<()>),
}

/// Batches committed together at most.
const GROUP_COMMIT_MAX: usize = 256;

fn commit(store: &mut dyn Store, jobs: Vec<Job>) {
    let mut ops = Vec::new();
    let mut acks = Vec::new();
    let mut flushes = Vec::new();
    for job in jobs {
        match job {
            Job::Batch(batch, ack) => {
                ops.extend(batch);
                acks.extend(ack);
            }
            Job::Flush(done) => flushes.push(done),
        }
    }
    let result = if ops.is_empty() {
        Ok(())
    } else {
        store.apply(&ops).map_err(|e| e.to_string())
    };
    if let Err(e) = &result {
        eprintln!("plexus: store write failed: {e}");
    }
    for ack in acks {
        ack(result.clone());
    }
    for done in flushes {
        let _ = done.send(());
    }
}

pub struct StoreWriter {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl StoreWriter {
    pub fn spawn(mut store: Box<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("plexus-store".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    let mut jobs = vec![job];
                    // Group commit: batches queued meanwhile share one transaction (one fsync).
                    while jobs.len() < GROUP_COMMIT_MAX {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    commit(store.as_mut(), jobs);
                }
            })
            .expect("spawn the store writer thread");
        StoreWriter {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Queue a batch; `ack` (if any) runs after it commits. An empty batch with an ack still
    /// waits for everything queued before it.
    pub fn submit(&self, batch: Vec<StoreOp>, ack: Option<Ack>) {
        if batch.is_empty() && ack.is_none() {
            return;
        }
        if let Some(tx) = &self.tx
            && let Err(mpsc::SendError(Job::Batch(_, Some(ack)))) = tx.send(Job::Batch(batch, ack))
        {
            ack(Err("the store writer has stopped".into()));
        }
    }

    /// Block until everything queued so far has been written.
    pub fn flush(&self) {
        let (done_tx, done_rx) = mpsc::channel();
        if let Some(tx) = &self.tx
            && tx.send(Job::Flush(done_tx)).is_ok()
        {
            let _ = done_rx.recv();
        }
    }
}

impl StoreWriter {
    /// Commit everything submitted, then end the store thread (closing the database).
    pub fn close(&mut self) {
        self.tx.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StoreWriter {
    fn drop(&mut self) {
        self.close();
    }
}
