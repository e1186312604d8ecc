//! What the local server adds around the shared handlers, usable by the
//! tests too: the event source mapping that feeds the stream consumers.

pub mod event_source;
