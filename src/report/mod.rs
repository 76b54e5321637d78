//! Everything a person reads: the per-second table (stderr), the final summary (stdout), the
//! warnings that say what to do next, and the unit formatting they share. The reporter thread
//! here is the only owner of a run's statistics.

pub mod format;
pub mod reporter;
pub mod table;
pub mod text;
pub mod warnings;
