//! Turning examples into model input: per-channel [`Normalization`] of images. (Patch masks
//! belong to the image model, `hopfield::et::MaskSpec`; padding masks to `hopfield::et::TokenMask`.)

mod normalization;

pub use normalization::Normalization;
