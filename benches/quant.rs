//! Native micro benchmark of the two quantised approaches (src/kernels/quant.rs; natively the
//! dispatch point is the scalar spec, compiled for the host) at SmolLM2-135M's shapes, GFLOP/s side
//! by side: `cargo bench --bench quant`. The simd128 figures come from benches/quant.mjs (Node).
//! Under `cargo test --all-targets` (no `--bench` argument) it runs each case once, as a smoke test.

use std::hint::black_box;
use std::time::Instant;

use attention_explorer::kernels::{self, quant::QuantFormat};

/// n rows of k elements of `format` with scales in [2⁻⁹, 2⁻⁵) and random integers.
fn weights(format: QuantFormat, n: usize, k: usize, seed: &mut u64) -> Vec<u8> {
    let mut next = || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    let mut w = vec![0u8; n * k / 32 * format.block_bytes()];
    for block in w.chunks_exact_mut(format.block_bytes()) {
        block.iter_mut().for_each(|b| *b = next() as u8);
        let d = (((6 + next() % 4) << 10) | (next() % 1024)) as u16;
        block[..2].copy_from_slice(&d.to_le_bytes());
        if format == QuantFormat::Q4_1 {
            block[2..4].copy_from_slice(&(d | 0x8000).to_le_bytes());
        }
    }
    w
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut shapes = Vec::new();
    for m in [1, 8, 32] {
        for (k, n) in [(576, 576), (576, 192), (576, 1536), (1536, 576)] {
            shapes.push((m, k, n, QuantFormat::Q4_1));
        }
    }
    shapes.push((1, 576, 49152, QuantFormat::Q8_0));
    println!("quantised matmul y = x·Ŵᵀ, GFLOP/s, native scalar spec{}", if full { "" } else { " (smoke run: one repetition)" });
    println!("    m     k      n  fmt   (a) dequant   (b) q8");
    for (m, k, n, format) in shapes {
        let w = weights(format, n, k, &mut seed);
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 200) as f32 / 100.0 - 1.0).collect();
        let mut y = vec![0.0f32; m * n];
        let mut gflops = [0.0f64; 2];
        for (approach, g) in gflops.iter_mut().enumerate() {
            let kernel = if approach == 0 { kernels::matmul_bt_dequant } else { kernels::matmul_bt_q8 };
            let mut best = f64::INFINITY;
            for _ in 0..if full { 7 } else { 1 } {
                let (mut reps, start) = (0u32, Instant::now());
                while reps == 0 || (full && start.elapsed().as_secs_f64() < 0.05) {
                    kernel(black_box(&x), black_box(&w), format, &mut y, m, k, n);
                    reps += 1;
                }
                best = best.min(start.elapsed().as_secs_f64() / reps as f64);
            }
            *g = 2.0 * (m * k * n) as f64 / best / 1e9;
        }
        println!("{m:5} {k:5} {n:6}  {}  {:11.2} {:9.2}", format.name(), gflops[0], gflops[1]);
    }
}
