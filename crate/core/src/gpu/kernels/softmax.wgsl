// softmax: y[r] = exp(x[r] - max x[r]) / sum exp(x[r] - max x[r]), row by row.
// x: [rows, n], y: [rows, n]. One workgroup of 64 invocations per row; two barriers.

struct Params {
    rows: u32,
    n: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const LANES: u32 = 64u;
const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

var<workgroup> partial_max: array<f32, 64>;
var<workgroup> partial_sum: array<f32, 64>;

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
    var m = LOWEST;
    for (var i = lid; i < params.n; i += LANES) {
        m = max(m, x[base + i]);
    }
    partial_max[lid] = m;
    workgroupBarrier();
    var row_max = LOWEST;
    for (var i = 0u; i < LANES; i++) {
        row_max = max(row_max, partial_max[i]);
    }
    var s = 0.0;
    for (var i = lid; i < params.n; i += LANES) {
        s += exp(x[base + i] - row_max);
    }
    partial_sum[lid] = s;
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < LANES; i++) {
        total += partial_sum[i];
    }
    let inv = 1.0 / total;
    for (var i = lid; i < params.n; i += LANES) {
        y[base + i] = exp(x[base + i] - row_max) * inv;
    }
}
