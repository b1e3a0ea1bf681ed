// gated_act: out[i] = act(gate[i]) * up[i]; act = SiLU (kind 0) or GELU-tanh (kind 1).
// gate, up, out: [len].

struct Params {
    len: u32,
    kind: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const SQRT_2_OVER_PI: f32 = 0.7978846;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i >= params.len) {
        return;
    }
    let g = gate[i];
    var a: f32;
    if (params.kind == 0u) {
        a = g / (1.0 + exp(-g));
    } else {
        a = 0.5 * g * (1.0 + tanh(SQRT_2_OVER_PI * (g + 0.044715 * g * g * g)));
    }
    out[i] = a * up[i];
}
