// q4_matvec: y = W x with W in int4 group-32 form (see quant/q4.rs for the layout).
// qweight: [rows, cols / 8] u32, nibble i of word w is column 8w + i, value (q - 8) * scale;
// scales: f16 pairs in u32, group g of row r at flat index r * cols / 32 + g;
// x: [cols] f32, y: [rows] f32. cols is a multiple of 32.
// Same shape as matvec: 4 rows per workgroup, 64 invocations per row, one barrier.

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> qweight: array<u32>;
@group(0) @binding(1) var<storage, read> scales: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const LANES: u32 = 64u;
const ROWS_PER_GROUP: u32 = 4u;

var<workgroup> partial: array<f32, 256>;

fn group_scale(index: u32) -> f32 {
    let pair = unpack2x16float(scales[index / 2u]);
    return select(pair.x, pair.y, (index & 1u) == 1u);
}

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
    let words_per_row = params.cols / 8u;
    let groups_per_row = params.cols / 32u;
    var acc = 0.0;
    if (row < params.rows) {
        for (var w = lane; w < words_per_row; w += LANES) {
            let q = qweight[row * words_per_row + w];
            let xb = w * 8u;
            var dot = 0.0;
            for (var i = 0u; i < 8u; i++) {
                dot += (f32((q >> (4u * i)) & 0xfu) - 8.0) * x[xb + i];
            }
            acc += dot * group_scale(row * groups_per_row + w / 4u);
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
