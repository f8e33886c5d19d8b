//! Reading a table: which schema describes its sets, the reader over them (one set, or
//! several merged, optionally restricted to a split's byte ranges), and the live CQL rows
//! they hold at an instant.
pub mod live_rows;
pub mod open;
pub mod resolve;
pub mod table_view;
