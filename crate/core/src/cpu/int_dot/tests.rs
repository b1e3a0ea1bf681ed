//! The integer products against the file's dequantized values in f64 (every block type, random
//! blocks including the extreme codes), and every SIMD copy against the scalar one.

use super::*;
use crate::quant::ggml::dequantize;
use half::f16;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const TYPES: [GgmlType; 6] = [
    GgmlType::Q8_0,
    GgmlType::Q4_0,
    GgmlType::Q5_0,
    GgmlType::Q4K,
    GgmlType::Q5K,
    GgmlType::Q6K,
];

/// Offsets of the f16 scales in a block of `ty`.
fn f16_fields(ty: GgmlType) -> &'static [usize] {
    match ty {
        GgmlType::Q4K | GgmlType::Q5K => &[0, 2],
        GgmlType::Q6K => &[208],
        _ => &[0],
    }
}

/// `blocks` random blocks of `ty`: random codes, finite scales of both signs.
fn random_blocks(rng: &mut SmallRng, ty: GgmlType, blocks: usize, extreme: bool) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..blocks * ty.type_size())
        .map(|_| if extreme { 0xff } else { rng.random() })
        .collect();
    for blk in bytes.chunks_exact_mut(ty.type_size()) {
        if extreme && ty == GgmlType::Q8_0 {
            blk[2..].fill(0x80); // -128, the code the sign trick must survive
        }
        for &at in f16_fields(ty) {
            let v = f16::from_f32(rng.random_range(-0.05f32..0.05)).to_le_bytes();
            blk[at..at + 2].copy_from_slice(&v);
        }
    }
    bytes
}

fn random_acts(rng: &mut SmallRng, m: usize, cols: usize, extreme: bool) -> Q8Acts {
    let x: Vec<f32> = (0..m * cols)
        .map(|i| {
            if extreme {
                if i % 3 == 0 { -4.0 } else { 4.0 }
            } else {
                rng.random_range(-3.0f32..3.0)
            }
        })
        .collect();
    Q8Acts::quantize(&x, m, cols).expect("quantizes")
}

/// The dot product of the dequantized weights and activations, in f64.
fn exact(ty: GgmlType, row: &[u8], a: &Q8Row) -> (f64, f64) {
    let w = dequantize(ty, row).expect("dequantizes");
    assert_eq!(w.len(), a.qs.len());
    let (mut dot, mut mag) = (0f64, 0f64);
    for (i, (w, q)) in w.iter().zip(a.qs).enumerate() {
        let x = f64::from(*q) * f64::from(a.d[i / ACT_BLOCK]);
        dot += f64::from(*w) * x;
        mag += (f64::from(*w) * x).abs();
    }
    (dot, mag)
}

#[test]
fn every_copy_equals_the_dequantized_product() {
    let mut rng = SmallRng::seed_from_u64(7);
    for ty in TYPES {
        for (blocks, extreme) in [(1, false), (3, false), (5, false), (2, true)] {
            let cols = blocks * ty.block_size();
            let row = random_blocks(&mut rng, ty, blocks, extreme);
            let acts = random_acts(&mut rng, 1, cols, extreme);
            let a = acts.row(0);
            let (want, mag) = exact(ty, &row, &a);
            for isa in Isa::available() {
                let got = f64::from(block_dot(isa, ty, &row, &a).expect("dot"));
                assert!(
                    got.is_finite() && (got - want).abs() <= 1e-5 * mag.max(1e-3),
                    "{} {} {cols} cols extreme {extreme}: {got} vs {want} (magnitude {mag})",
                    ty.name(),
                    isa.name()
                );
            }
        }
    }
}

#[test]
fn mismatched_lengths_and_types_are_refused() {
    let mut rng = SmallRng::seed_from_u64(1);
    let acts = random_acts(&mut rng, 1, 64, false);
    let row = random_blocks(&mut rng, GgmlType::Q8_0, 1, false);
    let code = |r: Result<f32>| r.expect_err("refused").code();
    assert_eq!(
        code(block_dot(Isa::Scalar, GgmlType::Q8_0, &row, &acts.row(0))),
        "shape"
    );
    assert_eq!(
        code(block_dot(
            Isa::Scalar,
            GgmlType::Q8_0,
            &row[..20],
            &acts.row(0)
        )),
        "shape"
    );
    let q2 = vec![0u8; 84];
    let wide = random_acts(&mut rng, 1, 256, false);
    assert_eq!(
        code(block_dot(Isa::Scalar, GgmlType::Q2K, &q2, &wide.row(0))),
        "unsupported"
    );
}

/// The batched product on odd shapes equals the f32 product of the dequantized weights with the
/// quantized activations, for every copy and batch size.
#[test]
fn batched_products_equal_f32_products() {
    let mut rng = SmallRng::seed_from_u64(3);
    for (ty, extreme) in TYPES.into_iter().flat_map(|t| [(t, false), (t, true)]) {
        let (rows, cols) = (37, 2 * ty.block_size().max(64));
        let data = random_blocks(&mut rng, ty, rows * cols / ty.block_size(), extreme);
        let w = BlockMatrix::new(ty, rows, cols, data).expect("matrix");
        let dense: Vec<f32> = dequantize(ty, &w.data).expect("dequantizes");
        for m in [1, 2, 7, 70] {
            let x: Vec<f32> = (0..m * cols).map(|_| rng.random_range(-2.0..2.0)).collect();
            let acts = Q8Acts::quantize(&x, m, cols).expect("quantizes");
            let xq: Vec<f32> = (0..m)
                .flat_map(|i| {
                    let a = acts.row(i);
                    a.qs.iter()
                        .enumerate()
                        .map(move |(c, q)| f32::from(*q) * a.d[c / ACT_BLOCK])
                })
                .collect();
            let want = crate::cpu::matmul(&xq, &dense, m, rows, cols).expect("matmul");
            for isa in Isa::available() {
                let got = linear_blocks_with(isa, &x, m, &w).expect("linear");
                assert_eq!(got.len(), want.len());
                for (g, e) in got.iter().zip(&want) {
                    assert!(
                        (g - e).abs() <= 1e-3 * (1.0 + e.abs()),
                        "{} {} m {m} extreme {extreme}: {g} vs {e}",
                        ty.name(),
                        isa.name()
                    );
                }
            }
        }
    }
}

/// Every copy's decoding of a weight row equals the scalar one (values, scales, minimums).
#[test]
fn every_copy_decodes_rows_as_the_scalar_one() {
    let mut rng = SmallRng::seed_from_u64(5);
    for ty in TYPES {
        for extreme in [false, true] {
            let row = random_blocks(&mut rng, ty, 3, extreme);
            let mut want = DecodedRow::default();
            want.decode(ty, &row);
            for isa in Isa::available() {
                let mut got = DecodedRow::default();
                isa.decode(ty, &row, &mut got);
                assert_eq!(got.qs, want.qs, "{} {}", ty.name(), isa.name());
                assert_eq!(got.scale, want.scale, "{} {}", ty.name(), isa.name());
                assert_eq!(got.min, want.min, "{} {}", ty.name(), isa.name());
                assert_eq!(got.lanes, want.lanes, "{} {}", ty.name(), isa.name());
            }
        }
    }
}
