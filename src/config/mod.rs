//! Configuration files and where drconsole keeps its files.

pub mod environment_file;
pub mod source_file;
