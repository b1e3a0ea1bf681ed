// paged_attn: out[t, head] = sum_j softmax_j(q[t, head] . k_j * scale) v_j over the keys token t
// may see (j <= pos(t) and pos(t) - j < window), in the flash style: no score matrix in memory.
// Workgroup (t, head) walks the visible keys in tiles of 64 with an online softmax (a running
// maximum and sum; earlier partial outputs rescaled when the maximum grows). Keys and values are
// read through the token's block table: page_meta = [positions (tokens) | table start (tokens)
// | tables], slot(t, j) = page_meta[page_meta[tokens + t] + j / block_size] * block_size
// + j % block_size.
// q: [tokens, heads, head_dim] (head_dim <= 512), keys / values: [cache slots, kv_heads,
// head_dim], out: [tokens, heads, head_dim]. In a tile, invocation j scores key j; the values
// are then read by head dimension (consecutive invocations on consecutive values).

struct Params {
    tokens: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    block_size: u32,
    window: u32,
    scale: f32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> keys: array<f32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read> page_meta: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

const TILE: u32 = 64u;
const MAX_DIMS: u32 = 8u; // head dimensions per invocation: head_dim <= 64 * 8
const LOWEST: f32 = -0x1.fffffep+127f;

var<workgroup> q_s: array<f32, 512>;
// Per tile: each key's cache row start, its weight, and the reduction scratch.
var<workgroup> row_s: array<u32, 64>;
var<workgroup> p_s: array<f32, 64>;
var<workgroup> red: array<f32, 64>;
var<workgroup> range_s: vec2<u32>;

fn reduce_max(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var half = TILE / 2u; half > 0u; half /= 2u) {
        if (lid < half) {
            red[lid] = max(red[lid], red[lid + half]);
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var half = TILE / 2u; half > 0u; half /= 2u) {
        if (lid < half) {
            red[lid] = red[lid] + red[lid + half];
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = wid.x + wid.y * nwg.x; // t * heads + head
    let live = row < params.tokens * params.heads;
    let hd = params.head_dim;
    let head = row % params.heads;
    let t = row / params.heads;
    let kvh = head / (params.heads / params.kv_heads);
    if (lid == 0u) {
        // [first, end) of the visible keys; empty past the last row.
        var first = 0u;
        var end = 0u;
        if (live) {
            let pos = page_meta[t];
            end = pos + 1u;
            if (end > params.window) {
                first = end - params.window;
            }
        }
        range_s = vec2<u32>(first, end);
    }
    if (live) {
        for (var d = lid; d < hd; d += TILE) {
            q_s[d] = q[row * hd + d];
        }
    }
    let range = workgroupUniformLoad(&range_s);
    var m = LOWEST;
    var l = 0.0;
    var acc: array<f32, 8>;
    for (var start = range.x; start < range.y; start += TILE) {
        let j = start + lid;
        var s = LOWEST;
        if (j < range.y) {
            let block = page_meta[page_meta[params.tokens + t] + j / params.block_size];
            let kb = ((block * params.block_size + j % params.block_size) * params.kv_heads + kvh) * hd;
            row_s[lid] = kb;
            var dot_qk = 0.0;
            for (var d = 0u; d < hd; d++) {
                dot_qk += q_s[d] * keys[kb + d];
            }
            s = dot_qk * params.scale;
        }
        let m_new = max(m, reduce_max(lid, s));
        var p = 0.0;
        if (j < range.y) {
            p = exp(s - m_new);
        }
        p_s[lid] = p;
        let tile_sum = reduce_sum(lid, p);
        let correction = exp(m - m_new);
        l = l * correction + tile_sum;
        m = m_new;
        let n = min(TILE, range.y - start);
        for (var i = 0u; i < MAX_DIMS; i++) {
            let d = lid + i * TILE;
            if (d < hd) {
                var a = acc[i] * correction;
                for (var k = 0u; k < n; k++) {
                    a += p_s[k] * values[row_s[k] + d];
                }
                acc[i] = a;
            }
        }
        workgroupBarrier();
    }
    if (live) {
        for (var i = 0u; i < MAX_DIMS; i++) {
            let d = lid + i * TILE;
            if (d < hd) {
                out[row * hd + d] = acc[i] / l;
            }
        }
    }
}
