//! An index on an OpenSearch cluster (`http://host:9200/name`): sou analyzes, OpenSearch stores.
//!
//! Documents are analyzed by sou exactly as for a local index and sent as pre-analyzed fields
//! (see `encode` and `mapping`), with the original text kept in `_source`. The files a sync
//! has indexed, their fingerprints and the sync state live in a second index beside it
//! (`name.sou-files`), so any machine can run the next sync. No OpenSearch plugin is needed.

mod client;
mod encode;
mod lock;
mod mapping;
mod query;
mod search;
mod sync;

use serde_json::{Value, json};

pub use mapping::Layout;

use crate::analysis::{ANALYZER_VERSION, Segmenter};
use crate::error::{Error, Result};
use crate::index::Stats;
use client::{Client, Method, Retry};
use mapping::ClusterStamp;

/// An index on an OpenSearch cluster.
#[derive(Debug)]
pub struct ClusterIndex {
    client: Client,
    /// The index's address as given (`http://host:port/name`).
    url: String,
    /// The index name: an alias of the generation that holds the documents (or, while a
    /// rebuild fills it, the generation itself).
    name: String,
    /// The files index (or its alias), see `sync`.
    files: String,
    segmenter: Segmenter,
    /// The generations behind the name when it was opened (empty when not opened by name).
    opened: Vec<String>,
}

/// A cluster index being built again aside (see [`ClusterIndex::rebuild`]): searches keep
/// using the current one until [`ClusterRebuild::finish`] moves the name over in one step.
#[derive(Debug)]
pub struct ClusterRebuild {
    /// The new generation, under the index's address.
    index: ClusterIndex,
    /// What the name and the files name point at now: aliased generations, or a plain index.
    old: Vec<String>,
    old_files: Vec<String>,
    finished: bool,
}

/// How a cluster index is opened, created or rebuilt: the layout of a new one, and its user
/// dictionary (as [`crate::OpenOptions`] for a local index).
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Shards and replicas of a new index (or a rebuilt one).
    pub layout: Layout,
    /// A jieba user dictionary to index with, kept in the index's mapping. Opening an index
    /// with one requires it to match the kept one; a rebuild with one changes it.
    pub user_dict: Option<std::path::PathBuf>,
    /// With [`ClusterIndex::rebuild_with`] and no `user_dict`: drop the kept dictionary instead
    /// of carrying it over.
    pub drop_user_dict: bool,
}

impl ClusterOptions {
    /// The user dictionary file's text, read and checked, with what its words resolve to.
    fn dictionary(&self) -> Result<Option<(mapping::StoredDictionary, Segmenter)>> {
        let Some(path) = &self.user_dict else { return Ok(None) };
        let text = crate::index::read_user_dict(path)?;
        let segmenter = Segmenter::with_user_dict(&text, path)?;
        let resolution = segmenter.resolution();
        Ok(Some((mapping::StoredDictionary { text, resolution }, segmenter)))
    }
}

/// The segmenter of a kept dictionary (none: jieba's own).
fn segmenter_of(url: &str, dictionary: Option<&mapping::StoredDictionary>) -> Result<Segmenter> {
    match dictionary {
        Some(d) => {
            let origin = std::path::PathBuf::from(format!("{url} (its user dictionary)"));
            Segmenter::with_resolved_user_dict(&d.text, &origin, &d.resolution)
        }
        None => Ok(Segmenter::default()),
    }
}

/// Whether `location` names a cluster index (`http://…` or `https://…`) rather than a folder.
pub fn is_cluster_url(location: &str) -> bool {
    location.starts_with("http://") || location.starts_with("https://")
}

