//! The per-format weight decoders spliced into the linear and embed_rows templates: one value by
//! flat index (`weight_at`, over the template's `word`) and, for linear, a group of 32 values
//! read as vec4<u32> words (`group_at`).

use crate::quant::WeightFormat;

const F32: &str = "fn weight_at(i: u32) -> f32 {
    return bitcast<f32>(word(i));
}";

const F16: &str = "fn weight_at(i: u32) -> f32 {
    let pair = unpack2x16float(word(i / 2u));
    return select(pair.x, pair.y, (i & 1u) == 1u);
}";

const SCALE: &str = "fn scale_at(group: u32) -> f32 {
    let pair = unpack2x16float(scales[group / 2u]);
    return select(pair.x, pair.y, (group & 1u) == 1u);
}";

const Q8: &str = "fn weight_at(i: u32) -> f32 {
    let q = extractBits(bitcast<i32>(word(i / 4u)), 8u * (i % 4u), 8u);
    return f32(q) * scale_at(i / 32u);
}";

const Q4: &str = "fn weight_at(i: u32) -> f32 {
    let q = (word(i / 8u) >> (4u * (i % 8u))) & 0xfu;
    return (f32(q) - 8.0) * scale_at(i / 32u);
}";

// Group gi of a row (flat group g) holds the flat values 32 g .. 32 g + 32: 8 vec4<u32> of f32.
const F32_GROUP: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let g = row * (params.cols / 32u) + gi;
    for (var j = 0u; j < 8u; j++) {
        out[j] = bitcast<vec4<f32>>(weight[8u * g + j]);
    }
    return out;
}";

// 4 vec4<u32> of f16 pairs.
const F16_GROUP: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let g = row * (params.cols / 32u) + gi;
    for (var j = 0u; j < 4u; j++) {
        let w = weight[4u * g + j];
        out[2u * j] = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
        out[2u * j + 1u] = vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
    }
    return out;
}";

// 2 vec4<u32> of four signed bytes each (value 4 j + b in byte b of word j), one scale.
const Q8_GROUP: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let g = row * (params.cols / 32u) + gi;
    let s = scale_at(g);
    let up = vec4<u32>(24u, 16u, 8u, 0u);
    for (var j = 0u; j < 2u; j++) {
        let w = bitcast<vec4<i32>>(weight[2u * g + j]);
        out[4u * j] = vec4<f32>((vec4<i32>(w.x) << up) >> vec4<u32>(24u)) * s;
        out[4u * j + 1u] = vec4<f32>((vec4<i32>(w.y) << up) >> vec4<u32>(24u)) * s;
        out[4u * j + 2u] = vec4<f32>((vec4<i32>(w.z) << up) >> vec4<u32>(24u)) * s;
        out[4u * j + 3u] = vec4<f32>((vec4<i32>(w.w) << up) >> vec4<u32>(24u)) * s;
    }
    return out;
}";

// 1 vec4<u32> of eight nibbles each (value 8 j + n in nibble n of word j), offset 8, one scale.
const Q4_GROUP: &str = "fn group_at(row: u32, gi: u32) -> array<vec4<f32>, 8> {
    var out: array<vec4<f32>, 8>;
    let g = row * (params.cols / 32u) + gi;
    let s = scale_at(g);
    let w = weight[g];
    let lo = vec4<u32>(0u, 4u, 8u, 12u);
    let hi = vec4<u32>(16u, 20u, 24u, 28u);
    for (var j = 0u; j < 4u; j++) {
        let v = vec4<u32>(w[j]);
        out[2u * j] = (vec4<f32>((v >> lo) & vec4<u32>(15u)) - 8.0) * s;
        out[2u * j + 1u] = (vec4<f32>((v >> hi) & vec4<u32>(15u)) - 8.0) * s;
    }
    return out;
}";

/// Whether the format binds a scales buffer.
pub(crate) fn has_scales(format: WeightFormat) -> bool {
    matches!(
        format,
        WeightFormat::Q8 | WeightFormat::Q4 | WeightFormat::Gguf
    )
}

/// Fills a template: the scales binding (q8/q4 only), the binding numbers after it, and the
/// decoders.
pub(crate) fn specialize(template: &str, format: WeightFormat) -> String {
    let scales = has_scales(format);
    let first = if scales { 2 } else { 1 };
    let (decoder, group) = match format {
        WeightFormat::F32 => (F32.to_string(), F32_GROUP),
        WeightFormat::F16 => (F16.to_string(), F16_GROUP),
        // A Gguf matrix without kept blocks is q8 (`effective_format`); kept blocks have kernels of
        // their own.
        WeightFormat::Q8 | WeightFormat::Gguf => (format!("{SCALE}\n\n{Q8}"), Q8_GROUP),
        WeightFormat::Q4 => (format!("{SCALE}\n\n{Q4}"), Q4_GROUP),
    };
    template
        .replace(
            "SCALES_DECL",
            if scales {
                "@group(0) @binding(1) var<storage, read> scales: array<u32>;"
            } else {
                ""
            },
        )
        .replace("BINDING_X", &first.to_string())
        .replace("BINDING_Y", &(first + 1).to_string())
        .replace("BINDING_P", &(first + 2).to_string())
        .replace("WEIGHT_AT_FN", &decoder)
        .replace("GROUP_AT_FN", group)
}
