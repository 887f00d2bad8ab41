//! The index writer with a bound on documents in flight: tantivy queues up to 10,000
//! documents between the caller and its indexing threads, which for 30 KB legal cases is
//! 300 MB no budget accounts for. Each queued document carries its size; the caller waits
//! while the queue holds more than the limit, so peak memory stays bounded by the options.

use std::sync::{Arc, Condvar, Mutex};

use tantivy::schema::document::Document as TantivyDocumentTrait;
use tantivy::{IndexWriter, TantivyDocument, Term};

/// Bytes of documents handed to tantivy but not yet indexed.
#[derive(Debug)]
struct Gauge {
    in_flight: Mutex<usize>,
    drained: Condvar,
    limit: usize,
}

impl Gauge {
    fn new(limit: usize) -> Self {
        Gauge { in_flight: Mutex::new(0), drained: Condvar::new(), limit }
    }

    /// Waits until `bytes` more fit under the limit (a document larger than the limit waits
    /// for an empty queue), then counts them.
    fn acquire(&self, bytes: usize) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        while *in_flight > 0 && *in_flight + bytes > self.limit {
            in_flight = self.drained.wait(in_flight).unwrap_or_else(|e| e.into_inner());
        }
        *in_flight += bytes;
    }

    fn release(&self, bytes: usize) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        *in_flight = in_flight.saturating_sub(bytes);
        self.drained.notify_all();
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

/// tantivy's writer plus the in-flight bound.
pub(crate) struct DocWriter {
    pub(crate) inner: IndexWriter<TrackedDoc>,
    gauge: Arc<Gauge>,
}

impl DocWriter {
    /// Wraps a writer; at most `limit` bytes of documents wait in its queue.
    pub(crate) fn new(inner: IndexWriter<TrackedDoc>, limit: usize) -> Self {
        DocWriter { inner, gauge: Arc::new(Gauge::new(limit)) }
    }

    /// Queues a document, waiting first if too many bytes are queued.
    pub(crate) fn add(&self, doc: TantivyDocument, bytes: usize) -> tantivy::Result<()> {
        self.gauge.acquire(bytes);
        self.inner.add_document(TrackedDoc { doc, bytes, gauge: Arc::clone(&self.gauge) }).map(|_| ())
    }

    pub(crate) fn delete_term(&self, term: Term) {
        self.inner.delete_term(term);
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
