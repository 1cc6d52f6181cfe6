//! Pixels, whatever format they came from: BT.601 gray ([`gray`]), box shrinking while
//! decoding (`shrink`), and the output geometry with the final SIMD resample ([`resize`]).

pub mod gray;
pub mod resize;
pub(crate) mod shrink;
