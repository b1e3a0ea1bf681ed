// embed_rows: x[t, :] = W[tokens[t] - row_start, :] * scale for the tokens whose row lies in this
// part (rows row_start..row_start + rows) of an embedding stored in any format.
// tokens: [n] u32, x: [n, cols]. One invocation per output value.

struct Params {
    n: u32,
    cols: u32,
    row_start: u32,
    rows: u32,
    scale: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> weight: array<vec4<u32>>;
SCALES_DECL
@group(0) @binding(BINDING_X) var<storage, read> tokens: array<u32>;
@group(0) @binding(BINDING_Y) var<storage, read_write> x: array<f32>;
@group(0) @binding(BINDING_P) var<uniform> params: Params;

fn word(i: u32) -> u32 {
    return weight[i / 4u][i % 4u];
}

WEIGHT_AT_FN

GROUP_AT_FN

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i >= params.n * params.cols) {
        return;
    }
    let token = tokens[i / params.cols];
    if (token < params.row_start || token >= params.row_start + params.rows) {
        return;
    }
    x[i] = weight_at((token - params.row_start) * params.cols + i % params.cols) * params.scale;
}