/// Splits `http://host:port/name` into the cluster's base address and the index name, which
/// must be one OpenSearch accepts (lowercase, none of `\ / * ? " < > | , #` or spaces, not
/// starting with `-`, `_`, `+` or `.`).
fn split_url(url: &str) -> Result<(String, String)> {
    let bad = |why: &str| Error::Cluster { url: url.to_string(), message: why.to_string() };
    let scheme_end = url.find("://").ok_or_else(|| bad("not an http:// address"))? + 3;
    let rest = url[scheme_end..].trim_end_matches('/');
    let (host, name) = rest.split_once('/').ok_or_else(|| bad("no index name: use http://host:9200/NAME"))?;
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let forbidden = |c: char| "\\/*?\"<>|,# :".contains(c) || c.is_uppercase() || c.is_control();
    if name.is_empty() || name.chars().any(forbidden) || name.starts_with(['-', '_', '+', '.']) || name.len() > 200 {
        return Err(bad(&format!(
            "{name:?} is not a usable index name (lowercase letters, digits, - and _; one path segment)"
        )));
    }
    Ok((format!("{}{host}", &url[..scheme_end]), name.to_string()))
}

impl ClusterIndex {
    fn connect(url: &str) -> Result<ClusterIndex> {
        let (base, name) = split_url(url)?;
        let files = format!("{name}.sou-files");
        Ok(ClusterIndex {
            client: Client::new(&base),
            url: url.trim_end_matches('/').to_string(),
            name,
            files,
            segmenter: Segmenter::default(),
            opened: Vec::new(),
        })
    }

    /// Opens an existing cluster index, refusing one that another sou analysis built.
    pub fn open(url: &str) -> Result<ClusterIndex> {
        ClusterIndex::open_with(url, &ClusterOptions::default())
    }

    /// Opens an existing cluster index with options: with a user dictionary, it must be the one
    /// the index keeps (changing it takes a rebuild).
    pub fn open_with(url: &str, options: &ClusterOptions) -> Result<ClusterIndex> {
        let mut index = ClusterIndex::connect(url)?;
        let reply = index.client.json(Method::Get, &format!("/{}/_mapping", index.name), None, Retry::BRIEF)?;
        index.client.discover_nodes();
        if reply.status == 404 {
            return Err(index
                .error(format!("no index named {:?}: run `sou index DIR --index {}` first", index.name, index.url)));
        }
        if !reply.is_success() {
            return Err(index.error(reply.reason()));
        }
        let stored = mapping::dictionary_of_mapping(&reply.body);
        let given = options.user_dict.as_deref().map(crate::index::read_user_dict).transpose()?;
        let expected = ClusterStamp::current(given.as_deref().or(stored.as_ref().map(|d| d.text.as_str())));
        match ClusterStamp::of_mapping(&reply.body) {
            Some(found) if found == expected => {
                index.segmenter = segmenter_of(&index.url, stored.as_ref())?;
                index.opened = index_names(&reply.body);
                Ok(index)
            }
            found => {
                let dictionary_differs = found.as_ref().is_some_and(|f| {
                    f.format == expected.format
                        && f.analyzer == expected.analyzer
                        && f.dictionary != expected.dictionary
                });
                let hint = if dictionary_differs {
                    format!(
                        "`sou index DIR --rebuild --dict FILE --index {}` rebuilds it with that dictionary",
                        index.url
                    )
                } else {
                    format!("rebuild it with `sou index DIR --rebuild --index {}`", index.url)
                };
                Err(Error::VersionMismatch {
                    path: index.url.clone().into(),
                    found: found.map_or("no sou stamp (not made by sou)".to_string(), |f| f.describe()),
                    expected: expected.describe(),
                    hint,
                })
            }
        }
    }

    /// Creates the index (and its files index) with this layout; an existing one is an error.
    ///
    /// The documents live in a generation (`NAME.sou-<ms>`, and `NAME.sou-<ms>.files`) that the
    /// name is an alias of, so a rebuild can move the name to a new generation in one step.
    pub fn create(url: &str, layout: Layout) -> Result<ClusterIndex> {
        ClusterIndex::create_with(url, &ClusterOptions { layout, ..ClusterOptions::default() })
    }

    /// Creates the index with options (its layout and user dictionary).
    pub fn create_with(url: &str, options: &ClusterOptions) -> Result<ClusterIndex> {
        let mut index = ClusterIndex::connect(url)?;
        // The dictionary is checked before anything is created, so a bad one leaves nothing.
        let dictionary = options.dictionary()?;
        for name in [&index.name, &index.files] {
            if !index.concrete(name)?.is_empty() {
                return Err(index.error(format!("{name} exists already")));
            }
        }
        let (generation, files) = index.create_generation(options.layout, dictionary.as_ref().map(|d| &d.0))?;
        let actions = json!({"actions": [
            {"add": {"index": generation, "alias": index.name}},
            {"add": {"index": files, "alias": index.files}},
        ]});
        index.ok(Method::Post, "/_aliases", Some(&actions))?;
        index.client.discover_nodes();
        if let Some((_, segmenter)) = dictionary {
            index.segmenter = segmenter;
        }
        Ok(index)
    }

