//! Chooses the model compiled into the binary (feature `builtin-model`): the shipped model in `model/`
//! (committed). In a checkout without it (a trimmed copy, say) the tiny seeded test model stands in, and
//! the build says so. The model's head profile (`heads.json` beside it) is compiled in too when it
//! exists: cfg `builtin_heads`.
use std::path::Path;

fn main() {
    let dir = if Path::new("model/model.safetensors").exists() && Path::new("model/tokenizer.json").exists() {
        "model"
    } else {
        println!("cargo:warning=model/ has no trained model yet: the built-in model is the tiny test model");
        "tests/fixtures/tiny"
    };
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:rustc-env=BUILTIN_MODEL_DIR={root}/{dir}");
    println!("cargo:rustc-check-cfg=cfg(builtin_heads)");
    if Path::new(dir).join("heads.json").exists() {
        println!("cargo:rustc-cfg=builtin_heads");
    }
    println!("cargo:rerun-if-changed=model/model.safetensors");
    println!("cargo:rerun-if-changed=model/tokenizer.json");
    // the directory, so that a heads.json added later is noticed
    println!("cargo:rerun-if-changed=model");
}
