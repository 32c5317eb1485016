//! The data section: tensors tile it exactly, and each expands to finite f32 values.

use super::{f16_to_f32, Dtype, Entry, WeightsError};

/// The tensors must cover the data section exactly once, as the safetensors format requires.
pub(super) fn check_tiling(
    required: &[(String, Vec<usize>)],
    entries: &[Option<Entry>],
    scales: &[Option<Entry>],
    data_len: usize,
) -> Result<(), WeightsError> {
    // (begin, end, index): index < n is a tensor, n + i is the scale of tensor i
    let n = entries.len();
    let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(2 * n);
    for (i, e) in entries.iter().enumerate() {
        spans.extend(e.as_ref().map(|e| (e.begin, e.end, i)));
    }
    for (i, e) in scales.iter().enumerate() {
        spans.extend(e.as_ref().map(|e| (e.begin, e.end, n + i)));
    }
    // insertion sort: files list their tensors in data order, so this is one pass for them (and
    // it keeps the sort machinery of `sort_unstable`, several KB of wasm, out of the module)
    for i in 1..spans.len() {
        let mut j = i;
        while j > 0 && spans[j - 1] > spans[j] {
            spans.swap(j - 1, j);
            j -= 1;
        }
    }
    let name = |index: usize| match required.get(index) {
        Some((tensor, _)) => tensor.clone(),
        None => format!("{}.scale", required.get(index - n).map_or("", |(t, _)| t.as_str())),
    };
    // overlaps first (the more specific fault), then holes
    for pair in spans.windows(2) {
        if let [(b0, e0, first), (b1, e1, second)] = *pair {
            if b1 < e0 {
                return Err(WeightsError::Offsets {
                    name: name(second),
                    detail: format!(
                        "expected its bytes not to overlap another tensor's, found [{b1}, {e1}] overlapping `{}` at [{b0}, {e0}]",
                        name(first)
                    ),
                });
            }
        }
    }
    let mut covered = 0usize;
    let mut previous = None;
    for &(begin, end, index) in &spans {
        if begin > covered {
            return Err(WeightsError::Offsets {
                name: name(index),
                detail: format!(
                    "expected it to start where the previous tensor ends ({covered}), found a gap: data bytes {covered}..{begin} belong to no tensor"
                ),
            });
        }
        covered = end;
        previous = Some(index);
    }
    if covered != data_len {
        return Err(WeightsError::Offsets {
            name: previous.map_or_else(String::new, name),
            detail: format!("expected the tensors to cover all {data_len} data bytes, found the last one ending at {covered}"),
        });
    }
    Ok(())
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// Expands one tensor to f32 (F16 exactly, I8 as `q as f32 * scale[row]`) and checks it is finite.
pub(super) fn expand(name: &str, entry: &Entry, scale: Option<&Entry>, data: &[u8]) -> Result<Vec<f32>, WeightsError> {
    let slice = |e: &Entry| data.get(e.begin..e.end).unwrap_or(&[]);
    let values = match (entry.dtype, scale) {
        (Dtype::F32, _) => f32s(slice(entry)),
        (Dtype::F16, _) => slice(entry).chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
        (Dtype::I8, Some(scale_entry)) => {
            let scale = f32s(slice(scale_entry));
            finite(&format!("{name}.scale"), &scale)?;
            let cols = entry.shape.get(1).copied().unwrap_or(1).max(1);
            slice(entry).chunks_exact(cols).zip(&scale).flat_map(|(row, &s)| row.iter().map(move |&q| f32::from(q as i8) * s)).collect()
        }
        (Dtype::I8, None) => {
            return Err(WeightsError::MissingTensor { name: format!("{name}.scale"), shape: entry.shape.iter().take(1).copied().collect() })
        }
    };
    finite(name, &values)?;
    Ok(values)
}

fn finite(name: &str, values: &[f32]) -> Result<(), WeightsError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(WeightsError::NonFinite { name: name.to_string(), index, value: values[index] }),
    }
}
