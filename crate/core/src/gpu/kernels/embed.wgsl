// embed: x[t, :] = embed[tokens[t], :] * scale (Gemma scales by sqrt(hidden); others by 1).
// embed: [vocab, hidden], tokens: [n] u32, x: [n, hidden]. One invocation per output value.

struct Params {
    n: u32,
    hidden: u32,
    scale: f32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> embed: array<f32>;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i >= params.n * params.hidden) {
        return;
    }
    let t = i / params.hidden;
    let c = i % params.hidden;
    x[i] = embed[tokens[t] * params.hidden + c] * params.scale;
}
