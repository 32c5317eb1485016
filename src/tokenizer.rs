//! Byte-level BPE: text → tokens and back (see `model/FORMAT.md`).
