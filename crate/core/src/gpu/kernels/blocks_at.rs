//! The GGUF block decoders spliced into the linear and embed_rows templates: a matrix kept as the
//! file's own bytes (rows of whole blocks, `row * (cols / block) * type_size` bytes in) is read
//! a group of 32 values at a time (`group_at`; one value, `weight_at`, decodes its group). The
//! layouts are ggml's, as `quant::ggml` dequantizes them on the CPU.
//!
//! Blocks are not word-aligned (Q8_0 is 34 bytes), so bytes are read through `u32_at`, which
//! joins two words; every field starts on an even byte, so 16-bit fields never straddle words.

use crate::quant::ggml::GgmlType;

const BYTES: &str = "fn byte_at(b: u32) -> u32 {
    return (word(b / 4u) >> (8u * (b % 4u))) & 0xffu;
}

fn u32_at(b: u32) -> u32 {
    let s = b % 4u;
    let w0 = word(b / 4u);
    if (s == 0u) {
        return w0;
    }
    return (w0 >> (8u * s)) | (word(b / 4u + 1u) << (32u - 8u * s));
}

fn f16_at(b: u32) -> f32 {
    return unpack2x16float((word(b / 4u) >> (8u * (b % 4u))) & 0xffffu).x;
}

fn i8_at(b: u32) -> f32 {
    return f32(bitcast<i32>(byte_at(b) << 24u) >> 24u);
}

const BYTE_SHIFTS: vec4<u32> = vec4<u32>(0u, 8u, 16u, 24u);

fn weight_at(i: u32) -> f32 {
    let k = i % params.cols;
    let g = group_at(i / params.cols, k / 32u);
    return g[(k % 32u) / 4u][k % 4u];
}";

// 34 bytes: f16 d, 32 signed bytes.
const Q8_0: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let base = (row * (params.cols / 32u) + gi) * 34u;
    let d = f16_at(base);
    let up = vec4<u32>(24u, 16u, 8u, 0u);
    for (var j = 0u; j < 8u; j++) {
        let w = bitcast<i32>(u32_at(base + 2u + 4u * j));
        out[j] = vec4<f32>((vec4<i32>(w) << up) >> vec4<u32>(24u)) * d;
    }
    return out;
}";

// 18 bytes: f16 d, 16 bytes of nibbles (value k in the low nibble of byte k, value 16 + k in
// its high nibble), offset 8.
const Q4_0: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let base = (row * (params.cols / 32u) + gi) * 18u;
    let d = f16_at(base);
    for (var j = 0u; j < 4u; j++) {
        let w = vec4<u32>(u32_at(base + 2u + 4u * j));
        out[j] = (vec4<f32>((w >> BYTE_SHIFTS) & vec4<u32>(15u)) - 8.0) * d;
        out[4u + j] = (vec4<f32>((w >> (BYTE_SHIFTS + 4u)) & vec4<u32>(15u)) - 8.0) * d;
    }
    return out;
}";

// 22 bytes: f16 d, u32 of fifth bits (bit k for value k), 16 bytes of nibbles as Q4_0,
// offset 16.
const Q5_0: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let base = (row * (params.cols / 32u) + gi) * 22u;
    let d = f16_at(base);
    let qh = vec4<u32>(u32_at(base + 2u));
    for (var j = 0u; j < 4u; j++) {
        let w = vec4<u32>(u32_at(base + 6u + 4u * j));
        let k = vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u);
        let lo = ((w >> BYTE_SHIFTS) & vec4<u32>(15u)) | (((qh >> k) & vec4<u32>(1u)) << vec4<u32>(4u));
        let hi = ((w >> (BYTE_SHIFTS + 4u)) & vec4<u32>(15u))
            | (((qh >> (k + 16u)) & vec4<u32>(1u)) << vec4<u32>(4u));
        out[j] = (vec4<f32>(lo) - 16.0) * d;
        out[4u + j] = (vec4<f32>(hi) - 16.0) * d;
    }
    return out;
}";

// The 6-bit scale and minimum of sub-block s of a Q4_K / Q5_K block whose 12 scale bytes
// start at `at`.
const K4_SCALE_MIN: &str = "fn k4_scale_min(at: u32, s: u32) -> vec2<f32> {
    if (s < 4u) {
        return vec2<f32>(f32(byte_at(at + s) & 63u), f32(byte_at(at + s + 4u) & 63u));
    }
    let sc = (byte_at(at + s + 4u) & 15u) | ((byte_at(at + s - 4u) >> 6u) << 4u);
    let m = (byte_at(at + s + 4u) >> 4u) | ((byte_at(at + s) >> 6u) << 4u);
    return vec2<f32>(f32(sc), f32(m));
}";

