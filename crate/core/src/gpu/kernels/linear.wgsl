// linear: y[i, y_offset + r] = sum_k W[r, k] * x[i, k] for one part (rows row_start..) of a
// weight matrix stored in any format; WEIGHT_AT decodes one weight by flat index.
// x: [m, cols], y: [m, y_stride]. Workgroup g handles 4 weight rows (64 invocations each) of
// input row g / row_blocks; one barrier, then a serial sum of the partials.

struct Params {
    rows: u32,
    cols: u32,
    m: u32,
    y_stride: u32,
    y_offset: u32,
    row_blocks: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> weight: array<u32>;
SCALES_DECL
@group(0) @binding(BINDING_X) var<storage, read> x: array<f32>;
@group(0) @binding(BINDING_Y) var<storage, read_write> y: array<f32>;
@group(0) @binding(BINDING_P) var<uniform> params: Params;

WEIGHT_AT_FN

const LANES: u32 = 64u;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.x + wid.y * nwg.x;
    let block = group % params.row_blocks;
    let i = group / params.row_blocks;
    let local_row = lid / LANES;
    let lane = lid % LANES;
    let row = block * 4u + local_row;
    let live = row < params.rows && i < params.m;
    var acc = 0.0;
    if (live) {
        let wb = row * params.cols;
        let xb = i * params.cols;
        for (var k = lane; k < params.cols; k += LANES) {
            acc += weight_at(wb + k) * x[xb + k];
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    if (lane == 0u && live) {
        var sum = 0.0;
        for (var l = 0u; l < LANES; l++) {
            sum += partial[local_row * LANES + l];
        }
        y[i * params.y_stride + params.y_offset + row] = sum;
    }
}
