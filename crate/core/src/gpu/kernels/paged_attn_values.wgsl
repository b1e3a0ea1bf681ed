// paged_attn_values: out[t, head, d] = sum over visible j of probs[t, head, j] * v[slot(t, j),
// head / group, d], values read through each token's block table (page_meta as in
// paged_attn_scores). probs: [tokens, heads, ctx], values: [cache slots, kv_heads, head_dim],
// out: [tokens, heads, head_dim]. One invocation per output value.

struct Params {
    tokens: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    ctx: u32,
    block_size: u32,
    window: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read> page_meta: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (idx >= params.tokens * params.heads * params.head_dim) {
        return;
    }
    let d = idx % params.head_dim;
    let row = idx / params.head_dim; // t * heads + head
    let head = row % params.heads;
    let t = row / params.heads;
    let pos = page_meta[t];
    let kvh = head / (params.heads / params.kv_heads);
    let table = page_meta[params.tokens + t];
    var first = 0u;
    if (pos + 1u > params.window) {
        first = pos + 1u - params.window;
    }
    let pb = row * params.ctx;
    var acc = 0.0;
    for (var j = first; j <= pos; j++) {
        let slot = page_meta[table + j / params.block_size] * params.block_size + j % params.block_size;
        acc += probs[pb + j] * values[(slot * params.kv_heads + kvh) * params.head_dim + d];
    }
    out[idx] = acc;
}
