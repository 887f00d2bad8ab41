//! The index writer with a bound on documents in flight: tantivy queues up to 10,000
//! documents between the caller and its indexing threads, which for 30 KB legal cases is
//! 300 MB no budget accounts for. Each queued document carries its size; the caller waits
//! while the queue holds more than the limit, so peak memory stays bounded by the options.

use std::sync::{Arc, Condvar, Mutex};

use tantivy::indexer::UserOperation;
use tantivy::schema::document::Document as TantivyDocumentTrait;
use tantivy::{IndexWriter, TantivyDocument, Term};

/// Bytes of documents handed to tantivy but not yet indexed.
#[derive(Debug)]
struct Gauge {
    state: Mutex<GaugeState>,
    drained: Condvar,
    limit: usize,
}

#[derive(Debug, Default)]
struct GaugeState {
    in_flight: usize,
    /// A caller waits for room.
    waiting: bool,
}

impl Gauge {
    fn new(limit: usize) -> Self {
        Gauge { state: Mutex::new(GaugeState::default()), drained: Condvar::new(), limit }
    }

    /// Where a waiting caller is woken: a quarter of the queue below the limit. Waking it at
    /// every document indexed made the caller and the indexing threads take turns document by
    /// document (a futex wake-up and two context switches each), which for short documents
    /// (poems) cost more than parsing them.
    fn low_water(&self) -> usize {
        self.limit - self.limit / 4
    }

    /// Waits until `bytes` more fit under the limit (a document larger than the limit waits
    /// for an empty queue), then counts them.
    fn acquire(&self, bytes: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.in_flight > 0 && state.in_flight + bytes > self.limit {
            state.waiting = true;
            state = self.drained.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.waiting = false;
        state.in_flight += bytes;
    }

    fn release(&self, bytes: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight = state.in_flight.saturating_sub(bytes);
        if state.waiting && state.in_flight <= self.low_water() {
            self.drained.notify_all();
        }
    }
}

/// A document that gives its bytes back to the gauge when tantivy drops it after indexing.
pub(crate) struct TrackedDoc {
    doc: TantivyDocument,
    bytes: usize,
    gauge: Arc<Gauge>,
}

impl Drop for TrackedDoc {
    fn drop(&mut self) {
        self.gauge.release(self.bytes);
    }
}

impl TantivyDocumentTrait for TrackedDoc {
    type Value<'a> = <TantivyDocument as TantivyDocumentTrait>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as TantivyDocumentTrait>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }
}

/// Operations handed to tantivy at once: tantivy's queue takes one message per call, and its
/// indexing threads and the caller woke each other for every short document.
const BATCH_OPERATIONS: usize = 256;
/// ... or fewer, once their documents hold this many bytes.
const BATCH_BYTES: usize = 1 << 20;

/// tantivy's writer plus the in-flight bound; operations go to tantivy in batches, in order.
pub(crate) struct DocWriter {
    pub(crate) inner: IndexWriter<TrackedDoc>,
    gauge: Arc<Gauge>,
    /// Adds and deletes not yet handed to tantivy, in the order they were made.
    queued: Vec<UserOperation<TrackedDoc>>,
    queued_bytes: usize,
}

impl DocWriter {
    /// Wraps a writer; at most `limit` bytes of documents wait in its queue.
    pub(crate) fn new(inner: IndexWriter<TrackedDoc>, limit: usize) -> Self {
        DocWriter { inner, gauge: Arc::new(Gauge::new(limit)), queued: Vec::new(), queued_bytes: 0 }
    }

    /// Queues a document, waiting first if too many bytes are queued.
    pub(crate) fn add(&mut self, doc: TantivyDocument, bytes: usize) -> tantivy::Result<()> {
        self.queued.push(UserOperation::Add(TrackedDoc { doc, bytes, gauge: Arc::clone(&self.gauge) }));
        self.queued_bytes += bytes;
        if self.queued.len() >= BATCH_OPERATIONS || self.queued_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Deletes the documents holding `term`: those added before, not those added after.
    pub(crate) fn delete_term(&mut self, term: Term) {
        self.queued.push(UserOperation::Delete(term));
    }

    /// Hands the queued operations to tantivy (waiting first if too many bytes are in flight).
    fn flush(&mut self) -> tantivy::Result<()> {
        if self.queued.is_empty() {
            return Ok(());
        }
        // The bytes are counted when they leave this queue: counted while still here, the
        // wait for room could wait for documents that nobody will index.
        self.gauge.acquire(self.queued_bytes);
        self.queued_bytes = 0;
        self.inner.run(std::mem::take(&mut self.queued)).map(|_| ())
    }

    /// Prepares a commit of every operation so far.
    pub(crate) fn prepare_commit(&mut self) -> tantivy::Result<tantivy::indexer::PreparedCommit<'_, TrackedDoc>> {
        self.flush()?;
        self.inner.prepare_commit()
    }

    /// Drops every operation since the last commit.
    pub(crate) fn rollback(&mut self) -> tantivy::Result<()> {
        self.queued.clear();
        self.queued_bytes = 0;
        self.inner.rollback().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn acquire_waits_for_release() {
        let gauge = Arc::new(Gauge::new(10));
        gauge.acquire(8);
        let done = Arc::new(AtomicUsize::new(0));
        let (g, d) = (Arc::clone(&gauge), Arc::clone(&done));
        let waiter = std::thread::spawn(move || {
            g.acquire(5);
            d.store(1, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(done.load(Ordering::SeqCst), 0, "over the limit: must wait");
        gauge.release(8);
        waiter.join().unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 1);
        // A document bigger than the limit passes once the queue is empty.
        gauge.release(5);
        gauge.acquire(100);
    }
}
