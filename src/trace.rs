//! The trace: every intermediate of one forward pass.
