// paged_attn_scores: scores[t, head, j] = (q[t, head] . k[slot(t, j), head / group]) * scale for
// the keys token t may see (j <= pos(t) and pos(t) - j < window); the lowest f32 elsewhere, so
// that softmax gives them zero weight. Each token reads its own sequence's keys through its
// block table: page_meta = [positions (tokens) | table start (tokens) | tables], and
// slot(t, j) = page_meta[page_meta[tokens + t] + j / block_size] * block_size + j % block_size.
// q: [tokens, heads, head_dim], keys: [cache slots, kv_heads, head_dim],
// scores: [tokens, heads, ctx] (ctx: the longest sequence). One invocation per (t, head, j).

struct Params {
    tokens: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    ctx: u32,
    block_size: u32,
    window: u32,
    scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> keys: array<f32>;
@group(0) @binding(2) var<storage, read> page_meta: array<u32>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const LOWEST: f32 = -0x1.fffffep+127f;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (idx >= params.tokens * params.heads * params.ctx) {
        return;
    }
    let j = idx % params.ctx;
    let row = idx / params.ctx; // t * heads + head
    let head = row % params.heads;
    let t = row / params.heads;
    let pos = page_meta[t];
    if (j > pos || pos - j >= params.window) {
        scores[idx] = LOWEST;
        return;
    }
    let block = page_meta[page_meta[params.tokens + t] + j / params.block_size];
    let slot = block * params.block_size + j % params.block_size;
    let kvh = head / (params.heads / params.kv_heads);
    let qb = row * params.head_dim;
    let kb = (slot * params.kv_heads + kvh) * params.head_dim;
    var acc = 0.0;
    for (var d = 0u; d < params.head_dim; d++) {
        acc += q[qb + d] * keys[kb + d];
    }
    scores[idx] = acc * params.scale;
}
