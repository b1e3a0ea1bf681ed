// rms_norm: y = x / sqrt(mean(x^2) + eps) * (weight + weight_offset), row by row.
// x: [rows, n], weight: [n], y: [rows, n]. weight_offset is 0 (Llama, Qwen) or 1 (Gemma).
// One workgroup of 64 invocations per row; one barrier.

struct Params {
    rows: u32,
    n: u32,
    eps: f32,
    weight_offset: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const LANES: u32 = 64u;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= params.rows) {
        return;
    }
    let base = row * params.n;
    var acc = 0.0;
    for (var i = lid; i < params.n; i += LANES) {
        let v = x[base + i];
        acc += v * v;
    }
    partial[lid] = acc;
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < LANES; i++) {
        total += partial[i];
    }
    let inv = 1.0 / sqrt(total / f32(params.n) + params.eps);
    for (var i = lid; i < params.n; i += LANES) {
        y[base + i] = x[base + i] * inv * (weight[i] + params.weight_offset);
    }
}
