//! Configuration files and where drconsole keeps its files.

pub mod paths;
pub mod source_file;
pub mod user_config;
