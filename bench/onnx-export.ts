// bench/onnx-export: writes a gradforge Sequential model (Dense, Conv2D, MaxPooling2D, Flatten;
// linear/relu/sigmoid/tanh/softmax activations) as an ONNX model, weights included, so that
// bench/infer.ts can time onnxruntime-node on exactly the function gradforge computes.
//
// It is: a small hand-written protobuf encoder for the few ONNX messages a feed-forward graph
// needs (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto; opset
// 13, IR version 7), and the layer-by-layer translation. No dependency on the onnx packages.
// It is not: a general converter (other layers throw), nor part of the library.
//
// Semantics kept: the ONNX model takes the same NHWC input as gradforge ([N, H, W, C], N
// symbolic) and returns the same output. The graph transposes once to NCHW before the first
// convolution or pooling (what ONNX's Conv/MaxPool want) and, where the model flattens, keeps
// Keras's order: gradforge's Flatten of NHWC runs over (h, w, c), ONNX's Flatten of NCHW over
// (c, h, w). By default the exporter permutes the rows of the following Dense kernel to match
// (no extra op in the graph, the fastest form for the runtime); flatten: 'transpose' instead
// transposes back to NHWC before flattening (the two are checked against each other in
// test/onnx-export.test.ts). Layouts: Conv2D kernel (KH, KW, C, O) -> ONNX (O, C, KH, KW);
// Dense kernel (in, out) is Gemm's B as it is; 'same' padding becomes explicit pads with
// TensorFlow's split (the extra pixel after), as gradforge pads.
import type * as ort from 'onnxruntime-node';
import * as gf from '../lib';
import { axisGeometry } from '../lib/ops/conv';

// ----- protobuf wire format -----

/** One protobuf message being written: fields appended in order, bytes joined at the end. */
class PbMessage {
  private chunks: Uint8Array[] = [];

  private push(bytes: number[] | Uint8Array): void {
    this.chunks.push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }

  /** int32/int64/enum/bool field (wire type 0). Negative values are 10-byte two's complement, as int64 wants. */
  int(field: number, v: number): this {
    this.push([...varint(field * 8), ...varint(v)]);
    return this;
  }

  /** float field (wire type 5, little-endian IEEE single). */
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(varint(field * 8 + 5));
    this.push(b);
    return this;
  }

  /** bytes / string / embedded message field (wire type 2, length-delimited). */
  bytes(field: number, b: Uint8Array): this {
    this.push([...varint(field * 8 + 2), ...varint(b.length)]);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: PbMessage): this {
    return this.bytes(field, m.finish());
  }

  /** A repeated int64 field, packed (proto3's default encoding for repeated scalars). */
  packedInts(field: number, vs: readonly number[]): this {
    return this.bytes(field, Uint8Array.from(vs.flatMap((v) => varint(v))));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function varint(v: number): number[] {
  if (!Number.isSafeInteger(v)) throw new RangeError(`onnx export: ${v} is not an integer protobuf can carry here`);
  let u = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const low = Number(u & 0x7fn);
    u >>= 7n;
    out.push(u > 0n ? low | 0x80 : low);
  } while (u > 0n);
  return out;
}

// ----- the ONNX messages (field numbers from onnx/onnx.proto) -----

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = { name: string; int: number } | { name: string; ints: readonly number[] } | { name: string; float: number };

function attribute(a: Attr): PbMessage {
  const m = new PbMessage().string(1, a.name);
  if ('int' in a) return m.int(20, ATTR_INT).int(3, a.int);
  if ('float' in a) return m.int(20, ATTR_FLOAT).float(2, a.float);
  return m.int(20, ATTR_INTS).packedInts(8, a.ints);
}

interface OnnxNode { op: string; inputs: string[]; outputs: string[]; attrs: Attr[] }

function nodeProto(n: OnnxNode, name: string): PbMessage {
  const m = new PbMessage();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, name).string(4, n.op);
  for (const a of n.attrs) m.message(5, attribute(a));
  return m;
}

/** A float32 initializer, its values as raw little-endian bytes (the compact form ORT reads directly). */
function tensorProto(name: string, dims: readonly number[], data: Float32Array): PbMessage {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return new PbMessage().packedInts(1, dims).int(2, FLOAT).string(8, name).bytes(9, raw);
}

