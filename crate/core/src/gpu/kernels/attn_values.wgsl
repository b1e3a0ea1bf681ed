// attn_values: out[t, head, d] = sum_j probs[t, head, j] * v[j, head / group, d].
// probs: [n, heads, ctx] (masked entries are 0), v: [ctx, kv_heads, head_dim],
// out: [n, heads, head_dim]. One invocation per output value.

struct Params {
    n: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    ctx: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (idx >= params.n * params.heads * params.head_dim) {
        return;
    }
    let d = idx % params.head_dim;
    let row = idx / params.head_dim; // t * heads + head
    let head = row % params.heads;
    let kvh = head / (params.heads / params.kv_heads);
    let pb = row * params.ctx;
    var acc = 0.0;
    for (var j = 0u; j < params.ctx; j++) {
        acc += probs[pb + j] * v[(j * params.kv_heads + kvh) * params.head_dim + d];
    }
    out[idx] = acc;
}