    /// A new, empty generation: its index and its files index.
    fn create_generation(
        &self,
        layout: Layout,
        dictionary: Option<&mapping::StoredDictionary>,
    ) -> Result<(String, String)> {
        let generation = format!("{}.sou-{}", self.name, lock::now_ms());
        let files = format!("{generation}.files");
        self.put_index(&generation, &mapping::create_body(layout, dictionary))?;
        let mut files_body = sync::files_index_body();
        files_body["settings"]["number_of_replicas"] = json!(layout.replicas);
        self.put_index(&files, &files_body)?;
        Ok((generation, files))
    }

    /// The mapping answer for `name` (keyed by the indices behind it), or `None` when there is
    /// no such index or alias.
    fn mapping_of(&self, name: &str) -> Result<Option<Value>> {
        let reply = self.client.json(Method::Get, &format!("/{name}/_mapping"), None, Retry::BRIEF)?;
        match reply.status {
            404 => Ok(None),
            _ if reply.is_success() => Ok(Some(reply.body)),
            _ => Err(self.error(reply.reason())),
        }
    }

    /// The indices behind `name` (itself, or those an alias points at); empty when none.
    fn concrete(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.mapping_of(name)?.as_ref().map(index_names).unwrap_or_default())
    }

    /// Deletes these indices; one already gone is no error.
    fn delete_indices<'a>(&self, names: impl IntoIterator<Item = &'a String>) -> Result<()> {
        for name in names {
            let reply = self.client.json(Method::Delete, &format!("/{name}"), None, Retry::PATIENT)?;
            if !reply.is_success() && reply.status != 404 {
                return Err(self.error(format!("deleting {name} failed: {}", reply.reason())));
            }
        }
        Ok(())
    }

    /// Opens the index, creating it with `layout` if the cluster has none of that name.
    pub fn open_or_create(url: &str, layout: Layout) -> Result<ClusterIndex> {
        ClusterIndex::open_or_create_with(url, &ClusterOptions { layout, ..ClusterOptions::default() })
    }

    /// Opens the index with options, creating it with them if the cluster has none of that name.
    pub fn open_or_create_with(url: &str, options: &ClusterOptions) -> Result<ClusterIndex> {
        let index = ClusterIndex::connect(url)?;
        let reply = index.client.json(Method::Head, &format!("/{}", index.name), None, Retry::BRIEF)?;
        if reply.status == 404 {
            ClusterIndex::create_with(url, options)
        } else {
            ClusterIndex::open_with(url, options)
        }
    }

    /// Starts building the index again, aside, with `layout`: sync into
    /// [`ClusterRebuild::index`], then [`ClusterRebuild::finish`] swaps it in. Whatever the name
    /// holds now (another analyzer version's index too) keeps answering until then; an index
    /// that sou did not make is refused.
    pub fn rebuild(url: &str, layout: Layout) -> Result<ClusterRebuild> {
        ClusterIndex::rebuild_with(url, &ClusterOptions { layout, ..ClusterOptions::default() })
    }

    /// [`ClusterIndex::rebuild`] with options: the new index keeps the current user dictionary
    /// unless `options` gives another one or drops it.
    pub fn rebuild_with(url: &str, options: &ClusterOptions) -> Result<ClusterRebuild> {
        let current = ClusterIndex::connect(url)?;
        let given = options.dictionary()?;
        let mapping = current.mapping_of(&current.name)?;
        if mapping.as_ref().is_some_and(|m| ClusterStamp::of_mapping(m).is_none()) {
            return Err(current.error(format!("{} was not made by sou: refusing to replace it", current.name)));
        }
        let (dictionary, segmenter) = match given {
            Some((dictionary, segmenter)) => (Some(dictionary), segmenter),
            None if options.drop_user_dict => (None, Segmenter::default()),
            None => {
                let kept = mapping.as_ref().and_then(mapping::dictionary_of_mapping);
                let segmenter = segmenter_of(url, kept.as_ref())?;
                (kept, segmenter)
            }
        };
        let old = mapping.as_ref().map(index_names).unwrap_or_default();
        let old_files = current.concrete(&current.files)?;
        let (generation, files) = current.create_generation(options.layout, dictionary.as_ref())?;
        let index = ClusterIndex { name: generation, files, segmenter, ..ClusterIndex::connect(url)? };
        index.client.discover_nodes();
        Ok(ClusterRebuild { index, old, old_files, finished: false })
    }

    /// A fresh handle when the name was moved to another generation (a rebuild, perhaps with
    /// another user dictionary) since this one was opened; `None` while it was not.
    pub fn reopen_if_rebuilt(&self) -> Result<Option<ClusterIndex>> {
        if self.opened.is_empty() {
            return Ok(None);
        }
        // `_alias` is a small answer, unlike the mapping (which holds the dictionary).
        let reply = self.client.json(Method::Get, &format!("/_alias/{}", self.name), None, Retry::BRIEF)?;
        if !reply.is_success() {
            return Ok(None);
        }
        let mut now = index_names(&reply.body);
        let mut before = self.opened.clone();
        now.sort();
        before.sort();
        if now == before { Ok(None) } else { ClusterIndex::open(&self.url).map(Some) }
    }

    /// Deletes the index and its files index (every generation behind them), if they exist.
    pub fn delete(url: &str) -> Result<()> {
        let index = ClusterIndex::connect(url)?;
        let mut names = index.concrete(&index.name)?;
        names.extend(index.concrete(&index.files)?);
        index.delete_indices(&names)
    }

    /// The index's address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The segmenter queries and documents are analyzed with.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Searchable documents (as of the last refresh).
    pub fn num_docs(&self) -> Result<u64> {
        let reply = self.ok(Method::Get, &format!("/{}/_count", self.name), None)?;
        Ok(reply["count"].as_u64().unwrap_or(0))
    }

    /// Documents, segments and bytes on the cluster (primaries and replicas), as for a local
    /// index.
    pub fn stats(&self) -> Result<Stats> {
        let reply = self.ok(Method::Get, &format!("/{}/_stats/docs,store,segments", self.name), None)?;
        let total = &reply["_all"]["total"];
        let primaries = &reply["_all"]["primaries"];
        let mapping = self.ok(Method::Get, &format!("/{}/_mapping", self.name), None)?;
        let mut fields: Vec<String> = mapping
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|i| i["mappings"]["properties"].as_object())
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        fields.sort();
        Ok(Stats {
            path: self.url.clone(),
            documents: primaries["docs"]["count"].as_u64().unwrap_or(0),
            segments: total["segments"]["count"].as_u64().unwrap_or(0) as usize,
            size_bytes: total["store"]["size_in_bytes"].as_u64().unwrap_or(0),
            fields,
            analyzer_version: ANALYZER_VERSION,
            user_dictionary: ClusterStamp::of_mapping(&mapping).and_then(|stamp| stamp.dictionary),
            space: Vec::new(),
        })
    }

    /// Makes everything written so far searchable.
    pub(crate) fn refresh(&self) -> Result<()> {
        self.ok(Method::Post, &format!("/{},{}/_refresh", self.name, self.files_index()), None).map(drop)
    }

    fn files_index(&self) -> String {
        self.files.clone()
    }

    fn put_index(&self, name: &str, body: &Value) -> Result<()> {
        let reply = self.client.json(Method::Put, &format!("/{name}"), Some(body), Retry::BRIEF)?;
        if !reply.is_success() {
            return Err(self.error(reply.reason()));
        }
        // Every copy started before the first write: a bulk acknowledged while a replica was
        // still initializing lived on the primary alone, and a primary node killed then lost
        // it (measured: 505 of 10,000 documents). Green cannot come where there are fewer
        // data nodes than copies; there the replicas wait for nodes and yellow is all there is.
        let health = format!("/_cluster/health/{name}?wait_for_status=green&timeout=60s");
        let reply = self.client.json(Method::Get, &health, None, Retry::PATIENT)?;
        let replicas = body["settings"]["number_of_replicas"].as_u64().unwrap_or(1);
        let data_nodes = reply.body["number_of_data_nodes"].as_u64().unwrap_or(0);
        let status = reply.body["status"].as_str().unwrap_or("red");
        let ready = status == "green" || (status == "yellow" && data_nodes <= replicas);
        if !ready {
            return Err(self.error(format!("index {name} did not become ready in 60 s (status {status})")));
        }
        Ok(())
    }

    /// `method path body`, retried patiently; any non-2xx answer is an error.
    fn ok(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let reply = self.client.json(method, path, body, Retry::PATIENT)?;
        if reply.is_success() { Ok(reply.body) } else { Err(self.error(reply.reason())) }
    }

    fn error(&self, message: String) -> Error {
        Error::Cluster { url: self.url.clone(), message }
    }
}