/** A float tensor's name, type and shape; a string dimension is symbolic (the batch). */
function valueInfo(name: string, dims: readonly (number | string)[]): PbMessage {
  const shape = new PbMessage();
  for (const d of dims) shape.message(1, typeof d === 'string' ? new PbMessage().string(2, d) : new PbMessage().int(1, d));
  const tensorType = new PbMessage().int(1, FLOAT).message(2, shape);
  return new PbMessage().string(1, name).message(2, new PbMessage().message(1, tensorType));
}

// ----- the translation -----

export interface OnnxExportOptions {
  /**
   * How Keras's HWC flatten order is kept after NCHW convolutions: 'permute' (default) feeds the
   * NCHW flatten to the next Dense with that kernel's rows permuted to match; 'transpose'
   * transposes back to NHWC and flattens that. Both compute the same function.
   */
  flatten?: 'permute' | 'transpose';
  /** Name of the graph's input (default 'input') and output (default 'output'). */
  inputName?: string;
  outputName?: string;
}

/** The onnxruntime session every bench compares against: `threads` intra-op threads, one
 * inter-op thread, sequential execution, all graph optimizations. */
export function ortSessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

export const OPSET = 13;
const IR_VERSION = 7; // the IR version that goes with opset 13
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** The ONNX form of a gradforge model that has been built (called once, or given an inputShape). */
export function exportOnnx(model: gf.Sequential, opts: OnnxExportOptions = {}): Uint8Array {
  const built = model.inputShape;
  if (built === null) throw new Error(`onnx export: model ${model.name} is not built (call predict once first)`);
  if (built.slice(1).some((d) => d === null)) throw new Error(`onnx export: every non-batch input dimension must be known, got ${JSON.stringify(built)}`);
  const flattenMode = opts.flatten ?? 'permute';
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'output';

  const nodes: OnnxNode[] = [];
  const inits: PbMessage[] = [];
  let counter = 0;
  const fresh = (what: string): string => `${what}_${counter++}`;
  const init = (what: string, dims: number[], data: Float32Array): string => {
    const name = fresh(what);
    inits.push(tensorProto(name, dims, data));
    return name;
  };
  // what flows between layers: its ONNX name, gradforge's (NHWC) shape without the batch, and
  // whether the ONNX tensor is held in NCHW order at this point
  let cur = inputName;
  let shape = built.slice(1) as number[];
  let nchw = false;
  // set by a Flatten of NCHW data in 'permute' mode: the (H, W, C) the next Dense must undo
  let flattenedFrom: [number, number, number] | null = null;

  const emit = (op: string, inputs: string[], attrs: Attr[] = []): void => {
    const out = fresh(op.toLowerCase());
    nodes.push({ op, inputs, outputs: [out], attrs });
    cur = out;
  };
  const setLayout = (wantNchw: boolean): void => {
    if (nchw === wantNchw || shape.length !== 3) return;
    emit('Transpose', [cur], [{ name: 'perm', ints: wantNchw ? TO_NCHW : TO_NHWC }]);
    nchw = wantNchw;
  };
  const activation = (name: string, layer: string): void => {
    switch (name) {
      case 'linear': return;
      case 'relu': emit('Relu', [cur]); return;
      case 'sigmoid': emit('Sigmoid', [cur]); return;
      case 'tanh': emit('Tanh', [cur]); return;
      // over the channels, which sit on axis 1 in NCHW
      case 'softmax': emit('Softmax', [cur], [{ name: 'axis', int: nchw ? 1 : -1 }]); return;
      default: throw new Error(`onnx export: ${layer}: activation '${name}' is not supported`);
    }
  };
  // ONNX pads are [top, left, bottom, right]; gradforge's 'same' puts the odd pixel after, as TensorFlow
  const pads = (hw: [number, number], k: [number, number], s: [number, number], d: [number, number], padding: 'valid' | 'same'): number[] => {
    const before: number[] = [];
    const after: number[] = [];
    for (const a of [0, 1] as const) {
      const g = axisGeometry(hw[a], k[a], s[a], d[a], padding);
      const span = (k[a] - 1) * d[a] + 1;
      const total = padding === 'same' ? Math.max((g.out - 1) * s[a] + span - hw[a], 0) : 0;
      before.push(g.padBefore);
      after.push(total - g.padBefore);
    }
    return [...before, ...after];
  };

  model.layers.forEach((layer, li) => {
    const next = model.layers[li + 1];
    if (layer instanceof gf.layers.Conv2D) {
      if (shape.length !== 3) throw new Error(`onnx export: ${layer.name}: expected an image input, got shape ${JSON.stringify(shape)}`);
      setLayout(true);
      const [kernel, bias] = layer.getWeights();
      const [KH, KW, C, O] = kernel.shape;
      // (KH, KW, C, O) -> (O, C, KH, KW)
      const k = kernel.data as Float32Array;
      const w = new Float32Array(k.length);
      for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) {
        w[((o * C + c) * KH + i) * KW + j] = k[((i * KW + j) * C + c) * O + o];
      }
      const inputs = [cur, init(`${layer.name}_W`, [O, C, KH, KW], w)];
      if (layer.useBias) inputs.push(init(`${layer.name}_B`, [O], bias.data as Float32Array));
      emit('Conv', inputs, [
        { name: 'kernel_shape', ints: [KH, KW] },
        { name: 'strides', ints: layer.strides },
        { name: 'dilations', ints: layer.dilationRate },
        { name: 'pads', ints: pads([shape[0], shape[1]], layer.kernelSize, layer.strides, layer.dilationRate, layer.padding) },
        { name: 'group', int: 1 },
      ]);
      shape = layer.computeOutputShape([null, ...shape]).slice(1) as number[];
      activation(layer.activationName, layer.name);
    } else if (layer instanceof gf.layers.MaxPooling2D) {
      if (shape.length !== 3) throw new Error(`onnx export: ${layer.name}: expected an image input, got shape ${JSON.stringify(shape)}`);
      setLayout(true);
      // ONNX MaxPool leaves padded cells out of the max, as gradforge's 'same' pooling does
      emit('MaxPool', [cur], [
        { name: 'kernel_shape', ints: layer.poolSize },
        { name: 'strides', ints: layer.strides },
        { name: 'pads', ints: pads([shape[0], shape[1]], layer.poolSize, layer.strides, [1, 1], layer.padding) },
      ]);
      shape = layer.computeOutputShape([null, ...shape]).slice(1) as number[];
    } else if (layer instanceof gf.layers.Flatten) {
      if (nchw && flattenMode === 'permute' && next instanceof gf.layers.Dense) {
        flattenedFrom = [shape[0], shape[1], shape[2]];
      } else {
        setLayout(false);
      }
      if (shape.length !== 1) emit('Flatten', [cur], [{ name: 'axis', int: 1 }]);
      nchw = false;
      shape = [shape.reduce((n, d) => n * d, 1)];
    } else if (layer instanceof gf.layers.Dense) {
      // Dense works on the last axis, the channels: an image input must be back in NHWC
      setLayout(false);
      const [kernel, bias] = layer.getWeights();
      const [IN, OUT] = kernel.shape;
      let k = kernel.data as Float32Array;
      if (flattenedFrom !== null) {
        // ONNX row (c, h, w) must take gradforge's row (h, w, c)
        const [H, W, C] = flattenedFrom;
        const p = new Float32Array(k.length);
        for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
          const src = ((h * W + w) * C + c) * OUT;
          p.set(k.subarray(src, src + OUT), ((c * H + h) * W + w) * OUT);
        }
        k = p;
        flattenedFrom = null;
      }
      const B = init(`${layer.name}_W`, [IN, OUT], k);
      const b = layer.useBias ? init(`${layer.name}_B`, [OUT], bias.data as Float32Array) : null;
      if (shape.length === 1) {
        emit('Gemm', b === null ? [cur, B] : [cur, B, b]);
      } else {
        // Dense on [batch, ..., in] multiplies along the last axis at every position, as MatMul broadcasts
        emit('MatMul', [cur, B]);
        if (b !== null) emit('Add', [cur, b]);
      }
      shape = [...shape.slice(0, -1), OUT];
      activation(layer.activationName, layer.name);
    } else {
      throw new Error(`onnx export: layer ${layer.name} (${layer.className}) is not supported`);
    }
  });
  // the caller sees gradforge's layout
  setLayout(false);
  if (nodes.length === 0) emit('Identity', [cur]);
  // the last node's output is the graph's output (nothing else reads it)
  nodes[nodes.length - 1].outputs = [outputName];

  const graph = new PbMessage();
  nodes.forEach((n, i) => graph.message(1, nodeProto(n, `${n.op.toLowerCase()}_node_${i}`)));
  graph.string(2, model.name);
  for (const t of inits) graph.message(5, t);
  graph.message(11, valueInfo(inputName, ['N', ...(built.slice(1) as number[])]));
  graph.message(12, valueInfo(outputName, ['N', ...shape]));
  return new PbMessage()
    .int(1, IR_VERSION)
    .string(2, 'gradforge bench/onnx-export')
    .string(3, '1')
    .message(7, graph)
    .message(8, new PbMessage().string(1, '').int(2, OPSET))
    .finish();
}
