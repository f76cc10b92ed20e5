/*===- Abi.h - The interface between compiled bundles and the runtime -----===*
 *
 * Plain C, shared by the code generator (which emits code against this layout) and the runtime
 * (which loads bundles and calls them). A bundle is a shared object exporting:
 *
 *   const char optfuse_abi[];      the rule's interface as text (format below)
 *   void optfuse_sweep_K(const OptfuseSweepArgs *args, int64_t chunk_begin, int64_t chunk_end);
 *                                   one entry per sweep K = 0, 1, ...: processes the chunks
 *                                   [chunk_begin, chunk_end)
 *
 * A step runs the sweeps in order. Before sweep K runs, `sums` holds, for every layer, the totals
 * of the reductions of sweeps 0..K-1; after it, `partials` holds one row per chunk with the chunk's
 * sums of the reductions of sweep K. The runtime adds the rows of each layer's chunks in chunk
 * order, so the result does not depend on how chunks were spread over threads.
 *
 * Per-layer scalar math (norms from sums, trust ratios, phi(t), bias corrections) runs in double
 * precision from double hyperparameters, as PyTorch's Python-float hyperparameters do; only the
 * values that enter the elementwise math are rounded to float.
 *
 * The ABI text has one record per line, fields separated by one space:
 *   optfuse-bundle VERSION
 *   rule NAME
 *   hyper NAME f32|bool DEFAULT          in the order of OptfuseSweepArgs::hypers
 *   flag NAME                            bit i of OptfuseSweepArgs::flags is the i-th flag
 *   buffer NAME INIT                     param, grad, then each state buffer with its initial value
 *   sweep K REDUCTIONS READS WRITES BYTES
 *                                         READS and WRITES are comma-separated buffer indices, or -
 *   plan TEXT                            one line of the human-readable plan (repeated)
 *   gpu BLOCK SCALARS                    the bundle has GPU kernels, launched with BLOCK threads;
 *                                         SCALARS floats per layer in OptfuseGpuArgs::layer_scalars
 *   ptx ARCH SYMBOL SIZE                 PTX text for ARCH (sm_90) in the exported SYMBOL
 *   cubin ARCH SYMBOL SIZE               a cubin for ARCH in the exported SYMBOL
 *
 * GPU kernels (in the cubins and PTX), each taking (const OptfuseGpuArgs *args, double t):
 *   optfuse_step      every sweep over every layer in one launch; needs a cooperative launch
 *                     (grid-wide barrier between sweeps) with all blocks resident
 *   optfuse_sweep_K   sweep K alone, for launches one after the other without cooperative groups
 *
 *===----------------------------------------------------------------------===*/

#ifndef OPTFUSE_RUNTIME_ABI_H
#define OPTFUSE_RUNTIME_ABI_H

#include <stdint.h>

#define OPTFUSE_BUNDLE_FORMAT_VERSION 1

typedef struct OptfuseSweepArgs {
  const int64_t *chunk_layer; /* [chunks] the layer of each chunk */
  const int64_t *chunk_begin; /* [chunks] first element of the chunk within its layer */
  const int64_t *chunk_end;   /* [chunks] one past its last element */
  float *const *buffers;      /* [layers][buffers] base pointers: param, grad, states */
  const double *hypers;       /* [layers][hypers] each layer's hyperparameters (bools as 0/1) */
  const int32_t *flags;       /* [layers] per-layer flag bits */
  const double *sums;         /* [layers][all reductions] totals of the earlier sweeps */
  float *partials;            /* [chunks][reductions of this sweep] */
  double step;                /* the step counter t: 0 on the first step */
} OptfuseSweepArgs;

/* The GPU kernels' argument, in device memory: the same layer table plus what the kernels
 * coordinate through. layer_done and barrier are zero before the first launch and kernels leave
 * them zero. */
typedef struct OptfuseGpuArgs {
  OptfuseSweepArgs table;           /* device pointers; table.step is unused (t is a parameter) */
  int64_t num_chunks;
  const int64_t *layer_first_chunk; /* [layers + 1] the chunks of layer l are [first[l], first[l+1]) */
  float *layer_scalars;             /* [layers][gpu scalars] computed once per layer between sweeps */
  uint32_t *layer_done;             /* [layers] chunks of the current sweep finished */
  uint32_t *barrier;                /* [2] grid barrier: arrivals, generation */
} OptfuseGpuArgs;

typedef void (*OptfuseSweepFn)(const OptfuseSweepArgs *args, int64_t chunk_begin,
                               int64_t chunk_end);

#endif /* OPTFUSE_RUNTIME_ABI_H */
