//! Configuration files and where drconsole keeps its files.

pub mod environment_file;
pub mod paths;
pub mod source_file;
pub mod user_config;
