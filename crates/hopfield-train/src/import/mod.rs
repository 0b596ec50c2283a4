//! Importing weights trained elsewhere: [`npz`], the official Energy Transformer's `.npz`.

pub mod npz;
