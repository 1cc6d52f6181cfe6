//! Pixels, whatever format they came from: the tone asked for ([`color`]: gray or colour),
//! BT.601 gray ([`gray`]), ICC profiles brought to sRGB ([`profile`]), box shrinking while
//! decoding (`shrink`), and the output geometry with the final SIMD resample ([`resize`]).

pub mod color;
pub mod gray;
pub mod profile;
pub mod resize;
pub(crate) mod shrink;