impl ClusterRebuild {
    /// The new generation, to sync into.
    pub fn index(&self) -> &ClusterIndex {
        &self.index
    }

    /// Points the name (and the files name) at the new generation in one `_aliases` call, then
    /// deletes what they pointed at before; returns the index under its name.
    pub fn finish(mut self) -> Result<ClusterIndex> {
        let current = ClusterIndex::connect(&self.index.url)?;
        let mut actions = Vec::new();
        for (alias, old, new) in
            [(&current.name, &self.old, &self.index.name), (&current.files, &self.old_files, &self.index.files)]
        {
            for index in old {
                // A plain index under the name goes in the same step; an aliased one after.
                actions.push(if index == alias {
                    json!({"remove_index": {"index": index}})
                } else {
                    json!({"remove": {"index": index, "alias": alias}})
                });
            }
            actions.push(json!({"add": {"index": new, "alias": alias}}));
        }
        current.ok(Method::Post, "/_aliases", Some(&json!({"actions": actions})))?;
        self.finished = true;
        let aliased = self.old.iter().chain(&self.old_files).filter(|i| **i != current.name && **i != current.files);
        current.delete_indices(aliased).map_err(|e| match e {
            Error::Cluster { url, message } => {
                Error::Cluster { url, message: format!("the rebuilt index is in place, but {message}") }
            }
            other => other,
        })?;
        ClusterIndex::open(&current.url)
    }
}

