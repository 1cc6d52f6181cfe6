//! Where images come from and go to: URL lists and their manners, object storage, and the
//! safety of outputs.

mod objects;
mod politeness;
mod root;
mod safety;
mod urls;