// 144 bytes per 256 values: f16 d, f16 dmin, 12 bytes of scales and minimums, 128 bytes of
// nibbles (sub-blocks 2 c and 2 c + 1 in the low and high nibbles of bytes 32 c .. 32 c + 32).
const Q4_K: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let bb = (row * (params.cols / 256u) + gi / 8u) * 144u;
    let s = gi % 8u;
    let sm = k4_scale_min(bb + 4u, s);
    let scale = f16_at(bb) * sm.x;
    let minimum = f16_at(bb + 2u) * sm.y;
    let qb = bb + 16u + (s / 2u) * 32u;
    let shifts = BYTE_SHIFTS + (s % 2u) * 4u;
    for (var j = 0u; j < 8u; j++) {
        let w = vec4<u32>(u32_at(qb + 4u * j));
        out[j] = vec4<f32>((w >> shifts) & vec4<u32>(15u)) * scale - minimum;
    }
    return out;
}";

// 176 bytes per 256 values: as Q4_K with 32 bytes of fifth bits (bit s of byte l for value l of
// sub-block s) between the scales and the nibbles.
const Q5_K: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let bb = (row * (params.cols / 256u) + gi / 8u) * 176u;
    let s = gi % 8u;
    let sm = k4_scale_min(bb + 4u, s);
    let scale = f16_at(bb) * sm.x;
    let minimum = f16_at(bb + 2u) * sm.y;
    let qb = bb + 48u + (s / 2u) * 32u;
    let shifts = BYTE_SHIFTS + (s % 2u) * 4u;
    for (var j = 0u; j < 8u; j++) {
        let w = vec4<u32>(u32_at(qb + 4u * j));
        let h = vec4<u32>(u32_at(bb + 16u + 4u * j));
        let q = ((w >> shifts) & vec4<u32>(15u)) | (((h >> (BYTE_SHIFTS + s)) & vec4<u32>(1u)) << vec4<u32>(4u));
        out[j] = vec4<f32>(q) * scale - minimum;
    }
    return out;
}";

// 210 bytes per 256 values: 128 bytes of low nibbles, 64 of high bit pairs, 16 signed scales
// (one per 16 values), f16 d. Half h (128 values), quarter q (32): low nibbles from byte
// 64 h + 32 (q & 1) + l shifted by 4 (q >> 1), high bits from byte 128 + 32 h + l shifted by
// 2 q, scale 192 + 8 h + 2 q + l / 16; offset 32.
const Q6_K: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let bb = (row * (params.cols / 256u) + gi / 8u) * 210u;
    let s = gi % 8u;
    let h = s / 4u;
    let q = s % 4u;
    let d = f16_at(bb + 208u);
    let lb = bb + 64u * h + 32u * (q & 1u);
    let hb = bb + 128u + 32u * h;
    let sb = bb + 192u + 8u * h + 2u * q;
    let lshifts = BYTE_SHIFTS + 4u * (q >> 1u);
    let hshifts = BYTE_SHIFTS + 2u * q;
    for (var j = 0u; j < 8u; j++) {
        let w = vec4<u32>(u32_at(lb + 4u * j));
        let hi = vec4<u32>(u32_at(hb + 4u * j));
        let v = ((w >> lshifts) & vec4<u32>(15u)) | (((hi >> hshifts) & vec4<u32>(3u)) << vec4<u32>(4u));
        out[j] = (vec4<f32>(v) - 32.0) * (d * i8_at(sb + j / 4u));
    }
    return out;
}";

/// Whether the GPU kernels read blocks of type `ty` as they are.
pub(crate) fn reads(ty: GgmlType) -> bool {
    matches!(
        ty,
        GgmlType::Q8_0
            | GgmlType::Q4_0
            | GgmlType::Q5_0
            | GgmlType::Q4K
            | GgmlType::Q5K
            | GgmlType::Q6K
    )
}

/// Fills a template for blocks of `ty` (no scales binding: the scales are in the blocks).
/// Callers check [`reads`] first; other types get no decoder and fail to compile.
pub(crate) fn specialize(template: &str, ty: GgmlType) -> String {
    let group = match ty {
        GgmlType::Q8_0 => Q8_0.to_string(),
        GgmlType::Q4_0 => Q4_0.to_string(),
        GgmlType::Q5_0 => Q5_0.to_string(),
        GgmlType::Q4K => format!("{K4_SCALE_MIN}\n\n{Q4_K}"),
        GgmlType::Q5K => format!("{K4_SCALE_MIN}\n\n{Q5_K}"),
        GgmlType::Q6K => Q6_K.to_string(),
        _ => String::new(),
    };
    template
        .replace("SCALES_DECL", "")
        .replace("BINDING_X", "1")
        .replace("BINDING_Y", "2")
        .replace("BINDING_P", "3")
        .replace("WEIGHT_AT_FN", BYTES)
        .replace("GROUP_AT_FN", &group)
}
