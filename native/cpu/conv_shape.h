// The geometry of a 2-D convolution (see conv.h), alone in a header with no inline code, so the
// per-ISA kernel files can include it.
#pragma once
#include <cstdint>

namespace gf {

struct Conv2dShape {
  int64_t N, H, W, C;         // x: (N, H, W, C)
  int64_t KH, KW, O;          // w: (KH, KW, C, O)
  int64_t OH, OW;             // y: (N, OH, OW, O)
  int64_t sh, sw;             // strides
  int64_t dh, dw;             // dilations
  int64_t pad_top, pad_left;  // zeros before the input; pads after are implied by OH, OW
};

}  // namespace gf
