//! Images and formats: what each format converts to, its variants, damaged and hostile
//! files, pictures bigger than memory, the committed fixtures.

mod camera_raw;
mod colour;
mod convert;
mod fixtures_reproducible;
mod format_variants;
mod formats;
mod heic;
mod hostile;
mod memory;
mod metadata;
mod pngsuite;
mod progressive_jpeg;
mod repro;
mod tiff_layouts;