impl Drop for ClusterRebuild {
    /// A rebuild not finished (failed, interrupted) leaves the current index as it was and
    /// takes its half-built generation away.
    fn drop(&mut self) {
        if !self.finished {
            for index in [&self.index.name, &self.index.files] {
                let _ = self.index.client.json(Method::Delete, &format!("/{index}"), None, Retry::BRIEF);
            }
        }
    }
}

/// The index names a mapping answer is keyed by.
fn index_names(mapping: &Value) -> Vec<String> {
    mapping.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// The `_source` of a document in the cluster: its original text and where it came from.
pub(crate) fn source_of(doc: &crate::Document, fingerprint: u64, record: u64, run: u64) -> Value {
    json!({
        "id": doc.id,
        "path": doc.path,
        "fingerprint": fingerprint,
        "record": record,
        "run": run,
        "date": doc.date.map(|d| d.days_since_epoch()),
        mapping::ORIGINAL: doc,
    })
}

#[cfg(test)]
mod cluster_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_address_is_a_cluster_and_a_name() {
        assert_eq!(split_url("http://127.0.0.1:9200/news").unwrap(), ("http://127.0.0.1:9200".into(), "news".into()));
        assert_eq!(split_url("https://h:1/news-2/").unwrap(), ("https://h:1".into(), "news-2".into()));
        for bad in [
            "http://127.0.0.1:9200",
            "http://127.0.0.1:9200/",
            "http://h/News",
            "http://h/a/b",
            "http://h/_x",
            "http:///x",
        ] {
            assert!(split_url(bad).is_err(), "{bad}");
        }
        assert!(is_cluster_url("http://h/x") && !is_cluster_url("index") && !is_cluster_url("./http"));
    }
}
