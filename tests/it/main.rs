//! End-to-end tests: the `sou` binary through assert_cmd, and the library API, over fixtures
//! written into temporary folders (no dependency on the bundled corpus or ../shared).

#[cfg(feature = "serve")]
mod browser;
mod chinese;
mod cli;
mod cluster;
mod common;
mod faults;
mod ingest;
mod library;
mod query;
mod reliability;
mod scripts;
#[cfg(feature = "serve")]
mod serve;
