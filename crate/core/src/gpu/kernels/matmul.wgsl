// matmul: Y = X W^T (a Linear layer over a batch of rows).
// x: [m, k], weight: [n, k] (HF Linear layout), y: [m, n].
// 16x16 output tiles; each step loads a 16x16 tile of X and of W into workgroup memory.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const TILE: u32 = 16u;

var<workgroup> x_tile: array<f32, 256>; // [row of the m tile][k]
var<workgroup> w_tile: array<f32, 256>; // [row of the n tile][k]

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let group = wid.x + wid.y * nwg.x;
    let tiles_n = (params.n + TILE - 1u) / TILE;
    let m0 = (group / tiles_n) * TILE;
    let n0 = (group % tiles_n) * TILE;
    let row = m0 + lid.y;
    let col = n0 + lid.x;
    let w_row = n0 + lid.y;
    var acc = 0.0;
    for (var k0 = 0u; k0 < params.k; k0 += TILE) {
        let kk = k0 + lid.x;
        var xv = 0.0;
        if (row < params.m && kk < params.k) {
            xv = x[row * params.k + kk];
        }
        var wv = 0.0;
        if (w_row < params.n && kk < params.k) {
            wv = weight[w_row * params.k + kk];
        }
        x_tile[lid.y * TILE + lid.x] = xv;
        w_tile[lid.y * TILE + lid.x] = wv;
        workgroupBarrier();
        for (var i = 0u; i < TILE; i++) {
            acc += x_tile[lid.y * TILE + i] * w_tile[lid.x * TILE + i];
        }
        workgroupBarrier();
    }
    if (row < params.m && col < params.n) {
        y[row * params.n + col] = acc;
    }
}
