//! Recovery runbooks: the YAML format, validation against the environment,
//! plans, the step engine, its journal, the per-service lock, the runner
//! and its headless terminal front end.

pub mod condition;
pub mod diagnostic;
pub mod engine;
pub mod facts;
pub mod format;
pub mod generate;
pub mod headless;
pub mod history;
pub mod http;
pub mod journal;
pub mod library;
pub mod limits;
pub mod lock;
pub mod ownership;
pub mod plan;
pub mod runner;
pub mod safety;
pub mod start;
pub mod validate;
pub mod vars;
