// Each test binary uses its own part of the shared support.
#![allow(dead_code)]

pub mod estate;
pub mod moto;
pub mod policy;
