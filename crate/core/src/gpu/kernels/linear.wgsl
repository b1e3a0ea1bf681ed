// linear: y[i, y_offset + r] = sum_k W[r, k] * x[i, k] for one part (rows row_start..) of a
// weight matrix stored in any format, weight-stationary: each workgroup reads its weights once
// for a tile of up to TILE_M input rows.
// x: [m, cols], y: [m, y_stride]. Workgroup g covers the ROWS weight rows of row block
// g % row_blocks (LANES invocations per row) and the input rows of tile g / row_blocks.
// When cols is a multiple of 32, each invocation takes whole groups of 32 values (one scale
// group): it loads them as vec4<u32> words (consecutive invocations on consecutive groups of a
// row: contiguous for q4, 32 / 64 / 128 bytes apart for q8 / f16 / f32, 34 for GGUF Q8_0),
// decodes all 32 and applies them to every input row of the tile while they are in registers. Other widths (f32 and f16 only) go value by value. A tree
// reduction in workgroup memory ends it (log2(LANES) barriers).

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

@group(0) @binding(0) var<storage, read> weight: array<vec4<u32>>;
SCALES_DECL
@group(0) @binding(BINDING_X) var<storage, read> x: array<f32>;
@group(0) @binding(BINDING_Y) var<storage, read_write> y: array<f32>;
@group(0) @binding(BINDING_P) var<uniform> params: Params;

fn word(i: u32) -> u32 {
    return weight[i / 4u][i % 4u];
}

WEIGHT_AT_FN

GROUP_AT_FN

const LANES: u32 = 32u;
const ROWS: u32 = 8u;
const TILE_M: u32 = 8u;

// [TILE_M, ROWS * LANES] partial sums.
var<workgroup> partial: array<f32, 2048>;

fn x4(at: u32) -> vec4<f32> {
    return vec4<f32>(x[at], x[at + 1u], x[at + 2u], x[at + 3u]);
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.x + wid.y * nwg.x;
    let i0 = (group / params.row_blocks) * TILE_M;
    let local_row = lid / LANES;
    let lane = lid % LANES;
    let row = (group % params.row_blocks) * ROWS + local_row;
    let cols = params.cols;
    let tile_m = min(TILE_M, params.m - min(i0, params.m));
    var acc: array<f32, 8>;
    if (row < params.rows) {
        if (cols % 32u == 0u) {
            let groups = cols / 32u;
            for (var g = lane; g < groups; g += LANES) {
                // w: the 32 weights row[32 g .. 32 g + 32] as 8 vec4s.
                let w = group_at(row, g);
                for (var t = 0u; t < TILE_M; t++) {
                    if (t < tile_m) {
                        let xb = (i0 + t) * cols + g * 32u;
                        var s = 0.0;
                        for (var j = 0u; j < 8u; j++) {
                            s += dot(w[j], x4(xb + 4u * j));
                        }
                        acc[t] += s;
                    }
                }
            }
        } else {
            let wb = row * cols;
            for (var k = lane; k < cols; k += LANES) {
                let w = weight_at(wb + k);
                for (var t = 0u; t < TILE_M; t++) {
                    if (t < tile_m) {
                        acc[t] += w * x[(i0 + t) * cols + k];
                    }
                }
            }
        }
    }
    for (var t = 0u; t < TILE_M; t++) {
        partial[t * 256u + lid] = acc[t];
    }
    workgroupBarrier();
    for (var half = LANES / 2u; half > 0u; half /= 2u) {
        if (lane < half) {
            for (var t = 0u; t < TILE_M; t++) {
                if (t < tile_m) {
                    partial[t * 256u + lid] += partial[t * 256u + lid + half];
                }
            }
        }
        workgroupBarrier();
    }
    if (row < params.rows && lane < tile_m) {
        y[(i0 + lane) * params.y_stride + params.y_offset + row] = partial[lane * 256u + lid - lane];
    }
}
