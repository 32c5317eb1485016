//! Writing a safetensors file in this format, every tensor F32 (for tests and tools), from the
//! tensor table.

use crate::config::Positions;
use crate::model::Weights;

use super::{shape_text, Place, Slot, Table, FORMAT, TENSORS};

/// The values of one slot of `w` (empty if `w` lacks its layer or MLP).
fn values(w: &Weights, slot: Slot) -> &[f32] {
    let layer = w.layers.get(slot.layer);
    match TENSORS[slot.kind].place {
        Place::Model(field, _) => field(w),
        Place::Layer(field, _) => layer.map_or(&[], field),
        Place::Mlp(field, _) => layer.and_then(|l| l.mlp.as_ref()).map_or(&[], field),
    }
}

/// Writes `weights` as a safetensors file in this format, every tensor F32 (for tests and tools).
pub fn save(weights: &Weights) -> Vec<u8> {
    let c = &weights.config;
    let table = Table::new(c);
    let values: Vec<&[f32]> = table.slots.iter().map(|&slot| values(weights, slot)).collect();

    let mut config = format!(
        "{{\"vocab_size\":{},\"d_model\":{},\"n_layers\":{},\"n_heads\":{},\"d_head\":{},\"d_mlp\":{},\"context\":{},\"ln_eps\":{}",
        c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_head, c.d_mlp, c.context, c.ln_eps
    );
    if let Positions::Rotary { base } = c.positions {
        config.push_str(&format!(",\"positions\":\"rope\",\"rope_base\":{base}"));
    }
    if let Some(bos) = c.bos_id {
        config.push_str(&format!(",\"bos_id\":{bos}"));
    }
    config.push('}');
    let mut header = format!(
        "{{\"__metadata__\":{{\"format\":{},\"config\":{},\"name\":{}}}",
        json_string(FORMAT),
        json_string(&config),
        json_string(&weights.name)
    );
    let mut offset = 0usize;
    for ((name, shape), v) in table.named(c).iter().zip(&values) {
        let end = offset + v.len() * 4;
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[{offset},{end}]}}",
            json_string(name),
            shape_text(shape).replace(' ', "")
        ));
        offset = end;
    }
    header.push('}');
    let mut text = header.into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    for v in &values {
        for x in v.iter() {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
