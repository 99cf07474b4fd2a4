// Shared fixtures of the integration tests: the moto server and its
// estate, the runbook fixture environment, a fake world. Each test binary
// uses its own part.
#![allow(dead_code)]

pub mod estate;
pub mod fake;
pub mod moto;
pub mod policy;
pub mod runbook;
pub mod send_times;
