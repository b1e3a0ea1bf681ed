// kv_write: cache[slots[t], i] = src[t, i], the new keys (or values) of a batch scattered to
// their paged-cache slots. src: [tokens, row], slots: [tokens], cache: [cache slots, row].
// One invocation per (t, i).

struct Params {
    tokens: u32,
    row: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> slots: array<u32>;
@group(0) @binding(2) var<storage, read_write> cache: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (idx >= params.tokens * params.row) {
        return;
    }
    let t = idx / params.row;
    let i = idx % params.row;
    cache[slots[t] * params.row + i] = src[idx];
}
