//! One writer at a time on a cluster index, as the local writer lock gives: a lock document in
//! the files index, created with `create` (so only one sync gets it), renewed while the sync
//! runs and deleted at its end. A lock whose writer stopped renewing it (killed, cut off) for
//! longer than [`LEASE`] is taken over, with optimistic concurrency so two takers cannot both win.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::ClusterIndex;
use super::client::{Method, Retry};
use crate::error::{Error, Result};

/// `_id` of the lock document (file records are `file:…`, so none can take it).
pub(crate) const LOCK_ID: &str = "lock";
/// How long a lock holds without renewal.
const LEASE: Duration = Duration::from_secs(300);
/// How often a running sync renews it.
const RENEW_EVERY: Duration = Duration::from_secs(30);

/// Milliseconds since 1970 (lock heartbeats, generation names).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The lock, held.
pub(crate) struct WriterLock {
    owner: String,
    seq_no: u64,
    primary_term: u64,
    renewed: Instant,
}

impl ClusterIndex {
    fn lock_url(&self, query: &str) -> String {
        format!("/{}/_doc/{LOCK_ID}{query}", self.files_index())
    }

    /// Takes the writer lock, or says who holds it.
    pub(crate) fn lock(&self) -> Result<WriterLock> {
        let host =
            std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "?".into(), |h| h.trim().to_string());
        let owner = format!("{host} pid {} at {}", std::process::id(), now_ms());
        let body = json!({"owner": owner, "heartbeat": now_ms()});
        let url = format!("/{}/_create/{LOCK_ID}?refresh=true", self.files_index());
        let reply = self.client.json(Method::Put, &url, Some(&body), Retry::PATIENT)?;
        if reply.is_success() {
            return Ok(self.held(owner, &reply.body));
        }
        if reply.status != 409 {
            return Err(self.error(reply.reason()));
        }
        let current = self.ok(Method::Get, &self.lock_url(""), None)?;
        let heartbeat = current["_source"]["heartbeat"].as_u64().unwrap_or(0);
        let holder = current["_source"]["owner"].as_str().unwrap_or("?").to_string();
        if now_ms().saturating_sub(heartbeat) < LEASE.as_millis() as u64 {
            return Err(Error::Locked(format!("{} (by {holder})", self.url).into()));
        }
        // Stale: take it over, unless someone else does first.
        let (seq, term) = (current["_seq_no"].as_u64().unwrap_or(0), current["_primary_term"].as_u64().unwrap_or(0));
        let url = self.lock_url(&format!("?if_seq_no={seq}&if_primary_term={term}&refresh=true"));
        let reply = self.client.json(Method::Put, &url, Some(&body), Retry::PATIENT)?;
        if reply.is_success() {
            Ok(self.held(owner, &reply.body))
        } else if reply.status == 409 {
            Err(Error::Locked(format!("{} (taken over by another writer just now)", self.url).into()))
        } else {
            Err(self.error(reply.reason()))
        }
    }

    fn held(&self, owner: String, reply: &serde_json::Value) -> WriterLock {
        WriterLock {
            owner,
            seq_no: reply["_seq_no"].as_u64().unwrap_or(0),
            primary_term: reply["_primary_term"].as_u64().unwrap_or(0),
            renewed: Instant::now(),
        }
    }

    /// Renews the lock if it is due; fails if another writer took it over meanwhile.
    pub(crate) fn renew(&self, lock: &mut WriterLock) -> Result<()> {
        if lock.renewed.elapsed() < RENEW_EVERY {
            return Ok(());
        }
        let url = self.lock_url(&format!("?if_seq_no={}&if_primary_term={}", lock.seq_no, lock.primary_term));
        let body = json!({"owner": lock.owner, "heartbeat": now_ms()});
        let reply = self.client.json(Method::Put, &url, Some(&body), Retry::PATIENT)?;
        if !reply.is_success() {
            return Err(self.error(format!("lost the writer lock to another writer ({})", reply.reason())));
        }
        *lock = self.held(std::mem::take(&mut lock.owner), &reply.body);
        Ok(())
    }

    /// Gives the lock back (best effort: an unreleased lock expires).
    pub(crate) fn unlock(&self, lock: WriterLock) {
        let url =
            self.lock_url(&format!("?if_seq_no={}&if_primary_term={}&refresh=true", lock.seq_no, lock.primary_term));
        let _ = self.client.json(Method::Delete, &url, None, Retry::BRIEF);
    }
}
