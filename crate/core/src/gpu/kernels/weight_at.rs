//! The per-format weight decoders spliced into the linear and embed_rows templates.

use crate::quant::WeightFormat;

const F32: &str = "fn weight_at(i: u32) -> f32 {
    return bitcast<f32>(weight[i]);
}";

const F16: &str = "fn weight_at(i: u32) -> f32 {
    let pair = unpack2x16float(weight[i / 2u]);
    return select(pair.x, pair.y, (i & 1u) == 1u);
}";

const SCALE: &str = "fn scale_at(group: u32) -> f32 {
    let pair = unpack2x16float(scales[group / 2u]);
    return select(pair.x, pair.y, (group & 1u) == 1u);
}";

const Q8: &str = "fn weight_at(i: u32) -> f32 {
    let q = extractBits(bitcast<i32>(weight[i / 4u]), 8u * (i % 4u), 8u);
    return f32(q) * scale_at(i / 32u);
}";

const Q4: &str = "fn weight_at(i: u32) -> f32 {
    let q = (weight[i / 8u] >> (4u * (i % 8u))) & 0xfu;
    return (f32(q) - 8.0) * scale_at(i / 32u);
}";

/// Whether the format binds a scales buffer.
pub(crate) fn has_scales(format: WeightFormat) -> bool {
    matches!(
        format,
        WeightFormat::Q8 | WeightFormat::Q4 | WeightFormat::Gguf
    )
}

/// Fills a template: the scales binding (q8/q4 only), the binding numbers after it, and the
/// decoder.
pub(crate) fn specialize(template: &str, format: WeightFormat) -> String {
    let scales = has_scales(format);
    let first = if scales { 2 } else { 1 };
    let decoder = match format {
        WeightFormat::F32 => F32.to_string(),
        WeightFormat::F16 => F16.to_string(),
        // GPU weights never hold GGUF blocks (`effective_format` makes them q8).
        WeightFormat::Q8 | WeightFormat::Gguf => format!("{SCALE}\n\n{Q8}"),
        WeightFormat::Q4 => format!("{SCALE}\n\n{Q4}"),
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
}
