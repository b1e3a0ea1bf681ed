// linear_tiled: y[i, y_offset + r] = sum_k W[r, k] * x[i, k] for one part (rows row_start..) of
// a weight matrix in any format whose width is a multiple of 32: the matrix-matrix form for
// prefill. Workgroup g computes a [64 weight rows, 32 input rows] tile of y (row block
// g % row_blocks, input tile g / row_blocks). For each group of 32 columns, 64 invocations each
// decode one row's 32 weights into workgroup memory (read once for all 32 inputs of the tile),
// all 256 load the tile's 32 x 32 inputs, and each invocation accumulates 4 rows (16 apart, so
// that the 16 invocations reading one row of the tile hit 16 banks) x 2 inputs.
// x: [m, cols], y: [m, y_stride].

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

const TILE_R: u32 = 64u;
const TILE_M: u32 = 32u;

// [TILE_R, 32] decoded weights and [TILE_M, 32] inputs of the current group of columns; rows
// padded to 33 so that reads down a column hit different banks.
var<workgroup> w_tile: array<f32, 2112>;
var<workgroup> x_tile: array<f32, 1056>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.x + wid.y * nwg.x;
    let r0 = (group % params.row_blocks) * TILE_R;
    let i0 = (group / params.row_blocks) * TILE_M;
    let cols = params.cols;
    let groups = cols / 32u;
    // This invocation's outputs: rows r0 + lr + 16 c (c < 4), inputs i0 + 2 li .. + 2.
    let lr = lid % 16u;
    let li = lid / 16u;
    var acc: array<vec4<f32>, 2>;
    for (var g = 0u; g < groups; g++) {
        if (lid < TILE_R) {
            let row = r0 + lid;
            if (row < params.rows) {
                let w = group_at(row, g);
                for (var j = 0u; j < 8u; j++) {
                    let at = lid * 33u + 4u * j;
                    w_tile[at] = w[j].x;
                    w_tile[at + 1u] = w[j].y;
                    w_tile[at + 2u] = w[j].z;
                    w_tile[at + 3u] = w[j].w;
                }
            } else {
                for (var k = 0u; k < 32u; k++) {
                    w_tile[lid * 33u + k] = 0.0;
                }
            }
        }
        // 1024 inputs: 4 per invocation, consecutive invocations on consecutive columns.
        for (var e = lid; e < TILE_M * 32u; e += 256u) {
            let t = e / 32u;
            let k = e % 32u;
            let i = i0 + t;
            var v = 0.0;
            if (i < params.m) {
                v = x[i * cols + g * 32u + k];
            }
            x_tile[t * 33u + k] = v;
        }
        workgroupBarrier();
        for (var k = 0u; k < 32u; k++) {
            let w = vec4<f32>(
                w_tile[lr * 33u + k],
                w_tile[(lr + 16u) * 33u + k],
                w_tile[(lr + 32u) * 33u + k],
                w_tile[(lr + 48u) * 33u + k],
            );
            acc[0] += w * x_tile[(2u * li) * 33u + k];
            acc[1] += w * x_tile[(2u * li + 1u) * 33u + k];
        }
        workgroupBarrier();
    }
    for (var t = 0u; t < 2u; t++) {
        let i = i0 + 2u * li + t;
        if (i < params.m) {
            for (var c = 0u; c < 4u; c++) {
                let row = r0 + lr + 16u * c;
                if (row < params.rows) {
                    y[i * params.y_stride + params.y_offset + row] = acc[t][c];
                }
            }
        }
    }
}
