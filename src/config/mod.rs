//! Configuration files and where drconsole keeps its files.

pub mod source_file;
