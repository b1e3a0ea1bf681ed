// attn_scores: scores[t, head, j] = (q[t, head] . k[j, head / group]) * scale for the keys
// position start + t may see (j <= start + t and start + t - j < window); the lowest f32 elsewhere,
// so that softmax gives them zero weight.
// q: [n, heads, head_dim], k: [ctx, kv_heads, head_dim], scores: [n, heads, ctx].
// One invocation per (t, head, j).

struct Params {
    n: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    ctx: u32,
    start: u32,
    window: u32,
    scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read_write> scores: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const LOWEST: f32 = -0x1.fffffep+127f;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (idx >= params.n * params.heads * params.ctx) {
        return;
    }
    let j = idx % params.ctx;
    let row = idx / params.ctx; // t * heads + head
    let head = row % params.heads;
    let t = row / params.heads;
    let pos = params.start + t;
    if (j > pos || pos - j >= params.window) {
        scores[idx] = LOWEST;
        return;
    }
    let kvh = head / (params.heads / params.kv_heads);
    let qb = row * params.head_dim;
    let kb = (j * params.kv_heads + kvh) * params.head_dim;
    var acc = 0.0;
    for (var d = 0u; d < params.head_dim; d++) {
        acc += q[qb + d] * k[kb + d];
    }
    scores[idx] = acc * params.scale;
}
