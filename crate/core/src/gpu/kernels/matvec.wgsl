// matvec: y = W x with f32 weights.
// weight: [rows, cols] row-major, x: [cols], y: [rows].
// A workgroup of 256 invocations handles 4 rows, 64 invocations per row; each invocation sums a
// strided slice of its row (adjacent invocations read adjacent columns), then one barrier and
// a serial sum of the 64 partials (barrier-light: software adapters pay dearly for barriers).

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const LANES: u32 = 64u;
const ROWS_PER_GROUP: u32 = 4u;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.x + wid.y * nwg.x;
    let local_row = lid / LANES;
    let lane = lid % LANES;
    let row = group * ROWS_PER_GROUP + local_row;
    var acc = 0.0;
    if (row < params.rows) {
        let base = row * params.cols;
        for (var k = lane; k < params.cols; k += LANES) {
            acc += weight[base + k] * x[k];
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    if (lane == 0u && row < params.rows) {
        var sum = 0.0;
        for (var i = 0u; i < LANES; i++) {
            sum += partial[local_row * LANES + i];
        }
        y[row] = sum;
    }
}
