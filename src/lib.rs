//! attention-explorer: a tiny pretrained decoder-only transformer whose forward pass returns a
//! [`trace::Trace`] of every intermediate, named after the math, for the page and widget to draw.
//!
//! `src/` computes, `www/` draws. See `model/FORMAT.md` for the weights, tokenizer and golden formats.

pub mod kernels;
pub mod model;
pub mod tokenizer;
pub mod trace;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
