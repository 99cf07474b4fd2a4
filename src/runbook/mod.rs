//! Recovery runbooks: the YAML format, validation against the environment,
//! plans, the step engine, its journal, the per-service lock and the runner.

pub mod condition;
pub mod diagnostic;
pub mod engine;
pub mod facts;
pub mod format;
pub mod http;
pub mod journal;
pub mod library;
pub mod lock;
pub mod plan;
pub mod runner;
pub mod safety;
pub mod validate;
pub mod vars;
