//! Coordination between consoles on several machines through a shared
//! object store (issue 11): one lease per service, the run journal mirrored
//! as one object per record, takeover of a run whose holder is gone, and
//! two-person approval records.
//!
//! Everything rests on the store's conditional writes (create only if
//! absent, replace or delete only if unchanged): S3 is strongly consistent
//! per key, so two consoles cannot both win one conditional create. The
//! protocol ([`lease`], [`journal`]) is written against [`store::ObjectStore`]
//! and tested on [`memory::MemoryStore`]; [`s3::S3Store`] is the real one.

pub mod approval;
pub mod config;
pub mod connect;
pub mod journal;
pub mod lease;
pub mod memory;
pub mod run;
pub mod s3;
pub mod start;
pub mod store;
