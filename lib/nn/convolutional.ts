/**
 * Conv2D and Conv2DTranspose layers (NHWC, Keras kernel layouts [kh, kw, in, filters] and
 * [kh, kw, filters, in], weights 'kernel' and 'bias').
 *
 * @example
 * gf.layers.conv2d({filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1]});
 * gf.layers.conv2dTranspose({filters: 64, kernelSize: 4, strides: 2, padding: 'same'});
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { conv2d as conv2dOp, conv2dTranspose as conv2dTransposeOp, axisGeometry, pair, checkPadding, Padding } from '../ops/conv';
import { conv2dMaxPool2d } from '../ops/conv-pool';
import { Shape, CallContext } from './layer';
import type { MaxPooling2D } from './pooling';
import { KernelLayer, KernelLayerArgs } from './kernel-layer';

export interface Conv2DArgs extends KernelLayerArgs {
  /** Number of output channels. */
  filters: number;
  /** Window: n or [rows, cols]. */
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  dilationRate?: number | [number, number];
  /** Only 'channelsLast' (NHWC) is supported. */
  dataFormat?: 'channelsLast';
}

export interface Conv2DTransposeArgs extends Conv2DArgs {
  outputPadding?: number | [number, number];
}

/** What Conv2D and Conv2DTranspose share: window geometry, channel checks, config. */
abstract class ConvBase extends KernelLayer {
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];

  constructor(op: string, args: Conv2DArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError(`${op}: expected an options object {filters, kernelSize, ...}`);
    super(args);
    if (!Number.isInteger(args.filters) || args.filters <= 0) throw new ValueError(`${op}: filters must be a positive integer, got ${args.filters}`);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') {
      throw new ValueError(`${op}: only dataFormat 'channelsLast' (NHWC) is supported, got '${String(args.dataFormat)}'`);
    }
    this.filters = args.filters;
    this.kernelSize = pair(op, 'kernelSize', args.kernelSize, NaN);
    this.strides = pair(op, 'strides', args.strides, 1);
    this.padding = checkPadding(op, args.padding);
    this.dilationRate = pair(op, 'dilationRate', args.dilationRate, 1);
  }

  /** The input's channel count, checked. */
  protected channels(inputShape: Shape): number {
    if (inputShape.length !== 4) {
      throw new ShapeError(`${this.name}: expected input [batch, height, width, channels], got rank ${inputShape.length} ${fmtShape(inputShape.map((d) => d ?? -1))}`);
    }
    const c = inputShape[3];
    if (c === null) throw new ShapeError(`${this.name}: the channel dimension of the input must be known`);
    return c;
  }

  /** The kernel's input-channel axis: 2 for Conv2D, 3 for Conv2DTranspose. */
  protected abstract readonly inAxis: 2 | 3;

  protected checkCallChannels(x: Tensor): void {
    const k = this.kernel;
    if (k === null) throw new ValueError(`${this.name}: call before build`);
    const want = k.shape[this.inAxis];
    if (x.rank !== 4 || x.shape[3] !== want) {
      throw new ShapeError(`${this.name}: expected input [batch, height, width, ${want}], got ${fmtShape(x.shape)}`);
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      dtype: 'float32',
      filters: this.filters,
      kernel_size: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      data_format: 'channels_last',
      dilation_rate: this.dilationRate,
      ...this.kernelConfig(),
    };
  }
}

export class Conv2D extends ConvBase {
  readonly className = 'Conv2D';
  protected readonly inAxis = 2;

  constructor(args: Conv2DArgs) {
    super('conv2d', args);
    if (this.batchInputShape !== undefined) this.computeOutputShape(this.batchInputShape);
  }

  override build(inputShape: Shape): void {
    this.addKernelAndBias([...this.kernelSize, this.channels(inputShape), this.filters], this.filters);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    this.checkCallChannels(x);
    // relu and linear ride in the kernel's store; other activations run as their own op.
    const fused = this.activationName === 'relu' || this.activationName === 'linear';
    const y = conv2dOp(x, this.kernel!.value, {
      strides: this.strides, padding: this.padding, dilationRate: this.dilationRate, bias: this.bias?.value,
      activation: fused ? this.activationName as 'relu' | 'linear' : 'linear',
    });
    return fused ? y : this.activate(y, ctx);
  }

  /** Whether applyMaxPooled can run this layer with a following max pooling in one kernel. */
  fusesMaxPool(): boolean {
    return this.activationName === 'relu' || this.activationName === 'linear';
  }

  /**
   * This layer, then `pool` on its output, in one kernel when no gradient is recorded (the
   * convolution's output never written whole; Sequential's inference forward). Bit for bit
   * pool.apply(this.apply(x)). Requires fusesMaxPool().
   */
  applyMaxPooled(x: Tensor, pool: MaxPooling2D): Tensor {
    this.prepareInput(x.shape);
    this.checkCallChannels(x);
    pool.prepareInput(this.computeOutputShape([...x.shape]).map((d) => d ?? -1));
    return conv2dMaxPool2d(x, this.kernel!.value, {
      strides: this.strides, padding: this.padding, dilationRate: this.dilationRate, bias: this.bias?.value,
      activation: this.activationName as 'relu' | 'linear',
    }, pool.options());
  }

  override computeOutputShape(inputShape: Shape): Shape {
    this.channels(inputShape);
    const size = (d: number | null, axis: 0 | 1): number | null => {
      if (d === null) return null;
      const out = axisGeometry(d, this.kernelSize[axis], this.strides[axis], this.dilationRate[axis], this.padding).out;
      if (out < 1) {
        throw new ShapeError(`${this.name}: kernel ${this.kernelSize.join('x')} does not fit input ${fmtShape(inputShape.map((v) => v ?? -1))} with padding '${this.padding}'`);
      }
      return out;
    };
    return [inputShape[0], size(inputShape[1], 0), size(inputShape[2], 1), this.filters];
  }
}

export class Conv2DTranspose extends ConvBase {
  readonly className = 'Conv2DTranspose';
  protected readonly inAxis = 3;
  readonly outputPadding: [number, number] | null;

  constructor(args: Conv2DTransposeArgs) {
    super('conv2dTranspose', args);
    this.outputPadding = args.outputPadding === undefined ? null : pair('conv2dTranspose', 'outputPadding', args.outputPadding, 0, 0);
  }

  override build(inputShape: Shape): void {
    this.addKernelAndBias([...this.kernelSize, this.filters, this.channels(inputShape)], this.filters);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    this.checkCallChannels(x);
    const y = conv2dTransposeOp(x, this.kernel!.value, {
      strides: this.strides, padding: this.padding, dilationRate: this.dilationRate,
      outputPadding: this.outputPadding ?? undefined, bias: this.bias?.value,
    });
    return this.activate(y, ctx);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    this.channels(inputShape);
    const size = (d: number | null, axis: 0 | 1): number | null => {
      if (d === null) return null;
      const extra = this.outputPadding?.[axis] ?? 0;
      return this.padding === 'same' ? d * this.strides[axis]
        : (d - 1) * this.strides[axis] + (this.kernelSize[axis] - 1) * this.dilationRate[axis] + 1 + extra;
    };
    return [inputShape[0], size(inputShape[1], 0), size(inputShape[2], 1), this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), output_padding: this.outputPadding };
  }
}

/** @example gf.layers.conv2d({filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1]}) */
export const conv2d = (args: Conv2DArgs): Conv2D => new Conv2D(args);
/** @example gf.layers.conv2dTranspose({filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh'}) */
export const conv2dTranspose = (args: Conv2DTransposeArgs): Conv2DTranspose => new Conv2DTranspose(args);
