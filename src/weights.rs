//! Reading and validating a safetensors weights file (see `model/FORMAT.md`).
