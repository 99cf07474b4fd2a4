pub mod estate;
pub mod moto;
